# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""No outbound network, no telemetry: the whole demo audit runs with sockets to anything but
loopback failing, and reaches the same verdict as an unguarded run.

The guard is a ``sitecustomize`` module on ``PYTHONPATH``, so it is active in the audit's process
and in every Python process the audit starts (``reuse``, ``bandit``, xdist workers). It patches
``socket.socket.connect`` / ``connect_ex`` and ``socket.getaddrinfo``: a loopback or Unix-socket
peer is allowed, anything else fails as an unreachable network would, and every attempt is
logged with the modules on the stack, so a failure names the dependency that tried to phone home.

Both audits run with the environment a user would have: the test suite's own telemetry opt-outs
(``MLFLOW_DISABLE_TELEMETRY``, ``DO_NOT_TRACK``) and CI markers that MLflow reads as "do not
track" are removed, so only what the product itself sets is tested.
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

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MODEL = "cl_unimodal_v2"

GUARD = '''# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Network guard for tests/test_no_network.py: non-loopback sockets fail, every attempt is logged."""
import errno
import ipaddress
import json
import os
import socket
import sys

_LOG = os.environ.get("NETGUARD_LOG")
_SKIP = {"socket", "ssl", "sitecustomize", "selectors"}


def _local(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host)
    if host in ("", "localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _modules():
    names, frame = [], sys._getframe(2)
    while frame is not None and len(names) < 30:
        name = frame.f_globals.get("__name__", "?")
        if name not in _SKIP and (not names or names[-1] != name):
            names.append(name)
        frame = frame.f_back
    return names


def _record(kind, target, allowed):
    entry = {"kind": kind, "target": repr(target)[:200], "allowed": allowed, "pid": os.getpid(),
             "argv0": (sys.argv or ["?"])[0][-60:], "modules": _modules()}
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\\n")


if _LOG:
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def _host(sock, address):
        if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
            return None
        return address[0] if isinstance(address, tuple) else address

    def connect(self, address):
        host = _host(self, address)
        allowed = _local(host)
        _record("connect", address, allowed)
        if not allowed:
            raise OSError(errno.ENETUNREACH, "network is unreachable (no-network test)")
        return _connect(self, address)

    def connect_ex(self, address):
        host = _host(self, address)
        allowed = _local(host)
        _record("connect_ex", address, allowed)
        return _connect_ex(self, address) if allowed else errno.ENETUNREACH

    def getaddrinfo(host, *args, **kwargs):
        allowed = _local(host)
        _record("getaddrinfo", host, allowed)
        if not allowed:
            raise socket.gaierror(socket.EAI_NONAME, "name resolution disabled (no-network test)")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    _record("guard-loaded", None, True)  # proves the guard ran in this process
'''

