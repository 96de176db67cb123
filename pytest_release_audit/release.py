# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The handover after a READY audit: promotion in the registry, model card publication, webhook.

``promote`` acts only on a READY result and never raises for registry trouble: it returns a
``PromotionRecord`` saying what was done and why not. ``notify`` POSTs a Slack-compatible message
and never raises for network trouble: it returns a ``NotifyOutcome``. Both records are plain JSON
(``to_dict``) for the terminal summary and the audit trail.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_release_audit.errors import describe_exception, redact_url
from pytest_release_audit.files import sha256_file, utc_iso, write_atomic
from pytest_release_audit.finish import REPORT_FILES

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.report.model import AuditResult

TAG_AUDIT_ID = "release_audit.audit_id"
TAG_STATUS = "release_audit.status"
TAG_REPORT_SHA256 = "release_audit.report_sha256"
TAG_TARGET = "release_audit.target"
TAG_PROMOTED_AT = "release_audit.promoted_at"
ARTIFACT_DIR = "release_audit"
DEFAULT_ALIAS = "production-candidate"
#: Report kinds logged as run artifacts, in this order (``paths`` keys as in the report_written hook),
#: with their file names in an output directory.
ARTIFACT_KINDS = tuple(REPORT_FILES)




def safe_filename(name: str) -> str:
    """``name`` reduced to a safe file name (registered model names may contain ``/`` or spaces)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "model"


# -- promotion -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PromotionRecord:
    """What ``promote`` did. ``promoted`` is True only when the alias now points at the version."""

    promoted: bool
    reason: str
    model: str = ""
    version: str = ""
    alias: str = ""
    previous_version: str | None = None  # what the alias pointed at before (the registry forgets)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    model_card: str | None = None
    steps: tuple[str, ...] = ()  # completed steps, in order (to see how far a failed promotion got)
    error: str | None = None

    def __str__(self) -> str:
        """The one line for the terminal: what happened and why."""
        return self.reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "reason": self.reason,
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "previous_version": self.previous_version,
            "tags": dict(self.tags),
            "artifacts": list(self.artifacts),
            "model_card": self.model_card,
            "steps": list(self.steps),
            "error": self.error,
        }


def _alias_holder(client: Any, name: str, alias: str) -> str | None:
    """The version ``alias`` points at now, None when it is not set (the usual first promotion)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or "INVALID_PARAMETER" in str(
            getattr(exc, "error_code", "")
        ):
            return None
        raise


def report_paths(out_dir: str | Path) -> dict[str, str]:
    """kind -> path of the standard report files that exist in ``out_dir``."""
    out = Path(out_dir)
    return {kind: str(out / name) for kind, name in REPORT_FILES.items() if (out / name).is_file()}


