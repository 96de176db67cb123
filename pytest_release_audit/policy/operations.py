# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy sections of serving readiness and release evidence.

``[serving]``, ``[latency]`` and ``[drift]`` (issue 16), ``[data_validation]``,
``[operational_readiness]`` and ``[retention]`` (issue 17).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from pytest_release_audit.policy.base import Section, StrList, rule_error, shown
from pytest_release_audit.retention import DEFAULT_YEARS

SERVING_PROTOCOLS: tuple[str, ...] = ("contract", "mlflow")

#: The loosest probability tolerance the policy may set (JSON round trips are exact to ~1e-16; a
#: server that rounds to 4 decimals still passes): the policy is untrusted and must not make any
#: answer "equal".
MAX_PROBABILITY_TOLERANCE = 1e-3
#: Seed 002's production SLO: the policy may tighten it, and production is never judged looser.
PRODUCTION_P95_MS = 2000.0


def bounded(value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """``value`` when it is a finite number within [low, high] (``(low, high]`` with ``low_open``)."""
    number = float(value)
    above = number > low if low_open else number >= low
    if not (math.isfinite(number) and above and number <= high):
        left = "(" if low_open else "["
        raise rule_error(f"must be a finite number in {left}{low:g}, {high:g}], got {shown(value)}")
    return number


class DataValidationPolicy(Section):
    """``[data_validation]``: the run's Great Expectations validation result (GX 1.x JSON artifact)."""

    # run artifact globs holding a validation result: without "/" a glob matches the file name in any folder
    artifact: StrList = ("validation*.json",)
    required: StrList = ()  # targets for which a validation result must be logged

    @field_validator("required")
    @classmethod
    def _known_targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in ("development", "staging", "production")]
        if unknown:
            raise rule_error(f"lists unknown targets {shown(unknown)}: use development, staging, production")
        return value


class ReadinessItem(Section):
    """``[operational_readiness.items.NAME]``: one item and what evidences it.

    ``path``: a file at the training commit (its age: the last commit that changed it); ``tag``: a
    version or run tag whose value is an ISO date (or ``artifact``: a run artifact path, dated by
    the run's start); ``max_age_days``: how old the evidence may be (0: any age).
    """

    description: str = ""
    path: StrList = ()
    tag: str = ""
    artifact: str = ""
    max_age_days: int = 0

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("max_age_days")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise rule_error(f"must be 0 (any age) or a number of days, got {value}")
        return value

    @model_validator(mode="after")
    def _evidenced_somehow(self) -> ReadinessItem:
        if not (self.path or self.tag.strip() or self.artifact.strip()):
            raise rule_error("names no evidence: set path (a file at the training commit), tag or artifact")
        if any(not p.strip() or p.startswith(("/", "-")) or ".." in p.split("/") for p in self.path):
            raise rule_error("path must be repository-relative, without '..' and not starting with '/' or '-', "
                             f"got {shown(self.path)}")
        return self


class OperationalReadinessPolicy(Section):
    """``[operational_readiness]``: monitoring, alerting, rollback, incident response, change management."""

    required: StrList = ("production",)  # targets for which every listed item must be evidenced (production always)
    items: dict[str, ReadinessItem] = Field(default_factory=dict)

    @field_validator("required")
    @classmethod
    def _known_targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in ("development", "staging", "production")]
        if unknown:
            raise rule_error(f"lists unknown targets {shown(unknown)}: use development, staging, production")
        return value


class ServingPolicy(Section):
    """``[serving]``: the live endpoint the ``serving_contract`` check probes.

    ``protocol``: "contract" (seed 001's ``/health``, ``/model-info``, ``/predict``) or "mlflow"
    (``mlflow models serve``: ``/ping``, ``/version``, ``/invocations``). ``required``: the targets
    for which the model is served, so an endpoint must be given and verified. The bearer token, if
    the endpoint needs one, comes from the CI's environment (``RELEASE_AUDIT_ENDPOINT_TOKEN``) and is
    sent only to the endpoint the CI names in ``RELEASE_AUDIT_ENDPOINT``; it is never printed.
    """

    url: str = ""
    protocol: str = "contract"
    required: StrList = ()  # targets the model is served for: the endpoint must be verified
    probability_tolerance: float = 1e-6
    rows: int = 20  # evaluation rows (drawn at random on every audit) sent and compared with the model's scores
    timeout_s: float = 10.0

    @field_validator("probability_tolerance")
    @classmethod
    def _tolerance(cls, value: float) -> float:
        return bounded(value, 0.0, MAX_PROBABILITY_TOLERANCE)

    @field_validator("timeout_s")
    @classmethod
    def _timeout(cls, value: float) -> float:
        return bounded(value, 0.0, 600.0, low_open=True)

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if value not in SERVING_PROTOCOLS:
            raise rule_error(f"must be contract or mlflow, got {shown(value)}")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise rule_error(f"must be an http:// or https:// URL, got {shown(value)}")
        if value:
            try:
                parts = urlsplit(value)
                _port = parts.port
            except ValueError as exc:
                raise rule_error(f"is not a valid URL ({exc}), got {shown(value)}") from None
            if not parts.hostname:
                raise rule_error(f"names no host, got {shown(value)}")
        return value

    @field_validator("rows")
    @classmethod
    def _some_rows(cls, value: int) -> int:
        if not 5 <= value <= 1000:
            raise rule_error(f"must be between 5 and 1000, got {shown(value)}")
        return value