#: Variables that make MLflow (and other libraries) skip telemetry on their own: a user's shell
#: has none of them, so neither do the audits here.
_OPT_OUTS = ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "CI",
             "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD", "CIRCLECI", "TRAVIS",
             "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def _project(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy2(EXAMPLES / "pyproject.toml", path / "pyproject.toml")
    (path / "tests").mkdir()
    return path


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo audit of cl_unimodal_v2, unguarded and guarded, run side by side."""
    from conftest import build_registry

    base = tmp_path_factory.mktemp("no-network")
    registry = build_registry(base / "registry", ("cl_unimodal_v1", "cl_unimodal_v2"))
    guard_dir = base / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = base / "attempts.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in _OPT_OUTS}
    runs: dict[str, Any] = {}
    for kind in ("plain", "guarded"):
        project = _project(base / kind)
        run_env = dict(env, PY_COLORS="0")
        if kind == "guarded":
            run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard_dir), env.get("PYTHONPATH")]))
            run_env["NETGUARD_LOG"] = str(log)
        argv = [sys.executable, "-m", "pytest", f"--audit-model={MODEL}",
                f"--audit-tracking-uri=sqlite:///{registry / 'mlflow.db'}", "--audit-out=out", "-p", "no:cacheprovider"]
        runs[kind] = (project, subprocess.Popen(argv, cwd=project, env=run_env, stdout=subprocess.PIPE,  # noqa: S603
                                                stderr=subprocess.STDOUT))
    out: dict[str, Any] = {"attempts": [], "registry": registry, "guard": guard_dir, "env": env}
    for kind, (project, proc) in runs.items():
        stdout, _ = proc.communicate(timeout=900)
        report = project / "out" / "audit_report.json"
        assert report.is_file(), f"{kind} audit wrote no report:\n" + stdout.decode("utf-8", "replace")[-4000:]
        out[kind] = {"ret": proc.returncode, "stdout": stdout.decode("utf-8", "replace"),
                     "report": json.loads(report.read_text(encoding="utf-8"))}
    if log.is_file():
        out["attempts"] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return out


def _culprits(attempts: list[dict[str, Any]]) -> list[str]:
    """One line per blocked attempt: target and the first non-stdlib modules on the stack."""
    lines = []
    for a in attempts:
        mods = [m for m in a["modules"] if m.split(".")[0] not in sys.stdlib_module_names][:4]
        lines.append(f"{a['kind']} {a['target']} from {' <- '.join(mods) or a['modules'][:3]} ({a['argv0']})")
    return sorted(set(lines))


def test_the_guard_is_active(tmp_path: Path) -> None:
    """The guard really blocks: a direct connection attempt through it fails and is logged."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = tmp_path / "probe.jsonl"
    code = ("import socket\ntry:\n    socket.create_connection(('192.0.2.1', 443), timeout=2)\n"
            "except OSError as exc:\n    print('blocked', type(exc).__name__)\n")
    env = dict(os.environ, PYTHONPATH=str(guard), NETGUARD_LOG=str(log))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.stdout.startswith("blocked"), done.stdout + done.stderr
    assert "192.0.2.1" in log.read_text(encoding="utf-8")


def test_the_guard_sees_mlflow_telemetry_when_nothing_disables_it(audits: dict[str, Any], tmp_path: Path) -> None:
    """Positive control: plain MLflow in this environment does try to phone home (a telemetry
    config fetch on the first tracked call), so the audit's silence below is the product's doing."""
    store = tmp_path / "mlflow.db"
    shutil.copy2(audits["registry"] / "mlflow.db", store)
    log = tmp_path / "mlflow.jsonl"
    code = ("import time\nfrom mlflow import MlflowClient\n"
            f"MlflowClient({f'sqlite:///{store}'!r}).create_experiment('probe')\ntime.sleep(3)\n")
    env = dict(audits["env"], PYTHONPATH=str(audits["guard"]), NETGUARD_LOG=str(log))
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)  # noqa: S603
    attempts = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    phoned = [a for a in attempts if not a["allowed"] and any(m.startswith("mlflow.telemetry") for m in a["modules"])]
    assert phoned, "MLflow made no telemetry attempt: the positive control no longer proves anything"


def test_the_demo_audit_reaches_the_same_verdict_without_network(audits: dict[str, Any]) -> None:
    plain, guarded = audits["plain"], audits["guarded"]
    assert "Traceback (most recent call last)" not in guarded["stdout"]
    assert guarded["report"]["status"] == plain["report"]["status"], guarded["stdout"][-3000:]
    outcomes = {k: {c["id"]: c["outcome"] for c in audits[k]["report"]["checks"]} for k in ("plain", "guarded")}
    assert outcomes["guarded"] == outcomes["plain"]
    assert guarded["report"]["blocking"] == plain["report"]["blocking"]
    assert (guarded["ret"] == 0) == (plain["ret"] == 0)


def test_the_demo_audit_attempts_no_outbound_connection(audits: dict[str, Any]) -> None:
    """Not even one attempt to reach a non-loopback address (telemetry, suffix lists, model hubs)."""
    loaded = {a["pid"] for a in audits["attempts"] if a["kind"] == "guard-loaded"}
    assert loaded, "the guard did not load in the audit process"
    blocked = [a for a in audits["attempts"] if not a["allowed"]]
    assert not blocked, "outbound network attempts during the audit:\n" + "\n".join(_culprits(blocked))
