# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Retention of release evidence (seed 002): periods, "retain until" dates, and the refusals.

A trail record and a bundle manifest carry a ``retention`` block written when they are made::

    {"from": "2026-12-03T07:00:00Z", "periods_years": {"model_artifacts": 7, ...},
     "until": {"model_artifacts": "2033-12-03T07:00:00Z", "audit_logs": ..., "approval_records": ...}}

The block is inside what the record's hash (or the bundle's signature) covers, so a later policy
cannot shorten it. Records written before retention was recorded have no block: their dates are
computed from ``recorded_at`` with seed 002's minimums, and shown as such.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pytest_release_audit.errors import AuditConfigError
from pytest_release_audit.files import utc_iso, utc_now

#: Seed 002's minimums (years); the policy's ``[retention]`` may only lengthen them.
DEFAULT_YEARS: dict[str, int] = {"model_artifacts": 7, "audit_logs": 7, "approval_records": 10}


def parse_moment(text: str, what: str = "date") -> dt.datetime:
    """``2026-12-03`` or ``2026-12-03T07:00:00Z`` as an aware UTC datetime; AuditConfigError otherwise."""
    raw = (text or "").strip()
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise AuditConfigError(f"{what} {raw!r} is not a date: write 2026-12-31 or 2026-12-31T23:59:59Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` plus ``years`` calendar years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def retention_block(start: str, periods: dict[str, int] | None = None) -> dict[str, Any]:
    """The retention block for evidence made at ``start`` (ISO UTC) with ``periods`` (years)."""
    years = dict(periods or DEFAULT_YEARS)
    begin = parse_moment(start, "retention start")
    return {
        "from": utc_iso(begin),
        "periods_years": years,
        "until": {kind: utc_iso(add_years(begin, n)) for kind, n in sorted(years.items())},
    }


def policy_periods(policy: Any) -> dict[str, int]:
    """The periods of ``policy``'s ``[retention]`` (seed 002's minimums when there is no policy)."""
    section = getattr(policy, "retention", None)
    return section.periods() if section is not None else dict(DEFAULT_YEARS)


def record_until(record: dict[str, Any], kind: str = "audit_logs") -> tuple[dt.datetime | None, bool]:
    """(retain-until of ``kind`` for a trail record, whether the record itself states it).

    A record without a retention block is kept ``DEFAULT_YEARS[kind]`` after ``recorded_at``;
    None when that cannot be read either (then nothing may be pruned on its account).
    """
    block = record.get("retention")
    if isinstance(block, dict) and isinstance(block.get("until"), dict) and kind in block["until"]:
        try:
            return parse_moment(str(block["until"][kind])), True
        except AuditConfigError:
            return None, True
    try:
        return add_years(parse_moment(str(record.get("recorded_at") or "")), DEFAULT_YEARS[kind]), False
    except AuditConfigError:
        return None, False


def longest_until(block: dict[str, Any]) -> dt.datetime | None:
    """The latest of a retention block's dates (a bundle holds every kind of evidence)."""
    until = block.get("until") if isinstance(block, dict) else None
    if not isinstance(until, dict) or not until:
        return None
    try:
        return max(parse_moment(str(value)) for value in until.values())
    except AuditConfigError:
        return None


def under_retention(until: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """True while evidence kept ``until`` must stay (an unknown date counts as still retained)."""
    return until is None or (now or utc_now()) < until
