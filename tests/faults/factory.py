# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A factory of small, real MLflow registries with one fault each, and a runner that audits them.

Used by the fault matrix (``conftest.py`` holds its fixtures) and by the hostile-input and
no-network tests.

Every model here is trained and logged the standard MLflow way: datasets written as CSV, read
back, logged with ``mlflow.log_input(mlflow.data.from_pandas(df, source=PATH, name=..., targets=...),
context=..., tags={"data_sha256": ..., "license": "Internal-Only"})``, a signature and an input
example, params (with a seed), a metric, a ``run_manifest.json`` artifact, and the
``mlflow.source.git.commit`` of a tiny git repository whose files carry SPDX headers.

Cost: creating an MLflow SQLite store runs its schema migrations (seconds). The store is created
once per session and copied, empty, for each registry; models are then cheap (a fraction of a
second each). One shared registry (``world``) holds a clean model plus one registered model per
read-only fault; faults that would mutate shared state build their own.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TRAINING_CODE = EXAMPLES / "training_code"
SEED = 20260101
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fault Matrix",
    "GIT_AUTHOR_EMAIL": "faults@example.invalid",
    "GIT_COMMITTER_NAME": "Fault Matrix",
    "GIT_COMMITTER_EMAIL": "faults@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-05T10:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-05T10:00:00+00:00",
}
SPDX = "# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors\n# SPDX-License-Identifier: Apache-2.0\n"
BIN_FEATURES = ["f1", "f2", "f3", "f4"]
NOTES = ["Routine follow-up visit.", "Imaging reviewed, plan unchanged.", "Tolerating therapy well."]

TINY_MODELS = SPDX + '''"""Pyfunc models of the fault matrix: a Cox risk score and two deliberately broken models."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd


class CoxRisk(mlflow.pyfunc.PythonModel):
    """Partial hazard of a fitted lifelines CoxPHFitter (higher = higher risk)."""

    def __init__(self, fitter, features):
        self.fitter = fitter
        self.features = list(features)

    def predict(self, context, model_input, params=None):
        scores = self.fitter.predict_partial_hazard(model_input[self.features])
        return pd.Series(scores.to_numpy(dtype=float), name="risk")


class RaisingModel(mlflow.pyfunc.PythonModel):
    """A model whose scoring backend is gone."""

    def predict(self, context, model_input, params=None):
        raise RuntimeError("scoring backend unavailable")


class NaNModel(mlflow.pyfunc.PythonModel):
    """A model that returns NaN for every row."""

    def predict(self, context, model_input, params=None):
        return pd.Series(np.full(len(model_input), np.nan), name="risk")
'''
TRAIN_PY = SPDX + '''"""Training entry point of the fault-matrix models (tests/faults/factory.py runs the steps)."""

from __future__ import annotations


def describe() -> str:
    """What this repository trains."""
    return "logistic regression and Cox models on seeded tabular data"
'''

#: The matrix policy: every fast check can pass on a clean model (see test_control_*).
BASE_POLICY = """\
[tool.release_audit]
target = "production"
baseline = "production"
actor = "fault-matrix"
audit_log = "audit-reports/audit_log.jsonl"

[tool.release_audit.task]
id_columns = ["patient_id"]

[tool.release_audit.data_integrity]
require_full_digest = true

[tool.release_audit.evaluation_artifacts]
required = ["run_manifest.json"]

[tool.release_audit.pii]
ignore_entities = ["DATE_TIME", "URL"]

[tool.release_audit.pii.skip_columns]
patient_id = "pseudonymous study id"

[tool.release_audit.data_license.allowed]
production = ["Internal-Only"]

[tool.release_audit.ip_headers]
allowed_licenses = ["Apache-2.0"]

[tool.release_audit.performance]
first_release = true
n_bootstrap = 200

[tool.release_audit.bias]
columns = ["site"]
min_n = 20

[tool.release_audit.model_card]
limitations = ["Synthetic data: seeded test data, not a clinical population."]

[tool.release_audit.approvals.risk]
model_complexity = 2
data_sensitivity = 2
deployment_scope = 2
change_magnitude = 2
testing_coverage = 2
rollback_capability = 2
{extra}
"""

