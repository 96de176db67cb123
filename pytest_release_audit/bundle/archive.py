# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The bundle's ``.tar.gz``: written byte-identically, read as hostile input.

Writing: entries sorted by path, regular files only (no directory entries), mtime fixed (the
audit's ``finished_at``), uid/gid 0 with no user or group names, mode 0644, PAX format; gzip at
level 9 with header mtime 0 and no file name. The same files give the same bytes.

Reading: every member must be a regular file or a directory with a relative path that stays
inside the archive (no absolute path, no ``..``, no backslash, no drive), unique; links, devices
and FIFOs are refused before anything is extracted, and extraction uses tarfile's ``data``
filter into a temporary directory the caller owns.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from pytest_release_audit.errors import AuditError

FILE_MODE = 0o644
GZIP_LEVEL = 9


class BundleError(AuditError):
    """A bundle cannot be built, or a file is not a valid bundle (one line: what and which file)."""


def write_archive(files: Iterable[tuple[str, Path]], out: Path, mtime: int) -> None:
    """Write ``files`` (archive path, local file) to ``out`` as a reproducible ``.tar.gz``."""
    entries = sorted(files)
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        raise BundleError(f"two bundle files share one path ({_first_duplicate(names)})")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, local in entries:
                info = tarfile.TarInfo(name)
                info.size = local.stat().st_size
                info.mtime = mtime
                info.mode = FILE_MODE
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.type = tarfile.REGTYPE
                with local.open("rb") as fh:
                    tar.addfile(info, fh)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _first_duplicate(names: list[str]) -> str:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return ""


def member_problem(member: tarfile.TarInfo) -> str:
    """'' when ``member`` may be extracted; else why it is refused."""
    name = member.name
    if member.issym() or member.islnk():
        return f"{name!r} is a {'symbolic' if member.issym() else 'hard'} link (a bundle holds regular files only)"
    if not (member.isfile() or member.isdir()):
        return f"{name!r} is a device, FIFO or other special file (a bundle holds regular files only)"
    if not name or name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return f"{name!r} is an absolute or non-POSIX path"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return f"{name!r} climbs out of the archive with '..'"
    if any(ord(ch) < 32 for ch in name):
        return f"{name!r} holds control characters"
    return ""


def _stream_problem(archive: Path, tar_end: int) -> str:
    """'' when ``archive`` is exactly one complete gzip member (CRC and length verified) whose tar stream
    holds nothing but zero padding after its last member; else why not.

    Python's gzip reader joins concatenated members and tarfile stops at its end-of-archive blocks,
    so without this an appended member or trailing bytes (``tar -i`` would extract them) or a cut-off
    trailer would pass unread.
    """
    import zlib

    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip wrapper: CRC32 and ISIZE checked at the end
    position = 0
    with archive.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if inflate.eof:
                return "bytes follow the end of its gzip stream (an appended member or trailing data)"
            try:
                data = inflate.decompress(chunk)
            except zlib.error as exc:
                return f"its gzip stream is corrupt ({exc})"
            if position + len(data) > tar_end and data[max(0, tar_end - position):].strip(b"\0"):
                return "data follows the tar archive's end-of-archive blocks"
            position += len(data)
            if inflate.unused_data:
                return "bytes follow the end of its gzip stream (an appended member or trailing data)"
    if not inflate.eof:
        return "its gzip stream is truncated (no complete trailer)"
    return ""


def extract_checked(archive: Path, dest: Path) -> list[str]:
    """Extract ``archive`` into ``dest`` after checking every member; returns the file paths.

    Raises BundleError naming the first refused member (nothing is extracted then), a duplicate
    path, or an archive that is not a readable ``.tar.gz``.
    """
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            seen: set[str] = set()
            files: list[str] = []
            for member in members:
                problem = member_problem(member)
                if problem:
                    raise BundleError(f"{archive}: refused: {problem}")
                name = PurePosixPath(member.name).as_posix()
                if name in seen:
                    raise BundleError(f"{archive}: refused: {name!r} appears twice (a later copy would hide the first)")
                seen.add(name)
                if member.isfile():
                    files.append(name)
            stream = _stream_problem(Path(archive), tar.offset)
            if stream:
                raise BundleError(f"{archive}: refused: {stream}")
            unpacked = sum(m.size for m in members if m.isfile())
            free = shutil.disk_usage(dest).free
            if unpacked > free:
                raise BundleError(f"{archive}: refused: it would unpack to {unpacked / 1e9:.1f} GB, more than the "
                                  f"{free / 1e9:.1f} GB free in {dest}")
            tar.extractall(dest, members=members, filter="data")
    except BundleError:
        raise
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{archive} is not a readable .tar.gz bundle ({exc.__class__.__name__}: {exc})") from None
    return sorted(files)
