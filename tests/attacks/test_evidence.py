# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Attacks on the evidence: the trail, the reports, the notification, secrets and data values in outputs."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pytest_release_audit.cli import main as cli
from pytest_release_audit.errors import DatasetUnavailable, describe_exception, redact
from pytest_release_audit.handle.model import DatasetRef, ModelHandle
from pytest_release_audit.report.model import AuditResult, ModelRef
from pytest_release_audit.trail import append_record, canonical_json, key_id, record_hash, verify_trail


def _trail(path: Path, n: int, key: object = None) -> list[dict]:
    return [append_record(path, {"audit_id": f"a{i}", "verdict": "BLOCKED", "model": {"name": "m", "version": "1"}},
                          private_key=key) for i in range(n)]


def _rewrite(path: Path, records: list[dict]) -> None:
    path.write_text("".join(canonical_json(r) + "\n" for r in records), encoding="utf-8")


# -- the trail ------------------------------------------------------------------------------------------
def test_a_duplicate_key_is_a_break(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _trail(path, 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('{"audit_id"', '{"verdict":"READY","audit_id"', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 2 and "duplicate key 'verdict'" in result.reason


def test_a_reformatted_line_is_a_break(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    records = _trail(path, 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = json.dumps(records[0], sort_keys=True)  # same content, other bytes
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 1 and "canonical form" in result.reason


def test_a_rehashed_chain_and_a_forged_record_fail_the_signature(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "log.jsonl"
    records = _trail(path, 3, key)
    assert verify_trail(path, public_key=key.public_key()).ok
    # Edit record 2 to READY and recompute every hash after it: the chain holds, the signature does not.
    forged = [dict(r) for r in records]
    forged[1]["verdict"] = "READY"
    for i in range(1, 3):
        forged[i]["prev_hash"] = forged[i - 1]["hash"]
        forged[i]["hash"] = record_hash(forged[i])
    _rewrite(path, forged)
    (tmp_path / "log.jsonl.head").unlink()  # the attacker removes the head sidecar too
    assert verify_trail(path).ok, "without the key only the chain is checked"
    result = verify_trail(path, public_key=key.public_key())
    assert not result.ok and result.first_broken_index == 2 and "signature does not verify" in result.reason
    # A record appended by someone without the key (here: signed with another key).
    _rewrite(path, records)
    append_record(path, {"audit_id": "forged", "verdict": "READY"}, private_key=Ed25519PrivateKey.generate())
    result = verify_trail(path, public_key=key.public_key())
    assert not result.ok and result.first_broken_index == 4 and key_id(key.public_key()) in result.reason


def test_a_failed_append_is_rolled_back(tmp_path: Path) -> None:
    """A real full disk: a 64 KiB tmpfs. The trail keeps its previous bytes and accepts the next append."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        path = disk / "log.jsonl"
        _trail(path, 2)
        before = path.read_bytes()
        # Fill the disk, then free 8 KiB: room for a small line, not for a big one.
        with (disk / "filler").open("wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"x" * 4096)

            except OSError:
                pass
        os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - 8192))
        from pytest_release_audit.trail import TrailError

        with pytest.raises(TrailError, match="the trail was left as it was"):
            append_record(path, {"audit_id": "big", "blob": "y" * 20_000})
        assert path.read_bytes() == before
        assert verify_trail(path).ok
        (disk / "filler").unlink()
        append_record(path, {"audit_id": "after"})
        assert verify_trail(path).ok and verify_trail(path).records == 3
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# -- secrets and data values ----------------------------------------------------------------------------
def test_one_redactor_removes_credentials_tokens_and_query_secrets() -> None:
    text = "GET https://ci:hunter2@store.example/api?X-Amz-Signature=abc123 failed: token=t0ps3cret; password: p4ss"
    clean = redact(text)
    for secret in ("hunter2", "abc123", "t0ps3cret", "p4ss"):
        assert secret not in clean


def test_exception_texts_never_quote_data_values() -> None:
    line = describe_exception(ValueError("could not convert string to float: 'mallory.cell@example.org'"))
    assert "mallory" not in line and "could not convert string to float" in line


def _handle(tracking_uri: str) -> ModelHandle:
    return ModelHandle(name="m", version="1", tracking_uri=tracking_uri, registry_uri=tracking_uri)


def test_a_dataset_on_another_host_is_refused_before_any_request(tmp_path: Path, monkeypatch) -> None:
    from pytest_release_audit.datasets import resolve_source

    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(1)
    listener.settimeout(1)
    port = listener.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ci")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    ref = DatasetRef(name="train", digest="d", source_type="http", source=f"mlflow-artifacts://127.0.0.2:{port}/x.csv",
                     context="training")
    with pytest.raises(DatasetUnavailable, match="not on the tracking server"):
        resolve_source(ref, _handle("http://127.0.0.1:5999"), [tmp_path], tmp_path)
    with pytest.raises(OSError):
        listener.accept()  # nobody connected
    listener.close()


@pytest.mark.parametrize("kind", ["device", "fifo", "outside"])
def test_only_regular_files_under_the_allowed_roots_are_read(tmp_path: Path, kind: str) -> None:
    from pytest_release_audit.datasets import check_regular

    ref = DatasetRef(name="train", digest="d", source_type="local", source="x", context="training")
    if kind == "device":
        path, expected = Path("/dev/zero"), "is a character device"
        roots = [Path("/dev")]
    elif kind == "fifo":
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)
        expected, roots = "is a FIFO", [tmp_path]
    else:
        path = tmp_path / "elsewhere" / "data.csv"
        path.parent.mkdir()
        path.write_text("a\n1\n", encoding="utf-8")
        expected, roots = "is outside the directories", [tmp_path / "project"]
    started = time.monotonic()
    with pytest.raises(DatasetUnavailable, match=expected):
        check_regular(path, ref, roots)
    assert time.monotonic() - started < 2


# -- the notification ------------------------------------------------------------------------------------
class _Hook(http.server.BaseHTTPRequestHandler):
    behaviour = "ok"
    hits: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits.append(self.path)
        if self.behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
        elif self.behaviour == "trickle":
            for _ in range(20):
                self.wfile.write(b"H")
                self.wfile.flush()
                time.sleep(1)
        elif self.behaviour == "error":
            self.send_response(500)
            self.end_headers()
        else:
            self.send_response(200)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def hook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.daemon_threads = True
    _Hook.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _result() -> AuditResult:
    model = ModelRef(name="m", version="1", alias=None, run_id="r", uri="models:/m/1")
    return AuditResult(status="BLOCKED", model=model, baseline=None, target="production", started_at="",
                       finished_at="", tool_version="0", checks=(), blocking=())


@pytest.mark.parametrize("behaviour", ["redirect", "trickle", "error"])
def test_a_hostile_webhook_cannot_hold_or_redirect_the_audit(hook, behaviour: str) -> None:
    from pytest_release_audit.release import notify

    _Hook.behaviour = behaviour
    started = time.monotonic()
    outcome = notify(f"http://127.0.0.1:{hook.server_port}/hooks/SECRET-PATH", _result(), None, timeout_s=3, retries=2)
    took = time.monotonic() - started
    assert not outcome.ok and took < 4.5, (outcome, took)
    assert "SECRET-PATH" not in (outcome.error or "") and "SECRET-PATH" not in outcome.target
    if behaviour == "redirect":
        assert "redirect" in outcome.error and _Hook.hits == ["/hooks/SECRET-PATH"]
    if behaviour == "error":
        assert len(_Hook.hits) == 3  # retried


@pytest.mark.parametrize("url", ["http://user:pw-secret@127.0.0.1/hook", "http://[::1/x", "ftp://127.0.0.1/x",
                                 "http://127.0.0.1:99999/x"])
def test_a_bad_notify_url_is_one_line_and_never_raises(url: str) -> None:
    from pytest_release_audit.release import notify

    outcome = notify(url, _result(), None, timeout_s=1, retries=0)
    assert not outcome.ok and outcome.error and "\n" not in outcome.error
    assert "pw-secret" not in outcome.error and "pw-secret" not in outcome.target


# -- reports and show -------------------------------------------------------------------------------------
def test_show_refuses_a_report_edited_after_the_audit(tmp_path: Path, capsys) -> None:
    out = tmp_path / "audit-reports" / "m-1-production"
    out.mkdir(parents=True)
    report = {**_result().to_dict(), "audit_id": "A1", "environment": {"audit_log": "../audit_log.jsonl"}}
    text = json.dumps(report)
    (out / "audit_report.json").write_text(text, encoding="utf-8")
    import hashlib

    log = tmp_path / "audit-reports" / "audit_log.jsonl"
    append_record(log, {"audit_id": "A1", "verdict": "BLOCKED", "out_dir": "m-1-production",
                        "reports": {"audit_report.json": hashlib.sha256(text.encode()).hexdigest()}})
    assert cli(["show", str(out), "--plain"]) == 0
    (out / "audit_report.json").write_text(text.replace('"BLOCKED"', '"READY"'), encoding="utf-8")
    capsys.readouterr()
    assert cli(["show", str(out), "--plain"]) == 1
    captured = capsys.readouterr()
    assert "READY FOR" not in captured.out and "edited after the audit" in captured.err
    assert cli(["verify-trail", str(log)]) == 1
    assert "audit_report.json was edited after the audit" in capsys.readouterr().out


def test_verify_trail_checks_signatures_with_the_public_key(tmp_path: Path, capsys) -> None:
    key = Ed25519PrivateKey.generate()
    log = tmp_path / "log.jsonl"
    _trail(log, 2, key)
    pub = tmp_path / "trail.pub"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    assert cli(["verify-trail", str(log), "--public-key", str(pub)]) == 0
    assert "signatures (ed25519:" in capsys.readouterr().out
    other = tmp_path / "other.pub"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert cli(["verify-trail", str(log), "--public-key", str(other)]) == 1
