# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks on the code and environment that trained the model.

``ip_headers`` and ``security`` audit the source tree at the run's git commit (the
``audit_source_tree`` fixture exports it; a missing commit tag, an absent commit or a dirty-tree
marker makes that fixture error, which blocks both). ``dependencies`` reads the logged model's
environment files and ``reproducibility`` the source run's params and tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_release_audit import compliance
from pytest_release_audit.rules.code import (
    assess_dependencies,
    assess_ip_headers,
    assess_reproducibility,
    assess_security,
)
from pytest_release_audit.rules.controls import CONTROLS

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.scanners.source import SourceTree


@compliance(
    "ip_headers",
    title="Every source file has copyright and licence headers (reuse), licences allowed",
    controls=CONTROLS["ip_headers"],
)
def test_ip_headers(audit_source_tree: SourceTree, audit_policy: Policy, audit_evidence: Evidence) -> None:
    """Every file at the training commit names its copyright holder and an allowed licence."""
    result = assess_ip_headers(audit_source_tree, audit_policy.section("ip_headers"))
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "security",
    title="No blocking security findings in the training code (bandit)",
    controls=CONTROLS["security"],
)
def test_security(
    audit_source_tree: SourceTree, audit_policy: Policy, audit_out: Path, audit_evidence: Evidence
) -> None:
    """bandit finds nothing blocking in the training code; the findings are attached as SARIF."""
    result = assess_security(audit_source_tree, audit_policy.section("security"), audit_out)
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "dependencies",
    title="The model's environment pins every dependency with ==",
    controls=CONTROLS["dependencies"],
)
def test_dependencies(
    audit_model: ModelHandle,
    audit_policy: Policy,
    audit_evidence: Evidence,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """requirements.txt / conda.yaml / python_env.yaml logged with the model pin every package."""
    workdir = tmp_path_factory.mktemp("model-env")
    result = assess_dependencies(audit_model, audit_policy.section("dependencies"), workdir)
    result.record(audit_evidence)
    assert result.passed, result.message


@compliance(
    "reproducibility",
    title="The run records a fixed seed, a data digest and the git commit",
    controls=CONTROLS["reproducibility"],
)
def test_reproducibility(audit_model: ModelHandle, audit_policy: Policy, audit_evidence: Evidence) -> None:
    """The source run holds what a rerun needs: seed, data digest, commit, required params."""
    result = assess_reproducibility(audit_model, audit_policy.section("reproducibility"))
    result.record(audit_evidence)
    assert result.passed, result.message
