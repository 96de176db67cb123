# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Verify an evidence bundle offline (``release-audit verify-bundle``).

Order: the archive is read as hostile input (``archive.extract_checked``); the DSSE signature over
the statement is checked (with the pinned ``--pubkey``, else the key the bundle carries, which
only shows the bundle is self-consistent); the statement is an in-toto Statement v1 of our
predicate type; the manifest's sha256 is the one the statement signs; every file the manifest
lists is present with its sha256 and size; no file is present that it does not list; every
subject of the statement is a model file of the manifest with the same digest. The first failure
names the file.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.bundle.archive import BundleError, extract_checked
from pytest_release_audit.bundle.manifest import ENVELOPE, MANIFEST, MODEL_DIR, PUBLIC_KEY, UNLISTED, parse_statement
from pytest_release_audit.files import sha256_file


@dataclass(frozen=True)
class BundleVerification:
    """Outcome of ``verify_bundle``: ``ok``, the first ``problem`` (naming the file), what it proves."""

    ok: bool
    problem: str = ""
    bad_file: str = ""
    claims: tuple[str, ...] = field(default_factory=tuple)
    pinned: bool = False
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)


def _fail(bad_file: str, problem: str, claims: list[str]) -> BundleVerification:
    return BundleVerification(ok=False, problem=f"{bad_file}: {problem}", bad_file=bad_file, claims=tuple(claims))


def _load_json(root: Path, name: str) -> Any:
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{name}: not readable JSON ({exc.__class__.__name__})") from None


def verify_bundle(path: str | Path, pubkey: Any = None) -> BundleVerification:
    """Check the bundle at ``path``; ``pubkey`` (Ed25519) pins the signer. Never raises for a bad bundle."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="release-audit-verify-") as tmp:
        root = Path(tmp)
        try:
            files = extract_checked(path, root)
        except BundleError as exc:
            return BundleVerification(ok=False, problem=str(exc), bad_file=str(path))
        try:
            return _verify_tree(root, files, pubkey)
        except BundleError as exc:
            name = str(exc).split(":", 1)[0]
            return BundleVerification(ok=False, problem=str(exc), bad_file=name)


def _signature(root: Path, files: list[str], pubkey: Any, claims: list[str]) -> tuple[Any, BundleVerification | None]:
    from pytest_release_audit.bundle.sign import fingerprint, read_envelope, signature_verifies

    for needed in (ENVELOPE, MANIFEST, PUBLIC_KEY):
        if needed not in files:
            return None, _fail(needed, "missing from the bundle", claims)
    envelope = read_envelope((root / ENVELOPE).read_bytes())
    key = pubkey
    if key is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            key = load_pem_public_key((root / PUBLIC_KEY).read_bytes())
        except ValueError:
            return None, _fail(PUBLIC_KEY, "not a PEM public key", claims)
        if not isinstance(key, Ed25519PublicKey):
            return None, _fail(PUBLIC_KEY, "not an Ed25519 public key", claims)
    if not signature_verifies(envelope, key):
        who = "the pinned --pubkey" if pubkey is not None else f"the bundle's own {PUBLIC_KEY}"
        return None, _fail(ENVELOPE, f"the DSSE signature does not verify with {who} ({fingerprint(key)})", claims)
    if pubkey is not None:
        claims.append(f"signed by the pinned key {fingerprint(key)} (DSSE, Ed25519 over the in-toto statement)")
    else:
        claims.append(f"signature valid for the key inside the bundle {fingerprint(key)}: this shows the bundle is "
                      "self-consistent only; pass --pubkey with the key you trust to prove who signed it")
    return envelope, None


def _verify_tree(root: Path, files: list[str], pubkey: Any) -> BundleVerification:
    claims: list[str] = []
    envelope, failed = _signature(root, files, pubkey, claims)
    if failed is not None:
        return failed
    statement = parse_statement(envelope.payload)
    predicate = statement.get("predicate") or {}
    signed_manifest = (predicate.get("manifest") or {}).get("sha256")
    if sha256_file(root / MANIFEST) != signed_manifest:
        return _fail(MANIFEST, "its sha256 is not the one the signed statement names (edited after signing)", claims)
    claims.append(f"{MANIFEST} is the signed one (sha256 {str(signed_manifest)[:16]}...)")
    manifest = _load_json(root, MANIFEST)
    entries = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        return _fail(MANIFEST, "has no file list", claims)
    listed: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            return _fail(MANIFEST, "a file entry has no path", claims)
        listed[entry["path"]] = entry
    present = set(files)
    for rel, entry in sorted(listed.items()):
        if rel not in present:
            return _fail(rel, "listed in the manifest but missing from the bundle", claims)
        file = root / rel
        if file.stat().st_size != entry.get("size") or sha256_file(file) != entry.get("sha256"):
            return _fail(rel, "its content does not match the manifest (sha256/size differ: the file was changed)",
                         claims)
    extra = sorted(present - set(listed) - set(UNLISTED))
    if extra:
        return _fail(extra[0], "present in the bundle but not listed in the manifest (added after signing)", claims)
    claims.append(f"all {len(listed)} files match the manifest's sha256 and size; no file is unlisted")
    subjects = statement.get("subject") or []
    for subject in subjects:
        name = str(subject.get("name", ""))
        entry = listed.get(name)
        if not name.startswith(MODEL_DIR) or entry is None or entry.get("sha256") != (subject.get("digest") or {}).get(
                "sha256"):
            return _fail(name or ENVELOPE, "a statement subject that is not a model file of the manifest", claims)
    model = manifest.get("model") or {}
    claims.append(f"model files: {len(subjects)} artifact(s) of {model.get('name')}/{model.get('version')} "
                  f"as stored in the registry (the statement's subjects)")
    failed = _trail_claims(root, predicate, listed, claims)
    if failed is not None:
        return failed
    claims.extend(_content_claims(manifest, predicate, listed))
    return BundleVerification(ok=True, claims=tuple(claims), pinned=pubkey is not None, manifest=manifest)


TRAIL_RECORDS = "trail/records.jsonl"


def _trail_claims(root: Path, predicate: dict[str, Any], listed: dict[str, Any],
                  claims: list[str]) -> BundleVerification | None:
    """The bundled trail records hold their own hashes, include the audit's record, and that record
    lists the bundled reports' sha256. None when they do (a claim is added), else the failure."""
    from pytest_release_audit.trail import parse_line, record_hash

    wanted = (predicate.get("audit") or {}).get("trail_record") or {}
    if TRAIL_RECORDS not in listed:
        return _fail(TRAIL_RECORDS, "missing: the bundle carries no trail record of the audit", claims)
    audited = None
    lines = (root / TRAIL_RECORDS).read_bytes().splitlines()
    for number, raw in enumerate(lines, start=1):
        record, why = parse_line(raw)
        if record is None or record.get("hash") != record_hash(record):
            return _fail(TRAIL_RECORDS, f"line {number} is not an intact trail record ({why or 'hash mismatch'})",
                         claims)
        if record.get("seq") == wanted.get("seq") and record.get("hash") == wanted.get("hash"):
            audited = record
    if audited is None:
        return _fail(TRAIL_RECORDS, f"does not hold the audit's trail record {wanted.get('seq')}", claims)
    for name, digest in sorted((audited.get("reports") or {}).items()):
        entry = listed.get(f"reports/{name}")
        if entry is None or entry.get("sha256") != digest:
            return _fail(f"reports/{name}", f"is not the file trail record {wanted.get('seq')} lists", claims)
    claims.append(f"trail: {len(lines)} record(s) of this version with intact hashes; record {wanted.get('seq')} "
                  f"(hash {str(wanted.get('hash'))[:16]}...) lists exactly the bundled reports' sha256 "
                  "(check the chain around it with verify-trail on the full trail)")
    return None


