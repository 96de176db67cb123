# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The fault-injection matrix: one real fault per case, and the audit must fail closed.

Each case audits a real MLflow registry (see ``conftest.py``) with exactly one fault and asserts:
the verdict is BLOCKED (or the audit stops with a clean error before any check runs), the exit
code is non-zero, a terminal line states the fault, no traceback reaches the terminal, and the
reports and audit trail of a previous good audit in the same directories survive intact. The
matrix with the expected outcome of every case is in ``README.md`` next to this file.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .factory import (
    FAST_CHECKS,
    Runner,
    assert_no_traceback,
    closed_port,
    fault_lines,
    only_checks,
    policy_text,
)

pytestmark = pytest.mark.slow

USER_CHECK = """
import pytest

@pytest.mark.compliance("calibration", title="Calibration error below 0.05", controls=["SR11-7:x"])
def test_calibration(audit_model, audit_evidence):
    {body}
"""


@dataclass(frozen=True)
class Fault:
    """One row of the matrix."""

    id: str
    model: str
    line: str  # fnmatch pattern of the terminal line that names the fault
    blocks: dict[str, str] = field(default_factory=dict)  # check id -> its outcome ("failed"/"error")
    checks: tuple[str, ...] | None = FAST_CHECKS  # None: a full run (every built-in check)
    inject: Callable[[Runner], dict[str, Any]] | None = None  # returns run() overrides
    setup_error: bool = False  # the audit stops before any check runs (no check may pass)
    in_errors: bool = False  # the fault is listed under the report's "errors" (implied by setup_error)
    reports_written: bool = True  # False: nothing may be written (previous reports stay byte-identical)
    skip_if: Callable[[Runner], str | None] | None = None


# -- injections (each returns keyword overrides for Runner.run) -----------------------------------------
def unreachable_store(run: Runner) -> dict[str, Any]:
    return {"uri": f"http://127.0.0.1:{closed_port()}"}


def corrupt_sqlite(run: Runner) -> dict[str, Any]:
    """A copy of the real store with its header intact and the pages after it overwritten."""
    damaged = run.pytester.path / "damaged" / "mlflow.db"
    damaged.parent.mkdir()
    shutil.copy2(run.world.db, damaged)
    with damaged.open("r+b") as fh:
        fh.seek(100)  # keep the 100-byte SQLite header: the file still claims to be a database
        fh.write(b"\xde\xad\xbe\xef" * 4096)
    run.facts["damaged"] = damaged.read_bytes()
    return {"uri": f"sqlite:///{damaged}"}


def _policy(extra: str) -> Callable[[Runner], dict[str, Any]]:
    def inject(run: Runner) -> dict[str, Any]:
        run.pytester.makefile(".toml", pyproject=policy_text(extra, run.world.root / "signers"))
        return {}

    return inject


def _raw_policy(text: str) -> Callable[[Runner], dict[str, Any]]:
    def inject(run: Runner) -> dict[str, Any]:
        path = run.pytester.path / "pyproject.toml"
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
        return {}

    return inject


def _user_check(body: str, *extra_args: str, policy: str = "") -> Callable[[Runner], dict[str, Any]]:
    def inject(run: Runner) -> dict[str, Any]:
        run.pytester.makepyfile(test_user_check=USER_CHECK.format(body=body))
        run.policy(extra=policy)
        return {"args": ("test_user_check.py", *extra_args)}

    return inject


def policy_file(text: str) -> Callable[[Runner], dict[str, Any]]:
    def inject(run: Runner) -> dict[str, Any]:
        (run.pytester.path / "release-policy.toml").write_text(text, encoding="utf-8")
        return {"args": ("--audit-policy=release-policy.toml",)}

    return inject


def collection_error(run: Runner) -> dict[str, Any]:
    run.pytester.makepyfile(test_user_check="""
        import pytest
        from audit_helpers import expected_calibration_error  # the helper module was never committed

        @pytest.mark.compliance("calibration")
        def test_calibration(audit_model):
            assert expected_calibration_error(audit_model) < 0.05
        """)
    return {"args": ("test_user_check.py",)}


def deselect_with_k(run: Runner) -> dict[str, Any]:
    run.pytester.makepyfile(test_user_check=USER_CHECK.format(body="pass"))
    return {"args": ("test_user_check.py", "-k", "not test_calibration")}