#: Built-in check -> the module of the built-in suite that holds it (for --deselect).
CHECK_MODULES = {
    "lineage": "test_lineage.py",
    "data_integrity": "test_lineage.py",
    "evaluation_artifacts": "test_lineage.py",
    "signature": "test_lineage.py",
    "pii": "test_data_governance.py",
    "leakage": "test_data_governance.py",
    "data_license": "test_data_governance.py",
    "ip_headers": "test_code.py",
    "security": "test_code.py",
    "dependencies": "test_code.py",
    "reproducibility": "test_code.py",
    "performance_gate": "test_performance.py",
    "bias": "test_performance.py",
    "model_card": "test_model_card.py",
    "approvals": "test_approvals.py",
    "serving_contract": "test_serving.py",
    "latency": "test_serving.py",
    "drift": "test_serving.py",
    "data_validation": "test_release_evidence.py",
    "operational_readiness": "test_release_evidence.py",
}
#: The checks that run in seconds on a small model (the matrix's default selection).
FAST_CHECKS = ("lineage", "data_integrity", "evaluation_artifacts", "signature", "performance_gate", "bias")


def only_checks(checks: Iterable[str]) -> list[str]:
    """pytest arguments that run only ``checks`` of the built-in suite (a partial run: never READY)."""
    return [f"--audit-checks={','.join(checks)}"]


#: The matrix's approvers (signed approvals; keys and allowed_signers under the world's root).
APPROVERS = {"technical": "a.tech@example.org", "security": "b.sec@example.org", "business": "c.biz@example.org"}


def subprocess_audit(project: Path, uri: str, model: str, columns: int = 120) -> dict[str, Any]:
    """``pytest --audit-model=model`` in ``project`` as CI runs it (a fresh process, no inherited
    pytest options); returns the process, the report set directory and its JSON report."""
    drop = ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "MLFLOW_TRACKING_URI")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"PY_COLORS": "0", "COLUMNS": str(columns), "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    argv = [sys.executable, "-m", "pytest", f"--audit-model={model}", f"--audit-tracking-uri={uri}",
            "--audit-out=out", "-p", "no:cacheprovider", "-p", "no:randomly"]
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, timeout=600)
    out = project / "out"
    assert (out / "audit_report.json").is_file(), done.stdout.decode("utf-8", "replace")[-4000:]
    return {"done": done, "out": out, "project": project,
            "report": json.loads((out / "audit_report.json").read_text("utf-8"))}


def policy_text(extra: str = "", signers: Path | None = None) -> str:
    """The matrix policy, with ``extra`` TOML appended (and the allowed signers under ``signers``)."""
    table = ""
    if signers is not None:
        table = "\n[tool.release_audit.approvals.signers]\n" + "".join(
            f'{role} = "{signers / f"{role}.allowed_signers"}"\n' for role in APPROVERS)
    return BASE_POLICY.format(extra=extra) + table


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- data -----------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def binary_frame(n: int, seed: int, prefix: str = "Q") -> Any:
    """Seeded binary-classification data with a patient id, a site and a scrubbed note."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(BIN_FEATURES))).round(6)
    logit = 1.4 * x[:, 0] - 0.9 * x[:, 1] + 0.5 * x[:, 2]
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(x, columns=BIN_FEATURES)
    frame.insert(0, "patient_id", [f"{prefix}{seed % 1000:03d}{i:05d}" for i in range(n)])
    frame.insert(1, "site", rng.choice(["north", "south"], size=n))
    frame["note"] = rng.choice(NOTES, size=n)
    frame["label"] = label
    return frame


def clinical_table() -> Any:
    """The demo's clinical survival table (GBSG2 from lifelines, synthetic identities)."""
    if str(TRAINING_CODE) not in sys.path:
        sys.path.insert(0, str(TRAINING_CODE))
    from clinical_data import curated_table

    return curated_table(SEED)