def _fairness_claim(predicate: dict[str, Any], listed: dict[str, Any]) -> str:
    checks = {c.get("id"): c.get("outcome") for c in (predicate.get("audit") or {}).get("checks") or []}
    if "fairness/bias.json" not in listed:
        return "fairness: the audit ran no bias check"
    return f"fairness: fairness/bias.json, the bias check ({checks.get('bias', 'not in the statement')}) with its " \
           "subgroup metrics, gaps and calibration"


def _content_claims(manifest: dict[str, Any], predicate: dict[str, Any], listed: dict[str, Any]) -> list[str]:
    """What the verified files say, one line each (no further checks: the digests above hold them)."""
    audit = predicate.get("audit") or {}
    code = manifest.get("code") or {}
    data = manifest.get("data") or {}
    approvals = manifest.get("approvals") or {}
    retention = manifest.get("retention") or {}
    checks = audit.get("checks") or []
    passed = sum(1 for c in checks if c.get("outcome") == "passed")
    count = lambda prefix: sum(1 for p in listed if p.startswith(prefix))  # noqa: E731
    lines = [
        f"audit {audit.get('audit_id')}: {audit.get('status')} for {audit.get('target')} "
        f"({passed}/{len(checks)} checks passed), policy sha256 {str(audit.get('policy_sha256'))[:16]}..., "
        f"trail record {(audit.get('trail_record') or {}).get('seq')}",
        f"training code: {count('code/')} file(s) at commit {code.get('commit')} ({code.get('how')})",
        f"run log: run/run.json (params, metrics, tags of run {(manifest.get('model') or {}).get('run_id')})",
        "datasets: digests in datasets/datasets.json" + (f"; {len(data.get('files') or [])} data file(s) included, "
                                                        "sha256 as the run logged" if data.get("included") else
                                                        "; data files not included (bundle --with-data)"),
        f"reports: {count('reports/')} file(s) of the audit's report set (JSON, Markdown, HTML, JUnit, SARIF, "
        "model card, plots)",
        _fairness_claim(predicate, listed),
        f"approvals: {approvals.get('decisions', 0)} decision(s) with their SSH signatures, allowed signers of "
        f"{', '.join(approvals.get('signers') or []) or 'no role'}",
    ]
    until = retention.get("until") or {}
    if until:
        lines.append("retention: " + ", ".join(f"{k.replace('_', ' ')} until {str(v)[:10]}"
                                               for k, v in sorted(until.items())))
    return lines


def bundle_retain_until(manifest: dict[str, Any]) -> Any:
    """Until when a verified bundle must be kept: the latest date of its manifest's retention block,
    never earlier than seed 002's longest minimum after the block's start (a bundle that states a
    shorter period is held to the minimum). None when the manifest states no start.
    """
    from pytest_release_audit.errors import AuditError
    from pytest_release_audit.retention import DEFAULT_YEARS, add_years, longest_until, parse_moment

    block = manifest.get("retention") or {}
    try:
        floor = add_years(parse_moment(str(block.get("from") or "")), max(DEFAULT_YEARS.values()))
    except AuditError:
        return None
    stated = longest_until(block)
    return max(floor, stated) if stated is not None else floor
