# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The report set and the trail against a kill -9 at the worst moment, and the trail against a
rewrite on disk alone (the registry anchors).

Real audits of the demo's clean candidate in pytest subprocesses; the kill is a real SIGKILL that
``strace --inject`` delivers on the audit's own ``rename`` system calls (the trail's head sidecar
is the first, moving the previous set aside the second, moving the new set in the third).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import demo_subset

NAME = "cl_unimodal_v2"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_subset(tmp_path_factory, "sets", ("cl_unimodal_v1", "cl_unimodal_v2"))


@pytest.fixture
def project(tmp_path: Path, registry: Path) -> Path:
    shutil.copy(EXAMPLES / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(registry / "signers", tmp_path / "signers")
    (tmp_path / "tests").mkdir()
    return tmp_path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    env.update({"PY_COLORS": "0", "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    return env


def audit(project: Path, registry: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    argv = [*prefix, sys.executable, "-m", "pytest", f"--audit-model={NAME}",
            f"--audit-tracking-uri=sqlite:///{registry / 'mlflow.db'}", "-p", "no:cacheprovider",
            "-p", "no:randomly"]
    return subprocess.run(argv, cwd=project, env=_env(), capture_output=True, text=True, timeout=600)


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_release_audit.cli", *args], cwd=project, env=_env(),
                          capture_output=True, text=True, timeout=120)


def _set_dir(project: Path) -> Path:
    [found] = [p for p in (project / "audit-reports").iterdir() if p.is_dir() and p.name.startswith(NAME)]
    return found


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _after_a_good_audit(project: Path, registry: Path) -> tuple[Path, dict[str, bytes], Path]:
    """A READY audit's report set (its directory and bytes) and the trail, before the fault."""
    first = audit(project, registry)
    assert first.returncode == 0, first.stdout[-3000:]
    out = _set_dir(project)
    return out, _snapshot(out), project / "audit-reports" / "audit_log.jsonl"


def _strace() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.skip("strace is not installed (Debian: strace; .ci/run installs it)")
    probe = subprocess.run([path, "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here ({probe.stderr.strip()[:120]})")
    return path


@pytest.mark.parametrize("rename", [2, 3], ids=["before-moving-the-old-set-aside", "between-the-two-renames"])
def test_kill_9_after_the_trail_record_rolls_forward(project: Path, registry: Path, rename: int) -> None:
    strace = _strace()
    out, before, trail = _after_a_good_audit(project, registry)
    killed = audit(project, registry, strace, "-o", os.devnull, "-e", "trace=rename",
                   "-e", f"inject=rename:signal=KILL:when={rename}")
    assert killed.returncode != 0  # SIGKILLed (strace reports the signal as its exit status)
    records = [json.loads(line) for line in trail.read_text("utf-8").splitlines()]
    assert len(records) == 2, "the killed audit's record was appended before the kill"
    if out.exists():
        assert _snapshot(out) == before, "the previous set is untouched until the new one is whole"
    verified = cli(project, "verify-trail", str(trail))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "interrupted" in verified.stdout  # said, not hidden
    again = audit(project, registry)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "interrupted audit" in again.stdout
    leftovers = [p.name for p in (project / "audit-reports").iterdir() if ".release-audit-new-" in p.name
                 or ".old-" in p.name]
    assert leftovers == []
    verified = cli(project, "verify-trail", str(trail))
    assert verified.returncode == 0 and "interrupted" not in verified.stdout, verified.stdout


def test_kill_9_before_the_trail_record_leaves_the_previous_evidence(project: Path, registry: Path) -> None:
    strace = _strace()
    out, before, trail = _after_a_good_audit(project, registry)
    trail_before = trail.read_bytes()
    killed = audit(project, registry, strace, "-o", os.devnull, "-e", "trace=rename",
                   "-e", "inject=rename:signal=KILL:when=1")  # the head sidecar: the record is written,
    assert killed.returncode != 0                                # the head not yet moved
    verified = cli(project, "verify-trail", str(trail))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    again = audit(project, registry)
    assert again.returncode == 0, again.stdout[-3000:]
    assert trail.read_bytes().startswith(trail_before)
    assert _snapshot(_set_dir(project)) != before  # the new audit's set replaced the previous one whole


def test_a_trail_cut_on_disk_alone_disagrees_with_the_registry(project: Path, registry: Path) -> None:
    for _ in range(2):
        done = audit(project, registry)
        assert done.returncode == 0, done.stdout[-3000:]
    trail = project / "audit-reports" / "audit_log.jsonl"
    head = project / "audit-reports" / "audit_log.jsonl.head"
    lines = trail.read_text("utf-8").splitlines(keepends=True)
    first: dict[str, Any] = json.loads(lines[0])
    trail.write_text(lines[0], encoding="utf-8")  # the attacker drops the last record, rewrites the head,
    head.write_text(json.dumps({"seq": first["seq"], "hash": first["hash"]}), encoding="utf-8")
    shutil.rmtree(_set_dir(project))  # and removes the reports, so nothing on disk contradicts the cut
    alone = cli(project, "verify-trail", str(trail))
    assert alone.returncode == 0, alone.stdout  # the file alone is consistent: this is what anchors are for
    uri = f"sqlite:///{registry / 'mlflow.db'}"
    verified = cli(project, "verify-trail", str(trail), "--tracking-uri", uri)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "records were cut or rewritten" in verified.stdout + verified.stderr


def test_a_planted_leftover_set_is_never_moved_in(tmp_path: Path) -> None:
    """Only a leftover whose every file matches the trail's last record for that directory rolls
    forward: a forged READY set planted as ``.release-audit-new-<dead pid>-*`` is removed."""
    from pytest_release_audit.files import sha256_file
    from pytest_release_audit.finish import recover_sets
    from pytest_release_audit.trail import append_record, verify_trail

    reports_dir = tmp_path / "audit-reports"
    out = reports_dir / f"{NAME}-1-production"
    out.mkdir(parents=True)
    (out / "audit_report.json").write_text('{"status": "BLOCKED"}', encoding="utf-8")
    log = reports_dir / "audit_log.jsonl"
    append_record(log, {"audit_id": "a1", "verdict": "BLOCKED", "out_dir": out.name,
                        "reports": {"audit_report.json": sha256_file(out / "audit_report.json")}})
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process is gone, as an interrupted audit's would be
    planted = reports_dir / f".release-audit-new-{gone.pid}-forged"
    planted.mkdir()
    (planted / "audit_report.json").write_text('{"status": "READY"}', encoding="utf-8")
    notes = recover_sets(out, log)
    assert not planted.exists() and any("removed" in n for n in notes)
    assert (out / "audit_report.json").read_text(encoding="utf-8") == '{"status": "BLOCKED"}'
    assert verify_trail(log).ok
