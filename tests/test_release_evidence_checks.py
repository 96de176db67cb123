# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""data_validation with real Great Expectations 1.x results, operational_readiness with real git and registries.

One registry (faults.factory) holds classifiers whose runs logged: a passing GX result of their
training data, a failing one, a passing result of other data (row count differs), a malformed JSON
artifact, and none. The training repository carries a monitoring config, alert rules and a rollback
record committed at known dates.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from faults.factory import SPDX, Trainer, World, binary_frame, empty_store, git, new_world

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # GX 1.x: no usage statistics


def _import_gx() -> Any:
    """``great_expectations``, imported so that an installed pyspark cannot end an xdist worker.

    GX imports pyspark optionally; pyspark.sql.connect, when grpc is missing and ``__main__`` has no
    ``__file__`` (an xdist worker's execnet bootstrap), takes it for a doctest run and calls
    ``sys.exit(0)``. With ``__file__`` set for the import it raises ImportError instead, which GX catches.
    """
    main = sys.modules.get("__main__")
    patched = main is not None and not hasattr(main, "__file__")
    if patched:
        main.__file__ = "<pytest worker>"  # type: ignore[union-attr]
    try:
        return pytest.importorskip("great_expectations", reason="great_expectations 1.x is not installed (test extra)")
    finally:
        if patched:
            del main.__file__  # type: ignore[union-attr]


gx = _import_gx()

ROLLBACK_DATE = "2026-01-05T10:00:00+00:00"  # faults.factory's fixed commit date


def gx_result(df: Any, *, asset: str, fail: bool = False) -> dict[str, Any]:
    """A real GX 1.x validation of ``df`` (ephemeral context), as ``to_json_dict()``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_pandas("audit")
        batch = source.add_dataframe_asset(asset).add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=f"{asset}_suite"))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="patient_id"))
        suite.add_expectation(gx.expectations.ExpectTableRowCountToEqual(value=len(df)))
        allowed = ["north"] if fail else ["north", "south"]
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="site", value_set=allowed))
        suite.add_expectation(gx.expectations.ExpectColumnMaxToBeBetween(column="f1", max_value=-100 if fail else 100))
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=asset, data=batch, suite=suite))
        return definition.run(batch_parameters={"dataframe": df}).to_json_dict()


def gx_checkpoint(df: Any, *, asset: str) -> dict[str, Any]:
    """A real GX 1.x checkpoint run over ``df``, as ``CheckpointResult.describe_dict()``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        context = gx.get_context(mode="ephemeral")
        batch = context.data_sources.add_pandas("audit").add_dataframe_asset(asset) \
            .add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=f"{asset}_suite"))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="patient_id"))
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=asset, data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(name="release", validation_definitions=[definition]))
        return checkpoint.run(batch_parameters={"dataframe": df}).describe_dict()


