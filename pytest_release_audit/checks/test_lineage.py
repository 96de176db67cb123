# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: lineage, data integrity, evaluation artifacts, signature."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_release_audit import compliance
from pytest_release_audit.rules.controls import CONTROLS
from pytest_release_audit.rules.lineage import assess_artifacts, assess_integrity, assess_lineage, assess_signature

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.scanners.source import SourceCommit


@compliance("lineage", title="Lineage complete: data -> run -> model", controls=CONTROLS["lineage"])
def test_lineage(
    request: pytest.FixtureRequest,
    audit_model: ModelHandle,
    audit_recorded_datasets: list[LoadedDataset] | None,
    audit_source_commit: SourceCommit | SourceTreeError,
    audit_policy: Policy,
    audit_evidence: Evidence,
) -> None:
    """Raw data -> pinned splits -> training run -> model, every link recorded in the registry.

    A dataset recorded without a file (autolog) is still a recorded link: ``data_integrity`` says
    it cannot be read; this check judges the chain. When the training commit holds DVC files
    (dvc.lock, .dvc), every logged file must be the output they record (md5 compared).
    """
    extra = request.config.hook.pytest_release_audit_lineage(handle=audit_model)
    result = assess_lineage(audit_model, audit_recorded_datasets, extra, source=audit_source_commit,
                            section=audit_policy.section("lineage"))
    aside = audit_model.run.set_aside if audit_model.run else ()
    if aside:
        audit_evidence["set_aside"] = [
            {"name": r.name, "context": r.context, "source_type": r.source_type, "digest": r.digest} for r in aside]
        names = ", ".join(f"'{r.name}' ({r.context})" for r in aside)
        its = "its role" if len(aside) == 1 else "their roles"
        result.summary += f"; set aside {names}: recorded without a file (autolog), {its} filled by a logged file"
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "data_integrity",
    title="Logged datasets unchanged since training (digests recomputed)",
    controls=CONTROLS["data_integrity"],
)
def test_data_integrity(
    audit_model: ModelHandle, audit_datasets: list[LoadedDataset], audit_policy: Policy, audit_evidence: Evidence
) -> None:
    """Each dataset's digests, recomputed from its source, equal the ones logged at training."""
    result = assess_integrity(audit_model, audit_datasets, audit_policy.section("data_integrity"))
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "evaluation_artifacts",
    title="Run holds the required evaluation evidence",
    controls=CONTROLS["evaluation_artifacts"],
)
def test_evaluation_artifacts(audit_model: ModelHandle, audit_policy: Policy, audit_evidence: Evidence) -> None:
    """The source run holds the artifacts and metrics the policy requires."""
    result = assess_artifacts(audit_model, audit_policy.section("evaluation_artifacts"))
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "signature",
    title="Model has a signature and input example; evaluation data matches it",
    controls=CONTROLS["signature"],
)
def test_signature(
    audit_model: ModelHandle, audit_evaluation_data: LoadedDataset, audit_policy: Policy, audit_evidence: Evidence
) -> None:
    """The model's interface contract is recorded and the evaluation data fulfils it."""
    result = assess_signature(audit_model, audit_evaluation_data, audit_policy.section("signature"))
    result.record(audit_evidence)
    assert result.passed, result.message
