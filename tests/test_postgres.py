# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Opt-in: the audit through an ``mlflow server`` backed by a throwaway PostgreSQL cluster.

The production setup of docs/remote-registry.md, on one machine: ``initdb`` + ``pg_ctl`` start a
cluster in a temporary directory on a free loopback port (password auth), ``mlflow server
--backend-store-uri postgresql://...`` serves it, a training process logs the demo models through
the server, and the audit must give the same verdict as the embedded SQLite store.

Runs only with ``RELEASE_AUDIT_PG_TESTS=1`` (it needs PostgreSQL's server binaries, e.g. Debian's
``postgresql`` package, and ``psycopg2-binary``); otherwise every test here skips saying why. It is
not part of the required default suite.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_remote_server import (
    audit_in,
    differences,
    free_port,
    load_report,
    no_traceback,
    reference,
    run_builder,
    start_mlflow_server,
    stop_process_group,
    use_demo_policy,
    verdict,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OPT_IN = "RELEASE_AUDIT_PG_TESTS"
PG_USER = "audit"
PG_START_TIMEOUT_S = 60


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's versioned dirs."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    for initdb in reversed(candidates):
        if Path(initdb).with_name("pg_ctl").is_file():
            return Path(initdb).parent
    return None


def _run_as() -> list[str] | None:
    """argv prefix that runs PostgreSQL's tools as a non-root user ([] when we are not root)."""
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--"] if runuser else None


def skip_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here (None when they can)."""
    if os.environ.get(OPT_IN) != "1":
        return f"PostgreSQL integration is opt-in: set {OPT_IN}=1 (needs initdb/pg_ctl and psycopg2-binary)"
    if find_pg_bin() is None:
        return ("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL's server "
                "(Debian: apt-get install -y postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (MLflow's PostgreSQL driver): pip install psycopg2-binary"
    if _run_as() is None:
        return "initdb refuses to run as root, and there is no 'postgres' user (or runuser) to run it as"
    return None


@dataclass
class Cluster:
    """A running throwaway PostgreSQL cluster."""

    root: Path
    data: Path
    port: int
    password: str
    pg_bin: Path
    prefix: list[str]

    @property
    def uri(self) -> str:
        # The driver is named: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, not psycopg2.
        return f"postgresql+psycopg2://{PG_USER}:{self.password}@127.0.0.1:{self.port}/mlflow"

    def pg_ctl(self, *args: str, timeout: float = PG_START_TIMEOUT_S + 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, str(self.pg_bin / "pg_ctl"), "-D", str(self.data), *args],
                              capture_output=True, text=True, timeout=timeout)

    def log_tail(self) -> str:
        log = self.root / "postgres.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.is_file() else "(no log)"


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a fresh temporary directory; the database ``mlflow`` created."""
    pg_bin, prefix = find_pg_bin(), _run_as()
    assert pg_bin is not None and prefix is not None
    # Not under pytest's tmp dir: that one is private to root, and the server runs as 'postgres'.
    root = Path(tempfile.mkdtemp(prefix="release-audit-pg-"))
    password = secrets.token_hex(12)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if prefix:
        import pwd

        user = pwd.getpwnam("postgres")
        for path in (root, pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
    cluster = Cluster(root=root, data=root / "data", port=free_port(), password=password, pg_bin=pg_bin,
                      prefix=prefix)
    init = subprocess.run([*prefix, str(pg_bin / "initdb"), "-D", str(cluster.data), "-U", PG_USER,
                           "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, timeout=120)
    pwfile.unlink()
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed ({init.returncode}): {init.stderr.strip()[-500:]}")
    options = f"-p {cluster.port} -h 127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off"
    started = cluster.pg_ctl("-l", str(root / "postgres.log"), "-w", "-t", str(PG_START_TIMEOUT_S), "-o", options,
                             "start")
    if started.returncode != 0:
        stop_cluster(cluster)
        pytest.fail(f"pg_ctl start failed ({started.returncode}): {started.stderr.strip()[-300:]}\n"
                    f"{cluster.log_tail()}")
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=PG_USER, password=password,
                            dbname="postgres", connect_timeout=10)
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE mlflow")
    finally:
        conn.close()
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    """pg_ctl stop (immediate), then SIGKILL the postmaster if it is still there; remove the files."""
    try:
        cluster.pg_ctl("-m", "immediate", "-w", "-t", "30", "stop", timeout=40)
    except subprocess.TimeoutExpired:
        pass
    pidfile = cluster.data / "postmaster.pid"
    if pidfile.is_file():
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            pass
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Cluster]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture(scope="module")
def pg_server(postgres: Cluster, demo_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``mlflow server`` on the PostgreSQL cluster, with the demo models logged through it."""
    server = start_mlflow_server(tmp_path_factory.mktemp("pg-mlflow-server"), postgres.uri)
    try:
        server.extra["versions"] = run_builder(server.url, demo_registry, tmp_path_factory.mktemp("pg-build"))
        yield server
    finally:
        stop_process_group(server.process)


@pytest.fixture(scope="module")
def embedded_reference() -> dict[str, Any]:
    return {}


def test_audit_through_a_postgres_backed_server_matches_the_embedded_store(pytester, pg_server, demo_registry,
                                                                         embedded_reference):
    expected = reference(embedded_reference, pytester, demo_registry)
    use_demo_policy(pytester)
    result = audit_in(pytester, pg_server.url, "cl_unimodal_v2")
    assert not differences(expected, verdict(load_report(pytester)))
    no_traceback(result)


def test_database_uri_blocks_without_leaking_the_password_when_artifacts_are_proxied(pytester, pg_server, postgres):
    """Audited straight from the database URI: the registry resolves, but artifacts that the server
    proxies (mlflow-artifacts:/) can only be read through the server: BLOCKED with one line, and
    the database password appears in no output."""
    use_demo_policy(pytester)
    result = audit_in(pytester, postgres.uri, "cl_unimodal_v2", "--audit-checks=lineage")
    assert result.ret != 0
    report = load_report(pytester)
    assert report["status"] == "BLOCKED"
    assert len(report["errors"]) == 1 and report["errors"][0].startswith("cannot list artifacts of run ")
    assert "mlflow-artifacts" in report["errors"][0]
    assert report["environment"]["tracking_uri"] == f"postgresql+psycopg2://127.0.0.1:{postgres.port}/mlflow"
    outputs = [result.stdout.str(), result.stderr.str()]
    outputs += [p.read_text(encoding="utf-8", errors="replace") for p in (pytester.path / "out").iterdir()
                if p.is_file()]
    outputs += [p.read_text(encoding="utf-8") for p in (pytester.path / "audit-reports").glob("*.jsonl")]
    assert not [text for text in outputs if postgres.password in text]
    no_traceback(result)
