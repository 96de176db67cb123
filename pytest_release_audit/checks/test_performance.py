# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: performance gate (candidate vs baseline, paired bootstrap) and subgroup bias.

Both models are scored on the same held-out evaluation dataset (``evaluation_scores``); the
metric logic lives in ``pytest_release_audit.metrics`` (pure functions), this module only reads
fixtures, writes the PNG evidence and asserts.

Logged metrics (``audit_model.run.metrics``) are shown beside the recomputed ones and compared
only when their name says they were computed on the evaluation split (see
``metrics.gate.match_logged``: ``test_c_index``, ``eval_auc``, ``c_index_test``, or a bare
``c_index`` when the run logged exactly one evaluation dataset; ``train_*`` / ``cv_*`` never).
"""

from __future__ import annotations

from typing import Any

import pytest


def _outcomes(evaluation_data: Any) -> dict[str, Any]:
    """durations / events (survival) or y (binary as 0/1, regression as float) of the eval data."""
    import numpy as np
    import pandas as pd

    kind = evaluation_data.task.kind
    if kind == "survival":
        task, df = evaluation_data.task, evaluation_data.df
        problems = []
        for role, col in (("duration", task.duration_col), ("event", task.event_col)):
            if not col or col not in df.columns:
                problems.append(f"no {role} column (set [tool.release_audit.task] {role}_col)")
                continue
            values = pd.to_numeric(df[col], errors="coerce")
            missing = int(values.isna().sum())
            if missing:
                problems.append(f"{missing} missing (NaN) or non-numeric values in {col}")
            elif role == "event" and not values.isin([0, 1]).all():
                problems.append(f"{col} holds values other than 0/1")
            elif role == "duration" and (values < 0).any():
                problems.append(f"{int((values < 0).sum())} negative durations in {col}")
        assert not problems, (
            f"evaluation data {evaluation_data.name}: {'; '.join(problems)}: fix the data (drop or impute) "
            "before it is logged"
        )
        return {"durations": evaluation_data.durations, "events": evaluation_data.events}
    y = evaluation_data.y
    assert y is not None, (
        f"evaluation data {evaluation_data.name} has no label column for a {kind} task: "
        "set [tool.release_audit.task] label_col"
    )
    if kind == "binary":
        from pytest_release_audit.metrics.classification import binary_labels

        try:
            return {"y": binary_labels(y)}
        except ValueError as exc:
            raise AssertionError(f"evaluation data {evaluation_data.name}: {exc}") from None
    return {"y": np.asarray(y, dtype=float)}


def _baseline_label(baseline: Any) -> str:
    return baseline.requested_alias or f"baseline v{baseline.version}"


@pytest.mark.compliance(
    "performance_gate",
    title="Candidate beats the baseline on held-out data (paired bootstrap CI)",
    controls=["SR11-7:outcomes-analysis", "EU-AI-Act:Art.15-accuracy", "FDA-GMLP:8-performance-testing"],
)
def test_performance_gate(
    audit_model,
    audit_baseline,
    evaluation_data,
    evaluation_scores,
    audit_policy,
    audit_out,
    audit_evidence,
):
    from pytest_release_audit.metrics.gate import assess_performance

    kind = evaluation_data.task.kind
    assert kind in ("survival", "binary", "regression"), (
        f"unknown task kind {kind!r} for {evaluation_data.name}: set [tool.release_audit.task] kind"
    )
    outcomes = _outcomes(evaluation_data)
    section = audit_policy.section("performance")
    baseline_scores = evaluation_scores.baseline
    problem = None
    if audit_baseline is not None and baseline_scores is None:
        problem = (
            f"baseline {audit_baseline.name} v{audit_baseline.version} could not be scored on "
            f"{evaluation_data.name}: {evaluation_scores.baseline_error or 'no predictions'}"
        )
    run = audit_model.run
    assessment = assess_performance(
        kind,
        evaluation_scores.candidate,
        baseline_scores if audit_baseline is not None else None,
        section=section,
        baseline_label=_baseline_label(audit_baseline) if audit_baseline is not None else None,
        baseline_problem=problem,
        baseline_missing=None if audit_baseline is not None else evaluation_scores.baseline_error,
        run_metrics=dict(run.metrics) if run else {},
        eval_context=evaluation_data.context,
        eval_name=evaluation_data.name,
        n_eval_inputs=len(run.evaluation_inputs) if run else 1,
        **outcomes,
    )
    baseline_ref = None
    if audit_baseline is not None:
        baseline_ref = {
            "name": audit_baseline.name,
            "version": str(audit_baseline.version),
            "alias": audit_baseline.requested_alias,
        }
    evidence = assessment.to_evidence(baseline_ref)
    if audit_baseline is None:
        evidence["baseline_missing"] = evaluation_scores.baseline_error or "no baseline found"
    evidence["dataset"] = {"name": evaluation_data.name, "context": evaluation_data.context}
    audit_evidence.update(evidence)

    from pytest_release_audit.metrics import plots

    cand_title = f"candidate {audit_model.name} v{audit_model.version}"
    panels = {cand_title: evaluation_scores.candidate}
    if audit_baseline is not None and baseline_scores is not None:
        base_title = f"{_baseline_label(audit_baseline)} {audit_baseline.name} v{audit_baseline.version}"
        panels[base_title] = baseline_scores
    if kind == "survival":
        path = plots.km_risk_groups(
            audit_out / "performance_km.png", outcomes["durations"], outcomes["events"], panels
        )
        audit_evidence.attach(path)
    elif kind == "binary" and 0 < int(outcomes["y"].sum()) < len(outcomes["y"]):
        audit_evidence.attach(plots.roc_curves(audit_out / "performance_roc.png", outcomes["y"], panels))

    summary = assessment.decision.summary
    hr = assessment.hazard_ratio
    if hr is not None:
        sig = "significant" if hr.significant else "not significant"
        summary += f"; HR high vs low risk {hr.value:.2f} [{hr.ci[0]:.2f}, {hr.ci[1]:.2f}] ({sig})"
    audit_evidence.summary = summary
    assert assessment.decision.passed, assessment.decision.message


@pytest.mark.compliance(
    "bias",
    title="Subgroup performance: no subgroup below the floor, gaps within limits",
    controls=[
        "EU-AI-Act:Art.10(2)(f)-bias-examination",
        "EU-AI-Act:Art.15",
        "FDA-GMLP:3-representative-data",
    ],
)
def test_bias(evaluation_data, evaluation_scores, audit_policy, audit_out, audit_evidence):
    from pytest_release_audit.metrics.bootstrap import metric_label
    from pytest_release_audit.metrics.gate import TASK_METRICS, rule_from_policy
    from pytest_release_audit.metrics.subgroups import (
        CONVENTIONAL_COLUMNS,
        DEFAULT_CALIBRATION_LIMIT,
        DEFAULT_LIMITS,
        analyse_subgroups,
        pick_columns,
    )

    kind = evaluation_data.task.kind
    assert kind in TASK_METRICS, (
        f"unknown task kind {kind!r} for {evaluation_data.name}: set [tool.release_audit.task] kind"
    )
    bias = audit_policy.section("bias")
    performance = audit_policy.section("performance")
    rule, problems = rule_from_policy(performance, kind)
    assert rule.metric in TASK_METRICS.get(kind, ()), "; ".join(problems)
    configured = list(bias["columns"])
    columns, missing = pick_columns(configured, list(evaluation_data.df.columns))
    audit_evidence["metric"] = rule.metric
    audit_evidence["columns"] = columns
    assert not missing, (
        f"bias columns {', '.join(missing)} are not in evaluation data {evaluation_data.name}: "
        "fix [tool.release_audit.bias] columns"
    )
    assert columns, (
        f"no subgroup columns: evaluation data {evaluation_data.name} has none of the conventional "
        f"columns ({', '.join(CONVENTIONAL_COLUMNS)}); set [tool.release_audit.bias] columns = [...]"
    )
    outcomes = _outcomes(evaluation_data)
    default_floor, default_gap = DEFAULT_LIMITS.get(rule.metric, (0.0, float("inf")))
    floor = float(bias["floor"]) if bias["floor"] is not None else default_floor
    max_gap = float(bias["max_gap"]) if bias["max_gap"] is not None else default_gap
    calibration_limit = bias["max_calibration_error"]
    if calibration_limit is None:  # a risk score has no probability scale to be calibrated against
        calibration_limit = DEFAULT_CALIBRATION_LIMIT if kind == "binary" else float("inf")
    analysis = analyse_subgroups(
        evaluation_data.df[columns].reset_index(drop=True),
        columns,
        evaluation_scores.candidate,
        kind=kind,
        metric=rule.metric,
        min_n=int(bias["min_n"]),
        floor=floor,
        max_gap=max_gap,
        calibration_bins=int(bias["calibration_bins"]),
        max_calibration_error=float(calibration_limit),
        n_bootstrap=int(performance["n_bootstrap"]),
        seed=int(performance["seed"]),
        confidence=float(performance["confidence"]),
        **outcomes,
    )
    audit_evidence.update(analysis.to_dict())
    audit_evidence["columns_source"] = "policy" if configured else "conventional columns found in the data"
    audit_evidence["notes"] = list(analysis.notes)
    audit_evidence["rule"] = {
        "min_n": int(bias["min_n"]),
        "floor": floor,
        "max_gap": max_gap if max_gap != float("inf") else None,
        "limits_from": "policy" if bias["floor"] is not None or bias["max_gap"] is not None else "defaults",
        "max_calibration_error": calibration_limit if calibration_limit != float("inf") else None,
    }

    from pytest_release_audit.metrics import plots
    from pytest_release_audit.metrics.bootstrap import paired_bootstrap
    from pytest_release_audit.metrics.gate import scorer_for

    label = metric_label(rule.metric)
    overall = (
        paired_bootstrap(scorer_for(kind, **outcomes), evaluation_scores.candidate, n_bootstrap=0)
        .get(rule.metric)
        .candidate
    )
    if analysis.subgroups:
        audit_evidence.attach(
            plots.forest(
                audit_out / "bias_forest.png",
                analysis.subgroups,
                label,
                overall=overall,
                floor=floor or None,
            )
        )
    if analysis.calibration:
        what = "event rate" if kind == "survival" else "positive rate"
        audit_evidence.attach(
            plots.calibration(audit_out / "bias_calibration.png", analysis.calibration, what)
        )

    judged = [s for s in analysis.subgroups if s.status != "insufficient_data"]
    insufficient = len(analysis.subgroups) - len(judged)
    noun = "column" if len(columns) == 1 else "columns"
    parts = [f"{len(columns)} {noun}, {len(analysis.subgroups)} subgroups ({insufficient} insufficient data)"]
    if judged:
        worst = (min if rule.direction == "higher" else max)(judged, key=lambda s: s.metric_value)
        parts.append(f"worst {label} {worst.metric_value:.2f} ({worst.column}={worst.value})")
    if analysis.gap is not None:
        parts.append(f"largest gap {analysis.gap.value:.2f} ({analysis.gap.column})")
    error = analysis.calibration_error
    if error is not None:
        parts.append(f"calibration max |error| {error:.2f}")
    gap_text = f"{max_gap:g}" if max_gap != float("inf") else "none"
    calibration_text = f"{calibration_limit:g}" if calibration_limit != float("inf") else "not judged"
    parts.append(f"limits: floor {floor:g}, gap {gap_text}, calibration {calibration_text}")
    audit_evidence.summary = "; ".join(parts)
    assert not analysis.failed, "; ".join(analysis.findings)
