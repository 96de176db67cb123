# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit trail: an append-only, hash-chained JSONL log with one record per audit.

Design
------
* One JSON object per line, written as canonical JSON (``sort_keys``, ``(",", ":")`` separators,
  ``ensure_ascii=False``, UTF-8) followed by ``\\n``.
* Each record carries ``seq`` (1-based position), ``prev_hash`` (the previous record's ``hash``,
  64 zeros for the first) and ``hash`` = sha256 of the canonical JSON of the record without
  ``hash``. Editing a record breaks its own hash; deleting, inserting or reordering records breaks
  the next record's ``prev_hash`` (and ``seq``).
* Appends happen under ``filelock.FileLock(PATH + ".lock")``: the last record is read inside the
  lock, the new line is written with one ``O_APPEND`` write, flushed and ``fsync``-ed. Earlier
  bytes are never rewritten. Concurrent audits (xdist controllers, parallel CI jobs on one volume)
  therefore neither lose nor interleave records.
* A hash chain alone cannot notice that its *last* records were cut off (the remaining prefix is a
  valid chain). So every append also replaces a small sidecar ``PATH.head`` (atomically:
  temporary file, fsync, ``os.replace``) holding the last ``seq`` and ``hash``.
  ``verify_trail`` reports the log as broken when it holds fewer records than the head names, or
  when the record at the head's position has another hash. A head that lags the log (a crash
  between the two writes) or a missing head is a warning, not a break: the chain itself is intact.
  The sidecar detects accidents and naive truncation; someone able to rewrite both files can forge
  a shorter history, which is why the report digests in each record should also be shipped
  elsewhere (the ``pytest_release_audit_report_written`` hook).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditError

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import AuditResult

TRAIL_VERSION = 1
GENESIS_HASH = "0" * 64
LOCK_TIMEOUT_S = 60.0
_TAIL_CHUNK = 64 * 1024


class TrailError(AuditError):
    """The audit trail cannot be appended to or read (locked, partial last line, not a trail)."""


def canonical_json(record: dict[str, Any]) -> str:
    """The canonical JSON text the hash is computed over (and each line is written as)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(record: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``record`` without its ``hash`` key."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _head_path(path: str | Path) -> Path:
    return Path(f"{path}.head")


def _read_last_line(path: Path) -> bytes | None:
    """The last complete line of ``path`` (without newline), None when the file is empty.

    Raises TrailError when the file does not end with a newline: a previous write was cut short
    and appending after it would glue two records into one line.
    """
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return None
        fh.seek(size - 1)
        if fh.read(1) != b"\n":
            raise TrailError(
                f"audit trail {path} ends with a partial record (an interrupted write): run "
                f"'release-audit verify-trail {path}', archive the file and start a new trail"
            )
        end = size - 1  # position of the final newline
        buf = b""
        pos = end
        while pos > 0:
            start = max(0, pos - _TAIL_CHUNK)
            fh.seek(start)
            buf = fh.read(pos - start) + buf
            pos = start
            if b"\n" in buf:
                break
        return buf.rsplit(b"\n", 1)[-1]


def _parse_tail(path: Path, line: bytes) -> tuple[int, str]:
    try:
        last = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TrailError(
            f"audit trail {path}: the last line is not valid JSON: run 'release-audit verify-trail {path}'"
        ) from None
    if not isinstance(last, dict) or not isinstance(last.get("hash"), str) or not isinstance(last.get("seq"), int):
        raise TrailError(
            f"{path} is not an audit trail (its last line has no hash/seq): point audit_log at another file"
        )
    return last["seq"], last["hash"]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_head(path: Path, seq: int, digest: str) -> None:
    head = _head_path(path)
    tmp = head.with_name(f"{head.name}.{os.getpid()}.tmp")
    data = canonical_json({"seq": seq, "hash": digest, "trail_version": TRAIL_VERSION}) + "\n"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, head)


def _fsync_dir(directory: Path) -> None:
    # Makes the creation of a new trail file durable; not available on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # directories cannot be fsync-ed on some filesystems: the data itself is synced
    finally:
        os.close(fd)


def append_record(
    path: str | Path, record: dict[str, Any], *, lock_timeout_s: float = LOCK_TIMEOUT_S
) -> dict[str, Any]:
    """Append ``record`` to the trail at ``path`` and return it with ``seq``, ``prev_hash``, ``hash``.

    Safe across threads and processes (file lock ``PATH.lock``). Creates parent directories.
    Raises TrailError when the lock is not acquired within ``lock_timeout_s`` or the trail's last
    line is partial / not a trail record; nothing is written then.
    """
    import filelock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in record.items() if k not in ("hash", "prev_hash", "seq")}
    try:
        canonical_json(body)
    except (TypeError, ValueError) as exc:
        raise TrailError(
            f"audit trail record is not plain JSON ({exc}): convert values with evidence.plain_json"
        ) from None
    lock = filelock.FileLock(f"{path}.lock", timeout=lock_timeout_s)
    try:
        with lock:
            created = not path.exists()
            last = None if created else _read_last_line(path)
            seq, prev = (0, GENESIS_HASH) if last is None else _parse_tail(path, last)
            full = {**body, "seq": seq + 1, "prev_hash": prev}
            full["hash"] = record_hash(full)
            line = (canonical_json(full) + "\n").encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _write_all(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(path.parent)
            _write_head(path, full["seq"], full["hash"])
    except filelock.Timeout:
        raise TrailError(
            f"audit trail {path} is locked by another process for more than {lock_timeout_s:.0f}s: "
            f"retry, or remove a stale {path}.lock if no audit is running"
        ) from None
    return full


def file_digests(paths: dict[str, str | Path]) -> dict[str, str]:
    """sha256 hex of each existing file in ``paths`` (kind -> path); missing files are left out."""
    out: dict[str, str] = {}
    for kind, file in paths.items():
        p = Path(file)
        if not p.is_file():
            continue
        digest = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        out[kind] = digest.hexdigest()
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_record(
    result: AuditResult,
    report_digests: dict[str, str],
    actor: str,
    notify: dict[str, Any] | None,
    *,
    promotion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The trail record of one audit (before ``append_record`` adds seq and hashes).

    Holds ids, outcomes and digests only, never evidence or data values. ``notify`` and
    ``promotion`` are ``NotifyOutcome.to_dict()`` / ``PromotionRecord.to_dict()`` or None (a
    ``url`` in ``notify`` is reduced to scheme and host); the registry keeps no history of alias
    changes, so the trail is that history.
    """
    if notify:
        notify = dict(notify)
        if notify.get("url"):  # webhook URLs carry their secret in the path: keep scheme and host
            from pytest_release_audit.release import redact_url

            notify["url"] = redact_url(str(notify["url"]))
    return {
        "trail_version": TRAIL_VERSION,
        "audit_id": result.audit_id or uuid.uuid4().hex,
        "recorded_at": _now(),
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "actor": actor or "unknown",
        "model": result.model.to_dict() if result.model else None,
        "baseline": result.baseline.to_dict() if result.baseline else None,
        "target": result.target,
        "verdict": result.status,
        "checks": {c.id: c.outcome for c in result.checks},
        "blocking": list(result.blocking),
        "errors": len(result.errors),
        "reports": dict(sorted(report_digests.items())),
        "tool_version": result.tool_version,
        "partial": result.partial,
        "policy": {"source": result.policy.get("source"), "sha256": result.policy.get("sha256")},
        "integrity": {
            "plugin_sha256": (result.integrity.get("installed_files") or {}).get("sha256"),
            "conftest_files": list(result.integrity.get("conftest_files") or []),
            "plugins": list(result.integrity.get("plugins") or []),
        },
        "notify": notify,
        "promotion": promotion,
    }


