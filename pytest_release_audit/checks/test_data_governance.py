# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: pii, leakage, data_license.

Evidence never holds a raw data value: PII findings carry masked samples, leakage results masked
ids and row positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_release_audit import compliance
from pytest_release_audit.rules.controls import CONTROLS
from pytest_release_audit.rules.data_governance import assess_data_license, assess_pii
from pytest_release_audit.rules.leakage import assess_leakage

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


@compliance(
    "pii",
    title="PII scrubbed: no PHI/PII found in the data or its metadata (presidio; the engine is named)",
    controls=CONTROLS["pii"],
)
def test_pii(
    audit_model: ModelHandle, audit_datasets: list[LoadedDataset], audit_policy: Policy, audit_evidence: Evidence
) -> None:
    """No PHI/PII in any dataset, nor in the names and descriptions around them."""
    result = assess_pii(audit_model, audit_datasets, audit_policy.section("pii"), sink=audit_evidence)
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "leakage",
    title="Leakage verified: no train/test contamination (patient ID audit)",
    controls=CONTROLS["leakage"],
)
def test_leakage(
    request: pytest.FixtureRequest,
    audit_datasets: list[LoadedDataset],
    audit_policy: Policy,
    audit_evidence: Evidence,
) -> None:
    """No evaluation identity or whole record is also in the training data."""
    trainings = [d for d in audit_datasets if d.ref.is_training]
    evaluations = [d for d in audit_datasets if d.ref.is_evaluation]
    if not trainings or not evaluations:  # the fixtures raise the audit's own error naming what is missing
        trainings = [request.getfixturevalue("audit_training_data")]
        evaluations = [request.getfixturevalue("audit_evaluation_data")]
    result = assess_leakage(trainings, evaluations, audit_policy.section("leakage"))
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "data_license",
    title="Every dataset carries a licence / usage tag allowed for the target",
    controls=CONTROLS["data_license"],
)
def test_data_license(
    audit_model: ModelHandle, audit_policy: Policy, audit_target: str, audit_evidence: Evidence
) -> None:
    """Each dataset the run logged is licensed for use at the release target."""
    result = assess_data_license(audit_model, audit_policy.section("data_license"), audit_target)
    result.record(audit_evidence)
    assert result.passed, result.message
