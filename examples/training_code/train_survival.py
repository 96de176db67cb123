# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Train a Cox survival model and log it the standard MLflow way (datasets, metrics, evidence)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from clinical_data import curated_table  # noqa: F401  (re-exported for the builder)
from survival_model import CoxRiskModel, fit_cox

DURATION = "os_days"
EVENT = "event"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_csv(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Write ``df`` and return it as read back, so the logged digest matches what auditors read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return pd.read_csv(path, float_precision="round_trip")


def log_dataset(df: pd.DataFrame, path: Path, name: str, context: str, tags: dict[str, str]) -> None:
    dataset = mlflow.data.from_pandas(df, source=str(path.resolve()), name=name, targets=EVENT)
    mlflow.log_input(dataset, context=context, tags={"data_sha256": sha256_file(path), **tags})


def train_and_log(
    *,
    model_name: str,
    features: list[str],
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    paths: dict[str, Path],
    raw_name: str,
    split_name: str,
    run_tags: dict[str, str],
    pip_requirements: list[str],
    code_path: Path,
    seed: int,
    penalizer: float = 0.01,
) -> str:
    """Fit, evaluate and log one model version; returns the registered version."""
    from lifelines.utils import concordance_index
    from mlflow.models import infer_signature

    common = {"license": "Internal-Only", "data_product": "dp://clinical/gbsg2/v2"}
    with mlflow.start_run(run_name=f"train-{model_name}", tags=run_tags):
        raw = pd.read_csv(paths["raw"], float_precision="round_trip")
        log_dataset(raw, paths["raw"], raw_name, "raw", {**common, "pii_status": "scrubbed"})
        log_dataset(train, paths["train"], f"{split_name}_train", "training",
                    {**common, "derived_from": raw_name, "pii_status": "scrubbed"})
        log_dataset(evaluation, paths["eval"], f"{split_name}_eval", "evaluation",
                    {**common, "derived_from": raw_name, "pii_status": "scrubbed"})
        mlflow.log_params({"model_type": "CoxPHFitter", "features": ",".join(features), "penalizer": penalizer,
                           "seed": seed, "duration_col": DURATION, "event_col": EVENT})
        fitter = fit_cox(train, features, DURATION, EVENT, penalizer)
        model = CoxRiskModel(fitter, features)
        train_risk = model.predict(None, train)
        eval_risk = model.predict(None, evaluation)
        c_train = concordance_index(train[DURATION], -train_risk, train[EVENT])
        c_eval = concordance_index(evaluation[DURATION], -eval_risk, evaluation[EVENT])
        mlflow.log_metrics({"train_c_index": float(c_train), "c_index": float(c_eval)})
        manifest = {
            "model": model_name,
            "features": features,
            "rows": {"train": len(train), "evaluation": len(evaluation)},
            "events": {"train": int(train[EVENT].sum()), "evaluation": int(evaluation[EVENT].sum())},
            "data_sha256": {k: sha256_file(p) for k, p in paths.items()},
            "metrics": {"train_c_index": round(float(c_train), 4), "c_index": round(float(c_eval), 4)},
        }
        mlflow.log_dict(manifest, "run_manifest.json")
        coefs = {k: round(float(v), 6) for k, v in fitter.params_.items()}
        mlflow.log_dict({"coefficients": coefs, "concordance_train": float(c_train)}, "cox_summary.json")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=model,
            code_paths=[str(code_path)],
            signature=infer_signature(train[features], np.asarray(train_risk)),
            input_example=train[features].head(3),
            pip_requirements=pip_requirements,
            registered_model_name=model_name,
        )
        return str(info.registered_model_version)


def dumps(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
