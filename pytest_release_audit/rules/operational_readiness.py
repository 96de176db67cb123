# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The operational_readiness rule: monitoring, alerting, rollback, incident response, change management.

Each item of ``[operational_readiness.items]`` is evidenced by one of:

- ``path``: a file at the training commit (``git cat-file``, never the working tree; a glob
  matches the commit's files), dated by the last commit at or before the training commit that
  changed it (``git log -1 --format=%cI COMMIT -- PATH``);
- ``tag``: a model version tag (else a run tag); with ``max_age_days`` its value must be an ISO date;
- ``artifact``: a run artifact path, dated by the run's start.

With ``max_age_days`` > 0 the evidence must be at most that old at the audit. The check applies
when the policy lists items; it blocks for production always, and for the other targets in ``required``.
A date after the audit (plus a day of clock skew) is not evidence.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import TYPE_CHECKING, Any

from pytest_release_audit.files import utc_now
from pytest_release_audit.report.contracts import OperationalReadinessEvidence, ReadinessRow
from pytest_release_audit.report.format import plural
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.scanners.source import SourceCommit


def parse_date(text: str) -> dt.datetime | None:
    """An ISO date or timestamp as an aware UTC datetime (a date is midnight UTC), else None."""
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _files_for(source: SourceCommit, pattern: str, tree: list[str]) -> list[str]:
    if any(c in pattern for c in "*?["):
        return sorted(p for p in tree if fnmatch.fnmatchcase(p, pattern))
    return [pattern] if source.show(pattern) is not None else []


def _satisfy(name: str, item: dict[str, Any]) -> str:
    ways = [f"commit {p}" for p in item.get("path") or ()]
    if item.get("tag"):
        ways.append(f"set tag {item['tag']}=" + ("YYYY-MM-DD" if item.get("max_age_days") else "<value>")
                    + " on the version")
    if item.get("artifact"):
        ways.append(f"log artifact {item['artifact']}")
    age = f" (at most {item['max_age_days']} days old)" if item.get("max_age_days") else ""
    return (" or ".join(ways) or f"configure how '{name}' is evidenced (path, tag or artifact)") + age


def judge_item(name: str, item: dict[str, Any], handle: ModelHandle,
               source: SourceCommit | SourceTreeError | None, now: dt.datetime) -> dict[str, Any]:
    """One item's row: present (with its date and age), missing, stale or unreadable."""
    from pytest_release_audit.errors import SourceTreeError

    max_age = int(item.get("max_age_days") or 0)
    row: dict[str, Any] = {"item": name, "description": item.get("description") or "", "status": "missing",
                           "evidence": None, "kind": None, "date": None, "age_days": None,
                           "max_age_days": max_age or None, "satisfy": _satisfy(name, item)}
    found: list[tuple[str, str, dt.datetime | None, str]] = []  # kind, what, date, problem
    reasons: list[str] = []
    paths = list(item.get("path") or ())
    if paths:
        if source is None or isinstance(source, SourceTreeError):
            reasons.append(f"files at the training commit cannot be read ({source or 'no repository'})")
        else:
            tree = list(source.files())
            for pattern in paths:
                matched = _files_for(source, pattern, tree)
                if not matched:
                    reasons.append(f"no file {pattern} at {source.commit[:12]}")
                for path in matched:
                    when = source.last_change(path)
                    found.append(("file", path, parse_date(when) if when else None, ""))
    tag = str(item.get("tag") or "")
    if tag:
        value = handle.tags.get(tag) or (handle.run.tags.get(tag) if handle.run else None)
        if value is None or not value.strip():
            reasons.append(f"no tag {tag} on the version or run")
        else:
            date = parse_date(value)
            problem = "" if date is not None or not max_age else f"tag {tag} is not an ISO date"
            found.append(("tag", f"{tag}", date, problem))
    artifact = str(item.get("artifact") or "")
    if artifact:
        artifacts = handle.run.artifacts if handle.run else ()
        if artifact in artifacts:
            started = handle.run.start_time if handle.run else None
            date = dt.datetime.fromtimestamp(started / 1000, dt.UTC) if started else None
            found.append(("artifact", artifact, date, ""))
        else:
            reasons.append(f"no run artifact {artifact}")
    # A date after the audit is not evidence of anything done (a tag or a commit date can say anything).
    late = now + dt.timedelta(days=1)
    found = [(k, w, d, p or (f"{w} is dated {d.date().isoformat()}, after the audit: a future date is not evidence"
                             if d is not None and d > late else ""))
             for k, w, d, p in found]
    usable = [f for f in found if not f[3]]
    if not usable:
        row["status"] = "unreadable" if found else "missing"
        row["reason"] = "; ".join([f[3] for f in found if f[3]] + reasons) or "nothing configured"
        return row
    # the freshest evidence counts
    kind, what, date, _ = max(usable, key=lambda f: f[2] or dt.datetime.min.replace(tzinfo=dt.UTC))
    row.update(status="present", kind=kind, evidence=what, date=date.isoformat() if date else None)
    if date is not None:
        row["age_days"] = round((now - date).total_seconds() / 86400, 1)
    if max_age:
        if date is None:
            row["status"] = "stale"
            row["reason"] = f"{what} has no date"
        elif row["age_days"] > max_age:
            row["status"] = "stale"
            row["reason"] = f"{what} dates from {date.date().isoformat()}, {plural(round(row['age_days']), 'day')} ago"
    return row


def assess_operational_readiness(
    handle: ModelHandle,
    source: SourceCommit | SourceTreeError | None,
    section: dict[str, Any],
    target: str,
    now: dt.datetime | None = None,
) -> RuleResult:
    """Every listed item evidenced and fresh enough; absence blocks for the targets the policy requires."""
    from pytest_release_audit.errors import SourceTreeError

    items: dict[str, dict[str, Any]] = dict(section.get("items") or {})
    # For production the listed items are always required (the policy is untrusted: it cannot
    # list an item and then excuse its absence); other targets follow [operational_readiness] required.
    required = target == "production" or target in tuple(section.get("required") or ())
    commit = source.commit if source is not None and not isinstance(source, SourceTreeError) else None
    base: dict[str, Any] = {"target": target, "required": required, "commit": commit}
    if not items:
        return RuleResult(
            evidence=OperationalReadinessEvidence(applicable=False, **base),
            summary="not applicable: policy [operational_readiness] lists no items")
    when = now or utc_now()
    rows = [judge_item(name, item, handle, source, when) for name, item in items.items()]
    bad = [r for r in rows if r["status"] != "present"]
    evidence = OperationalReadinessEvidence(
        applicable=True, **base,
        items=tuple(ReadinessRow.of(r) for r in rows))
    ok = len(rows) - len(bad)
    summary = f"{ok} of {plural(len(rows), 'item')} evidenced: " + ", ".join(
        f"{r['item']} ({r['evidence']}"
        + (f", {plural(round(r['age_days']), 'day')} old" if r["age_days"] is not None else "")
        + ")" for r in rows if r["status"] == "present")
    problems = [f"{r['item']} {r['status']}: {r['reason']}; satisfy with: {r['satisfy']}" for r in bad]
    if bad and not required:
        summary += f"; not required for {target}: " + "; ".join(problems)
    return RuleResult(
        evidence=evidence,
        summary=summary,
        passed=not (bad and required),
        message=(f"operational readiness for {target}: " + "; ".join(problems)) if bad else "",
    )
