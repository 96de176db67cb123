# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The performance gate as pure functions: metrics in, a pass/fail decision with the numbers out.

Rule (policy ``[tool.release_audit.performance]``):

* the gate metric (``metric``; default C-index / ROC AUC / RMSE by task) must improve on the
  baseline by more than ``min_delta`` (default 0: strictly better). Improvement is
  ``candidate - baseline`` for higher-is-better metrics and ``baseline - candidate`` for error
  metrics;
* with ``require_significant``, the paired-bootstrap CI of that improvement must lie above
  ``min_delta`` too (for the default 0: the CI of the difference excludes 0);
* every metric named in ``min_value`` must reach its floor (point estimate; for error metrics the
  value is a ceiling);
* without a baseline the gate fails unless ``first_release = true`` (floors still apply); a
  baseline that exists but cannot be scored always fails (fail closed);
* a logged metric that was clearly computed on the evaluation split (see ``match_logged``) must
  agree with the recomputed value within ``metric_tolerance``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.metrics.bootstrap import (
    METRICS,
    MetricEstimate,
    metric_direction,
    metric_label,
    paired_bootstrap,
)

TASK_METRICS: dict[str, tuple[str, ...]] = {
    "survival": ("c_index",),
    "binary": ("roc_auc", "accuracy", "precision", "recall", "f1"),
    "regression": ("rmse", "mae"),
}
DEFAULT_METRIC = {"survival": "c_index", "binary": "roc_auc", "regression": "rmse"}

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
}
#: Split markers that name held-out evaluation data in a metric name (``test_auc``, ``auc_eval``).
EVAL_MARKERS = ("test", "eval", "evaluation", "holdout", "heldout", "held_out")
VALIDATION_MARKERS = ("val", "validation", "valid")


def normalise(name: str) -> str:
    """``Test-C.Index`` -> ``test_c_index``."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def canonical_metric(name: str) -> str | None:
    """The canonical metric for a policy key or alias (``auc`` -> ``roc_auc``); None if unknown."""
    norm = normalise(name)
    for canonical, aliases in ALIASES.items():
        if norm in aliases:
            return canonical
    return None


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
) -> dict[str, LoggedMetric]:
    """Logged metrics that were clearly computed on the evaluation split, by canonical name.

    A logged name counts when, after normalising (``Test-AUC`` -> ``test_auc``), it is an alias
    with an evaluation marker as prefix or suffix: ``test`` / ``eval`` / ``evaluation`` /
    ``holdout``, the evaluation dataset's context, or its name (``val`` / ``validation`` only when
    the evaluation dataset is the validation set). A bare alias (``c_index``, what
    ``mlflow.evaluate`` logs) counts only when the run logged exactly one evaluation dataset. Names
    with any other marker (``train_``, ``cv_``, ``oob_`` ...) are ignored. Explicit names win.
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
        for canonical, aliases in ALIASES.items():
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
        return {
            "metric": self.metric,
            "min_delta": float(self.min_delta),
            "require_significant": bool(self.require_significant),
            "min_value": {k: float(v) for k, v in self.min_value.items()},
            "first_release": bool(self.first_release),
            "metric_tolerance": float(self.metric_tolerance),
        }


def rule_from_policy(section: Mapping[str, Any], kind: str) -> tuple[GateRule, list[str]]:
    """(rule, configuration problems) from the policy's ``performance`` section for ``kind``."""
    problems: list[str] = []
    available = TASK_METRICS.get(kind, ())
    raw_metric = str(section.get("metric") or "")
    metric = DEFAULT_METRIC.get(kind, "") if not raw_metric else (canonical_metric(raw_metric) or raw_metric)
    if metric not in available:
        problems.append(
            f"policy performance.metric = {raw_metric!r} is not computed for a {kind} task "
            f"(use one of: {', '.join(available)})"
        )
    floors: dict[str, float] = {}
    for key, value in dict(section.get("min_value") or {}).items():
        name = canonical_metric(key)
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


def fmt(value: float | None, signed: bool = False) -> str:
    """Two decimals, more when two decimals would hide a nonzero value (``+0.004``)."""
    if value is None:
        return "n/a"
    sign = "+" if signed else ""
    for places in (2, 3, 4):
        text = f"{value:{sign}.{places}f}"
        if float(text) != 0.0 or value == 0.0:
            return text
    return f"{value:{sign}.2g}"


