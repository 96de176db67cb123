# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Regression metrics (rmse, mae, mse, r2), weighted for the bootstrap (unit weights give the point value).

With unit weights each equals sklearn's: ``root_mean_squared_error``, ``mean_absolute_error``,
``mean_squared_error`` and ``r2_score``. R² is ``1 - SSE / SST`` with SST the weighted sum of
squares around the resample's weighted mean of ``y``; on a resample whose labels are all equal
(SST = 0) it is NaN and excluded from the interval (sklearn returns 0 or 1 there by convention,
which says nothing about the model).
"""

from __future__ import annotations

from typing import Any

REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2", "mse")


class RegressionScorer:
    """Bootstrap scorer for regressors: rmse, mae, r2 and mse."""

    metrics: tuple[str, ...] = REGRESSION_METRICS

    def __init__(self, y: Any) -> None:
        import numpy as np

        self.y = np.asarray(y, dtype=float).reshape(-1)
        # y and y² columns give each resample's total sum of squares: sum w y² - (sum w y)² / sum w,
        # computed around a shift (the mean) so the subtraction does not cancel digits.
        shifted = self.y - (self.y.mean() if self.y.size else 0.0)
        self._moments = np.stack([shifted, shifted * shifted], axis=1)

    def prepare(self, scores: Any) -> Any:
        """Squared and absolute errors as two columns."""
        import numpy as np

        err = np.asarray(scores, dtype=float).reshape(-1) - self.y
        return np.stack([err * err, np.abs(err)], axis=1)

    def evaluate(self, plans: list[Any], weights: Any) -> list[dict[str, Any]]:
        """rmse, mae, r2 and mse per row of ``weights`` for each prepared model."""
        import numpy as np

        w = weights.astype("float64", copy=False)
        total = w.sum(axis=1)
        first, second = (w @ self._moments).T
        with np.errstate(invalid="ignore", divide="ignore"):
            sst = second - first * first / total
            sst = np.where(sst > 1e-12 * np.maximum(second, 1e-300), sst, 0.0)
        out = []
        for columns in plans:
            sq, ab = (w @ columns).T
            with np.errstate(invalid="ignore", divide="ignore"):
                mse = sq / total
                r2 = np.where(sst > 0, 1.0 - sq / np.where(sst > 0, sst, 1.0), np.nan)
                out.append({"rmse": np.sqrt(mse), "mae": ab / total, "r2": r2, "mse": mse})
        return out
