# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Cox-model survival metrics (lifelines): the hazard ratio of high vs low predicted risk, and
observed vs expected events per risk bin. numpy / pandas / lifelines are imported inside functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pytest_release_audit.metrics.survival import _as_arrays


@dataclass(frozen=True)
class HazardRatio:
    """Hazard ratio of the high- vs low-risk group (median split) from a Cox model."""

    value: float
    ci: tuple[float, float]
    p: float
    significant: bool
    n_high: int
    n_low: int
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _finite(self.value),
            "ci": [_finite(self.ci[0]), _finite(self.ci[1])],
            "p": _finite(self.p),
            "significant": bool(self.significant),
            "n_high": int(self.n_high),
            "n_low": int(self.n_low),
            "confidence": float(self.confidence),
        }


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def risk_groups(risk: Any) -> Any:
    """Boolean mask of the high-risk group: risk strictly above the median."""
    import numpy as np

    r = np.asarray(risk, dtype=float)
    return r > np.median(r)


def hazard_ratio(durations: Any, events: Any, risk: Any, confidence: float = 0.95) -> HazardRatio | None:
    """Cox hazard ratio (lifelines ``CoxPHFitter``) of high vs low predicted risk, with CI and p.

    High risk is a risk score strictly above the median. ``None`` when a group is empty, there
    is no event, or the fit does not converge (the caller reports "not estimable").
    """
    import numpy as np
    import pandas as pd

    t, e, r = _as_arrays(durations, events, risk)
    high = risk_groups(r)
    n_high = int(high.sum())
    if n_high == 0 or n_high == t.size or not e.any():
        return None
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    frame = pd.DataFrame({"T": t, "E": e.astype(int), "high_risk": high.astype(int)})
    cph = CoxPHFitter(alpha=1.0 - confidence)
    try:
        cph.fit(frame, duration_col="T", event_col="E", batch_mode=True)
    except ConvergenceError:
        return None
    coef = float(cph.params_["high_risk"])
    lo, hi = (float(v) for v in cph.confidence_intervals_.loc["high_risk"].to_numpy())
    p = float(cph.summary.loc["high_risk", "p"])
    value, ci = math.exp(coef), (math.exp(lo), math.exp(hi))
    if not all(np.isfinite([value, *ci, p])):
        return None
    significant = p < (1.0 - confidence) and (ci[0] > 1.0 or ci[1] < 1.0)
    return HazardRatio(value, ci, p, significant, n_high, int(t.size - n_high), confidence)


@dataclass(frozen=True)
class CalibrationBin:
    """Observed vs model-expected event rate in one risk bin (a martingale-residual summary)."""

    bin: int
    n: int
    predicted: float
    observed: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "bin": int(self.bin),
            "n": int(self.n),
            "predicted": _finite(self.predicted),
            "observed": _finite(self.observed),
        }


def survival_calibration(durations: Any, events: Any, risk: Any, bins: int = 10) -> list[CalibrationBin]:
    """Observed vs expected events per risk bin (deciles by default).

    The risk score is recalibrated with a one-covariate Cox model; each patient's expected number of
    events is the Breslow cumulative hazard at their own follow-up time times their partial hazard
    (observed minus expected is the martingale residual). Per bin, ``predicted`` is expected events
    / n and ``observed`` is events / n: a well-ranked score gives rates that agree in every bin.
    Empty list when the fit is not possible (no events, constant scores).
    """
    import numpy as np
    import pandas as pd

    t, e, r = _as_arrays(durations, events, risk)
    if t.size < bins or not e.any() or np.ptp(r) == 0:
        return []
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    z = (r - r.mean()) / r.std()
    frame = pd.DataFrame({"T": t, "E": e.astype(int), "risk": z})
    cph = CoxPHFitter()
    try:
        cph.fit(frame, duration_col="T", event_col="E", batch_mode=True)
    except ConvergenceError:
        return []
    base = cph.baseline_cumulative_hazard_
    grid = base.index.to_numpy(dtype=float)
    cumhaz = base.iloc[:, 0].to_numpy(dtype=float)
    at = np.searchsorted(grid, t, side="right") - 1
    h0 = np.where(at >= 0, cumhaz[np.clip(at, 0, None)], 0.0)
    expected = h0 * cph.predict_partial_hazard(frame).to_numpy(dtype=float)
    order = np.argsort(r, kind="stable")
    out = []
    for i, members in enumerate(np.array_split(order, bins)):
        if members.size == 0:
            continue
        out.append(
            CalibrationBin(
                bin=i + 1,
                n=int(members.size),
                predicted=float(expected[members].mean()),
                observed=float(e[members].mean()),
            )
        )
    return out
