# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: performance gate (candidate vs baseline, paired bootstrap) and subgroup bias.

Both models are scored on the same held-out evaluation dataset (``audit_scores``); the rules
live in ``pytest_release_audit.rules.performance`` and ``rules.bias``, the metrics in
``pytest_release_audit.metrics``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_release_audit import compliance
from pytest_release_audit.rules.bias import assess_bias
from pytest_release_audit.rules.controls import CONTROLS
from pytest_release_audit.rules.performance import assess_gate

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.session import Scores


@compliance(
    "performance_gate",
    title="Candidate beats the baseline on held-out data (paired bootstrap CI)",
    controls=CONTROLS["performance_gate"],
)
def test_performance_gate(
    audit_model: ModelHandle,
    audit_baseline: ModelHandle | None,
    audit_evaluation_data: LoadedDataset,
    audit_scores: Scores,
    audit_policy: Policy,
    audit_out: Path,
    audit_evidence: Evidence,
) -> None:
    """The candidate is at least as good as the baseline by the policy's rule, with a bootstrap CI."""
    section = audit_policy.section("performance")
    result = assess_gate(
        audit_model, audit_baseline, audit_evaluation_data, audit_scores, section, audit_out, sink=audit_evidence
    )
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "bias",
    title="Subgroup performance: no subgroup below the floor, gaps within limits",
    controls=CONTROLS["bias"],
)
def test_bias(
    audit_evaluation_data: LoadedDataset,
    audit_scores: Scores,
    audit_policy: Policy,
    audit_out: Path,
    audit_evidence: Evidence,
) -> None:
    """Every subgroup large enough to judge reaches the floor; gaps and calibration within limits."""
    bias, performance = audit_policy.section("bias"), audit_policy.section("performance")
    result = assess_bias(audit_evaluation_data, audit_scores, bias, performance, audit_out, sink=audit_evidence)
    result.record(audit_evidence)
    assert result.passed, result.message
