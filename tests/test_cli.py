# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``release-audit`` console command against a real MLflow store, trail and report files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_approvals import NAME, PEOPLE, make_keys, store_fixture

from pytest_release_audit.cli import main, render_plain
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef
from pytest_release_audit.trail import append_record

LOW_RISK_POLICY = """
[tool.release_audit.approvals.risk]
model_complexity = 1
data_sensitivity = 1
change_magnitude = 1
testing_coverage = 1
rollback_capability = 1
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from store_fixture(tmp_path_factory, "cli-store")


@pytest.fixture
def version(store: dict[str, Any]) -> str:
    return str(store["client"].create_model_version(NAME, store["source"], run_id=store["runs"][0]).version)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory)


def _signed_policy(tmp_path: Path, keys: dict[str, Path]) -> Path:
    policy = tmp_path / "policy.toml"
    signers = keys["_root"] / "signers"
    policy.write_text(LOW_RISK_POLICY + "[tool.release_audit.approvals.signers]\n" + "".join(
        f'{role} = "{signers / f"{role}.allowed_signers"}"\n' for role in PEOPLE), encoding="utf-8")
    return policy


def test_approve_then_list_until_complete(store, version, capsys, tmp_path, keys):
    uri = ["--tracking-uri", store["uri"]]
    policy = str(_signed_policy(tmp_path, keys))
    code, out, err = run(capsys, "approve", f"{NAME}/{version}", "--role", "technical", "--by", PEOPLE["technical"],
                         "--key", str(keys["technical"]), "--policy", policy, *uri)
    assert code == 0 and err == ""
    assert out.startswith(f"recorded: technical approved by {PEOPLE['technical']} on {NAME}/{version} at ")
    assert ", signed, verified against policy [approvals.signers]" in out
    code, out, _ = run(capsys, "approvals", f"{NAME}/{version}", "--target", "staging", "--policy", policy, *uri)
    assert code == 1
    assert f"technical    approved  {PEOPLE['technical']}" in out and "signed" in out
    assert "target staging (risk " in out and "missing: security" in out
    assert f"record with: release-audit approve {NAME}/{version} --role security --by PRINCIPAL --key" in out
    assert f"--key ~/.ssh/id_ed25519 --tracking-uri {store['uri']}" in out  # not the default store: named
    assert out.rstrip().endswith("approvals INCOMPLETE")
    code, *_ = run(capsys, "approve", f"{NAME}/{version}", "--role", "security", "--by", PEOPLE["security"],
                   "--key", str(keys["security"]), "--policy", policy, *uri)
    assert code == 0
    code, out, _ = run(capsys, "approvals", f"{NAME}/{version}", "--target", "staging", "--policy", policy, *uri)
    assert code == 0 and out.rstrip().endswith("approvals complete")


def test_reject_blocks_and_is_listed(store, version, capsys, tmp_path, keys):
    uri = ["--tracking-uri", store["uri"]]
    policy = str(_signed_policy(tmp_path, keys))
    run(capsys, "approve", f"{NAME}/{version}", "--role", "technical", "--by", PEOPLE["technical"],
        "--key", str(keys["technical"]), "--policy", policy, *uri)
    code, out, _ = run(capsys, "approve", f"{NAME}/{version}", "--role", "security", "--by", PEOPLE["security"],
                       "--key", str(keys["security"]), "--reject", "--comment", "open CVE", "--policy", policy, *uri)
    assert code == 0 and f"security rejected by {PEOPLE['security']}" in out
    code, out, _ = run(capsys, "approvals", f"{NAME}/{version}", "--target", "staging", "--policy", policy, *uri)
    assert code == 1 and f"rejected: security by {PEOPLE['security']}" in out and '"open CVE"' in out


def test_approve_verifies_the_signature_before_writing_anything(store, version, capsys, tmp_path, keys):
    """A statement that does not verify would block every later audit: it is never written."""
    policy = str(_signed_policy(tmp_path, keys))
    code, out, err = run(capsys, "approve", f"{NAME}/{version}", "--role", "security", "--by", PEOPLE["security"],
                         "--key", str(keys["technical"]), "--policy", policy, "--tracking-uri", store["uri"])
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "not recorded: signed with a key that is not an allowed signer for role security" in err
    tags = store["client"].get_model_version(NAME, version).tags
    assert not [k for k in tags if k.startswith("release_audit.signed_approval.")]


def test_unsigned_approval_is_labelled_and_counts_only_for_development(store, version, capsys, tmp_path, keys):
    uri = ["--tracking-uri", store["uri"]]
    policy = str(_signed_policy(tmp_path, keys))
    code, out, _ = run(capsys, "approve", f"{NAME}/{version}", "--role", "technical", "--by", "J. Smith",
                       "--policy", policy, *uri)
    assert code == 0 and "UNSIGNED (counts only for development" in out
    code, out, _ = run(capsys, "approvals", f"{NAME}/{version}", "--target", "development", "--policy", policy, *uri)
    assert code == 0 and "UNSIGNED" in out
    code, out, _ = run(capsys, "approvals", f"{NAME}/{version}", "--target", "staging", "--policy", policy, *uri)
    assert code == 1 and "NOT COUNTED" in out and "unsigned" in out


def test_approve_refuses_a_role_the_policy_does_not_name(store, version, capsys, tmp_path, keys):
    code, out, err = run(capsys, "approve", f"{NAME}/{version}", "--role", "qa", "--by", PEOPLE["technical"],
                         "--key", str(keys["technical"]), "--policy", str(_signed_policy(tmp_path, keys)),
                         "--tracking-uri", store["uri"])
    assert code == 2 and out == "" and "'qa' is not a role of the policy" in err and len(err.splitlines()) == 1


def test_alias_resolves_to_its_version(store, version, capsys):
    store["client"].set_registered_model_alias(NAME, "cli-probe", version)
    code, out, _ = run(
        capsys,
        "approve",
        f"{NAME}@cli-probe",
        "--role",
        "technical",
        "--by",
        "J. Smith",
        "--tracking-uri",
        store["uri"],
    )
    assert code == 0 and f"on {NAME}/{version} " in out


def test_tracking_uri_from_environment(store, version, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store["uri"])
    code, out, err = run(capsys, "approve", f"{NAME}/{version}", "--role", "business", "--by", "K. Patel")
    assert code == 0, err
    assert store["client"].get_model_version(NAME, version).tags["release_audit.approval.business"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["approve", NAME, "--role", "technical", "--by", "x"], "names no version"),
        (["approve", f"{NAME}/1", "--role", "tech nical", "--by", "x"], "role 'tech nical' is not valid"),
        (["approve", "nope/1", "--role", "technical", "--by", "x"], "cannot read nope/1"),
        (["approve", f"{NAME}@missing", "--role", "technical", "--by", "x"], "has no alias 'missing'"),
        (["approve", f"{NAME}/1"], "the following arguments are required: --role, --by"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_exit_2(store, capsys, argv, expected):
    code, out, err = run(
        capsys, *argv, *(["--tracking-uri", store["uri"]] if argv[0] == "approve" and len(argv) > 2 else [])
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("release-audit: error: ") and expected in err
    assert "Traceback" not in err


def test_default_store_is_mlflow_db_in_cwd_and_is_not_created(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(capsys, "approve", f"{NAME}/1", "--role", "technical", "--by", "x")
    assert code == 2 and f"no MLflow store at {tmp_path / 'mlflow.db'}" in err
    assert "--tracking-uri" in err and "--audit-tracking-uri" not in err
    assert not (tmp_path / "mlflow.db").exists()


def test_verify_trail_valid_and_broken(capsys, tmp_path):
    path = tmp_path / "audit_log.jsonl"
    for i in range(3):
        append_record(path, {"audit_id": str(i), "verdict": "READY"})
    code, out, _ = run(capsys, "verify-trail", str(path))
    assert code == 0 and out.startswith(f"OK: {path}: 3 record(s) valid (chain, canonical form, report digests)")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[2])
    code, out, _ = run(capsys, "verify-trail", str(path))
    assert code == 1 and out.startswith(f"BROKEN: {path}: record 2 (line 2): prev_hash does not match")
    code, _, err = run(capsys, "verify-trail", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no audit trail at" in err


def _report(tmp_path: Path) -> Path:
    result = AuditResult(
        status="BLOCKED",
        model=ModelRef(name=NAME, version="2", alias="candidate"),
        baseline=ModelRef(name="cl_unimodal_v1", version="1", alias="production"),
        target="production",
        started_at="2026-11-23T10:00:00Z",
        finished_at="2026-11-23T10:01:00Z",
        tool_version="0.1.0",
        checks=(
            CheckResult(
                id="approvals",
                title="Approvals",
                outcome="failed",
                required=True,
                summary="missing approvals for production: business",
            ),
            CheckResult(
                id="pii", title="PII", outcome="passed", required=True, summary="0 findings \x1b[31m[red]markup[/red]"
            ),
            CheckResult(id="calibration", title="Calibration", outcome="skipped", required=False, summary=""),
        ),
        blocking=("approvals",),
        audit_id="a1",
        errors=("baseline not found",),
        environment={"audit_log": "../audit_log.jsonl"},
    )
    path = tmp_path / "out" / "audit_report.json"
    path.parent.mkdir()
    text = json.dumps(result.to_dict())
    path.write_text(text, encoding="utf-8")
    import hashlib

    # The trail record `show` checks the report against (as an audit writes it).
    digest = hashlib.sha256(text.encode()).hexdigest()
    append_record(tmp_path / "audit_log.jsonl", {"audit_id": "a1", "verdict": "BLOCKED", "out_dir": "out",
                                                 "reports": {"audit_report.json": digest}})
    return path


def test_show_plain_is_readable(capsys, tmp_path):
    path = _report(tmp_path)
    code, out, _ = run(capsys, "show", str(path.parent))  # a directory works too
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"AUDIT REPORT: {NAME} v2 (@candidate)  target production")
    assert "Status: BLOCKED (approvals)" in lines
    # Built-in order (pii before approvals), one line per check with outcome and summary.
    pii = next(i for i, line in enumerate(lines) if "pii" in line)
    appr = next(i for i, line in enumerate(lines) if line.strip().startswith("FAIL"))
    assert pii < appr
    assert lines[appr].split()[:2] == ["FAIL", "approvals"]
    assert "missing approvals for production: business" in lines[appr]
    assert any(line.split()[:2] == ["SKIP", "calibration"] and "(optional)" in line for line in lines)
    assert "Blocking: approvals" in lines and "Error: baseline not found" in lines
    assert "\x1b" not in out


def test_show_uses_rich_on_a_terminal_without_interpreting_markup(capsys, tmp_path, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["show", str(_report(tmp_path))]) == 0
    text = tty.getvalue()
    assert "Status: BLOCKED (approvals)" in text and "[red]markup[/red]" in text
    assert "─" in text or "━" in text  # a rich table, not the plain renderer
    assert text != render_plain(json_result(tmp_path / "out" / "audit_report.json"))


def json_result(path: Path) -> AuditResult:
    return AuditResult.from_dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("content", "expected"),
    [("not json", "is not JSON"), ('{"checks": []}', "is not an audit_report.json")],
)
def test_show_rejects_other_files(capsys, tmp_path, content, expected):
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "show", str(path))
    assert code == 2 and expected in err


def test_module_runs_as_a_process_without_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest_release_audit.cli", "verify-trail", str(tmp_path / "none.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("release-audit: error: no audit trail at") and "Traceback" not in done.stderr


def test_approve_hint_names_the_store_only_when_it_is_not_the_default(monkeypatch, tmp_path):
    from pytest_release_audit.approvals import approve_hint

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    default = f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}"
    assert approve_hint("m", 3, "technical", default).endswith("--key ~/.ssh/id_ed25519")
    other = approve_hint("m", 3, "technical", "sqlite:////srv/my store/mlflow.db")
    assert other.endswith("--tracking-uri 'sqlite:////srv/my store/mlflow.db'")
    secret = approve_hint("m", 3, "technical", "https://user:s3cret@mlflow.example.org")
    assert "s3cret" not in secret and "--tracking-uri https://mlflow.example.org" in secret
    assert "demo" not in other + secret
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert "--tracking-uri" not in approve_hint("m", 3, "technical", "http://mlflow:5000")
