# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit against a real ``mlflow server`` over HTTP, and against servers that are down or mute.

One module-scoped server (SQLite backend, proxied artifact store) is started for the module, a
small registry is logged *through* it by a separate training process, and the audit's verdict
and check outcomes are compared with the embedded SQLite demo store for the same model. One
model's datasets are logged as run artifacts (``runs:/<run_id>/data/...``): the audit can only
read them by downloading through the server, because the local copies are deleted after logging.

The helpers (``start_mlflow_server``, ``stop_process_group``, ``build_through_server``) are also
used by ``test_postgres.py``. Run as a script, this file is the training process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

try:
    # mlflow imports the importlib_metadata backport, whose import deletes the stdlib PathFinder's
    # find_distributions and appends its own finder to sys.meta_path. When that first happens
    # inside a pytester in-process run, pytester's sys.meta_path restore drops the new finder and
    # no entry point (the audit plugin included) is found for the rest of the session. Import it
    # once, up front, outside any snapshot.
    import importlib_metadata  # noqa: F401
except ImportError:  # pragma: no cover - no backport, no hazard
    pass

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS.parent / "examples"
SERVER_START_TIMEOUT_S = 180.0  # a cold `mlflow server` takes ~8 s idle, far more on a busy CI box
#: The model whose datasets are logged as run artifacts (only the server can hand them out).
ARTIFACT_DATA_MODEL = "cl_unimodal_v2_artifact_data"
#: What the audit of one version must not take longer than when the registry is unusable.
FAILURE_BOUND_S = 30.0


