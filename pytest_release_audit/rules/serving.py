# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The serving_contract and latency rules.

Which endpoint: ``RELEASE_AUDIT_ENDPOINT`` (the CI's environment, trusted), else
``--audit-endpoint``, else the policy's ``[serving] url``. The check is required for a target
when the CI names an endpoint, or the policy lists the target in ``[serving] required``; without
an endpoint and not required, it passes as not applicable and says so. The bearer token
(``RELEASE_AUDIT_ENDPOINT_TOKEN``) is sent only to the origin the CI named: an endpoint taken from
the command line or the policy, both of which the audited repository controls, never receives it.

Latency is measured by the auditor's own clock: on the endpoint when there is one, else as the
round trip to the model's worker process on evaluation rows (which includes the hand-over of the
rows to the worker, so it is an upper bound of the model's own time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_release_audit.isolation import TRUSTED_ENV
from pytest_release_audit.report.contracts import (
    LatencyEvidence,
    LatencyStats,
    ServedIdentity,
    ServingContractEvidence,
)
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.serving.client import Endpoint
    from pytest_release_audit.session import Scores

ENDPOINT_ENV = "RELEASE_AUDIT_ENDPOINT"
TOKEN_ENV = "RELEASE_AUDIT_ENDPOINT_TOKEN"  # noqa: S105 - the name of a variable, not a secret


@dataclass(frozen=True)
class EndpointChoice:
    """The endpoint an audit probes, where it was named, and whether it must be verified."""

    url: str
    named_by: str  # "RELEASE_AUDIT_ENDPOINT" | "--audit-endpoint" | "policy [serving] url" | ""
    required: bool
    required_by: str

    @property
    def given(self) -> bool:
        return bool(self.url)


def choose_endpoint(option: str | None, section: dict[str, Any], target: str) -> EndpointChoice:
    """The endpoint to probe (CI environment, then command line, then policy) and whether it is required."""
    ci = TRUSTED_ENV.get(ENDPOINT_ENV, "").strip()
    if ci:
        url, named_by = ci, ENDPOINT_ENV
    elif option:
        url, named_by = option.strip(), "--audit-endpoint"
    else:
        url, named_by = str(section["url"]).strip(), "policy [serving] url" if section["url"] else ""
    listed = target in tuple(section["required"])
    required = bool(ci) or listed or bool(url)
    by = (f"the CI's {ENDPOINT_ENV}" if ci else f"policy [serving] required lists {target}" if listed
          else named_by)
    return EndpointChoice(url=url, named_by=named_by, required=required, required_by=by)


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    except ValueError:  # not a URL: Endpoint() names it in one line
        return "", url, None


def open_endpoint(choice: EndpointChoice, timeout_s: float) -> Endpoint:
    """The ``Endpoint`` for ``choice``; the CI's token goes only to the CI's own endpoint."""
    from pytest_release_audit.errors import AuditConfigError
    from pytest_release_audit.serving.client import Endpoint

    token = TRUSTED_ENV.get(TOKEN_ENV) or None
    ci = TRUSTED_ENV.get(ENDPOINT_ENV, "").strip()
    if token and not (ci and _origin(ci) == _origin(choice.url)):
        raise AuditConfigError(
            f"{TOKEN_ENV} is set, but the endpoint was named by {choice.named_by}, not by the CI's {ENDPOINT_ENV}: "
            f"the token is sent only to the endpoint {ENDPOINT_ENV} names; set {ENDPOINT_ENV} in the CI definition"
        )
    return Endpoint(choice.url, timeout_s=timeout_s, token=token)


#: Rows the MLflow protocol compares in one ``/invocations`` batch (its answers are labels for a
#: classifier, so identity needs many rows, not a few).
MLFLOW_COMPARED_ROWS = 1000


def sample_rows(evaluation: LoadedDataset, n: int, *, at_random: bool = False) -> tuple[pd.DataFrame, list[int]]:
    """``n`` evaluation rows with every model input present (JSON has no NaN), and their positions.

    The first ``n`` by default; with ``at_random``, ``n`` drawn afresh on every audit from the whole
    evaluation set by the operating system's random source, so an endpoint cannot know in advance
    which rows will be compared (and answer only those correctly).
    """
    import secrets

    X = evaluation.X
    complete = [int(i) for i in X.notna().all(axis=1).to_numpy().nonzero()[0]]
    if at_random and len(complete) > n:
        positions = sorted(secrets.SystemRandom().sample(complete, n))
    else:
        positions = complete[:n]
    return X.iloc[positions].reset_index(drop=True), positions


def assess_serving_contract(handle: ModelHandle, evaluation: LoadedDataset | None, scores: Scores | None,
                            section: dict[str, Any], choice: EndpointChoice,
                            evaluation_error: str = "") -> RuleResult:
    """The live endpoint serves the audited version, with its scores, and validates its input."""
    from pytest_release_audit.serving.contract import Expected, probe_contract, probe_mlflow

    protocol = str(section["protocol"])
    required_for = tuple(section["required"])
    if not choice.given:
        evidence = ServingContractEvidence(
            applicable=not choice.required, endpoint=None, protocol=protocol, required_for=required_for,
            reason="no endpoint given")
        if choice.required:
            message = (f"{choice.required_by}, but no endpoint is given: pass --audit-endpoint=URL "
                       f"or set {ENDPOINT_ENV} in the CI (or [tool.release_audit.serving] url)")
            return RuleResult.failure(message, evidence)
        return RuleResult(evidence=evidence, passed=True,
                          summary="not applicable: no serving endpoint given (--audit-endpoint, "
                                  f"{ENDPOINT_ENV} or [serving] url) and the policy does not require one")
    endpoint = open_endpoint(choice, float(section["timeout_s"]))
    base = ServingContractEvidence(endpoint=endpoint.shown, protocol=protocol, required_for=required_for,
                                   tolerance=float(section["probability_tolerance"]))
    if evaluation is None or scores is None:
        return RuleResult.failure(f"the endpoint's answers cannot be compared: {evaluation_error}", base)
    wanted = int(section["rows"]) if protocol == "contract" else max(int(section["rows"]), MLFLOW_COMPARED_ROWS)
    rows, positions = sample_rows(evaluation, wanted, at_random=True)
    if rows.empty:
        return RuleResult.failure("no evaluation row has every model input (JSON cannot carry "
                                  "NaN): log complete evaluation rows", base)
    kind = evaluation.task.kind
    expected = Expected(name=handle.name, version=str(handle.version), run_id=handle.run_id,
                        features=[str(c) for c in rows.columns], rows=rows, kind=kind,
                        tolerance=float(section["probability_tolerance"]))
    if protocol == "contract":
        if kind != "binary":
            return RuleResult.failure(
                f"the contract protocol (probability_positive_class) describes a binary "
                f"classifier, and this is a {kind} model: set [tool.release_audit.serving] protocol = \"mlflow\"",
                base)
        expected.scores = [float(scores.candidate[i]) for i in positions]
        probed = probe_contract(endpoint, expected)
    else:
        from pytest_release_audit.handle.worker import pool

        output = pool().get(handle).predict(rows, method="predict")
        values = output.values.reshape(len(rows), -1)
        expected.outputs = [v[0].item() if len(v) == 1 else [x.item() for x in v] for v in values]
        probed = probe_mlflow(endpoint, expected)
    audited = ServedIdentity(model_name=handle.name, model_version=str(handle.version), source_run_id=handle.run_id,
                             expected_feature_count=len(expected.features))
    evidence = ServingContractEvidence(
        endpoint=endpoint.shown, protocol=protocol, required_for=required_for, probes=tuple(probed.probes),
        served=probed.served, audited=audited, rows_compared=probed.compared,
        max_probability_error=probed.max_error, tolerance=expected.tolerance)
    if probed.problems:
        message = probed.problems[0] + (
            f" (+{len(probed.problems) - 1} more problem{'s' if len(probed.problems) > 2 else ''})"
            if len(probed.problems) > 1 else "")
        return RuleResult(evidence=evidence, summary=message, passed=False, message=message)
    passed = sum(1 for p in probed.probes if p.passed)
    if protocol == "contract":
        what = (f"serves {handle.name} v{handle.version} (run {(handle.run_id or '')[:12]}); {passed} probes "
                f"passed: health, identity, scores equal within {expected.tolerance:g} on {probed.compared} "
                "evaluation rows drawn at random, schema validation")
    else:
        what = (f"answers as {handle.name} v{handle.version} (MLflow scoring server); {passed} probes passed: "
                f"alive, answers equal to the audited model's predict on {probed.compared} evaluation rows drawn "
                f"at random (within {expected.tolerance:g}), a missing input refused")
    return RuleResult(evidence=evidence, passed=True, summary=f"{endpoint.shown} {what}")


# -- latency ------------------------------------------------------------------------------------------
def _stats(kind: str, times_ms: list[float], rows: int) -> LatencyStats:
    import numpy as np

    if not times_ms:
        return LatencyStats(kind=kind, requests=0, rows_per_request=rows)
    arr = np.asarray(times_ms, dtype=float)
    mean = float(arr.mean())

    def q(p: float) -> float:
        return round(float(np.percentile(arr, p)), 3)

    return LatencyStats(kind=kind, requests=len(times_ms), rows_per_request=rows, p50_ms=q(50), p95_ms=q(95),
                        p99_ms=q(99), mean_ms=round(mean, 3), max_ms=round(float(arr.max()), 3),
                        throughput_rps=round(1000.0 / mean, 2) if mean > 0 else None,
                        rows_per_s=round(rows * 1000.0 / mean, 1) if mean > 0 else None)


def measure(single: Callable[[int], None], batch: Callable[[int], None] | None, section: dict[str, Any],
            clock: Callable[[], float] = time.perf_counter) -> tuple[list[float], list[float], bool, float]:
    """Time ``single(i)`` and ``batch(i)`` calls (warm-up first, not counted) within ``max_seconds``."""
    started = clock()
    budget = float(section["max_seconds"])
    for i in range(int(section["warmup"])):
        single(i)
    out: tuple[list[float], list[float]] = ([], [])
    stopped = False
    plan = [(0, i) for i in range(int(section["requests"]))]
    if batch is not None:
        plan += [(1, i) for i in range(int(section["batch_requests"]))]
    for which, i in plan:
        if clock() - started > budget:
            stopped = True
            break
        call = single if which == 0 else batch
        assert call is not None
        t0 = clock()
        call(i)
        out[which].append((clock() - t0) * 1000.0)
    return out[0], out[1], stopped, clock() - started


def _endpoint_calls(endpoint: Endpoint, protocol: str, rows: pd.DataFrame, batch_rows: pd.DataFrame,
                    expected: list[float] | None = None, tolerance: float = 1e-6,
                    ) -> tuple[Callable[[int], None], Callable[[int], None] | None]:
    """The timed requests. Every reply is checked: HTTP 200, one answer per row and, on the contract
    protocol with ``expected`` scores, the audited model's probability (a fast reply that is not the
    model's answer is not a latency)."""
    from pytest_release_audit.errors import AuditError
    from pytest_release_audit.serving.contract import invocation, row_payload

    def check(reply: Any, what: str, size: int = 1, want: float | None = None) -> None:
        if reply.status != 200:
            raise AuditError(f"latency: {what} on {endpoint.shown} answered HTTP {reply.status}: the endpoint "
                             "cannot be timed (see serving_contract)")
        body = reply.json()
        if protocol == "contract":
            value = body.get("probability_positive_class") if isinstance(body, dict) else None
            good = isinstance(value, (int, float)) and not isinstance(value, bool) and (
                want is None or abs(float(value) - want) <= tolerance)
        else:
            answers = body.get("predictions") if isinstance(body, dict) else None
            good = isinstance(answers, list) and len(answers) == size
        if not good:
            raise AuditError(f"latency: {what} on {endpoint.shown} answered without the audited model's prediction "
                             "for the timed row: a reply that is not the model's answer cannot be timed (see "
                             "serving_contract)")

    if protocol == "contract":
        def single(i: int) -> None:
            k = i % len(rows)
            check(endpoint.request("POST", "/predict", {"features": row_payload(rows, k)}), "POST /predict",
                  want=None if expected is None else expected[k])

        return single, None
    singles = [invocation(rows.iloc[[i]]) for i in range(len(rows))]
    batch_body = invocation(batch_rows)

    def single_mlflow(i: int) -> None:
        check(endpoint.request("POST", "/invocations", singles[i % len(singles)]), "POST /invocations")

    def batch_mlflow(_i: int) -> None:
        check(endpoint.request("POST", "/invocations", batch_body), "POST /invocations (batch)", len(batch_rows))

    return single_mlflow, batch_mlflow


def assess_latency(handle: ModelHandle, evaluation: LoadedDataset, section: dict[str, Any],
                   serving: dict[str, Any], choice: EndpointChoice, out_dir: Path, target: str = "",
                   scores: Scores | None = None) -> RuleResult:
    """p50 / p95 / p99 of single-row (and batch) predictions against the policy's SLO.

    For production the SLO is never looser than seed 002's 2000 ms, whatever the policy says.
    """
    from pytest_release_audit.metrics.plots import latency_histogram
    from pytest_release_audit.policy.operations import PRODUCTION_P95_MS

    section = dict(section)
    capped = ""
    if target == "production" and float(section["p95_ms"]) > PRODUCTION_P95_MS:
        capped = (f" (policy p95_ms {section['p95_ms']:g} is looser than seed 002's production SLO: "
                  f"{PRODUCTION_P95_MS:g} ms applies)")
        section["p95_ms"] = PRODUCTION_P95_MS
    rows, positions = sample_rows(evaluation, 50, at_random=choice.given)
    X = evaluation.X
    batch_size = max(1, min(int(section["batch_size"]), len(X)))
    limits = {"p95_ms": section["p95_ms"], "p99_ms": section["p99_ms"],
              "min_throughput_rps": section["min_throughput_rps"]}
    if rows.empty:
        return RuleResult.failure("latency: no evaluation row has every model input: log complete evaluation rows",
                                  LatencyEvidence(limits=limits))
    if choice.given:
        endpoint = open_endpoint(choice, float(serving["timeout_s"]))
        protocol = str(serving["protocol"])
        batch_rows = sample_rows(evaluation, batch_size, at_random=True)[0] if protocol == "mlflow" else rows
        wanted = None
        if protocol == "contract" and scores is not None and evaluation.task.kind == "binary":
            wanted = [float(scores.candidate[i]) for i in positions]
        single, batch = _endpoint_calls(endpoint, protocol, rows, batch_rows, wanted,
                                        float(serving["probability_tolerance"]))
        where = f"endpoint {endpoint.shown}"
        includes = "the HTTP round trip from the auditor: connection, serialisation, server and model"
    else:
        from pytest_release_audit.handle.worker import pool

        worker = pool().get(handle)
        frames = [X.iloc[[i]] for i in range(min(len(X), 50))]
        batch_frame = X.iloc[:batch_size]

        def single(i: int) -> None:
            worker.predict(frames[i % len(frames)])

        def batch(_i: int) -> None:
            worker.predict(batch_frame)

        where = "model worker"
        includes = ("the round trip from the auditor to the model's worker process: hand-over of the rows, "
                    "predict and hand-back, an upper bound of the model's own time")
    singles, batches, stopped, seconds = measure(single, batch, section)
    stats = [_stats("single row", singles, 1)]
    if batches:
        stats.append(_stats(f"batch of {batch_size} rows", batches, batch_size))
    plot = latency_histogram(singles, batches, batch_size, float(section["p95_ms"]), out_dir / "latency.png")
    evidence = LatencyEvidence(measured_on=where, includes=includes, warmup=int(section["warmup"]), limits=limits,
                               stats=tuple(stats), stopped_early=stopped, seconds=round(seconds, 3))
    one = stats[0]
    problems: list[str] = []
    if one.requests == 0:
        problems.append("no single-row request was measured: raise [latency] requests or max_seconds")
    else:
        assert one.p95_ms is not None and one.p99_ms is not None
        if one.p95_ms > float(section["p95_ms"]):
            problems.append(f"p95 {one.p95_ms:,.1f} ms above the SLO of {section['p95_ms']:g} ms")
        if section["p99_ms"] is not None and one.p99_ms > float(section["p99_ms"]):
            problems.append(f"p99 {one.p99_ms:,.1f} ms above {section['p99_ms']:g} ms")
        floor = section["min_throughput_rps"]
        if floor is not None and (one.throughput_rps or 0.0) < float(floor):
            problems.append(f"{one.throughput_rps or 0:g} requests/s below the floor of {floor:g}")
    figures = (f"single row p50 {one.p50_ms or 0:,.1f} / p95 {one.p95_ms or 0:,.1f} / p99 {one.p99_ms or 0:,.1f} ms "
               f"over {one.requests} requests")
    if len(stats) > 1:
        b = stats[1]
        figures += f"; batch of {batch_size}: p95 {b.p95_ms or 0:,.1f} ms ({b.rows_per_s or 0:,.0f} rows/s)"
    tail = f" (stopped after {section['max_seconds']:g} s)" if stopped else ""
    result = RuleResult(evidence=evidence, attachments=[plot] if plot else [])
    if problems:
        result.passed = False
        result.message = result.summary = (f"Latency on the {where}: " + "; ".join(problems) + f" ({figures}{tail}): "
                                           "make the model or service faster, or scale it out" + capped)
    else:
        result.summary = f"{figures} on the {where}{tail}; SLO p95 <= {section['p95_ms']:g} ms{capped}"
    return result
