# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``approvals`` check: every role the target and risk tier require approved this exact version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_release_audit import compliance
from pytest_release_audit.rules.approvals import assess_approvals
from pytest_release_audit.rules.controls import CONTROLS

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


@compliance("approvals", title="Required approvals recorded for this version", controls=CONTROLS["approvals"])
def test_approvals(
    audit_model: ModelHandle, audit_policy: Policy, audit_target: str, audit_evidence: Evidence
) -> None:
    """Signed approvals cover the target's roles plus the risk tier's extra roles (unsigned: development only)."""
    result = assess_approvals(audit_model, audit_policy, audit_target)
    result.record(audit_evidence)
    assert result.passed, result.message
