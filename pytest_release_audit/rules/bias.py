# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The bias rule: no subgroup below the metric's floor, gaps and calibration within limits.

The subgroups are the policy's ``[bias] columns`` or, without them, the conventional columns
found in the evaluation data; limits the policy leaves unset come from ``metrics.subgroups``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import BiasEvidence, BiasRule
from pytest_release_audit.rules.performance import class_problem, evaluation_outcomes, unknown_kind
from pytest_release_audit.rules.result import RuleResult, kept_on_error

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.metrics.gate import GateRule
    from pytest_release_audit.metrics.subgroups import BiasAnalysis
    from pytest_release_audit.session import Scores

INF = float("inf")


@dataclass(frozen=True)
class Limits:
    """The floor, the largest gap and the largest calibration error allowed (``inf``: not judged)."""

    floor: float
    max_gap: float
    calibration: float
    from_policy: bool


def limits_for(bias: dict[str, Any], metric: str, kind: str) -> Limits:
    """The policy's limits, defaults where it sets none (a risk score is not judged for calibration)."""
    from pytest_release_audit.metrics.subgroups import DEFAULT_CALIBRATION_LIMIT, DEFAULT_LIMITS

    default_floor, default_gap = DEFAULT_LIMITS.get(metric, (0.0, INF))
    calibration = bias["max_calibration_error"]
    if calibration is None:  # a risk score has no probability scale to be calibrated against
        calibration = DEFAULT_CALIBRATION_LIMIT if kind == "binary" else INF
    return Limits(
        floor=float(bias["floor"]) if bias["floor"] is not None else default_floor,
        max_gap=float(bias["max_gap"]) if bias["max_gap"] is not None else default_gap,
        calibration=float(calibration),
        from_policy=bias["floor"] is not None or bias["max_gap"] is not None,
    )


def _columns_problem(data: LoadedDataset, columns: list[str], missing: list[str]) -> str:
    """Why the subgroup columns cannot be used ("" when they can)."""
    from pytest_release_audit.metrics.subgroups import CONVENTIONAL_COLUMNS

    if missing:
        return (
            f"bias columns {', '.join(missing)} are not in evaluation data {data.name}: "
            "fix [tool.release_audit.bias] columns"
        )
    if not columns:
        return (
            f"no subgroup columns: evaluation data {data.name} has none of the conventional "
            f"columns ({', '.join(CONVENTIONAL_COLUMNS)}); set [tool.release_audit.bias] columns = [...]"
        )
    return ""


def _analyse(data: LoadedDataset, scores: Scores, columns: list[str], rule: GateRule, limits: Limits,
             bias: dict[str, Any], performance: dict[str, Any], outcomes: dict[str, Any]) -> BiasAnalysis:
    """Per-subgroup metric with bootstrap CI, gaps and calibration of the candidate's scores."""
    from pytest_release_audit.metrics.subgroups import analyse_subgroups

    return analyse_subgroups(
        data.df[columns].reset_index(drop=True),
        columns,
        scores.candidate,
        kind=data.task.kind,
        metric=rule.metric,
        min_n=int(bias["min_n"]),
        floor=limits.floor,
        max_gap=limits.max_gap,
        calibration_bins=int(bias["calibration_bins"]),
        max_calibration_error=limits.calibration,
        n_bootstrap=int(performance["n_bootstrap"]),
        seed=int(performance["seed"]),
        confidence=float(performance["confidence"]),
        classes=scores.classes if data.task.kind == "multiclass" else None,
        judge_calibration=not scores.label_only,
        **outcomes,
    )


def _rule_evidence(bias: dict[str, Any], limits: Limits) -> BiasRule:
    """The limits applied and where they came from."""
    return BiasRule(
        min_n=int(bias["min_n"]),
        floor=limits.floor,
        max_gap=limits.max_gap if limits.max_gap != INF else None,
        limits_from="policy" if limits.from_policy else "defaults",
        max_calibration_error=limits.calibration if limits.calibration != INF else None,
    )


def _plots(analysis: BiasAnalysis, rule: GateRule, limits: Limits, kind: str, scores: Scores,
           outcomes: dict[str, Any], out_dir: Path) -> list[Path]:
    """A forest plot of the subgroups against the overall metric, and the calibration plot."""
    from pytest_release_audit.metrics import plots
    from pytest_release_audit.metrics.bootstrap import metric_label, paired_bootstrap
    from pytest_release_audit.metrics.gate import scorer_for

    paths: list[Path] = []
    if analysis.subgroups:
        scorer = scorer_for(kind, classes=scores.classes if kind == "multiclass" else None, **outcomes)
        overall = paired_bootstrap(scorer, scores.candidate, n_bootstrap=0).get(rule.metric)
        paths.append(plots.forest(out_dir / "bias_forest.png", analysis.subgroups, metric_label(rule.metric),
                                  overall=overall.candidate, floor=limits.floor or None))
    if analysis.calibration:
        what = "event rate" if kind == "survival" else "positive rate"
        paths.append(plots.calibration(out_dir / "bias_calibration.png", analysis.calibration, what))
    return paths


