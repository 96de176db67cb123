# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence of the model checks: performance_gate, bias, evaluation_artifacts, signature, model_card,
approvals, model_artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.report.contracts.base import CheckEvidence, Record, keyed, optional


@dataclass(frozen=True)
class MetricRow(Record):
    """One metric recomputed on the evaluation data: candidate, baseline, delta, each with its CI."""

    name: str = ""
    label: str = ""
    direction: str = ""
    candidate: float | None = None
    candidate_ci: tuple[float | None, ...] | None = None
    baseline: float | None = None
    baseline_ci: tuple[float | None, ...] | None = None
    delta: float | None = None
    delta_ci: tuple[float | None, ...] | None = None
    logged: float | None = None
    logged_key: str | None = None
    #: Pass/fail of the rules that apply to this metric (None: none applies).
    gate: bool | None = None
    gate_metric: bool | None = None
    n_valid: int | None = None
    training: float | None = optional()  # the value the run logged on its TRAINING data (shown only)
    training_key: str | None = optional()


@dataclass(frozen=True)
class HazardRatio(Record):
    """High- vs low-risk group hazard ratio (survival models)."""

    value: float | None = None
    ci: tuple[float | None, ...] | None = None
    p: float | None = None
    significant: bool | None = None
    n_high: int | None = None
    n_low: int | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class BaselineRef(Record):
    """The baseline model version the candidate was compared with."""

    name: str = ""
    version: str = ""
    alias: str | None = None


@dataclass(frozen=True)
class GateRule(Record):
    """The performance rule applied."""

    min_delta: float | None = None
    require_significant: bool | None = None
    min_value: dict[str, float] = field(default_factory=dict)
    first_release: bool | None = None
    metric_tolerance: float | None = None


@dataclass(frozen=True)
class GateDecision(Record):
    """The gate's verdict: passed, why not, and each metric's verdict."""

    passed: bool | None = None
    reasons: tuple[str, ...] = ()
    summary: str = ""
    verdicts: dict[str, bool | None] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRef(Record):
    """A logged dataset by name and context."""

    name: str = ""
    context: str | None = None


@dataclass(frozen=True)
class OutputRead(Record):
    """How each model's output was read into scores (``handle.loading``), and whether it was labels."""

    rule: str = ""
    label_only: bool | None = None
    note: str | None = None
    baseline_rule: str | None = None
    baseline_label_only: bool | None = None
    baseline_note: str | None = None
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ClassMetrics(Record):
    """One class of a multi-class model: support and one-vs-rest metrics (point values)."""

    label: str = ""
    support: int | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    roc_auc: float | None = None


@dataclass(frozen=True)
class PerformanceEvidence(CheckEvidence):
    """``performance_gate``: candidate vs baseline on the held-out data (paired bootstrap)."""

    task: str = ""
    task_source: str | None = optional()  # where the kind came from (TaskSpec.source)
    metric: str = ""
    direction: str = ""
    n: int | None = None
    events: int | None = None
    baseline: BaselineRef | None = None
    metrics: tuple[MetricRow, ...] = ()
    hazard_ratio: HazardRatio | None = None
    baseline_hazard_ratio: HazardRatio | None = None
    rule: GateRule | None = None
    decision: GateDecision | None = None
    n_bootstrap: int | None = None
    seed: int | None = None
    confidence: float | None = None
    baseline_missing: str | None = optional()
    dataset: DatasetRef | None = None
    output: OutputRead | None = optional()
    per_class: tuple[ClassMetrics, ...] | None = optional()


@dataclass(frozen=True)
class SubgroupRow(Record):
    """One subgroup's size, events and metric with its CI."""

    column: str = ""
    value: str = ""
    n: int | None = None
    events: int | None = None
    metric_value: float | None = None
    ci: tuple[float | None, ...] | None = None
    status: str = ""


@dataclass(frozen=True)
class Gap(Record):
    """Worst-best spread of the metric among one column's subgroups."""

    column: str = ""
    worst: str = ""
    best: str = ""
    value: float | None = None


@dataclass(frozen=True)
class CalibrationBin(Record):
    """One calibration bin: predicted vs observed rate."""

    bin: int | None = None
    n: int | None = None
    predicted: float | None = None
    observed: float | None = None


@dataclass(frozen=True)
class BiasRule(Record):
    """The subgroup limits applied and where they came from."""

    min_n: int | None = None
    floor: float | None = None
    max_gap: float | None = None
    limits_from: str = ""
    max_calibration_error: float | None = None


