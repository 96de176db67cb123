# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Real MLflow registries built the way MLflow users build them (issue 14's acceptance tests).

One SQLite store holds one registered model per case (``CASE_MODELS``); every model is trained
with ordinary user code on scikit-learn's bundled datasets (offline): ``mlflow.sklearn.autolog``,
plain ``mlflow.sklearn.log_model`` + ``mlflow.register_model``, MLflow's ElasticNet wine example,
custom ``mlflow.pyfunc.log_model(python_model=...)`` wrappers of each output shape, frames fresh
from ``train_test_split``. The training repository (``repo/``) is a git repository whose files
carry SPDX headers, with ``LICENSES/Apache-2.0.txt`` and a ``pyproject.toml`` holding the policy a
README-following user writes; the audit of a case runs in a copy of that project directory.

What each case records, and what the audit is expected to say about it, is in ``README.md``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faults.factory import APPROVERS, ROOT, SPDX, empty_store, git

from .models_src import TRAIN_PY, USAGE_MODELS

SEED = 42
LICENSE = "CC-BY-4.0"
PIP = ["mlflow==3.17.2", "scikit-learn==1.9.1", "pandas==2.3.3", "numpy==2.3.5"]
WINE_FEATURES = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
                 "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]

#: The policy a README-following user writes (approvals signed by the roles' allowed signers).
POLICY = SPDX + """
[project]
name = "usage-models"
version = "0.1.0"

[tool.release_audit]
target = "production"
baseline = "production"
actor = "usage-ci"
audit_log = "audit-reports/audit_log.jsonl"

[tool.release_audit.data_license.allowed]
production = ["CC-BY-4.0"]

[tool.release_audit.ip_headers]
allowed_licenses = ["Apache-2.0"]

[tool.release_audit.performance]
first_release = true
n_bootstrap = 200

[tool.release_audit.bias]
columns = ["site"]
min_n = 20

[tool.release_audit.model_card]
limitations = ["Trained on a public scikit-learn benchmark dataset; not validated on any real population."]

[tool.release_audit.approvals.risk]
model_complexity = 2
data_sensitivity = 2
deployment_scope = 2
change_magnitude = 2
testing_coverage = 2
rollback_capability = 2

[tool.release_audit.approvals.signers]
technical = "signers/technical.allowed_signers"
security = "signers/security.allowed_signers"
business = "signers/business.allowed_signers"
"""


@dataclass
class Usage:
    """The usage registry: its store, training repository (the project directory) and data files."""

    root: Path
    repo: Path
    commit: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(self.uri, self.uri)

    def project(self, into: Path) -> Path:
        """Lay the project directory (policy and allowed signers) into ``into``; returns it."""
        into.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.repo / "pyproject.toml", into / "pyproject.toml")
        shutil.copytree(self.root / "signers", into / "signers", dirs_exist_ok=True)
        (into / "tests").mkdir(exist_ok=True)
        return into


