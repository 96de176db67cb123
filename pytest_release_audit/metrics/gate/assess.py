# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""One performance assessment: score candidate and baseline, apply the gate, gather the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.metrics.bootstrap import MetricEstimate, paired_bootstrap
from pytest_release_audit.metrics.gate.decision import GateDecision, evaluate_gate
from pytest_release_audit.metrics.gate.rules import (
    GateRule,
    LoggedMetric,
    match_logged,
    match_training,
    rule_from_policy,
)

#: Metrics that rank rows by score or need probabilities: meaningless on class labels.
RANK_METRICS = frozenset({"c_index", "roc_auc", "roc_auc_ovr_macro", "roc_auc_ovr_weighted", "log_loss"})


@dataclass(frozen=True)
class OutputFacts:
    """How each model's output was read (``handle.loading.ModelScores``), for the gate and evidence."""

    rule: str = ""
    label_only: bool = False
    note: str = ""
    baseline_rule: str | None = None
    baseline_label_only: bool = False
    baseline_note: str = ""
    classes: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label_only": self.label_only,
            "note": self.note or None,
            "baseline_rule": self.baseline_rule,
            "baseline_label_only": self.baseline_label_only,
            "baseline_note": self.baseline_note or None,
            "classes": None if self.classes is None else list(self.classes),
        }


def label_only_problems(rule: GateRule, output: OutputFacts, baseline_present: bool) -> list[str]:
    """Why a label-only output cannot be judged by the rule's rank metrics ([] when it can).

    Class labels give valid threshold metrics (accuracy, F1, ...), so a label-only model can be
    gated on those; ROC AUC from labels is a single-threshold value, not comparable with a ROC AUC
    from probabilities, and log loss of labels is meaningless: a gate or floor on such a metric fails.
    """
    from pytest_release_audit.metrics.bootstrap import metric_label

    rank = [m for m in dict.fromkeys([rule.metric, *rule.min_value]) if m in RANK_METRICS]
    if not rank:
        return []
    names = ", ".join(metric_label(m) for m in rank)
    fix = 'or gate on a threshold metric ([tool.release_audit.performance] metric = "accuracy")'
    problems = []
    if output.label_only:
        problems.append(f"{output.note} ({names} cannot be judged on labels), {fix}")
    if baseline_present and output.baseline_label_only:
        problems.append(f"baseline: {output.baseline_note} ({names} of labels is not comparable with the "
                        f"candidate's), {fix}")
    return problems


def scorer_for(kind: str, *, durations: Any = None, events: Any = None, y: Any = None,
               classes: tuple[str, ...] | None = None) -> Any:
    """The bootstrap scorer of a task kind (``classes``: the columns of a multiclass score matrix)."""
    if kind == "survival":
        from pytest_release_audit.metrics.survival import SurvivalScorer

        return SurvivalScorer(durations, events)
    if kind == "binary":
        from pytest_release_audit.metrics.classification import BinaryScorer

        return BinaryScorer(y)
    if kind == "regression":
        from pytest_release_audit.metrics.regression import RegressionScorer

        return RegressionScorer(y)
    if kind == "multiclass":
        from pytest_release_audit.metrics.multiclass import MulticlassScorer

        if not classes:
            raise ValueError("a multiclass scorer needs the classes of the score matrix's columns")
        return MulticlassScorer(y, classes)
    raise ValueError(f"unknown task kind {kind!r} (survival, binary, multiclass or regression)")


