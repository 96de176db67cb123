# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the fault matrix: the shared fault registry and a runner with a previous audit in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .factory import Runner, World, build_shared_world, empty_store


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty MLflow store, copied by every registry this suite builds."""
    return empty_store(tmp_path_factory.mktemp("store-template") / "mlflow.db")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> Iterator[World]:
    """The shared fault registry. Read-only for tests: copy a file before damaging it."""
    root = tmp_path_factory.mktemp("faults-world")
    built = build_shared_world(root, store_template)
    yield built
    unreadable = built.facts.get("unreadable")
    if unreadable is not None and Path(unreadable).exists():
        Path(unreadable).chmod(0o600)  # so the temporary directory can be cleaned up


@pytest.fixture
def runner(pytester: pytest.Pytester, world: World, tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> Runner:
    """A Runner on the shared world, with a previous good audit's reports and trail in place."""
    monkeypatch.setenv("COLUMNS", "250")  # one check per terminal line: the fault line is not wrapped
    cache = tmp_path_factory.getbasetemp() / "faults-previous"
    cache.mkdir(exist_ok=True)
    run = Runner(pytester, world, cache)
    run.with_previous_audit()
    return run
