# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Task kind, label and features from what MLflow records, on models logged the way users log them.

One real sqlite registry per module: MLflow's ElasticNet wine example, sklearn's diabetes, iris and
breast-cancer models, ``mlflow.sklearn.autolog()`` fits, a model without a signature, an ambiguous
label. Each version's dataset is read back through ``read_logged_dataset`` (the audit's own path).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_release_audit.data import LoadedDataset
from pytest_release_audit.datasets import read_logged_dataset
from pytest_release_audit.errors import DatasetUnavailable, TaskUndetermined
from pytest_release_audit.handle.model import ModelHandle
from pytest_release_audit.handle.resolve import resolve_handle, using_store
from pytest_release_audit.handle.spec import ModelSpec
from pytest_release_audit.policy.sections import TaskPolicy
from pytest_release_audit.rules.performance import evaluation_outcomes
from pytest_release_audit.task import infer_task
from pytest_release_audit.task_signals import metric_signal, values_kind

WINE = ["fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides", "free_sulfur_dioxide",
        "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol"]


def wine_frame(n: int = 300) -> pd.DataFrame:
    """Red-wine-quality shaped data: 11 physico-chemical columns, ``quality`` an integer 3..9."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame({c: rng.normal(5, 2, n).round(4) for c in WINE})
    df["quality"] = np.clip(np.rint(5.6 + 0.4 * (df["alcohol"] - 5) + rng.normal(0, 0.8, n)), 3, 9).astype(int)
    return df


def sklearn_frame(loader: Callable[..., Any], label: str, names: list[str] | None = None) -> pd.DataFrame:
    bunch = loader(as_frame=True)
    df = bunch.frame.rename(columns={"target": label})
    df.columns = [str(c).replace(" (cm)", "").replace(" ", "_") for c in df.columns]
    if names is not None:
        df[label] = [names[int(v)] for v in df[label]]
    return df


class Registry:
    """A real MLflow store in a temp dir; ``log(...)`` trains nothing itself, it logs what a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"
        self.frames: dict[str, pd.DataFrame] = {}

    def log(self, name: str, df: pd.DataFrame, model: Any, features: list[str], *, signature: str = "predict",
            metrics: dict[str, float] | None = None, eval_df: pd.DataFrame | None = None,
            autolog: bool = False) -> None:
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature

        label = [c for c in df.columns if c not in features][-1]
        path = self.root / f"{name}.csv"
        (df if eval_df is None else eval_df).to_csv(path, index=False)
        with using_store(self.uri), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if autolog:
                mlflow.sklearn.autolog(log_datasets=False, log_models=True, silent=True)
            try:
                with mlflow.start_run() as run:
                    model.fit(df[features], df[label])
                    mlflow.log_input(mlflow.data.from_pandas(pd.read_csv(path), source=str(path), name=name,
                                                             targets=label), context="evaluation")
                    if metrics:
                        mlflow.log_metrics(metrics)
                    if autolog:
                        logged = mlflow.last_logged_model()
                        assert logged is not None
                        mlflow.register_model(f"models:/{logged.model_id}", name)
                    else:
                        X = df[features]
                        sig = {"predict": infer_signature(X, model.predict(X)),
                               "proba": infer_signature(X, model.predict_proba(X) if signature == "proba" else None),
                               "labels": infer_signature(X, df[label]), "none": None}[signature]
                        mlflow.sklearn.log_model(model, name="model", signature=sig, registered_model_name=name)
            finally:
                if autolog:
                    mlflow.sklearn.autolog(disable=True)
            assert run.info.run_id

    def handle(self, name: str, version: str = "1") -> ModelHandle:
        return resolve_handle(ModelSpec(name=name, version=version), self.uri)

    def read(self, name: str, policy: dict[str, Any] | None = None, version: str = "1") -> LoadedDataset:
        handle = self.handle(name, version)
        assert handle.run is not None
        ref = handle.run.inputs[0]
        return read_logged_dataset(ref, handle, TaskPolicy.model_validate(policy or {}), [self.root],
                                   self.root / "work")

    def tag(self, name: str, key: str, value: str, version: str = "1") -> None:
        from mlflow import MlflowClient

        with using_store(self.uri):
            MlflowClient().set_model_version_tag(name, version, key, value)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.linear_model import ElasticNet, LinearRegression, LogisticRegression, Ridge

    reg = Registry(tmp_path_factory.mktemp("task_registry"))
    wine = wine_frame()
    # MLflow's ElasticNet example: signature from the predictions, rmse / r2 / mae logged.
    reg.log("wine_model", wine, ElasticNet(alpha=0.5, l1_ratio=0.5), WINE,
            metrics={"rmse": 0.7, "r2": 0.3, "mae": 0.5})
    reg.log("wine_no_metrics", wine, ElasticNet(alpha=0.5, l1_ratio=0.5), WINE)
    diabetes = sklearn_frame(load_diabetes, "target")
    reg.log("diabetes", diabetes, Ridge(), [c for c in diabetes.columns if c != "target"])
    iris = sklearn_frame(load_iris, "species", ["setosa", "versicolor", "virginica"])
    iris_x = [c for c in iris.columns if c != "species"]
    reg.log("iris", iris, LogisticRegression(max_iter=500), iris_x)
    iris_int = sklearn_frame(load_iris, "target")
    reg.log("iris_proba", iris_int, LogisticRegression(max_iter=500), iris_x, signature="proba")
    reg.log("iris_autolog", iris_int, LogisticRegression(max_iter=500), iris_x, autolog=True)
    reg.log("wine_autolog", wine, ElasticNet(alpha=0.5), WINE, autolog=True)
    cancer = sklearn_frame(load_breast_cancer, "diagnosis", ["malignant", "benign"])
    cancer_x = [c for c in cancer.columns if c != "diagnosis"][:6]
    cancer = cancer[[*cancer_x, "diagnosis"]]
    reg.log("cancer", cancer, LogisticRegression(max_iter=2000), cancer_x)
    reg.log("cancer_nosig", cancer, LogisticRegression(max_iter=2000), cancer_x, signature="none")
    # a second column that is no model input: which one is the label cannot be told
    ambiguous = wine.assign(batch=np.arange(len(wine)) % 7)
    reg.log("ambiguous", ambiguous[[*WINE, "quality", "batch"]], ElasticNet(), WINE)
    reg.log("wine_lacks_input", wine, ElasticNet(), WINE, eval_df=wine.drop(columns=["density", "pH"]))
    survival = pd.DataFrame({"age": np.arange(200) % 60 + 30.0, "size": (np.arange(200) % 17) * 1.5,
                             "os_days": np.arange(200) * 3 + 10, "event": np.arange(200) % 2})
    reg.log("survival", survival[["age", "size", "os_days", "event"]], LinearRegression(), ["age", "size"])
    # attacks: metric names the run logged (registry records) contradicting the label's values
    binary = sklearn_frame(load_breast_cancer, "target")
    binary = binary[[*binary.columns[:6], "target"]]
    reg.log("binary_says_rmse", binary, LogisticRegression(max_iter=2000), list(binary.columns[:6]),
            signature="none", metrics={"rmse": 0.3})
    reg.log("continuous_says_auc", diabetes, Ridge(), [c for c in diabetes.columns if c != "target"],
            signature="none", metrics={"roc_auc": 0.9, "accuracy": 0.9})
    yield reg


