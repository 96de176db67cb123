# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Build the evidence bundle of one audited model version (``release-audit bundle``).

Layout of the archive::

    MANIFEST.json            every other file with sha256 and size, the retention dates
    attestation.dsse.json    DSSE envelope (Ed25519) of an in-toto Statement v1: subjects = model files,
                             predicate = audit summary + the manifest's sha256
    signing-key.pub.pem      the public key that signed it (pin it with verify-bundle --pubkey)
    model/...                the model artifacts as stored in the registry (bytes, never loaded)
    code/...                 the training code at the run's git commit (git archive)
    run/run.json             the run's params, metrics and tags (credentials redacted)
    datasets/datasets.json   the logged datasets: MLflow digest, data_sha256, source, schema
    data/NN-NAME/...         the dataset files themselves (--with-data)
    reports/...              every file of the last full audit's report set
    fairness/bias.json       the bias check of that report on its own (subgroup metrics, gaps, calibration)
    approvals/approvals.json every approval tag of the version (signed statements and signatures)
    approvals/signers/...    the allowed_signers files the signatures are checked against
    trail/records.jsonl      the version's trail records, byte for byte

The bundle is built from the last *full* audit of the version in the trail; it refuses when the
trail is broken, when a report of that audit was edited since, or when the registry's model
files are no longer the ones the audit digested. Nothing from the environment goes in: the
tracking URI is not written, and every run tag, param and dataset source passes the redactor.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_release_audit.bundle.archive import BundleError, write_archive
from pytest_release_audit.bundle.manifest import (
    ENVELOPE,
    MANIFEST,
    MODEL_DIR,
    PUBLIC_KEY,
    SCHEMA_VERSION,
    canonical_bytes,
    file_entries,
    statement_payload,
)
from pytest_release_audit.errors import AuditError, redact
from pytest_release_audit.files import sha256_file

APPROVAL_TAG_PREFIXES = ("release_audit.signed_approval.", "release_audit.approval.")


@dataclass(frozen=True)
class BundleRequest:
    """What ``build_bundle`` needs: the version, where its evidence is, the key."""

    name: str
    version: str
    out: Path
    tracking_uri: str
    trail: Path
    private_key: Any
    policy: Any
    source_dirs: tuple[Path, ...] = ()  # where the training repository (and relative data) may be
    with_data: bool = False


@dataclass(frozen=True)
class BundleSummary:
    """What was bundled, for the command's output."""

    path: Path
    files: int
    audit_id: str
    status: str
    commit: str
    fingerprint: str
    retain_until: str
    sha256: str


def _last_full_record(trail: Path, name: str, version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The last full audit record of the version in a verified trail, and all of the version's records."""
    from pytest_release_audit.trail import verify_trail

    result = verify_trail(trail)
    if not result.ok:
        raise BundleError(f"the audit trail {trail} is broken at record {result.first_broken_index} ({result.reason}): "
                          f"a bundle built from it would prove nothing; run release-audit verify-trail {trail}")
    mine = [r for r in result.entries
            if (r.get("model") or {}).get("name") == name and str((r.get("model") or {}).get("version")) == version]
    full = [r for r in mine if not r.get("partial") and isinstance(r.get("reports"), dict) and r.get("out_dir")]
    if not full:
        raise BundleError(f"{trail} records no full audit of {name}/{version}: run "
                          f"pytest --audit-model={name}/{version} first (or pass --trail)")
    return full[-1], mine


def _report_dir(trail: Path, record: dict[str, Any]) -> Path:
    out = Path(str(record["out_dir"]))
    out = out if out.is_absolute() else trail.parent / out
    from pytest_release_audit.trail import set_matches

    problem = set_matches(out, record["reports"])
    if problem:
        raise BundleError(f"the reports of audit {record.get('audit_id')} do not match its trail record: {problem}; "
                          "re-run the audit")
    return out


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def _copy_tree(src: Path, dest: Path) -> None:
    for file in sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink()):
        _copy(file, dest / file.relative_to(src))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_bytes(data))


