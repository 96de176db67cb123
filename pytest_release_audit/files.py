# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The small file and clock jobs every part of an audit shares: one of each.

- ``sha256_file`` / ``sha256_text``: content digests (a directory hashes its sorted files).
- ``write_atomic``: a temporary file in the same directory, fsync, ``os.replace``.
- ``fsync_dir``: make a rename durable.
- ``utc_now`` / ``utc_iso``: the one clock, and the one way a moment is written
  (``2026-12-02T04:35:12Z``) in the JSON report, the trail, approvals and promotion tags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

_BLOCK = 1 << 20


def sha256_text(text: str) -> str:
    """sha256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes, or of a directory's files (sorted relative path + bytes)."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode())
            _update(digest, file)
        return digest.hexdigest()
    _update(digest, path)
    return digest.hexdigest()


def _update(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)


def fsync_dir(directory: str | Path) -> None:
    """fsync a directory so the renames in it survive a power cut (a no-op where unsupported)."""
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


def write_atomic(path: str | Path, data: str | bytes, *, mode: int | None = None, durable: bool = False) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8 with ``\\n`` line ends) in one rename.

    Readers see the old content or the new, never a part. ``mode`` defaults to ``0o666`` minus the
    umask (reports are read by CI uploaders); ``durable`` also fsyncs the file and its directory.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def utc_now() -> dt.datetime:
    """Now, timezone-aware UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def utc_iso(moment: dt.datetime | None = None) -> str:
    """``moment`` (default now) as ``2026-12-02T04:35:12Z``: the one format every output uses."""
    moment = utc_now() if moment is None else moment.astimezone(dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def utc_stamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (default now) as ``20261202T043512Z``, for ids and file names."""
    return (utc_now() if moment is None else moment.astimezone(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