# -- a real mlflow server ---------------------------------------------------------------------
def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A started ``mlflow server``: its URL, process (a process-group leader) and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    root: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def server_env() -> dict[str, str]:
    """The environment for child MLflow processes: no telemetry, no stray tracking URI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")
           and k not in ("MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")}
    env.update({
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GIT_PYTHON_REFRESH": "quiet",
        # MLflow 3 starts a job runner with a dozen huey consumer processes by default; the
        # registry needs none of them, and they quadruple the start-up time on a busy machine.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    })
    return env


def start_mlflow_server(root: Path, backend_uri: str, *, extra_args: tuple[str, ...] = (),
                        extra_env: dict[str, str] | None = None) -> RunningServer:
    """Start ``mlflow server`` on a free loopback port and wait (bounded) until /health answers."""
    port = free_port()
    artifacts = root / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    log = root / "server.log"
    argv = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri,
            "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", *extra_args]
    with log.open("wb") as out:
        # Its own session: the server forks uvicorn, and stopping must reach the whole group.
        process = subprocess.Popen(argv, cwd=root, env={**server_env(), **(extra_env or {})}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = RunningServer(url=f"http://127.0.0.1:{port}", process=process, log=log, root=root)
    try:
        wait_until_healthy(server, SERVER_START_TIMEOUT_S)
    except BaseException:
        stop_process_group(process)
        raise
    return server


def wait_until_healthy(server: RunningServer, timeout_s: float) -> None:
    """Poll ``/health`` until it answers 200; fail with the server log if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while True:
        code = server.process.poll()
        if code is not None:
            pytest.fail(f"mlflow server exited with {code} before answering /health:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"mlflow server did not answer /health within {timeout_s:.0f} s:\n{server.log_tail()}")
        time.sleep(0.25)


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM the process group started with ``process``, wait (bounded), then SIGKILL what is left."""
    pgid = process.pid  # start_new_session=True made it the group leader
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:  # the leader may be gone while uvicorn children linger
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


# -- a registry logged through the server by a separate training process -----------------------
def build_through_server(uri: str, demo: Path, workdir: Path) -> dict[str, str]:
    """Train and register cl_unimodal_v1 (@production), cl_unimodal_v2 and ARTIFACT_DATA_MODEL
    (@candidate) against ``uri`` with the demo's code and data, as ``examples/build_demo.py`` does
    for SQLite. Meant to run in its own process (``python test_remote_server.py URI DEMO WORKDIR``):
    it sets MLflow's process-wide tracking state. Returns {model: version}.
    """
    import warnings

    warnings.filterwarnings("ignore")
    repo = demo / "training-repo"
    sys.path[:0] = [str(repo), str(EXAMPLES)]
    import build_demo
    import mlflow
    import pandas as pd
    import train_survival
    from clinical_data import FEATURES_V1, FEATURES_V2
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag


    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    commit = subprocess.run(["git", "rev-parse", "main"], cwd=repo, check=True, capture_output=True,
                            text=True).stdout.strip()
    names = {"raw": "mm_curated_q225.csv", "train": "mm_fusion_v1_train.csv", "eval": "mm_fusion_v1_eval.csv"}
    local = {k: demo / "data" / v for k, v in names.items()}
    staged = workdir / "staged-data"  # deleted after logging: only the server keeps these bytes
    staged.mkdir(parents=True, exist_ok=True)
    copies = {k: Path(shutil.copy2(p, staged / p.name)) for k, p in local.items()}

    def log_as_run_artifact(df: Any, path: Path, name: str, context: str, tags: dict[str, str]) -> None:
        """Log the file under the run's artifacts and the dataset with a runs:/ source."""
        run_id = mlflow.active_run().info.run_id
        mlflow.log_artifact(str(path), artifact_path="data")
        facts = mlflow.data.from_pandas(df, source=str(path), name=name, targets=train_survival.EVENT).to_dict()
        dataset = Dataset(name=name, digest=facts["digest"], source_type="mlflow_run_artifact",
                          source=json.dumps({"uri": f"runs:/{run_id}/data/{path.name}"}),
                          schema=facts.get("schema"), profile=facts.get("profile"))
        all_tags = {"mlflow.data.context": context, "data_sha256": train_survival.sha256_file(path), **tags}
        client.log_inputs(run_id, [DatasetInput(dataset, [InputTag(k, v) for k, v in all_tags.items()])])

    def read(path: Path) -> Any:
        return pd.read_csv(path, float_precision="round_trip")

    standard_log_dataset = train_survival.log_dataset
    versions: dict[str, str] = {}
    # The artifact-data model gets its own experiment: the tracking store de-duplicates datasets
    # by (experiment, name, digest), and would otherwise keep the first run's local-path source.
    plan = [("cl_unimodal_v1", FEATURES_V1, local, "production", standard_log_dataset, "cl_unimodal_remote"),
            ("cl_unimodal_v2", FEATURES_V2, local, "candidate", standard_log_dataset, "cl_unimodal_remote"),
            (ARTIFACT_DATA_MODEL, FEATURES_V2, copies, "candidate", log_as_run_artifact, "cl_unimodal_artifact_data")]
    for name, features, paths, alias, log_dataset, experiment in plan:
        # No artifact_location: the server puts artifacts under mlflow-artifacts:/ and proxies them.
        mlflow.set_experiment(experiment)
        train_survival.log_dataset = log_dataset
        version = train_survival.train_and_log(
            model_name=name, features=features, train=read(paths["train"]), evaluation=read(paths["eval"]),
            paths=paths, raw_name="mm_curated_q225", split_name="mm_fusion_v1",
            run_tags={"mlflow.source.git.commit": commit, "mlflow.source.git.repoURL": str(repo),
                      "mlflow.source.git.branch": "main", "mlflow.source.name": "train_survival.py",
                      "mlflow.note.content": f"Cox PH survival model {name}"},
            pip_requirements=build_demo.requirements(), code_path=repo / "survival_model.py", seed=build_demo.SEED,
        )
        versions[name] = version
        keys = build_demo.make_approvers(demo, build_demo.APPROVERS)  # the demo approvers' keys, reused
        build_demo.describe_survival_version(client, name, version, alias, features, keys)
    train_survival.log_dataset = standard_log_dataset
    shutil.rmtree(staged)
    return versions


def run_builder(uri: str, demo: Path, workdir: Path, timeout_s: float = 600) -> dict[str, str]:
    """Run ``build_through_server`` in a fresh Python process (a training job); returns versions."""
    env = server_env()
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), uri, str(demo), str(workdir)],
                          env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        pytest.fail(f"building the registry through {uri} failed ({done.returncode}):\n{tail}")
    return json.loads((workdir / "versions.json").read_text(encoding="utf-8"))


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real ``mlflow server`` (SQLite backend, proxied local artifacts) for the module."""
    root = tmp_path_factory.mktemp("mlflow-server")
    server = start_mlflow_server(root, f"sqlite:///{root / 'server.db'}")
    try:
        yield server
    finally:
        stop_process_group(server.process)


@pytest.fixture(scope="module")
def remote_registry(mlflow_server: RunningServer, demo_registry: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> RunningServer:
    """The server, after a training process logged and registered the models through it."""
    workdir = tmp_path_factory.mktemp("remote-build")
    mlflow_server.extra["versions"] = run_builder(mlflow_server.url, demo_registry, workdir)
    return mlflow_server


@pytest.fixture(scope="module")
def embedded_reference() -> dict[str, Any]:
    """The embedded SQLite audit of cl_unimodal_v2, run once by the first test that needs it."""
    return {}


def audit_in(pytester: pytest.Pytester, uri: str, model: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--audit-model={model}", f"--audit-tracking-uri={uri}", "-p", "no:cacheprovider",
                              f"--audit-out={pytester.path / 'out'}", *args)


def load_report(pytester: pytest.Pytester) -> dict[str, Any]:
    from conftest import newest_report

    return json.loads(newest_report(pytester.path / "out").read_text(encoding="utf-8"))


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on where the registry lives: status, and each check's outcome and line."""
    return {
        "status": report["status"],
        "blocking": report["blocking"],
        "errors": report.get("errors", []),
        "checks": {c["id"]: (c["outcome"], _unmeasured(c)) for c in report["checks"]},
    }


