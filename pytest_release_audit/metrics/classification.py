# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Binary-classification metrics, weighted for the bootstrap (unit weights give the point value).

Binary scores are positive-class probabilities; the predicted label is ``score >= threshold``
(0.5 by default, as sklearn's ``predict`` for a probabilistic classifier). Weighted values equal
sklearn's metric on the resampled rows: ``roc_auc`` is the Mann-Whitney statistic (ties 0.5),
which is what sklearn's trapezoidal ROC area computes; precision / recall / F1 are 0 when their
denominator is 0 (sklearn's ``zero_division`` default); ROC AUC is NaN when a resample holds one
class only (sklearn raises there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BINARY_METRICS: tuple[str, ...] = ("roc_auc", "accuracy", "precision", "recall", "f1")


def binary_labels(y: Any) -> Any:
    """Labels as 0/1 ints: 0/1, booleans, or two classes of which the larger one is positive.

    The larger class is positive because sklearn's ``predict_proba(X)[:, 1]`` is the probability of
    ``classes_[1]``, the larger of the sorted classes.
    """
    import numpy as np

    arr = np.asarray(y).reshape(-1)
    if arr.dtype == bool:
        return arr.astype(np.int64)
    classes = np.unique(arr)
    if classes.size > 2:
        raise ValueError(f"a binary task needs two label values, found {classes.size}")
    if classes.size == 0:
        return np.zeros(0, dtype=np.int64)
    if classes.size == 2:
        return (arr == classes[-1]).astype(np.int64)
    # One class only: it is positive when it is spelled 1 (a resample of positives), else negative.
    only_positive = classes.size == 1 and classes[0] == 1
    return np.full(arr.size, 1 if only_positive else 0, dtype=np.int64)


@dataclass(frozen=True)
class AucPlan:
    """Score order and tie groups for one model (independent of the resample weights)."""

    order: Any
    positive: Any  # labels in score order (int)
    lt: Any  # per element in score order: number of leading elements with a strictly lower score
    le: Any  # ... with a lower or equal score


def auc_plan(y: Any, scores: Any) -> AucPlan:
    """Precompute the ROC AUC of ``scores`` for ``y`` (0/1)."""
    import numpy as np

    s = np.asarray(scores, dtype=float).reshape(-1)
    labels = np.asarray(y, dtype=np.int64).reshape(-1)
    order = np.argsort(s, kind="stable")
    ss = s[order]
    lt = np.searchsorted(ss, ss, side="left")
    le = np.searchsorted(ss, ss, side="right")
    return AucPlan(order=order, positive=labels[order], lt=lt, le=le)


def weighted_auc(plan: AucPlan, weights: Any) -> Any:
    """ROC AUC per row of integer ``weights``: P(score_pos > score_neg) + 0.5 P(equal)."""
    import numpy as np

    w = np.take(weights, plan.order, axis=1).astype(np.float64)
    neg = w * (1 - plan.positive)
    pos = w * plan.positive
    cum = np.zeros((w.shape[0], w.shape[1] + 1))
    np.cumsum(neg, axis=1, out=cum[:, 1:])
    below = np.take(cum, plan.lt, axis=1)
    equal = np.take(cum, plan.le, axis=1) - below
    numerator = (pos * (below + 0.5 * equal)).sum(axis=1)
    denominator = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _safe_div(num: Any, den: Any) -> Any:
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


class BinaryScorer:
    """Bootstrap scorer for binary classifiers: roc_auc, accuracy, precision, recall, f1."""

    metrics: tuple[str, ...] = BINARY_METRICS

    def __init__(self, y: Any, threshold: float = 0.5) -> None:
        import numpy as np

        self.y = np.asarray(binary_labels(y), dtype=np.int64)
        self.threshold = threshold

    def prepare(self, scores: Any) -> tuple[AucPlan, Any]:
        """AUC plan plus the indicator columns the threshold metrics need."""
        import numpy as np

        s = np.asarray(scores, dtype=float).reshape(-1)
        pred = (s >= self.threshold).astype(np.float64)
        y = self.y.astype(np.float64)
        # columns: true positives, predicted positives, correct predictions, actual positives
        columns = np.stack([pred * y, pred, (pred == y).astype(np.float64), y], axis=1)
        return auc_plan(self.y, s), columns

    def evaluate(self, plans: list[tuple[AucPlan, Any]], weights: Any) -> list[dict[str, Any]]:
        """Each metric per row of ``weights`` for each prepared model."""
        out = []
        w = weights.astype("float64", copy=False)
        total = w.sum(axis=1)
        for auc, columns in plans:
            tp, predicted, correct, actual = (w @ columns).T  # integer-valued, exact in float64
            precision = _safe_div(tp, predicted)
            recall = _safe_div(tp, actual)
            out.append(
                {
                    "roc_auc": weighted_auc(auc, weights),
                    "accuracy": _safe_div(correct, total),
                    "precision": precision,
                    "recall": recall,
                    "f1": _safe_div(2 * tp, predicted + actual),
                }
            )
        return out
