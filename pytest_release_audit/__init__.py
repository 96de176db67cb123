# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""pytest-release-audit: ML model release compliance as pytest tests.

Public API (cheap to import: nothing heavy is loaded until an audit runs)::

    from pytest_release_audit import Evidence, LoadedDataset, ModelHandle, compliance

    @compliance("calibration", title="Calibration error below 0.05", controls=["SR 11-7 Outcomes Analysis"])
    def test_calibration(audit_model: ModelHandle, audit_evaluation_data: LoadedDataset,
                         audit_evidence: Evidence) -> None: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pytest

from pytest_release_audit.data import LoadedDataset, TaskSpec
from pytest_release_audit.errors import (
    AuditConfigError,
    AuditError,
    DatasetUnavailable,
    HandleNotFound,
    ModelLoadError,
    PolicyError,
    RegistryUnavailable,
    SourceTreeError,
)
from pytest_release_audit.evidence import Evidence
from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

__all__ = [
    "AuditConfigError",
    "AuditError",
    "AuditResult",
    "CheckResult",
    "DatasetRef",
    "DatasetUnavailable",
    "Evidence",
    "HandleNotFound",
    "LoadedDataset",
    "ModelHandle",
    "ModelLoadError",
    "ModelRef",
    "PolicyError",
    "RegistryUnavailable",
    "RunRecord",
    "SourceTreeError",
    "TaskSpec",
    "compliance",
]


def compliance(
    check_id: str,
    *,
    title: str = "",
    controls: Sequence[str] = (),
    severity: Literal["required", "optional"] = "required",
) -> pytest.MarkDecorator:
    """``@compliance("id", ...)``: the same as ``@pytest.mark.compliance("id", ...)``.

    ``controls`` name the framework clauses the check evidences (``"EU AI Act Art. 10"``);
    ``severity="optional"`` records the outcome without blocking the release.
    """
    if severity not in ("required", "optional"):
        raise ValueError(f"severity must be 'required' or 'optional', got {severity!r}")
    return pytest.mark.compliance(check_id, title=title, controls=list(controls), severity=severity)
