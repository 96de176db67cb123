# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ip_headers, security, dependencies and reproducibility rules: the code that trained the model.

``ip_headers`` and ``security`` judge the source tree at the run's git commit, ``dependencies``
the logged model's environment files and ``reproducibility`` the source run's params and tags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.files import write_atomic
from pytest_release_audit.report.contracts import (
    BanditReport,
    DependenciesEvidence,
    IpHeadersEvidence,
    ReproducibilityEvidence,
    ReuseReport,
    SecurityEvidence,
)
from pytest_release_audit.rules.result import EVIDENCE_LIMIT, SHOWN, RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.scanners.source import SourceTree

#: the SARIF file the security rule writes to the output directory
SARIF_NAME = "security.sarif"


def tree_facts(tree: SourceTree) -> dict[str, Any]:
    """Which code was judged: repository, commit, file count, how it was exported."""
    return {"repo": tree.repo, "commit": tree.commit, "files_total": len(tree.files), "export": tree.how}


def assess_ip_headers(tree: SourceTree, section: dict[str, Any]) -> RuleResult:
    """Every file of the tree carries copyright and licence (reuse lint), every licence allowed."""
    from pytest_release_audit.scanners.licensing import lint_licenses

    report = lint_licenses(tree.path, section["allowed_licenses"])
    return RuleResult(
        evidence=IpHeadersEvidence(
            **tree_facts(tree), reuse=ReuseReport.of(report.to_dict(limit=EVIDENCE_LIMIT))
        ),
        summary=(
            f"{report.files_total} files at {tree.commit[:12]} carry copyright and licence "
            f"({', '.join(report.used_licenses) or 'no licences'}; all allowed)"
        ),
        passed=report.compliant,
        message="; ".join(report.problems(limit=SHOWN)),
    )


def assess_security(tree: SourceTree, section: dict[str, Any], out_dir: Path) -> RuleResult:
    """No blocking bandit finding in the tree; the findings written as SARIF into ``out_dir``."""
    from pytest_release_audit.scanners.security import scan_with_policy, to_sarif

    result = scan_with_policy(tree.path, tree.files, section)
    sarif_path = out_dir / SARIF_NAME
    write_atomic(sarif_path, json.dumps(to_sarif(result, tree.repo, commit=tree.commit), indent=2) + "\n")
    return RuleResult(
        evidence=SecurityEvidence(
            **tree_facts(tree),
            bandit=BanditReport.of(result.to_dict(limit=EVIDENCE_LIMIT)),
            sarif=sarif_path.name,
        ),
        summary=result.summary(),
        passed=not result.blocking,
        message="; ".join(result.problems(limit=SHOWN)),
        attachments=[sarif_path],
    )


def assess_dependencies(handle: ModelHandle, section: dict[str, Any], workdir: Path) -> RuleResult:
    """The model's environment files (downloaded into ``workdir``) pin every dependency with ``==``."""
    from pytest_release_audit.scanners.dependencies import check_environment_files, download_environment_files

    model_dir = download_environment_files(handle, workdir)
    report = check_environment_files(model_dir, section["allow_unpinned"])
    return RuleResult(
        evidence=DependenciesEvidence.of(report.to_dict()),
        summary=report.summary(),
        passed=not report.blocking,
        message="; ".join(report.problems(limit=SHOWN)),
    )


def assess_reproducibility(handle: ModelHandle, section: dict[str, Any]) -> RuleResult:
    """The source run records a fixed seed, a data digest, the git commit and the required params."""
    from pytest_release_audit.scanners.dependencies import check_reproducibility

    run = handle.run
    if run is None:
        return RuleResult.failure(
            f"model {handle.name} v{handle.version} has no source run: its training is unrecorded"
        )
    report = check_reproducibility(run, section["seed_params"], section["required_params"])
    seed = f"{report.seed[0]}={report.seed[1]}" if report.seed else "no seed"
    return RuleResult(
        evidence=ReproducibilityEvidence.of({**report.to_dict(), "run_id": run.run_id}),
        summary=f"{seed}, {len(report.data_digests)} data digests, commit {(report.commit or '?')[:12]}",
        passed=not report.problems,
        message="; ".join(report.problems),
    )
