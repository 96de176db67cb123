# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Session end on the controller: write every report, then promote, notify and append the trail.

Files are written atomically (temporary file + ``os.replace``), so an interrupted or failed audit
never leaves a half-written report over a good one. A report that cannot be written makes the
audit BLOCKED (the evidence is incomplete); a failed notification never changes the verdict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import describe_exception
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


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (utf-8) via a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        # mkstemp creates 0600; reports are read by CI uploaders and reviewers: honour the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise




def _blocked(result: AuditResult, error: str) -> AuditResult:
    return dataclasses.replace(result, status="BLOCKED", errors=(*result.errors, error))


def render_card(config: pytest.Config, ctx: AuditContext, result: AuditResult,
                handle: ModelHandle | None, policy: Policy | None) -> str:
    """The final model card (all checks' outcomes known), extended by the context hook."""
    from pytest_release_audit.report.model_card import build_context, render_model_card

    section = policy.section("model_card") if policy is not None else {}
    context = build_context(result, handle, section)
    context.setdefault("extra_sections", [])
    config.hook.pytest_release_audit_model_card_context(result=result, context=context)
    template = section.get("template") or None
    if template and not Path(template).is_absolute():
        template = str(ctx.rootdir / template)
    return render_model_card(context, template_path=template)


def finish_audit(
    config: pytest.Config,
    ctx: AuditContext,
    result: AuditResult,
    handle: ModelHandle | None,
    policy: Policy | None,
) -> tuple[AuditResult, dict[str, str], list[str]]:
    """Write reports, promote, notify, append the trail. Returns the final result, paths, notes."""
    notes: list[str] = []
    paths: dict[str, str] = {}
    out = ctx.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        error = f"cannot write reports to {out} ({exc.__class__.__name__}): pass a writable --audit-out"
        return _blocked(result, error), paths, notes

    texts: dict[str, str] = {}
    renderers = {
        "model_card": lambda r: render_card(config, ctx, r, handle, policy),
        "html": lambda r: _render_html(r, out),
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
    digests: dict[str, str] = {}
    for kind in ("json", "markdown", "html", "junit", "model_card"):
        if kind not in texts:
            continue
        path = out / REPORT_FILES[kind]
        try:
            write_atomic(path, texts[kind])
        except OSError as exc:  # e.g. a directory in the way or a full disk: the evidence is incomplete
            problem = f"cannot write {path} ({describe_exception(exc)}): the reports in {out} are incomplete"
            result = _blocked(result, problem)
            text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
            with contextlib.suppress(OSError):  # the JSON, written first, must not keep a READY verdict
                write_atomic(out / REPORT_FILES["json"], text)
                digests[REPORT_FILES["json"]] = hashlib.sha256(text.encode("utf-8")).hexdigest()
            break
        paths[kind] = _display(path, ctx)
        digests[REPORT_FILES[kind]] = hashlib.sha256(texts[kind].encode("utf-8")).hexdigest()
    security = result.check("security")
    if security is not None and "security.sarif" in security.artifacts:  # this audit's, not a stale one
        paths["sarif"] = _display(out / "security.sarif", ctx)

    notify_outcome: dict[str, Any] | None = None
    promotion: dict[str, Any] | None = None
    if ctx.options.promote:
        note, promotion = _promote(ctx, result, handle, policy, out)
        notes.append(note)
    if ctx.options.notify:
        notify_outcome = _notify(config, ctx, result, policy, out)
        if not notify_outcome.get("ok"):
            # target is scheme://host only: webhook URLs carry their secret in the path
            notes.append(f"notification to {notify_outcome.get('target')} failed: {notify_outcome.get('error')} "
                         "(the verdict is unchanged)")
    try:
        from pytest_release_audit import trail

        log = Path(policy.get("audit_log") if policy is not None else "audit-reports/audit_log.jsonl")
        if not log.is_absolute():
            log = ctx.rootdir / log
        record = trail.build_record(result, digests, ctx.actor, notify_outcome, promotion=promotion)
        trail.append_record(log, record)
        paths["trail"] = _display(log, ctx)
    except Exception as exc:  # the trail is evidence: failing to extend it blocks
        result = _blocked(result, f"could not append to the audit trail ({describe_exception(exc)})")
        write_atomic(out / REPORT_FILES["json"], json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    config.hook.pytest_release_audit_report_written(result=result, paths=dict(paths))
    return result, paths, notes


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
    custom = config.hook.pytest_release_audit_notify(result=result, url=url)
    if custom is not None:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        return {"target": f"{parsed.scheme}://{parsed.hostname}", "ok": bool(custom),
                "error": None if custom else "custom notifier reported failure"}
    from pytest_release_audit import release

    section = policy.section("notify") if policy is not None else {"timeout_s": 5.0, "retries": 2}
    outcome = release.notify(url, result, str(out / REPORT_FILES["json"]),
                             timeout_s=float(section["timeout_s"]), retries=int(section["retries"]))
    return outcome.to_dict() if hasattr(outcome, "to_dict") else dict(vars(outcome))