def _model_files(handle: Any, dest: Path, work: Path, audited_digest: str) -> str:
    """Download the model's artifacts into ``dest``; returns their content digest."""
    from pytest_release_audit.handle.artifact import content_digest, download_model

    try:
        local = download_model(handle, work / "model-download")
    except AuditError:
        raise
    except Exception as exc:  # any store failure: one line
        from pytest_release_audit.errors import describe_exception

        raise BundleError(f"the artifacts of {handle.name}/{handle.version} cannot be downloaded "
                          f"({describe_exception(exc)})") from None
    digest = content_digest(local)
    if audited_digest and digest != audited_digest:
        raise BundleError(f"the registry's model files of {handle.name}/{handle.version} (digest {digest[:12]}) "
                          f"are not the ones the audit digested ({audited_digest[:12]}): they changed since; "
                          "re-run the audit")
    _copy_tree(local, dest)
    return digest


def _audited_artifact_digest(report: dict[str, Any]) -> str:
    """The content digest of the model files the audit saw: the approvals' (what signers signed), else
    the model_artifact check's; "" when the audit recorded neither (its checks failed before)."""
    model = report.get("model") or {}
    label = f"{model.get('name')} v{model.get('version')}"
    checks = {c.get("id"): c.get("evidence") or {} for c in report.get("checks") or []}
    if checks.get("approvals", {}).get("artifact_digest"):
        return str(checks["approvals"]["artifact_digest"])
    for entry in checks.get("model_artifact", {}).get("models") or []:
        if isinstance(entry, dict) and entry.get("model") == label and entry.get("digest"):
            return str(entry["digest"])
    return ""


def _code(handle: Any, source_dirs: tuple[Path, ...], dest: Path, work: Path) -> dict[str, Any]:
    from pytest_release_audit.scanners.source import close_source_tree, open_source_tree, repo_fallbacks

    dirs = [*source_dirs, Path.cwd()]
    try:
        tree = open_source_tree(handle, dirs[0], work / "source", fallback_repos=[*dirs[1:], *repo_fallbacks(handle)])
    except AuditError as exc:  # the scanner names the pytest option; this command's is --source
        raise BundleError(str(exc).replace("--audit-source", "--source")) from None
    try:
        for rel in tree.files:
            _copy(tree.path / rel, dest / rel)
        return {"commit": tree.commit, "files": len(tree.files), "how": tree.how, "skipped": list(tree.skipped)}
    finally:
        close_source_tree(tree)


def _run_json(handle: Any) -> dict[str, Any]:
    run = handle.run
    return _redacted({
        "run_id": run.run_id,
        "experiment_id": run.experiment_id,
        "status": run.status,
        "start_time": run.start_time,
        "params": dict(sorted(run.params.items())),
        "metrics": dict(sorted(run.metrics.items())),
        "tags": dict(sorted(run.tags.items())),
        "artifacts": sorted(run.artifacts),
        "model_version": {"name": handle.name, "version": str(handle.version), "source": handle.source,
                          "created_at": handle.created_at, "tags": dict(sorted(handle.tags.items()))},
    })


def _datasets(handle: Any) -> list[dict[str, Any]]:
    return [_redacted({**ref.to_dict(), "schema": ref.schema, "profile": ref.profile}) for ref in handle.run.inputs]


