# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Typed evidence: one frozen dataclass per built-in check, as the renderers read it.

``EVIDENCE[check_id].from_dict(check.evidence)`` reads what a check recorded (tolerant of missing
and malformed keys), ``.to_dict()`` writes exactly the keys the checks write (the JSON report's
schema). ``evidence_of(result, LineageEvidence)`` is how a renderer reads one check's evidence, so a
renamed field is a type error, not a silent "not recorded".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pytest_release_audit.report.contracts.base import CheckEvidence, Record, keyed, optional
from pytest_release_audit.report.contracts.code import (
    BanditReport,
    DependenciesEvidence,
    IpHeadersEvidence,
    NosecComment,
    ReproducibilityEvidence,
    Requirement,
    ReuseReport,
    SecurityEvidence,
    SecurityFinding,
    SourceTreeEvidence,
)
from pytest_release_audit.report.contracts.data import (
    ChainNode,
    DataIntegrityEvidence,
    DataLicenseEvidence,
    DatasetFacts,
    DataValidationEvidence,
    DigestComparison,
    DuplicateRows,
    DvcLineage,
    DvcMatch,
    DvcPath,
    DvcStageRecord,
    FailedExpectation,
    IdOverlap,
    IntegrityDataset,
    LeakageEvidence,
    LeakagePair,
    LicenseRow,
    LineageEvidence,
    PiiDatasetScan,
    PiiEvidence,
    PiiFinding,
    ValidationResultRow,
)
from pytest_release_audit.report.contracts.model import (
    ApprovalRecord,
    ApprovalsEvidence,
    ArtifactFinding,
    ArtifactScan,
    BaselineRef,
    BiasEvidence,
    BiasRule,
    CalibrationBin,
    ClassMetrics,
    DatasetRef,
    EvaluationArtifactsEvidence,
    Gap,
    GateDecision,
    GateRule,
    HazardRatio,
    MetricRow,
    ModelArtifactEvidence,
    ModelCardEvidence,
    NotCounted,
    OutputRead,
    PerformanceEvidence,
    RiskFactor,
    SignatureEvidence,
    SignatureInput,
    SignatureOutput,
    SubgroupRow,
    WorkerLoad,
)
from pytest_release_audit.report.contracts.operations import OperationalReadinessEvidence, ReadinessRow
from pytest_release_audit.report.contracts.serving import (
    DriftComparison,
    DriftEvidence,
    DriftRow,
    EndpointProbe,
    LatencyEvidence,
    LatencyStats,
    ServedIdentity,
    ServingContractEvidence,
)

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import CheckResult

E = TypeVar("E", bound=CheckEvidence)

#: The evidence contract of every built-in check (``policy.BUILTIN_CHECKS``).
EVIDENCE: dict[str, type[CheckEvidence]] = {
    "lineage": LineageEvidence,
    "data_integrity": DataIntegrityEvidence,
    "data_validation": DataValidationEvidence,
    "pii": PiiEvidence,
    "leakage": LeakageEvidence,
    "data_license": DataLicenseEvidence,
    "ip_headers": IpHeadersEvidence,
    "security": SecurityEvidence,
    "dependencies": DependenciesEvidence,
    "reproducibility": ReproducibilityEvidence,
    "performance_gate": PerformanceEvidence,
    "bias": BiasEvidence,
    "evaluation_artifacts": EvaluationArtifactsEvidence,
    "signature": SignatureEvidence,
    "serving_contract": ServingContractEvidence,
    "latency": LatencyEvidence,
    "drift": DriftEvidence,
    "model_card": ModelCardEvidence,
    "operational_readiness": OperationalReadinessEvidence,
    "approvals": ApprovalsEvidence,
    "model_artifact": ModelArtifactEvidence,
}


def evidence_of(check: CheckResult | None, contract: type[E]) -> E | None:
    """``check``'s evidence read through ``contract``, or None when there is no such check result."""
    return None if check is None else contract.from_dict(check.evidence)


__all__ = [
    "EVIDENCE", "ApprovalRecord", "ApprovalsEvidence", "ArtifactFinding", "ArtifactScan", "BanditReport",
    "BaselineRef", "BiasEvidence", "BiasRule", "CalibrationBin", "ChainNode", "CheckEvidence", "ClassMetrics",
    "DataIntegrityEvidence", "DataLicenseEvidence", "DatasetFacts", "DatasetRef", "DependenciesEvidence",
    "DigestComparison", "DriftComparison", "DriftEvidence", "DriftRow", "DuplicateRows",
    "DataValidationEvidence", "DvcLineage", "DvcMatch", "DvcPath", "DvcStageRecord", "FailedExpectation",
    "ValidationResultRow", "OperationalReadinessEvidence", "ReadinessRow",
    "EndpointProbe", "EvaluationArtifactsEvidence", "Gap", "GateDecision", "GateRule",
    "HazardRatio", "IdOverlap", "IntegrityDataset", "IpHeadersEvidence", "LatencyEvidence", "LatencyStats",
    "LeakageEvidence", "LeakagePair",
    "LicenseRow", "LineageEvidence", "MetricRow", "ModelArtifactEvidence", "ModelCardEvidence", "NosecComment",
    "NotCounted", "OutputRead", "PerformanceEvidence", "PiiDatasetScan", "PiiEvidence", "PiiFinding",
    "ReproducibilityEvidence",
    "Record", "Requirement", "ReuseReport", "RiskFactor", "SecurityEvidence", "SecurityFinding", "ServedIdentity",
    "ServingContractEvidence",
    "SignatureEvidence", "SignatureInput", "SignatureOutput", "SourceTreeEvidence", "SubgroupRow", "WorkerLoad",
    "evidence_of", "keyed", "optional",
]  # fmt: skip
