# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Appending to the trail: under a file lock, one O_APPEND write, fsync, the head sidecar."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pytest_release_audit.files import fsync_dir, write_atomic
from pytest_release_audit.trail.records import GENESIS_HASH, TRAIL_VERSION, TrailError, canonical_json, record_hash
from pytest_release_audit.trail.signing import sign_record

LOCK_TIMEOUT_S = 60.0
_TAIL_CHUNK = 64 * 1024


def head_path(path: str | Path) -> Path:
    """The head sidecar of the trail at ``path``."""
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
    data = canonical_json({"seq": seq, "hash": digest, "trail_version": TRAIL_VERSION}) + "\n"
    write_atomic(head_path(path), data, mode=0o644, durable=True)


def append_record(
    path: str | Path, record: dict[str, Any], *, lock_timeout_s: float = LOCK_TIMEOUT_S,
    private_key: Any = None,
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
            full.pop("signature", None)
            full["hash"] = record_hash(full)
            if private_key is not None:
                full = sign_record(full, private_key)
            line = (canonical_json(full) + "\n").encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            size = os.fstat(fd).st_size
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError as exc:
                # A full disk or a quota mid-line: cut the partial record off again, so the trail
                # stays exactly as it was and later audits can append.
                try:
                    os.ftruncate(fd, size)
                    os.fsync(fd)
                except OSError:
                    pass
                raise TrailError(f"audit trail {path}: the record could not be written ({exc.strerror or exc}); "
                                 "the trail was left as it was") from None
            finally:
                os.close(fd)
            if created:
                fsync_dir(path.parent)
            _write_head(path, full["seq"], full["hash"])
    except filelock.Timeout:
        raise TrailError(
            f"audit trail {path} is locked by another process for more than {lock_timeout_s:.0f}s: "
            f"retry, or remove a stale {path}.lock if no audit is running"
        ) from None
    return full
