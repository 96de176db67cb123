# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Promotion against a real MLflow store, and the webhook against a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_approvals import NAME, store_fixture

from pytest_release_audit.policy import validate
from pytest_release_audit.release import (
    TAG_AUDIT_ID,
    TAG_REPORT_SHA256,
    TAG_STATUS,
    notification_payload,
    notify,
    promote,
)
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

SECRET_VALUE = "jane.doe@example.org"  # a data value that must never leave in a notification


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from store_fixture(tmp_path_factory, "release-store")


def make_result(version: str, status: str = "READY", *, run_id: str | None = None) -> AuditResult:
    blocked = status != "READY"
    checks = (
        CheckResult(
            id="pii",
            title="No PII",
            outcome="failed" if blocked else "passed",
            required=True,
            summary=f"PII found: notes has EMAIL_ADDRESS ({SECRET_VALUE})" if blocked else "0 findings",
            evidence={"findings": [{"column": "notes", "sample": SECRET_VALUE}]},
        ),
        CheckResult(id="security", title="Bandit", outcome="passed", required=True, summary="0 findings"),
        CheckResult(id="approvals", title="Approvals", outcome="error" if blocked else "passed", required=True),
    )
    return AuditResult(
        status=status,
        model=ModelRef(name=NAME, version=version, alias="candidate", run_id=run_id),
        baseline=None,
        target="production",
        started_at="2026-11-23T10:00:00Z",
        finished_at="2026-11-23T10:01:00Z",
        tool_version="0.1.0",
        checks=checks,
        blocking=("pii", "approvals") if blocked else (),
        audit_id=f"audit-{version}-{status.lower()}",
    )


def write_reports(out: Path, result: AuditResult) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "audit_report.json",
        "markdown": out / "audit_report.md",
        "model_card": out / "model_card.md",
    }
    paths["json"].write_text(json.dumps(result.to_dict()), encoding="utf-8")
    paths["markdown"].write_text(f"# Audit {result.status}\n", encoding="utf-8")
    paths["model_card"].write_text(f"# Model Card: {NAME}\n", encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}


def new_version(store: dict[str, Any]) -> str:
    mv = store["client"].create_model_version(NAME, store["source"], run_id=store["runs"][0])
    return str(mv.version)


def handle_for(store: dict[str, Any], version: str):
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.handle.spec import ModelSpec

    return resolve_handle(ModelSpec(name=NAME, version=version), store["uri"])


def test_ready_audit_promotes_alias_tags_artifacts_and_card(store, tmp_path):
    client = store["client"]
    version = new_version(store)
    result = make_result(version)
    paths = write_reports(tmp_path / "out", result)
    record = promote(handle_for(store, version), result, paths, validate({}), rootdir=tmp_path)
    assert record.promoted, record.reason
    assert str(client.get_model_version_by_alias(NAME, "production-candidate").version) == version
    tags = client.get_model_version(NAME, version).tags
    assert tags[TAG_AUDIT_ID] == result.audit_id and tags[TAG_STATUS] == "READY"
    import hashlib

    assert tags[TAG_REPORT_SHA256] == hashlib.sha256(Path(paths["json"]).read_bytes()).hexdigest()
    logged = {f.path for f in client.list_artifacts(store["runs"][0], "release_audit")}
    assert {
        "release_audit/audit_report.json",
        "release_audit/model_card.md",
        "release_audit/audit_report.md",
    } <= logged
    card = tmp_path / "docs" / "model_cards" / f"{NAME}.md"
    assert card.read_text(encoding="utf-8") == f"# Model Card: {NAME}\n"
    assert record.model_card == str(card)
    assert record.steps == ("artifacts", "model_card", "tags", "alias")
    assert json.loads(json.dumps(record.to_dict())) == record.to_dict()

    # The next promotion moves the alias and records where it pointed before (the trail keeps it).
    later = new_version(store)
    record2 = promote(
        handle_for(store, later),
        make_result(later),
        write_reports(tmp_path / "o2", make_result(later)),
        validate({}),
        rootdir=tmp_path,
    )
    assert record2.promoted and record2.previous_version == version
    assert f"(was v{version})" in record2.reason
    assert str(client.get_model_version_by_alias(NAME, "production-candidate").version) == later


def test_blocked_audit_promotes_nothing_and_says_why(store, tmp_path):
    client = store["client"]
    version = new_version(store)
    result = make_result(version, "BLOCKED")
    record = promote(
        handle_for(store, version),
        result,
        write_reports(tmp_path / "out", result),
        validate({"promotion": {"alias": "blocked-probe"}}),
        rootdir=tmp_path,
    )
    assert not record.promoted and record.steps == ()
    assert record.reason == "not promoted: audit is BLOCKED (pii, approvals)"
    mv = client.get_model_version(NAME, version)
    assert "blocked-probe" not in (mv.aliases or [])
    assert not any(k.startswith("release_audit.") and "approval" not in k for k in mv.tags)
    assert not (tmp_path / "docs").exists()


def test_policy_alias_and_card_dir_are_used(store, tmp_path):
    version = new_version(store)
    result = make_result(version)
    policy = validate({"promotion": {"alias": "ready-for-inferno"}, "model_card": {"output_dir": "cards"}})
    record = promote(
        handle_for(store, version), result, write_reports(tmp_path / "out", result), policy, rootdir=tmp_path
    )
    assert record.promoted and record.alias == "ready-for-inferno"
    assert str(store["client"].get_model_version_by_alias(NAME, "ready-for-inferno").version) == version
    assert (tmp_path / "cards" / f"{NAME}.md").is_file()


