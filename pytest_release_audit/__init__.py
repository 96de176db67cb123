# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""pytest-release-audit: ML model release compliance as pytest tests.

Public API (cheap to import: nothing heavy is loaded until an audit runs)::

    from pytest_release_audit import compliance, Evidence, AuditResult, ModelHandle

    @compliance("calibration", title="Calibration error below 0.05", controls=["SR11-7:outcomes-analysis"])
    def test_calibration(audit_model, evaluation_data, audit_evidence): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    severity: str = "required",
) -> Any:
    """``@compliance("id", ...)``: the same as ``@pytest.mark.compliance("id", ...)``.

    ``severity="optional"`` records the outcome without blocking the release.
    """
    if severity not in ("required", "optional"):
        raise ValueError(f"severity must be 'required' or 'optional', got {severity!r}")
    return pytest.mark.compliance(check_id, title=title, controls=list(controls), severity=severity)
