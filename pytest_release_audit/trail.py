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
  The sidecar detects accidents and naive truncation.
* Every line must be exactly the canonical JSON of its record: a duplicate key, a re-formatted
  line or a non-canonical number is a break, whatever the hash says (``parse_line``).
* When the CI provides an Ed25519 key (``RELEASE_AUDIT_TRAIL_KEY``: a PEM file or its text, or the
  policy's ``trail_key``), each record carries ``signature`` = Ed25519 over its ``hash``; verified
  with the public key (``verify_trail(..., public_key=...)``), a forged or re-hashed record fails.
* The registry anchors the chain: after each append the audited version gets the tag
  ``release_audit.trail_record`` and the registered model ``release_audit.trail_head``, both
  ``SEQ:HASH`` (``anchor_record``). Rewriting the file alone is then detected (``check_anchors``).
* A failed append (a full disk) is rolled back to the previous length: the tool never leaves the
  trail broken.

What it cannot detect: someone who holds the trail key *and* can write the registry's tags can
write a consistent forged history.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditError
from pytest_release_audit.files import fsync_dir, utc_iso, write_atomic

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
    """sha256 hex of the canonical JSON of ``record`` without its ``hash`` and ``signature`` keys."""
    body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


def _no_constants(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """A trail line as a record, or (None, why it is not one canonical record)."""
    try:
        record = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Duplicate as exc:
        return None, f"duplicate key {str(exc)!r} (a forged value hidden beside the real one)"
    except (UnicodeDecodeError, ValueError):
        return None, "not valid JSON (edited or corrupted)"
    if not isinstance(record, dict):
        return None, "not a trail record (not a JSON object)"
    try:
        canonical = canonical_json(record).encode("utf-8")
    except (TypeError, ValueError):
        return None, "record cannot be canonicalised (edited)"
    if canonical != raw:
        return None, "not in canonical form (the line was re-formatted or edited)"
    return record, ""


# -- signing --------------------------------------------------------------------------------------
KEY_ENV = "RELEASE_AUDIT_TRAIL_KEY"


def load_private_key(source: str) -> Any:
    """An Ed25519 private key from PEM text or a PEM file path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = source if source.lstrip().startswith("-----BEGIN") else Path(source).read_text(encoding="utf-8")
    key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TrailError(f"{KEY_ENV} is not an Ed25519 private key: create one with "
                         "'ssh-keygen -t ed25519 -m PKCS8' or cryptography")
    return key


def load_public_key(source: str) -> Any:
    """An Ed25519 public key from PEM text, an OpenSSH ``ssh-ed25519`` line, or a file holding one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = source
    if not (source.lstrip().startswith("-----BEGIN") or source.startswith("ssh-ed25519 ")):
        text = Path(source).read_text(encoding="utf-8")
    data = text.strip().encode("utf-8")
    key = (serialization.load_ssh_public_key(data) if data.startswith(b"ssh-ed25519")
           else serialization.load_pem_public_key(data))
    if not isinstance(key, Ed25519PublicKey):
        raise TrailError("the trail's public key is not an Ed25519 key")
    return key


def key_id(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def sign_record(record: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """``record`` with ``signature``: Ed25519 over the bytes of its ``hash``."""
    import base64

    value = base64.b64encode(private_key.sign(record["hash"].encode("ascii"))).decode("ascii")
    return {**record, "signature": {"alg": "ed25519", "key": key_id(private_key.public_key()), "value": value}}


def _signature_problem(record: dict[str, Any], public_key: Any) -> str:
    import base64

    from cryptography.exceptions import InvalidSignature

    sig = record.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        return "not signed, but the trail is verified with a public key"
    try:
        public_key.verify(base64.b64decode(sig["value"], validate=True), str(record["hash"]).encode("ascii"))
    except (InvalidSignature, ValueError):
        return f"signature does not verify with key {key_id(public_key)} (forged or re-hashed)"
    return ""


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
    data = canonical_json({"seq": seq, "hash": digest, "trail_version": TRAIL_VERSION}) + "\n"
    write_atomic(_head_path(path), data, mode=0o644, durable=True)


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


def build_record(
    result: AuditResult,
    report_digests: dict[str, str],
    actor: str,
    notify: dict[str, Any] | None,
    *,
    promotion: dict[str, Any] | None = None,
    out_dir: str | None = None,
) -> dict[str, Any]:
    """The trail record of one audit (before ``append_record`` adds seq and hashes).

    ``report_digests`` names every file of the audit's report set (reports and check artifacts)
    with its sha256; ``out_dir`` is where the set lives (relative to the trail's directory when
    it is below it), so ``verify_trail`` can find an edited report.

    Holds ids, outcomes and digests only, never evidence or data values. ``notify`` and
    ``promotion`` are ``NotifyOutcome.to_dict()`` / ``PromotionRecord.to_dict()`` or None (a
    ``url`` in ``notify`` is reduced to scheme and host); the registry keeps no history of alias
    changes, so the trail is that history.
    """
    if notify:
        notify = dict(notify)
        if notify.get("url"):  # webhook URLs carry their secret in the path: keep scheme and host
            from pytest_release_audit.errors import redact_url

            notify["url"] = redact_url(str(notify["url"]))
    return {
        "trail_version": TRAIL_VERSION,
        "audit_id": result.audit_id or uuid.uuid4().hex,
        "recorded_at": utc_iso(),
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
        "out_dir": out_dir,
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
    return TrailVerification(ok=False, records=records, first_broken_index=index, reason=reason, last_hash=last)


def verify_trail(path: str | Path, *, public_key: Any = None) -> TrailVerification:
    """Recompute the chain of the trail at ``path`` and report the first broken record.

    Each line must be the canonical JSON of its record (no duplicate keys, no re-formatting); with
    ``public_key`` every record must carry a valid Ed25519 signature; the reports a record lists
    must still have the digests it recorded (unless a later audit replaced that report set).
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
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        verified = number - 1
        last = hashes[-1] if hashes else None
        is_last = number == len(lines)
        if is_last and not complete:
            return _broken(verified, number, "partial last line: the file was truncated or a write was cut short", last)
        record, why = parse_line(raw)
        if record is None:
            return _broken(verified, number, why, last)
        if not isinstance(record.get("hash"), str):
            return _broken(verified, number, "not a trail record (no hash)", last)
        if record_hash(record) != record["hash"]:
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
        if public_key is not None and (problem := _signature_problem(record, public_key)):
            return _broken(verified, number, problem, last)
        expected_prev = record["hash"]
        hashes.append(record["hash"])
        records.append(record)
    edited = report_problems(path, records)
    if edited is not None:
        number, problem = edited
        return _broken(number - 1, number, problem, hashes[number - 2] if number > 1 else None)
    count = len(hashes)
    last = hashes[-1] if hashes else None
    warnings: list[str] = []
    for out, index in last_records(path, records).items():
        reports = records[index - 1]["reports"]
        pending = pending_set(out, reports) if set_matches(out, reports) else None
        if pending is not None:
            warnings.append(f"record {index}: its report set is whole in {pending.name} (the audit was interrupted "
                            f"before renaming it to {out.name}); the next audit there moves it in")
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
    signed = sum(1 for r in records if isinstance(r.get("signature"), dict))
    if public_key is None and signed:
        warnings.append(f"{signed} record(s) signed, signatures not checked: pass --public-key")
    return TrailVerification(ok=True, records=count, warnings=tuple(warnings), last_hash=last,
                             entries=tuple(records))


def _out_dir(trail: Path, record: dict[str, Any]) -> Path | None:
    where = record.get("out_dir")
    if not isinstance(where, str) or not where:
        return None
    out = Path(where)
    return out if out.is_absolute() else trail.parent / out


def set_matches(directory: Path, reports: dict[str, str]) -> str:
    """'' when ``directory`` holds every file of ``reports`` with its sha256; else what differs."""
    from pytest_release_audit.files import sha256_file

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


# -- registry anchors -------------------------------------------------------------------------------
ANCHOR_VERSION_TAG = "release_audit.trail_record"
ANCHOR_MODEL_TAG = "release_audit.trail_head"


def anchor_value(record: dict[str, Any]) -> str:
    return f"{record['seq']}:{record['hash']}"


def anchor_record(client: Any, record: dict[str, Any]) -> None:
    """Tag the audited version and its registered model with this record's SEQ:HASH."""
    model = record.get("model") or {}
    name, version = model.get("name"), model.get("version")
    if not name or not version or version == "unresolved":
        return
    value = anchor_value(record)
    client.set_model_version_tag(name, str(version), ANCHOR_VERSION_TAG, value)
    client.set_registered_model_tag(name, ANCHOR_MODEL_TAG, value)


def check_anchors(records: tuple[dict[str, Any], ...], client: Any) -> list[str]:
    """Where the registry's anchors disagree with the trail (the file was rewritten or cut)."""
    last_by_version: dict[tuple[str, str], dict[str, Any]] = {}
    last_by_model: dict[str, dict[str, Any]] = {}
    for record in records:
        model = record.get("model") or {}
        name, version = model.get("name"), model.get("version")
        if name and version and version != "unresolved":
            last_by_version[(name, str(version))] = record
            last_by_model[name] = record
    problems = []
    for name, record in sorted(last_by_model.items()):
        try:
            tags = dict(client.get_registered_model(name).tags or {})
        except Exception as exc:  # noqa: BLE001 - a model deleted since: named, not fatal
            problems.append(f"model {name}: cannot read its anchor ({exc.__class__.__name__})")
            continue
        anchored = tags.get(ANCHOR_MODEL_TAG)
        if anchored is not None and anchored != anchor_value(record):
            seq = anchored.split(":", 1)[0]
            problems.append(f"model {name}: the registry anchors record {seq} ({anchored[:24]}...), the trail's last "
                            f"record for it is {record['seq']}: records were cut or rewritten")
    for (name, version), record in sorted(last_by_version.items()):
        try:
            tags = dict(client.get_model_version(name, version).tags or {})
        except Exception:  # noqa: BLE001 - a deleted version has no anchor to compare
            tags = {}
        anchored = tags.get(ANCHOR_VERSION_TAG)
        if anchored is not None and anchored != anchor_value(record):
            problems.append(f"{name} v{version}: the registry anchors {anchored[:24]}..., the trail holds "
                            f"{anchor_value(record)[:24]}...: the record was rewritten")
    return problems