@dataclass(frozen=True)
class BiasEvidence(CheckEvidence):
    """``bias``: every subgroup, the largest gap, calibration and the blocking findings."""

    metric: str = ""
    columns: tuple[str, ...] = ()
    subgroups: tuple[SubgroupRow, ...] = ()
    gap: Gap | None = None
    calibration: tuple[CalibrationBin, ...] | None = None
    findings: tuple[str, ...] = ()
    columns_source: str = ""
    notes: tuple[str, ...] = ()
    rule: BiasRule | None = None


@dataclass(frozen=True)
class EvaluationArtifactsEvidence(CheckEvidence):
    """``evaluation_artifacts``: the artifacts and metrics the source run logged."""

    required: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignatureInput(Record):
    """One input column of the model signature."""

    name: str | None = None
    type: str | None = None
    required: bool | None = True


@dataclass(frozen=True)
class SignatureOutput(Record):
    """One output of the model signature (a column or a tensor)."""

    name: str | None = optional()
    type: str | None = None
    tensor_spec: dict[str, Any] | None = keyed("tensor-spec")
    required: bool | None = optional()
    #: the element, field and value types of an MLflow array, object and map column
    items: dict[str, Any] | str | None = optional()
    properties: dict[str, Any] | None = optional()
    values: dict[str, Any] | str | None = optional()


@dataclass(frozen=True)
class SignatureEvidence(CheckEvidence):
    """``signature``: the model's signature, input example and flavours."""

    inputs: tuple[SignatureInput, ...] = ()
    #: the outputs, or MLflow's text of them when it is not JSON
    outputs: tuple[SignatureOutput, ...] | str | None = None
    input_example: dict[str, Any] | None = None
    flavors: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelCardEvidence(CheckEvidence):
    """``model_card``: the provisional card the check rendered and what it lacks."""

    path: str = ""
    provisional_sha256: str = ""
    provisional: bool | None = None
    template: str = ""
    sections: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    checks_seen: tuple[str, ...] = ()
    training_datasets: int | None = None
    limitations: int | None = None
    warnings: tuple[str, ...] = ()
    verified_metrics: int | None = None
    license: str | None = None
    rendered_from: str = ""


@dataclass(frozen=True)
class RiskFactor(Record):
    """One factor of the risk score: its value, weight and where the value came from."""

    value: float | None = None
    weight: float | None = None
    source: str = ""


@dataclass(frozen=True)
class ApprovalRecord(Record):
    """One approval or rejection of this version by a role."""

    role: str = ""
    by: str = ""
    at: str = ""
    status: str = ""
    comment: str = ""
    signed: bool = False


@dataclass(frozen=True)
class NotCounted(Record):
    """A statement about this version that does not count, and why."""

    role: str = ""
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ApprovalsEvidence(CheckEvidence):
    """``approvals``: the risk tier, the roles required, and who approved, rejected or was not counted."""

    target: str = ""
    score: float | None = None
    tier: str = ""
    factors: dict[str, RiskFactor] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    present: tuple[ApprovalRecord, ...] = ()
    missing: tuple[str, ...] = ()
    rejected: tuple[ApprovalRecord, ...] = ()
    ignored: tuple[NotCounted, ...] = ()
    other_approvals: tuple[ApprovalRecord, ...] = ()
    version_digest: str = ""
    artifact_digest: str = ""
    signers: dict[str, str] = field(default_factory=dict)
    unverified: tuple[NotCounted, ...] = ()


@dataclass(frozen=True)
class ArtifactFinding(Record):
    """One unsafe operator modelscan found in a model file."""

    severity: str = ""
    module: str = ""
    operator: str = ""
    file: str = ""


@dataclass(frozen=True)
class ArtifactScan(Record):
    """The scan of one model version's artifacts."""

    model: str = ""
    files: int | None = None
    scanned: tuple[str, ...] = ()
    not_scannable: tuple[str, ...] = ()
    findings: tuple[ArtifactFinding, ...] = ()
    errors: tuple[str, ...] = ()
    signature: dict[str, Any] | None = None
    digest: str = ""
    problem: str = ""
    tool: str = ""


@dataclass(frozen=True)
class WorkerLoad(Record):
    """How the isolated worker loaded the model."""

    flavor: str = ""
    methods: tuple[str, ...] = ()
    isolation: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class ModelArtifactEvidence(CheckEvidence):
    """``model_artifact``: each scanned model version and the isolated worker's load."""

    models: tuple[ArtifactScan, ...] = ()
    worker: WorkerLoad | None = optional()