def test_mlflow_elasticnet_wine_example_is_a_regression(registry: Registry) -> None:
    data = registry.read("wine_model")
    assert data.task.kind == "regression"
    assert data.task.source == "logged metrics mae, r2, rmse"
    assert data.task.label_col == "quality"
    assert data.task.label_source == "the only dataset column that is not a model input"
    assert data.feature_columns == WINE
    assert list(data.X.columns) == WINE
    outcomes, problem = evaluation_outcomes(data)
    assert problem == "" and outcomes["y"].dtype == float
    assert data.task.to_dict()["source"] == "logged metrics mae, r2, rmse"


def test_a_double_signature_output_tells_a_regressor_on_integer_labels(registry: Registry) -> None:
    task = registry.read("wine_no_metrics").task
    assert task.kind == "regression"
    assert task.source == "model signature output (float64, sklearn flavor)"
    assert task.title == "Regression (from model signature output (float64, sklearn flavor))"


def test_sklearn_diabetes_regressor(registry: Registry) -> None:
    task = registry.read("diabetes").task
    assert (task.kind, task.label_col) == ("regression", "target")
    assert "float64" in task.source


def test_iris_with_string_species_is_multiclass(registry: Registry) -> None:
    data = registry.read("iris")
    assert (data.task.kind, data.task.label_col) == ("multiclass", "species")
    assert data.task.source == "model signature output (object, sklearn flavor); label values: 3 classes"
    assert "species" not in data.feature_columns


