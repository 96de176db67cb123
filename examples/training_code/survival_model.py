# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A Cox proportional-hazards risk model served as an MLflow pyfunc (higher score = higher risk)."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd


class CoxRiskModel(mlflow.pyfunc.PythonModel):
    """Wraps a fitted lifelines CoxPHFitter; ``predict`` returns the partial hazard per row."""

    def __init__(self, fitter, features: list[str]) -> None:
        self.fitter = fitter
        self.features = list(features)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.Series:
        scores = self.fitter.predict_partial_hazard(model_input[self.features])
        return pd.Series(scores.to_numpy(dtype=float), name="risk_score")


def fit_cox(train: pd.DataFrame, features: list[str], duration: str, event: str, penalizer: float = 0.01):
    """Fit a penalised Cox model on ``features``."""
    from lifelines import CoxPHFitter

    fitter = CoxPHFitter(penalizer=penalizer)
    fitter.fit(train[features + [duration, event]], duration_col=duration, event_col=event)
    return fitter
