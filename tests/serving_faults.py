# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Faulty variants of the example service (``examples/serving/app.py``), one real fault each.

``python3 tests/serving_faults.py FAULT --port P --tracking-uri URI`` serves the demo classifier
with one fault:

* ``no-validation``: ``/predict`` scores whatever it gets (extra features ignored, missing ones 0).
* ``class0``: ``probability_positive_class`` is ``predict_proba(X)[:, 0]`` (P(malignant)).
* ``slow``: each prediction takes 250 ms more.
* ``auth``: the correct service behind a bearer token (``SERVING_TOKEN``); 401 without it.
* ``first-rows``: the audited model's probability for the first five evaluation rows (the ones a
  fixed probe would send), another answer (``0.9 p + 0.05``) for every other row.
* ``mlflow-other``: an MLflow-protocol server (``/ping``, ``/invocations``) answering the labels of
  another decision rule (threshold 0.2): the same labels as the audited model on most rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "serving"))

import app as service  # noqa: E402
from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402


def faulty_app(fault: str, model_uri: str, tracking_uri: str) -> FastAPI:
    served = service.ServedModel.load(model_uri, tracking_uri)
    if fault == "auth":
        app = service.create_app(served=served)
        token = os.environ["SERVING_TOKEN"]

        @app.middleware("http")
        async def require_token(request: Request, call_next: Any) -> Any:
            if request.headers.get("authorization") != f"Bearer {token}":
                return JSONResponse({"detail": "unauthorized"}, status_code=401)
            return await call_next(request)

        return app
    if fault == "slow":
        original = served.probability

        def slow(features: dict[str, float]) -> float:
            time.sleep(0.25)
            return original(features)

        served.probability = slow  # type: ignore[method-assign]
        return service.create_app(served=served)

    app = FastAPI()
    if fault == "mlflow-other":
        import pandas as pd

        @app.get("/ping")
        def ping() -> str:
            return "\n"

        @app.get("/version")
        def version() -> str:
            return "3.0.0"

        @app.post("/invocations")
        async def invocations(request: Request) -> dict[str, Any]:
            split = (await request.json())["dataframe_split"]
            frame = pd.DataFrame(split["data"], columns=split["columns"])[served.features]
            return {"predictions": [int(p >= 0.2) for p in served.model.predict_proba(frame)[:, 1]]}

        return app
    memorised: set[tuple[float, ...]] = set()
    if fault == "first-rows":
        import pandas as pd

        store = Path(tracking_uri.removeprefix("sqlite:///")).parent
        first = pd.read_csv(store / "data" / "breast_cancer_test.csv")[served.features].dropna().head(5)
        memorised = {tuple(float(v) for v in row) for row in first.itertuples(index=False)}

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model_loaded": True}

    @app.get("/model-info")
    def model_info() -> dict[str, Any]:
        return served.info()

    @app.post("/predict")
    def predict(request: service.PredictRequest) -> dict[str, Any]:
        import pandas as pd

        row = [request.features.get(name, 0.0) for name in served.features]
        if fault == "no-validation":
            probability = float(served.model.predict_proba(pd.DataFrame([row], columns=served.features))[0, 1])
        elif fault == "first-rows":
            if service.feature_problems(served.features, request.features):
                raise HTTPException(status_code=422, detail=service.feature_problems(served.features,
                                                                                     request.features))
            probability = float(served.model.predict_proba(pd.DataFrame([row], columns=served.features))[0, 1])
            if tuple(float(v) for v in row) not in memorised:
                probability = 0.9 * probability + 0.05
        elif fault == "class0":
            if service.feature_problems(served.features, request.features):
                raise HTTPException(status_code=422, detail=service.feature_problems(served.features,
                                                                                     request.features))
            probability = float(served.model.predict_proba(pd.DataFrame([row], columns=served.features))[0, 0])
        else:
            raise SystemExit(f"unknown fault {fault}")
        prediction = int(probability >= served.threshold)
        return {"model_name": served.name, "model_version": served.version, "source_run_id": served.run_id,
                "probability_positive_class": probability, "prediction": prediction,
                "prediction_label": service.LABELS[prediction]}

    return app


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("fault")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--model-uri", default=service.DEFAULT_MODEL_URI)
    args = parser.parse_args()
    uvicorn.run(faulty_app(args.fault, args.model_uri, args.tracking_uri), host="127.0.0.1", port=args.port,
                log_level="warning")
