# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence of the serving-readiness checks: serving_contract, latency, drift."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_release_audit.report.contracts.base import CheckEvidence, Record, optional


@dataclass(frozen=True)
class EndpointProbe(Record):
    """One request the serving_contract check sent and what it verified."""

    name: str = ""
    request: str = ""  # method and path, e.g. "POST /predict (missing feature)"
    status: int | None = None
    passed: bool = False
    detail: str = ""


@dataclass(frozen=True)
class ServedIdentity(Record):
    """What the endpoint says it serves, next to the audited version."""

    model_name: str | None = None
    model_version: str | None = None
    source_run_id: str | None = None
    model_stage: str | None = None
    expected_feature_count: int | None = None
    threshold: float | None = None
    positive_class: str | None = None


@dataclass(frozen=True)
class ServingContractEvidence(CheckEvidence):
    """``serving_contract``: the endpoint (credentials masked), protocol, probes and served identity."""

    applicable: bool = True
    endpoint: str | None = None
    protocol: str | None = None
    required_for: tuple[str, ...] = ()
    probes: tuple[EndpointProbe, ...] = ()
    served: ServedIdentity | None = optional()
    audited: ServedIdentity | None = optional()
    rows_compared: int | None = optional()
    max_probability_error: float | None = optional()
    tolerance: float | None = optional()
    reason: str | None = optional()


@dataclass(frozen=True)
class LatencyStats(Record):
    """Latency of one kind of request, in milliseconds."""

    kind: str = ""  # "single row" | "batch of N rows"
    requests: int = 0
    rows_per_request: int = 1
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    throughput_rps: float | None = None  # requests per second, sequential
    rows_per_s: float | None = None


@dataclass(frozen=True)
class LatencyEvidence(CheckEvidence):
    """``latency``: where it was measured, the limits, and the statistics per request kind."""

    measured_on: str = ""  # "endpoint URL" | "model worker"
    includes: str = ""
    warmup: int = 0
    limits: dict[str, float | None] = optional()
    stats: tuple[LatencyStats, ...] = ()
    stopped_early: bool = False
    seconds: float | None = None


@dataclass(frozen=True)
class DriftRow(Record):
    """One feature compared between the training baseline and another sample."""

    feature: str = ""
    kind: str = ""
    bins: int = 0
    psi: float | None = None
    psi_p_value: float | None = None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    reference_mean: float | None = None
    other_mean: float | None = None
    reference_missing: float | None = None
    other_missing: float | None = None
    status: str = ""  # "stable" | "warning" | "drift" | "ks differs"


@dataclass(frozen=True)
class DriftComparison(Record):
    """The training baseline against one sample (the evaluation data, a production sample)."""

    sample: str = ""  # "evaluation" | "production"
    dataset: str = ""
    rows: int = 0
    reference_rows: int = 0
    drifted: tuple[str, ...] = ()
    features: tuple[DriftRow, ...] = ()


@dataclass(frozen=True)
class DriftEvidence(CheckEvidence):
    """``drift``: the baseline, the thresholds and one comparison per sample."""

    baseline: str = ""
    thresholds: dict[str, float | bool | None] = optional()
    comparisons: tuple[DriftComparison, ...] = ()
    production: str | None = None  # where the production sample came from, or why there is none
