# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared test infrastructure: real demo registries built once, and a helper to run an audit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# Imported once here: in-process pytester audits otherwise re-import pydantic-based presidio
# after pytester's module snapshot restore, which breaks (KeyError: 'pydantic.root_model'); the
# same holds for C extensions first imported inside such a run (numpy.fft: "cannot load module
# more than once per process"), which the registry builders then need.
import numpy.fft  # noqa: F401
import presidio_analyzer  # noqa: F401
import pytest
import scipy.stats  # noqa: F401
import spacy  # noqa: F401

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


def build_registry(out: Path, models: tuple[str, ...] | None = None) -> Path:
    """Build the demo registry (all models, or a subset) into ``out``; returns ``out``."""
    import build_demo

    from pytest_release_audit.handle.resolve import using_store

    # using_store restores MLflow's process-wide tracking/registry URIs the builder sets, so a
    # registry built here does not leak into later in-process tests.
    with using_store(f"sqlite:///{out / 'mlflow.db'}"):
        build_demo.build(out, models=models or build_demo.ALL_MODELS, force=True)
    return out


@pytest.fixture(scope="session")
def demo_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo registry, built once per test session. Do not modify it: use fresh_registry."""
    return build_registry(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Path:
    """A private registry with cl_unimodal_v1 (@production) and cl_unimodal_v2 (@candidate)."""
    return build_registry(tmp_path / "registry", ("cl_unimodal_v1", "cl_unimodal_v2"))


def copy_signers(registry: Path, project: Path) -> None:
    """The demo policy's ``[approvals.signers]`` files (``signers/``), next to the project's policy."""
    import shutil

    if (registry / "signers").is_dir():
        shutil.copytree(registry / "signers", project / "signers", dirs_exist_ok=True)


def newest_report(out: Path) -> Path:
    """``out/audit_report.json`` or ``out/partial/audit_report.json``, whichever was written last."""
    found = [p for p in (out / "audit_report.json", out / "partial" / "audit_report.json") if p.is_file()]
    if not found:
        raise AssertionError(f"no audit_report.json under {out}")
    return max(found, key=lambda p: p.stat().st_mtime_ns)


class Audit:
    """Runs ``pytest --audit-model=...`` in a pytester directory against a registry."""

    def __init__(self, pytester: pytest.Pytester, registry: Path) -> None:
        self.pytester = pytester
        self.registry = registry
        policy = (EXAMPLES / "pyproject.toml").read_text(encoding="utf-8")
        pytester.makefile(".toml", pyproject=policy)
        (pytester.path / "tests").mkdir(exist_ok=True)
        copy_signers(registry, pytester.path)

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.registry / 'mlflow.db'}"

    def run(self, model: str, *args: str, subprocess: bool = False) -> pytest.RunResult:
        argv = [f"--audit-model={model}", f"--audit-tracking-uri={self.uri}", "-p", "no:cacheprovider",
                f"--audit-out={self.out_dir}", *args]
        if subprocess:
            return self.pytester.runpytest_subprocess(*argv, timeout=300)
        return self.pytester.runpytest(*argv)

    @property
    def out_dir(self) -> Path:
        return self.pytester.path / "out"

    def report(self) -> dict[str, Any]:
        """The newest report: a full run's, or a partial run's (``out/partial/``)."""
        return json.loads(newest_report(self.out_dir).read_text(encoding="utf-8"))

    def outcomes(self) -> dict[str, str]:
        return {c["id"]: c["outcome"] for c in self.report()["checks"]}


@pytest.fixture
def audit(pytester: pytest.Pytester, demo_registry: Path) -> Audit:
    """An Audit against the shared demo registry."""
    return Audit(pytester, demo_registry)


@pytest.fixture
def fresh_audit(pytester: pytest.Pytester, fresh_registry: Path) -> Audit:
    """An Audit against a private registry the test may modify."""
    return Audit(pytester, fresh_registry)




@pytest.fixture(autouse=True)
def _isolate_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process audits must not see a tracking URI left in the environment by another test."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