def unwritable_out(run: Runner) -> dict[str, Any]:
    """The previous audit's out dir made read-only; as root (who writes anyway), a path under a file."""
    run.out.chmod(0o500)
    run.facts["restore"] = lambda: run.out.chmod(0o700)
    if not os.access(run.out, os.W_OK):
        return {}
    run.out.chmod(0o700)
    blocker = run.pytester.path / "reports-are-a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    return {"out": blocker / "reports"}


def unreadable_skip(run: Runner) -> str | None:
    path = run.world.facts["unreadable"]
    if os.access(path, os.R_OK):
        return f"running as a user who can read a chmod 000 file ({path.name}): permissions cannot be tested"
    return None


IS_NOT_IN = "*model 'no_such_model' is not in the registry*registered models: *clean_clf*"
FAULTS = [
    # -- the registry ---------------------------------------------------------------------------------
    Fault("missing model", "no_such_model", IS_NOT_IN, setup_error=True, checks=None),
    Fault("missing alias", "clean_clf@nope", "*model 'clean_clf' has no alias 'nope' (aliases: @candidate (v1))*",
          setup_error=True),
    Fault("missing version", "clean_clf/9", "*model 'clean_clf' has no version 9 (versions: 1)*", setup_error=True),
    Fault("tracking store unreachable", "clean_clf", "*cannot read the MLflow registry at http://127.0.0.1:*",
          inject=unreachable_store, setup_error=True),
    Fault("corrupt SQLite file", "clean_clf", "*cannot read the MLflow registry at sqlite:///*damaged*",
          inject=corrupt_sqlite, setup_error=True),
    Fault("version without source run", "f_no_run", "*model 'f_no_run' v1 has no source run*", setup_error=True),
    # -- the data -------------------------------------------------------------------------------------
    Fault("dataset source missing", "f_src_missing",
          "*dataset 'f_src_missing_train' (training) source *train.csv does not exist*",
          {"lineage": "error", "data_integrity": "error", "signature": "error"}, checks=None),
    Fault("dataset source unreadable", "f_src_unreadable", "*f_src_unreadable_train*permission denied*",
          {"data_integrity": "error"}, skip_if=unreadable_skip),
    Fault("dataset not CSV/Parquet", "f_not_csv", "*dataset 'f_not_csv_eval' (evaluation): eval.json is neither CSV "
          "nor Parquet*", {"data_integrity": "error", "performance_gate": "error"}),
    Fault("digest mismatch (first rows)", "f_digest_head",
          "*dataset 'f_digest_head_eval' (evaluation) changed since training: sha256 of eval.csv*MLflow digest*",
          {"data_integrity": "failed"}),
    Fault("digest mismatch (row 15,000)", "f_digest_15k",
          "*dataset 'f_digest_15k_train' (training) changed since training: sha256 of train.csv is *",
          {"data_integrity": "failed"}),
    Fault("empty dataset (header only)", "f_empty", "*dataset 'f_empty_eval' (evaluation) is empty: 0 rows*",
          {"data_integrity": "failed"}),
    Fault("non-UTF-8 bytes in a text column", "f_latin1", "*f_latin1_eval*is not UTF-8 text*re-export it as UTF-8*",
          {"data_integrity": "error"}),
    Fault("NaN in duration/event columns", "f_nan_outcome", "*f_nan_outcome_eval*NaN*",
          {"performance_gate": "failed"}),
    Fault("all samples censored", "f_all_censored", "*C-index*undefined*", {"performance_gate": "failed"}),
    Fault("single-class labels", "f_single_class", "*ROC AUC*undefined*", {"performance_gate": "failed"}),
    Fault("evaluation data drifted from training", "f_drift",
          "*Drift: evaluation vs training: 1 of 4 features drifted (f1 PSI *; alarm PSI 0.2)*retrain on current data*",
          {"drift": "failed"}, checks=("drift",)),
    # -- the models -----------------------------------------------------------------------------------
    Fault("model predict raises", "f_predict_raises",
          "*model f_predict_raises v1 failed to predict (RuntimeError: scoring backend unavailable)*",
          {"performance_gate": "error"}, checks=None),
    Fault("model returns NaN", "f_returns_nan", "*model f_returns_nan v1 returned 200 NaN/inf scores out of 200*",
          {"performance_gate": "error", "bias": "error"}),
    Fault("baseline unloadable", "f_baseline_gone",
          "*baseline f_baseline_gone v1 could not be scored*model f_baseline_gone v1 was not loaded: its artifacts "
          "have no MLmodel file*",
          {"performance_gate": "failed"}),
    # -- the policy -----------------------------------------------------------------------------------
    Fault("policy TOML syntax error (--audit-policy)", "clean_clf",
          "*policy file *release-policy.toml is not valid TOML: *(at line 2, column *",
          inject=policy_file('target = "production"\n[bias\nmin_n = 3\n'), setup_error=True),
    # pytest itself reads pyproject.toml first: its own one-line error, exit 4, nothing written
    Fault("policy TOML syntax error (pyproject.toml)", "clean_clf",
          "ERROR: *pyproject.toml: Expected ']' at the end of a table declaration (at line *",
          inject=_raw_policy("\n[tool.release_audit.promotion\nalias = 'x'\n"), reports_written=False),
    Fault("unknown policy key", "clean_clf", "*unknown policy key 'models.clean_clf.bias.min_samples'*",
          inject=_policy("[tool.release_audit.models.clean_clf.bias]\nmin_samples = 3\n"), setup_error=True,
          checks=None),
    Fault("wrong policy type", "clean_clf",
          "*policy key 'models.clean_clf.performance.n_bootstrap' must be an integer, got '200'*",
          inject=_raw_policy("\n[tool.release_audit.models.clean_clf.performance]\nn_bootstrap = '200'\n"),
          setup_error=True),
    Fault("expired waiver", "clean_clf", "*ECE 0.200 above the 0.05 limit (waiver expired 2020-01-31T00:00:00Z*",
          {"calibration": "failed"},
          inject=_user_check('assert 0.2 < 0.05, "ECE 0.200 above the 0.05 limit"', policy=(
              '[[tool.release_audit.waivers]]\nid = "calibration"\nreason = "recalibration scheduled"\n'
              'approver = "K. Patel"\nexpires = 2020-01-31T00:00:00Z\n'))),
    # -- the run --------------------------------------------------------------------------------------
    Fault("a check raises", "clean_clf", "*RuntimeError: calibration service returned HTTP 503*",
          {"calibration": "failed"}, inject=_user_check('raise RuntimeError("calibration service returned HTTP 503")')),
    Fault("collection error in a user compliance module", "clean_clf",
          "*collection error in test_user_check.py*No module named 'audit_helpers'*", inject=collection_error),
    Fault("required check deselected with -k", "clean_clf",
          "*Status: BLOCKED (partial run:*compliance checks deselected (calibration)*",
          {"calibration": "error"}, inject=deselect_with_k),
    Fault("xdist worker dies mid-run", "clean_clf", "*test_user_check.py::test_calibration*crashed*", in_errors=True,
          inject=_user_check("import os\n    os._exit(1)", "-n", "2", "-p", "xdist"), checks=None),
    Fault("--audit-out not writable", "clean_clf", "*cannot write reports to *pass a writable --audit-out*",
          inject=unwritable_out, reports_written=False),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id.replace(" ", "-") for f in FAULTS])
