# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn per-test report payloads into CheckResults and the verdict (fail closed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.files import utc_iso
from pytest_release_audit.policy import BUILTIN_CHECKS, Policy
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

#: Display order: the GREMLIN report's sections, then the user's checks.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Data lineage & governance", ("lineage", "data_integrity", "data_validation", "pii", "leakage", "data_license")),
    ("Code compliance", ("ip_headers", "security", "dependencies", "reproducibility", "model_artifact")),
    ("Performance gate", ("performance_gate", "bias", "evaluation_artifacts", "signature")),
    ("Serving readiness", ("serving_contract", "latency", "drift")),
    ("Release handover", ("model_card", "operational_readiness", "approvals")),
)
ORDER = {cid: i for i, cid in enumerate(c for _, ids in SECTIONS for c in ids)}
_RANK = {"error": 4, "failed": 3, "skipped": 2, "passed": 1}


@dataclass
class TestRecord:
    """Everything seen for one test item (one nodeid) across its setup/call/teardown reports."""

    nodeid: str
    payload: dict[str, Any]
    outcome: str = "passed"
    message: str = ""
    duration: float = 0.0
    phases: dict[str, str] = field(default_factory=dict)

    def add(self, when: str, outcome: str, payload: dict[str, Any], duration: float, wasxfail: bool) -> None:
        self.payload = payload or self.payload
        self.duration += duration
        self.phases[when] = outcome
        new = "passed"
        if wasxfail:
            new = "failed"
            reason = payload.get("message") or ""
            payload = {**payload, "message": "a compliance check must not be marked xfail: " + reason}
        elif outcome == "failed":
            new = "failed" if when == "call" else "error"
        elif outcome == "skipped":
            new = "skipped"
        if _RANK[new] > _RANK[self.outcome]:
            self.outcome = new
            self.message = payload.get("message") or self.message


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _require_call(record: TestRecord) -> None:
    """A check counts only if its call phase ran (not under --setup-only / --setup-plan, not dropped)."""
    if "call" not in record.phases and record.outcome in ("passed",):
        record.outcome = "error"
        record.message = "did not run: its setup passed but its test body never ran (setup-only or setup-plan run)"


def _controls(info: dict[str, Any], policy: Policy, check_id: str) -> tuple[str, ...]:
    """The frameworks a check evidences: its marker's controls, then the organisation's own ids for
    it from the policy (``[tool.release_audit.controls]``), each once."""
    named = [str(c) for c in info.get("controls") or ()] + list(policy.controls_for(check_id))
    return tuple(dict.fromkeys(c for c in named if c))


def check_results(records: list[TestRecord], policy: Policy, target: str,
                  now: dt.datetime | None = None) -> list[CheckResult]:
    """One CheckResult per check id (records sharing an id, e.g. parametrised, are combined)."""
    by_id: dict[str, list[TestRecord]] = {}
    for record in records:
        _require_call(record)
        by_id.setdefault(record.payload["id"], []).append(record)
    results = []
    for check_id, group in by_id.items():
        worst = max(group, key=lambda r: _RANK[r.outcome])
        info = worst.payload
        required = policy.is_required(check_id, info.get("severity", "required"), target)
        if len(group) == 1:
            evidence = info.get("evidence") or {}
        else:
            evidence = {"cases": {r.nodeid: r.payload.get("evidence") or {} for r in group}}
        if worst.outcome == "passed":
            summary = info.get("summary") or info.get("title") or check_id
        else:
            summary = worst.message or info.get("summary") or worst.outcome
        outcome = worst.outcome
        waiver = None
        if outcome != "passed":
            recorded = policy.waiver_for(check_id)
            if recorded is not None:
                waiver = {**recorded.to_dict(), "active": recorded.active(now)}
                if recorded.active(now):
                    summary = (f"WAIVED by {recorded.approver} until {recorded.expires_text}: {recorded.reason} "
                               f"(was: {summary})")
                    outcome = "waived"
                else:
                    summary = f"{summary} (waiver expired {recorded.expires_text}: it no longer applies)"
        results.append(
            CheckResult(
                id=check_id,
                title=info.get("title") or check_id,
                outcome=outcome,
                required=required,
                controls=_controls(info, policy, check_id),
                summary=_one_line(summary),
                evidence=evidence,
                nodeid=worst.nodeid if len(group) == 1 else None,
                duration_s=round(sum(r.duration for r in group), 3),
                waiver=waiver,
                artifacts=tuple(a for r in group for a in (r.payload.get("artifacts") or ())),
            )
        )
    return results