def promote(
    handle: ModelHandle,
    result: AuditResult,
    paths: dict[str, str | Path] | str | Path,
    policy: Policy,
    rootdir: str | Path = ".",
    *,
    client: Any = None,
) -> PromotionRecord:
    """Promote the audited version when ``result`` is READY; otherwise do nothing and say why.

    Steps, in this order so the alias (what deployments follow) moves last: log the reports and
    the model card as artifacts of the version's run under ``release_audit/``; copy the model card
    to ``<rootdir>/<model_card.output_dir>/<name>.md``; tag the version with the audit id, status,
    target and report digest; set the alias ``[promotion] alias`` (default production-candidate).
    ``paths`` maps report kinds (``json``, ``markdown``, ``html``, ``junit``, ``model_card``) to files,
    or is the output directory holding them under their standard names (``REPORT_FILES``).
    """
    files: dict[str, str | Path] = dict(paths) if isinstance(paths, dict) else dict(report_paths(paths))
    alias = (policy.promotion.alias or DEFAULT_ALIAS).strip()
    base: dict[str, Any] = {"model": handle.name, "version": str(handle.version), "alias": alias}
    if not result.ready:
        blocking = ", ".join(result.blocking) or f"{len(result.errors)} audit error(s)"
        return PromotionRecord(promoted=False, reason=f"not promoted: audit is {result.status} ({blocking})", **base)
    if result.model is None or (result.model.name, str(result.model.version)) != (
        handle.name,
        str(handle.version),
    ):
        audited = result.model.label if result.model else "no model"
        return PromotionRecord(
            promoted=False,
            reason=f"not promoted: the result is for {audited}, not {handle.name} v{handle.version}",
            **base,
        )
    report = Path(files["json"]) if files.get("json") else None
    if report is None or not report.is_file():
        return PromotionRecord(
            promoted=False, reason="not promoted: audit_report.json was not written (nothing to tag)", **base
        )
    if not handle.run_id:
        return PromotionRecord(promoted=False, reason="not promoted: the version has no source run", **base)

    steps: list[str] = []
    logged: list[str] = []
    card_out: str | None = None
    tags = {
        TAG_AUDIT_ID: result.audit_id,
        TAG_STATUS: result.status,
        TAG_TARGET: result.target,
        TAG_REPORT_SHA256: sha256_file(report),
        TAG_PROMOTED_AT: utc_iso(),
    }
    previous: str | None = None
    try:
        if client is None:
            from pytest_release_audit.handle.resolve import open_client

            client = open_client(handle.tracking_uri)
        for kind in ARTIFACT_KINDS:
            file = files.get(kind)
            if file and Path(file).is_file():
                client.log_artifact(handle.run_id, str(file), ARTIFACT_DIR)
                logged.append(f"{ARTIFACT_DIR}/{Path(file).name}")
        steps.append("artifacts")
        card = files.get("model_card")
        if card and Path(card).is_file():
            out_dir = Path(rootdir) / policy.model_card.output_dir
            target = out_dir / f"{safe_filename(handle.name)}.md"
            write_atomic(target, Path(card).read_bytes())
            card_out = str(target)
            steps.append("model_card")
        for key, value in tags.items():
            client.set_model_version_tag(handle.name, str(handle.version), key, value)
        steps.append("tags")
        previous = _alias_holder(client, handle.name, alias)
        client.set_registered_model_alias(handle.name, alias, str(handle.version))
        steps.append("alias")
    except Exception as exc:  # any registry / artifact-store error: reported, never raised at session end
        from pytest_release_audit.errors import AuditError

        error = str(exc) if isinstance(exc, AuditError) else describe_exception(exc)
        return PromotionRecord(
            promoted=False,
            reason=f"promotion failed after steps [{', '.join(steps) or 'none'}]: {error}",
            previous_version=previous,
            tags=tags if "tags" in steps else {},
            artifacts=tuple(logged),
            model_card=card_out,
            steps=tuple(steps),
            error=error,
            **base,
        )
    moved = f" (was v{previous})" if previous and previous != str(handle.version) else ""
    return PromotionRecord(
        promoted=True,
        reason=f"promoted: @{alias} -> {handle.name} v{handle.version}{moved}",
        previous_version=previous,
        tags=tags,
        artifacts=tuple(logged),
        model_card=card_out,
        steps=tuple(steps),
        **base,
    )


# -- notification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NotifyOutcome:
    """Result of one notification. ``target`` is the URL without path or query (webhook secrets)."""

    ok: bool
    status: int | None
    error: str | None
    attempts: int = 0
    elapsed_s: float = 0.0
    target: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
            "elapsed_s": self.elapsed_s,
            "target": self.target,
        }


def notification_payload(result: AuditResult, report_path: str | Path | None) -> dict[str, Any]:
    """The Slack-compatible message: ids, outcomes and the report path only, never evidence or data."""
    model = result.model
    name = model.name if model else "(unresolved model)"
    version = str(model.version) if model else "?"
    ready = result.ready
    icon = ":large_green_circle:" if ready else ":red_circle:"
    failed = [c for c in result.checks if not c.ok]
    failed_text = ", ".join(f"`{c.id}` ({c.outcome})" for c in failed) or "none"
    if result.errors and not failed:
        failed_text = f"{len(result.errors)} audit error(s), see the report"
    verdict = "READY" if ready else "BLOCKED"
    text = f"{icon} Release audit: {name} v{version} is {verdict} for {result.target}"
    if not ready:
        text += f" (failed: {', '.join(c.id for c in failed) or 'audit errors'})"
    fields = [
        {"type": "mrkdwn", "text": f"*Model*\n{name}"},
        {"type": "mrkdwn", "text": f"*Version*\n{version}"},
        {"type": "mrkdwn", "text": f"*Target*\n{result.target}"},
        {"type": "mrkdwn", "text": f"*Verdict*\n{verdict}"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Release audit: {verdict}"[:150]}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Failed checks*: {failed_text}"[:3000]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Report: `{report_path or 'not written'}` · audit {result.audit_id or '-'}"[:3000],
                }
            ],
        },
    ]
    return {"text": text[:3000], "blocks": blocks}