def test_fault_fails_closed(runner: Runner, fault: Fault) -> None:
    if fault.skip_if is not None and (reason := fault.skip_if(runner)):
        pytest.skip(reason)
    overrides = fault.inject(runner) if fault.inject else {}
    args = list(overrides.get("args", ()))
    if fault.checks is not None:
        args += only_checks(fault.checks)
    try:
        result = runner.run(fault.model, *args, uri=overrides.get("uri"), out=overrides.get("out"))
    finally:
        restore = runner.facts.pop("restore", None)
        if restore:
            restore()

    assert result.ret != 0, "a fault must give a non-zero exit code"
    assert_no_traceback(result)
    named = fault_lines(result, fault.line)
    assert named, f"no terminal line matches {fault.line!r}:\n" + result.stdout.str()[-4000:]
    if not fault.reports_written:
        runner.assert_previous_intact(reports_rewritten=False)
        return
    result.stdout.fnmatch_lines(["Status: BLOCKED*"])
    report = runner.report()
    assert report["status"] == "BLOCKED"
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    for check_id, outcome in fault.blocks.items():
        assert outcomes.get(check_id) == outcome, (check_id, outcomes)
        assert check_id in report["blocking"]
    if fault.setup_error or fault.in_errors:
        assert any(fnmatch.fnmatch(e, fault.line) for e in report["errors"]), report["errors"]
    if fault.setup_error:
        assert all(c["outcome"] != "passed" for c in report["checks"]), "no check may pass without a model"
    runner.assert_previous_intact()
    if "damaged" in runner.facts:
        damaged = Path(overrides["uri"].removeprefix("sqlite:///"))
        assert damaged.read_bytes() == runner.facts["damaged"], "the audit must not modify a damaged store"