def _unmeasured(check: dict[str, Any]) -> str:
    """A check's line, with the prediction times ``latency`` quotes masked (they differ on every run)."""
    return re.sub(r"[0-9][0-9,.]*", "#", check["summary"]) if check["id"] == "latency" else check["summary"]


def differences(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """The keys / checks whose values differ, as {key: (expected, got)}, for readable failures."""
    out: dict[str, Any] = {k: (expected.get(k), got.get(k)) for k in ("status", "blocking", "errors")
                           if expected.get(k) != got.get(k)}
    for cid in sorted(set(expected["checks"]) | set(got["checks"])):
        if expected["checks"].get(cid) != got["checks"].get(cid):
            out[cid] = (expected["checks"].get(cid), got["checks"].get(cid))
    return out


def reference(embedded_reference: dict[str, Any], pytester: pytest.Pytester, demo_registry: Path) -> dict[str, Any]:
    if "verdict" not in embedded_reference:
        from conftest import Audit

        audit = Audit(pytester, demo_registry)
        audit.run("cl_unimodal_v2")
        embedded_reference["verdict"] = verdict(audit.report())
        shutil.rmtree(audit.out_dir)
    return embedded_reference["verdict"]


def use_demo_policy(pytester: pytest.Pytester, demo: Path | None = None) -> None:
    """The demo's policy (and its approvers' allowed signers from ``demo``), plus the artifact-data
    model compared with cl_unimodal_v1 like v2 is."""
    policy = (EXAMPLES / "pyproject.toml").read_text(encoding="utf-8")
    (pytester.path / "pyproject.toml").write_text(policy + (
        f"\n[tool.release_audit.models.{ARTIFACT_DATA_MODEL}]\n"
        'baseline = "models:/cl_unimodal_v1@production"\n'), encoding="utf-8")
    (pytester.path / "tests").mkdir(exist_ok=True)
    if demo is not None and (demo / "signers").is_dir():
        shutil.copytree(demo / "signers", pytester.path / "signers", dirs_exist_ok=True)


def no_traceback(result: pytest.RunResult) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback (most recent call last)" not in text
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


# -- the server works like the embedded store --------------------------------------------------
def test_audit_through_the_server_matches_the_embedded_store(pytester, remote_registry, demo_registry,
                                                             embedded_reference):
    expected = reference(embedded_reference, pytester, demo_registry)
    use_demo_policy(pytester, demo_registry)
    # The demo logged its datasets as local files beside its store; through a server the audit
    # reads local files only from the directories it is told about.
    policy = pytester.path / "pyproject.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "[tool.release_audit.pii]", f'[tool.release_audit.data_integrity]\nallowed_roots = ["{demo_registry}"]\n\n'
        "[tool.release_audit.pii]", 1), encoding="utf-8")
    result = audit_in(pytester, remote_registry.url, "cl_unimodal_v2")
    report = load_report(pytester)
    assert not differences(expected, verdict(report))
    assert report["model"]["name"] == "cl_unimodal_v2" and report["baseline"]["name"] == "cl_unimodal_v1"
    assert report["environment"]["tracking_uri"] == remote_registry.url
    result.stdout.fnmatch_lines([f"*release-audit: cl_unimodal_v2 v1 (@candidate) run * from {remote_registry.url}*"])
    assert result.ret == (0 if expected["status"] == "READY" else 1)
    no_traceback(result)