def make_training_repo(repo: Path) -> str:
    """The user's training repository: SPDX headers everywhere, LICENSES/, the policy; returns the commit."""
    repo.mkdir(parents=True)
    (repo / "usage_models.py").write_text(USAGE_MODELS, encoding="utf-8")
    (repo / "train.py").write_text(TRAIN_PY, encoding="utf-8")
    (repo / "requirements.txt").write_text(SPDX + "".join(p + "\n" for p in PIP), encoding="utf-8")
    (repo / "pyproject.toml").write_text(POLICY, encoding="utf-8")
    (repo / "LICENSES").mkdir()
    shutil.copy2(ROOT / "LICENSES" / "Apache-2.0.txt", repo / "LICENSES" / "Apache-2.0.txt")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "Training code", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- data (scikit-learn's bundled datasets; a seeded "site" column for the bias audit) ---------------
def _with_site(frame: Any, seed: int = SEED) -> Any:
    import numpy as np

    frame = frame.copy()
    frame["site"] = np.random.default_rng(seed).choice(["north", "south"], size=len(frame))
    return frame


def breast_cancer() -> tuple[Any, list[str], str]:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    return _with_site(bunch.frame), list(bunch.feature_names), "target"


def iris(species: bool = False) -> tuple[Any, list[str], str]:
    """Iris; ``species``: the label holds the species names instead of 0/1/2."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.frame
    if species:
        frame = frame.assign(target=[str(bunch.target_names[i]) for i in frame["target"]])
    return _with_site(frame), list(bunch.feature_names), "target"


def diabetes() -> tuple[Any, list[str], str]:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True)
    return _with_site(bunch.frame), list(bunch.feature_names), "target"


def wine_quality(n: int = 1200) -> Any:
    """A frame shaped like the UCI winequality-red.csv of MLflow's ElasticNet example (seeded, synthetic)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    centre = np.array([8.3, 0.53, 0.27, 2.5, 0.087, 15.9, 46.5, 0.9967, 3.31, 0.66, 10.4])
    spread = np.array([1.7, 0.18, 0.19, 1.4, 0.047, 10.5, 32.9, 0.0019, 0.15, 0.17, 1.07])
    x = centre + spread * rng.normal(size=(n, len(centre)))
    x = np.abs(x).round(4)
    quality = 5.6 + 0.36 * (x[:, 10] - 10.4) - 1.1 * (x[:, 1] - 0.53) + 0.9 * (x[:, 9] - 0.66)
    quality = np.clip(np.rint(quality + rng.normal(scale=0.5, size=n)), 3, 8).astype(int)
    frame = pd.DataFrame(x, columns=WINE_FEATURES)
    frame["quality"] = quality
    return _with_site(frame)


def split(frame: Any, test_size: float = 0.25, stratify: str | None = None) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, test_size=test_size, random_state=SEED,
                            stratify=frame[stratify] if stratify else None)


# -- the MLflow calls users make ---------------------------------------------------------------------
@contextmanager
def quiet_store(uri: str) -> Iterator[None]:
    from pytest_release_audit.handle.resolve import using_store

    with using_store(uri), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class User:
    """An MLflow user with the training repository checked out, logging into the usage store."""

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.keys: dict[str, Path] = {}

    def run_tags(self) -> dict[str, str]:
        """What MLflow records by itself when the script runs inside a git checkout."""
        return {"mlflow.source.git.commit": self.usage.commit, "mlflow.source.git.repoURL": str(self.usage.repo),
                "mlflow.source.git.branch": "main", "mlflow.source.name": "train.py"}

    def write(self, frame: Any, case: str, name: str, **to_csv: Any) -> Path:
        path = self.usage.data / case / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, **({"index": False} | to_csv))
        return path

    def log_file_dataset(self, path: Path, context: str, label: str, *, frame: Any = None,
                         with_sha: bool = True) -> Any:
        """The README's ``log_input(from_pandas(df, source=path, ...), context, tags)``; returns the frame."""
        import mlflow
        import pandas as pd

        df = pd.read_csv(path) if frame is None else frame
        tags = {"license": LICENSE}
        if with_sha:
            tags["data_sha256"] = sha256_file(path)
        dataset = mlflow.data.from_pandas(df, source=str(path), name=path.stem, targets=label)
        mlflow.log_input(dataset, context=context, tags=tags)
        return df

    def readme_datasets(self, case: str, train: Any, test: Any, label: str) -> tuple[Any, Any]:
        """Write train/test CSVs, read them back and log both README-style; returns the frames as read."""
        train_df = self.log_file_dataset(self.write(train, case, "train.csv"), "training", label)
        test_df = self.log_file_dataset(self.write(test, case, "test.csv"), "evaluation", label)
        return train_df, test_df

    def release(self, name: str, version: str, alias: str = "candidate") -> str:
        """What the user does after registering: alias, description, signed approvals."""
        import build_demo

        client = self.usage.client()
        client.set_registered_model_alias(name, alias, version)
        client.update_registered_model(name, description=(
            f"{name}: trained on a public scikit-learn benchmark dataset. Limitations: not validated on any "
            "real population."))
        if not self.keys:
            self.keys = build_demo.make_approvers(self.usage.root, APPROVERS)
        build_demo.approve_all(client, name, version, self.keys, APPROVERS, "usage tests")
        return version

    def register(self, run_id: str, name: str) -> str:
        import mlflow

        return str(mlflow.register_model(f"runs:/{run_id}/model", name).version)

    def start_run(self, name: str) -> Any:
        import mlflow

        return mlflow.start_run(run_name=f"train-{name}", tags=self.run_tags())


