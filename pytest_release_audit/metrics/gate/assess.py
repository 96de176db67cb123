# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""One performance assessment: score candidate and baseline, apply the gate, gather the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_release_audit.metrics.bootstrap import MetricEstimate, paired_bootstrap
from pytest_release_audit.metrics.gate.decision import GateDecision, evaluate_gate
from pytest_release_audit.metrics.gate.rules import GateRule, LoggedMetric, match_logged, rule_from_policy


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
            "rule": {k: v for k, v in self.rule.to_dict().items() if k != "metric"},
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
