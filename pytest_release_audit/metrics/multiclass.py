# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Multi-class metrics, weighted for the bootstrap (unit weights give the point value).

Scores are an ``(n, k)`` probability matrix whose columns are the classes in ``classes`` order;
``y`` holds each row's class as a column index (``class_codes``). The predicted class is the
column with the largest probability (the first on a tie), as sklearn's ``predict`` for a
probabilistic classifier. With unit weights every value equals sklearn's:

* ``roc_auc_ovr_macro`` / ``roc_auc_ovr_weighted``: ``roc_auc_score(y, P, multi_class="ovr",
  average="macro" / "weighted", labels=classes)``: the one-vs-rest Mann-Whitney AUC of each
  column (ties 0.5), averaged plainly or by class support. A resample where some class is absent
  has an undefined one-vs-rest AUC for that class (sklearn warns and gives NaN): the macro average
  is NaN there and the resample is excluded from the interval, as binary ROC AUC on a one-class
  resample; the weighted average gives the absent class weight 0, as sklearn does.
* ``log_loss``: ``log_loss(y, P, labels=classes)``: the mean of ``-log(clip(P[i, y_i], eps, 1-eps))``
  (``eps`` the float64 machine epsilon, sklearn's clip); defined on every resample.
* ``accuracy``: ``accuracy_score(y, classes[argmax(P)])``.
* ``f1_macro`` / ``f1_weighted``: ``f1_score(y, pred, average="macro" / "weighted")`` with
  sklearn's default labels (the classes present in the resample's truth or predictions), F1 = 0
  where its denominator is 0 (sklearn's ``zero_division`` default).

Memory: one ``(chunk, n)`` weight block plus a few of the same size per class at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_release_audit.metrics.classification import AucPlan, auc_plan, weighted_auc

MULTICLASS_METRICS: tuple[str, ...] = (
    "roc_auc_ovr_macro", "roc_auc_ovr_weighted", "log_loss", "accuracy", "f1_macro", "f1_weighted",
)


def label_key(value: Any) -> str:
    """A class label as text, so labels read from a CSV (``1``, ``1.0``) match the model's (``1``)."""
    if isinstance(value, bool):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer():
        return str(int(number))
    return str(value)


def class_codes(y: Any, classes: tuple[str, ...]) -> Any:
    """Each label's column index in ``classes``; ``ValueError`` naming labels the model has no column for."""
    import numpy as np

    keys = [label_key(v) for v in np.asarray(y, dtype=object).reshape(-1)]
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({k for k in keys if k not in index})
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ValueError(f"labels {shown} are not among the model's classes [{', '.join(classes[:20])}]")
    return np.asarray([index[k] for k in keys], dtype=np.int64)


@dataclass(frozen=True)
class MulticlassPlan:
    """One model's precomputed rows: per-class AUC plans, per-row loss, prediction indicators."""

    aucs: tuple[AucPlan, ...]
    loss: Any  # (n,) per-row log loss
    correct: Any  # (n,) 1.0 where the predicted class is the true one
    predicted: Any  # (n, k) one-hot of the predicted class
    hits: Any  # (n, k) one-hot of the predicted class where it is correct


class MulticlassScorer:
    """Bootstrap scorer for multi-class classifiers (see the module docstring for the metrics)."""

    metrics: tuple[str, ...] = MULTICLASS_METRICS

    def __init__(self, y: Any, classes: tuple[str, ...]) -> None:
        import numpy as np

        self.classes = tuple(classes)
        self.k = len(self.classes)
        self.y = class_codes(y, self.classes)
        self.actual = np.zeros((self.y.size, self.k))
        self.actual[np.arange(self.y.size), self.y] = 1.0

    def prepare(self, scores: Any) -> MulticlassPlan:
        import numpy as np

        p = np.asarray(scores, dtype=float)
        if p.ndim != 2 or p.shape != (self.y.size, self.k):
            raise ValueError(f"a {self.k}-class model needs an ({self.y.size}, {self.k}) probability matrix, "
                             f"got shape {p.shape}")
        rows = np.arange(self.y.size)
        eps = np.finfo(np.float64).eps
        loss = -np.log(np.clip(p[rows, self.y], eps, 1 - eps))
        pred = np.argmax(p, axis=1)
        predicted = np.zeros_like(self.actual)
        predicted[rows, pred] = 1.0
        correct = (pred == self.y).astype(np.float64)
        aucs = tuple(auc_plan(self.y == c, p[:, c]) for c in range(self.k))
        return MulticlassPlan(aucs=aucs, loss=loss, correct=correct, predicted=predicted,
                              hits=predicted * correct[:, None])

    def evaluate(self, plans: list[MulticlassPlan], weights: Any) -> list[dict[str, Any]]:
        """Each metric per row of ``weights`` for each prepared model."""
        import numpy as np

        w = weights.astype(np.float64, copy=False)
        total = w.sum(axis=1)
        support = w @ self.actual  # (m, k) weighted class counts of the truth
        out = []
        for plan in plans:
            auc = np.stack([weighted_auc(a, weights) for a in plan.aucs], axis=1)  # (m, k), NaN: class absent
            tp = w @ plan.hits
            pred = w @ plan.predicted
            denominator = pred + support
            present = denominator > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                f1 = np.where(present, 2 * tp / np.where(present, denominator, 1), 0.0)
                macro_auc = auc.mean(axis=1)  # NaN propagates: a class absent from the resample
                # sklearn gives an absent class weight 0 (its NaN AUC is dropped from the average)
                weighted = (np.where(support > 0, auc, 0.0) * support).sum(axis=1) / total
                out.append({
                    "roc_auc_ovr_macro": macro_auc,
                    "roc_auc_ovr_weighted": weighted,
                    "log_loss": (w @ plan.loss) / total,
                    "accuracy": (w @ plan.correct) / total,
                    "f1_macro": f1.sum(axis=1) / present.sum(axis=1),
                    "f1_weighted": (f1 * support).sum(axis=1) / total,
                })
        return out


def per_class_metrics(y: Any, scores: Any, classes: tuple[str, ...]) -> list[dict[str, Any]]:
    """Precision, recall, F1, one-vs-rest ROC AUC and support of each class (point values, plain JSON)."""
    import math

    import numpy as np

    scorer = MulticlassScorer(y, classes)
    plan = scorer.prepare(scores)
    unit = np.ones((1, scorer.y.size), dtype=np.int32)
    support = scorer.actual.sum(axis=0)
    tp = plan.hits.sum(axis=0)
    predicted = plan.predicted.sum(axis=0)
    rows = []
    for c, name in enumerate(classes):
        auc = float(weighted_auc(plan.aucs[c], unit)[0])
        precision = tp[c] / predicted[c] if predicted[c] else 0.0
        recall = tp[c] / support[c] if support[c] else 0.0
        f1 = 2 * tp[c] / (predicted[c] + support[c]) if predicted[c] + support[c] else 0.0
        rows.append({
            "label": name,
            "support": int(support[c]),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "roc_auc": auc if math.isfinite(auc) else None,
        })
    return rows
