# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The fixtures compliance tests use: the model handle, its baseline, data, source tree, policy.

Every fixture is named ``audit_*``. Session-scoped values are computed once per process (see
``session.AuditContext``). Without ``--audit-model`` every fixture skips, so compliance tests in a
normal test run cost nothing. ``training_data``, ``evaluation_data``, ``evaluation_scores`` and
``source_tree`` are deprecated aliases, kept for one release.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_release_audit.evidence import Evidence
from pytest_release_audit.handle.model import EVALUATION_CONTEXTS, TRAINING_CONTEXTS
from pytest_release_audit.stash import context_key, evidence_key

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy
    from pytest_release_audit.scanners.source import SourceCommit, SourceTree
    from pytest_release_audit.session import AuditContext, Scores


@pytest.fixture(scope="session")
def audit_context(request: pytest.FixtureRequest) -> AuditContext:
    """The audit's options and cached inputs on this process."""
    ctx = request.config.stash.get(context_key, None)
    if ctx is None:
        pytest.skip("compliance checks run only in an audit: pass --audit-model=NAME")
    return ctx


@pytest.fixture(scope="session")
def audit_model(audit_context: AuditContext) -> ModelHandle:
    """The audited model version (``ModelHandle``): registry facts, source run, lazy ``predict``."""
    return audit_context.handle


@pytest.fixture(scope="session")
def audit_baseline(audit_context: AuditContext) -> ModelHandle | None:
    """The version to beat (``--audit-baseline``, default alias ``production``), or None if none."""
    handle, _reason = audit_context.baseline
    return handle


@pytest.fixture(scope="session")
def audit_baseline_reason(audit_context: AuditContext) -> str:
    """Why there is no baseline ("" when there is one)."""
    return audit_context.baseline[1]


@pytest.fixture(scope="session")
def audit_policy(audit_context: AuditContext) -> Policy:
    """The validated policy, with this model's ``[models.NAME]`` overrides applied."""
    return audit_context.policy


@pytest.fixture(scope="session")
def audit_target(audit_context: AuditContext) -> str:
    """The release target: development, staging or production."""
    return audit_context.target


@pytest.fixture(scope="session")
def audit_out(audit_context: AuditContext) -> Path:
    """Where checks write plots / SARIF and ``audit_evidence.attach`` them (joins the report set)."""
    return audit_context.artifacts_dir


@pytest.fixture(scope="session")
def audit_datasets(audit_context: AuditContext) -> list[LoadedDataset]:
    """Every dataset the source run logged, read from its source."""
    return audit_context.datasets


@pytest.fixture(scope="session")
def audit_recorded_datasets(audit_context: AuditContext) -> list[LoadedDataset] | None:
    """``audit_datasets``, or None when the run recorded its datasets without a file (autolog).

    For checks that judge what the registry records (``lineage``): any other reason the data
    cannot be read is a setup error, named once.
    """
    from pytest_release_audit.errors import DatasetNotRecorded

    try:
        return audit_context.datasets
    except DatasetNotRecorded:
        return None


@pytest.fixture(scope="session")
def audit_training_data(audit_context: AuditContext) -> LoadedDataset:
    """The dataset logged with context ``training``."""
    return audit_context.dataset_for(TRAINING_CONTEXTS, "training")


@pytest.fixture(scope="session")
def audit_evaluation_data(audit_context: AuditContext) -> LoadedDataset:
    """The held-out dataset logged with context ``evaluation`` (``test`` / ``validation`` accepted)."""
    return audit_context.dataset_for(EVALUATION_CONTEXTS, "evaluation")


@pytest.fixture(scope="session")
def audit_scores(audit_context: AuditContext) -> Scores:
    """Candidate and baseline scores on ``audit_evaluation_data``, computed once per process."""
    return audit_context.scores


def _source_repos(audit_context: AuditContext) -> tuple[Path, list[Path]]:
    """The repository to find the training commit in (``--audit-source``, else the rootdir) and fallbacks."""
    from pytest_release_audit.handle.model import GIT_REPO_TAG

    handle = audit_context.handle
    explicit = audit_context.options.source
    repo = Path(explicit) if explicit else audit_context.rootdir
    if not repo.is_absolute():
        repo = audit_context.invocation_dir / repo
    fallbacks: list[Path] = []
    recorded = handle.tag(GIT_REPO_TAG) or ""
    if not explicit and recorded:
        local = Path(recorded.removeprefix("file://"))
        if local.is_dir():
            fallbacks.append(local)
    return repo, fallbacks


@pytest.fixture(scope="session")
def audit_source_tree(audit_context: AuditContext) -> Iterator[SourceTree]:
    """The training code at the run's git commit, exported to a temporary directory."""
    from pytest_release_audit.scanners.source import close_source_tree, open_source_tree

    repo, fallbacks = _source_repos(audit_context)
    tree = open_source_tree(audit_context.handle, repo, audit_context.workdir / "source", fallback_repos=fallbacks)
    yield tree
    close_source_tree(tree)


@pytest.fixture(scope="session")
def audit_source_commit(audit_context: AuditContext) -> SourceCommit | SourceTreeError:
    """The training commit in its repository (files read with ``git show``), or why it cannot be found.

    For checks that read a few files at the commit and judge their absence themselves (``lineage``
    reads DVC files, ``operational_readiness`` its evidence files); nothing is exported.
    """
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.scanners.source import locate_commit

    repo, fallbacks = _source_repos(audit_context)
    try:
        return locate_commit(audit_context.handle, repo, fallback_repos=fallbacks)
    except SourceTreeError as exc:
        return exc


@pytest.fixture
def audit_evidence(request: pytest.FixtureRequest) -> Evidence:
    """A dict for the current check's evidence; lands in every report as plain JSON."""
    evidence = Evidence()
    request.node.stash[evidence_key] = evidence
    return evidence


def _deprecated(old: str, new: str) -> None:
    """Warn that fixture ``old`` is now ``new``."""
    warnings.warn(
        pytest.PytestDeprecationWarning(
            f"the fixture {old!r} is deprecated and will be removed in the next release: use {new!r}"
        ),
        stacklevel=3,
    )


@pytest.fixture(scope="session")
def training_data(audit_training_data: LoadedDataset) -> LoadedDataset:
    """Deprecated alias of ``audit_training_data``."""
    _deprecated("training_data", "audit_training_data")
    return audit_training_data


@pytest.fixture(scope="session")
def evaluation_data(audit_evaluation_data: LoadedDataset) -> LoadedDataset:
    """Deprecated alias of ``audit_evaluation_data``."""
    _deprecated("evaluation_data", "audit_evaluation_data")
    return audit_evaluation_data


@pytest.fixture(scope="session")
def evaluation_scores(audit_scores: Scores) -> Scores:
    """Deprecated alias of ``audit_scores``."""
    _deprecated("evaluation_scores", "audit_scores")
    return audit_scores


@pytest.fixture(scope="session")
def source_tree(audit_source_tree: SourceTree) -> SourceTree:
    """Deprecated alias of ``audit_source_tree``."""
    _deprecated("source_tree", "audit_source_tree")
    return audit_source_tree
