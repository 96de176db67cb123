# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Report sets named by trail records: does a directory still hold what its last record lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_release_audit.files import sha256_file


def _out_dir(trail: Path, record: dict[str, Any]) -> Path | None:
    where = record.get("out_dir")
    if not isinstance(where, str) or not where:
        return None
    out = Path(where)
    return out if out.is_absolute() else trail.parent / out


def set_matches(directory: Path, reports: dict[str, str]) -> str:
    """'' when ``directory`` holds every file of ``reports`` with its sha256; else what differs."""
    for name, digest in sorted(reports.items()):
        file = directory / name
        if not file.is_file():
            return f"{file} is missing (the record lists it)"
        if sha256_file(file) != digest:
            return f"{file} was edited after the audit (its sha256 is not the recorded one)"
    return ""


def pending_set(out: Path, reports: dict[str, str]) -> Path | None:
    """The new set an interrupted audit left beside ``out`` that matches its trail record, if any.

    The trail record is the audit's commit point: it is appended before the new set is renamed
    into place. Killed between the two, the set waits in ``.release-audit-new-<pid>-*``; the next
    audit in that directory renames it in (``finish.recover_sets``).
    """
    from pytest_release_audit.session import STAGING_PREFIX

    for leftover in sorted(out.parent.glob(f"{STAGING_PREFIX}*")) if out.parent.is_dir() else []:
        if leftover.is_dir() and not set_matches(leftover, reports):
            return leftover
    return None


def last_records(trail: Path, records: list[dict[str, Any]]) -> dict[Path, int]:
    """Report directory -> 1-based index of the last record that wrote it."""
    last: dict[Path, int] = {}
    for index, record in enumerate(records, start=1):
        out = _out_dir(trail, record)
        if out is not None and isinstance(record.get("reports"), dict):
            last[out.resolve()] = index
    return last


def report_problems(trail: Path, records: list[dict[str, Any]]) -> tuple[int, str] | None:
    """The first record whose report set no longer matches it, as (1-based index, why), or None.

    Each report directory holds the set of the *last* audit that wrote it; earlier records of the
    same directory were superseded (that is history, not tampering). The last record's files must
    all be there with the recorded sha256, or wait whole beside it (``pending_set``: an audit was
    killed between appending its record and renaming its set in).
    """
    for out, index in sorted(last_records(trail, records).items(), key=lambda item: item[1]):
        reports = records[index - 1]["reports"]
        if not out.exists() and pending_set(out, reports) is None:
            continue  # removed (retention): nothing left to contradict the record
        problem = set_matches(out, reports)
        if problem and pending_set(out, reports) is None:
            return index, problem
    return None