def missing_required(results: list[CheckResult], policy: Policy, target: str, reason: str,
                     selected: frozenset[str] | None = None) -> list[CheckResult]:
    """A CheckResult (outcome error) for every required check that never reported.

    Built-in checks left out by ``--audit-checks`` (``selected``) are not listed: that run is
    partial anyway, and says so.
    """
    ran = {r.id for r in results}
    out = []
    for check_id in policy.required_checks(target):
        if check_id in ran or (selected is not None and check_id in BUILTIN_CHECKS and check_id not in selected):
            continue
        title = check_id.replace("_", " ")
        out.append(
            CheckResult(
                id=check_id,
                title=title[:1].upper() + title[1:],
                outcome="error",
                required=True,
                controls=_controls({}, policy, check_id),
                summary=_one_line(f"required check did not run: {reason}"),
                evidence={"ran": False},
            )
        )
    return out


def never_ran(results: list[CheckResult], known: dict[str, dict[str, Any]], policy: Policy, target: str,
              reason: str) -> list[CheckResult]:
    """An error CheckResult for each compliance check that was collected or deselected but never reported."""
    ran = {r.id for r in results}
    return [
        CheckResult(
            id=check_id,
            title=str(info.get("title") or check_id),
            outcome="error",
            required=policy.is_required(check_id, str(info.get("severity", "required")), target),
            controls=_controls(info, policy, check_id),
            summary=_one_line(f"check did not run: {reason}"),
            evidence={"ran": False},
        )
        for check_id, info in known.items()
        if check_id not in ran
    ]


def sort_checks(results: list[CheckResult]) -> list[CheckResult]:
    return sorted(results, key=lambda r: (ORDER.get(r.id, len(ORDER)), r.id))


def blocking_ids(results: list[CheckResult]) -> list[str]:
    return [r.id for r in results if r.required and r.outcome not in ("passed", "waived")]


def build_result(
    *,
    records: list[TestRecord],
    policy: Policy | None,
    model: ModelRef | None,
    baseline: ModelRef | None,
    target: str,
    started_at: dt.datetime,
    tool_version: str,
    errors: list[str],
    environment: dict[str, Any],
    audit_id: str,
    not_run_reason: str,
    partial: str | None = None,
    integrity: dict[str, Any] | None = None,
    known_checks: dict[str, dict[str, Any]] | None = None,
    selected: frozenset[str] | None = None,
) -> AuditResult:
    """The AuditResult. READY only when checks ran, none blocks, and there were no setup errors."""
    errors = list(errors)
    if policy is None:
        results = check_results(records, _fallback_policy(), target)
        results += [
            r for r in missing_required(results, _fallback_policy(), target, not_run_reason) if r.id in BUILTIN_CHECKS
        ]
    else:
        results = check_results(records, policy, target)
        results += missing_required(results, policy, target, not_run_reason, selected)
        results += never_ran(results, known_checks or {}, policy, target, not_run_reason)
        known = {r.id for r in results}
        errors += [f"policy waiver for {w.id!r} names no check of this audit: fix waivers[].id"
                   for w in policy.waivers if w.id not in known]
    results = sort_checks(results)
    blocking = blocking_ids(results)
    # A partial run (-k, -x stopping early, ...) is never release evidence, whatever passed.
    status = "READY" if results and not blocking and not errors and not partial else "BLOCKED"
    return AuditResult(
        status=status,
        model=model,
        baseline=baseline,
        target=target,
        started_at=utc_iso(started_at),
        finished_at=utc_iso(),
        tool_version=tool_version,
        checks=tuple(results),
        blocking=tuple(blocking),
        environment=environment,
        audit_id=audit_id,
        errors=tuple(errors),
        policy=policy_summary(policy, target),
        integrity=dict(integrity or {}),
        partial=partial,
    )


def policy_summary(policy: Policy | None, target: str) -> dict[str, Any]:
    """The report's "Policy" section: which policy, its digest, and how it departs from the defaults."""
    if policy is None:
        return {"source": None, "sha256": None, "deviations": [], "relaxations": [],
                "note": "the policy could not be loaded (see errors)"}
    return {
        "source": policy.source,
        "sha256": policy.sha256 or None,
        "deviations": policy.deviations(),
        "relaxations": policy.relaxations(target),
        "waivers": [w.to_dict() for w in policy.waivers],
    }


def _fallback_policy() -> Policy:
    from pytest_release_audit.policy import default_policy

    return default_policy()