def _summary(analysis: BiasAnalysis, rule: GateRule, limits: Limits, columns: list[str]) -> str:
    """Columns and subgroups judged, the worst subgroup, the largest gap, calibration, the limits."""
    from pytest_release_audit.metrics.bootstrap import metric_label

    label = metric_label(rule.metric)
    judged = [s for s in analysis.subgroups if s.status != "insufficient_data"]
    insufficient = len(analysis.subgroups) - len(judged)
    noun = "column" if len(columns) == 1 else "columns"
    parts = [f"{len(columns)} {noun}, {len(analysis.subgroups)} subgroups ({insufficient} insufficient data)"]
    if judged:
        worst = (min if rule.direction == "higher" else max)(judged, key=lambda s: s.metric_value or 0.0)
        parts.append(f"worst {label} {worst.metric_value:.2f} ({worst.column}={worst.value})")
    if analysis.gap is not None:
        parts.append(f"largest gap {analysis.gap.value:.2f} ({analysis.gap.column})")
    if analysis.calibration_error is not None:
        parts.append(f"calibration max |error| {analysis.calibration_error:.2f}")
    gap_text = f"{limits.max_gap:g}" if limits.max_gap != INF else "none"
    calibration_text = f"{limits.calibration:g}" if limits.calibration != INF else "not judged"
    parts.append(f"limits: floor {limits.floor:g}, gap {gap_text}, calibration {calibration_text}")
    return "; ".join(parts)


def assess_bias(data: LoadedDataset, scores: Scores, bias: dict[str, Any], performance: dict[str, Any],
                out_dir: Path, *, sink: Evidence | None = None) -> RuleResult:
    """Judge the candidate's subgroups on ``data`` with the policy's ``bias`` and ``performance`` sections.

    When the analysis or its plots raise, what was already established is recorded into ``sink`` first.
    """
    from pytest_release_audit.metrics.bootstrap import metric_label
    from pytest_release_audit.metrics.gate import RANK_METRICS, TASK_METRICS, rule_from_policy
    from pytest_release_audit.metrics.subgroups import pick_columns

    kind = data.task.kind
    if kind not in TASK_METRICS:
        return RuleResult.failure(unknown_kind(data))
    rule, problems = rule_from_policy(performance, kind)
    if rule.metric not in TASK_METRICS.get(kind, ()):
        return RuleResult.failure("; ".join(problems))
    configured = list(bias["columns"])
    columns, missing = pick_columns(configured, list(data.df.columns))
    known = BiasEvidence.of({"metric": rule.metric, "columns": columns})
    problem = _columns_problem(data, columns, missing)
    if problem:
        return RuleResult.failure(problem, known)
    outcomes, problem = evaluation_outcomes(data)
    if not problem:
        problem = class_problem(data, scores, outcomes)
    if not problem and scores.label_only and rule.metric in RANK_METRICS:
        problem = (f"{scores.output_note} ({metric_label(rule.metric)} per subgroup cannot be judged on labels), "
                   'or gate on a threshold metric ([tool.release_audit.performance] metric = "accuracy")')
    if problem:
        return RuleResult.failure(problem, known)
    limits = limits_for(bias, rule.metric, kind)
    with kept_on_error(sink, known):
        analysis = _analyse(data, scores, columns, rule, limits, bias, performance, outcomes)
    notes = list(analysis.notes)
    if kind == "multiclass" or scores.label_only:
        why = "a multiclass model" if kind == "multiclass" else "a model that returns class labels"
        notes.append(f"calibration is not judged for {why} (no single probability scale to bin)")
    evidence = BiasEvidence.of({
        "metric": rule.metric,
        "columns": columns,
        **analysis.to_dict(),
        "columns_source": "policy" if configured else "conventional columns found in the data",
        "notes": notes,
        "rule": _rule_evidence(bias, limits).to_dict(),
    })
    with kept_on_error(sink, evidence):
        attachments = _plots(analysis, rule, limits, kind, scores, outcomes, out_dir)
    findings = list(analysis.findings)
    judged = [g for g in analysis.subgroups if g.status != "insufficient_data"]
    if not judged:
        # A fairness check that judged no subgroup has shown nothing: it must not read as a pass.
        smallest = min((g.n for g in analysis.subgroups), default=0)
        findings.insert(0, (
            f"no subgroup could be judged: all {len(analysis.subgroups)} subgroups of {', '.join(columns)} have fewer "
            f"than min_n {int(bias['min_n'])} rows (smallest {smallest}) or an undefined {metric_label(rule.metric)}: "
            "evaluate on more data, lower [tool.release_audit.bias] min_n, or waive bias with a reason"))
    return RuleResult(
        evidence=evidence,
        summary=_summary(analysis, rule, limits, columns),
        passed=not findings,
        message="; ".join(findings),
        attachments=attachments,
    )
