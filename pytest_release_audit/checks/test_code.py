# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks on the code and environment that trained the model.

``ip_headers`` and ``security`` audit the source tree at the run's git commit (the ``source_tree``
fixture exports it; a missing commit tag, an absent commit or a dirty-tree marker makes that
fixture error, which blocks both). ``dependencies`` reads the logged model's environment files and
``reproducibility`` the source run's params and tags.
"""

from __future__ import annotations

import json

import pytest

from pytest_release_audit.scanners.dependencies import (
    check_environment_files,
    check_reproducibility,
    download_environment_files,
)
from pytest_release_audit.scanners.licensing import lint_licenses
from pytest_release_audit.scanners.security import scan_with_policy, to_sarif

#: how many offending files / findings a message or the evidence lists before "+N more"
SHOWN = 5
EVIDENCE_LIMIT = 50


def _tree_facts(tree) -> dict:
    return {"repo": tree.repo, "commit": tree.commit, "files_total": len(tree.files), "export": tree.how}


@pytest.mark.compliance(
    "ip_headers",
    title="Every source file has copyright and licence headers (reuse), licences allowed",
    controls=["REUSE-3.3", "OpenChain-ISO/IEC-5230:3.3", "seed-000:ip-headers"],
)
def test_ip_headers(source_tree, audit_policy, audit_evidence):
    allowed = audit_policy.section("ip_headers")["allowed_licenses"]
    report = lint_licenses(source_tree.path, allowed)
    audit_evidence.update(_tree_facts(source_tree))
    audit_evidence["reuse"] = report.to_dict(limit=EVIDENCE_LIMIT)
    audit_evidence.summary = (
        f"{report.files_total} files at {source_tree.commit[:12]} carry copyright and licence "
        f"({', '.join(report.used_licenses) or 'no licences'}; all allowed)"
    )
    assert report.compliant, "; ".join(report.problems(limit=SHOWN))


@pytest.mark.compliance(
    "security",
    title="No blocking security findings in the training code (bandit)",
    controls=["NIST-SSDF:PW.7.2", "ISO-27001:A.8.28", "seed-002:security-scan"],
)
def test_security(source_tree, audit_policy, audit_out, audit_evidence):
    result = scan_with_policy(source_tree.path, source_tree.files, audit_policy.section("security"))
    sarif_path = audit_out / "security.sarif"
    sarif = to_sarif(result, source_tree.repo, commit=source_tree.commit)
    sarif_path.write_text(json.dumps(sarif, indent=2) + "\n", encoding="utf-8")
    audit_evidence.attach(sarif_path)
    audit_evidence.update(_tree_facts(source_tree))
    audit_evidence["bandit"] = result.to_dict(limit=EVIDENCE_LIMIT)
    audit_evidence["sarif"] = sarif_path.name
    audit_evidence.summary = result.summary()
    assert not result.blocking, "; ".join(result.problems(limit=SHOWN))


@pytest.mark.compliance(
    "dependencies",
    title="The model's environment pins every dependency with ==",
    controls=["NIST-SSDF:PS.3.2", "seed-001:pinned-dependencies"],
)
def test_dependencies(audit_model, audit_policy, audit_evidence, tmp_path_factory):
    model_dir = download_environment_files(audit_model, tmp_path_factory.mktemp("model-env"))
    report = check_environment_files(model_dir, audit_policy.section("dependencies")["allow_unpinned"])
    audit_evidence.update(report.to_dict())
    audit_evidence.summary = report.summary()
    assert not report.blocking, "; ".join(report.problems(limit=SHOWN))


@pytest.mark.compliance(
    "reproducibility",
    title="The run records a fixed seed, a data digest and the git commit",
    controls=["SR11-7:model-development", "EU-AI-Act:Art.12-record-keeping", "seed-003:reproducibility"],
)
def test_reproducibility(audit_model, audit_policy, audit_evidence):
    run = audit_model.run
    assert run is not None, (
        f"model {audit_model.name} v{audit_model.version} has no source run: its training is unrecorded"
    )
    section = audit_policy.section("reproducibility")
    report = check_reproducibility(run, section["seed_params"], section["required_params"])
    audit_evidence.update(report.to_dict())
    audit_evidence["run_id"] = run.run_id
    seed = f"{report.seed[0]}={report.seed[1]}" if report.seed else "no seed"
    audit_evidence.summary = (
        f"{seed}, {len(report.data_digests)} data digests, commit {(report.commit or '?')[:12]}"
    )
    assert not report.problems, "; ".join(report.problems)