class ValidatingTrainer(Trainer):
    """A Trainer whose run also logs ``extra`` artifacts (name -> text) inside the run."""

    def __init__(self, world: World, extra: dict[str, str], tags: dict[str, str] | None = None) -> None:
        super().__init__(world)
        self.extra = extra
        self.tags = tags or {}

    def log_dataset(self, df: Any, path: Path, name: str, context: str, targets: str) -> None:
        import mlflow

        super().log_dataset(df, path, name, context, targets)
        if context == "evaluation":  # once per run, after both datasets
            for artifact, text in self.extra.items():
                mlflow.log_text(text, artifact)
            for key, value in self.tags.items():
                mlflow.set_tag(key, value)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    import pandas as pd

    root = tmp_path_factory.mktemp("evidence-world")
    world = new_world(root, empty_store(root / "template.db"))
    full = binary_frame(500, 7)
    train = full.iloc[:300].reset_index(drop=True)
    other = full.iloc[:250].reset_index(drop=True)
    (world.data / "x").mkdir(parents=True)
    train.to_csv(world.data / "x" / "t.csv", index=False)
    as_read = pd.read_csv(world.data / "x" / "t.csv", float_precision="round_trip")
    cases = {
        "gx_pass": {"validation_result.json": json.dumps(gx_result(as_read, asset="gx_pass_train"))},
        "gx_fail": {"validation_result.json": json.dumps(gx_result(as_read, asset="gx_fail_train", fail=True))},
        "gx_other": {"validation_result.json": json.dumps(gx_result(other, asset="other"))},
        "gx_broken": {"gx/validation.json": '{"success": true, "results": [ '},
        "gx_checkpoint": {"checks/validation_checkpoint.json": json.dumps(gx_checkpoint(other, asset="other"))},
        "gx_none": {},
    }
    for name, extra in cases.items():
        ValidatingTrainer(world, extra).binary(name, train=train, evaluation=full.iloc[300:].reset_index(drop=True),
                                               approve=False)
    # operational readiness evidence in the training repository, committed at the factory's fixed date
    (world.repo / "ops").mkdir()
    (world.repo / "ops" / "monitoring.yaml").write_text(SPDX + "dashboards: [latency, drift]\n", encoding="utf-8")
    (world.repo / "ops" / "alerts.yaml").write_text(SPDX + "rules: [p99_latency]\n", encoding="utf-8")
    (world.repo / "ops" / "rollback-test.md").write_text("Rollback tested\n", encoding="utf-8")
    git("add", "-A", cwd=world.repo)
    git("commit", "-q", "-m", "ops evidence", cwd=world.repo)
    world.commit = git("rev-parse", "HEAD", cwd=world.repo)
    ValidatingTrainer(world, {}, {"change_request": "CHG-1042", "incident_plan_reviewed": "2026-11-20"}).binary(
        "ops_model", train=train, evaluation=full.iloc[300:].reset_index(drop=True), approve=False)
    return world


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def audit(pytester: pytest.Pytester, world: World, model: str, check: str, policy: str = "") -> tuple[Any, dict]:
    from faults.factory import policy_text

    pytester.makefile(".toml", pyproject=policy_text(policy))
    (pytester.path / "tests").mkdir(exist_ok=True)
    out = pytester.path / "out"
    result = pytester.runpytest(f"--audit-model={model}", f"--audit-tracking-uri={world.uri}", f"--audit-out={out}",
                                f"--audit-source={world.repo}", "-p", "no:cacheprovider", f"--audit-checks={check}")
    report = json.loads((out / "partial" / "audit_report.json").read_text(encoding="utf-8"))
    return result, {c["id"]: c for c in report["checks"]}[check]


def fail_line(result: Any, check: str) -> str:
    lines = [line for line in result.stdout.lines if line.strip().startswith("FAIL") and check in line]
    assert len(lines) == 1, result.stdout.str()
    return lines[0]


# -- data_validation ----------------------------------------------------------------------------
@pytest.mark.slow
def test_a_passing_gx_result_of_the_logged_dataset_passes(pytester: pytest.Pytester, world: World) -> None:
    _, check = audit(pytester, world, "gx_pass", "data_validation")
    assert check["outcome"] == "passed", check
    row = check["evidence"]["results"][0]
    assert (row["dataset"], row["result_rows"], row["dataset_rows"], row["success"]) == ("gx_pass_train", [300], 300,
                                                                                         True)
    assert row["gx_version"].startswith("1.")
    assert check["summary"].startswith("1 GX validation result(s), 4 expectations met")


@pytest.mark.slow
def test_a_failing_gx_result_lists_the_failed_expectations_without_data_values(pytester: pytest.Pytester,
                                                                               world: World) -> None:
    result, check = audit(pytester, world, "gx_fail", "data_validation")
    assert check["outcome"] == "failed"
    assert check["summary"].startswith("validation result validation_result.json (suite 'gx_fail_train_suite') "
                                       "failed 2 of 4 expectations: ")
    assert "expect_column_values_to_be_in_set on site" in check["summary"]
    assert "expect_column_max_to_be_between on f1" in check["summary"]
    failed = {f["type"]: f for f in check["evidence"]["failed"]}
    assert failed["expect_column_max_to_be_between"]["observed"] == "masked"  # a data value, never shown
    text = json.dumps(check) + result.stdout.str()
    assert "south" not in text.replace("north, south", "")  # no unexpected value printed
    fail_line(result, "data_validation")


