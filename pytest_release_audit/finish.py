# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The session end, in one place: render -> write the set -> promote -> notify -> trail -> swap -> hook.

Every report and every check artifact of one audit is one *set*: written into a new sibling
directory (``AuditContext.artifacts_dir``), fsync-ed, then renamed over the previous set
(``swap_in``). A killed audit leaves the previous set intact and a ``.<name>.new-*`` leftover
that the next audit removes (``recover_set``). A report that cannot be written makes the audit
BLOCKED (the evidence is incomplete); a failed notification never changes the verdict.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import describe_exception, redact_url
from pytest_release_audit.files import fsync_dir
from pytest_release_audit.report.model import AuditResult

if TYPE_CHECKING:  # pragma: no cover
    import pytest

    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.session import AuditContext

REPORT_FILES = {
    "json": "audit_report.json",
    "markdown": "audit_report.md",
    "html": "audit_report.html",
    "junit": "junit-audit.xml",
    "model_card": "model_card.md",
}




def _blocked(result: AuditResult, error: str) -> AuditResult:
    return dataclasses.replace(result, status="BLOCKED", errors=(*result.errors, error))


def render_card(config: pytest.Config, ctx: AuditContext, result: AuditResult,
                handle: ModelHandle | None, policy: Policy | None) -> str:
    """The final model card (all checks' outcomes known), extended by the context hook."""
    from pytest_release_audit.report.model_card import build_context, render_model_card

    section = policy.section("model_card") if policy is not None else {}
    context = build_context(result, handle, section)
    context["extra_sections"] = extra_sections(config, result, context)
    context = ctx.masker.apply(context)  # descriptions and tags the pii check flagged
    template = section.get("template") or None
    if template and not Path(template).is_absolute():
        template = str(ctx.rootdir / template)
    return render_model_card(context, template_path=template)


def hook_copy(result: AuditResult) -> AuditResult:
    """An independent copy of ``result`` for a hook: project code (a ``conftest.py``) implements the
    session-end hooks, and what it does to its copy never reaches the verdict, the reports or the trail."""
    return AuditResult.from_dict(copy.deepcopy(result.to_dict()))


