# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Subgroup (bias) analysis: the model's metric per subgroup with a CI, floors, gaps, calibration.

Pure functions: a frame of grouping columns and score / outcome arrays in, findings out.
Subgroups are the distinct values of a grouping column (missing values form their own
``"missing"`` group). A numeric column with more distinct values than ``max_groups`` is cut into
quartile bands (labels are value ranges); a non-numeric one is refused as a grouping column (it is
more likely an identifier than a stratum, and its values must not appear in evidence).

A subgroup with fewer than ``min_n`` rows, or whose metric is undefined there (no event, one
class), is reported as ``insufficient_data`` and never judged. Judged subgroups fail when their
metric is worse than ``floor`` (for error metrics such as RMSE the floor is a ceiling, and 0 means
"no ceiling"), and a column fails when the worst-best gap among its judged subgroups exceeds
``max_gap``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_release_audit.metrics.bootstrap import metric_direction, metric_label, paired_bootstrap
from pytest_release_audit.metrics.survival_cox import CalibrationBin, survival_calibration
from pytest_release_audit.report.format import number

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Columns used when the policy names none (the first ones present in the evaluation data).
CONVENTIONAL_COLUMNS: tuple[str, ...] = (
    "sex",
    "gender",
    "age_band",
    "age_group",
    "race",
    "ethnicity",
    "site",
    "region",
    "age",  # numeric: banded into quartiles
)

STATUS_OK = "ok"
STATUS_BELOW_FLOOR = "below_floor"
STATUS_INSUFFICIENT = "insufficient_data"


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count_events(outcome: Any, mask: Any) -> int | None:
    """Nonzero outcomes (events, positives) among ``mask``; None without an event outcome."""
    return None if outcome is None else int((outcome[mask] != 0).sum())


@dataclass(frozen=True)
class Subgroup:
    """One subgroup's size, events and metric."""

    column: str
    value: str
    n: int
    events: int | None
    metric_value: float | None
    ci: tuple[float, float] | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "value": self.value,
            "n": int(self.n),
            "events": None if self.events is None else int(self.events),
            "metric_value": _plain(self.metric_value),
            "ci": None if self.ci is None else [_plain(self.ci[0]), _plain(self.ci[1])],
            "status": self.status,
        }


@dataclass(frozen=True)
class Gap:
    """Worst-best spread of the metric among one column's judged subgroups."""

    column: str
    worst: str
    best: str
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "worst": self.worst, "best": self.best, "value": _plain(self.value)}


@dataclass(frozen=True)
class BiasAnalysis:
    """All subgroups of all columns, the largest gap, calibration bins and the blocking findings."""

    metric: str
    columns: tuple[str, ...]
    subgroups: tuple[Subgroup, ...]
    gap: Gap | None
    calibration: tuple[CalibrationBin, ...] | None
    findings: tuple[str, ...] = ()  # blocking problems, one line each
    notes: tuple[str, ...] = ()  # non-blocking remarks (insufficient data, ...)
    gaps: tuple[Gap, ...] = field(default=(), repr=False)

    @property
    def failed(self) -> bool:
        return bool(self.findings)

    @property
    def calibration_error(self) -> float | None:
        """Largest |observed - predicted| over the calibration bins."""
        if not self.calibration:
            return None
        diffs = [abs(b.observed - b.predicted) for b in self.calibration]
        return max(diffs) if diffs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "columns": list(self.columns),
            "subgroups": [s.to_dict() for s in self.subgroups],
            "gap": None if self.gap is None else self.gap.to_dict(),
            "calibration": None if self.calibration is None else [b.to_dict() for b in self.calibration],
            "findings": list(self.findings),
        }


def pick_columns(configured: list[str], available: list[str]) -> tuple[list[str], list[str]]:
    """(columns to analyse, configured columns missing from the data).

    With nothing configured, the conventional columns present in the data are used.
    """
    if configured:
        present = [c for c in configured if c in available]
        return present, [c for c in configured if c not in available]
    return [c for c in CONVENTIONAL_COLUMNS if c in available], []


def group_labels(series: pd.Series, max_groups: int = 20) -> tuple[list[str], Any] | None:
    """(ordered group labels, per-row label array) for a grouping column; None when not groupable."""
    import numpy as np
    import pandas as pd

    missing = series.isna().to_numpy()
    distinct = series.dropna().unique()
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if len(distinct) > max_groups:
        if not numeric:
            return None
        bands = pd.qcut(series, q=4, duplicates="drop")
        labels = bands.astype(str).to_numpy(dtype=object)
        order = [str(c) for c in bands.cat.categories]
    else:
        try:
            ordered = sorted(distinct)
        except TypeError:  # mixed types: keep first-seen order
            ordered = list(distinct)
        order = [str(v) for v in ordered]
        labels = series.astype(str).to_numpy(dtype=object)
    labels = np.where(missing, "missing", labels)
    if missing.any():
        order.append("missing")
    return order, labels


