# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: data_validation (Great Expectations results) and operational_readiness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_release_audit import compliance
from pytest_release_audit.rules.controls import CONTROLS
from pytest_release_audit.rules.data_validation import assess_data_validation
from pytest_release_audit.rules.operational_readiness import assess_operational_readiness

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.scanners.source import SourceCommit


def _downloader(handle: ModelHandle, dest: Path) -> Callable[[str], Path]:
    """``download(artifact_path) -> Path`` for the source run's artifacts, refusing foreign hosts."""
    import mlflow

    from pytest_release_audit.network import check_artifact_uri
    from pytest_release_audit.rules.data_validation import ResultFormatError

    def download(artifact: str) -> Path:
        run = handle.run
        uri = f"{run.artifact_uri.rstrip('/')}/{artifact}" if run else artifact
        refused = check_artifact_uri(uri, handle.tracking_uri, f"validation result {artifact}")
        if refused:
            raise ResultFormatError(refused)
        try:
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dest),
                                                            tracking_uri=handle.tracking_uri))
        except Exception as exc:  # missing artifact, unreachable store: the result cannot be judged
            raise ResultFormatError(f"validation result {artifact} cannot be downloaded from run "
                                    f"{handle.run_id} ({type(exc).__name__})") from None

    return download


@compliance(
    "data_validation",
    title="Data validated: the run's Great Expectations result passed on the audited dataset",
    controls=CONTROLS["data_validation"],
)
def test_data_validation(
    audit_model: ModelHandle,
    audit_recorded_datasets: list[LoadedDataset] | None,
    audit_policy: Policy,
    audit_target: str,
    audit_evidence: Evidence,
    tmp_path: Path,
) -> None:
    """Each logged GX validation result is successful and describes the dataset the run logged."""
    result = assess_data_validation(audit_model, audit_recorded_datasets, audit_policy.section("data_validation"),
                                    audit_target, _downloader(audit_model, tmp_path))
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "operational_readiness",
    title="Operationally ready: monitoring, alerting, rollback, incident response, change record",
    controls=CONTROLS["operational_readiness"],
)
def test_operational_readiness(
    audit_model: ModelHandle,
    audit_source_commit: SourceCommit | SourceTreeError,
    audit_policy: Policy,
    audit_target: str,
    audit_evidence: Evidence,
) -> None:
    """Every item the policy lists is evidenced at the training commit or on the version, recently enough."""
    result = assess_operational_readiness(audit_model, audit_source_commit,
                                          audit_policy.section("operational_readiness"), audit_target)
    result.record(audit_evidence)
    assert result.passed, result.message
