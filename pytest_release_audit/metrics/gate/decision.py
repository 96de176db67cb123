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
            f"{gate.label} {number(gate.candidate)} {interval(gate.candidate_ci)} (first release: no baseline)"
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
            reasons.append(f"{est.label} {number(est.candidate)} below the floor min_value.{name} = {floor:g}")
            judge(name, False)
        elif metric_direction(name) == "lower" and est.candidate > floor:
            reasons.append(f"{est.label} {number(est.candidate)} above the ceiling min_value.{name} = {floor:g}")
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