def notify_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a notification target (None when it can), checked before the audit runs."""
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises on a malformed port
    except ValueError:
        return "--audit-notify is not a valid URL: pass scheme://host[:port]/path"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "--audit-notify must be an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return ("--audit-notify must not carry credentials (user:password@host): webhooks keep their secret in the "
                "path, and a password in a URL ends up in logs")
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused: the payload and its secret path never go to another URL."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def _post(url: str, body: bytes, timeout_s: float, box: dict[str, Any]) -> None:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http(s) only
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with opener.open(request, timeout=timeout_s) as response:  # nosec B310
            box["status"] = int(response.status)
            response.read(1024)
    except urllib.error.HTTPError as exc:
        box["status"] = exc.code
        box["error"] = f"HTTP {exc.code}" + (" (a redirect: not followed)" if 300 <= exc.code < 400 else "")
    except BaseException as exc:  # noqa: BLE001 - whatever the network does, the audit goes on
        reason = getattr(exc, "reason", exc)
        box["timed_out"] = isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError)
        box["error"] = describe_exception(reason if isinstance(reason, BaseException) else exc)


def notify(
    url: str,
    result: AuditResult,
    report_path: str | Path | None,
    timeout_s: float = 5.0,
    retries: int = 2,
) -> NotifyOutcome:
    """POST the verdict to ``url`` (http/https) within one total deadline; never raises.

    ``timeout_s`` bounds *all* attempts together (a server that trickles one byte every few
    seconds cannot hold the audit); redirects are not followed. Retries (0.25 s, 0.5 s, ...
    backoff) on connection errors, timeouts, HTTP 429 and 5xx. Errors never include the URL's
    path or query.
    """
    import threading

    target = redact_url(url)
    started = time.monotonic()
    problem = notify_url_problem(url) if isinstance(url, str) else "--audit-notify must be a URL"
    if problem:
        return NotifyOutcome(ok=False, status=None, error=problem, target=target)
    try:
        body = json.dumps(notification_payload(result, report_path), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        return NotifyOutcome(ok=False, status=None, error=describe_exception(exc), target=target)
    deadline = started + max(0.1, float(timeout_s))
    attempts = max(1, int(retries) + 1)
    status: int | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, attempts + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            error = error or f"no answer within {timeout_s:g} s"
            break
        box: dict[str, Any] = {}
        # A daemon thread: a request stuck in a trickling read is abandoned at the deadline.
        worker = threading.Thread(target=_post, args=(url, body, left, box), daemon=True)
        worker.start()
        worker.join(left)
        if worker.is_alive():
            status, error = None, f"no complete answer within {timeout_s:g} s (all attempts)"
            break
        status, error = box.get("status"), box.get("error")
        if box.get("timed_out"):  # the socket's own timeout is the same deadline: one wording for both
            status, error = None, f"no complete answer within {timeout_s:g} s (all attempts)"
            break
        if error is None and status is not None and 200 <= status < 300:
            return NotifyOutcome(ok=True, status=status, error=None, attempts=attempt,
                                 elapsed_s=round(time.monotonic() - started, 3), target=target)
        if error is None:
            error = f"HTTP {status}"
        retryable = status is None or status == 429 or status >= 500
        if not retryable or attempt == attempts:
            break
        time.sleep(min(2.0, 0.25 * 2 ** (attempt - 1), max(0.0, deadline - time.monotonic())))
    return NotifyOutcome(
        ok=False,
        status=status,
        error=(error or "failed").replace(url, target),
        attempts=attempt,
        elapsed_s=round(time.monotonic() - started, 3),
        target=target,
    )
