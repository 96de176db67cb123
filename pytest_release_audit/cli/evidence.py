# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The evidence commands of ``release-audit``: ``bundle``, ``verify-bundle``, ``delete-bundle``, ``prune-trail``.

Each refuses (exit 1, one line) what retention forbids: a trail record or a bundle is never removed
before the retention date written into it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from pytest_release_audit.errors import AuditConfigError, AuditError
from pytest_release_audit.report.text import clean


def add_parsers(sub: Any) -> None:
    bundle = sub.add_parser("bundle", help="a signed, reproducible evidence bundle of one audited version")
    bundle.add_argument("model", metavar="NAME/VERSION", help="model version (NAME@ALIAS resolves the alias)")
    bundle.add_argument("--out", required=True, metavar="FILE.tar.gz", help="where the bundle is written")
    bundle.add_argument("--with-data", action="store_true", help="also include the logged dataset files")
    bundle.add_argument("--key", metavar="PEM", help="Ed25519 private key (PEM) that signs the bundle (default: "
                        "RELEASE_AUDIT_BUNDLE_KEY, a path or the PEM text)")
    bundle.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking/registry URI")
    bundle.add_argument("--policy", metavar="PATH",
                        help="policy TOML (default: [tool.release_audit] of ./pyproject.toml)")
    bundle.add_argument("--trail", metavar="PATH", help="the audit trail holding the audit (default: the policy's "
                        "audit_log)")
    bundle.add_argument("--source", metavar="PATH", help="clone of the training repository (default: the run's "
                        "recorded repository, else .)")

    verify = sub.add_parser("verify-bundle", help="verify an evidence bundle offline: digests, manifest, signature")
    verify.add_argument("path", metavar="FILE", help="the .tar.gz written by release-audit bundle")
    verify.add_argument("--pubkey", metavar="PEM", help="the Ed25519 public key you trust to have signed it "
                        "(without it the signature only shows the bundle is self-consistent)")

    delete = sub.add_parser("delete-bundle", help="delete a bundle whose retention period has ended")
    delete.add_argument("path", metavar="FILE")
    delete.add_argument("--pubkey", metavar="PEM", required=True,
                        help="the trusted signing key (as for verify-bundle); required: a bundle re-signed with "
                        "any other key could claim any retention date")

    prune = sub.add_parser("prune-trail", help="remove trail records whose retention period has ended")
    prune.add_argument("path", metavar="LOG", help="the audit_log.jsonl file")
    prune.add_argument("--before", required=True, metavar="DATE", help="records recorded before this date "
                       "(2026-12-31 or 2026-12-31T23:59:59Z)")
    prune.add_argument("--public-key", metavar="KEY", help="the CI's trail public key (as for verify-trail): every "
                       "record's signature must verify (default: RELEASE_AUDIT_TRAIL_PUBLIC_KEY)")
    prune.add_argument("--tracking-uri", metavar="URI", help="the registry whose anchors the trail must match")


def _record_label(record: dict[str, Any]) -> str:
    model = record.get("model") or {}
    label = f"{model.get('name')}/{model.get('version')}" if model.get("name") else "unresolved model"
    return f"{clean(label)} audit {clean(record.get('audit_id') or '-')}"


def print_retention(records: tuple[dict[str, Any], ...], out: TextIO) -> None:
    """One line per record: until when it is retained, and whether that is still running."""
    from pytest_release_audit.files import utc_now
    from pytest_release_audit.retention import record_until, under_retention

    now = utc_now()
    for index, record in enumerate(records, start=1):
        until, stated = record_until(record)
        when = until.strftime("%Y-%m-%d") if until is not None else "unknown (kept)"
        source = "" if stated else " (not recorded in the record: seed 002's 7 years from recorded_at)"
        state = "under retention" if under_retention(until, now) else "past retention (may be archived)"
        print(f"retention: record {index} ({_record_label(record)}) retained until {when}{source}: {state}", file=out)