def extra_sections(config: pytest.Config, result: AuditResult, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The sections ``pytest_release_audit_model_card_context`` implementations add to the card.

    They get copies of the result and of the context. Only what they append to
    ``extra_sections`` is used, each as a title and a body (text, or a list of bullet items),
    escaped when rendered. Everything else in the card (status, checklist, metrics, approvals) is
    the audit's own: a hook that changes it changes only its copy.
    """
    offered = copy.deepcopy(context)
    offered["extra_sections"] = []
    config.hook.pytest_release_audit_model_card_context(result=hook_copy(result), context=offered)
    sections = offered.get("extra_sections")
    out: list[dict[str, Any]] = []
    for item in sections if isinstance(sections, list) else []:
        if not isinstance(item, dict):
            continue
        body = item.get("body", "")
        body = [str(b) for b in body] if isinstance(body, list | tuple) else str(body)
        out.append({"title": str(item.get("title") or "Additional Information"), "body": body})
    return out


def _write_staged(staged: Path, texts: dict[str, str]) -> dict[str, str]:
    """Write each report into the new set; returns file name -> sha256."""
    digests: dict[str, str] = {}
    for kind in ("json", "markdown", "html", "junit", "model_card"):
        if kind not in texts:
            continue
        data = texts[kind].encode("utf-8")
        path = staged / REPORT_FILES[kind]
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        digests[REPORT_FILES[kind]] = hashlib.sha256(data).hexdigest()
    return digests


def swap_in(staged: Path, out: Path) -> None:
    """Replace the report set ``out`` with ``staged`` (renames; the old set stays until the new is whole).

    Interrupted between the two renames, ``out`` is missing and ``<out>.old-*`` holds the previous
    set: ``recover_set`` (called at the start of every audit) puts it back.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staged, 0o777 & ~umask)
    for path in staged.iterdir():
        if path.is_file():
            os.chmod(path, 0o666 & ~umask)
    fsync_dir(staged)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.rename(out, old)
    os.rename(staged, out)
    fsync_dir(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_sets(out: Path, log: Path | None = None) -> list[str]:
    """Finish or clean what killed audits left beside ``out``; returns notes on what was done.

    The trail record is an audit's commit point. A new set (``.release-audit-new-<pid>-*`` of a
    process that is gone) that matches the trail's last record for ``out`` was committed: it is
    renamed in (roll forward). Any other leftover is removed (roll back: the audit never
    recorded it). A previous set moved aside but not replaced (``<out>.old-*`` without ``out``)
    is put back first.
    """
    from pytest_release_audit.session import STAGING_PREFIX

    notes: list[str] = []
    if not out.parent.is_dir():
        return notes
    olds = sorted(out.parent.glob(f"{out.name}.old-*"))
    if olds and not out.exists():
        os.rename(olds[0], out)
        notes.append(f"restored the previous report set {out.name} from an interrupted audit")
        olds = olds[1:]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    committed = _committed_reports(out, log)
    for leftover in sorted(out.parent.glob(f"{STAGING_PREFIX}*")):
        pid = leftover.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        from pytest_release_audit.trail import set_matches

        if committed and leftover.is_dir() and not set_matches(leftover, committed):
            swap_in(leftover, out)
            notes.append(f"moved in the report set of an interrupted audit ({leftover.name}): its trail record "
                         "was written")
            committed = None
            continue
        shutil.rmtree(leftover, ignore_errors=True)
        notes.append(f"removed {leftover.name}, left by an interrupted audit")
    return notes


def _committed_reports(out: Path, log: Path | None) -> dict[str, str] | None:
    """The reports the trail's last record for ``out`` lists, when that set is not in place."""
    if log is None or not log.is_file():
        return None
    from pytest_release_audit import trail

    try:
        records = [r for r in (trail.parse_line(raw)[0] for raw in log.read_bytes().split(b"\n") if raw) if r]
    except OSError:
        return None
    index = trail.last_records(log, records).get(out.resolve())
    if index is None:
        return None
    reports = records[index - 1].get("reports")
    if not isinstance(reports, dict) or not trail.set_matches(out, reports):
        return None
    return reports


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _render_all(config: pytest.Config, ctx: AuditContext, result: AuditResult, handle: ModelHandle | None,
                policy: Policy | None, staged: Path) -> tuple[AuditResult, dict[str, str]]:
    texts: dict[str, str] = {}
    renderers = {
        "model_card": lambda r: render_card(config, ctx, r, handle, policy),
        "html": lambda r: _render_html(r, staged),
        "junit": _render_junit,
        "markdown": _render_markdown,
    }
    for kind, render in renderers.items():
        try:
            texts[kind] = render(result)
        except Exception as exc:  # a renderer bug must not hide the verdict: report and block
            result = _blocked(result, f"could not render {REPORT_FILES[kind]} ({describe_exception(exc)})")
    if any(e.startswith("could not render") for e in result.errors):
        # re-render the others so every file shows the same (BLOCKED) verdict
        for kind, render in renderers.items():
            try:
                texts[kind] = render(result)
            except Exception:  # already recorded above
                texts.pop(kind, None)
    texts["json"] = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return result, texts


def finish_audit(
    config: pytest.Config,
    ctx: AuditContext,
    result: AuditResult,
    handle: ModelHandle | None,
    policy: Policy | None,
) -> tuple[AuditResult, dict[str, str], list[str]]:
    """Render, write the set, promote, notify, append the trail. Returns the final result, paths, notes.

    A partial run writes its set under ``<out>/partial/``, never over a full run's reports.
    """
    from pytest_release_audit import integrity

    notes: list[str] = []
    paths: dict[str, str] = {}
    out = ctx.out_dir / "partial" if result.partial else ctx.out_dir
    log = Path(policy.get("audit_log") if policy is not None else "audit-reports/audit_log.jsonl")
    if not log.is_absolute():
        log = ctx.rootdir / log
    try:
        staged = ctx.artifacts_dir
        notes += recover_sets(out, log)
        if result.partial:
            # the checks wrote their artifacts for a full set: this one is partial
            out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        error = f"cannot write reports to {out} ({exc.__class__.__name__}): pass a writable --audit-out"
        return _blocked(result, error), paths, notes
    # Where `release-audit show` finds the record this report must match.
    result = dataclasses.replace(result, environment={**result.environment,
                                                      "audit_log": os.path.relpath(log, out)})
    result, texts = _render_all(config, ctx, result, handle, policy, staged)
    modified = integrity.modified_code()  # the model card hook above runs project code
    if modified and not any(e.startswith("audit code was modified") for e in result.errors):
        result = _blocked(result, f"audit code was modified during the run ({', '.join(modified[:6])})")
        result, texts = _render_all(config, ctx, result, handle, policy, staged)
    try:
        digests = _write_staged(staged, texts)
    except OSError as exc:
        ctx.discard_artifacts()
        error = f"cannot write the reports for {out} ({describe_exception(exc)}): the previous set is unchanged"
        return _blocked(result, error), paths, notes

    notify_outcome: dict[str, Any] | None = None
    promotion: dict[str, Any] | None = None
    if ctx.options.promote:
        note, promotion = _promote(ctx, result, handle, policy, staged)
        notes.append(note)
    if ctx.options.notify:
        try:
            notify_outcome = _notify(config, ctx, result, policy, staged)
        except Exception as exc:  # a notifier (the default or a plugin's) must never cost the trail
            notify_outcome = {"ok": False, "target": "<notify>", "error": describe_exception(exc)}
        if not notify_outcome.get("ok"):
            # target is scheme://host only: webhook URLs carry their secret in the path
            notes.append(f"notification to {notify_outcome.get('target')} failed: {notify_outcome.get('error')} "
                         "(the verdict is unchanged)")
    try:
        from pytest_release_audit import trail
        from pytest_release_audit.retention import policy_periods

        key = _trail_key(policy, ctx)
        record = trail.build_record(result, _set_digests(staged), ctx.actor, notify_outcome, promotion=promotion,
                                    out_dir=_relative_to(out, log.parent), retention_years=policy_periods(policy))
        record = trail.append_record(log, record, private_key=key)
    except Exception as exc:  # the trail is evidence: failing to extend it blocks
        result = _blocked(result, f"could not append to the audit trail ({describe_exception(exc)})")
        result, texts = _render_all(config, ctx, result, handle, policy, staged)
        digests = _write_staged(staged, texts)
    else:
        paths["trail"] = _display(log, ctx)
        notes += _anchor(ctx, record)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        swap_in(staged, out)
    except OSError as exc:
        error = f"cannot move the new reports into {out} ({describe_exception(exc)}): they are in {staged}"
        return _blocked(result, error), paths, notes
    ctx.forget_artifacts()
    for kind in ("json", "markdown", "html", "junit", "model_card"):
        if REPORT_FILES[kind] in digests:
            paths[kind] = _display(out / REPORT_FILES[kind], ctx)
    security = result.check("security")
    if security is not None and "security.sarif" in security.artifacts:  # this audit's, not a stale one
        paths["sarif"] = _display(out / "security.sarif", ctx)
    if "trail" in paths:
        paths["trail"] = paths.pop("trail")  # printed last
    config.hook.pytest_release_audit_report_written(result=hook_copy(result), paths=dict(paths))
    return result, paths, notes


def _set_digests(staged: Path) -> dict[str, str]:
    """sha256 of every file of the new set: the reports and the checks' artifacts."""
    from pytest_release_audit.files import sha256_file

    return {p.relative_to(staged).as_posix(): sha256_file(p) for p in sorted(staged.rglob("*")) if p.is_file()}


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _trail_key(policy: Policy | None, ctx: AuditContext) -> Any:
    """The Ed25519 key that signs trail records: ``RELEASE_AUDIT_TRAIL_KEY``, else the policy's path."""
    from pytest_release_audit import trail
    from pytest_release_audit.isolation import TRUSTED_ENV

    source = TRUSTED_ENV.get(trail.KEY_ENV) or (policy.get("trail_key") if policy is not None else "")
    if not source:
        return None
    if not source.lstrip().startswith("-----BEGIN") and not Path(source).is_absolute():
        source = str(ctx.rootdir / source)
    try:
        return trail.load_private_key(source)
    except (OSError, ValueError) as exc:
        raise trail.TrailError(f"the trail signing key cannot be read ({exc.__class__.__name__}): fix "
                               f"{trail.KEY_ENV} or the policy's trail_key") from None


def _anchor(ctx: AuditContext, record: dict[str, Any]) -> list[str]:
    """Anchor the new trail head in the registry; a registry that refuses is a note, not a block."""
    from pytest_release_audit import trail

    model = record.get("model") or {}
    if not model.get("name") or model.get("version") in (None, "unresolved"):
        return []  # nothing in the registry to anchor to (and no server to ask again)
    try:
        from pytest_release_audit.handle.resolve import open_client

        trail.anchor_record(open_client(ctx.tracking_uri), record)
    except Exception as exc:  # noqa: BLE001 - the record is written; only the anchor is missing
        return [f"trail record {record.get('seq')} not anchored in the registry ({describe_exception(exc)})"]
    return []


def _display(path: Path, ctx: AuditContext) -> str:
    try:
        return str(path.resolve().relative_to(ctx.invocation_dir.resolve()))
    except ValueError:
        return str(path)


def _render_html(result: AuditResult, out: Path) -> str:
    from pytest_release_audit.report.html import render_html

    return render_html(result, out)


def _render_junit(result: AuditResult) -> str:
    from pytest_release_audit.report.junit import render_junit

    return render_junit(result)


def _render_markdown(result: AuditResult) -> str:
    from pytest_release_audit.report.markdown import render_markdown

    return render_markdown(result)


def _promote(ctx: AuditContext, result: AuditResult, handle: ModelHandle | None,
             policy: Policy | None, out: Path) -> tuple[str, dict[str, Any] | None]:
    if not result.ready or handle is None or policy is None:
        return f"not promoted: the audit is {result.status}; nothing was tagged or published", None
    from pytest_release_audit import release

    record = release.promote(handle, result, out, policy, ctx.rootdir)  # never raises: failures are in it
    return str(record), record.to_dict()


def _notify(config: pytest.Config, ctx: AuditContext, result: AuditResult,
            policy: Policy | None, out: Path) -> dict[str, Any]:
    url = ctx.options.notify or ""
    from pytest_release_audit import release

    custom = config.hook.pytest_release_audit_notify(result=hook_copy(result), url=url)
    if custom is not None:
        return {"target": redact_url(url), "ok": bool(custom),
                "error": None if custom else "custom notifier reported failure"}

    section = policy.section("notify") if policy is not None else {"timeout_s": 5.0, "retries": 2}
    outcome = release.notify(url, result, str(out / REPORT_FILES["json"]),
                             timeout_s=float(section["timeout_s"]), retries=int(section["retries"]))
    return outcome.to_dict() if hasattr(outcome, "to_dict") else dict(vars(outcome))
