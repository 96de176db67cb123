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
    """Signed approvals cover the target's roles plus the risk tier's extra roles (unsigned: development only)."""
    status = evaluate_approvals(audit_model, audit_policy, audit_target)
    audit_evidence.update(status.to_dict())
    spec = f"{audit_model.name}/{audit_model.version}"
    risk = f"risk {status.risk.score:g} {status.risk.tier}"
    not_counted = ""
    if status.ignored:
        reasons = sorted({i["reason"].removeprefix("rejected: ") for i in status.ignored})
        not_counted = f"; {len(status.ignored)} not counted ({'; '.join(reasons)[:300]})"
    audit_evidence.summary = (
        f"{len(status.present)}/{len(status.required)} approvals for {audit_target} ({risk}): "
        + ", ".join(f"{a.role} by {a.by}{'' if a.signed else ' (UNSIGNED)'}" for a in status.present)
        + (f"; signers from {', '.join(sorted(set(status.signers.values())))}" if status.signers else "")
        + not_counted
    )
    if status.unverified:
        who = "; ".join(f"{u['role']} by {u['by']}: {u['reason']}" for u in status.unverified[:3])
        raise AssertionError(
            f"{len(status.unverified)} signed decision(s) about {spec} do not verify ({who}): a forged or "
            "tampered statement blocks the release; find who wrote the tag, remove it, and have the approver "
            "sign again"
        )
    if status.rejected:
        who = ", ".join(f"{a.role} by {a.by} ({a.at[:10]})" for a in status.rejected)
        raise AssertionError(
            f"rejected for {audit_target}: {who}; a new signed approval by that signer is needed "
            f"(release-audit approve {spec} --role {status.rejected[0].role} --by PRINCIPAL --key KEY)"
        )
    if status.missing:
        hint = approve_hint(audit_model.name, audit_model.version, status.missing[0])
        raise AssertionError(
            f"missing approvals for {audit_target}: {', '.join(status.missing)} ({risk}{not_counted}) "
            f"(record with: {hint})"
        )