def _data_files(handle: Any, req: BundleRequest, dest: Path, work: Path) -> list[dict[str, Any]]:
    """Copy each logged dataset's file(s) into ``dest``; refuses a file whose sha256 is not the logged one."""
    import re

    from pytest_release_audit.approvals import policy_dir
    from pytest_release_audit.datasets import check_regular, resolve_source
    from pytest_release_audit.session import store_directory

    # The registry is untrusted: a dataset source may name any path. As in the audit, only files
    # below the source directories, the working directory, the local store's directory and the
    # policy's data_integrity.allowed_roots are read, up to the policy's size limit.
    store = store_directory(req.tracking_uri)
    bases = list(dict.fromkeys([*req.source_dirs, Path.cwd(), *([store] if store is not None else [])]))
    integrity = req.policy.section("data_integrity")
    roots = [*bases, *(policy_dir(req.policy) / r for r in integrity["allowed_roots"])]
    max_bytes = int(float(integrity["max_dataset_gb"]) * 1e9)
    copied: list[dict[str, Any]] = []
    for index, ref in enumerate(handle.run.inputs, start=1):
        path = resolve_source(ref, handle, bases, work / "data", allowed_roots=roots)
        check_regular(path, ref, None, max_bytes)
        logged = (ref.tags or {}).get("data_sha256", "")
        actual = sha256_file(path)
        if logged and actual != logged:
            raise BundleError(f"dataset '{ref.name}' at {path} has sha256 {actual[:12]}, the run logged {logged[:12]}: "
                              "the file changed since training; restore it or bundle without --with-data")
        folder = f"{index:02d}-{re.sub(r'[^A-Za-z0-9._-]', '_', ref.name)[:80]}"
        target = dest / folder
        if path.is_dir():
            _copy_tree(path, target)
        else:
            _copy(path, target / path.name)
        copied.append({"name": ref.name, "context": ref.context, "path": f"data/{folder}", "sha256": actual,
                       "data_sha256_logged": logged or None})
    return copied


def _approvals(client: Any, req: BundleRequest, dest: Path) -> dict[str, Any]:
    from pytest_release_audit.approvals import normalize_role, policy_dir, signed, version_tags

    tags = version_tags(client, req.name, req.version)
    approvals = {k: v for k, v in sorted(tags.items()) if k.startswith(APPROVAL_TAG_PREFIXES)}
    signers: dict[str, str] = {}
    section = req.policy.section("approvals")
    for role in sorted(req.policy.known_roles()):
        path, where = signed.signers_file(normalize_role(role), section, policy_dir(req.policy))
        if path is not None and path.is_file():
            _copy(path, dest / "signers" / f"{role}.allowed_signers")
            signers[role] = where
    _write_json(dest / "approvals.json", {"tags": approvals, "signers": signers,
                                          "verify_with": "ssh-keygen -Y verify -n release-audit"})
    return {"decisions": len(approvals), "signers": sorted(signers)}


def _fairness(report: dict[str, Any]) -> dict[str, Any] | None:
    """The bias check of the report on its own (subgroup metrics, gaps, calibration): seed 003's fairness
    report, as the audit computed it (``reports/audit_report.json`` holds the same)."""
    for check in report.get("checks") or []:
        if check.get("id") == "bias":
            return {"source": "reports/audit_report.json", "audit_id": report.get("audit_id"),
                    **{key: check.get(key) for key in ("id", "title", "outcome", "required", "summary", "controls",
                                                       "evidence")}}
    return None


def _epoch(moment: str) -> int:
    from pytest_release_audit.retention import parse_moment

    try:
        return int(parse_moment(moment).timestamp())
    except AuditError:
        return 0


def _predicate(report: dict[str, Any], record: dict[str, Any], manifest_sha: str, size: int,
               retention: dict[str, Any]) -> dict[str, Any]:
    from pytest_release_audit.reporter import tool_version

    model = report.get("model") or {}
    return {
        "manifest": {"path": MANIFEST, "sha256": manifest_sha, "size": size},
        "model": {"name": model.get("name"), "version": str(model.get("version")), "run_id": model.get("run_id")},
        "audit": {
            "audit_id": report.get("audit_id"),
            "status": report.get("status"),
            "target": report.get("target"),
            "finished_at": report.get("finished_at"),
            "tool_version": report.get("tool_version"),
            "policy_sha256": (report.get("policy") or {}).get("sha256") or "",
            "checks": [{"id": c.get("id"), "outcome": c.get("outcome"), "required": bool(c.get("required"))}
                       for c in report.get("checks") or []],
            "blocking": list(report.get("blocking") or []),
            "trail_record": {"seq": record.get("seq"), "hash": record.get("hash")},
        },
        "retention": retention,
        "bundler_version": tool_version(),
    }