def test_iris_probability_signature_is_multiclass(registry: Registry) -> None:
    task = registry.read("iris_proba").task
    assert (task.kind, task.label_col) == ("multiclass", "target")
    assert task.source == "model signature output (float64 [-1, 3]: class probabilities, sklearn flavor)"


def test_autolog_classifier_and_regressor(registry: Registry) -> None:
    iris = registry.read("iris_autolog")
    assert iris.task.kind == "multiclass"
    assert iris.task.source.startswith("autolog estimator_class sklearn.linear_model._logistic.LogisticRegression")
    assert "label values: 3 integer classes" in iris.task.source
    wine = registry.read("wine_autolog")
    assert wine.task.kind == "regression"
    assert wine.task.source == "autolog estimator_class sklearn.linear_model._coordinate_descent.ElasticNet"
    handle = registry.handle("wine_autolog")
    assert handle.run is not None and "training_r2_score" in handle.run.metrics
    signal = metric_signal(handle.run.metrics)
    assert signal is not None and signal.family == "regression"


def test_breast_cancer_with_a_diagnosis_label_is_binary(registry: Registry) -> None:
    data = registry.read("cancer")
    assert (data.task.kind, data.task.label_col) == ("binary", "diagnosis")
    assert data.task.label_source == "the only dataset column that is not a model input"
    assert "diagnosis" not in data.feature_columns


def test_no_signature_and_an_unconventional_label_is_one_clear_line(registry: Registry) -> None:
    data = registry.read("cancer_nosig")  # the data itself is read: data checks still run on it
    problem = data.task.problem
    assert problem.startswith("cannot tell the label of cancer_nosig v1 in dataset 'cancer_nosig' (evaluation)")
    assert "signature=infer_signature(X, model.predict(X))" in problem
    assert 'MlflowClient().set_model_version_tag("cancer_nosig", "1", "label_col", ' in problem
    assert "\n" not in problem
    assert data.feature_columns == []
    with pytest.raises(TaskUndetermined, match="cannot tell the label"):
        _ = data.X
    assert evaluation_outcomes(data) == ({}, problem)
    assert data.task.to_dict()["problem"] == problem


def test_ambiguous_label_names_the_tag_call_and_the_tag_wins(registry: Registry) -> None:
    problem = registry.read("ambiguous").task.problem
    assert "2 columns are not model inputs (quality, batch)" in problem
    assert 'MlflowClient().set_model_version_tag("ambiguous", "1", "label_col", "quality")' in problem
    registry.tag("ambiguous", "label_col", "quality")
    task = registry.read("ambiguous").task
    assert (task.label_col, task.label_source, task.problem) == ("quality", "version tag label_col", "")
    assert task.kind == "regression"


def test_missing_signature_inputs_are_named(registry: Registry) -> None:
    data = registry.read("wine_lacks_input")
    with pytest.raises(DatasetUnavailable, match=r"lacks 2 inputs of the model's signature: density, pH: "):
        _ = data.X


