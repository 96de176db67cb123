# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``approvals`` check: every role the target and risk tier require approved this exact version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_release_audit.approvals import approve_hint, evaluate_approvals

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


@pytest.mark.compliance(
    "approvals",
    title="Required approvals recorded for this version",
    controls=["SR11-7:governance-policies-controls", "EU-AI-Act:Art.14"],
)
def test_approvals(
    audit_model: ModelHandle, audit_policy: Policy, audit_target: str, audit_evidence: Evidence
) -> None:
    """Approvals (model-version tags) cover the target's roles plus the risk tier's extra roles."""
    status = evaluate_approvals(audit_model, audit_policy, audit_target)
    audit_evidence.update(status.to_dict())
    spec = f"{audit_model.name}/{audit_model.version}"
    risk = f"risk {status.risk.score:g} {status.risk.tier}"
    ignored = f", {len(status.ignored)} ignored (other version)" if status.ignored else ""
    audit_evidence.summary = (
        f"{len(status.present)}/{len(status.required)} approvals for {audit_target} ({risk}): "
        + ", ".join(f"{a.role} by {a.by}" for a in status.present)
        + ignored
    )
    if status.rejected:
        who = ", ".join(f"{a.role} by {a.by} ({a.at[:10]})" for a in status.rejected)
        raise AssertionError(
            f"rejected for {audit_target}: {who}; a new approval of that role is needed "
            f"(release-audit approve {spec} --role {status.rejected[0].role} --by NAME)"
        )
    if status.missing:
        hint = approve_hint(audit_model.name, audit_model.version, status.missing[0])
        raise AssertionError(
            f"missing approvals for {audit_target}: {', '.join(status.missing)} ({risk}{ignored}) "
            f"(record with: {hint})"
        )