def test_dataset_logged_as_run_artifact_is_downloaded_through_the_server(pytester, remote_registry, demo_registry,
                                                                          embedded_reference):
    expected = reference(embedded_reference, pytester, demo_registry)
    use_demo_policy(pytester, demo_registry)
    result = audit_in(pytester, remote_registry.url, ARTIFACT_DATA_MODEL)
    report = load_report(pytester)
    checks = {c["id"]: c for c in report["checks"]}
    sources = {d["source"] for d in checks["lineage"]["evidence"]["datasets"]}
    run_id = report["model"]["run_id"]
    assert sources == {f"runs:/{run_id}/data/{n}" for n in
                       ("mm_curated_q225.csv", "mm_fusion_v1_train.csv", "mm_fusion_v1_eval.csv")}
    # Same data, same model: every outcome as in the embedded store, digests recomputed on the
    # bytes the server handed out (the local copies the run was logged from no longer exist).
    outcomes = {"status": report["status"], "blocking": report["blocking"], "errors": report.get("errors", []),
                "checks": {i: c["outcome"] for i, c in checks.items()}}
    wanted = {**expected, "checks": {i: outcome for i, (outcome, _) in expected["checks"].items()}}
    assert not differences(wanted, outcomes), {i: checks[i]["summary"] for i in differences(wanted, outcomes)
                                               if i in checks}
    assert checks["data_integrity"]["outcome"] == "passed", checks["data_integrity"]["summary"]
    no_traceback(result)