def fmt_ci(ci: Sequence[float | None] | None, signed: bool = False) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "[n/a]"
    return f"[{fmt(ci[0], signed)}, {fmt(ci[1], signed)}]"


def improvement(delta: float, direction: str) -> float:
    """Delta in the metric's better direction (positive = better)."""
    return delta if direction == "higher" else -delta


def requirement_text(rule: GateRule) -> str:
    """``required > 0`` (higher is better) or ``required < 0`` (error metrics)."""
    if rule.direction == "higher":
        return f"required > {rule.min_delta:g}"
    return f"required < {-rule.min_delta + 0.0:g}"  # + 0.0: no "-0" for the default


def comparison_text(
    est: MetricEstimate, baseline_label: str, rule: GateRule, with_delta_ci: bool = False
) -> str:
    """``C-index 0.68 [0.64, 0.71] vs production 0.69: -0.01, required > 0``."""
    delta = fmt(est.delta, signed=True)
    if with_delta_ci and est.delta_ci is not None:
        delta = f"{delta} {fmt_ci(est.delta_ci, signed=True)}"
    return (
        f"{est.label} {fmt(est.candidate)} {fmt_ci(est.candidate_ci)} vs {baseline_label} "
        f"{fmt(est.baseline)}: {delta}, {requirement_text(rule)}"
    )


