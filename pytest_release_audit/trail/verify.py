# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Verifying the trail: the chain, canonical lines, signatures, the head sidecar, the report sets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.trail.append import head_path
from pytest_release_audit.trail.records import GENESIS_HASH, TrailError, parse_line, record_hash
from pytest_release_audit.trail.sets import last_records, pending_set, report_problems, set_matches
from pytest_release_audit.trail.signing import signature_problem


@dataclass(frozen=True)
class TrailVerification:
    """Outcome of ``verify_trail``. ``first_broken_index`` is the 1-based line number (or None)."""

    ok: bool
    records: int
    first_broken_index: int | None = None
    reason: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    last_hash: str | None = None
    entries: tuple[dict[str, Any], ...] = field(default_factory=tuple, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "first_broken_index": self.first_broken_index,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "last_hash": self.last_hash,
        }


def _broken(records: int, index: int, reason: str, last: str | None) -> TrailVerification:
    """A failed verification: ``records`` verified, the break at 1-based line ``index``."""
    return TrailVerification(ok=False, records=records, first_broken_index=index, reason=reason, last_hash=last)


def _read_lines(path: Path) -> tuple[list[bytes], bool]:
    """The trail's lines (without the final newline) and whether its last line is complete."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TrailError(f"no audit trail at {path}: check the path (policy key audit_log)") from None
    except OSError as exc:
        raise TrailError(f"cannot read audit trail {path} ({exc.__class__.__name__}): check permissions") from None
    lines = data.split(b"\n")
    complete = data.endswith(b"\n") or not data
    return (lines[:-1] if complete else lines), complete  # drop the empty string after the final newline


def _chained_record(raw: bytes, number: int, prev_hash: str, public_key: Any) -> tuple[dict[str, Any] | None, str]:
    """(record, '') when line ``number`` is a canonical record continuing the chain; else (None, why)."""
    record, why = parse_line(raw)
    if record is None:
        return None, why
    if not isinstance(record.get("hash"), str):
        return None, "not a trail record (no hash)"
    if record_hash(record) != record["hash"]:
        return None, "hash mismatch: the record's content was edited"
    if record.get("prev_hash") != prev_hash:
        return None, ("prev_hash does not match the previous record: a record before it was deleted, inserted "
                      "or the records were reordered")
    if record.get("seq") != number:
        return None, f"seq is {record.get('seq')!r}, expected {number}: records deleted or reordered"
    if public_key is not None and (problem := signature_problem(record, public_key)):
        return None, problem
    return record, ""


def _pending_warnings(path: Path, records: list[dict[str, Any]]) -> list[str]:
    """One warning per report set an interrupted audit left whole beside its directory."""
    warnings: list[str] = []
    for out, index in last_records(path, records).items():
        reports = records[index - 1]["reports"]
        pending = pending_set(out, reports) if set_matches(out, reports) else None
        if pending is not None:
            warnings.append(f"record {index}: its report set is whole in {pending.name} (the audit was interrupted "
                            f"before renaming it to {out.name}); the next audit there moves it in")
    return warnings


def _check_head(path: Path, hashes: list[str]) -> tuple[TrailVerification | None, list[str]]:
    """(the break, None when none; warnings) from comparing the head sidecar with the chain."""
    count, last = len(hashes), (hashes[-1] if hashes else None)
    head_file = head_path(path)
    if not head_file.is_file():
        return None, ([f"no head sidecar {head_file.name}: removal of whole trailing records cannot be detected"]
                      if count else [])
    try:
        head = json.loads(head_file.read_text(encoding="utf-8"))
        head_seq, head_hash = int(head["seq"]), str(head["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return _broken(count, count + 1, f"head sidecar {head_file.name} is unreadable", last), []
    if head_seq > count:
        return _broken(count, count + 1,
                       f"truncated: the head sidecar records {head_seq} records, the file holds {count}", last), []
    if head_seq >= 1 and hashes[head_seq - 1] != head_hash:
        return _broken(count, head_seq,
                       f"record {head_seq} does not match the hash in the head sidecar {head_file.name}", last), []
    if head_seq < count:
        return None, [f"head sidecar lags by {count - head_seq} record(s) (an interrupted append): the next append "
                      "updates it"]
    return None, []


def verify_trail(path: str | Path, *, public_key: Any = None) -> TrailVerification:
    """Recompute the chain of the trail at ``path`` and report the first broken record.

    Each line must be the canonical JSON of its record (no duplicate keys, no re-formatting); with
    ``public_key`` every record must carry a valid Ed25519 signature; the reports a record lists
    must still have the digests it recorded (unless a later audit replaced that report set).
    ``records`` counts the records verified before the break (all of them when ok). Raises
    TrailError when ``path`` does not exist or cannot be read.
    """
    path = Path(path)
    lines, complete = _read_lines(path)
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        last = records[-1]["hash"] if records else None
        if number == len(lines) and not complete:
            return _broken(number - 1, number, "partial last line: the file was truncated or a write was cut short",
                           last)
        record, why = _chained_record(raw, number, last or GENESIS_HASH, public_key)
        if record is None:
            return _broken(number - 1, number, why, last)
        records.append(record)
    hashes = [r["hash"] for r in records]
    edited = report_problems(path, records)
    if edited is not None:
        number, problem = edited
        return _broken(number - 1, number, problem, hashes[number - 2] if number > 1 else None)
    broken, head_warnings = _check_head(path, hashes)
    if broken is not None:
        return broken
    warnings = _pending_warnings(path, records) + head_warnings
    signed = sum(1 for r in records if isinstance(r.get("signature"), dict))
    if public_key is None and signed:
        warnings.append(f"{signed} record(s) signed, signatures not checked: pass --public-key")
    return TrailVerification(ok=True, records=len(hashes), warnings=tuple(warnings),
                             last_hash=hashes[-1] if hashes else None, entries=tuple(records))


def find_record(trail: Path, audit_id: str) -> dict[str, Any] | None:
    """The record of ``audit_id`` in ``trail`` whose own hash holds (None when there is none)."""
    try:
        data = Path(trail).read_bytes()
    except OSError as exc:
        raise TrailError(f"cannot read audit trail {trail} ({exc.__class__.__name__})") from None
    for raw in data.split(b"\n"):
        record, _why = parse_line(raw) if raw else (None, "")
        if record and record.get("audit_id") == audit_id and record.get("hash") == record_hash(record):
            return record
    return None
