# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model worker: loads one model from a local directory and scores frames for the auditor.

Run as ``python -P -m pytest_release_audit.handle.worker_entry MODEL_DIR`` by
``handle.worker.ModelWorker``, never imported by the auditor. Whatever the model's pickled code
does (patch modules, raise, sleep, open sockets), it does it here: this process holds no
credential and no key, and has no network where the kernel allows a namespace.

Protocol: one JSON object per line on stdin (requests) and on the file descriptor that was
standard output at start (replies); the model's own prints go to standard error (the log).

* ``{"op": "load"}`` -> ``{"ok": true, "flavor": ..., "methods": [...], "isolation": ...}``
* ``{"op": "predict", "input": PARQUET, "output": NPY, "method": "predict_proba"|"predict"}`` ->
  ``{"ok": true, "shape": [...], "dtype": ..., "columns": [...] | null, "kind": ...}``

Replies with ``"ok": false`` carry ``error`` (exception class and message).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from pytest_release_audit.isolation import enter_network_sandbox


def _reply(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message, default=str) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _error(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:500]}"}


class _Scorer:
    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        self.model: Any = None
        self.flavor = ""

    def load(self) -> dict[str, Any]:
        started = time.monotonic()
        import yaml

        with open(os.path.join(self.model_dir, "MLmodel"), encoding="utf-8") as fh:
            flavors = (yaml.safe_load(fh) or {}).get("flavors") or {}
        if "sklearn" in flavors:
            import mlflow.sklearn

            self.model, self.flavor = mlflow.sklearn.load_model(self.model_dir), "sklearn"
        else:
            import mlflow.pyfunc

            self.model, self.flavor = mlflow.pyfunc.load_model(self.model_dir), "pyfunc"
        methods = [m for m in ("predict_proba", "predict") if callable(getattr(self.model, m, None))]
        return {"ok": True, "flavor": self.flavor, "methods": methods,
                "seconds": round(time.monotonic() - started, 3)}

    def predict(self, request: dict[str, Any]) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        frame = pd.read_parquet(request["input"])
        method = request.get("method") or "predict"
        raw = getattr(self.model, method)(frame)
        columns = None
        kind = type(raw).__name__
        if isinstance(raw, pd.DataFrame):
            columns = [str(c) for c in raw.columns]
            raw = raw.to_numpy()
        elif isinstance(raw, pd.Series):
            raw = raw.to_numpy()
        values = np.asarray(raw)
        if values.dtype == object or values.dtype.kind not in "biufUS":
            # Object arrays cannot cross without pickle; the auditor never unpickles model output.
            try:
                values = values.astype(float)
            except (TypeError, ValueError):
                values = values.astype(str)
        np.save(request["output"], values, allow_pickle=False)
        return {"ok": True, "shape": list(values.shape), "dtype": str(values.dtype), "columns": columns, "kind": kind}


def main(argv: list[str]) -> int:
    proto = os.dup(1)
    os.dup2(2, 1)  # the model's prints go to the log, never into the protocol
    isolation = enter_network_sandbox()
    scorer = _Scorer(argv[0])
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            _reply(proto, {"ok": False, "error": "malformed request"})
            continue
        op = request.get("op")
        try:
            if op == "load":
                reply = scorer.load()
                reply["isolation"] = isolation
            elif op == "predict":
                reply = scorer.predict(request)
            elif op == "exit":
                return 0
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except BaseException as exc:  # noqa: BLE001 - whatever the model raises is reported, not raised
            if isinstance(exc, KeyboardInterrupt):
                raise
            reply = _error(exc)
        _reply(proto, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