@dataclass(frozen=True)
class GateDecision:
    """Whether the gate passes, why not (one line per reason) and the line to show."""

    passed: bool
    reasons: tuple[str, ...]
    summary: str
    #: per judged metric: True = met its rule (comparison / floor / logged value), False = not.
    #: Metrics no rule applies to are absent.
    verdicts: dict[str, bool] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The failure message: every reason on the first line, gate metric first."""
        return "; ".join(self.reasons) if self.reasons else self.summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "summary": self.summary,
            "verdicts": dict(self.verdicts),
        }


def evaluate_gate(
    estimates: Sequence[MetricEstimate],
    rule: GateRule,
    *,
    baseline_label: str | None,
    baseline_problem: str | None = None,
    logged: Mapping[str, LoggedMetric] | None = None,
    config_problems: Sequence[str] = (),
    confidence: float = 0.95,
    baseline_missing: str | None = None,
) -> GateDecision:
    """Apply ``rule`` to the bootstrap ``estimates``.

    ``baseline_label`` names the baseline in messages (``production``, ``baseline v3``); None when
    there is no baseline. ``baseline_problem`` is why the baseline could not be used (missing /
    unscorable): it fails unless the baseline is merely missing and ``rule.first_release`` holds —
    the caller passes None for that case and may say why it is missing in ``baseline_missing``.
    """
    by_name = {e.name: e for e in estimates}
    reasons: list[str] = list(config_problems)
    gate = by_name.get(rule.metric)
    summary = ""
    verdicts: dict[str, bool] = {}

    def judge(name: str, ok: bool) -> None:
        verdicts[name] = verdicts.get(name, True) and ok

    before = len(reasons)
    if gate is None:
        reasons.append(f"gate metric {rule.metric} was not computed")
    elif gate.candidate is None:
        reasons.append(f"{gate.label} of the candidate is undefined on the evaluation data")
    elif baseline_label is None or gate.baseline is None or gate.delta is None:
        if baseline_problem:
            reasons.append(baseline_problem)
        elif not rule.first_release:
            why = f" ({baseline_missing})" if baseline_missing else ""
            reasons.append(
                f"no baseline to compare with{why}: set [tool.release_audit.performance] "
                "first_release = true for a first release"
            )
        summary = (
            f"{gate.label} {fmt(gate.candidate)} {fmt_ci(gate.candidate_ci)} (first release: no baseline)"
        )
    else:
        better = improvement(gate.delta, rule.direction)
        line = comparison_text(gate, baseline_label, rule)
        summary = comparison_text(gate, baseline_label, rule, with_delta_ci=True)
        if not better > rule.min_delta:
            reasons.append(line)
        elif rule.require_significant:
            ci = gate.delta_ci
            ci_better = (
                None
                if ci is None
                else min(improvement(ci[0], rule.direction), improvement(ci[1], rule.direction))
            )
            if ci_better is None or not ci_better > rule.min_delta:
                pct = f"{confidence * 100:g}%"
                reasons.append(
                    f"{summary} not significant: the {pct} CI of the difference must lie "
                    f"{'above' if rule.direction == 'higher' else 'below'} "
                    f"{(rule.min_delta if rule.direction == 'higher' else -rule.min_delta + 0.0):g}"
                )
    if gate is not None:
        judge(rule.metric, len(reasons) == before)
    for name, floor in rule.min_value.items():
        est = by_name.get(name)
        if est is None or est.candidate is None:
            reasons.append(
                f"{metric_label(name)} is undefined, so min_value.{name} = {floor:g} cannot be met"
            )
            judge(name, False)
            continue
        if metric_direction(name) == "higher" and est.candidate < floor:
            reasons.append(f"{est.label} {fmt(est.candidate)} below the floor min_value.{name} = {floor:g}")
            judge(name, False)
        elif metric_direction(name) == "lower" and est.candidate > floor:
            reasons.append(f"{est.label} {fmt(est.candidate)} above the ceiling min_value.{name} = {floor:g}")
            judge(name, False)
        else:
            judge(name, True)
    for name, log in (logged or {}).items():
        est = by_name.get(name)
        if est is None or est.candidate is None:
            continue
        diff = abs(log.value - est.candidate)
        if diff > rule.metric_tolerance:
            reasons.append(
                f"logged {log.key} = {log.value:.4f} does not match the recomputed {est.label} "
                f"{est.candidate:.4f} on the evaluation data (|diff| {diff:.4f} > tolerance "
                f"{rule.metric_tolerance:g})"
            )
        judge(name, diff <= rule.metric_tolerance)
    return GateDecision(
        passed=not reasons,
        reasons=tuple(reasons),
        summary=summary or "; ".join(reasons),
        verdicts=verdicts,
    )


def known_metrics() -> tuple[str, ...]:
    """Every metric the gate knows."""
    return tuple(METRICS)


def scorer_for(kind: str, *, durations: Any = None, events: Any = None, y: Any = None) -> Any:
    """The bootstrap scorer of a task kind."""
    if kind == "survival":
        from pytest_release_audit.metrics.survival import SurvivalScorer

        return SurvivalScorer(durations, events)
    if kind == "binary":
        from pytest_release_audit.metrics.classification import BinaryScorer

        return BinaryScorer(y)
    if kind == "regression":
        from pytest_release_audit.metrics.regression import RegressionScorer

        return RegressionScorer(y)
    raise ValueError(f"unknown task kind {kind!r} (survival, binary or regression)")


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
    hazard_ratio: Any = None  # survival.HazardRatio | None
    baseline_hazard_ratio: Any = None

    def to_evidence(self, baseline: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ``performance_gate`` evidence (plain JSON; see the check's contract)."""
        metrics = []
        for est in self.estimates:
            row = est.to_dict()
            log = self.logged.get(est.name)
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
                }
            )
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
            "rule": {
                "min_delta": float(self.rule.min_delta),
                "require_significant": bool(self.rule.require_significant),
                "min_value": {k: float(v) for k, v in self.rule.min_value.items()},
                "first_release": bool(self.rule.first_release),
                "metric_tolerance": float(self.rule.metric_tolerance),
            },
            "decision": self.decision.to_dict(),
            "n_bootstrap": int(self.n_bootstrap),
            "seed": int(self.seed),
            "confidence": float(self.confidence),
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
) -> PerformanceAssessment:
    """Score candidate (and baseline) with the paired bootstrap and apply the policy's gate rule.

    ``section`` is the policy's ``performance`` table. ``baseline_problem`` explains a baseline
    that exists but could not be scored (always fails) — a merely missing baseline is
    ``baseline=None`` with ``baseline_problem=None`` (fails unless ``first_release``).
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
    scorer = scorer_for(kind, durations=durations, events=events, y=y)
    result = paired_bootstrap(
        scorer, candidate, baseline, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence
    )
    logged = match_logged(
        run_metrics or {}, eval_context=eval_context, eval_name=eval_name, n_eval_inputs=n_eval_inputs
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
        from pytest_release_audit.metrics.survival import hazard_ratio

        n_events = int(np.count_nonzero(np.asarray(events, dtype=float)))
        hr = hazard_ratio(durations, events, candidate, confidence)
        if baseline is not None:
            base_hr = hazard_ratio(durations, events, baseline, confidence)
    elif kind == "binary":
        n_events = int(np.count_nonzero(np.asarray(y)))
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
    )