def test_policy_and_tags_win_over_what_is_recorded(registry: Registry) -> None:
    task = registry.read("iris", {"kind": "regression", "label_col": "petal_width"}).task
    assert (task.kind, task.source, task.label_col, task.label_source) == (
        "regression", "policy [task] kind", "petal_width", "policy [task] label_col")
    assert task.problem.startswith("the label petal_width (policy [task] label_col) is an input of iris v1")
    registry.tag("diabetes", "task", "binary classification")
    task = registry.read("diabetes").task
    assert (task.kind, task.source) == ("binary", "version tag task")


def test_survival_columns_are_found_beside_the_inputs(registry: Registry) -> None:
    data = registry.read("survival")
    assert (data.task.kind, data.task.duration_col, data.task.event_col) == ("survival", "os_days", "event")
    assert data.task.source == "duration column os_days and event column event"
    assert data.feature_columns == ["age", "size"]


def test_infer_task_without_values_still_reads_the_signature(registry: Registry) -> None:
    handle = registry.handle("iris_proba")
    assert handle.run is not None
    columns = list(registry.read("iris_proba").df.columns)
    task = infer_task(handle, {}, handle.run.inputs[0], columns)
    assert (task.kind, task.label_col) == ("multiclass", "target")


@pytest.mark.parametrize(("names", "family"), [
    (["training_accuracy_score", "training_log_loss", "training_score"], "classification"),
    (["test_rmse", "eval_r2"], "regression"),
    (["f1_class_setosa", "precision_virginica"], "classification"),
    (["c_index_test"], "survival"),
    (["rmse", "accuracy"], None),
    (["train_rows", "training_score"], None),
])
def test_metric_names(names: list[str], family: str | None) -> None:
    signal = metric_signal(names)
    assert (signal.family if signal else None) == family


@pytest.mark.parametrize(("values", "kind"), [
    ([0, 1, 1, 0], "binary"),
    (["a", "b", "c", "a"], "multiclass"),
    ([3, 4, 5, 6, 7], "multiclass"),
    (list(np.linspace(0, 1, 50)), "regression"),
    (list(range(100)), "regression"),
])
def test_label_values(values: list[Any], kind: str) -> None:
    signal = values_kind(pd.Series(values))
    assert signal is not None and signal.family == kind


def test_an_experiment_chosen_for_another_store_does_not_follow_into_the_next(tmp_path: Path) -> None:
    """``mlflow.set_experiment`` on store A leaves an experiment id that store B does not have."""
    import mlflow

    with using_store(f"sqlite:///{tmp_path / 'a.db'}"):
        for name in ("first", "second"):
            mlflow.set_experiment(name)
        chosen = mlflow.tracking.fluent._active_experiment_id
        assert chosen not in (None, "0")
    with using_store(f"sqlite:///{tmp_path / 'a.db'}"):
        assert mlflow.tracking.fluent._active_experiment_id is None
    with using_store(f"sqlite:///{tmp_path / 'b.db'}"), mlflow.start_run() as run:
        assert run.info.experiment_id == "0"


@pytest.mark.parametrize(("name", "claim", "fix"), [
    ("binary_says_rmse", "logged metric rmse: regression, but the label target has label values: 2 classes",
     "binary"),
    ("continuous_says_auc", "logged metrics accuracy, roc_auc: classification, but the label target has label "
     "values: 214 distinct numbers", "regression"),
])
def test_logged_metric_names_never_overrule_the_label_values(registry: Registry, name: str, claim: str,
                                                             fix: str) -> None:
    """Metric names are the audited side's record: contradicted by the data, they stop the audit.

    Without this, a binary classifier that logged ``rmse`` would be gated on regression metrics
    (and a continuous target scored as hundreds of classes): a task the data does not have.
    """
    data = registry.read(name)
    assert data.task.problem.startswith(claim), data.task.problem
    assert f'set_model_version_tag("{name}", "1", "task", "{fix}")' in data.task.problem
    with pytest.raises(TaskUndetermined, match="but the label target has"):
        _ = data.X
    assert evaluation_outcomes(data) == ({}, data.task.problem)