class LatencyPolicy(Section):
    """``[latency]``: prediction latency against the SLO (seed 002: p95 <= 2000 ms for production).

    Measured on the endpoint when one is given, else as the round trip from the auditor to the
    model's worker process, on evaluation rows; ``warmup`` requests are not counted and the whole
    measurement stops after ``max_seconds``.
    """

    p95_ms: float = 2000.0
    p99_ms: float | None = None
    min_throughput_rps: float | None = None  # single-row requests per second, when set
    requests: int = 50  # single-row requests measured
    batch_requests: int = 10
    batch_size: int = 256
    warmup: int = 3
    max_seconds: float = 60.0

    @field_validator("requests", "batch_requests", "batch_size", "warmup")
    @classmethod
    def _counts(cls, value: int) -> int:
        if not 0 <= value <= 100_000:
            raise rule_error(f"must be between 0 and 100000, got {shown(value)}")
        return value

    @field_validator("p95_ms", "p99_ms")
    @classmethod
    def _milliseconds(cls, value: float | None) -> float | None:
        return None if value is None else bounded(value, 0.0, 600_000.0, low_open=True)

    @field_validator("min_throughput_rps")
    @classmethod
    def _throughput(cls, value: float | None) -> float | None:
        return None if value is None else bounded(value, 0.0, 1e9)

    @field_validator("max_seconds")
    @classmethod
    def _budget(cls, value: float) -> float:
        return bounded(value, 0.0, 3600.0, low_open=True)


class DriftPolicy(Section):
    """``[drift]``: each model input's distribution, training baseline vs evaluation (and production).

    A feature drifts when its population stability index reaches ``psi_alarm`` and the shift is
    significant at ``significance`` (PSI scaled by the sample sizes is chi-square under no drift,
    so a small sample's noise is not an alarm). The Kolmogorov-Smirnov test (numeric inputs) is
    reported; it blocks only with ``fail_on_ks``. ``production_data``: a recent production sample
    (CSV or Parquet path, rootdir-relative), besides a dataset the run logged with context
    ``production``.
    """

    psi_alarm: float = 0.2
    psi_warn: float = 0.1
    bins: int = 10
    significance: float = 0.01
    ks_alpha: float = 0.01
    fail_on_ks: bool = False
    max_categories: int = 20
    columns: StrList = ()  # compared besides the model's inputs (never instead of them)
    production_data: str = ""

    @field_validator("bins", "max_categories")
    @classmethod
    def _bins(cls, value: int) -> int:
        if not 2 <= value <= 100:
            raise rule_error(f"must be between 2 and 100, got {shown(value)}")
        return value

    # The policy is untrusted: it may make the alarm stricter, not switch it off.
    @field_validator("psi_alarm", "psi_warn")
    @classmethod
    def _psi(cls, value: float) -> float:
        return bounded(value, 0.0, 0.5, low_open=True)

    @field_validator("significance", "ks_alpha")
    @classmethod
    def _alpha(cls, value: float) -> float:
        return bounded(value, 1e-4, 0.5)

    @model_validator(mode="after")
    def _warn_below_alarm(self) -> DriftPolicy:
        if self.psi_warn > self.psi_alarm:
            raise rule_error(f"psi_warn {self.psi_warn:g} is above psi_alarm {self.psi_alarm:g}: the warning level "
                             "must not exceed the alarm")
        return self


#: Seed 002's retention minimums, in years: the policy may lengthen a period, never shorten it.
RETENTION_MINIMUM_YEARS = DEFAULT_YEARS


class RetentionPolicy(Section):
    """``[retention]``: how long the evidence of a release is kept, in whole years (seed 002).

    The policy is untrusted (it lives in the audited repository), so a period can be lengthened
    but not set below seed 002's minimums: a shorter period would let evidence be pruned early.
    """

    model_artifacts_years: int = RETENTION_MINIMUM_YEARS["model_artifacts"]
    audit_logs_years: int = RETENTION_MINIMUM_YEARS["audit_logs"]
    approval_records_years: int = RETENTION_MINIMUM_YEARS["approval_records"]

    @field_validator("model_artifacts_years", "audit_logs_years", "approval_records_years")
    @classmethod
    def _not_below_minimum(cls, value: int, info: Any) -> int:
        kind = str(info.field_name).removesuffix("_years")
        minimum = RETENTION_MINIMUM_YEARS[kind]
        if not minimum <= value <= 100:
            raise rule_error(f"must be between {minimum} (seed 002's minimum for {kind.replace('_', ' ')}) and "
                             f"100 years, got {shown(value)}: the policy can lengthen retention, not shorten it")
        return value

    def periods(self) -> dict[str, int]:
        """Kind of evidence -> years it is kept."""
        return {kind: getattr(self, f"{kind}_years") for kind in RETENTION_MINIMUM_YEARS}
