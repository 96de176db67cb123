# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Seed 001's serving service: FastAPI in front of ``models:/breast_cancer_classifier@staging``.

The contract (seed 001, section 8.1):

* ``GET /health``: service status and whether a model is loaded.
* ``GET /model-info``: model_name, model_stage, model_version, source_run_id,
  expected_feature_count, threshold and positive_class.
* ``POST /predict`` with ``{"features": {name: value, ...}}``: the exact feature set of the model's
  signature (HTTP 422 with ``missing`` and ``extra`` lists otherwise), answering
  ``probability_positive_class`` (P(class=1) from ``predict_proba(X)[:, 1]``), ``prediction`` (the
  decision at ``threshold``) and ``prediction_label``, with the model version and run it came from.

The service references only a registry alias: the alias is resolved once at start to one version,
which is loaded and named in every answer, so each served prediction traces to a version and its
run. Run it with ``python3 examples/serving/app.py --port 8765`` (tracking URI: ``--tracking-uri``,
else ``MLFLOW_TRACKING_URI``, else the demo registry ``examples/mlflow.db``).
"""

from __future__ import annotations

import argparse
import logging
import os
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DEFAULT_MODEL_URI = "models:/breast_cancer_classifier@staging"
DEMO_STORE = f"sqlite:///{Path(__file__).resolve().parent.parent / 'mlflow.db'}"
LABELS = {0: "malignant", 1: "benign"}  # sklearn's Wisconsin data: target 1 = benign
log = logging.getLogger("breast_cancer_service")


@dataclass
class ServedModel:
    """The model version an alias resolved to, loaded, with what the contract reports about it."""

    name: str
    stage: str
    version: str
    run_id: str
    features: list[str]
    model: Any
    threshold: float = 0.5
    positive_class: str = "benign"

    @classmethod
    def load(cls, model_uri: str = DEFAULT_MODEL_URI, tracking_uri: str | None = None,
             threshold: float = 0.5) -> ServedModel:
        import mlflow
        import mlflow.sklearn
        from mlflow import MlflowClient

        uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEMO_STORE
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)  # one store: an inherited MLFLOW_REGISTRY_URI must not send us elsewhere
        client = MlflowClient()
        ref = model_uri.removeprefix("models:/")
        if "@" in ref:
            name, stage = ref.split("@", 1)
            version = client.get_model_version_by_alias(name, stage)
        else:
            name, number = ref.split("/", 1)
            stage, version = f"version {number}", client.get_model_version(name, number)
        pinned = f"models:/{name}/{version.version}"  # load exactly the version the alias named
        signature = mlflow.models.get_model_info(pinned).signature
        features = list(signature.inputs.input_names()) if signature is not None else []
        return cls(name=name, stage=stage, version=str(version.version), run_id=str(version.run_id),
                   features=features, model=mlflow.sklearn.load_model(pinned), threshold=threshold)

    def info(self) -> dict[str, Any]:
        return {"model_name": self.name, "model_stage": self.stage, "model_version": self.version,
                "source_run_id": self.run_id, "expected_feature_count": len(self.features),
                "threshold": self.threshold, "positive_class": self.positive_class}

    def probability(self, features: dict[str, float]) -> float:
        import pandas as pd

        frame = pd.DataFrame([[features[name] for name in self.features]], columns=self.features)
        return float(self.model.predict_proba(frame)[0, 1])


class PredictRequest(BaseModel):
    features: dict[str, float]


def feature_problems(expected: list[str], given: dict[str, float]) -> dict[str, Any] | None:
    """The 422 body for a request whose feature set is not exactly the model's, else None."""
    missing = [name for name in expected if name not in given]
    extra = sorted(name for name in given if name not in set(expected))
    if not missing and not extra:
        return None
    return {"error": "the request's features are not the model's feature set", "missing": missing, "extra": extra}


def create_app(model_uri: str = DEFAULT_MODEL_URI, tracking_uri: str | None = None,
               served: ServedModel | None = None) -> FastAPI:
    """The service; the model is loaded at start (or ``served`` is used as it is)."""
    state: dict[str, ServedModel] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        state["model"] = served or ServedModel.load(model_uri, tracking_uri)
        yield
        state.clear()

    app = FastAPI(title="breast_cancer_classifier service", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model_loaded": "model" in state}

    @app.get("/model-info")
    def model_info() -> dict[str, Any]:
        return state["model"].info()

    @app.post("/predict")
    def predict(request: PredictRequest) -> dict[str, Any]:
        model = state["model"]
        problems = feature_problems(model.features, request.features)
        request_id = str(uuid.uuid4())
        if problems is not None:
            log.info("request %s rejected: %d missing, %d extra", request_id, len(problems["missing"]),
                     len(problems["extra"]))
            raise HTTPException(status_code=422, detail=problems)
        probability = model.probability(request.features)
        prediction = int(probability >= model.threshold)
        log.info("request %s model %s v%s prediction %d probability %.6f", request_id, model.name, model.version,
                 prediction, probability)
        return {"request_id": request_id, "model_name": model.name, "model_version": model.version,
                "source_run_id": model.run_id, "probability_positive_class": probability,
                "positive_class": model.positive_class, "prediction": prediction,
                "prediction_label": LABELS[prediction], "threshold": model.threshold}

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default=os.environ.get("MODEL_URI", DEFAULT_MODEL_URI))
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(args.model_uri, args.tracking_uri), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
