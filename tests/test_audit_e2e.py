# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""End to end: real MLflow registries, the plugin run through pytester, verdicts and reports."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _no_traceback(result: pytest.RunResult) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback (most recent call last)" not in text
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_ready_when_every_check_passes(audit):
    result = audit.run("cl_unimodal_v2")
    report = audit.report()
    failing = {c["id"]: c["summary"] for c in report["checks"] if c["outcome"] != "passed"}
    assert report["status"] == "READY", failing
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*AUDIT REPORT: cl_unimodal_v2 v1 (@candidate)*", "Status: READY FOR PRODUCTION"])
    for name in ("audit_report.json", "audit_report.md", "audit_report.html", "junit-audit.xml", "model_card.md"):
        assert (audit.out_dir / name).is_file(), name


def test_report_json_has_the_schema_keys(audit):
    audit.run("cl_unimodal_v2")
    report = audit.report()
    assert report["schema_version"] == 1
    for key in ("status", "model", "baseline", "target", "started_at", "finished_at", "tool_version", "checks",
                "blocking", "environment"):
        assert key in report, key
    assert set(report["model"]) >= {"name", "version", "alias", "run_id", "uri"}
    assert report["baseline"]["name"] == "cl_unimodal_v1"
    for check in report["checks"]:
        assert set(check) >= {"id", "title", "outcome", "required", "controls", "summary", "evidence", "nodeid",
                              "duration_s"}
    ids = [c["id"] for c in report["checks"]]
    assert len(ids) == len(set(ids)), "each check appears exactly once"
    for builtin in ("lineage", "data_integrity", "evaluation_artifacts", "signature"):
        assert builtin in ids


def test_junit_has_one_testcase_per_check(audit):
    audit.run("cl_unimodal_v2")
    report = audit.report()
    root = ET.parse(audit.out_dir / "junit-audit.xml").getroot()
    cases = root.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == sorted(c["id"] for c in report["checks"])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("no_such_model", "*model 'no_such_model' is not in the registry*registered models: *cl_unimodal_v2*"),
        ("cl_unimodal_v2@nope", "*model 'cl_unimodal_v2' has no alias 'nope' (aliases: @candidate (v1))*"),
        ("cl_unimodal_v2/7", "*model 'cl_unimodal_v2' has no version 7 (versions: 1)*"),
        ("cl_unimodal_v2@", "*--audit-model 'cl_unimodal_v2@': bad alias*"),
    ],
)
def test_blocked_with_one_line_when_the_model_spec_is_wrong(audit, spec, expected):
    result = audit.run(spec)
    assert result.ret != 0
    result.stdout.fnmatch_lines([expected, "Status: BLOCKED*"])
    _no_traceback(result)
    assert audit.report()["status"] == "BLOCKED"
    assert audit.report()["errors"]


def test_blocked_when_the_store_is_unreachable(pytester, demo_registry):
    from conftest import Audit

    audit = Audit(pytester, demo_registry)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = pytester.runpytest("--audit-model=cl_unimodal_v2", f"--audit-tracking-uri=http://127.0.0.1:{port}",
                                f"--audit-out={audit.out_dir}", "-p", "no:cacheprovider")
    assert time.monotonic() - started < 60
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"*cannot read the MLflow registry at http://127.0.0.1:{port}*", "Status: BLOCKED*"])
    _no_traceback(result)