def judged(world: World, model: str, tmp_path: Path, section: dict[str, Any] | None = None,
           target: str = "production") -> Any:
    """The data_validation rule on a real version of ``world``, its artifacts downloaded from the real store."""
    import pytest_release_audit.checks.test_release_evidence as builtin
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.policy import default_policy
    from pytest_release_audit.rules.data_validation import assess_data_validation

    handle = resolve_handle(model, world.uri)
    policy = {**default_policy().section("data_validation"), **(section or {})}
    return assess_data_validation(handle, None, policy, target, builtin._downloader(handle, tmp_path))


@pytest.mark.slow
def test_a_result_for_other_data_fails_on_the_row_count(world: World, tmp_path: Path) -> None:
    result = judged(world, "gx_other", tmp_path)
    assert not result.passed
    assert ("describes a batch of 250 rows but dataset 'gx_other_train' (training) has 300: it validated other data"
            in result.message)


@pytest.mark.slow
def test_the_policy_globs_cannot_hide_a_logged_result(world: World, tmp_path: Path) -> None:
    """The policy is untrusted: a glob that matches nothing does not turn a failed result into 'not applicable'."""
    result = judged(world, "gx_fail", tmp_path, {"artifact": ["nothing_here*.json"]})
    assert not result.passed and "failed 2 of 4 expectations" in result.message


@pytest.mark.slow
def test_malformed_result_and_required_but_missing_fail_in_one_line(world: World, tmp_path: Path) -> None:
    result = judged(world, "gx_broken", tmp_path)
    assert not result.passed
    assert result.message == ("validation result gx/validation.json is not valid JSON (line 1): log "
                              "result.to_json_dict() of a GX 1.x validation run")
    result = judged(world, "gx_none", tmp_path)
    assert result.passed and result.summary.startswith("not applicable")
    assert result.evidence is not None and result.evidence.to_dict()["applicable"] is False
    result = judged(world, "gx_none", tmp_path, {"required": ["production"]})
    assert not result.passed
    assert result.message.startswith("policy [data_validation] requires a Great Expectations validation result "
                                     "for production, but run ")
    assert judged(world, "gx_none", tmp_path, {"required": ["production"]}, target="staging").passed


@pytest.mark.slow
def test_a_checkpoint_result_is_read_and_judged(world: World, tmp_path: Path) -> None:
    """GX's CheckpointResult.describe_dict() (one validation): successful, but of 250 rows, not the 300 logged."""
    result = judged(world, "gx_checkpoint", tmp_path)
    assert result.message == ("validation result checks/validation_checkpoint.json describes a batch of 250 rows but "
                              "dataset 'gx_checkpoint_train' (training) has 300: it validated other data; validate "
                              "the logged dataset and log that result")


# -- operational_readiness --------------------------------------------------------------------------
def readiness(world: World, section: dict[str, Any], target: str = "production") -> Any:
    """The operational_readiness rule on ops_model of ``world`` at its training commit."""
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.policy import default_policy
    from pytest_release_audit.rules.operational_readiness import assess_operational_readiness
    from pytest_release_audit.scanners.source import locate_commit

    handle = resolve_handle("ops_model", world.uri)
    policy = {**default_policy().section("operational_readiness"), **section}
    return assess_operational_readiness(handle, locate_commit(handle, world.repo), policy, target)


READINESS = """
[tool.release_audit.operational_readiness.items.monitoring]
description = "monitoring dashboards configured"
path = "ops/monitoring.yaml"

[tool.release_audit.operational_readiness.items.alerting]
path = ["ops/alerts*.yaml"]

[tool.release_audit.operational_readiness.items.rollback_tested]
path = "ops/rollback-test.md"
tag = "rollback_tested_at"
max_age_days = {age}

[tool.release_audit.operational_readiness.items.incident_response]
path = "ops/incident-response.md"
tag = "incident_plan_reviewed"
max_age_days = 365

[tool.release_audit.operational_readiness.items.change_request]
tag = "change_request"
{extra}
"""