@dataclass(frozen=True)
class TrailVerification:
    """Outcome of ``verify_trail``. ``first_broken_index`` is the 1-based line number (or None)."""

    ok: bool
    records: int
    first_broken_index: int | None = None
    reason: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    last_hash: str | None = None

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
    return TrailVerification(ok=False, records=records, first_broken_index=index, reason=reason, last_hash=last)


def verify_trail(path: str | Path) -> TrailVerification:
    """Recompute the chain of the trail at ``path`` and report the first broken record.

    ``records`` counts the records verified before the break (all of them when ok). Raises
    TrailError when ``path`` does not exist or cannot be read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TrailError(f"no audit trail at {path}: check the path (policy key audit_log)") from None
    except OSError as exc:
        raise TrailError(f"cannot read audit trail {path} ({exc.__class__.__name__}): check permissions") from None
    lines = data.split(b"\n")
    complete = data.endswith(b"\n") or not data
    if complete:
        lines = lines[:-1]  # the empty string after the final newline
    expected_prev = GENESIS_HASH
    hashes: list[str] = []
    for number, raw in enumerate(lines, start=1):
        verified = number - 1
        last = hashes[-1] if hashes else None
        is_last = number == len(lines)
        if is_last and not complete:
            return _broken(verified, number, "partial last line: the file was truncated or a write was cut short", last)
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _broken(verified, number, "not valid JSON (edited or corrupted)", last)
        if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
            return _broken(verified, number, "not a trail record (no hash)", last)
        try:
            actual = record_hash(record)
        except (TypeError, ValueError):
            return _broken(verified, number, "record cannot be canonicalised (edited)", last)
        if actual != record["hash"]:
            return _broken(verified, number, "hash mismatch: the record's content was edited", last)
        if record.get("prev_hash") != expected_prev:
            return _broken(
                verified,
                number,
                "prev_hash does not match the previous record: a record before it was deleted, inserted "
                "or the records were reordered",
                last,
            )
        if record.get("seq") != number:
            return _broken(
                verified,
                number,
                f"seq is {record.get('seq')!r}, expected {number}: records deleted or reordered",
                last,
            )
        expected_prev = record["hash"]
        hashes.append(record["hash"])
    count = len(hashes)
    last = hashes[-1] if hashes else None
    warnings: list[str] = []
    head_file = _head_path(path)
    if head_file.is_file():
        try:
            head = json.loads(head_file.read_text(encoding="utf-8"))
            head_seq, head_hash = int(head["seq"]), str(head["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return _broken(count, count + 1, f"head sidecar {head_file.name} is unreadable", last)
        if head_seq > count:
            return _broken(
                count,
                count + 1,
                f"truncated: the head sidecar records {head_seq} records, the file holds {count}",
                last,
            )
        if head_seq >= 1 and hashes[head_seq - 1] != head_hash:
            return _broken(
                count,
                head_seq,
                f"record {head_seq} does not match the hash in the head sidecar {head_file.name}",
                last,
            )
        if head_seq < count:
            warnings.append(
                f"head sidecar lags by {count - head_seq} record(s) (an interrupted append): the next append updates it"
            )
    elif count:
        warnings.append(f"no head sidecar {head_file.name}: removal of whole trailing records cannot be detected")
    return TrailVerification(ok=True, records=count, warnings=tuple(warnings), last_hash=last)
