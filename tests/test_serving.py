# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""serving_contract and latency against real servers on loopback.

The example FastAPI service (``examples/serving/app.py``, uvicorn) and MLflow's own scoring server
(``mlflow models serve``) serve the demo's ``breast_cancer_classifier@staging``; the faulty
variants (``serving_faults.py``) each carry one real fault. Every fault is BLOCKED with one line.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, Audit, build_registry

pytestmark = pytest.mark.slow

MODEL = "breast_cancer_classifier"
STAGING = f"{MODEL}@staging"  # v1; v2 is registered but not deployed
APP = ROOT / "examples" / "serving" / "app.py"
FAULTS = ROOT / "tests" / "serving_faults.py"
TOKEN = "s3cret-serving-token-5521"  # noqa: S105 - a test token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(argv: list[str], ready: str, env: dict[str, str] | None = None, timeout_s: float = 120.0,
           headers: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``argv`` (which listens on the port in ``PORT``), wait until ``ready`` answers 200, yield the URL."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    full_env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **(env or {})}
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server {argv[:4]} exited with {proc.returncode}")
            try:
                request = urllib.request.Request(url + ready, headers=headers or {})
                with urllib.request.urlopen(request, timeout=2) as reply:  # noqa: S310 - loopback
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server {argv[:4]} not ready after {timeout_s:g} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo classifier v1 @staging, and v2: the same run registered again (a retrain not yet deployed)."""
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import using_store

    reg = build_registry(tmp_path_factory.mktemp("serving"), (MODEL,))
    with using_store(_uri(reg)):  # MLflow resolves a models:/m-... source through the global URI
        client = MlflowClient()
        v1 = client.get_model_version(MODEL, "1")
        client.create_model_version(MODEL, v1.source, run_id=v1.run_id)
    return reg


def _uri(registry: Path) -> str:
    return f"sqlite:///{registry / 'mlflow.db'}"


@pytest.fixture(scope="module")
def service(registry: Path) -> Iterator[str]:
    """The example service (uvicorn) on a loopback port, serving @staging (v1)."""
    with server([sys.executable, str(APP), "--port", "{port}", "--tracking-uri", _uri(registry)], "/health") as url:
        yield url


@contextmanager
def faulty(registry: Path, fault: str, **kwargs: object) -> Iterator[str]:
    argv = [sys.executable, str(FAULTS), fault, "--port", "{port}", "--tracking-uri", _uri(registry)]
    with server(argv, "/health", **kwargs) as url:  # type: ignore[arg-type]
        yield url


@pytest.fixture
def audit(pytester: pytest.Pytester, registry: Path, monkeypatch: pytest.MonkeyPatch) -> Audit:
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("RELEASE_AUDIT_ENDPOINT", "RELEASE_AUDIT_ENDPOINT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return Audit(pytester, registry)


def add_policy(audit: Audit, text: str) -> None:
    path = audit.pytester.path / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def check(audit: Audit, check_id: str) -> dict[str, object]:
    return next(c for c in audit.report()["checks"] if c["id"] == check_id)


def one_line(result: pytest.RunResult, needle: str) -> str:
    lines = [line for line in result.outlines if needle in line]
    assert len(lines) == 1, (needle, result.stdout.str()[-3000:])
    assert "Traceback" not in result.stdout.str()
    return lines[0]


def test_the_example_service_passes_and_every_report_shows_it(audit: Audit, service: str) -> None:
    result = audit.run(f"{MODEL}@staging", f"--audit-endpoint={service}", subprocess=True)
    assert result.ret == 0, result.stdout.str()[-3000:]
    report = audit.report()
    assert report["status"] == "READY"
    contract = check(audit, "serving_contract")
    assert contract["outcome"] == "passed"
    evidence = contract["evidence"]
    assert evidence["served"]["model_version"] == "1" and evidence["rows_compared"] == 5
    assert evidence["max_probability_error"] <= 1e-6
    assert {p["name"] for p in evidence["probes"]} == {"health", "model-info", "predict", "schema"}
    assert all(p["passed"] for p in evidence["probes"])
    latency = check(audit, "latency")
    assert latency["outcome"] == "passed" and latency["evidence"]["measured_on"] == f"endpoint {service}"
    assert latency["evidence"]["stats"][0]["requests"] == 50
    out = audit.out_dir
    card = (out / "model_card.md").read_text(encoding="utf-8")
    assert "## Serving" in card and f"{MODEL} v1" in card and "p95" in card
    html = (out / "audit_report.html").read_text(encoding="utf-8")
    assert "serving_contract" in html and "latency.png" in (out / "audit_report.json").read_text("utf-8")
    assert "serving_contract" in (out / "junit-audit.xml").read_text(encoding="utf-8")
    assert "serving_contract" in (out / "audit_report.md").read_text(encoding="utf-8")


def test_a_server_still_serving_the_old_version_is_blocked(audit: Audit, service: str) -> None:
    result = audit.run(f"{MODEL}/2", f"--audit-endpoint={service}", "--audit-checks=serving_contract",
                       subprocess=True)
    assert result.ret != 0
    line = one_line(result, "FAIL   serving_contract")
    assert "serves breast_cancer_classifier v1, not the audited breast_cancer_classifier v2 (same run" in line
    assert check(audit, "serving_contract")["outcome"] == "failed"


@pytest.mark.parametrize(("fault", "needle"), [
    ("no-validation", "does not validate its input: a request with a missing feature got HTTP 200"),
    ("class0", "it returns 1 - p: P(negative class) instead of P(positive class)"),
])
def test_a_faulty_service_is_blocked(audit: Audit, registry: Path, fault: str, needle: str) -> None:
    with faulty(registry, fault) as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract", subprocess=True)
    assert result.ret != 0
    assert needle in one_line(result, "FAIL   serving_contract")
    assert audit.report()["status"] == "BLOCKED"


def test_a_slow_service_misses_the_latency_slo(audit: Audit, registry: Path) -> None:
    add_policy(audit, f"[tool.release_audit.models.{MODEL}.latency]\np95_ms = 100\nrequests = 8\nwarmup = 1\n")
    with faulty(registry, "slow") as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract,latency",
                           subprocess=True)
    assert result.ret != 0
    line = one_line(result, "FAIL   latency")
    assert "above the SLO of 100 ms" in line and "over 8 requests" in line
    assert check(audit, "serving_contract")["outcome"] == "passed"  # slow, but correct
    stats = check(audit, "latency")["evidence"]["stats"][0]
    assert stats["p95_ms"] >= 250


def test_a_server_that_is_down_is_blocked(audit: Audit) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract,latency", subprocess=True)
    assert result.ret != 0
    assert "cannot be reached" in one_line(result, "FAIL   serving_contract")
    assert "cannot be reached" in one_line(result, "latency ")


def test_required_for_the_target_without_an_endpoint_is_blocked(audit: Audit) -> None:
    add_policy(audit, f'[tool.release_audit.models.{MODEL}.serving]\nrequired = ["staging"]\n')
    result = audit.run(STAGING, "--audit-checks=serving_contract", subprocess=True)
    assert result.ret != 0
    assert "no endpoint is given: pass --audit-endpoint=URL" in one_line(result, "FAIL   serving_contract")


def test_the_token_goes_only_to_the_endpoint_the_ci_names(audit: Audit, registry: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_AUDIT_ENDPOINT_TOKEN", TOKEN)
    with faulty(registry, "auth", env={"SERVING_TOKEN": TOKEN}, headers={"Authorization": f"Bearer {TOKEN}"}) as url:
        # named on the command line (which the audited repository's addopts can set): refused, token kept
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract", subprocess=True)
        assert result.ret != 0
        assert "the token is sent only to the endpoint RELEASE_AUDIT_ENDPOINT names" in result.stdout.str()
        # named by the CI: verified with the token
        monkeypatch.setenv("RELEASE_AUDIT_ENDPOINT", url)
        result = audit.run(STAGING, "--audit-checks=serving_contract,latency", subprocess=True)
    assert check(audit, "serving_contract")["outcome"] == "passed", result.stdout.str()[-3000:]
    assert check(audit, "latency")["outcome"] == "passed"
    assert TOKEN not in result.stdout.str() + result.stderr.str()
    for path in audit.pytester.path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_mlflow_models_serve_is_verified_by_its_answers(audit: Audit, registry: Path) -> None:
    mlflow_cli = [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{MODEL}@staging",
                  "--env-manager", "local", "--host", "127.0.0.1", "--port", "{port}"]
    add_policy(audit, f'[tool.release_audit.models.{MODEL}.serving]\nprotocol = "mlflow"\n')
    with server(mlflow_cli, "/ping", env={"MLFLOW_TRACKING_URI": _uri(registry)}, timeout_s=180) as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", subprocess=True)
    assert result.ret == 0, result.stdout.str()[-3000:]
    contract = check(audit, "serving_contract")
    assert contract["outcome"] == "passed"
    probes = {p["name"]: p for p in contract["evidence"]["probes"]}
    assert probes["invocations"]["passed"] and probes["schema"]["status"] in range(400, 500)
    latency = check(audit, "latency")["evidence"]
    assert [s["rows_per_request"] for s in latency["stats"]] == [1, 114]
    assert json.loads((audit.out_dir / "audit_report.json").read_text("utf-8"))["status"] == "READY"