def write_csv(df: Any, path: Path, **kwargs: Any) -> Any:
    """Write ``df`` and return it as read back (what an auditor reads, so digests match)."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, **kwargs)
    return pd.read_csv(path, float_precision="round_trip", encoding=kwargs.get("encoding", "utf-8"))


def edit_csv_cell(path: Path, row: int, column: int, change: Callable[[str], str]) -> tuple[str, str]:
    """Change one cell of data row ``row`` (0-based) in place; the columns before it hold no commas."""
    lines = path.read_bytes().decode("utf-8").split("\n")
    cells = lines[row + 1].split(",", column + 1)
    before = cells[column]
    cells[column] = change(before)
    lines[row + 1] = ",".join(cells)
    path.write_bytes("\n".join(lines).encode("utf-8"))
    return before, cells[column]


# -- registry ---------------------------------------------------------------------------------------
@dataclass
class World:
    """One real MLflow registry with its data files and training repository."""

    root: Path
    repo: Path
    commit: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(self.uri, self.uri)


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(repo: Path) -> str:
    """A tiny git repository with SPDX headers on every file; returns its commit."""
    repo.mkdir(parents=True)
    (repo / "tiny_models.py").write_text(TINY_MODELS, encoding="utf-8")
    (repo / "train.py").write_text(TRAIN_PY, encoding="utf-8")
    (repo / "requirements.txt").write_text(SPDX + "scikit-learn==1.9.1\nlifelines==0.30.3\n", encoding="utf-8")
    (repo / "LICENSES").mkdir()
    shutil.copy2(ROOT / "LICENSES" / "Apache-2.0.txt", repo / "LICENSES" / "Apache-2.0.txt")
    git("init", "-q", "-b", "main", cwd=repo)
    git("config", "user.name", GIT_ENV["GIT_AUTHOR_NAME"], cwd=repo)
    git("config", "user.email", GIT_ENV["GIT_AUTHOR_EMAIL"], cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "Fault-matrix training code", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def empty_store(path: Path) -> Path:
    """A migrated, empty MLflow SQLite store at ``path`` (the slow part of making a registry)."""
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import prepare_environment

    prepare_environment()
    uri = f"sqlite:///{path}"
    MlflowClient(uri, uri).search_experiments()
    return path


def new_world(root: Path, template: Path) -> World:
    """An empty registry (a copy of the migrated template store) plus its training repository."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template, root / "mlflow.db")
    commit = make_repo(root / "repo")
    world = World(root=root, repo=root / "repo", commit=commit)
    world.client().create_experiment("faults", artifact_location=(root / "mlartifacts").as_uri())
    return world


