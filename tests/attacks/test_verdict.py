# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Attacks on the verdict from what the audit audits: the model's code, project files, options, policy.

Each runs a real audit of the demo's dirty model (PII in its notes, patients in both splits: the
``pii`` and ``leakage`` checks fail) and asserts that the attack changes nothing: BLOCKED, a
non-zero exit, no READY trail record, and the genuine failing checks still named.
"""

from __future__ import annotations

import socket
import threading

import pytest

from .conftest import Attack, assert_blocked, register_evil

pytestmark = pytest.mark.slow
DIRTY = "cl_unimodal_v2_dirty"


def _still_failing(report: dict) -> None:
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert outcomes["pii"] == "failed" and outcomes["leakage"] == "failed", outcomes


@pytest.mark.parametrize("flag", ["--setup-only", "--setup-plan"])
def test_setup_only_runs_are_not_audits(attack: Attack, flag: str) -> None:
    result = attack.run(DIRTY, flag)
    text = result.stdout.str() + result.stderr.str()
    assert result.ret != 0
    assert "no audit verdict was produced" in text or "is an info run" in text
    assert not attack.out.exists() and attack.trail() == []
    assert not attack.promoted()


def test_setup_only_from_addopts_is_not_an_audit(attack: Attack) -> None:
    attack.write("pytest.ini", "[pytest]\naddopts = --setup-only\n")
    result = attack.run(DIRTY)
    assert result.ret != 0
    assert attack.trail() == [] and not attack.promoted()


def test_model_that_patches_the_verdict_patches_only_its_worker(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "PatchesVerdict")
    result = evil.run(name)
    report = assert_blocked(result, evil, "pii")
    _still_failing(report)
    assert {"pii", "leakage"} <= set(report["blocking"])
    assert not any("audit code was modified" in e for e in report["errors"])


def test_model_that_raises_in_load_context_is_one_line(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "Raises")
    result = evil.run(name)
    report = assert_blocked(result, evil, "load_context exploded")
    assert report["checks"][0]  # the reports were written
    assert "Traceback" not in result.stdout.str()


def test_model_that_sleeps_past_the_limit_is_killed(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "Sleeps")
    evil.write("pyproject.toml", evil.policy + "\n[tool.release_audit.model_artifact]\nworker_timeout_s = 5\n")
    result = evil.run(name)
    assert_blocked(result, evil, "did not answer within 5 s")


def test_model_that_crashes_is_one_line_with_its_exit_code(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "Crashes")
    result = evil.run(name)
    assert_blocked(result, evil, "worker process ended (exit code 3)")


def test_model_that_kills_its_launcher_blocks_and_the_audit_goes_on(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "KillsItsLauncher")
    result = evil.run(name)
    report = assert_blocked(result, evil, "worker process ended")
    assert {"pii", "leakage"} <= set(report["blocking"])  # the other checks still ran and judged


def test_model_cannot_open_the_memory_of_any_audit_process(evil: Attack, evil_registry) -> None:
    name = register_evil(evil_registry, DIRTY, "PeeksMemory")
    result = evil.run(name)
    report = assert_blocked(result, evil, "pii")
    assert "audit processes is writable" not in result.stdout.str()
    model_artifact = next(c for c in report["checks"] if c["id"] == "model_artifact")
    assert model_artifact["outcome"] == "passed", model_artifact["summary"]


def test_model_that_opens_a_socket_reaches_nothing(evil: Attack, evil_registry, monkeypatch) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(60)
    received: list[bytes] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    name = register_evil(evil_registry, DIRTY, "OpensSocket", port=server.getsockname()[1])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret-in-ci")
    result = evil.run(name)
    server.close()
    thread.join(5)
    assert received == []
    assert_blocked(result, evil, "Network is unreachable")


def test_model_sees_no_secret_of_the_ci(evil: Attack, evil_registry, monkeypatch) -> None:
    name = register_evil(evil_registry, DIRTY, "ReadsSecrets")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret-in-ci")
    monkeypatch.setenv("RELEASE_AUDIT_TRAIL_KEY", "/keys/trail")
    result = evil.run(name)
    report = assert_blocked(result, evil, "pii")
    assert "secrets visible" not in result.stdout.str()
    model_artifact = next(c for c in report["checks"] if c["id"] == "model_artifact")
    assert model_artifact["outcome"] == "passed", model_artifact["summary"]


def test_project_check_that_copies_ci_secrets_into_its_evidence_leaks_nothing(attack: Attack, monkeypatch,
                                                                               tmp_path) -> None:
    """A project compliance test reads the CI's environment (and the key file it names) and puts it in
    its evidence and summary: every output shows the values masked."""
    token, password = "tok-SUPERSECRET-4242", "s3cret-pass-in-ci"
    key_line = "MC4CAQAwBQYDK2VwBCIEIKeyLineThatMustNotLeak0123"
    key_file = tmp_path / "bundle-key.pem"
    key_file.write_text(f"-----BEGIN PRIVATE KEY-----\n{key_line}\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("RELEASE_AUDIT_ENDPOINT_TOKEN", token)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    monkeypatch.setenv("RELEASE_AUDIT_BUNDLE_KEY", str(key_file))
    attack.write("tests/test_env_snapshot.py", """
        import os
        from pytest_release_audit import compliance

        @compliance("env_snapshot", title="Environment snapshot", severity="optional")
        def test_env(audit_evidence):
            secrets = {k: v for k, v in os.environ.items() if "TOKEN" in k or "PASSWORD" in k}
            with open(os.environ["RELEASE_AUDIT_BUNDLE_KEY"]) as fh:
                secrets["key"] = fh.read()
            audit_evidence["env"] = secrets
            audit_evidence.summary = " ".join(secrets.values())
    """)
    result = attack.run(DIRTY)
    report = assert_blocked(result, attack, "pii")
    snapshot = next(c for c in report["checks"] if c["id"] == "env_snapshot")
    assert "[redacted RELEASE_AUDIT_ENDPOINT_TOKEN]" in snapshot["summary"], snapshot["summary"]
    outputs = [p for p in attack.out.rglob("*") if p.is_file()] + [attack.pytester.path / "audit-reports"]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in outputs if p.is_file()]
    assert len(texts) >= 5
    for secret in (token, password, key_line):
        assert not any(secret in text for text in texts), secret


def test_unmarked_project_test_that_patches_scanners_changes_nothing(attack: Attack) -> None:
    attack.write("tests/test_sneaky.py", """
        import pytest_release_audit.scanners.pii as pii
        import pytest_release_audit.scanners.leakage as leakage

        def test_patch():
            pii.scan_dataframe = lambda *a, **k: None
            leakage.find_id_overlap = lambda *a, **k: None
    """)
    report = assert_blocked(attack.run(DIRTY), attack, "pii")
    _still_failing(report)


def test_conftest_that_patches_scanners_at_import_changes_nothing(attack: Attack) -> None:
    attack.write("conftest.py", """
        import pytest_release_audit.scanners.pii as pii
        pii.scan_dataframe = lambda *a, **k: None
    """)
    report = assert_blocked(attack.run(DIRTY), attack, "pii")
    _still_failing(report)


def test_conftest_that_swaps_a_presidio_class_changes_nothing(attack: Attack) -> None:
    attack.write("conftest.py", """
        import sys, types
        fake = types.ModuleType("presidio_analyzer")
        class AnalyzerEngine:
            def analyze(self, *a, **k):
                return []
        fake.AnalyzerEngine = AnalyzerEngine
        sys.modules["presidio_analyzer"] = fake
    """)
    report = assert_blocked(attack.run(DIRTY), attack, "pii")
    _still_failing(report)


def test_conftest_that_drops_builtin_checks_and_fakes_them_is_blocked(attack: Attack) -> None:
    attack.write("conftest.py", """
        def pytest_collection_modifyitems(items):
            items[:] = [i for i in items if "test_pii" not in i.nodeid and "test_leakage" not in i.nodeid]
    """)
    attack.write("tests/test_fake.py", """
        import pytest

        @pytest.mark.compliance("pii")
        def test_fake_pii():
            pass

        @pytest.mark.compliance("leakage")
        def test_fake_leakage():
            pass
    """)
    report = assert_blocked(attack.run(DIRTY), attack, "is reserved for the built-in check")
    _still_failing(report)


def test_conftest_hookwrapper_that_patches_the_verdict_is_detected(attack: Attack) -> None:
    attack.write("conftest.py", """
        import pytest

        @pytest.hookimpl(hookwrapper=True)
        def pytest_sessionfinish(session):
            import pytest_release_audit.report.build as build
            build.blocking_ids = lambda results: []
            yield
    """)
    report = assert_blocked(attack.run(DIRTY), attack, "audit code was modified during the run")
    assert any("blocking_ids" in e for e in report["errors"])


@pytest.mark.parametrize("how", [["-k", "not risk"], ["--deselect", "tests/test_required.py::test_required"]])
def test_required_user_check_dropped_by_an_option_is_blocked(attack: Attack, how: list[str]) -> None:
    attack.write("tests/test_required.py", """
        import pytest

        @pytest.mark.compliance("risk_review", severity="required")
        def test_required():
            assert False, "the risk review failed"
    """)
    args = how if how[0] != "-k" else ["-k", "not test_required"]
    result = attack.run("cl_unimodal_v2", *args)
    report = assert_blocked(result, attack, "partial run")
    assert report["partial"]


def test_required_user_check_ignored_by_path_is_named(attack: Attack) -> None:
    attack.set_policy('required_checks = ["risk_review"]')
    attack.write("tests/test_required.py", """
        import pytest

        @pytest.mark.compliance("risk_review")
        def test_required():
            assert False
    """)
    result = attack.run("cl_unimodal_v2", "--ignore=tests/test_required.py")
    report = assert_blocked(result, attack, "risk_review")
    check = next(c for c in report["checks"] if c["id"] == "risk_review")
    assert check["outcome"] == "error" and "did not run" in check["summary"]


def test_policy_cannot_make_builtin_checks_optional_for_production(attack: Attack) -> None:
    attack.set_policy('required_checks = []\noptional_checks = ["pii", "leakage"]')
    report = assert_blocked(attack.run(DIRTY), attack, "pii")
    assert {"pii", "leakage"} <= set(report["blocking"])
    assert any("not applied for production" in r for r in report["policy"]["relaxations"])


@pytest.mark.parametrize("severity", ["Required", "requried"])
def test_marker_severity_typo_is_a_collection_error(attack: Attack, severity: str) -> None:
    attack.write("tests/test_typo.py", f"""
        import pytest

        @pytest.mark.compliance("risk_review", severity="{severity}")
        def test_typo():
            assert False
    """)
    assert_blocked(attack.run("cl_unimodal_v2"), attack, "is not one of required, optional")


@pytest.mark.parametrize("option", ["python_files=check_*.py", "python_functions=check_*"])
def test_builtin_suite_is_collected_whatever_the_project_configures(attack: Attack, option: str) -> None:
    result = attack.run(DIRTY, "-o", option)
    report = assert_blocked(result, attack, "pii")
    _still_failing(report)
    assert len([c for c in report["checks"] if c["outcome"] != "error"]) >= 14


def test_session_end_hooks_in_a_conftest_cannot_forge_the_verdict_or_the_card(attack: Attack) -> None:
    attack.write("conftest.py", """
        def _forge(result):
            object.__setattr__(result, "status", "READY")
            object.__setattr__(result, "blocking", ())
            for check in result.checks:
                object.__setattr__(check, "outcome", "passed")
                check.evidence.clear()

        def pytest_release_audit_model_card_context(result, context):
            _forge(result)
            context["status"]["line"] = "READY FOR PRODUCTION (forged)"
            for row in context["checklist"]:
                row["status"] = "Passed (forged)"
            context["extra_sections"].append({"title": "Intended Use", "body": "Research only."})

        def pytest_release_audit_notify(result, url):
            _forge(result)
            return True

        def pytest_release_audit_report_written(result, paths):
            _forge(result)
    """)
    result = attack.run(DIRTY, "--audit-notify=http://127.0.0.1:9/hook")
    report = assert_blocked(result, attack, "pii")
    _still_failing(report)
    assert report["blocking"] and all(c["evidence"] for c in report["checks"] if c["id"] in ("pii", "leakage"))
    card = (attack.out / "model_card.md").read_text(encoding="utf-8")
    assert "## Intended Use" in card  # the hook ran: only the section it added is used
    assert "forged" not in card and "BLOCKED" in card
    assert attack.trail()[-1]["verdict"] == "BLOCKED"
