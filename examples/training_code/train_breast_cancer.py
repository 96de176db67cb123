# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Seed 001's breast_cancer_classifier: LogisticRegression on sklearn's bundled Wisconsin data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

SEED = 42
TEST_SIZE = 0.2


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def prepare(data_dir: Path) -> dict[str, Path]:
    """Export the dataset to CSV (seed 001: data/breast_cancer.csv) and a pinned stratified split."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    rng = np.random.default_rng(SEED)
    frame.insert(0, "patient_id", [f"W{200000 + i}" for i in rng.permutation(len(frame))])
    frame.insert(1, "site", rng.choice(["clinic_north", "clinic_south"], size=len(frame)))
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {"raw": data_dir / "breast_cancer.csv", "train": data_dir / "breast_cancer_train.csv",
             "eval": data_dir / "breast_cancer_test.csv"}
    frame.to_csv(paths["raw"], index=False)
    train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=SEED, stratify=frame["target"])
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["eval"], index=False)
    return paths


def train_and_log(paths: dict[str, Path], run_tags: dict[str, str], pip_requirements: list[str], out_dir: Path) -> str:
    """Train, evaluate, log evidence artifacts and register the classifier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import (
        ConfusionMatrixDisplay,
        accuracy_score,
        classification_report,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    read = {k: pd.read_csv(p, float_precision="round_trip") for k, p in paths.items()}
    features = [c for c in read["train"].columns if c not in ("patient_id", "site", "target")]
    data_sha = sha256_file(paths["raw"])
    with mlflow.start_run(run_name="train-breast_cancer_classifier", tags={**run_tags, "data_sha256": data_sha}):
        for key, context, name in (("raw", "raw", "breast_cancer"), ("train", "training", "breast_cancer_train"),
                                   ("eval", "evaluation", "breast_cancer_test")):
            ds = mlflow.data.from_pandas(read[key], source=str(paths[key].resolve()), name=name, targets="target")
            tags = {"data_sha256": sha256_file(paths[key]), "license": "CC-BY-4.0",
                    "pii_status": "none (public benchmark)"}
            if key != "raw":
                tags["derived_from"] = "breast_cancer"
            mlflow.log_input(ds, context=context, tags=tags)
        params = {"model_type": "LogisticRegression pipeline", "C": 1.0, "max_iter": 500, "test_size": TEST_SIZE,
                  "random_state": SEED}
        mlflow.log_params(params)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500, random_state=SEED))
        X_train, y_train = read["train"][features], read["train"]["target"]
        X_test, y_test = read["eval"][features], read["eval"]["target"]
        model.fit(X_train, y_train)
        proba = model.predict_proba(X_test)[:, 1]
        pred = (proba >= 0.5).astype(int)
        metrics = {"accuracy": accuracy_score(y_test, pred), "precision": precision_score(y_test, pred),
                   "recall": recall_score(y_test, pred), "f1": f1_score(y_test, pred),
                   "roc_auc": roc_auc_score(y_test, proba)}
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        out_dir.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(4, 4))
        ConfusionMatrixDisplay.from_predictions(y_test, pred, ax=ax, colorbar=False)
        fig.tight_layout()
        fig.savefig(out_dir / "confusion_matrix.png", dpi=80)
        plt.close(fig)
        mlflow.log_artifact(str(out_dir / "confusion_matrix.png"))
        mlflow.log_dict(classification_report(y_test, pred, output_dict=True), "classification_report.json")
        mlflow.log_text(classification_report(y_test, pred), "classification_report.txt")
        manifest = {"data_sha256": data_sha, "rows": len(read["raw"]), "features": len(features),
                    "metrics": {k: round(float(v), 4) for k, v in metrics.items()}, "params": params}
        mlflow.log_text(json.dumps(manifest, indent=2), "run_manifest.json")
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X_train, proba), input_example=X_train.head(3),
            pip_requirements=pip_requirements, registered_model_name="breast_cancer_classifier",
        )
        return str(info.registered_model_version)