class Trainer:
    """Logs models into a World the standard MLflow way (global MLflow state restored after)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _experiment(self) -> str:
        return self.world.client().get_experiment_by_name("faults").experiment_id

    def log_dataset(self, df: Any, path: Path, name: str, context: str, targets: str) -> None:
        import mlflow

        dataset = mlflow.data.from_pandas(df, source=str(path.resolve()), name=name, targets=targets)
        mlflow.log_input(dataset, context=context, tags={
            "data_sha256": sha256_file(path), "license": "Internal-Only", "pii_status": "scrubbed",
            "data_product": "dp://faults/tabular/v1"})

    def run(self, name: str, train: tuple[Any, Path], evaluation: tuple[Any, Path], targets: str,
            fit: Callable[[Any], tuple[Any, Any, list[str], str]], alias: str = "candidate",
            approve: bool = True) -> str:
        """Log one training run: datasets, params, metric, manifest, the model; returns its version.

        ``fit(train_df)`` returns ``(model, flavor_module_or_None, features, task)``; a pyfunc
        ``PythonModel`` is logged with the repository's ``tiny_models.py`` as code.
        """
        import warnings

        import mlflow
        import numpy as np
        from mlflow.models import infer_signature

        from pytest_release_audit.handle.resolve import using_store

        train_df, train_path = train
        eval_df, eval_path = evaluation
        tags = {"mlflow.source.git.commit": self.world.commit, "mlflow.source.git.repoURL": str(self.world.repo),
                "mlflow.source.git.branch": "main", "mlflow.source.name": "train.py"}
        with using_store(self.world.uri), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mlflow.start_run(experiment_id=self._experiment(), run_name=f"train-{name}", tags=tags):
                self.log_dataset(train_df, train_path, f"{name}_train", "training", targets)
                self.log_dataset(eval_df, eval_path, f"{name}_eval", "evaluation", targets)
                model, flavor, features, task = fit(train_df)
                mlflow.log_params({"seed": SEED, "model_type": type(model).__name__, "features": ",".join(features)})
                mlflow.log_metric("train_rows", float(len(train_df)))
                mlflow.log_dict({"model": name, "features": features, "rows": {"train": len(train_df),
                                 "evaluation": len(eval_df)}, "data_sha256": {"train": sha256_file(train_path),
                                 "evaluation": sha256_file(eval_path)}}, "run_manifest.json")
                X = train_df[features]
                signature = infer_signature(X, np.zeros(len(X)))
                common = {"name": "model", "signature": signature, "input_example": X.head(3),
                          "registered_model_name": name,
                          "pip_requirements": ["scikit-learn==1.9.1", "lifelines==0.30.3", "mlflow==3.17.2"]}
                if flavor is None:
                    code = [str(self.world.repo / "tiny_models.py")]
                    info = mlflow.pyfunc.log_model(python_model=model, code_paths=code, **common)
                else:
                    info = flavor.log_model(model, **common)
            version = str(info.registered_model_version)
            client = self.world.client()
            if alias:
                client.set_registered_model_alias(name, alias, version)
            client.update_registered_model(name, description=(
                f"Fault-matrix model {name}. Limitations: trained on seeded synthetic or public data only."))
            for key, value in {"task": task, "modality": "Tabular", "architecture": type(model).__name__}.items():
                client.set_model_version_tag(name, version, key, value)
            if approve:
                import build_demo

                keys = build_demo.make_approvers(self.world.root, APPROVERS)
                build_demo.approve_all(client, name, version, keys, APPROVERS, "fault matrix")
        return version

    # -- the two model kinds -------------------------------------------------------------------
    def binary(self, name: str, train: Any = None, evaluation: Any = None, *, model: Any = None,
               seed: int = SEED, alias: str = "candidate", encoding: str = "utf-8",
               eval_suffix: str = ".csv", approve: bool = True) -> str:
        """A classifier (sklearn LogisticRegression, or the pyfunc ``model``) on seeded data."""
        import mlflow.sklearn

        data = self.world.data / name
        full = binary_frame(500, seed)
        train = full.iloc[:300].reset_index(drop=True) if train is None else train
        evaluation = full.iloc[300:].reset_index(drop=True) if evaluation is None else evaluation
        train_path = data / "train.csv"
        eval_path = data / f"eval{eval_suffix}"
        train = write_csv(train, train_path)
        if eval_suffix == ".csv":
            evaluation = write_csv(evaluation, eval_path, encoding=encoding)
        else:  # a format the audit must refuse (JSON)
            eval_path.parent.mkdir(parents=True, exist_ok=True)
            evaluation.to_json(eval_path, orient="records")

        def fit(df: Any) -> tuple[Any, Any, list[str], str]:
            if model is not None:
                return model, None, BIN_FEATURES, "binary classification"
            from sklearn.linear_model import LogisticRegression

            clf = LogisticRegression(random_state=SEED, max_iter=500).fit(df[BIN_FEATURES], df["label"])
            return clf, mlflow.sklearn, BIN_FEATURES, "binary classification"

        return self.run(name, (train, train_path), (evaluation, eval_path), "label", fit, alias=alias,
                        approve=approve)

    def survival(self, name: str, train: Any, evaluation: Any, *, approve: bool = True) -> str:
        """A Cox proportional-hazards risk model (pyfunc ``CoxRisk``) on clinical data."""
        if str(self.world.repo) not in sys.path:
            sys.path.insert(0, str(self.world.repo))
        import tiny_models
        from lifelines import CoxPHFitter

        features = ["age", "tumor_size", "tumor_grade", "positive_nodes", "progesterone_receptor"]
        data = self.world.data / name
        train_path, eval_path = data / "train.csv", data / "eval.csv"
        train = write_csv(train, train_path)
        evaluation = write_csv(evaluation, eval_path)

        def fit(df: Any) -> tuple[Any, Any, list[str], str]:
            fitter = CoxPHFitter(penalizer=0.01).fit(df[features + ["os_days", "event"]], "os_days", "event")
            return tiny_models.CoxRisk(fitter, features), None, features, "survival (time to event)"

        return self.run(name, (train, train_path), (evaluation, eval_path), "event", fit, approve=approve)

    def broken(self, name: str, cls_name: str) -> str:
        """A pyfunc from ``tiny_models`` (RaisingModel / NaNModel) on the binary data."""
        if str(self.world.repo) not in sys.path:
            sys.path.insert(0, str(self.world.repo))
        import tiny_models

        return self.binary(name, model=getattr(tiny_models, cls_name)())


def clinical_split() -> tuple[Any, Any]:
    """The clinical table split at patient level (as the demo does)."""
    table = clinical_table()
    from clinical_data import patient_split

    return patient_split(table)


def model_artifact_dir(world: World, name: str, version: str) -> Path:
    """The local directory holding a model version's MLmodel and weights."""
    import mlflow

    from pytest_release_audit.handle.resolve import using_store

    with using_store(world.uri):
        mv = world.client().get_model_version(name, version)
        model_id = mv.model_id or mv.source.removeprefix("models:/")
        location = mlflow.get_logged_model(model_id).artifact_location
    return Path(location.removeprefix("file://"))