def test_blocked_when_the_sqlite_store_is_corrupt(pytester, demo_registry, tmp_path):
    from conftest import Audit

    audit = Audit(pytester, demo_registry)
    bad = tmp_path / "mlflow.db"
    bad.write_bytes(b"this is not a database" * 10)
    result = pytester.runpytest("--audit-model=cl_unimodal_v2", f"--audit-tracking-uri=sqlite:///{bad}",
                                f"--audit-out={audit.out_dir}", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*is not an SQLite database*", "Status: BLOCKED*"])
    assert bad.read_bytes() == b"this is not a database" * 10, "the store must not be modified"
    _no_traceback(result)


def test_a_missing_store_stops_at_session_start_before_the_users_suite(pytester):
    pytester.makefile(".toml", pyproject="[tool.release_audit]\n")
    pytester.makepyfile(test_user="def test_slow():\n    raise SystemExit('the user suite ran')\n")
    result = pytester.runpytest_subprocess("--audit-model=anything", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "release-audit" in line]
    assert len(errors) == 1, result.stderr.lines
    assert "no MLflow store at" in errors[0] and "mlflow.db in the rootdir" in errors[0]
    assert "--audit-tracking-uri=URI" in errors[0] and "demo" not in errors[0]  # not the demo project
    assert "the user suite ran" not in result.stdout.str() + result.stderr.str()
    assert "collected" not in result.stdout.str()
    assert not (pytester.path / "mlflow.db").exists(), "the audit must not create an empty store"
    _no_traceback(result)


def test_a_missing_store_in_the_demo_project_says_to_build_the_demo(pytester):
    pytester.makefile(".py", build_demo="")
    (pytester.path / "training_code").mkdir()
    result = pytester.runpytest_subprocess("--audit-model=cl_unimodal_v2", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no MLflow store at*: build the demo registry first: python3 build_demo.py"])


def test_no_policy_is_a_notice_and_the_defaults_apply(pytester):
    with socket.socket() as sock:  # a port nobody listens on: the registry fails at once, named
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = pytester.runpytest_subprocess("--audit-model=m", f"--audit-tracking-uri=http://127.0.0.1:{port}",
                                           "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["release-audit: no policy ([[]tool.release_audit] in *pyproject.toml or "
                                 "--audit-policy): the built-in defaults apply*", "*Status: BLOCKED*"])


def test_blocked_when_the_version_has_no_source_run(fresh_audit):
    from mlflow import MlflowClient

    client = MlflowClient(fresh_audit.uri, fresh_audit.uri)
    client.create_registered_model("orphan")
    client.create_model_version("orphan", source=(fresh_audit.registry / "mlartifacts").as_uri())
    result = fresh_audit.run("orphan")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*model 'orphan' v1 has no source run*", "Status: BLOCKED*"])
    _no_traceback(result)


def test_blocked_when_a_dataset_was_edited_after_training(fresh_audit):
    path = fresh_audit.registry / "data" / "mm_fusion_v1_eval.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[5].split(",")
    age = cells.index(next(c for c in cells[3:] if c.isdigit()))
    cells[age] = str(int(cells[age]) + 1)
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = fresh_audit.run("cl_unimodal_v2", "--audit-checks=lineage,data_integrity")
    assert result.ret != 0
    check = {c["id"]: c for c in fresh_audit.report()["checks"]}["data_integrity"]
    assert check["outcome"] == "failed"
    assert "mm_fusion_v1_eval" in check["summary"] and "changed since training" in check["summary"]


def test_blocked_when_a_dataset_source_is_missing(fresh_audit):
    (fresh_audit.registry / "data" / "mm_fusion_v1_train.csv").unlink()
    result = fresh_audit.run("cl_unimodal_v2")
    assert result.ret != 0
    outcomes = fresh_audit.outcomes()
    assert outcomes["data_integrity"] == "error"
    result.stdout.fnmatch_lines(["*mm_fusion_v1_train* source *does not exist*"])
    _no_traceback(result)


def test_user_compliance_test_joins_and_blocks_when_it_fails(audit):
    audit.pytester.makepyfile(
        test_user_check="""
        import pytest

        @pytest.mark.compliance("calibration", title="Calibration error below 0.05", controls=["SR11-7:x"])
        def test_calibration(audit_model, audit_evidence):
            audit_evidence["ece"] = 0.2
            assert 0.2 < 0.05, "ECE 0.200 above the 0.05 limit"

        def test_ordinary():
            assert True
        """
    )
    result = audit.run("cl_unimodal_v2", "test_user_check.py")
    assert result.ret != 0
    report = audit.report()
    check = {c["id"]: c for c in report["checks"]}["calibration"]
    assert check["outcome"] == "failed"
    assert check["summary"] == "ECE 0.200 above the 0.05 limit"
    assert check["evidence"] == {"ece": 0.2}
    assert check["controls"] == ["SR11-7:x"]
    assert "calibration" in report["blocking"]


def test_audit_only_deselects_ordinary_tests(audit):
    audit.pytester.makepyfile(test_plain="def test_ordinary():\n    assert True\n")
    result = audit.run("cl_unimodal_v2", "test_plain.py", "--audit-only")
    result.stdout.no_fnmatch_line("*test_plain.py*PASSED*")
    assert "deselected" in result.stdout.str()


def test_deselecting_a_compliance_check_is_a_partial_run(audit):
    audit.pytester.makepyfile(test_user_check="""
        import pytest

        @pytest.mark.compliance("calibration")
        def test_calibration():
            pass
    """)
    result = audit.run("cl_unimodal_v2", "test_user_check.py", "-k", "not calibration")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["Status: BLOCKED (partial run: compliance checks deselected (calibration))*"])
    report = audit.report()
    assert report["partial"] and (audit.out_dir / "partial" / "audit_report.json").is_file()
    check = {c["id"]: c for c in report["checks"]}["calibration"]
    assert check["outcome"] == "error" and "deselected" in check["summary"]


def test_builtin_checks_are_not_deselected_by_the_users_options(audit):
    result = audit.run("cl_unimodal_v2", "-k", "not pii")
    assert result.ret == 0
    check = {c["id"]: c for c in audit.report()["checks"]}["pii"]
    assert check["outcome"] == "passed"


def test_waiver_turns_a_failure_into_waived_until_it_expires(audit):
    audit.pytester.makepyfile(
        test_user_check="""
        import pytest

        @pytest.mark.compliance("calibration")
        def test_calibration(audit_model):
            assert False, "ECE too high"
        """
    )
    policy = audit.pytester.path / "pyproject.toml"
    base = policy.read_text(encoding="utf-8")
    policy.write_text(base + '\n[[tool.release_audit.waivers]]\nid = "calibration"\nreason = "recalibration '
                      'scheduled"\napprover = "K. Patel"\nexpires = 2999-01-01T00:00:00Z\n', encoding="utf-8")
    audit.run("cl_unimodal_v2", "test_user_check.py")
    check = {c["id"]: c for c in audit.report()["checks"]}["calibration"]
    assert check["outcome"] == "waived" and check["waiver"]["approver"] == "K. Patel"
    policy.write_text(base + '\n[[tool.release_audit.waivers]]\nid = "calibration"\nreason = "old"\n'
                      'approver = "K. Patel"\nexpires = 2020-01-01T00:00:00Z\n', encoding="utf-8")
    audit.run("cl_unimodal_v2", "test_user_check.py")
    check = {c["id"]: c for c in audit.report()["checks"]}["calibration"]
    assert check["outcome"] == "failed" and "waiver expired 2020-01-01T00:00:00Z" in check["summary"]
    assert "calibration" in audit.report()["blocking"]


def test_blocked_with_one_line_when_the_policy_is_invalid(audit):
    policy = audit.pytester.path / "pyproject.toml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\n[tool.release_audit.pii.nonsense]\nx = 1\n",
                      encoding="utf-8")
    result = audit.run("cl_unimodal_v2")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*unknown policy key 'pii.nonsense'*", "Status: BLOCKED*"])
    _no_traceback(result)