# -- the cases ---------------------------------------------------------------------------------------
def autolog_classifier(user: User, name: str, log_eval: bool) -> None:
    """``mlflow.sklearn.autolog(log_datasets=True)``, fit, score, ``register_model(runs:/...)``.

    autolog records the training frame (features only, source type ``code``: no file) and no
    evaluation data (``score`` only logs a metric). With ``log_eval`` the user also logs the test
    frame from memory (``from_pandas(test_df)``, no source: ``code`` too, with a licence tag) as
    the evaluation data. The files the user wrote (default ``to_csv``,
    index included) are in ``facts[name]`` for ``--audit-data``.
    """
    import mlflow
    from sklearn.linear_model import LogisticRegression

    frame, features, label = breast_cancer()
    train, test = split(frame, 0.2, stratify=label)
    X_train, y_train, X_test, y_test = train[features], train[label], test[features], test[label]
    mlflow.sklearn.autolog(log_datasets=True, log_input_examples=True, silent=True)
    try:
        with user.start_run(name) as run:
            clf = LogisticRegression(max_iter=5000, random_state=SEED)
            clf.fit(X_train, y_train)
            clf.score(X_test, y_test)
            if log_eval:
                mlflow.log_input(mlflow.data.from_pandas(test, name="test", targets=label), context="evaluation",
                                 tags={"license": LICENSE})
    finally:
        mlflow.sklearn.autolog(disable=True)
    user.release(name, user.register(run.info.run_id, name))
    user.usage.facts[name] = {"dataset": user.write(X_train, name, "train.csv", index=True),
                              "test": user.write(test, name, "test.csv", index=True)}


def autolog_with_files(user: User, name: str) -> None:
    """``mlflow.sklearn.autolog()`` with its defaults (datasets logged) *and* the README's files.

    autolog records the frames passed to ``fit`` / ``score`` without a file (``dataset``, contexts
    ``train`` / ``eval``) beside the user's ``log_input`` of the CSVs: the file-less ones are set
    aside, the files audited.
    """
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, features, label = breast_cancer()
    train, test = split(frame, 0.2, stratify=label)
    mlflow.sklearn.autolog(silent=True)
    try:
        with user.start_run(name) as run:
            train_df, test_df = user.readme_datasets(name, train, test, label)
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
            clf.fit(train_df[features], train_df[label])
            clf.score(test_df[features], test_df[label])
    finally:
        mlflow.sklearn.autolog(disable=True)
    user.release(name, user.register(run.info.run_id, name))