def _scorer_for(kind: str, mask: Any, durations: Any, events: Any, y: Any,
                classes: tuple[str, ...] | None = None) -> Any:
    if kind == "multiclass":
        from pytest_release_audit.metrics.multiclass import MulticlassScorer

        return MulticlassScorer(y[mask], classes or ())
    if kind == "survival":
        from pytest_release_audit.metrics.survival import SurvivalScorer

        return SurvivalScorer(durations[mask], events[mask])
    if kind == "binary":
        from pytest_release_audit.metrics.classification import BinaryScorer

        return BinaryScorer(y[mask])
    from pytest_release_audit.metrics.regression import RegressionScorer

    return RegressionScorer(y[mask])


#: Default subgroup limits per metric when the policy sets none: (floor, max_gap). A subgroup
#: whose discrimination is at chance level (0.5) blocks, and so does a gap of 0.2 between subgroups.
#: Error metrics (RMSE, MAE) have units, so no unitless default exists: set bias.floor / max_gap.
DEFAULT_CALIBRATION_LIMIT = 0.15  # probabilities (binary classification)
DEFAULT_LIMITS: dict[str, tuple[float, float]] = {
    "c_index": (0.5, 0.2),
    "roc_auc": (0.5, 0.2),
    "roc_auc_ovr_macro": (0.5, 0.2),
    "roc_auc_ovr_weighted": (0.5, 0.2),
    "accuracy": (0.5, 0.2),
}


def calibration_test(calibration: Any, kind: str) -> tuple[float, float] | None:
    """Hosmer-Lemeshow statistic and p-value over the bins (binomial; Poisson for survival events).

    The statistic is the sum of squared standardised bin errors; under good calibration it follows
    a chi-square distribution with (bins - 2) degrees of freedom. None with fewer than three bins.
    """
    from scipy.stats import chi2

    bins = [b for b in calibration if b.n > 0]
    if len(bins) < 3:
        return None
    stat = 0.0
    for b in bins:
        p = min(max(float(b.predicted), 1e-9), 1 - 1e-9) if kind == "binary" else max(float(b.predicted), 1e-9)
        var = p * (1 - p) / b.n if kind == "binary" else p / b.n
        stat += (float(b.observed) - float(b.predicted)) ** 2 / var
    return stat, float(chi2.sf(stat, len(bins) - 2))


def miscalibrated_bins(calibration: Any, kind: str, limit: float, alpha: float = 0.01) -> list[CalibrationBin]:
    """Bins off by more than ``limit``, when the model as a whole is miscalibrated.

    A bin's error alone is noisy (with 20 patients its observed rate has a standard error near
    0.11), so a perfectly calibrated model would fail by chance: the bins count only when the
    Hosmer-Lemeshow test (``calibration_test``) also rejects calibration at ``alpha``.
    """
    test = calibration_test(calibration, kind)
    if test is None or test[1] >= alpha:
        return []
    return [b for b in calibration if b.n > 0 and abs(float(b.observed) - float(b.predicted)) > limit]


def _is_worse(value: float, floor: float, direction: str) -> bool:
    if direction == "higher":
        return value < floor
    return floor > 0 and value > floor


def probability_calibration(y: Any, probabilities: Any, bins: int = 10) -> list[CalibrationBin]:
    """Mean predicted probability vs observed positive rate per probability bin (equal counts)."""
    import numpy as np

    labels = np.asarray(y, dtype=float).reshape(-1)
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    if p.size < bins:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for i, members in enumerate(np.array_split(order, bins)):
        if members.size:
            out.append(
                CalibrationBin(
                    bin=i + 1,
                    n=int(members.size),
                    predicted=float(p[members].mean()),
                    observed=float(labels[members].mean()),
                )
            )
    return out


