# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The usage registry: built once per test run (shared by xdist workers through a file lock)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .builders import Usage, build_usage


@pytest.fixture(scope="session")
def usage(tmp_path_factory: pytest.TempPathFactory) -> Usage:
    """Every case model of ``builders.CASE_MODELS`` in one store. Read-only for tests."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this run
    root = base / "mlflow-usage"
    done = base / "mlflow-usage.json"
    with FileLock(str(base / "mlflow-usage.lock")):
        if done.is_file():
            saved = json.loads(done.read_text(encoding="utf-8"))
            return Usage(root=root, repo=root / "repo", commit=saved["commit"],
                         facts={k: {n: Path(p) for n, p in v.items()} for k, v in saved["facts"].items()})
        built = build_usage(root)
        facts = {k: {n: str(p) for n, p in v.items()} for k, v in built.facts.items()}
        done.write_text(json.dumps({"commit": built.commit, "facts": facts}), encoding="utf-8")
        return built