def test_reports_of_a_previous_audit_survive_an_unwritable_out_dir(audit, tmp_path):
    audit.run("cl_unimodal_v2")
    before = (audit.out_dir / "audit_report.json").read_bytes()
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        result = audit.pytester.runpytest("--audit-model=cl_unimodal_v2", f"--audit-tracking-uri={audit.uri}",
                                          f"--audit-out={readonly / 'reports'}", "-p", "no:cacheprovider")
    finally:
        readonly.chmod(0o700)
    if Path(readonly / "reports").exists():
        pytest.skip("running as a user who can write to read-only directories")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cannot write reports to *reports*pass a writable --audit-out*"])
    assert (audit.out_dir / "audit_report.json").read_bytes() == before


def test_your_tests_read_only_the_dataset_they_ask_for_and_a_broken_one_still_blocks(fresh_audit):
    """A project test on the evaluation data does not wait for (or fail on) the raw table, which
    only the built-in checks need; those still read every logged dataset and block on a broken one."""
    raw = fresh_audit.registry / "data" / "mm_curated_q225.csv"
    assert raw.is_file()
    raw.write_bytes(b"\xff\xfe\x00 not a table")
    fresh_audit.pytester.makepyfile(test_eval_rows="""
        import pytest

        @pytest.mark.compliance("eval_rows")
        def test_eval_rows(audit_evaluation_data):
            assert len(audit_evaluation_data.df) > 0 and audit_evaluation_data.digest_check.match
    """)
    result = fresh_audit.run("cl_unimodal_v2", "test_eval_rows.py")
    checks = {c["id"]: c for c in fresh_audit.report()["checks"]}
    assert checks["eval_rows"]["outcome"] == "passed"
    assert checks["data_integrity"]["outcome"] in ("failed", "error")
    assert "mm_curated_q225" in checks["data_integrity"]["summary"]
    assert result.ret != 0
    result.stdout.fnmatch_lines(["Status: BLOCKED*"])