def analyse_subgroups(
    frame: pd.DataFrame,
    columns: list[str],
    scores: Any,
    *,
    kind: str,
    metric: str,
    durations: Any = None,
    events: Any = None,
    y: Any = None,
    min_n: int = 30,
    floor: float = 0.0,
    max_gap: float = 1.0,
    calibration_bins: int = 10,
    max_calibration_error: float = 1.0,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    max_groups: int = 20,
    classes: tuple[str, ...] | None = None,
    judge_calibration: bool = True,
) -> BiasAnalysis:
    """Per-subgroup metric with CI for every grouping column; floors, gaps and calibration judged.

    ``frame`` holds the grouping columns aligned with ``scores``; ``durations`` / ``events``
    (survival) or ``y`` (binary 0/1, multiclass labels, regression) hold the outcomes. A
    multiclass ``scores`` is the ``(n, k)`` probability matrix whose columns are ``classes``; its
    subgroups are judged on ``metric`` (the gate metric: macro one-vs-rest ROC AUC by default,
    undefined, so ``insufficient_data``, in a subgroup that lacks a class). Calibration is computed
    for probabilities of a binary model and risk scores of a survival model only, and not at all
    with ``judge_calibration=False`` (e.g. a model that returns class labels).
    """
    import numpy as np

    multiclass = kind == "multiclass"
    s = np.asarray(scores, dtype=float)
    s = s if multiclass and s.ndim == 2 else s.reshape(-1)
    d = None if durations is None else np.asarray(durations, dtype=float)
    e = None if events is None else np.asarray(events, dtype=float)
    yy = None if y is None else (np.asarray(y) if multiclass else np.asarray(y, dtype=float))
    direction = metric_direction(metric)
    label = metric_label(metric)
    subgroups: list[Subgroup] = []
    findings: list[str] = []
    notes: list[str] = []
    gaps: list[Gap] = []
    for col_no, column in enumerate(columns):
        grouped = group_labels(frame[column], max_groups=max_groups)
        if grouped is None:
            findings.append(
                f"column {column} has more than {max_groups} distinct non-numeric values: "
                "not a grouping column (list categorical columns in [tool.release_audit.bias] columns)"
            )
            continue
        order, labels = grouped
        judged: list[tuple[Subgroup, float]] = []  # with its (defined) metric value
        for value_no, value in enumerate(order):
            mask = labels == value
            n = int(mask.sum())
            n_events = _count_events(e if kind == "survival" else yy if kind == "binary" else None, mask)
            scorer = _scorer_for(kind, mask, d, e, yy, classes)
            if n < min_n:
                point = paired_bootstrap(scorer, s[mask], n_bootstrap=0, seed=seed).get(metric).candidate
                subgroups.append(Subgroup(column, value, n, n_events, point, None, STATUS_INSUFFICIENT))
                notes.append(f"{column}={value}: insufficient data (n={n} < min_n {min_n})")
                continue
            est = paired_bootstrap(
                scorer,
                s[mask],
                n_bootstrap=n_bootstrap,
                seed=seed + 7919 * (col_no + 1) + value_no,  # distinct, reproducible streams
                confidence=confidence,
            ).get(metric)
            if est.candidate is None:
                subgroups.append(Subgroup(column, value, n, n_events, None, None, STATUS_INSUFFICIENT))
                notes.append(f"{column}={value}: {label} undefined (n={n}, events={n_events})")
                continue
            status = STATUS_BELOW_FLOOR if _is_worse(est.candidate, floor, direction) else STATUS_OK
            sub = Subgroup(column, value, n, n_events, est.candidate, est.candidate_ci, status)
            subgroups.append(sub)
            judged.append((sub, est.candidate))
            if status == STATUS_BELOW_FLOOR:
                word = "below the floor" if direction == "higher" else "above the ceiling"
                findings.append(f"{column}={value}: {label} {number(est.candidate)} {word} {floor:g} (n={n})")
        if len(judged) >= 2:
            gap, problem = _column_gap(column, judged, direction, label, max_gap)
            gaps.append(gap)
            if problem:
                findings.append(problem)
    calibration: list[CalibrationBin] | None = None
    if not judge_calibration:
        pass
    elif kind == "survival" and d is not None and e is not None:
        calibration = survival_calibration(d, e, s, bins=calibration_bins)
    elif kind == "binary" and yy is not None:
        calibration = probability_calibration(yy, s, bins=calibration_bins)
    bins = None if calibration is None else tuple(calibration)
    problem = _calibration_problem(bins or (), kind, max_calibration_error)
    if problem:
        findings.append(problem)
    return BiasAnalysis(
        metric=metric,
        columns=tuple(columns),
        subgroups=tuple(subgroups),
        gap=max(gaps, key=lambda g: g.value) if gaps else None,
        calibration=bins,
        findings=tuple(findings),
        notes=tuple(notes),
        gaps=tuple(gaps),
    )


def _column_gap(column: str, judged: list[tuple[Subgroup, float]], direction: str, label: str,
                max_gap: float) -> tuple[Gap, str]:
    """The worst-best gap among a column's judged subgroups, and the finding when it exceeds ``max_gap``."""
    ranked = sorted(judged, key=lambda g: g[1], reverse=direction == "higher")
    (best, best_value), (worst, worst_value) = ranked[0], ranked[-1]
    gap = Gap(column, worst.value, best.value, abs(best_value - worst_value))
    if not gap.value > max_gap:
        return gap, ""
    return gap, (f"{column}: {label} gap {gap.value:.2f} between {worst.value} ({number(worst_value)}) and "
                 f"{best.value} ({number(best_value)}) exceeds max_gap {max_gap:g}")


def _calibration_problem(calibration: tuple[CalibrationBin, ...], kind: str, limit: float) -> str:
    """The finding for the worst bin when calibration is off beyond ``limit`` (and the test agrees); else ''."""
    off = miscalibrated_bins(calibration, kind, limit)
    test = calibration_test(calibration, kind)
    if not off or test is None:
        return ""
    worst_bin = max(off, key=lambda b: abs(b.observed - b.predicted))
    error = abs(worst_bin.observed - worst_bin.predicted)
    return (f"calibration: bin {worst_bin.bin} observed {worst_bin.observed:.2f} vs predicted "
            f"{worst_bin.predicted:.2f} (|error| {error:.2f} > max_calibration_error {limit:g}; "
            f"Hosmer-Lemeshow p={test[1]:.3g})")