# -- the shared registry ------------------------------------------------------------------------------
def build_shared_world(root: Path, template: Path) -> World:
    """The clean models plus one registered model per read-only fault (see README.md)."""
    import numpy as np

    world = new_world(root, template)
    t = Trainer(world)
    facts = world.facts
    t.binary("clean_clf")
    train_s, eval_s = clinical_split()
    t.survival("clean_surv", train_s, eval_s)

    # dataset source missing / unreadable / not CSV / not UTF-8 / empty
    t.binary("f_src_missing")
    (world.data / "f_src_missing" / "train.csv").unlink()
    t.binary("f_src_unreadable")
    (world.data / "f_src_unreadable" / "train.csv").chmod(0o000)
    facts["unreadable"] = world.data / "f_src_unreadable" / "train.csv"
    t.binary("f_not_csv", eval_suffix=".json")
    frame = binary_frame(500, SEED + 1)
    latin = frame.iloc[300:].reset_index(drop=True)
    latin.loc[7, "note"] = "Café visit, naïve patient."  # written as latin-1 below: not UTF-8
    t.binary("f_latin1", frame.iloc[:300].reset_index(drop=True), latin, encoding="latin-1", seed=SEED + 1)
    empty = binary_frame(500, SEED).iloc[0:0]
    t.binary("f_empty", evaluation=empty)

    # digest mismatch in the first rows (MLflow's digest and ours both see it)
    t.binary("f_digest_head")
    facts["digest_head"] = edit_csv_cell(world.data / "f_digest_head" / "eval.csv", 3, 2,
                                         lambda v: repr(float(v) + 0.5))

    # digest mismatch at row 15,000 of a 20,000-row table: invisible to MLflow's digest
    table = clinical_table()
    big = table.sample(n=20_000, replace=True, random_state=SEED).reset_index(drop=True)
    big["patient_id"] = [f"R{i:06d}" for i in range(len(big))]
    t.survival("f_digest_15k", big, eval_s)
    path = world.data / "f_digest_15k" / "train.csv"
    run_id = world.client().get_model_version("f_digest_15k", "1").run_id
    inputs = world.client().get_run(run_id).inputs.dataset_inputs
    facts["digest_15k_logged"] = next(d.dataset.digest for d in inputs if d.dataset.name.endswith("train"))
    facts["digest_15k_edit"] = edit_csv_cell(path, 15_000, 3, lambda v: str(int(v) + 1))
    facts["digest_15k_path"] = path

    # survival outcomes that make the metrics undefined
    nan_eval = eval_s.copy()
    nan_eval["os_days"] = nan_eval["os_days"].astype(float)
    nan_eval["event"] = nan_eval["event"].astype(float)
    nan_eval.loc[[2, 5, 11], "os_days"] = np.nan
    nan_eval.loc[[4, 9], "event"] = np.nan
    t.survival("f_nan_outcome", train_s, nan_eval)
    censored = eval_s.copy()
    censored["event"] = 0
    t.survival("f_all_censored", train_s, censored)
    one_class = binary_frame(500, SEED + 2)
    evaluation = one_class.iloc[300:].reset_index(drop=True)
    evaluation["label"] = 0
    t.binary("f_single_class", one_class.iloc[:300].reset_index(drop=True), evaluation, seed=SEED + 2)

    # the evaluation data drawn from another population than the training data (f1 shifted)
    drift = binary_frame(500, SEED + 3)
    shifted = drift.iloc[300:].reset_index(drop=True)
    shifted["f1"] = (shifted["f1"] + 1.5).round(6)
    t.binary("f_drift", drift.iloc[:300].reset_index(drop=True), shifted, seed=SEED + 3)

    # models that cannot score
    t.broken("f_predict_raises", "RaisingModel")
    t.broken("f_returns_nan", "NaNModel")

    # a baseline whose model artifacts are gone
    t.binary("f_baseline_gone", alias="production", approve=False)
    gone = model_artifact_dir(world, "f_baseline_gone", "1")
    for item in gone.iterdir():
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()
    t.binary("f_baseline_gone", seed=SEED)

    # a version registered without a source run
    client = world.client()
    client.create_registered_model("f_no_run")
    client.create_model_version("f_no_run", source=(root / "mlartifacts").as_uri())
    client.set_registered_model_alias("f_no_run", "candidate", "1")
    return world


