# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Attacks on the verdict: each runs a real audit in a subprocess against the demo registry."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def demo_subset(tmp_path_factory: pytest.TempPathFactory, label: str, models: tuple[str, ...]) -> Path:
    """A private demo registry holding ``models`` (tests may change it, unlike ``demo_registry``)."""
    import build_demo  # on sys.path: tests/conftest.py adds examples/

    from pytest_release_audit.handle.resolve import using_store

    out = tmp_path_factory.mktemp(label)
    with using_store(f"sqlite:///{out / 'mlflow.db'}"):
        build_demo.build(out, models=models, force=True)
    return out


def copy_signers(registry: Path, project: Path) -> None:
    """The demo policy's ``[approvals.signers]`` files (``signers/``), next to the project's policy."""
    if (registry / "signers").is_dir():
        shutil.copytree(registry / "signers", project / "signers", dirs_exist_ok=True)


class Attack:
    """A pytester project (the demo policy) that audits a demo model with planted project files."""

    def __init__(self, pytester: pytest.Pytester, registry: Path) -> None:
        self.pytester = pytester
        self.registry = registry
        self.last_model = ""
        self.policy = (EXAMPLES / "pyproject.toml").read_text(encoding="utf-8")
        pytester.makefile(".toml", pyproject=self.policy)
        (pytester.path / "tests").mkdir(exist_ok=True)
        copy_signers(registry, pytester.path)

    @property
    def out(self) -> Path:
        return self.pytester.path / "out"

    def write(self, name: str, text: str) -> Path:
        path = self.pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def set_policy(self, top_level: str) -> None:
        """The demo policy with ``top_level`` lines added to its ``[tool.release_audit]`` table."""
        table = "[tool.release_audit]\n"
        self.write("pyproject.toml", self.policy.replace(table, f"{table}{top_level}\n", 1))

    def run(self, model: str, *args: str) -> pytest.RunResult:
        uri = f"sqlite:///{self.registry / 'mlflow.db'}"
        self.last_model = model
        return self.pytester.runpytest_subprocess(
            f"--audit-model={model}", f"--audit-tracking-uri={uri}", f"--audit-out={self.out}",
            "-p", "no:cacheprovider", "--audit-promote", *args, timeout=600)

    def promoted(self) -> bool:
        """Whether the last audited model got the promotion alias (it never may under an attack)."""
        from mlflow import MlflowClient

        uri = f"sqlite:///{self.registry / 'mlflow.db'}"
        name = self.last_model.split("@")[0].split("/")[0]
        version = self.last_model.split("/")[1] if "/" in self.last_model else None
        try:
            aliases = MlflowClient(uri, uri).get_registered_model(name).aliases or {}
        except Exception:  # noqa: BLE001 - a model that does not exist was not promoted
            return False
        if version is not None:  # another version of the model may have been promoted by a clean audit
            return str(aliases.get("production-candidate")) == version
        return "production-candidate" in aliases

    def report(self) -> dict[str, Any]:
        for path in (self.out / "audit_report.json", self.out / "partial" / "audit_report.json"):
            if path.is_file():
                return json.loads(path.read_text(encoding="utf-8"))
        raise AssertionError(f"no audit_report.json under {self.out}")

    def trail(self) -> list[dict[str, Any]]:
        log = self.pytester.path / "audit-reports" / "audit_log.jsonl"
        if not log.is_file():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def assert_blocked(result: pytest.RunResult, attack: Attack, cause: str) -> dict[str, Any]:
    """BLOCKED, a non-zero exit, nothing promoted, and one terminal line naming the cause."""
    text = result.stdout.str() + result.stderr.str()
    assert result.ret != 0, text[-3000:]
    assert "READY FOR" not in text, text[-3000:]
    assert any(cause in line for line in text.splitlines()), f"no line names {cause!r}:\n{text[-3000:]}"
    report = attack.report()
    assert report["status"] == "BLOCKED"
    assert all(r["verdict"] != "READY" for r in attack.trail())
    assert not attack.promoted(), "an attacked audit promoted the model"
    return report


@pytest.fixture
def attack(pytester: pytest.Pytester, demo_registry: Path) -> Attack:
    return Attack(pytester, demo_registry)