def _cmd_prune_trail(args: argparse.Namespace, out: TextIO) -> int:
    import os

    from pytest_release_audit import trail
    from pytest_release_audit.files import utc_now
    from pytest_release_audit.retention import parse_moment, record_until, under_retention

    before = parse_moment(args.before, "--before")
    key_source = args.public_key or os.environ.get("RELEASE_AUDIT_TRAIL_PUBLIC_KEY")
    if not key_source and not args.tracking_uri:
        # A trail rewritten and re-hashed by someone without the key is self-consistent: its retention
        # dates prove nothing until the CI's signatures or the registry's anchors vouch for them.
        print(f"REFUSED: pruning deletes evidence, so {args.path}'s retention dates must be proven, not only "
              "self-consistent: pass --public-key (the CI's trail key) or --tracking-uri (the registry's anchors); "
              "nothing pruned", file=out)
        return 1
    from pytest_release_audit.cli.common import trail_public_key

    result = trail.verify_trail(args.path, public_key=trail_public_key(args.public_key))
    if not result.ok:
        print(f"REFUSED: {args.path} is broken at record {result.first_broken_index} ({result.reason}): a broken "
              "trail is kept as it is for investigation; nothing pruned", file=out)
        return 1
    records = result.entries
    if args.tracking_uri:
        from pytest_release_audit.cli.common import client_for

        client, _uri = client_for(args.tracking_uri)
        problems = trail.check_anchors(records, client)
        if problems:
            print(f"REFUSED: {args.path} disagrees with the registry's anchors ({problems[0]}): nothing pruned",
                  file=out)
            return 1

    def recorded(record: dict[str, Any]) -> Any:
        try:
            return parse_moment(str(record.get("recorded_at") or ""))
        except AuditError:
            return None

    selected = [r for r in records if (at := recorded(r)) is not None and at < before]
    if not selected:
        print(f"nothing to prune: no record of {args.path} was recorded before {args.before}", file=out)
        return 0
    now = utc_now()
    for record in selected:
        until, _stated = record_until(record)
        if under_retention(until, now):
            when = until.strftime("%Y-%m-%d") if until is not None else "an unknown date"
            print(f"REFUSED: record {record.get('seq')} ({_record_label(record)}) is under retention until {when} "
                  f"(policy [retention] audit_logs_years, written into the record); nothing pruned", file=out)
            return 1
    if len(selected) < len(records):
        print(f"REFUSED: {len(selected)} record(s) are past retention, but the records after them chain to them "
              f"(prev_hash, seq): removing them would break every later record; archive {args.path} whole once all "
              "its records are past retention. Nothing pruned", file=out)
        return 1
    trail.head_path(args.path).unlink(missing_ok=True)
    Path(args.path).unlink()
    print(f"pruned: {args.path}: all {len(records)} record(s) were past retention; the trail and its head sidecar "
          "were removed", file=out)
    return 0


def _need_bundle_libraries() -> None:
    import importlib.util

    libraries = (("in-toto-attestation", "in_toto_attestation"), ("securesystemslib", "securesystemslib"))
    missing = [name for name, module in libraries if not importlib.util.find_spec(module)]
    if missing:
        raise AuditConfigError(f"evidence bundles need {', '.join(missing)}: "
                               "pip install 'pytest-release-audit[bundle]'")


def _cmd_bundle(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit.approvals import policy_dir
    from pytest_release_audit.bundle import BundleRequest, build_bundle, load_signing_key
    from pytest_release_audit.policy import load_policy

    _need_bundle_libraries()
    key = load_signing_key(args.key)
    from pytest_release_audit.cli.common import client_for, version_of

    client, uri = client_for(args.tracking_uri)
    name, version = version_of(client, args.model)
    policy = load_policy(args.policy, Path.cwd()).for_model(name)
    log = Path(args.trail) if args.trail else Path(policy.get("audit_log"))
    if not log.is_absolute() and not args.trail:
        log = policy_dir(policy) / log
    request = BundleRequest(name=name, version=version, out=Path(args.out), tracking_uri=uri, trail=log.resolve(),
                            private_key=key, policy=policy, with_data=args.with_data,
                            source_dirs=(Path(args.source).resolve(),) if args.source else ())
    summary = build_bundle(request)
    print(f"bundle: {summary.path}: {summary.files} files, sha256 {summary.sha256}", file=out)
    print(f"  audit {summary.audit_id} ({summary.status}), training code at {summary.commit[:12]}, signed by "
          f"{summary.fingerprint}, retain until {summary.retain_until}", file=out)
    print(f"  check it with: release-audit verify-bundle {summary.path} --pubkey <the signer's public key>", file=out)
    return 0


def _cmd_verify_bundle(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit.bundle import load_public_key, verify_bundle

    _need_bundle_libraries()
    pubkey = load_public_key(args.pubkey) if args.pubkey else None
    result = verify_bundle(args.path, pubkey)
    if not result.ok:
        print(f"BAD: {args.path}: {clean(result.problem)}", file=out)
        for claim in result.claims:
            print(f"  (verified before the failure) {clean(claim)}", file=out)
        return 1
    print(f"OK: {args.path}", file=out)
    for claim in result.claims:
        print(f"  {clean(claim)}", file=out)
    return 0


def _cmd_delete_bundle(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit.bundle import bundle_retain_until, load_public_key, verify_bundle
    from pytest_release_audit.files import utc_now

    pubkey = load_public_key(args.pubkey)
    result = verify_bundle(args.path, pubkey)
    if not result.ok:
        print(f"REFUSED: {args.path} does not verify ({clean(result.problem)}): its retention date cannot be "
              "trusted; nothing deleted", file=out)
        return 1
    until = bundle_retain_until(result.manifest)
    if until is None or utc_now() < until:
        when = until.strftime("%Y-%m-%d") if until is not None else "an unknown date"
        print(f"REFUSED: {args.path} is under retention until {when} (its signed manifest); nothing deleted", file=out)
        return 1
    Path(args.path).unlink()
    print(f"deleted: {args.path} (retention ended {until.strftime('%Y-%m-%d')})", file=out)
    return 0


COMMANDS = {"bundle": _cmd_bundle, "verify-bundle": _cmd_verify_bundle, "delete-bundle": _cmd_delete_bundle,
            "prune-trail": _cmd_prune_trail}
