# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The performance gate's rule: which metric, which thresholds, and which logged metrics count.

``rule_from_policy`` reads the policy's ``performance`` section into a ``GateRule`` (naming every
configuration problem); ``match_logged`` finds the metrics a run logged on the evaluation split.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_release_audit.metrics.bootstrap import metric_direction

TASK_METRICS: dict[str, tuple[str, ...]] = {
    "survival": ("c_index",),
    "binary": ("roc_auc", "accuracy", "precision", "recall", "f1"),
    "multiclass": ("roc_auc_ovr_macro", "roc_auc_ovr_weighted", "log_loss", "accuracy", "f1_macro", "f1_weighted"),
    "regression": ("rmse", "mae", "r2", "mse"),
}
DEFAULT_METRIC = {"survival": "c_index", "binary": "roc_auc", "multiclass": "roc_auc_ovr_macro", "regression": "rmse"}

#: Names a run may log a metric under (normalised: lower case, separators as "_").
ALIASES: dict[str, tuple[str, ...]] = {
    "c_index": ("c_index", "cindex", "concordance", "concordance_index", "harrell_c", "c_statistic"),
    "roc_auc": ("roc_auc", "auc", "roc_auc_score", "auroc", "auc_roc"),
    "accuracy": ("accuracy", "accuracy_score", "acc"),
    "precision": ("precision", "precision_score"),
    "recall": ("recall", "recall_score", "sensitivity", "tpr"),
    "f1": ("f1", "f1_score"),
    "rmse": ("rmse", "root_mean_squared_error"),
    "mae": ("mae", "mean_absolute_error"),
    "mse": ("mse", "mean_squared_error"),
    "r2": ("r2", "r2_score", "r_squared", "rsquared"),
    "roc_auc_ovr_macro": ("roc_auc_ovr_macro", "roc_auc_macro", "macro_roc_auc", "macro_auc", "auc_macro",
                          "roc_auc_ovr"),
    "roc_auc_ovr_weighted": ("roc_auc_ovr_weighted", "roc_auc_weighted", "weighted_roc_auc", "weighted_auc",
                             "auc_weighted"),
    "log_loss": ("log_loss", "logloss", "cross_entropy"),
    "f1_macro": ("f1_macro", "macro_f1", "f1_score_macro"),
    "f1_weighted": ("f1_weighted", "weighted_f1", "f1_score_weighted"),
}
#: Names whose meaning depends on the task. ``mlflow.models.evaluate`` logs a multi-class model's
#: ``roc_auc`` / ``f1_score`` averaged with ``evaluator_config["average"]``, ``"weighted"`` by
#: default: so for a multiclass task those bare names are the weighted averages.
TASK_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "multiclass": {
        "roc_auc_ovr_weighted": ("roc_auc", "auc", "roc_auc_score", "auroc", "auc_roc"),
        "f1_weighted": ("f1", "f1_score"),
    },
}
#: Prefixes of the metrics ``mlflow.sklearn.autolog`` logs on the TRAINING data (``training_roc_auc``):
#: shown beside the recomputed values, never compared with them.
TRAINING_PREFIXES = ("training", "train")
#: Split markers that name held-out evaluation data in a metric name (``test_auc``, ``auc_eval``).
EVAL_MARKERS = ("test", "eval", "evaluation", "holdout", "heldout", "held_out")
VALIDATION_MARKERS = ("val", "validation", "valid")