EVIL_MODELS = '''
# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Hostile pyfunc models: each does something in load_context, then scores like a risk model."""
import os
import socket
import time

import mlflow.pyfunc
import pandas as pd


class Risk(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        cols = [c for c in ("tumor_size", "positive_nodes", "tumor_grade") if c in model_input]
        return pd.Series(model_input[cols].astype(float).sum(axis=1).to_numpy(), name="risk")


class PatchesVerdict(Risk):
    def load_context(self, context):
        import pytest_release_audit.report.build as build
        import pytest_release_audit.scanners.pii as pii

        build.blocking_ids = lambda results: []
        pii.scan_dataframe = None


class Raises(Risk):
    def load_context(self, context):
        raise RuntimeError("load_context exploded")


class Sleeps(Risk):
    def load_context(self, context):
        time.sleep(600)


class OpensSocket(Risk):
    def load_context(self, context):
        port = int(open(os.path.join(os.path.dirname(__file__), "port.txt")).read())
        sock = socket.socket()
        sock.settimeout(3)
        sock.connect(("127.0.0.1", port))
        sock.sendall(os.environ.get("MLFLOW_TRACKING_PASSWORD", "no-secret").encode())


class Crashes(Risk):
    def load_context(self, context):
        os._exit(3)


class KillsItsLauncher(Risk):
    """Kills the process that forked it (the zygote), then crashes."""

    def load_context(self, context):
        import signal

        os.kill(os.getppid(), signal.SIGKILL)
        os._exit(4)


def _ppid(pid):
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


class PeeksMemory(Risk):
    """Tries to open the memory of every process of the audit: its launcher, the auditors, its siblings."""

    def load_context(self, context):
        ancestors, pid = [], os.getppid()
        while pid > 1 and len(ancestors) < 3:  # zygote, checks session, user's session
            ancestors.append(pid)
            pid = _ppid(pid)
        targets = set(ancestors)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    if _ppid(int(entry)) in ancestors:
                        targets.add(int(entry))
                except OSError:
                    pass
        opened = []
        for target in sorted(targets):
            try:
                with open(f"/proc/{target}/mem", "rb"):
                    opened.append(target)
            except OSError:
                pass
        if opened:
            raise RuntimeError(f"memory of {len(opened)} audit processes is writable: {opened}")


class ReadsSecrets(Risk):
    def load_context(self, context):
        leaked = {k: v for k, v in os.environ.items() if "SECRET" in k or "PASSWORD" in k or "TRAIL" in k}
        if leaked:
            raise RuntimeError("secrets visible to the model: " + ",".join(sorted(leaked)))
'''


def register_evil(registry: Path, name: str, cls: str, *, port: int | None = None) -> str:
    """Register ``EVIL_MODELS.<cls>`` as model ``cl_unimodal_evil_<cls>``, logged in ``name``'s run.

    The new model inherits the run's datasets (for the dirty model: PII and leaked patients), so
    its audit is BLOCKED by ``pii`` and ``leakage`` unless the model's code reaches the verdict.
    Returns the new registered model's name.
    """
    import mlflow
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import using_store

    code = registry / f"evil_{cls.lower()}"
    code.mkdir(exist_ok=True)
    (code / "evil_models.py").write_text(EVIL_MODELS, encoding="utf-8")
    (code / "port.txt").write_text(str(port or 0), encoding="utf-8")
    uri = f"sqlite:///{registry / 'mlflow.db'}"
    target = f"cl_unimodal_evil_{cls.lower()}"
    import sys

    sys.path.insert(0, str(code))
    try:
        import importlib

        evil = importlib.import_module("evil_models")
        importlib.reload(evil)
        with using_store(uri):
            client = MlflowClient(uri, uri)
            current = client.get_model_version_by_alias(name, "candidate")
            signature = mlflow.models.get_model_info(f"models:/{name}/{current.version}").signature
            # Saved, then logged into the run with the client: no fluent active run, which other
            # tests' MLflow state (an active experiment) would conflict with.
            local = code / "model"
            shutil.rmtree(local, ignore_errors=True)
            mlflow.pyfunc.save_model(str(local), python_model=getattr(evil, cls)(), signature=signature,
                                     code_paths=[str(code / "evil_models.py"), str(code / "port.txt")],
                                     pip_requirements=["mlflow==3.17.2"])
            client.log_artifacts(current.run_id, str(local), artifact_path=f"evil-{cls}")
            version = str(mlflow.register_model(f"runs:/{current.run_id}/evil-{cls}", target).version)
            for tag, value in current.tags.items():
                client.set_model_version_tag(target, version, tag, value)
            client.set_registered_model_alias(target, "candidate", version)
        return target
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("evil_models", None)


@pytest.fixture(scope="session")
def evil_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's production baseline and its dirty model (PII, leaked patients); evil models join it."""
    return demo_subset(tmp_path_factory, "evil", ("cl_unimodal_v1", "cl_unimodal_v2_dirty"))


@pytest.fixture
def evil(pytester: pytest.Pytester, evil_registry: Path) -> Attack:
    return Attack(pytester, evil_registry)
