# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The performance_gate rule: the candidate beats the baseline on held-out data (paired bootstrap).

Both models are scored on the same held-out evaluation dataset (``audit_scores``); the metric
logic lives in ``pytest_release_audit.metrics`` (pure functions), this module reads the outcomes,
applies the gate and draws the PNG evidence.

Logged metrics (``handle.run.metrics``) are shown beside the recomputed ones and compared only
when their name says they were computed on the evaluation split (see ``metrics.gate.match_logged``:
``test_c_index``, ``eval_auc``, ``c_index_test``, or a bare ``c_index`` when the run logged
exactly one evaluation dataset; ``train_*`` / ``cv_*`` never).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import PerformanceEvidence
from pytest_release_audit.rules.result import RuleResult, kept_on_error

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.metrics.gate import PerformanceAssessment
    from pytest_release_audit.session import Scores

#: the task kinds the gate can judge
GATE_KINDS = ("survival", "binary", "multiclass", "regression")
#: how a survival task's duration / event columns are named in ``[tool.release_audit.task]``
_SURVIVAL_ROLES = ("duration", "event")


def unknown_kind(data: LoadedDataset) -> str:
    """The failure message for a task kind no rule can judge."""
    return f"unknown task kind {data.task.kind!r} for {data.name}: set [tool.release_audit.task] kind"


def _survival_problems(data: LoadedDataset) -> list[str]:
    """What makes the duration / event columns unusable (missing, NaN, not 0/1, negative)."""
    import pandas as pd

    task, df = data.task, data.df
    problems: list[str] = []
    for role, col in zip(_SURVIVAL_ROLES, (task.duration_col, task.event_col), strict=True):
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
    return problems


def evaluation_outcomes(data: LoadedDataset) -> tuple[dict[str, Any], str]:
    """``durations`` / ``events`` (survival) or ``y`` (binary as 0/1, multiclass as the labels,
    regression as float), or why not."""
    import numpy as np
    import pandas as pd

    kind = data.task.kind
    if data.task.problem:  # the label or the features cannot be told (task.infer_task names the fix)
        return {}, data.task.problem
    if kind == "survival":
        problems = _survival_problems(data)
        if problems:
            return {}, (
                f"evaluation data {data.name}: {'; '.join(problems)}: fix the data (drop or impute) "
                "before it is logged"
            )
        return {"durations": data.durations, "events": data.events}, ""
    y = data.y
    if y is None:
        return {}, (
            f"evaluation data {data.name} has no label column for a {kind} task: "
            "set [tool.release_audit.task] label_col"
        )
    missing = int(y.isna().sum())
    if kind == "regression":
        values = pd.to_numeric(y, errors="coerce")
        bad = int(values.isna().sum())
        if bad:
            return {}, (f"evaluation data {data.name}: {bad} missing (NaN) or non-numeric values in label column "
                        f"{data.task.label_col} of a regression task: fix the data before it is logged")
        return {"y": values.to_numpy(dtype=float)}, ""
    if missing and kind in ("binary", "multiclass"):
        return {}, (f"evaluation data {data.name}: {missing} missing (NaN) labels in {data.task.label_col}: "
                    "fix the data before it is logged")
    if kind == "multiclass":
        return {"y": y.to_numpy()}, ""
    if kind != "binary":
        return {"y": np.asarray(y, dtype=float)}, ""
    from pytest_release_audit.metrics.classification import binary_labels

    try:
        return {"y": binary_labels(y)}, ""
    except ValueError as exc:
        return {}, f"evaluation data {data.name}: {exc}"


def class_problem(data: LoadedDataset, scores: Scores, outcomes: dict[str, Any]) -> str:
    """Why the multiclass labels cannot be matched to the score matrix's columns ("" when they can)."""
    if data.task.kind != "multiclass":
        return ""
    if not scores.classes or getattr(scores.candidate, "ndim", 1) != 2:
        return (f"evaluation data {data.name}: the candidate's scores are not a per-class probability matrix: "
                "return predict_proba (one column per class)")
    from pytest_release_audit.metrics.multiclass import class_codes

    try:
        class_codes(outcomes["y"], scores.classes)
    except ValueError as exc:
        return f"evaluation data {data.name}: {exc}: the model was trained on other classes"
    return ""


def baseline_label(baseline: ModelHandle) -> str:
    """The alias the baseline was asked for, else ``baseline vN``."""
    return baseline.requested_alias or f"baseline v{baseline.version}"


