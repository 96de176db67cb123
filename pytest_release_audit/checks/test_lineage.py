# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: lineage, data integrity, evaluation artifacts, signature."""

from __future__ import annotations

import pytest

from pytest_release_audit.checks._lineage import (
    artifact_findings,
    dataset_facts,
    integrity_findings,
    lineage_chain,
    signature_findings,
)


@pytest.mark.compliance(
    "lineage",
    title="Lineage complete: data -> run -> model",
    controls=["SR11-7:model-inventory", "EU-AI-Act:Art.12-record-keeping", "GDPR:Art.30"],
)
def test_lineage(request, audit_model, audit_datasets, audit_evidence):
    extra = request.config.hook.pytest_release_audit_lineage(handle=audit_model)
    chain, problems = lineage_chain(audit_model, audit_datasets, [e for group in extra if group for e in group])
    audit_evidence["chain"] = chain
    audit_evidence["datasets"] = [dataset_facts(d) for d in audit_datasets]
    stages: list[list[str]] = []
    for role in ("Raw", "Pinned Split", "Training Run", "Final Artifact"):
        names = [step["name"] for step in chain if step["role"] == role]
        if names:
            stages.append(names)
    audit_evidence.summary = " -> ".join(" + ".join(names) for names in stages)
    assert not problems, "; ".join(problems)


@pytest.mark.compliance(
    "data_integrity",
    title="Logged datasets unchanged since training (digests recomputed)",
    controls=["SR11-7:data-quality", "21CFR11:11.10(a)-integrity"],
)
def test_data_integrity(audit_model, audit_datasets, audit_policy, audit_evidence):
    rows, problems = integrity_findings(audit_model, audit_datasets, audit_policy.section("data_integrity"))
    audit_evidence["datasets"] = rows
    compared = sum(len(r["digests"]) for r in rows)
    audit_evidence.summary = f"{len(rows)} datasets, {compared} digests recomputed and matching"
    assert not problems, "; ".join(problems)


@pytest.mark.compliance(
    "evaluation_artifacts",
    title="Run holds the required evaluation evidence",
    controls=["SR11-7:outcomes-analysis", "seed-001:evaluation-evidence"],
)
def test_evaluation_artifacts(audit_model, audit_policy, audit_evidence):
    facts, problems = artifact_findings(audit_model, audit_policy.section("evaluation_artifacts"))
    audit_evidence.update(facts)
    n_required, n_metrics = len(facts["required"]), len(facts["metrics"])
    audit_evidence.summary = (
        f"{n_required} required artifact{'s' if n_required != 1 else ''} present "
        f"({', '.join(facts['required']) or 'none required by the policy'}), "
        f"{n_metrics} metric{'s' if n_metrics != 1 else ''} logged"
    )
    assert not problems, "; ".join(problems)


@pytest.mark.compliance(
    "signature",
    title="Model has a signature and input example; evaluation data matches it",
    controls=["seed-001:interface-contract"],
)
def test_signature(audit_model, evaluation_data, audit_policy, audit_evidence):
    facts, problems = signature_findings(audit_model, evaluation_data, audit_policy.section("signature"))
    audit_evidence.update(facts)
    audit_evidence.summary = f"{len(facts['inputs'])} typed inputs, input example saved"
    assert not problems, "; ".join(problems)
