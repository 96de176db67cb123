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
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, Audit, build_registry

from pytest_release_audit.rules.serving import _endpoint_calls, assess_serving_contract, choose_endpoint, measure
from pytest_release_audit.serving.client import Endpoint
from pytest_release_audit.serving.contract import Expected, probe_contract

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
    # The server reads its store from argv: URIs an earlier test left in this worker's environment
    # (mlflow.set_registry_uri exports MLFLOW_REGISTRY_URI) must not point it elsewhere.
    inherited = {k: v for k, v in os.environ.items() if k not in {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"}}
    full_env = {**inherited, "MLFLOW_DISABLE_TELEMETRY": "true", **(env or {})}
    log_path = Path(tempfile.mkdtemp(prefix="server-log-")) / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
                raise AssertionError(f"server {argv[:4]} exited with {proc.returncode}:\n" + "\n".join(tail))
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
        shutil.rmtree(log_path.parent, ignore_errors=True)


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
    assert evidence["served"]["model_version"] == "1" and evidence["rows_compared"] == 20
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


def test_a_service_returning_p_of_the_negative_class_is_blocked(audit: Audit, registry: Path) -> None:
    with faulty(registry, "class0") as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract", subprocess=True)
    assert result.ret != 0
    line = one_line(result, "FAIL   serving_contract")
    assert "it returns 1 - p: P(negative class) instead of P(positive class)" in line
    assert audit.report()["status"] == "BLOCKED"


def test_a_service_right_only_on_the_rows_a_fixed_probe_sends_is_blocked(audit: Audit, registry: Path) -> None:
    """Correct on the first five evaluation rows, wrong elsewhere: the audit's rows are drawn at random
    from the whole evaluation set, and every timed latency reply is checked too."""
    with faulty(registry, "first-rows") as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract,latency",
                           subprocess=True)
    assert result.ret != 0
    line = one_line(result, "FAIL   serving_contract")
    assert "probability_positive_class differs from the audited model's own score" in line
    assert "answered without the audited model's prediction for the timed row" in check(audit, "latency")["summary"]
    assert audit.report()["status"] == "BLOCKED"


def test_an_mlflow_server_of_another_decision_rule_is_blocked(audit: Audit, registry: Path) -> None:
    """The MLflow protocol compares labels: they agree with the audited model's on most rows, so the
    whole evaluation set (up to 1,000 rows) is sent in one batch, not five rows."""
    add_policy(audit, f'[tool.release_audit.models.{MODEL}.serving]\nprotocol = "mlflow"\n')
    with server([sys.executable, str(FAULTS), "mlflow-other", "--port", "{port}", "--tracking-uri", _uri(registry)],
                "/ping") as url:
        result = audit.run(STAGING, f"--audit-endpoint={url}", "--audit-checks=serving_contract", subprocess=True)
    assert result.ret != 0
    line = one_line(result, "FAIL   serving_contract")
    assert "of 114 evaluation rows differently from the audited breast_cancer_classifier v1" in line


# -- the faults probed directly (the same probes the check runs, without a whole audit each) ----------
@pytest.fixture(scope="module")
def expected(registry: Path) -> Expected:
    """What the audited v1 answers for five evaluation rows (the model loaded here, in the test)."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import using_store

    with using_store(_uri(registry)):
        uri = f"models:/{MODEL}/1"
        model = mlflow.sklearn.load_model(uri)
        features = list(mlflow.models.get_model_info(uri).signature.inputs.input_names())
        run_id = MlflowClient().get_model_version(MODEL, "1").run_id
    rows = pd.read_csv(registry / "data" / "breast_cancer_test.csv")[features].head(5)
    return Expected(name=MODEL, version="1", run_id=run_id, features=features, rows=rows,
                    scores=[float(p) for p in model.predict_proba(rows)[:, 1]])


@pytest.mark.parametrize(("fault", "needle"), [
    ("no-validation", "does not validate its input: a request with a missing feature got HTTP 200"),
    ("class0", "it returns 1 - p: P(negative class) instead of P(positive class)"),
])
def test_probes_name_the_fault(registry: Path, expected: Expected, fault: str, needle: str) -> None:
    with faulty(registry, fault) as url:
        probed = probe_contract(Endpoint(url), expected)
    assert probed.problems and needle in probed.problems[0], probed.problems


def test_probes_pass_the_example_service(service: str, expected: Expected) -> None:
    probed = probe_contract(Endpoint(service), expected)
    assert probed.problems == [] and probed.compared == 5 and (probed.max_error or 0) <= 1e-6
    assert probed.served is not None and probed.served.model_version == "1"


def test_a_slow_service_is_timed_on_the_auditors_clock(registry: Path, expected: Expected) -> None:
    section = {"warmup": 1, "requests": 6, "batch_requests": 0, "max_seconds": 60.0}
    with faulty(registry, "slow") as url:
        single, batch = _endpoint_calls(Endpoint(url), "contract", expected.rows, expected.rows)
        singles, batches, stopped, _seconds = measure(single, batch, section)
    assert batch is None and batches == [] and not stopped
    assert len(singles) == 6 and min(singles) >= 250.0


def test_a_server_that_is_down_is_named(expected: Expected) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    probed = probe_contract(Endpoint(url), expected)
    assert "cannot be reached" in probed.problems[0] and "start the server" in probed.problems[0]


def test_required_for_the_target_without_an_endpoint_fails() -> None:
    from pytest_release_audit.policy import default_policy

    section = {**default_policy().section("serving"), "required": ["production"]}
    choice = choose_endpoint(None, section, "production")
    result = assess_serving_contract(None, None, None, section, choice)  # type: ignore[arg-type]
    assert not result.passed
    assert result.message.startswith("policy [serving] required lists production, but no endpoint is given")
    staging = assess_serving_contract(None, None, None, section, choose_endpoint(None, section, "staging"))  # type: ignore[arg-type]
    assert staging.passed and staging.summary.startswith("not applicable")


def test_the_token_is_refused_for_an_endpoint_the_ci_did_not_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_release_audit.errors import AuditConfigError
    from pytest_release_audit.rules import serving as rules

    monkeypatch.setattr(rules, "TRUSTED_ENV", {rules.TOKEN_ENV: TOKEN})
    choice = rules.EndpointChoice(url="http://attacker.example:8080", named_by="--audit-endpoint", required=True,
                                  required_by="--audit-endpoint")
    with pytest.raises(AuditConfigError, match="the token is sent only to the endpoint RELEASE_AUDIT_ENDPOINT names"):
        rules.open_endpoint(choice, 1.0)
    monkeypatch.setattr(rules, "TRUSTED_ENV", {rules.TOKEN_ENV: TOKEN, rules.ENDPOINT_ENV: "http://ci.example:1"})
    with pytest.raises(AuditConfigError):
        rules.open_endpoint(choice, 1.0)  # another origin than the CI's
    same = rules.EndpointChoice(url="http://ci.example:1/", named_by=rules.ENDPOINT_ENV, required=True,
                                required_by="")
    assert rules.open_endpoint(same, 1.0).authenticated


def test_the_token_goes_only_to_the_endpoint_the_ci_names(audit: Audit, registry: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_AUDIT_ENDPOINT_TOKEN", TOKEN)
    with faulty(registry, "auth", env={"SERVING_TOKEN": TOKEN}, headers={"Authorization": f"Bearer {TOKEN}"}) as url:
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


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1", "http://:8080", "ftp://host:1"])
def test_a_bad_endpoint_url_is_one_line(url: str) -> None:
    from pytest_release_audit.serving.client import EndpointError

    with pytest.raises(EndpointError, match="is not an http:// or https:// URL with a host and a port"):
        Endpoint(url)


def test_a_bad_timeout_and_json_nested_too_deep_are_handled() -> None:
    from pytest_release_audit.serving.client import EndpointError, Reply

    with pytest.raises(EndpointError, match=r"timeout -1\.0 s is not in \(0, 600\]"):
        Endpoint("http://127.0.0.1:8080", timeout_s=-1.0)
    assert Reply(status=200, body=b"[" * 200_000 + b"]" * 200_000, elapsed_ms=1.0).json() is None