def _assess(candidate: ModelHandle, baseline: ModelHandle | None, data: LoadedDataset, scores: Scores,
            section: dict[str, Any], outcomes: dict[str, Any]) -> PerformanceAssessment:
    """The paired bootstrap and the policy's gate rule on both models' scores."""
    from pytest_release_audit.metrics.gate import assess_performance

    problem = None
    if baseline is not None and scores.baseline is None:
        problem = (
            f"baseline {baseline.name} v{baseline.version} could not be scored on "
            f"{data.name}: {scores.baseline_error or 'no predictions'}"
        )
    from pytest_release_audit.metrics.gate import OutputFacts

    run = candidate.run
    output = OutputFacts(
        rule=scores.output_rule,
        label_only=scores.label_only,
        note=scores.output_note,
        baseline_rule=scores.baseline_output_rule if scores.baseline is not None else None,
        baseline_label_only=scores.baseline_label_only,
        baseline_note=scores.baseline_output_note,
        classes=scores.classes if data.task.kind == "multiclass" else None,
    )
    return assess_performance(
        data.task.kind,
        scores.candidate,
        scores.baseline if baseline is not None else None,
        section=section,
        baseline_label=baseline_label(baseline) if baseline is not None else None,
        baseline_problem=problem,
        baseline_missing=None if baseline is not None else scores.baseline_error,
        run_metrics=dict(run.metrics) if run else {},
        eval_context=data.context,
        eval_name=data.name,
        n_eval_inputs=len(run.evaluation_inputs) if run else 1,
        output=output,
        **outcomes,
    )


def _evidence(assessment: PerformanceAssessment, baseline: ModelHandle | None, data: LoadedDataset,
              scores: Scores) -> PerformanceEvidence:
    """The assessment as evidence, with the baseline's reference (or why there is none) and the dataset."""
    baseline_ref = None
    if baseline is not None:
        baseline_ref = {"name": baseline.name, "version": str(baseline.version), "alias": baseline.requested_alias}
    evidence: dict[str, Any] = assessment.to_evidence(baseline_ref)
    if baseline is None:
        evidence["baseline_missing"] = scores.baseline_error or "no baseline found"
    evidence["dataset"] = {"name": data.name, "context": data.context}
    evidence["task_source"] = data.task.source or None
    return PerformanceEvidence.of(evidence)


def _plots(candidate: ModelHandle, baseline: ModelHandle | None, data: LoadedDataset, scores: Scores,
           outcomes: dict[str, Any], out_dir: Path) -> list[Path]:
    """Kaplan-Meier risk groups (survival) or ROC curves (binary with both classes) of each model."""
    from pytest_release_audit.metrics import plots

    panels = {f"candidate {candidate.name} v{candidate.version}": scores.candidate}
    if baseline is not None and scores.baseline is not None:
        panels[f"{baseline_label(baseline)} {baseline.name} v{baseline.version}"] = scores.baseline
    kind = data.task.kind
    if kind == "survival":
        return [plots.km_risk_groups(out_dir / "performance_km.png", outcomes["durations"], outcomes["events"], panels)]
    if kind == "binary" and 0 < int(outcomes["y"].sum()) < len(outcomes["y"]):
        return [plots.roc_curves(out_dir / "performance_roc.png", outcomes["y"], panels)]
    return []


def _summary(assessment: PerformanceAssessment) -> str:
    """The gate's summary, plus the hazard ratio of high vs low risk (survival)."""
    summary = assessment.decision.summary
    hr = assessment.hazard_ratio
    if hr is not None:
        sig = "significant" if hr.significant else "not significant"
        summary += f"; HR high vs low risk {hr.value:.2f} [{hr.ci[0]:.2f}, {hr.ci[1]:.2f}] ({sig})"
    return summary


def assess_gate(candidate: ModelHandle, baseline: ModelHandle | None, data: LoadedDataset, scores: Scores,
                section: dict[str, Any], out_dir: Path, *, sink: Evidence | None = None) -> RuleResult:
    """Judge the candidate against the baseline on ``data`` with the policy's ``performance`` section.

    When drawing the plots raises, the assessment is recorded into ``sink`` (the check's evidence) first.
    """
    if data.task.kind not in GATE_KINDS:
        return RuleResult.failure(unknown_kind(data))
    outcomes, problem = evaluation_outcomes(data)
    if not problem:
        problem = class_problem(data, scores, outcomes)
    if problem:
        return RuleResult.failure(problem)
    assessment = _assess(candidate, baseline, data, scores, section, outcomes)
    evidence = _evidence(assessment, baseline, data, scores)
    with kept_on_error(sink, evidence):
        attachments = _plots(candidate, baseline, data, scores, outcomes, out_dir)
    return RuleResult(
        evidence=evidence,
        summary=_summary(assessment),
        passed=assessment.decision.passed,
        message=assessment.decision.message,
        attachments=attachments,
    )
