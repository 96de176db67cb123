# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: serving_contract (a live endpoint), latency (the SLO), drift (vs the training data).

The rules live in ``pytest_release_audit.rules.serving`` and ``rules.drift``; the endpoint probes
in ``pytest_release_audit.serving``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_release_audit import compliance
from pytest_release_audit.rules.controls import CONTROLS

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.session import AuditContext


@compliance(
    "serving_contract",
    title="Serving contract: the live endpoint serves the audited version, its scores, and validates input",
    controls=CONTROLS["serving_contract"],
)
def test_serving_contract(
    request: pytest.FixtureRequest,
    audit_context: AuditContext,
    audit_model: ModelHandle,
    audit_policy: Policy,
    audit_target: str,
    audit_evidence: Evidence,
) -> None:
    """Health, identity (name, version, run), scores equal to the audited model's, 422 on a wrong feature set."""
    from pytest_release_audit.errors import AuditError
    from pytest_release_audit.rules.serving import assess_serving_contract, choose_endpoint

    section = audit_policy.section("serving")
    choice = choose_endpoint(audit_context.options.endpoint, section, audit_target)
    evaluation = scores = None
    error = ""
    if choice.given:
        try:  # what cannot be read is named by the data checks; here it is one line of its own
            evaluation = request.getfixturevalue("audit_evaluation_data")
            scores = request.getfixturevalue("audit_scores")
        except AuditError as exc:
            error = str(exc)
    result = assess_serving_contract(audit_model, evaluation, scores, section, choice, evaluation_error=error)
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "latency",
    title="Latency SLO: p95 prediction latency within the policy (seed 002: 2000 ms for production)",
    controls=CONTROLS["latency"],
)
def test_latency(
    audit_context: AuditContext,
    audit_model: ModelHandle,
    audit_evaluation_data: LoadedDataset,
    audit_policy: Policy,
    audit_target: str,
    audit_out: Path,
    audit_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """p50 / p95 / p99 on the endpoint (or the model's worker) on evaluation rows, against the SLO."""
    from pytest_release_audit.errors import AuditError
    from pytest_release_audit.rules.serving import assess_latency, choose_endpoint

    serving = audit_policy.section("serving")
    choice = choose_endpoint(audit_context.options.endpoint, serving, audit_target)
    scores = None
    if choice.given:  # each timed reply is checked against the audited model's own score
        try:
            scores = request.getfixturevalue("audit_scores")
        except AuditError:
            scores = None  # named by the gate; the replies are then checked for shape only
    result = assess_latency(audit_model, audit_evaluation_data, audit_policy.section("latency"), serving, choice,
                            audit_out, target=audit_target, scores=scores)
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "drift",
    title="No drift: the model's inputs match the training baseline (PSI, KS) in evaluation and production data",
    controls=CONTROLS["drift"],
)
def test_drift(
    audit_context: AuditContext,
    audit_training_data: LoadedDataset,
    audit_evaluation_data: LoadedDataset,
    audit_datasets: list[LoadedDataset],
    audit_policy: Policy,
    audit_evidence: Evidence,
) -> None:
    """Per-feature PSI (and KS for numeric inputs) of evaluation and production samples vs the training data."""
    from pytest_release_audit.rules.drift import PRODUCTION_CONTEXTS, assess_drift, read_production_sample

    section = audit_policy.section("drift")
    production = [d for d in audit_datasets if (d.context or "").lower() in PRODUCTION_CONTEXTS]
    frame = None
    if section["production_data"]:
        roots = [Path(r) if Path(r).is_absolute() else audit_context.rootdir / r
                 for r in audit_policy.section("data_integrity")["allowed_roots"]]
        frame = (section["production_data"],
                 read_production_sample(section["production_data"], audit_context.rootdir, roots))
    result = assess_drift(audit_training_data, audit_evaluation_data, production, section, frame)
    result.record(audit_evidence)
    assert result.passed, result.message