@dataclass(frozen=True)
class PerformanceAssessment:
    """Bootstrap estimates, the hazard ratio (survival) and the gate decision."""

    kind: str
    rule: GateRule
    decision: GateDecision
    estimates: tuple[MetricEstimate, ...]
    logged: dict[str, LoggedMetric]
    n: int
    events: int | None
    n_bootstrap: int
    seed: int
    confidence: float
    hazard_ratio: Any = None  # survival_cox.HazardRatio | None
    baseline_hazard_ratio: Any = None
    training: dict[str, LoggedMetric] = field(default_factory=dict)  # logged on TRAINING data: shown only
    output: OutputFacts | None = None
    per_class: tuple[dict[str, Any], ...] | None = None  # multiclass: the candidate's per-class metrics

    def to_evidence(self, baseline: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ``performance_gate`` evidence (plain JSON; see the check's contract)."""
        metrics = []
        for est in self.estimates:
            row = est.to_dict()
            log = self.logged.get(est.name)
            trained = self.training.get(est.name)
            metrics.append(
                {
                    "name": row["name"],
                    "label": row["label"],
                    "direction": row["direction"],
                    "candidate": row["candidate"],
                    "candidate_ci": row["candidate_ci"],
                    "baseline": row["baseline"],
                    "baseline_ci": row["baseline_ci"],
                    "delta": row["delta"],
                    "delta_ci": row["delta_ci"],
                    "logged": None if log is None else log.value,
                    "logged_key": None if log is None else log.key,
                    # pass/fail of the rules that apply to this metric (None: none applies), as
                    # the report and model card render it; ``gate_metric`` marks the gated metric.
                    "gate": self.decision.verdicts.get(est.name),
                    "gate_metric": est.name == self.rule.metric,
                    "n_valid": row["n_valid"],
                    # logged on the TRAINING data (sklearn autolog): shown, never compared
                    **({} if trained is None else {"training": trained.value, "training_key": trained.key}),
                }
            )
        extra: dict[str, Any] = {}
        if self.output is not None:
            extra["output"] = self.output.to_dict()
        if self.per_class is not None:
            extra["per_class"] = [dict(row) for row in self.per_class]
        return {
            "task": self.kind,
            "metric": self.rule.metric,
            "direction": self.rule.direction,
            "n": int(self.n),
            "events": None if self.events is None else int(self.events),
            "baseline": None if baseline is None else dict(baseline),
            "metrics": metrics,
            "hazard_ratio": None if self.hazard_ratio is None else self.hazard_ratio.to_dict(),
            "baseline_hazard_ratio": (
                None if self.baseline_hazard_ratio is None else self.baseline_hazard_ratio.to_dict()
            ),
            "rule": {k: v for k, v in self.rule.to_dict().items() if k != "metric"},
            "decision": self.decision.to_dict(),
            "n_bootstrap": int(self.n_bootstrap),
            "seed": int(self.seed),
            "confidence": float(self.confidence),
            **extra,
        }


def assess_performance(
    kind: str,
    candidate: Any,
    baseline: Any | None,
    *,
    section: Mapping[str, Any],
    durations: Any = None,
    events: Any = None,
    y: Any = None,
    baseline_label: str | None = None,
    baseline_problem: str | None = None,
    baseline_missing: str | None = None,
    run_metrics: Mapping[str, float] | None = None,
    eval_context: str | None = None,
    eval_name: str | None = None,
    n_eval_inputs: int = 1,
    output: OutputFacts | None = None,
) -> PerformanceAssessment:
    """Score candidate (and baseline) with the paired bootstrap and apply the policy's gate rule.

    ``section`` is the policy's ``performance`` table. ``baseline_problem`` explains a baseline
    that exists but could not be scored (always fails) — a merely missing baseline is
    ``baseline=None`` with ``baseline_problem=None`` (fails unless ``first_release``). ``output``
    says how the outputs were read; its ``classes`` are the columns of a multiclass matrix, and a
    label-only output fails a gate or floor on a rank metric (``label_only_problems``).
    """
    import numpy as np

    rule, problems = rule_from_policy(section, kind)
    confidence = float(section.get("confidence", 0.95))
    n_bootstrap = int(section.get("n_bootstrap", 1000))
    seed = int(section.get("seed", 0))
    if not 0.0 < confidence < 1.0:
        problems.append(f"policy performance.confidence = {confidence:g} must be between 0 and 1 (e.g. 0.95)")
        confidence = 0.95
    if n_bootstrap < 0:
        problems.append(f"policy performance.n_bootstrap = {n_bootstrap} must be >= 0 (e.g. 1000)")
        n_bootstrap = 0
    output = output or OutputFacts()
    problems.extend(label_only_problems(rule, output, baseline is not None))
    scorer = scorer_for(kind, durations=durations, events=events, y=y, classes=output.classes)
    result = paired_bootstrap(
        scorer, candidate, baseline, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence
    )
    logged = match_logged(
        run_metrics or {}, eval_context=eval_context, eval_name=eval_name, n_eval_inputs=n_eval_inputs, kind=kind
    )
    decision = evaluate_gate(
        result.estimates,
        rule,
        baseline_label=baseline_label if baseline is not None else None,
        baseline_problem=baseline_problem,
        logged=logged,
        config_problems=problems,
        confidence=confidence,
        baseline_missing=baseline_missing,
    )
    hr = base_hr = None
    n_events: int | None = None
    if kind == "survival":
        from pytest_release_audit.metrics.survival_cox import hazard_ratio

        n_events = int(np.count_nonzero(np.asarray(events, dtype=float)))
        hr = hazard_ratio(durations, events, candidate, confidence)
        if baseline is not None:
            base_hr = hazard_ratio(durations, events, baseline, confidence)
    elif kind == "binary":
        n_events = int(np.count_nonzero(np.asarray(y)))
    per_class = None
    if kind == "multiclass" and output.classes:
        from pytest_release_audit.metrics.multiclass import per_class_metrics

        per_class = tuple(per_class_metrics(y, candidate, output.classes))
    return PerformanceAssessment(
        kind=kind,
        rule=rule,
        decision=decision,
        estimates=result.estimates,
        logged=logged,
        n=result.n,
        events=n_events,
        n_bootstrap=result.n_bootstrap,
        seed=seed,
        confidence=confidence,
        hazard_ratio=hr,
        baseline_hazard_ratio=base_hr,
        training=match_training(run_metrics or {}, kind),
        output=output,
        per_class=per_class,
    )