def normalise(name: str) -> str:
    """``Test-C.Index`` -> ``test_c_index``."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def aliases_for(kind: str | None = None) -> dict[str, tuple[str, ...]]:
    """Canonical metric -> the names it may be logged under, for a task ``kind`` (None: any task)."""
    if kind is None or kind not in TASK_METRICS:
        return dict(ALIASES)
    extra = TASK_ALIASES.get(kind, {})
    taken = {a for names in extra.values() for a in names}
    return {name: tuple(dict.fromkeys([*(a for a in ALIASES.get(name, (name,)) if a not in taken),
                                       *extra.get(name, ())]))
            for name in TASK_METRICS[kind]}


def canonical_metric(name: str, kind: str | None = None) -> str | None:
    """The canonical metric for a policy key or alias (``auc`` -> ``roc_auc``); None if unknown.

    With a task ``kind``, only that task's metrics and names count (a multiclass ``roc_auc`` is
    the weighted one-vs-rest AUC, as ``mlflow.models.evaluate`` logs it).
    """
    norm = normalise(name)
    for canonical, aliases in aliases_for(kind).items():
        if norm in aliases:
            return canonical
    return None


def match_training(run_metrics: Mapping[str, float], kind: str | None = None) -> dict[str, LoggedMetric]:
    """Metrics logged on the training data (``training_roc_auc`` from sklearn autolog), by canonical
    name: evidence to show, never compared with the evaluation values."""
    found: dict[str, LoggedMetric] = {}
    aliases = aliases_for(kind)
    for key in sorted(run_metrics):
        value = run_metrics[key]
        if value is None or not math.isfinite(float(value)):
            continue
        norm = normalise(key)
        for canonical, names in aliases.items():
            if canonical not in found and any(norm == f"{p}_{a}" for a in names for p in TRAINING_PREFIXES):
                found[canonical] = LoggedMetric(key=key, value=float(value), explicit=True)
    return found


@dataclass(frozen=True)
class LoggedMetric:
    """A metric the run logged, matched to a canonical metric on the evaluation split."""

    key: str
    value: float
    explicit: bool  # the name carries an evaluation-split marker (vs a bare name)


def match_logged(
    run_metrics: Mapping[str, float],
    *,
    eval_context: str | None = None,
    eval_name: str | None = None,
    n_eval_inputs: int = 1,
    kind: str | None = None,
) -> dict[str, LoggedMetric]:
    """Logged metrics that were clearly computed on the evaluation split, by canonical name.

    A logged name counts when, after normalising (``Test-AUC`` -> ``test_auc``), it is an alias
    with an evaluation marker as prefix or suffix: ``test`` / ``eval`` / ``evaluation`` /
    ``holdout``, the evaluation dataset's context, or its name (``val`` / ``validation`` only when
    the evaluation dataset is the validation set). A bare alias (``c_index``, what
    ``mlflow.evaluate`` logs) counts only when the run logged exactly one evaluation dataset. Names
    with any other marker (``train_``, ``training_``, ``cv_``, ``oob_`` ...) are ignored. Explicit
    names win. With a task ``kind``, only that task's metrics and names count (``aliases_for``).
    """
    markers = set(EVAL_MARKERS)
    for extra in (eval_context, eval_name):
        if extra:
            markers.add(normalise(extra))
    if eval_context and normalise(eval_context) in VALIDATION_MARKERS:
        markers.update(VALIDATION_MARKERS)
    found: dict[str, LoggedMetric] = {}
    for key in sorted(run_metrics):
        value = run_metrics[key]
        if value is None or not math.isfinite(float(value)):
            continue
        norm = normalise(key)
        for canonical, aliases in aliases_for(kind).items():
            explicit = any(norm in (f"{m}_{a}", f"{a}_{m}") for a in aliases for m in markers)
            bare = norm in aliases and n_eval_inputs == 1
            if not (explicit or bare):
                continue
            current = found.get(canonical)
            if current is None or (explicit and not current.explicit):
                found[canonical] = LoggedMetric(key=key, value=float(value), explicit=explicit)
    return found


@dataclass(frozen=True)
class GateRule:
    """The policy's performance rule, validated against the task."""

    metric: str
    min_delta: float = 0.0
    require_significant: bool = False
    min_value: dict[str, float] = field(default_factory=dict)
    first_release: bool = False
    metric_tolerance: float = 0.005

    @property
    def direction(self) -> str:
        return metric_direction(self.metric)

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain JSON (``rule_from_policy`` stores floats and booleans)."""
        return asdict(self)


def rule_from_policy(section: Mapping[str, Any], kind: str) -> tuple[GateRule, list[str]]:
    """(rule, configuration problems) from the policy's ``performance`` section for ``kind``."""
    problems: list[str] = []
    available = TASK_METRICS.get(kind, ())
    raw_metric = str(section.get("metric") or "")
    metric = DEFAULT_METRIC.get(kind, "") if not raw_metric else (canonical_metric(raw_metric, kind) or raw_metric)
    if metric not in available:
        problems.append(
            f"policy performance.metric = {raw_metric!r} is not computed for a {kind} task "
            f"(use one of: {', '.join(available)})"
        )
    floors: dict[str, float] = {}
    for key, value in dict(section.get("min_value") or {}).items():
        name = canonical_metric(key, kind)
        if name is None or name not in available:
            problems.append(
                f"policy performance.min_value.{key} names no metric of a {kind} task "
                f"(use one of: {', '.join(available)})"
            )
            continue
        floors[name] = float(value)
    rule = GateRule(
        metric=metric,
        min_delta=float(section.get("min_delta", 0.0)),
        require_significant=bool(section.get("require_significant", False)),
        min_value=floors,
        first_release=bool(section.get("first_release", False)),
        metric_tolerance=float(section.get("metric_tolerance", 0.005)),
    )
    return rule, problems

