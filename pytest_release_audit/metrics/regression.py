# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Regression metrics (rmse, mae), weighted for the bootstrap (unit weights give the point value)."""

from __future__ import annotations

from typing import Any

REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae")


class RegressionScorer:
    """Bootstrap scorer for regressors: rmse and mae."""

    metrics: tuple[str, ...] = REGRESSION_METRICS

    def __init__(self, y: Any) -> None:
        import numpy as np

        self.y = np.asarray(y, dtype=float).reshape(-1)

    def prepare(self, scores: Any) -> Any:
        """Squared and absolute errors as two columns."""
        import numpy as np

        err = np.asarray(scores, dtype=float).reshape(-1) - self.y
        return np.stack([err * err, np.abs(err)], axis=1)

    def evaluate(self, plans: list[Any], weights: Any) -> list[dict[str, Any]]:
        """rmse and mae per row of ``weights`` for each prepared model."""
        import numpy as np

        w = weights.astype("float64", copy=False)
        total = w.sum(axis=1)
        out = []
        for columns in plans:
            sq, ab = (w @ columns).T
            with np.errstate(invalid="ignore", divide="ignore"):
                out.append({"rmse": np.sqrt(sq / total), "mae": ab / total})
        return out