@pytest.mark.slow
def test_readiness_items_evidenced_at_the_commit_and_on_the_version_pass(pytester: pytest.Pytester,
                                                                         world: World) -> None:
    _, check = audit(pytester, world, "ops_model", "operational_readiness", READINESS.format(age=3650, extra=""))
    assert check["outcome"] == "passed", check
    items = {i["item"]: i for i in check["evidence"]["items"]}
    assert items["monitoring"]["kind"] == "file" and items["monitoring"]["date"] == ROLLBACK_DATE
    assert items["alerting"]["evidence"] == "ops/alerts.yaml"
    assert items["incident_response"]["kind"] == "tag"  # no file at the commit, the tag evidences it
    assert items["change_request"]["status"] == "present"
    empty = readiness(world, {})
    assert empty.passed and empty.evidence is not None and empty.evidence.to_dict()["applicable"] is False
    assert empty.summary == "not applicable: policy [operational_readiness] lists no items"


@pytest.mark.slow
def test_stale_and_missing_readiness_items_fail_naming_what_would_satisfy_them(pytester: pytest.Pytester,
                                                                               world: World) -> None:
    extra = '\n[tool.release_audit.operational_readiness.items.runbook]\npath = "ops/rollback-runbook.md"\n'
    result, check = audit(pytester, world, "ops_model", "operational_readiness",
                          READINESS.format(age=90, extra=extra))
    assert check["outcome"] == "failed"
    message = check["summary"]
    assert message.startswith("operational readiness for production: rollback_tested stale: ops/rollback-test.md "
                              "dates from 2026-01-05")
    assert "satisfy with: commit ops/rollback-test.md or set tag rollback_tested_at=YYYY-MM-DD on the version " \
           "(at most 90 days old)" in message
    assert ("runbook missing: no file ops/rollback-runbook.md at " + world.commit[:12]) in message
    fail_line(result, "operational_readiness")
    # staging is not in `required`: the same gaps are reported, not blocking
    import tomllib

    items = tomllib.loads(READINESS.format(age=90, extra=extra))["tool"]["release_audit"]["operational_readiness"]
    staged = readiness(world, {"items": items["items"]}, target="staging")
    assert staged.passed and "not required for staging" in staged.summary
    assert not readiness(world, {"items": items["items"]}).passed
    # the policy cannot list items and then excuse them for production
    assert not readiness(world, {"items": items["items"], "required": []}).passed


def test_a_readiness_date_after_the_audit_is_not_evidence() -> None:
    """A tag (or a commit date) can say anything: a rollback "tested" in 2099 is unreadable, not fresh."""
    import datetime as dt
    from types import SimpleNamespace

    from pytest_release_audit.rules.operational_readiness import judge_item

    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    item = {"tag": "rollback_tested_at", "max_age_days": 90}
    for value, status in (("2099-12-31", "unreadable"), ("2026-12-03T20:00:00Z", "present"),
                          ("2026-11-01", "present"), ("2026-01-01", "stale")):
        handle = SimpleNamespace(tags={"rollback_tested_at": value}, run=None)
        row = judge_item("rollback_tested", item, handle, None, now)  # type: ignore[arg-type]
        assert row["status"] == status, (value, row)
    assert "after the audit: a future date is not evidence" in row_reason("2099-12-31", judge_item, now, item)


def row_reason(value: str, judge: Any, now: Any, item: dict[str, Any]) -> str:
    from types import SimpleNamespace

    return str(judge("x", item, SimpleNamespace(tags={"rollback_tested_at": value}, run=None), None, now)["reason"])


def test_evidence_files_are_read_from_the_commit_only(tmp_path: Path) -> None:
    """A readiness path cannot leave the commit (``..``, options) and a file only in the working tree is absent."""
    from pytest_release_audit.scanners.source import SourceCommit, git_dir

    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "ops.md").write_text("runbook\n", encoding="utf-8")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "ops", cwd=repo)
    (repo / "later.md").write_text("not committed\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside\n", encoding="utf-8")
    gitdir, _ = git_dir(repo)
    assert gitdir is not None
    commit = SourceCommit(str(repo), gitdir, git("rev-parse", "HEAD", cwd=repo))
    assert commit.show("ops.md") == b"runbook\n"
    assert commit.last_change("ops.md") == ROLLBACK_DATE
    for path in ("later.md", "../secret.txt", "/etc/hostname", "--output=x"):
        assert commit.show(path) is None, path
    assert commit.last_change("later.md") is None and commit.last_change("--all") is None