def test_not_promoted_when_result_is_for_another_version_or_report_missing(store, tmp_path):
    version = new_version(store)
    handle = handle_for(store, version)
    other = make_result("1")
    record = promote(handle, other, write_reports(tmp_path / "a", other), validate({}), rootdir=tmp_path)
    assert not record.promoted
    assert record.reason == f"not promoted: the result is for {NAME} v1 (@candidate), not {NAME} v{version}"
    result = make_result(version)
    paths = write_reports(tmp_path / "b", result)
    Path(paths["json"]).unlink()
    record = promote(handle, result, paths, validate({}), rootdir=tmp_path)
    assert not record.promoted and "audit_report.json" in record.reason


def test_registry_failure_is_reported_not_raised(store, tmp_path):
    from dataclasses import replace

    version = new_version(store)
    handle = replace(handle_for(store, version), tracking_uri=f"sqlite:///{tmp_path / 'gone' / 'mlflow.db'}")
    result = make_result(version)
    record = promote(handle, result, write_reports(tmp_path / "out", result), validate({}), rootdir=tmp_path)
    assert not record.promoted and record.error
    assert record.reason.startswith("promotion failed after steps [none]")


# -- webhook -----------------------------------------------------------------------------------
class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        server = self.server
        server.bodies.append(self.rfile.read(length))  # type: ignore[attr-defined]
        server.paths.append(self.path)  # type: ignore[attr-defined]
        code = server.codes.pop(0) if server.codes else 200  # type: ignore[attr-defined]
        delay = server.delay  # type: ignore[attr-defined]
        if delay:
            time.sleep(delay)
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            self.wfile.write(b"ok")
        except BrokenPipeError:  # the client gave up (the timeout test): expected
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.bodies, server.paths, server.codes, server.delay = [], [], [], 0.0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer, path: str = "/services/T000/B000/s3cr3tT0ken") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_webhook_posts_slack_message_without_data_values(hook_server):
    result = make_result("7", "BLOCKED")
    outcome = notify(_url(hook_server), result, "/reports/cl/audit_report.json", timeout_s=2, retries=0)
    assert outcome.ok and outcome.status == 200 and outcome.attempts == 1
    assert outcome.target == f"http://127.0.0.1:{hook_server.server_address[1]}"
    assert hook_server.paths == ["/services/T000/B000/s3cr3tT0ken"]
    raw = hook_server.bodies[0].decode("utf-8")
    payload = json.loads(raw)
    assert set(payload) == {"text", "blocks"}
    assert payload["text"].startswith(":red_circle: Release audit: cl_unimodal_v2 v7 is BLOCKED for production")
    assert "failed: pii, approvals" in payload["text"]
    assert any(b["type"] == "header" for b in payload["blocks"])
    assert "`pii` (failed)" in raw and "`approvals` (error)" in raw and "security" not in raw
    assert "/reports/cl/audit_report.json" in raw and result.audit_id in raw
    assert SECRET_VALUE not in raw and "notes" not in raw and "EMAIL_ADDRESS" not in raw


def test_ready_payload_has_no_failed_checks():
    payload = notification_payload(make_result("3"), None)
    assert payload["text"] == ":large_green_circle: Release audit: cl_unimodal_v2 v3 is READY for production"
    assert "*Failed checks*: none" in json.dumps(payload)


def test_webhook_retries_server_errors_then_succeeds(hook_server):
    hook_server.codes[:] = [503, 500]
    outcome = notify(_url(hook_server), make_result("3"), None, timeout_s=2, retries=2)
    assert outcome.ok and outcome.attempts == 3 and len(hook_server.bodies) == 3


def test_webhook_client_error_is_final(hook_server):
    hook_server.codes[:] = [404, 200]
    outcome = notify(_url(hook_server), make_result("3"), None, timeout_s=2, retries=3)
    assert not outcome.ok and outcome.status == 404 and outcome.attempts == 1
    assert outcome.error == "HTTP 404"


def test_webhook_server_down_fails_fast_without_leaking_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    outcome = notify(f"http://127.0.0.1:{port}/hooks/s3cr3tT0ken", make_result("3"), None, timeout_s=1, retries=1)
    assert time.monotonic() - started < 3
    assert not outcome.ok and outcome.status is None and outcome.attempts == 2
    assert "s3cr3tT0ken" not in json.dumps(outcome.to_dict())
    assert "Connection" in outcome.error or "refused" in outcome.error.lower()


def test_webhook_timeout_is_bounded(hook_server):
    hook_server.delay = 1.0
    started = time.monotonic()
    outcome = notify(_url(hook_server), make_result("3"), None, timeout_s=0.2, retries=0)
    assert time.monotonic() - started < 0.9
    assert not outcome.ok and outcome.attempts == 1 and "no complete answer within 0.2 s" in outcome.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "not a url", ""])
def test_webhook_rejects_non_http_urls_without_raising(url):
    outcome = notify(url, make_result("3"), None, timeout_s=0.5, retries=0)
    assert not outcome.ok and outcome.attempts == 0 and "http(s)" in outcome.error


def test_promote_accepts_the_output_directory_and_positional_rootdir(store, tmp_path):
    version = new_version(store)
    result = make_result(version)
    out = tmp_path / "out"
    write_reports(out, result)
    policy = validate({"promotion": {"alias": "dir-form"}})
    record = promote(handle_for(store, version), result, out, policy, tmp_path)
    assert record.promoted and str(record) == record.reason == f"promoted: @dir-form -> {NAME} v{version}"
    assert set(record.artifacts) == {
        "release_audit/audit_report.json",
        "release_audit/audit_report.md",
        "release_audit/model_card.md",
    }
    assert (tmp_path / "docs" / "model_cards" / f"{NAME}.md").is_file()
