# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Trail records: canonical JSON, the record hash, the strict line parser and ``build_record``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditError, redact_url
from pytest_release_audit.files import sha256_file, sha256_text, utc_iso

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import AuditResult

TRAIL_VERSION = 1
GENESIS_HASH = "0" * 64


class TrailError(AuditError):
    """The audit trail cannot be appended to or read (locked, partial last line, not a trail)."""


def canonical_json(record: dict[str, Any]) -> str:
    """The canonical JSON text the hash is computed over (and each line is written as)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(record: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``record`` without its ``hash`` and ``signature`` keys."""
    body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
    return sha256_text(canonical_json(body))


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


def file_digests(paths: dict[str, str | Path]) -> dict[str, str]:
    """sha256 hex of each existing file in ``paths`` (kind -> path); missing files are left out."""
    out: dict[str, str] = {}
    for kind, file in paths.items():
        if Path(file).is_file():
            out[kind] = sha256_file(file)
    return out


def build_record(
    result: AuditResult,
    report_digests: dict[str, str],
    actor: str,
    notify: dict[str, Any] | None,
    *,
    promotion: dict[str, Any] | None = None,
    out_dir: str | None = None,
    retention_years: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The trail record of one audit (before ``append_record`` adds seq and hashes).

    ``report_digests`` names every file of the audit's report set (reports and check artifacts)
    with its sha256; ``out_dir`` is where the set lives (relative to the trail's directory when
    it is below it), so ``verify_trail`` can find an edited report.

    Holds ids, outcomes and digests only, never evidence or data values. ``notify`` and
    ``promotion`` are ``NotifyOutcome.to_dict()`` / ``PromotionRecord.to_dict()`` or None (a
    ``url`` in ``notify`` is reduced to scheme and host); the registry keeps no history of alias
    changes, so the trail is that history.

    ``retention`` holds the periods (``retention_years``, default seed 002's minimums) and the
    dates until which this record, the version's artifacts and its approvals must be kept; the
    record's hash covers it, so a later policy cannot shorten it.
    """
    from pytest_release_audit.retention import retention_block

    if notify:
        notify = dict(notify)
        if notify.get("url"):  # webhook URLs carry their secret in the path: keep scheme and host
            notify["url"] = redact_url(str(notify["url"]))
    recorded_at = utc_iso()
    return {
        "trail_version": TRAIL_VERSION,
        "audit_id": result.audit_id or uuid.uuid4().hex,
        "recorded_at": recorded_at,
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
        "retention": retention_block(recorded_at, retention_years),
    }
