# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy's top-level keys (``PolicySettings``) and its waivers (``Waiver``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator, model_validator

from pytest_release_audit.files import utc_now
from pytest_release_audit.policy.sections import (
    ApprovalsPolicy,
    AuditPolicy,
    BiasPolicy,
    DataIntegrityPolicy,
    DataLicensePolicy,
    DatasetMapping,
    DataValidationPolicy,
    DependenciesPolicy,
    DriftPolicy,
    EnginePolicy,
    EvaluationArtifactsPolicy,
    IpHeadersPolicy,
    LatencyPolicy,
    LeakagePolicy,
    LineagePolicy,
    ModelArtifactPolicy,
    ModelCardPolicy,
    NotifyPolicy,
    OperationalReadinessPolicy,
    PerformancePolicy,
    PiiPolicy,
    PromotionPolicy,
    ReproducibilityPolicy,
    RetentionPolicy,
    Section,
    SecurityPolicy,
    ServingPolicy,
    SignaturePolicy,
    StrList,
    TaskPolicy,
    rule_error,
    shown,
)

BUILTIN_CHECKS: tuple[str, ...] = (
    "lineage",
    "data_integrity",
    "data_validation",
    "pii",
    "leakage",
    "data_license",
    "ip_headers",
    "security",
    "dependencies",
    "reproducibility",
    "performance_gate",
    "bias",
    "evaluation_artifacts",
    "signature",
    "serving_contract",
    "latency",
    "drift",
    "model_card",
    "operational_readiness",
    "approvals",
    "model_artifact",
)
TARGETS: tuple[str, ...] = ("development", "staging", "production")


class PolicySettings(Section):
    """Every key of ``[tool.release_audit]`` except ``waivers`` and ``models``, defaults filled in."""

    target: str = "production"
    baseline: str = "production"
    actor: str = ""
    audit_log: str = "audit-reports/audit_log.jsonl"
    trail_key: str = ""  # Ed25519 PEM private key signing trail records (RELEASE_AUDIT_TRAIL_KEY wins)
    # Your own check ids that must run and pass, in addition to every built-in check.
    required_check_ids: StrList = Field(default=(), alias="required_checks")  # ``Policy.required_checks`` is a method
    # Checks that only record (staging and development only: production relaxes through waivers).
    optional_checks: StrList = ()
    # check id -> the organisation's own control ids the check evidences
    controls: dict[str, StrList] = Field(default_factory=dict)
    audit: AuditPolicy = AuditPolicy()
    model_artifact: ModelArtifactPolicy = ModelArtifactPolicy()
    task: TaskPolicy = TaskPolicy()
    lineage: LineagePolicy = LineagePolicy()
    data_integrity: DataIntegrityPolicy = DataIntegrityPolicy()
    data_validation: DataValidationPolicy = DataValidationPolicy()
    engine: EnginePolicy = EnginePolicy()
    # logged dataset name -> the file(s) holding it (datasets recorded without a file, e.g. autolog)
    datasets: dict[str, DatasetMapping] = Field(default_factory=dict)
    evaluation_artifacts: EvaluationArtifactsPolicy = EvaluationArtifactsPolicy()
    signature: SignaturePolicy = SignaturePolicy()
    pii: PiiPolicy = PiiPolicy()
    leakage: LeakagePolicy = LeakagePolicy()
    data_license: DataLicensePolicy = DataLicensePolicy()
    ip_headers: IpHeadersPolicy = IpHeadersPolicy()
    security: SecurityPolicy = SecurityPolicy()
    dependencies: DependenciesPolicy = DependenciesPolicy()
    reproducibility: ReproducibilityPolicy = ReproducibilityPolicy()
    performance: PerformancePolicy = PerformancePolicy()
    bias: BiasPolicy = BiasPolicy()
    serving: ServingPolicy = ServingPolicy()
    latency: LatencyPolicy = LatencyPolicy()
    drift: DriftPolicy = DriftPolicy()
    model_card: ModelCardPolicy = ModelCardPolicy()
    operational_readiness: OperationalReadinessPolicy = OperationalReadinessPolicy()
    approvals: ApprovalsPolicy = ApprovalsPolicy()
    promotion: PromotionPolicy = PromotionPolicy()
    notify: NotifyPolicy = NotifyPolicy()
    retention: RetentionPolicy = RetentionPolicy()

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        if value not in TARGETS:
            raise rule_error(f"must be one of {', '.join(TARGETS)}, got {shown(value)}")
        return value

    @field_validator("required_check_ids")
    @classmethod
    def _no_empty_check_id(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not check_id.strip() for check_id in value):
            raise rule_error("contains an empty check id")
        return value

    @model_validator(mode="after")
    def _controls_name_known_checks(self) -> PolicySettings:
        known = set(BUILTIN_CHECKS) | set(self.required_check_ids) | set(self.optional_checks)
        for check_id, controls in self.controls.items():
            if check_id not in known:
                raise rule_error(
                    "is not a built-in check id nor listed in required_checks or optional_checks: "
                    "fix the id or list the check", key=f"controls.{check_id}")
            if any(not control.strip() for control in controls):
                raise rule_error("contains an empty control id", key=f"controls.{check_id}")
        return self


class Waiver(Section):
    """A signed-off exception for one check, valid until ``expires`` (a UTC timestamp)."""

    id: str
    reason: str
    approver: str
    expires: dt.datetime  # timezone-aware, UTC

    @field_validator("id", "reason", "approver", mode="before")
    @classmethod
    def _non_empty(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise rule_error(f"must be a non-empty string, got {shown(value)}")
        return value

    @field_validator("expires", mode="before")
    @classmethod
    def _utc_timestamp(cls, value: Any) -> dt.datetime:
        """A full timestamp with a timezone (TOML datetime or ISO text), converted to UTC."""
        hint = rule_error(f"must be a timestamp with a timezone like 2026-12-31T23:59:59Z, got {shown(value)}")
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise hint from None
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise hint
        return value.astimezone(dt.UTC)

    def active(self, now: dt.datetime | None = None) -> bool:
        """Whether the waiver still applies at ``now`` (default: the current time); expiry is inclusive."""
        return (now or utc_now()) <= self.expires

    @property
    def expires_text(self) -> str:
        """The expiry as ``2026-12-31T23:59:59Z``."""
        return self.expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_dict(self) -> dict[str, str]:
        """The waiver as plain JSON."""
        return {"id": self.id, "reason": self.reason, "approver": self.approver, "expires": self.expires_text}