# -- running audits -------------------------------------------------------------------------------------
REPORTS = ("audit_report.json", "audit_report.md", "audit_report.html", "junit-audit.xml", "model_card.md")
_PREVIOUS: dict[str, Path] = {}


class Runner:
    """Runs ``pytest --audit-model=...`` in a pytester directory after a good audit left its reports.

    The good audit (clean model, lineage only) runs once per session into a template directory;
    each case starts from a copy of its reports and trail, so "the previous reports and trail
    survive the fault" is checked without paying for a second audit per case.
    """

    def __init__(self, pytester: pytest.Pytester, world: World, cache: Path) -> None:
        self.pytester = pytester
        self.world = world
        self.cache = cache
        (pytester.path / "tests").mkdir(exist_ok=True)
        self.policy()
        self.previous_trail = b""
        self._previous_reports: dict[str, bytes] = {}
        self.facts: dict[str, Any] = {}

    @property
    def out(self) -> Path:
        return self.pytester.path / "out"

    @property
    def trail(self) -> Path:
        return self.pytester.path / "audit-reports" / "audit_log.jsonl"

    def policy(self, extra: str = "") -> None:
        self.pytester.makefile(".toml", pyproject=policy_text(extra, self.world.root / "signers"))

    def argv(self, model: str, *args: str, uri: str | None = None, out: Path | None = None) -> list[str]:
        return [f"--audit-model={model}", f"--audit-tracking-uri={uri or self.world.uri}",
                f"--audit-out={out or self.out}", "-p", "no:cacheprovider", *args]

    def run(self, model: str, *args: str, uri: str | None = None, out: Path | None = None) -> pytest.RunResult:
        return self.pytester.runpytest(*self.argv(model, *args, uri=uri, out=out))

    def with_previous_audit(self) -> None:
        """Put a good earlier audit's reports (in ``out``) and trail (one record) in place."""
        key = str(self.world.root)
        if key not in _PREVIOUS:
            # A full run: the release evidence a fault must not damage. Its reports are written into
            # the snapshot itself, which no test touches: the trail record names them by path, so
            # it must not name files in the first test's own ``out`` (that test's fault may replace
            # them, and every later test that verifies the copied trail would then see an edit).
            snapshot = self.cache / "previous"
            self.policy()
            result = self.run("clean_clf", out=snapshot / "out")
            assert result.ret == 0, result.stdout.str()
            shutil.copytree(self.trail.parent, snapshot / "audit-reports")
            _PREVIOUS[key] = snapshot
            self.policy()
        snapshot = _PREVIOUS[key]
        shutil.rmtree(self.out, ignore_errors=True)
        shutil.copytree(snapshot / "out", self.out)
        shutil.rmtree(self.trail.parent, ignore_errors=True)
        shutil.copytree(snapshot / "audit-reports", self.trail.parent)
        self.previous_trail = self.trail.read_bytes()
        self._previous_reports = {n: (self.out / n).read_bytes() for n in REPORTS if (self.out / n).is_file()}
        assert self.previous_trail and self._previous_reports

    def report(self) -> dict[str, Any]:
        """The newest report (a partial run's is under ``out/partial/``)."""
        found = [p for p in (self.out / "audit_report.json", self.out / "partial" / "audit_report.json") if p.is_file()]
        assert found, f"no audit_report.json under {self.out}"
        return json.loads(max(found, key=lambda p: p.stat().st_mtime_ns).read_text(encoding="utf-8"))

    def outcomes(self) -> dict[str, str]:
        return {c["id"]: c["outcome"] for c in self.report()["checks"]}

    def assert_previous_intact(self, *, reports_rewritten: bool = True, verdict: str = "BLOCKED") -> None:
        """The earlier trail records are unchanged and verify; the reports are whole, never half-written."""
        from pytest_release_audit.trail import verify_trail

        now = self.trail.read_bytes()
        assert now.startswith(self.previous_trail), "earlier audit-trail records were changed"
        check = verify_trail(self.trail)
        assert check.ok, check.reason
        before = self.previous_trail.count(b"\n")
        added = now.count(b"\n") - before
        if reports_rewritten:
            assert added == 1, f"expected one new trail record, found {added}"
            last = json.loads(now.splitlines()[-1])
            assert last["verdict"] == verdict
            report = self.report()
            assert report["status"] == verdict
            written = self.out / "partial" if last.get("partial") else self.out
            if last.get("partial"):  # a partial run never touches the full run's set
                for name, data in self._previous_reports.items():
                    assert (self.out / name).read_bytes() == data, f"{name} of the previous audit was changed"
            ET.parse(written / "junit-audit.xml")  # parses
            for name in ("audit_report.md", "audit_report.html", "model_card.md"):
                text = (written / name).read_text(encoding="utf-8")
                assert verdict in text or name == "model_card.md", name
            leftovers = [p.name for p in self.out.parent.glob(".release-audit-new-*")]
            assert not leftovers, f"a new report set was left behind: {leftovers}"
        else:
            # Whether an audit that wrote no report leaves a (BLOCKED) trail record is the product's
            # choice; it may never leave a READY one, nor more than one.
            assert added <= 1, f"expected at most one new trail record, found {added}"
            if added:
                assert json.loads(now.splitlines()[-1])["verdict"] == "BLOCKED"
            for name, data in self._previous_reports.items():
                assert (self.out / name).read_bytes() == data, f"{name} of the previous audit was changed"


def fault_lines(result: pytest.RunResult, pattern: str) -> list[str]:
    """Terminal lines (stdout, then stderr) matching ``pattern`` (fnmatch)."""
    return [line for line in result.stdout.lines + result.stderr.lines if fnmatch.fnmatch(line, pattern)]


#: A frame of this package's own code in a pytest traceback (``.../pytest_release_audit/x.py:12: in f``).
_OWN_FRAME = re.compile(r"pytest_release_audit/\S+\.py:\d+: ")


def assert_no_traceback(result: pytest.RunResult) -> None:
    """No Python traceback, no INTERNALERROR and no traceback through the plugin's own code.

    A user's own compliance test that raises keeps pytest's usual failure display (it is their
    code to debug); a traceback through ``pytest_release_audit`` is the product failing loudly.
    """
    text = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback (most recent call last)" not in text, text[-3000:]
    assert "INTERNALERROR" not in text, text[-3000:]
    own = [line for line in text.splitlines() if _OWN_FRAME.search(line)]
    assert not own, "traceback through pytest_release_audit on the terminal:\n" + "\n".join(own[:10])