def plain_log_model(user: User, name: str) -> None:
    """``log_model(clf, name="model", signature=infer_signature(X, clf.predict(X)))`` + ``register_model``."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, features, label = breast_cancer()
    train, test = split(frame, 0.2, stratify=label)
    with user.start_run(name) as run:
        train_df, test_df = user.readme_datasets(name, train, test, label)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
        mlflow.log_params({"C": 1.0, "max_iter": 1000, "random_state": SEED})
        clf.fit(train_df[features], train_df[label])
        mlflow.log_metric("accuracy", float(clf.score(test_df[features], test_df[label])))
        X = train_df[features]
        mlflow.sklearn.log_model(clf, name="model", signature=infer_signature(X, clf.predict(X)),
                                 input_example=X.head(3), pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


def elasticnet_wine(user: User, name: str) -> None:
    """MLflow's classic ElasticNet example (alpha, l1_ratio; rmse, r2, mae), label ``quality``."""
    import mlflow
    import numpy as np
    from mlflow.models import infer_signature
    from sklearn.linear_model import ElasticNet
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    train, test = split(wine_quality())
    with user.start_run(name) as run:
        train, test = user.readme_datasets(name, train, test, "quality")
        train_x, test_x = train.drop(["quality", "site"], axis=1), test.drop(["quality", "site"], axis=1)
        train_y, test_y = train[["quality"]], test[["quality"]]
        alpha, l1_ratio = 0.05, 0.05
        lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
        lr.fit(train_x, train_y)
        predicted = lr.predict(test_x)
        mlflow.log_param("alpha", alpha)
        mlflow.log_param("l1_ratio", l1_ratio)
        mlflow.log_param("random_state", 42)
        mlflow.log_metric("rmse", float(np.sqrt(mean_squared_error(test_y, predicted))))
        mlflow.log_metric("r2", float(r2_score(test_y, predicted)))
        mlflow.log_metric("mae", float(mean_absolute_error(test_y, predicted)))
        predictions = lr.predict(train_x)
        mlflow.sklearn.log_model(lr, name="model", signature=infer_signature(train_x, predictions),
                                 input_example=train_x.head(3), pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


def sklearn_readme(user: User, name: str, data: Callable[[], tuple[Any, list[str], str]], make: Callable[[], Any],
                   metrics: Callable[[Any, Any, Any], dict[str, float]], stratify: bool = True) -> None:
    """A README-following scikit-learn model: files logged with data_sha256 and licence, signature, example."""
    import mlflow
    from mlflow.models import infer_signature

    frame, features, label = data()
    train, test = split(frame, 0.4 if len(frame) < 200 else 0.25, stratify=label if stratify else None)
    with user.start_run(name) as run:
        train_df, test_df = user.readme_datasets(name, train, test, label)
        model = make().fit(train_df[features], train_df[label])
        mlflow.log_params({"model_type": type(model).__name__, "random_state": SEED})
        mlflow.log_metrics(metrics(model, test_df[features], test_df[label]))
        X = train_df[features]
        mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                                 input_example=X.head(3), pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


def multiclass_iris(user: User, name: str) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    sklearn_readme(user, name, iris, lambda: LogisticRegression(max_iter=1000, random_state=SEED),
                   lambda m, X, y: {"accuracy": float(accuracy_score(y, m.predict(X))),
                                    "f1_macro": float(f1_score(y, m.predict(X), average="macro"))})


def regressor_diabetes(user: User, name: str) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error, r2_score

    sklearn_readme(user, name, diabetes, lambda: Ridge(alpha=1.0, random_state=SEED),
                   lambda m, X, y: {"r2": float(r2_score(y, m.predict(X))),
                                    "rmse": float(mean_squared_error(y, m.predict(X)) ** 0.5)},
                   stratify=False)


def custom_pyfunc(user: User, name: str, cls_name: str, data: Callable[[], tuple[Any, list[str], str]]) -> None:
    """``mlflow.pyfunc.log_model(name="model", python_model=usage_models.<cls_name>(clf, features))``."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if str(user.usage.repo) not in sys.path:
        sys.path.insert(0, str(user.usage.repo))
    import usage_models

    frame, features, label = data()
    train, test = split(frame, 0.4 if len(frame) < 200 else 0.2, stratify=label)
    with user.start_run(name) as run:
        train_df, test_df = user.readme_datasets(name, train, test, label)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
        clf.fit(train_df[features], train_df[label])
        mlflow.log_params({"model_type": cls_name, "random_state": SEED})
        mlflow.log_metric("accuracy", float(clf.score(test_df[features], test_df[label])))
        if test_df[label].nunique() == 2:
            proba = clf.predict_proba(test_df[features])[:, 1]
            mlflow.log_metric("roc_auc", float(roc_auc_score(test_df[label], proba)))
        model = getattr(usage_models, cls_name)(clf, features)
        X = train_df[features]
        mlflow.pyfunc.log_model(name="model", python_model=model, code_paths=[str(user.usage.repo / "usage_models.py")],
                                signature=infer_signature(X, model.predict(None, X.head(5))),
                                input_example=X.head(3), pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


def split_frames(user: User, name: str, index: bool) -> None:
    """Frames fresh from ``train_test_split`` logged as they are (``from_pandas(train_df, source=path)``,
    no ``data_sha256``); the CSV written with ``index=index``."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, features, label = breast_cancer()
    train, test = split(frame, 0.2, stratify=label)
    with user.start_run(name) as run:
        for df, context, file in ((train, "training", "train.csv"), (test, "evaluation", "test.csv")):
            path = user.write(df, name, file, index=index)
            user.log_file_dataset(path, context, label, frame=df, with_sha=False)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
        clf.fit(train[features], train[label])
        mlflow.log_params({"C": 1.0, "random_state": SEED})
        mlflow.log_metric("accuracy", float(clf.score(test[features], test[label])))
        X = train[features]
        mlflow.sklearn.log_model(clf, name="model", signature=infer_signature(X, clf.predict(X)),
                                 input_example=X.head(3), pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


def odd_label_no_signature(user: User, name: str) -> None:
    """The label is ``diagnosis_outcome`` (not a conventional name) and the model has no signature."""
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, features, label = breast_cancer()
    frame = frame.rename(columns={label: "diagnosis_outcome"})
    train, test = split(frame, 0.2, stratify="diagnosis_outcome")
    with user.start_run(name) as run:
        train_df, test_df = user.readme_datasets(name, train, test, "diagnosis_outcome")
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
        clf.fit(train_df[features], train_df["diagnosis_outcome"])
        mlflow.log_params({"C": 1.0, "random_state": SEED})
        mlflow.log_metric("accuracy", float(clf.score(test_df[features], test_df["diagnosis_outcome"])))
        mlflow.sklearn.log_model(clf, name="model", pip_requirements=PIP)
    user.release(name, user.register(run.info.run_id, name))


#: registered model -> how it is built
CASE_MODELS: dict[str, Callable[[User, str], None]] = {
    "autolog_bare": lambda u, n: autolog_classifier(u, n, log_eval=False),
    "autolog_classifier": lambda u, n: autolog_classifier(u, n, log_eval=True),
    "autolog_with_files": autolog_with_files,
    "plain_log_model": plain_log_model,
    "elasticnet_wine": elasticnet_wine,
    "multiclass_iris": multiclass_iris,
    "regressor_diabetes": regressor_diabetes,
    "pyfunc_proba_n": lambda u, n: custom_pyfunc(u, n, "ProbaVector", breast_cancer),
    "pyfunc_proba_n1": lambda u, n: custom_pyfunc(u, n, "ProbaColumn", breast_cancer),
    "pyfunc_proba_n2": lambda u, n: custom_pyfunc(u, n, "ProbaMatrix", breast_cancer),
    "pyfunc_proba_nk": lambda u, n: custom_pyfunc(u, n, "ProbaMatrix", iris),
    "pyfunc_proba_frame": lambda u, n: custom_pyfunc(u, n, "ProbaFrame", lambda: iris(species=True)),
    "pyfunc_labels": lambda u, n: custom_pyfunc(u, n, "Labels", breast_cancer),
    "split_index_false": lambda u, n: split_frames(u, n, index=False),
    "split_index_true": lambda u, n: split_frames(u, n, index=True),
    "odd_label_no_signature": odd_label_no_signature,
}


def build_usage(root: Path, template: Path | None = None, models: tuple[str, ...] | None = None) -> Usage:
    """The usage registry with every case model (or ``models``) in ``root``."""
    import logging

    root.mkdir(parents=True, exist_ok=True)
    if template is not None:
        shutil.copy2(template, root / "mlflow.db")
    else:
        empty_store(root / "mlflow.db")
    usage = Usage(root=root, repo=root / "repo", commit=make_training_repo(root / "repo"))
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    user = User(usage)
    with quiet_store(usage.uri):
        import mlflow

        for name, build in CASE_MODELS.items():
            if models is None or name in models:
                # One experiment per model: MLflow keeps one dataset entity per (experiment, name,
                # digest), so a second log_input of the same frame under the same name in the same
                # experiment silently gets the FIRST one's source (see README.md).
                experiment = usage.client().create_experiment(
                    name, artifact_location=(root / "mlartifacts" / name).as_uri())
                mlflow.set_experiment(experiment_id=experiment)
                build(user, name)
    return usage
