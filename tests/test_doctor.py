# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``release-audit doctor``: the demo's runs record everything; a plain log_model run lacks what it lacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_release_audit import doctor
from pytest_release_audit.cli import main


@pytest.fixture(scope="module")
def bare_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model logged the plain way: ``mlflow.sklearn.log_model`` + ``register_model``, no datasets, no params."""
    import mlflow
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from pytest_release_audit.handle.resolve import using_store

    uri = f"sqlite:///{tmp_path_factory.mktemp('bare') / 'mlflow.db'}"
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    with using_store(uri):
        mlflow.set_experiment("bare")
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
        mlflow.register_model(f"runs:/{run.info.run_id}/model", "bare_model")
    return uri


def _doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(["doctor", *argv])
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "\x1b" not in captured.out, "plain text when not a terminal"
    return code, captured.out.splitlines()


def _marked(lines: list[str], mark: str) -> list[str]:
    return [line for line in lines if line.startswith(f"  {mark} ")]


def test_bare_log_model_run_names_every_missing_fact_and_its_call(bare_registry, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no pyproject: the built-in default policy
    code, lines = _doctor(capsys, "bare_model", "--tracking-uri", bare_registry)
    assert code == 1
    assert lines[0].startswith("bare_model v1: run ") and lines[0].endswith("target production")
    missing = _marked(lines, doctor.MISSING)
    assert len(missing) + len(_marked(lines, doctor.OK)) + len(_marked(lines, doctor.NA)) == len(doctor.ROWS)
    for line in missing:  # every ✗ is followed by the call that records it
        follow = lines[lines.index(line) + 1]
        assert follow.startswith("       add: "), (line, follow)
    text = "\n".join(lines)
    assert "no dataset logged with context='training'" in text
    assert 'add: mlflow.log_input(mlflow.data.from_pandas(df, source="data/evaluation.csv"' in text
    assert 'add: mlflow.log_params({"seed": 42})' in text
    assert 'add: MlflowClient().set_registered_model_alias("bare_model", "production", PRODUCTION_VERSION)' in text
    assert "add: release-audit approve bare_model/1 --role" in text
    assert re.search(r"\d+ recorded, \d+ missing, \d+ not applicable", lines[-1])
    assert "the run records what the audit reads" not in lines[-1]


@pytest.mark.slow
def test_demo_candidate_records_everything(demo_registry: Path, capsys, monkeypatch):
    monkeypatch.chdir(demo_registry)
    (demo_registry / "pyproject.toml").write_text(
        (Path(__file__).parents[1] / "examples" / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    try:
        code, lines = _doctor(capsys, "cl_unimodal_v2", "--tracking-uri", f"sqlite:///{demo_registry / 'mlflow.db'}")
    finally:
        (demo_registry / "pyproject.toml").unlink()
    assert code == 0, "\n".join(lines)
    assert not _marked(lines, doctor.MISSING)
    assert "cl_unimodal_v1@production is v1" in "\n".join(lines)
    assert lines[-1].endswith("the run records what the audit reads")


def test_doctor_rows_cover_every_builtin_check():
    from pytest_release_audit.policy import BUILTIN_CHECKS

    covered = {c.strip() for row in doctor.ROWS for c in row.checks.split(",")}
    assert covered == set(BUILTIN_CHECKS)


def test_doctor_ascii_marks_when_the_stream_cannot_encode_them(bare_registry, monkeypatch, tmp_path):
    import io

    monkeypatch.chdir(tmp_path)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr("sys.stdout", out)
    assert main(["doctor", "bare_model", "--tracking-uri", bare_registry]) == 1
    out.flush()
    assert "  NO " in raw.getvalue().decode("ascii")
