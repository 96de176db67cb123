# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``release-audit`` console command: record approvals, list them, verify the trail, show a report.

Examples::

    release-audit approve cl_unimodal_v2/2 --role security --by m.chen@example.org --key ~/.ssh/id_ed25519 \
        --comment "bandit clean"
    release-audit approve cl_unimodal_v2/2 --role business --by k.patel@example.org --key ~/.ssh/id_ed25519 \
        --reject --comment "wait for Q3"
    release-audit approvals cl_unimodal_v2/2 --target production
    release-audit verify-trail audit-reports/audit_log.jsonl
    release-audit show audit-reports/cl_unimodal_v2-2/audit_report.json
    release-audit doctor cl_unimodal_v2@candidate
    release-audit bundle cl_unimodal_v2/1 --out evidence.tar.gz --key bundle-key.pem
    release-audit verify-bundle evidence.tar.gz --pubkey bundle-key.pub.pem
    release-audit prune-trail audit-reports/audit_log.jsonl --before 2027-01-01
    release-audit delete-bundle evidence.tar.gz

The registry is ``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the
current directory. Exit codes: 0 success (valid trail, approvals complete), 1 a negative answer
(broken trail, approvals incomplete), 2 an error (printed as one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pytest_release_audit.cli import evidence
from pytest_release_audit.cli.common import PROG, client_for, trail_public_key, version_of
from pytest_release_audit.errors import AuditConfigError, AuditError
from pytest_release_audit.report.model import outcome_style
from pytest_release_audit.report.text import clean, one_line

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.approvals import Approval
    from pytest_release_audit.report.model import AuditResult

class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` returns 2 with one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise AuditConfigError(f"{message} (see {PROG} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Release audit helpers: approvals, audit trail, reports, evidence bundles.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    approve = sub.add_parser("approve", help="record an approval (or rejection) of one model version")
    approve.add_argument("model", metavar="NAME/VERSION", help="model version (NAME@ALIAS resolves the alias)")
    approve.add_argument("--role", required=True, help="approving role, e.g. technical, security, business")
    approve.add_argument("--by", required=True, metavar="PRINCIPAL",
                         help="who approves: with --key, the principal of the role's allowed_signers file")
    approve.add_argument("--key", metavar="PATH", help="SSH private key that signs the decision (ssh-keygen -Y "
                         "sign); without it the decision is UNSIGNED and counts only for development")
    approve.add_argument("--reject", action="store_true", help="record a rejection instead (blocks the release)")
    approve.add_argument("--comment", default="", metavar="TEXT", help="short note kept with the decision")
    approve.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking/registry URI")
    approve.add_argument("--policy", metavar="PATH",
                         help="policy TOML naming the roles (default: [tool.release_audit] of ./pyproject.toml)")

    approvals = sub.add_parser("approvals", help="list the approvals of one model version")
    approvals.add_argument("model", metavar="NAME/VERSION")
    approvals.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking/registry URI")
    approvals.add_argument(
        "--target",
        choices=("development", "staging", "production"),
        help="evaluate against this target (default: the policy's target)",
    )
    approvals.add_argument(
        "--policy", metavar="PATH", help="policy TOML (default: [tool.release_audit] of ./pyproject.toml)"
    )

    verify = sub.add_parser("verify-trail", help="verify an audit trail: chain, canonical form, signatures, "
                            "reports, registry anchors")
    verify.add_argument("path", metavar="PATH", help="the audit_log.jsonl file")

    verify.add_argument("--public-key", metavar="KEY", help="Ed25519 public key (PEM or ssh-ed25519) the CI signs "
                        "records with: every record must carry a valid signature (default: "
                        "RELEASE_AUDIT_TRAIL_PUBLIC_KEY)")
    verify.add_argument("--tracking-uri", metavar="URI", help="also compare the trail with the registry's anchors")
    show = sub.add_parser("show", help="print an audit_report.json in the terminal")
    show.add_argument("path", metavar="PATH", help="audit_report.json, or the directory holding it")
    show.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    show.add_argument("--trail", metavar="PATH", help="the audit trail to check the report against "
                      "(default: the one the report names)")
    doctor = sub.add_parser("doctor", help="what the audit reads that one model version's run did not record")
    doctor.add_argument("model", metavar="NAME[@ALIAS|/VERSION]", help="default alias candidate, else the latest")
    doctor.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking/registry URI")
    doctor.add_argument("--policy", metavar="PATH",
                        help="policy TOML (default: [tool.release_audit] of ./pyproject.toml)")
    doctor.add_argument("--target", choices=("development", "staging", "production"),
                        help="target the approvals are judged for (default: the policy's target)")
    doctor.add_argument("--source", metavar="PATH", help="where relative dataset sources are (default: .)")
    evidence.add_parsers(sub)
    return parser


# -- commands --------------------------------------------------------------------------------
def _cmd_approve(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit.approvals import record_approval
    from pytest_release_audit.policy import load_policy

    client, _uri = client_for(args.tracking_uri)
    name, version = version_of(client, args.model)
    from pytest_release_audit.approvals import normalize_role, policy_dir, signed

    policy = load_policy(args.policy, Path.cwd()).for_model(name)
    roles = tuple(policy.known_roles())
    key = Path(args.key).expanduser() if args.key else None
    signers, source = signed.signers_file(normalize_role(args.role), policy.section("approvals"), policy_dir(policy))
    approval = record_approval(client, name, version, args.role, args.by, reject=args.reject, comment=args.comment,
                               key=key, roles=roles, signers=signers if key is not None else None)
    kind = "signed" if approval.signed else "UNSIGNED (counts only for development: sign with --key)"
    if approval.signed:
        kind += (f", verified against {source}" if signers is not None else
                 f"; no allowed_signers file is configured for {approval.role} ([approvals.signers] or "
                 f"{signed.SIGNERS_ENV}): the audit counts it only once one lists this key")
    print(
        f"recorded: {approval.role} {approval.status} by {clean(approval.by)} on {name}/{version} "
        f"at {approval.at}, {kind} (version digest {approval.version_digest[:12]})",
        file=out,
    )
    return 0


def _approval_line(approval: Approval) -> str:
    kind = "signed" if approval.signed else "UNSIGNED"
    comment = f'  "{clean(approval.comment)}"' if approval.comment else ""
    return (
        f"  {clean(approval.role):<12} {approval.status:<9} {clean(approval.by):<24} "
        f"{clean(approval.at):<21} {kind}{comment}"
    )


def _cmd_approvals(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit.approvals import evaluate_approvals
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.handle.spec import ModelSpec
    from pytest_release_audit.policy import load_policy

    client, uri = client_for(args.tracking_uri)
    name, version = version_of(client, args.model)
    policy = load_policy(args.policy, Path.cwd()).for_model(name)
    target = args.target or policy.get("target")
    handle = resolve_handle(ModelSpec(name=name, version=version), uri)
    status = evaluate_approvals(handle, policy, target, client=client)
    counted = [*status.present, *status.rejected, *status.extra]
    print(f"{name}/{version}: {len(counted)} decision(s) count for {target}, {len(status.ignored)} do not "
          f"(version digest {status.version_digest[:12]})", file=out)
    for approval in counted:
        print(_approval_line(approval), file=out)
    for item in status.ignored:
        print(f"  {clean(item.get('role', '')):<12} NOT COUNTED {clean(item.get('by', '')):<24} "
              f"{clean(item.get('reason', ''))}", file=out)
    for role, source in sorted(status.signers.items()):
        print(f"  allowed signers of {role}: {source}", file=out)
    risk = f"risk {status.risk.score:g} {status.risk.tier}"
    print(f"target {target} ({risk}): required {', '.join(status.required) or 'none'}", file=out)
    if status.rejected:
        print(f"  rejected: {', '.join(f'{a.role} by {clean(a.by)}' for a in status.rejected)}", file=out)
    if status.missing:
        print(f"  missing: {', '.join(status.missing)}", file=out)
        from pytest_release_audit.approvals.evaluate import approve_hint

        print(f"  record with: {approve_hint(name, version, status.missing[0], uri)}", file=out)
    print("approvals complete" if status.ok else "approvals INCOMPLETE", file=out)
    return 0 if status.ok else 1


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit import trail

    public_key = trail_public_key(args.public_key)
    result = trail.verify_trail(args.path, public_key=public_key)
    if result.ok and args.tracking_uri:
        client, _uri = client_for(args.tracking_uri)
        problems = trail.check_anchors(result.entries, client)
        if problems:
            print(f"BROKEN: {args.path}: the registry's anchors disagree: {problems[0]}"
                  + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""), file=out)
            return 1
    if result.ok:
        last = f", last hash {result.last_hash[:16]}" if result.last_hash else ""
        checked = ["chain", "canonical form", "report digests"]
        if public_key is not None:
            checked.append(f"signatures ({trail.key_id(public_key)})")
        if args.tracking_uri:
            checked.append("registry anchors")
        print(f"OK: {args.path}: {result.records} record(s) valid ({', '.join(checked)}){last}", file=out)
        for warning in result.warnings:
            print(f"warning: {warning}", file=out)
        evidence.print_retention(result.entries, out)
        return 0
    print(
        f"BROKEN: {args.path}: record {result.first_broken_index} (line {result.first_broken_index}): "
        f"{result.reason}; {result.records} record(s) before it verified",
        file=out,
    )
    return 1


def _load_report(path_text: str) -> AuditResult:
    from pytest_release_audit.report.model import AuditResult

    path = Path(path_text)
    if path.is_dir():
        path = path / "audit_report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditConfigError(f"no report at {path}: pass an audit_report.json or its directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditConfigError(f"cannot read {path} ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise AuditConfigError(f"{path} is not JSON ({exc}): pass an audit_report.json") from None
    if not isinstance(data, dict) or data.get("status") not in ("READY", "BLOCKED"):
        raise AuditConfigError(f"{path} is not an audit_report.json (no READY/BLOCKED status)")
    try:
        return AuditResult.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditConfigError(
            f"{path} does not match the audit report schema ({exc.__class__.__name__}: {exc})"
        ) from None


def _ordered_checks(result: AuditResult) -> list[Any]:
    from pytest_release_audit.report.build import ORDER

    return sorted(result.checks, key=lambda c: ORDER.get(c.id, len(ORDER)))


def _status_line(result: AuditResult) -> str:
    if result.ready:
        return f"Status: READY FOR {result.target.upper()}"
    return f"Status: BLOCKED ({', '.join(result.blocking) or 'audit errors'})"


def render_plain(result: AuditResult) -> str:
    """The report as plain text: title, status, one line per check, blocking list, errors."""
    model = clean(result.model.label) if result.model else "(unresolved model)"
    lines = [f"AUDIT REPORT: {model}  target {clean(result.target)}  audit {clean(result.audit_id) or '-'}"]
    if result.baseline:
        lines.append(f"baseline {clean(result.baseline.label)}  finished {clean(result.finished_at)}")
    lines.append(_status_line(result))
    for check in _ordered_checks(result):
        word = outcome_style(check.outcome, required=check.required).word
        optional = "" if check.required else " (optional)"
        summary = one_line(check.summary or check.title, 300)
        lines.append(f"  {word:<7}{clean(check.id):<22}{summary}{optional}")
    lines.append(f"Blocking: {', '.join(clean(b) for b in result.blocking) or 'none'}")
    for error in result.errors:
        lines.append(f"Error: {clean(error)}")
    return "\n".join(lines) + "\n"


def _render_rich(result: AuditResult, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out)
    model = clean(result.model.label) if result.model else "(unresolved model)"
    console.print(Text(f"AUDIT REPORT: {model}  target {clean(result.target)}", style="bold"))
    base = clean(result.baseline.label) if result.baseline else "none"
    console.print(
        Text(f"baseline {base}  audit {clean(result.audit_id) or '-'}  finished {clean(result.finished_at)}")
    )
    console.print(Text(_status_line(result), style="bold green" if result.ready else "bold red"))
    table = Table(show_header=True, header_style="bold")
    table.add_column("outcome")
    table.add_column("check")
    table.add_column("summary", overflow="fold")
    for check in _ordered_checks(result):
        style = outcome_style(check.outcome, required=check.required)
        # Text() cells: report values are shown literally, never parsed as rich markup.
        optional = "" if check.required else " (optional)"
        summary = clean(check.summary or check.title) + optional
        table.add_row(Text(style.word, style=style.colour), Text(clean(check.id)), Text(summary))
    console.print(table)
    console.print(Text(f"Blocking: {', '.join(clean(b) for b in result.blocking) or 'none'}"))
    for error in result.errors:
        console.print(Text(f"Error: {clean(error)}", style="red"))


def _use_rich(out: TextIO, plain: bool) -> bool:
    if plain or not getattr(out, "isatty", lambda: False)():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _report_path(path_text: str) -> Path:
    path = Path(path_text)
    return path / "audit_report.json" if path.is_dir() else path


def _trail_check(report: Path, result: AuditResult, trail_arg: str | None) -> str | None:
    """None when the report is the one its trail record names; else why it cannot be shown as a verdict."""
    from pytest_release_audit import trail

    where = trail_arg or result.environment.get("audit_log")
    if not where:
        return "this report names no audit trail: pass --trail"
    log = Path(where) if Path(where).is_absolute() or trail_arg else report.parent / where
    try:
        record = trail.find_record(log, result.audit_id)
    except trail.TrailError as exc:
        return str(exc)
    if record is None:
        return f"audit {result.audit_id} has no record in {log} (verify-trail says whether the trail is intact)"
    recorded = (record.get("reports") or {}).get(report.name)
    from pytest_release_audit.files import sha256_file

    if recorded != sha256_file(report):
        return f"{report} does not match its trail record {record.get('seq')} in {log}: it was edited after the audit"
    return None


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    result = _load_report(args.path)
    problem = _trail_check(_report_path(args.path), result, args.trail)
    if problem is not None:
        print(f"{PROG}: NOT VERIFIED: {clean(problem)}; the verdict is not shown", file=sys.stderr)
        return 1
    if _use_rich(out, args.plain):
        _render_rich(result, out)
    else:
        out.write(render_plain(result))
    return 0


def _cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_release_audit import doctor
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.handle.spec import parse_model_spec
    from pytest_release_audit.policy import load_policy

    client, uri = client_for(args.tracking_uri)
    try:
        spec = parse_model_spec(args.model)
    except AuditConfigError as exc:
        raise AuditConfigError(str(exc).replace("--audit-model", "model")) from None
    handle = resolve_handle(spec, uri)
    policy = load_policy(args.policy, Path.cwd()).for_model(handle.name)
    bases = [Path(args.source).resolve()] if args.source else []
    facts = doctor.Facts(handle, policy, client, [*bases, Path.cwd()], target=args.target or policy.get("target"))
    findings = doctor.examine(facts)
    doctor.render(facts, findings, out)
    return 1 if any(f.mark == doctor.MISSING for f in findings) else 0


_COMMANDS = {"doctor": _cmd_doctor, "approve": _cmd_approve, "approvals": _cmd_approvals, "verify-trail": _cmd_verify,
             "show": _cmd_show, **evidence.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 negative answer, 2 error)."""
    out, err = sys.stdout, sys.stderr
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version print and exit 0
            return int(exc.code or 0)
        return _COMMANDS[args.command](args, out)
    except AuditError as exc:
        print(f"{PROG}: error: {clean(exc)}", file=err)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130
    except Exception as exc:  # the last line of defence: one line, no traceback wall
        print(f"{PROG}: error: {exc.__class__.__name__}: {clean(exc)}", file=err)
        return 2