def test_a_damaged_previous_set_is_replaced_whole(runner: Runner) -> None:
    """A directory where the previous set's audit_report.md was: the new set replaces the old one whole."""
    (runner.out / "audit_report.md").unlink()
    (runner.out / "audit_report.md").mkdir()
    result = runner.run("clean_clf")
    assert_no_traceback(result)
    assert runner.report()["status"] == "READY", runner.report()["errors"]
    assert (runner.out / "audit_report.md").is_file()
    from pytest_release_audit.trail import verify_trail

    trail = runner.trail.read_bytes()
    assert trail.startswith(runner.previous_trail) and verify_trail(runner.trail).ok


def test_row_15000_edit_keeps_the_mlflow_digest_but_is_blocked(runner: Runner) -> None:
    """MLflow's digest covers only the first 10,000 rows: it is really unchanged, ours is not."""
    import pandas as pd

    from pytest_release_audit.digests import mlflow_digest

    facts = runner.world.facts
    edited = pd.read_csv(facts["digest_15k_path"], float_precision="round_trip")
    assert len(edited) == 20_000
    before, after = facts["digest_15k_edit"]
    assert before != after and str(edited.loc[15_000, "age"]) == after
    assert mlflow_digest(edited) == facts["digest_15k_logged"], "the edit must be invisible to MLflow's digest"
    runner.run("f_digest_15k", *only_checks(["data_integrity"]))
    check = {c["id"]: c for c in runner.report()["checks"]}["data_integrity"]
    assert check["outcome"] == "failed"
    digests = {d["kind"]: d for row in check["evidence"]["datasets"] if row["name"] == "f_digest_15k_train"
               for d in row["digests"]}
    assert digests["mlflow_digest"]["match"] is True
    assert digests["file_sha256"]["match"] is False


def test_control_clean_models_pass_the_fast_selection(runner: Runner) -> None:
    """Without a fault every check of the fast selection passes, so every failure above is the fault's doing.

    (A selection is a partial run: BLOCKED for that reason alone, and never READY.)
    """
    for model in ("clean_clf", "clean_surv"):
        result = runner.run(model, *only_checks(FAST_CHECKS))
        report = runner.report()
        selected = {c["id"]: c["summary"] for c in report["checks"] if c["id"] in FAST_CHECKS}
        assert all(c["outcome"] == "passed" for c in report["checks"] if c["id"] in FAST_CHECKS), selected
        assert report["partial"] and result.ret != 0


def test_control_clean_model_is_ready_with_every_check(runner: Runner) -> None:
    """The full built-in suite on the clean classifier is READY (the full-run faults' control)."""
    runner.policy()
    result = runner.run("clean_clf")
    report = runner.report()
    assert report["status"] == "READY", {c["id"]: c["summary"] for c in report["checks"] if c["outcome"] != "passed"}
    assert result.ret == 0


def test_notify_url_down_does_not_block(runner: Runner) -> None:
    """A failed notification is a note; the verdict and exit code stay those of the checks."""
    port = closed_port()
    result = runner.run("clean_clf", f"--audit-notify=http://127.0.0.1:{port}/hook")
    report = runner.report()
    assert report["status"] == "READY", {c["id"]: c["summary"] for c in report["checks"]}
    assert result.ret == 0
    assert "notify" not in report["blocking"] and not report["errors"]
    lines = fault_lines(result, f"*note: notification to http://127.0.0.1:{port}* failed:*verdict is unchanged*")
    assert len(lines) == 1, result.stdout.str()[-3000:]
    assert_no_traceback(result)
    runner.assert_previous_intact(verdict="READY")
    last = json.loads(runner.trail.read_text(encoding="utf-8").splitlines()[-1])
    assert last["notify"] and last["notify"]["ok"] is False


@pytest.mark.parametrize(
    ("model", "needle"),
    [("no_such_model", "is not in the registry"), ("f_src_missing", "train.csv does not exist")],
    ids=["setup-error", "input-error-shared-by-checks"],
)
def test_a_fault_is_named_on_exactly_one_terminal_line(runner: Runner, model: str, needle: str) -> None:
    """One fault, one line: a dataset every check needs must not be reported once per check."""
    result = runner.run(model, *only_checks(FAST_CHECKS))
    lines = [line for line in result.stdout.lines + result.stderr.lines if needle in line]
    audit = result.stdout.str().partition("AUDIT REPORT")[2].partition("Status:")[0]
    assert len(lines) == 1, (
        f"the fault is named on {len(lines)} terminal lines ({audit.count(needle)} in the audit summary):\n"
        + "\n".join(lines)
    )
