# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The gate decision: a ``GateRule`` applied to bootstrap estimates, and the lines that explain it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_release_audit.metrics.bootstrap import MetricEstimate, metric_direction, metric_label
from pytest_release_audit.metrics.gate.rules import GateRule, LoggedMetric
from pytest_release_audit.report.format import interval, number


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
    delta = number(est.delta, signed=True)
    if with_delta_ci and est.delta_ci is not None:
        delta = f"{delta} {interval(est.delta_ci, signed=True)}"
    return (
        f"{est.label} {number(est.candidate)} {interval(est.candidate_ci)} vs {baseline_label} "
        f"{number(est.baseline)}: {delta}, {requirement_text(rule)}"
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
        """The decision as plain JSON."""
        return {**asdict(self), "reasons": list(self.reasons)}


def _compare(
    gate: MetricEstimate, rule: GateRule, baseline_label: str | None, baseline_problem: str | None,
    baseline_missing: str | None, confidence: float,
) -> tuple[list[str], str]:
    """(reasons the gate metric fails, the summary line) for the candidate against the baseline."""
    if gate.candidate is None:
        return [f"{gate.label} of the candidate is undefined on the evaluation data"], ""
    if baseline_label is None or gate.baseline is None or gate.delta is None:
        summary = f"{gate.label} {number(gate.candidate)} {interval(gate.candidate_ci)} (first release: no baseline)"
        if baseline_problem:
            return [baseline_problem], summary
        if rule.first_release:
            return [], summary
        why = f" ({baseline_missing})" if baseline_missing else ""
        return [f"no baseline to compare with{why}: set [tool.release_audit.performance] "
                "first_release = true for a first release"], summary
    summary = comparison_text(gate, baseline_label, rule, with_delta_ci=True)
    if not improvement(gate.delta, rule.direction) > rule.min_delta:
        return [comparison_text(gate, baseline_label, rule)], summary
    ci = gate.delta_ci
    ci_better = None if ci is None else min(improvement(ci[0], rule.direction), improvement(ci[1], rule.direction))
    if rule.require_significant and (ci_better is None or not ci_better > rule.min_delta):
        side = "above" if rule.direction == "higher" else "below"
        bound = rule.min_delta if rule.direction == "higher" else -rule.min_delta + 0.0
        return [f"{summary} not significant: the {confidence * 100:g}% CI of the difference must lie "
                f"{side} {bound:g}"], summary
    return [], summary


def _floor_problem(name: str, floor: float, est: MetricEstimate | None) -> str:
    """Why ``est`` misses its floor (a ceiling for error metrics) ``min_value.<name>``; '' when met."""
    if est is None or est.candidate is None:
        return f"{metric_label(name)} is undefined, so min_value.{name} = {floor:g} cannot be met"
    if metric_direction(name) == "higher" and est.candidate < floor:
        return f"{est.label} {number(est.candidate)} below the floor min_value.{name} = {floor:g}"
    if metric_direction(name) == "lower" and est.candidate > floor:
        return f"{est.label} {number(est.candidate)} above the ceiling min_value.{name} = {floor:g}"
    return ""


def _logged_problem(log: LoggedMetric, label: str, candidate: float, tolerance: float) -> str:
    """Why the run's logged value disagrees with the recomputed ``candidate``; '' within ``tolerance``."""
    diff = abs(log.value - candidate)
    if diff <= tolerance:
        return ""
    return (f"logged {log.key} = {log.value:.4f} does not match the recomputed {label} "
            f"{candidate:.4f} on the evaluation data (|diff| {diff:.4f} > tolerance {tolerance:g})")


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
    verdicts: dict[str, bool] = {}

    def judge(name: str, problems: list[str]) -> None:
        reasons.extend(problems)
        verdicts[name] = verdicts.get(name, True) and not problems

    gate = by_name.get(rule.metric)
    summary = ""
    if gate is None:
        reasons.append(f"gate metric {rule.metric} was not computed")
    else:
        problems, summary = _compare(gate, rule, baseline_label, baseline_problem, baseline_missing, confidence)
        judge(rule.metric, problems)
    for name, floor in rule.min_value.items():
        problem = _floor_problem(name, floor, by_name.get(name))
        judge(name, [problem] if problem else [])
    for name, log in (logged or {}).items():
        est = by_name.get(name)
        if est is not None and est.candidate is not None:
            problem = _logged_problem(log, est.label, est.candidate, rule.metric_tolerance)
            judge(name, [problem] if problem else [])
    return GateDecision(
        passed=not reasons,
        reasons=tuple(reasons),
        summary=summary or "; ".join(reasons),
        verdicts=verdicts,
    )
