# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Where datasets come from and whether they are the ones the run logged, on real MLflow stores
built the way users build them: ``mlflow.sklearn.autolog(log_datasets=True)`` with pandas and
numpy X, frames from ``train_test_split`` logged with ``from_pandas(df, source=PATH)`` (CSV with
and without the index), a relative source found under ``--audit-source``, and files mapped to
autolog's datasets with ``--audit-data`` / ``[datasets."NAME"]`` (accepted only on a digest match).
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from pytest_release_audit.errors import AuditError, DatasetNotRecorded, DatasetUnavailable
from pytest_release_audit.rules.lineage import DIGEST_CAUSE, assess_integrity
from pytest_release_audit.session import AuditContext, AuditOptions

FEATURES = ["a", "b", "c"]
POLICY = '[tool.release_audit]\ntarget = "production"\n'
DATA_CHECKS = "lineage,data_integrity,pii,leakage,signature,performance_gate,bias"


def _frame(n: int = 400, seed: int = 5) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 3)).round(6), columns=FEATURES)
    df["y"] = (df.a - df.b + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return df


class Store:
    """One real SQLite MLflow store holding every model of this module, and its data files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"
        self.facts: dict[str, Any] = {}

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(self.uri, self.uri)

    def autolog(self, name: str, numpy: bool) -> None:
        """autolog with log_datasets: fit on the train split, score the test split (logs 'eval')."""
        import mlflow
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score
        from sklearn.model_selection import train_test_split

        df = _frame()
        X_train, X_test, y_train, y_test = train_test_split(df[FEATURES], df["y"], random_state=0)
        folder = self.root / name
        folder.mkdir()
        # What a user keeps: the splits with the label, written with their index (pandas' default).
        X_train.assign(y=y_train).to_csv(folder / "train.csv")
        X_test.assign(y=y_test).to_csv(folder / "test.csv")
        if numpy:
            # numpy X: the rows in the file order, no index (as the arrays were).
            X_train.assign(y=y_train).to_csv(folder / "train.csv", index=False)
            X_test.assign(y=y_test).to_csv(folder / "test.csv", index=False)
            X_train, X_test, y_train, y_test = (v.to_numpy() for v in (X_train, X_test, y_train, y_test))
        mlflow.sklearn.autolog(log_datasets=True, silent=True)
        try:
            with mlflow.start_run(experiment_id=self.experiment) as run:
                model = LogisticRegression().fit(X_train, y_train)
                accuracy_score(y_test, model.predict(X_test))
        finally:
            mlflow.sklearn.autolog(disable=True)
        mlflow.register_model(f"runs:/{run.info.run_id}/model", name)

    def manual(self, name: str, *, index: bool, relative: bool = False) -> None:
        """from_pandas(df, source=PATH) of train_test_split frames, no data_sha256 tag."""
        import mlflow
        from mlflow.models import infer_signature
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(_frame(), random_state=1)
        folder = self.root / (f"repo-{name}" if relative else name)
        (folder / "data").mkdir(parents=True)
        train.to_csv(folder / "data" / "train.csv", index=index)
        test.to_csv(folder / "data" / "test.csv", index=index)
        with mlflow.start_run(experiment_id=self.experiment):
            for frame, split, context in ((train, "train", "training"), (test, "test", "evaluation")):
                source = f"data/{split}.csv" if relative else str(folder / "data" / f"{split}.csv")
                mlflow.log_input(mlflow.data.from_pandas(frame, source=source, name=f"{name}_{split}"),
                                 context=context)
            model = LogisticRegression().fit(train[FEATURES], train["y"])
            mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                     signature=infer_signature(train[FEATURES], train["y"]),
                                     input_example=train[FEATURES].head(3))

    @property
    def experiment(self) -> str:
        return str(self.client().get_experiment_by_name("sources").experiment_id)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    import mlflow

    from pytest_release_audit.handle.resolve import prepare_environment, using_store

    prepare_environment()
    built = Store(tmp_path_factory.mktemp("sources"))
    with using_store(built.uri), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built.client().create_experiment("sources", artifact_location=(built.root / "artifacts").as_uri())
        mlflow.set_experiment("sources")
        built.autolog("auto_pd", numpy=False)
        built.autolog("auto_np", numpy=True)
        built.manual("split_noindex", index=False)
        built.manual("split_index", index=True)
        built.manual("relative", index=True, relative=True)
    return built


def context(store: Store, model: str, tmp_path: Path, *data: str, source: str | None = None,
            policy: str = POLICY) -> AuditContext:
    """The audit's inputs, in process, as the checks child builds them."""
    (tmp_path / "pyproject.toml").write_text(policy, encoding="utf-8")
    options = AuditOptions(model=model, baseline=None, target=None, tracking_uri=store.uri, policy=None,
                           source=source, out=None, promote=False, notify=None, only=True, data=tuple(data))
    return AuditContext(options, tmp_path, tmp_path)


def audit(pytester: pytest.Pytester, store: Store, model: str, *args: str, policy: str = POLICY) -> Any:
    pytester.makefile(".toml", pyproject=policy)
    result = pytester.runpytest(f"--audit-model={model}", f"--audit-tracking-uri={store.uri}", "-p",
                                "no:cacheprovider", f"--audit-out={pytester.path / 'out'}", *args)
    import json

    from conftest import newest_report

    report = json.loads(newest_report(pytester.path / "out").read_text(encoding="utf-8"))
    text = result.stdout.str()
    assert "Traceback" not in text and "raise " not in text, text[-3000:]
    assert report["status"] == "BLOCKED"
    return result, report, {c["id"]: c for c in report["checks"]}


# -- autolog: recorded without a file ---------------------------------------------------------------
def test_autolog_records_what_we_expect(store: Store) -> None:
    """What MLflow 3's autolog records, which the design relies on (name, source type, context)."""
    run = store.client().get_run(store.client().get_model_version("auto_pd", "1").run_id)
    seen = sorted((d.dataset.name, d.dataset.source_type, {t.key: t.value for t in d.tags}["mlflow.data.context"])
                  for d in run.inputs.dataset_inputs)
    assert seen == [("dataset", "code", "eval"), ("dataset", "code", "train")]


@pytest.mark.parametrize("model", ["auto_pd", "auto_np"])
def test_autolog_dataset_is_named_once_and_blocks(pytester: pytest.Pytester, store: Store, model: str) -> None:
    result, report, checks = audit(pytester, store, model, f"--audit-checks={DATA_CHECKS}")
    text = result.stdout.str()
    lines = [line for line in text.splitlines() if "recorded without a file" in line]
    assert len(lines) == 1 and lines[0].lstrip().startswith("ERROR 1"), text[-3000:]
    assert "--audit-data dataset=PATH" in lines[0] and "from_pandas(df, source=PATH)" in lines[0]
    assert "does not exist" not in text and '{"tags"' not in text
    for check in DATA_CHECKS.split(","):
        if check != "lineage":
            assert checks[check]["outcome"] in ("error", "failed", "not_run"), checks[check]
    assert text.count("see ERROR 1 above") >= 5
    # the chain model -> run -> datasets is recorded; whether the data can be read is data_integrity's
    lineage = checks["lineage"]
    assert lineage["outcome"] == "passed" and "see data_integrity" in lineage["summary"], lineage
    assert [d.get("rows") for d in lineage["evidence"]["datasets"]] == [None, None]


def test_autolog_pandas_mapping_accepted(pytester: pytest.Pytester, store: Store) -> None:
    """The CSV holds X and the label, with the split's index: digest verified on the logged columns."""
    folder = store.root / "auto_pd"
    _, _, checks = audit(pytester, store, "auto_pd", "--audit-checks=lineage,data_integrity",
                         f"--audit-data=dataset={folder / 'train.csv'}", f"--audit-data=dataset={folder / 'test.csv'}")
    integrity = checks["data_integrity"]
    assert integrity["outcome"] == "passed", integrity["summary"]
    rows = integrity["evidence"]["datasets"]
    variants = {r["context"]: r["digests"][-1]["variant"] for r in rows}
    assert variants == {"train": "index from column 'Unnamed: 0', logged schema columns only",
                        "eval": "index from column 'Unnamed: 0', logged schema columns only"}
    assert any("--audit-data" in n for r in rows for n in r["notes"])
    assert any("not covered by the logged digest" in n and "y" in n for r in rows for n in r["notes"])
    assert checks["lineage"]["outcome"] == "passed", checks["lineage"]["summary"]


def test_autolog_mapping_in_policy_records_label_candidate(store: Store, tmp_path: Path) -> None:
    folder = store.root / "auto_pd"
    paths = f'["{folder / "train.csv"}", "{folder / "test.csv"}"]'
    policy = POLICY + f'[tool.release_audit.datasets."dataset"]\npath = {paths}\n'
    ctx = context(store, "auto_pd", tmp_path, policy=policy)
    datasets = {d.context: d for d in ctx.datasets}
    train = datasets["train"]
    assert train.label_candidates == ("y",) and "Unnamed: 0" not in train.df.columns
    assert train.task.label_col == "y" and "mapped file" in train.task.label_source, train.task
    assert train.mapped_by.startswith("policy") and train.n_rows == 300
    assert assess_integrity(ctx.handle, ctx.datasets, ctx.policy.section("data_integrity")).passed


def test_autolog_numpy_mapping_accepted(store: Store, tmp_path: Path) -> None:
    folder = store.root / "auto_np"
    ctx = context(store, "auto_np", tmp_path, f"dataset={folder / 'train.csv'}", f"dataset={folder / 'test.csv'}")
    datasets = {d.context: d for d in ctx.datasets}
    assert datasets["train"].digest_check.kind == "numpy" and datasets["train"].label_candidates == ("y",)
    assert assess_integrity(ctx.handle, ctx.datasets, ctx.policy.section("data_integrity")).passed


def _edited_copy(src: Path, dst: Path, keep_rows: bool = True) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    cells = lines[4].split(",")
    cells[1] = str(float(cells[1]) + 0.5)  # the first feature of the 4th data row
    lines[4] = ",".join(cells)
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


def test_autolog_mapping_refused_on_edited_file(pytester: pytest.Pytester, store: Store) -> None:
    folder = store.root / "auto_pd"
    edited = _edited_copy(folder / "train.csv", pytester.path / "train_edited.csv")
    result, _, checks = audit(pytester, store, "auto_pd", "--audit-checks=lineage,data_integrity",
                              f"--audit-data=dataset={edited}", f"--audit-data=dataset={folder / 'test.csv'}")
    line = next(li for li in result.stdout.str().splitlines() if "ERROR 1" in li)
    assert "no mapped file reproduces what the run logged" in line and "X_train.to_csv(path)" in line
    assert "train_edited.csv has 300 rows x 5 columns" in line and "test.csv" not in line
    assert checks["data_integrity"]["outcome"] == "error"


# -- attacks: a mapping is untrusted input -----------------------------------------------------------
def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "/etc/passwd", "outside", "edited"])
def test_mapping_attacks_never_pass(store: Store, tmp_path: Path, target: str,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each bad mapping is one line and no dataset is read, so every data check errors: BLOCKED."""
    folder = store.root / "auto_pd"
    project = tmp_path / "project"
    project.mkdir()
    if target == "fifo":
        path = str(_fifo(project))
    elif target == "outside":  # a genuine, matching file, but outside every allowed root
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        path = str(shutil.copy2(folder / "train.csv", elsewhere / "train.csv"))
    elif target == "edited":  # right row count, one cell changed
        path = str(_edited_copy(folder / "train.csv", project / "train.csv"))
    else:
        path = target
    ctx = context(store, "auto_pd", project, f"dataset={path}", f"dataset={folder / 'test.csv'}")
    with pytest.raises(DatasetUnavailable) as raised:
        _ = ctx.datasets
    message = str(raised.value)
    assert "\n" not in message and "dataset 'dataset'" in message
    expected = {"/dev/zero": "outside the directories", "fifo": "FIFO", "/etc/passwd": "outside the directories",
                "outside": "outside the directories", "edited": "no mapped file reproduces"}[target]
    assert expected in message, message


def test_mapping_to_an_unlogged_name_or_malformed(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match="did not log"):
        _ = context(store, "auto_pd", tmp_path, "datset=x.csv").datasets
    with pytest.raises(AuditError, match="is not NAME=PATH"):
        context(store, "auto_pd", tmp_path, "dataset").validate()


def test_mapping_cannot_replace_a_dataset_logged_with_a_file(store: Store, tmp_path: Path) -> None:
    """Attack: the audited repo (policy / addopts) maps a file-backed dataset to a substitute that
    shares MLflow's partial digest (here: the same file copied); the logged file must still be read."""
    import shutil

    logged = store.root / "split_index" / "data" / "train.csv"
    substitute = tmp_path / "scrubbed.csv"
    shutil.copyfile(logged, substitute)
    with pytest.raises(DatasetUnavailable) as raised:
        _ = context(store, "split_index", tmp_path, f"split_index_train={substitute}").datasets
    message = str(raised.value)
    assert "\n" not in message and "logged with a file" in message and "split_index_train" in message


def test_autolog_without_mapping_is_not_recorded(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DatasetNotRecorded) as raised:
        _ = context(store, "auto_np", tmp_path).datasets
    assert str(raised.value).count("recorded without a file") == 1 and "'dataset' (train)" in str(raised.value)


# -- frames from train_test_split ----------------------------------------------------------------------
def test_split_logged_without_index_blocks_with_the_real_cause(pytester: pytest.Pytester, store: Store) -> None:
    _, _, checks = audit(pytester, store, "split_noindex", "--audit-checks=lineage,data_integrity")
    integrity = checks["data_integrity"]
    assert integrity["outcome"] == "failed"
    assert "cannot be reproduced" in integrity["summary"] and "train_test_split" in integrity["summary"]
    assert "dtypes" not in integrity["summary"]
    assert any(DIGEST_CAUSE in n for r in integrity["evidence"]["datasets"] for n in r["notes"])


def test_split_logged_with_index_passes_with_the_variant(store: Store, tmp_path: Path) -> None:
    ctx = context(store, "split_index", tmp_path)
    result = assess_integrity(ctx.handle, ctx.datasets, ctx.policy.section("data_integrity"))
    assert result.passed, result.message
    assert all("Unnamed: 0" not in d.df.columns and "Unnamed: 0" not in d.feature_columns for d in ctx.datasets)
    variants = {d.digest_check.variant for d in ctx.datasets}
    assert variants == {"index from column 'Unnamed: 0'"}


# -- relative sources ------------------------------------------------------------------------------------
def test_relative_source_found_under_audit_source(store: Store, tmp_path: Path) -> None:
    repo = store.root / "repo-relative"
    ctx = context(store, "relative", tmp_path, source=str(repo))
    assert {d.local_path for d in ctx.datasets} == {repo / "data" / "train.csv", repo / "data" / "test.csv"}


def test_relative_source_missing_lists_where_it_looked(store: Store, tmp_path: Path) -> None:
    ctx = context(store, "relative", tmp_path)
    with pytest.raises(DatasetUnavailable) as raised:
        _ = ctx.datasets
    message = str(raised.value)
    assert "data/train.csv (relative) is in none of the directories searched" in message
    assert str(tmp_path) in message and str(store.root) in message and "--audit-source" in message
