# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn what a model returned (in its worker) into a 1-D score array, one value per row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.handle.worker import ModelOutput


def predict_scores(handle: ModelHandle, X: Any) -> np.ndarray:
    """Scores for ``X`` as a float array with one value per row; no NaN or inf allowed.

    The model is loaded and run in its worker process (``handle.worker``); for a classifier with
    ``predict_proba`` the positive-class probability is the score.
    """
    from pytest_release_audit.handle.worker import pool

    output = pool().get(handle).predict(X)
    return scores_from_output(f"model {handle.name} v{handle.version}", output, len(X))


def scores_from_output(label: str, output: ModelOutput, n_rows: int) -> np.ndarray:
    import numpy as np

    raw = output.values
    if output.method == "predict_proba" and raw.ndim == 2 and raw.shape[1] == 2:
        raw = raw[:, 1]
    elif output.columns is not None and raw.ndim == 2:
        if raw.shape[1] != 1:
            raise ModelLoadError(
                f"{label} returned {raw.shape[1]} output columns; a risk score / probability needs one"
            )
        raw = raw[:, 0]
    try:
        scores = np.asarray(raw, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ModelLoadError(f"{label} returned non-numeric predictions") from None
    if len(scores) != n_rows:
        raise ModelLoadError(f"{label} returned {len(scores)} predictions for {n_rows} rows")
    bad = int(np.count_nonzero(~np.isfinite(scores)))
    if bad:
        raise ModelLoadError(f"{label} returned {bad} NaN/inf scores out of {len(scores)}")
    return scores
