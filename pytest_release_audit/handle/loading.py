# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Load a registered model lazily and turn its predictions into a 1-D score array."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError, describe_exception

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from pytest_release_audit.handle.model import ModelHandle


@dataclass(frozen=True)
class LoadedModel:
    """The loaded model and how to score with it."""

    model: Any
    kind: str  # "sklearn" (predict_proba when available) or "pyfunc"




def load_model(handle: ModelHandle) -> LoadedModel:
    """Load ``handle``'s model from the registry (sklearn flavor preferred for probabilities)."""
    import mlflow

    from pytest_release_audit.handle.resolve import using_store

    flavors = (handle.model_meta or {}).get("flavors") or []
    # Importing a model's code_paths must not write __pycache__ into the artifact store: the
    # audit reads the registry, it never changes it (and approvals digest the artifact listing).
    saved_flag = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        with using_store(handle.tracking_uri):
            if "sklearn" in flavors:
                import mlflow.sklearn

                return LoadedModel(mlflow.sklearn.load_model(handle.uri), "sklearn")
            return LoadedModel(mlflow.pyfunc.load_model(handle.uri), "pyfunc")
    except Exception as exc:  # any loader failure means the model cannot be audited
        raise ModelLoadError(
            f"cannot load model {handle.name} v{handle.version} from {handle.uri} ({describe_exception(exc)}): "
            "check its artifacts and that its requirements are installed"
        ) from None
    finally:
        sys.dont_write_bytecode = saved_flag


def predict_scores(handle: ModelHandle, loaded: LoadedModel, X: Any) -> np.ndarray:
    """Scores for ``X`` as a float array with one value per row; no NaN or inf allowed."""
    import numpy as np
    import pandas as pd

    label = f"model {handle.name} v{handle.version}"
    try:
        if loaded.kind == "sklearn" and hasattr(loaded.model, "predict_proba"):
            proba = np.asarray(loaded.model.predict_proba(X))
            raw: Any = proba[:, 1] if proba.ndim == 2 and proba.shape[1] == 2 else proba
        elif loaded.kind == "sklearn":
            raw = loaded.model.predict(X)
        else:
            raw = loaded.model.predict(X)
    except Exception as exc:  # a model that cannot score the evaluation data blocks the release
        raise ModelLoadError(f"{label} failed to predict ({describe_exception(exc)})") from None
    if isinstance(raw, pd.DataFrame):
        if raw.shape[1] != 1:
            raise ModelLoadError(
                f"{label} returned {raw.shape[1]} output columns; a risk score / probability needs one"
            )
        raw = raw.iloc[:, 0]
    try:
        scores = np.asarray(raw, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ModelLoadError(f"{label} returned non-numeric predictions") from None
    if len(scores) != len(X):
        raise ModelLoadError(f"{label} returned {len(scores)} predictions for {len(X)} rows")
    bad = int(np.count_nonzero(~np.isfinite(scores)))
    if bad:
        raise ModelLoadError(f"{label} returned {bad} NaN/inf scores out of {len(scores)}")
    return scores
