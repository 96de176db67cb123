# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence of the code and environment checks: ip_headers, security, dependencies, reproducibility."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.report.contracts.base import CheckEvidence, Record


@dataclass(frozen=True)
class SourceTreeEvidence(CheckEvidence):
    """The source tree a code check audited: repository, commit, file count, how it was exported."""

    repo: str = ""
    commit: str = ""
    files_total: int | None = None
    export: str = ""


@dataclass(frozen=True)
class ReuseReport(Record):
    """What ``reuse lint`` found (file lists capped; their full lengths are the ``*_count`` fields)."""

    files_total: int | None = None
    compliant: bool | None = None
    reuse_compliant: bool | None = None
    missing_headers_count: int | None = None
    missing_headers: tuple[str, ...] = ()
    missing_copyright_count: int | None = None
    missing_licensing_count: int | None = None
    used_licenses: tuple[str, ...] = ()
    allowed_licenses: tuple[str, ...] = ()
    disallowed: tuple[Any, ...] = ()
    disallowed_files_count: int | None = None
    disallowed_files: tuple[Any, ...] = ()
    missing_licenses: tuple[Any, ...] = ()
    bad_licenses: tuple[Any, ...] = ()
    unused_licenses: tuple[Any, ...] = ()
    deprecated_licenses: tuple[Any, ...] = ()
    licenses_without_extension: tuple[Any, ...] = ()
    read_errors: tuple[Any, ...] = ()
    invalid_expressions: tuple[Any, ...] = ()
    reuse_version: str = ""


@dataclass(frozen=True)
class IpHeadersEvidence(SourceTreeEvidence):
    """``ip_headers``: the source tree and its reuse report."""

    reuse: ReuseReport | None = None


@dataclass(frozen=True)
class SecurityFinding(Record):
    """One bandit finding (blocking or suppressed by a nosec comment)."""

    test_id: str = ""
    test_name: str = ""
    severity: str = ""
    confidence: str = ""
    cwe: Any = None
    text: str = ""
    path: str = ""
    line: int | None = None
    column: int | None = None
    blocking: bool = False
    nosec_line: int | None = None
    more_info: str = ""


@dataclass(frozen=True)
class NosecComment(Record):
    """A ``# nosec`` comment: the tests it names, its justification and what it silenced."""

    path: str = ""
    line: int | None = None
    codes: tuple[str, ...] = ()
    blanket: bool | None = None
    justification: str = ""
    justified: bool | None = None
    suppressed: tuple[str, ...] = ()


@dataclass(frozen=True)
class BanditReport(Record):
    """The bandit scan of the training code under the policy's thresholds."""

    files_scanned: int | None = None
    files_excluded: int | None = None
    thresholds: dict[str, str] = field(default_factory=dict)
    require_nosec_justification: bool | None = None
    counts: dict[str, int] = field(default_factory=dict)
    blocking_count: int | None = None
    findings_count: int | None = None
    findings: tuple[SecurityFinding, ...] = ()
    suppressed_count: int | None = None
    suppressed: tuple[SecurityFinding, ...] = ()
    nosec_count: int | None = None
    nosec_unjustified_count: int | None = None
    nosec: tuple[NosecComment, ...] = ()
    skipped: tuple[Any, ...] = ()
    bandit_version: str = ""
    bandit_metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SecurityEvidence(SourceTreeEvidence):
    """``security``: the source tree, the bandit report and the SARIF file's name."""

    bandit: BanditReport | None = None
    sarif: str = ""


@dataclass(frozen=True)
class Requirement(Record):
    """One dependency line of the model's environment files."""

    name: str = ""
    spec: str = ""
    source: str = ""
    pinned: bool | None = None
    reason: str = ""


@dataclass(frozen=True)
class DependenciesEvidence(CheckEvidence):
    """``dependencies``: the environment files, pinned and unpinned requirements."""

    files: tuple[str, ...] = ()
    total: int | None = None
    pinned_count: int | None = None
    unpinned_count: int | None = None
    unpinned: tuple[Requirement, ...] = ()
    allowed_unpinned: tuple[Requirement, ...] = ()
    allow_unpinned_policy: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReproducibilityEvidence(CheckEvidence):
    """``reproducibility``: the seed, data digests, git commit and missing params of the source run."""

    seed_param: str | None = None
    seed: str | None = None
    seed_params_policy: tuple[str, ...] = ()
    data_digests: tuple[str, ...] = ()
    git_commit: str | None = None
    dirty: bool | None = None
    missing_params: tuple[str, ...] = ()
    run_id: str | None = None
