# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The approvals rule: every role the target and risk tier require approved this exact version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_release_audit.approvals import approve_hint, evaluate_approvals
from pytest_release_audit.report.contracts import ApprovalsEvidence
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.approvals import ApprovalStatus
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


def _not_counted(status: ApprovalStatus) -> str:
    """``; N not counted (reasons)`` for the approval tags that were ignored, else ""."""
    if not status.ignored:
        return ""
    reasons = sorted({i["reason"].removeprefix("rejected: ") for i in status.ignored})
    return f"; {len(status.ignored)} not counted ({'; '.join(reasons)[:300]})"


def _summary(status: ApprovalStatus, target: str) -> str:
    """Who approved, for which target and risk, whose signers, what was not counted."""
    risk = f"risk {status.risk.score:g} {status.risk.tier}"
    signers = f"; signers from {', '.join(sorted(set(status.signers.values())))}" if status.signers else ""
    return (
        f"{len(status.present)}/{len(status.required)} approvals for {target} ({risk}): "
        + ", ".join(f"{a.role} by {a.by}{'' if a.signed else ' (UNSIGNED)'}" for a in status.present)
        + signers
        + _not_counted(status)
    )


def _failure(status: ApprovalStatus, handle: ModelHandle, target: str) -> str:
    """Why the approvals do not allow the release, with the command that fixes it ("" if they do)."""
    spec = f"{handle.name}/{handle.version}"
    if status.unverified:
        who = "; ".join(f"{u['role']} by {u['by']}: {u['reason']}" for u in status.unverified[:3])
        return (
            f"{len(status.unverified)} signed decision(s) about {spec} do not verify ({who}): a forged or "
            "tampered statement blocks the release; find who wrote the tag, remove it, and have the approver "
            "sign again"
        )
    if status.rejected:
        who = ", ".join(f"{a.role} by {a.by} ({a.at[:10]})" for a in status.rejected)
        return (
            f"rejected for {target}: {who}; a new signed approval by that signer is needed "
            f"({approve_hint(handle.name, handle.version, status.rejected[0].role, handle.tracking_uri)})"
        )
    if status.missing:
        hint = approve_hint(handle.name, handle.version, status.missing[0], handle.tracking_uri)
        risk = f"risk {status.risk.score:g} {status.risk.tier}"
        return (
            f"missing approvals for {target}: {', '.join(status.missing)} ({risk}{_not_counted(status)}) "
            f"(record with: {hint})"
        )
    return ""


def assess_approvals(handle: ModelHandle, policy: Policy, target: str) -> RuleResult:
    """Signed approvals cover the target's roles plus the risk tier's (unsigned: development only)."""
    status = evaluate_approvals(handle, policy, target)
    message = _failure(status, handle, target)
    blocked = bool(status.unverified or status.rejected or status.missing)
    return RuleResult(
        evidence=ApprovalsEvidence.of(status.to_dict()),
        summary=_summary(status, target),
        passed=not blocked,
        message=message,
    )