def build_bundle(req: BundleRequest) -> BundleSummary:
    """Build the bundle described by ``req`` at ``req.out``; BundleError (one line) when it cannot."""
    from pytest_release_audit.bundle.sign import fingerprint, key_id, public_pem, sign_envelope
    from pytest_release_audit.handle.resolve import open_client, resolve_handle
    from pytest_release_audit.handle.spec import ModelSpec
    from pytest_release_audit.retention import longest_until, policy_periods, retention_block
    from pytest_release_audit.trail import canonical_json

    record, records = _last_full_record(req.trail, req.name, req.version)
    reports_dir = _report_dir(req.trail, record)
    report = json.loads((reports_dir / "audit_report.json").read_text(encoding="utf-8"))
    if report.get("audit_id") != record.get("audit_id"):
        raise BundleError(f"{reports_dir}/audit_report.json is not the report of trail record {record.get('seq')}")
    handle = resolve_handle(ModelSpec(name=req.name, version=req.version), req.tracking_uri)
    if handle.run is None:
        raise BundleError(f"{req.name}/{req.version} has no source run: nothing to bundle its training from")
    if handle.run_id != (report.get("model") or {}).get("run_id"):
        raise BundleError(f"{req.name}/{req.version} now points at run {handle.run_id}, the audit saw another run: "
                          "re-run the audit")
    client = open_client(req.tracking_uri)
    public_key = req.private_key.public_key()
    retention = record.get("retention") or retention_block(str(report.get("finished_at")), policy_periods(req.policy))

    with tempfile.TemporaryDirectory(prefix="release-audit-bundle-") as tmp:
        work, root = Path(tmp) / "work", Path(tmp) / "bundle"
        root.mkdir(parents=True)
        audited = _audited_artifact_digest(report)
        digest = _model_files(handle, root / MODEL_DIR, work, audited)
        code = _code(handle, req.source_dirs, root / "code", work)
        _write_json(root / "run" / "run.json", _run_json(handle))
        _write_json(root / "datasets" / "datasets.json", _datasets(handle))
        data = _data_files(handle, req, root / "data", work) if req.with_data else []
        for rel in sorted(record["reports"]):
            _copy(reports_dir / rel, root / "reports" / rel)
        fairness = _fairness(report)
        if fairness is not None:
            _write_json(root / "fairness" / "bias.json", fairness)
        approvals = _approvals(client, req, root / "approvals")
        trail_dir = root / "trail"
        trail_dir.mkdir()
        (trail_dir / "records.jsonl").write_bytes("".join(canonical_json(r) + "\n" for r in records).encode("utf-8"))
        (root / PUBLIC_KEY).write_bytes(public_pem(public_key))

        entries = file_entries(root)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "model": {"name": req.name, "version": req.version, "run_id": handle.run_id, "artifact_digest": digest,
                      "audited_digest": audited or None},
            "audit": {"audit_id": record.get("audit_id"), "status": report.get("status"),
                      "target": report.get("target"), "finished_at": report.get("finished_at"),
                      "trail_record": {"seq": record.get("seq"), "hash": record.get("hash")}},
            "code": code,
            "data": {"included": req.with_data, "files": data},
            "approvals": approvals,
            "retention": retention,
            "signing_key": {"path": PUBLIC_KEY, "fingerprint": fingerprint(public_key), "keyid": key_id(public_key)},
            "files": entries,
        }
        manifest_bytes = canonical_bytes(manifest)
        (root / MANIFEST).write_bytes(manifest_bytes)
        subjects = [{"name": e["path"], "sha256": e["sha256"]} for e in entries if e["path"].startswith(MODEL_DIR)]
        if not subjects:
            raise BundleError(f"{req.name}/{req.version} has no model files in the registry: nothing to attest")
        predicate = _predicate(report, record, sha256_file(root / MANIFEST), len(manifest_bytes), retention)
        (root / ENVELOPE).write_bytes(sign_envelope(statement_payload(subjects, predicate), req.private_key))
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        write_archive([(rel, root / rel) for rel in files], req.out, _epoch(str(report.get("finished_at") or "")))
    until = longest_until(retention)
    return BundleSummary(
        path=req.out, files=len(files), audit_id=str(record.get("audit_id")), status=str(report.get("status")),
        commit=str(code["commit"]), fingerprint=fingerprint(public_key),
        retain_until=until.strftime("%Y-%m-%d") if isinstance(until, dt.datetime) else "unknown",
        sha256=sha256_file(req.out),
    )
