# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Approval Chain, Compliance Checklist, the status line and the footer: who signed off, what passed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import ApprovalsEvidence, evidence_of
from pytest_release_audit.report.format import as_number, number
from pytest_release_audit.report.model import OUTCOME_STYLES, outcome_style
from pytest_release_audit.report.model_card.common import NOT_RECORDED, capitalized, not_run_text, text_of

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

_DECISIONS = {"approved": "✅ Approved", "rejected": "❌ Rejected"}


def approvals(checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    """The Approval Chain: every decision recorded for this version, then the roles still awaited."""
    check = checks.get("approvals")
    evidence = evidence_of(check, ApprovalsEvidence) or ApprovalsEvidence()
    if not (evidence.required or evidence.present or evidence.missing or evidence.tier):
        return {"rows": [], "note": capitalized(not_run_text("approvals", check))}
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for item in (*evidence.present, *evidence.rejected):
        role, by, at = text_of(item.role), text_of(item.by), text_of(item.at)
        if not role or (role, by, at) in seen:
            continue
        seen.add((role, by, at))
        status = text_of(item.status).lower() or "approved"
        label = _DECISIONS.get(status, f"⏳ {status}")
        label += " (signed)" if item.signed else " (UNSIGNED: development only)"
        rows.append({"role": role, "name": by or NOT_RECORDED, "date": at[:10] if at else NOT_RECORDED,
                     "status": label})  # fmt: skip
    for role in evidence.missing:
        rows.append({"role": text_of(role), "name": "—", "date": "Pending", "status": "⏳ Awaiting"})
    parts = []
    if evidence.tier:
        score = f" (score {number(evidence.score, places=1)})" if as_number(evidence.score) is not None else ""
        parts.append(f"risk tier {text_of(evidence.tier)}{score}")
    if evidence.required:
        parts.append(f"required roles: {', '.join(text_of(r) for r in evidence.required)}")
    if not rows:
        rows.append({"role": "none required", "name": "—", "date": "—", "status": "✅ Nothing to approve"})
    return {"rows": rows, "note": ("; ".join(parts)).capitalize() if parts else None}


def _outcome_label(check: CheckResult) -> str:
    style = outcome_style(check.outcome, required=check.required)
    label = style.label
    if check.outcome == "waived" and check.waiver:
        waiver = check.waiver
        label = f"Waived until {text_of(waiver.get('expires')) or '?'} by {text_of(waiver.get('approver')) or '?'}"
    return f"{style.icon} {label}"


def checklist(checks: Sequence[CheckResult], blocking: Iterable[str]) -> list[dict[str, str]]:
    """The Compliance Checklist: one row per check, plus each required check that never ran."""
    rows = [{"id": c.id, "title": c.title, "status": _outcome_label(c), "summary": text_of(c.summary) or "—"}
            for c in checks]  # fmt: skip
    ran = {c.id for c in checks}
    not_run = OUTCOME_STYLES["not_run"]
    rows += [{"id": check_id, "title": "required check", "status": f"{not_run.icon} {not_run.label}",
              "summary": "did not run"} for check_id in blocking if check_id not in ran]  # fmt: skip
    return rows


def status(result: AuditResult | None, provisional: bool) -> dict[str, Any]:
    """The verdict line: provisional (during the audit), READY, or BLOCKED and why."""
    if provisional or result is None:
        return {
            "verdict": "PROVISIONAL",
            "line": "🟡 PROVISIONAL: rendered during the audit; the final card with the verdict is written "
            "at session end",
            "blocking": [],
        }
    target = (result.target or "production").upper()
    if result.status == "READY":
        return {"verdict": "READY", "line": f"🟢 READY FOR {target}", "blocking": []}
    blocking = list(result.blocking)
    detail = ", ".join(blocking) if blocking else "see errors"
    if result.partial:
        detail = f"partial run ({result.partial})"
    if result.errors:
        detail += f"; {len(result.errors)} session error(s)"
    return {"verdict": "BLOCKED", "line": f"🔴 BLOCKED for {target.lower()}: {detail}", "blocking": blocking}


def generated(result: AuditResult | None, ref: ModelRef | None) -> dict[str, str]:
    """The card's footer: who wrote it, for which audit and version (only what is known)."""
    facts = {
        "tool_version": result.tool_version if result is not None else "",
        "audit_id": result.audit_id if result is not None else "",
        "finished_at": result.finished_at if result is not None else "",
        "target": result.target if result is not None else "",
        "uri": (ref.uri or "") if ref is not None else "",
        "run_id": (ref.run_id or "") if ref is not None else "",
    }
    writer = "the model_card check (provisional)" if result is None else "pytest-release-audit"
    parts = [f"Generated by {writer}" + (f" {facts['tool_version']}" if facts["tool_version"] else "")]
    if facts["audit_id"]:
        parts.append(f"audit {facts['audit_id']}")
    if facts["finished_at"]:
        parts.append(facts["finished_at"])
    if facts["uri"]:
        parts.append(facts["uri"])
    if facts["run_id"]:
        parts.append(f"run {facts['run_id']}")
    return {**facts, "line": " · ".join(parts)}
