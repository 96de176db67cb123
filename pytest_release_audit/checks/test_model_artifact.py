# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``model_artifact`` check: the model files are safe to load, and load in a sandboxed worker.

See ``pytest_release_audit.rules.artifact`` for what is scanned and how the model is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_release_audit import compliance
from pytest_release_audit.rules.artifact import assess_artifact
from pytest_release_audit.rules.controls import CONTROLS

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle


@compliance(
    "model_artifact",
    title="Model artifacts hold no unsafe code and load only in a sandboxed worker",
    controls=CONTROLS["model_artifact"],
)
def test_model_artifact(
    audit_model: ModelHandle, audit_baseline: ModelHandle | None, audit_evidence: Evidence
) -> None:
    """No unsafe operator in either model's files; the candidate loads in a sandboxed worker."""
    result = assess_artifact(audit_model, audit_baseline, sink=audit_evidence)
    result.record(audit_evidence)
    assert result.passed, result.message