# -- the server is down or never answers -------------------------------------------------------
@pytest.fixture
def audit_defaults(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The audit's own HTTP retry/timeout defaults in force (nothing inherited from the shell)."""
    from pytest_release_audit.handle.resolve import AUDIT_ENV_DEFAULTS

    for key in AUDIT_ENV_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    return dict(AUDIT_ENV_DEFAULTS)


class MuteServer:
    """A loopback TCP server that accepts connections and never answers (a hung server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)  # held open, never read, never answered

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def mute_server() -> Iterator[MuteServer]:
    server = MuteServer()
    try:
        yield server
    finally:
        server.close()


def _assert_one_clear_line(pytester: pytest.Pytester, result: pytest.RunResult, url: str) -> str:
    assert result.ret != 0
    report = load_report(pytester)
    assert report["status"] == "BLOCKED"
    assert len(report["errors"]) == 1, report["errors"]
    line = report["errors"][0]
    assert "\n" not in line and len(line) <= 500
    assert line.startswith(f"cannot read the MLflow registry at {url} (")
    assert "check the URI, that the server is up and reachable" in line
    result.stdout.fnmatch_lines([f"*cannot read the MLflow registry at {url}*", "Status: BLOCKED*"])
    no_traceback(result)
    return line


def test_blocked_within_seconds_when_the_server_is_down(pytester, audit_defaults):
    use_demo_policy(pytester)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    started = time.monotonic()
    result = audit_in(pytester, url, "cl_unimodal_v2")
    took = time.monotonic() - started
    _assert_one_clear_line(pytester, result, url)
    print(f"server down: BLOCKED after {took:.1f} s")
    assert took < FAILURE_BOUND_S, f"a closed port took {took:.1f} s to report"


def test_blocked_within_the_http_timeout_when_the_server_never_answers(pytester, audit_defaults, mute_server):
    use_demo_policy(pytester)
    url = f"http://127.0.0.1:{mute_server.port}"
    started = time.monotonic()
    result = audit_in(pytester, url, "cl_unimodal_v2")
    took = time.monotonic() - started
    _assert_one_clear_line(pytester, result, url)
    attempts = 1 + int(audit_defaults["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    timeout_s = float(audit_defaults["MLFLOW_HTTP_REQUEST_TIMEOUT"])
    print(f"server mute: BLOCKED after {took:.1f} s ({len(mute_server.accepted)} connections)")
    # One probe per auditing process (your session and the clean checks session, in parallel),
    # retried as configured, then nothing else talks to the dead server.
    assert len(mute_server.accepted) == 2 * attempts
    assert took >= attempts * timeout_s * 0.9, "the audit gave up before MLflow's timeout: the bound is not what we set"
    assert took < FAILURE_BOUND_S, f"a server that never answers held the audit for {took:.1f} s"


def test_the_line_names_why_the_server_cannot_be_read(pytester, audit_defaults):
    use_demo_policy(pytester)
    url = f"http://127.0.0.1:{free_port()}"
    result = audit_in(pytester, url, "cl_unimodal_v2")
    line = _assert_one_clear_line(pytester, result, url)
    assert "refused" in line.lower(), line


def test_credentials_in_the_uri_never_reach_the_outputs(pytester, audit_defaults):
    use_demo_policy(pytester)
    url = f"http://auditor:s3cret-in-uri@127.0.0.1:{free_port()}"
    result = audit_in(pytester, url, "cl_unimodal_v2")
    assert result.ret != 0
    texts = [result.stdout.str(), result.stderr.str()]
    for folder in (pytester.path / "out", pytester.path / "audit-reports"):
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in folder.glob("*") if p.is_file()]
    assert not [t for t in texts if "s3cret-in-uri" in t]


# -- credentials from the environment (basic auth) ---------------------------------------------
@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """An ``mlflow server --app-name basic-auth`` with an admin whose password only we know."""
    import importlib.util
    import secrets

    if importlib.util.find_spec("flask_wtf") is None:
        pytest.skip("MLflow's basic-auth server needs Flask-WTF: pip install Flask-WTF (mlflow[auth])")
    root = tmp_path_factory.mktemp("mlflow-auth-server")
    password = secrets.token_urlsafe(16)
    config = root / "basic_auth.ini"
    config.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root / 'basic_auth.db'}\n"
        f"admin_username = admin\nadmin_password = {password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n", encoding="utf-8")
    server = start_mlflow_server(root, f"sqlite:///{root / 'server.db'}", extra_args=("--app-name", "basic-auth"),
                                 extra_env={"MLFLOW_AUTH_CONFIG_PATH": str(config),
                                            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16)})
    server.extra["password"] = password
    try:
        yield server
    finally:
        stop_process_group(server.process)


def _outputs(pytester: pytest.Pytester, result: pytest.RunResult) -> list[str]:
    texts = [result.stdout.str(), result.stderr.str()]
    for folder in (pytester.path / "out", pytester.path / "audit-reports"):
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in folder.glob("*") if p.is_file()]
    return texts


def test_credentials_from_the_environment_reach_the_server(pytester, auth_server, audit_defaults, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.extra["password"])
    use_demo_policy(pytester)
    result = audit_in(pytester, auth_server.url, "not_registered_here")
    # Authenticated: the probe succeeded and the registry answered that it has no such model.
    result.stdout.fnmatch_lines([f"*model 'not_registered_here' is not in the registry at {auth_server.url}*"])
    assert not [t for t in _outputs(pytester, result) if auth_server.extra["password"] in t]
    no_traceback(result)


def test_blocked_with_one_line_when_the_credentials_are_wrong(pytester, auth_server, audit_defaults, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-password")
    use_demo_policy(pytester)
    started = time.monotonic()
    result = audit_in(pytester, auth_server.url, "cl_unimodal_v2")
    took = time.monotonic() - started
    line = _assert_one_clear_line(pytester, result, auth_server.url)
    assert "401" in line or "unauthorized" in line.lower() or "credentials" in line.lower(), line
    assert not [t for t in _outputs(pytester, result) if "not-the-password" in t]
    assert took < FAILURE_BOUND_S


if __name__ == "__main__":  # the training process of run_builder
    built = build_through_server(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    Path(sys.argv[3], "versions.json").write_text(json.dumps(built), encoding="utf-8")
