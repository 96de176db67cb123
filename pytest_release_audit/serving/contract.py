# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The serving contract, probed on a live endpoint.

Two protocols:

* ``contract`` (seed 001, a FastAPI service): ``GET /health`` (status, model loaded),
  ``GET /model-info`` (model_name, model_stage, model_version, source_run_id,
  expected_feature_count, threshold, positive_class), ``POST /predict`` with
  ``{"features": {name: value}}`` answering ``probability_positive_class``, ``prediction`` and
  ``prediction_label``, and HTTP 422 with ``missing`` / ``extra`` lists for a wrong feature set.
* ``mlflow`` (``mlflow models serve``): ``GET /ping``, ``GET /version``, ``POST /invocations`` with
  ``dataframe_split``. MLflow's scoring server has no model-info: which version it serves is
  verified by its answers equalling the audited model's own on the same rows. Its schema
  enforcement refuses a missing input and, by design, ignores an extra one.

Every probe returns an ``EndpointProbe``; nothing the endpoint sends is printed unmasked (values
it echoes are numbers or masked text), and no data value leaves the evaluation rows sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import mask_values
from pytest_release_audit.report.contracts import EndpointProbe, ServedIdentity
from pytest_release_audit.serving.client import Endpoint, EndpointError, Reply

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The name of the feature no model has, sent to see that an extra input is refused.
EXTRA_FEATURE = "release_audit_unexpected_feature"
#: Fields every /predict answer carries (seed 001).
PREDICT_FIELDS = ("probability_positive_class", "prediction", "prediction_label")


@dataclass
class Expected:
    """What the audited model itself answers for the rows sent."""

    name: str
    version: str
    run_id: str | None
    features: list[str]
    rows: pd.DataFrame
    #: contract protocol: the audited model's score per row (binary: P(positive class))
    scores: list[float] = field(default_factory=list)
    #: mlflow protocol: the audited model's ``predict`` output per row (numbers or label texts)
    outputs: list[Any] = field(default_factory=list)
    kind: str = "binary"
    tolerance: float = 1e-6


@dataclass
class ProbeResult:
    probes: list[EndpointProbe] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    served: ServedIdentity | None = None
    max_error: float | None = None
    compared: int = 0

    def add(self, name: str, request: str, reply: Reply | None, passed: bool, detail: str,
            problem: str = "") -> None:
        self.probes.append(EndpointProbe(name=name, request=request, status=reply.status if reply else None,
                                         passed=passed, detail=mask_values(detail)[:300]))
        if not passed:
            self.problems.append(problem or detail)


def _plain(value: Any) -> Any:
    """A frame cell as a JSON value (numpy scalars unwrapped; NaN is never sent: rows are complete)."""
    if hasattr(value, "item"):
        value = value.item()
    return value


def row_payload(rows: pd.DataFrame, i: int) -> dict[str, Any]:
    return {str(c): _plain(v) for c, v in rows.iloc[i].items()}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _lists(body: Any) -> tuple[list[str] | None, list[str] | None]:
    """``missing`` / ``extra`` from a 422 body: at the top level or under FastAPI's ``detail``."""
    for candidate in (body, body.get("detail") if isinstance(body, dict) else None):
        if isinstance(candidate, dict) and ("missing" in candidate or "extra" in candidate):
            missing, extra = candidate.get("missing"), candidate.get("extra")
            return ([str(m) for m in missing] if isinstance(missing, list) else None,
                    [str(e) for e in extra] if isinstance(extra, list) else None)
    return None, None


def _get(endpoint: Endpoint, result: ProbeResult, name: str, path: str) -> Reply | None:
    try:
        return endpoint.request("GET", path)
    except EndpointError as exc:
        result.add(name, f"GET {path}", None, False, str(exc))
        return None


def _post(endpoint: Endpoint, result: ProbeResult, name: str, path: str, payload: Any) -> Reply | None:
    try:
        return endpoint.request("POST", path, payload)
    except EndpointError as exc:
        result.add(name, f"POST {path}", None, False, str(exc))
        return None


# -- contract protocol (seed 001) -------------------------------------------------------------------
def _health(endpoint: Endpoint, result: ProbeResult) -> bool:
    reply = _get(endpoint, result, "health", "/health")
    if reply is None:
        return False
    body = reply.json()
    loaded = isinstance(body, dict) and (body.get("model_loaded") is True or body.get("loaded") is True)
    if reply.status != 200 or not loaded:
        result.add("health", "GET /health", reply, False,
                   f"GET /health answered HTTP {reply.status}" + ("" if loaded else " without model_loaded: true"),
                   f"the endpoint {endpoint.shown} is not healthy (GET /health: HTTP {reply.status}"
                   f"{'' if loaded else ', no model loaded'}): start the service with the model loaded")
        return False
    status = str(body.get("status", "ok"))[:40]
    result.add("health", "GET /health", reply, True, f"status {status}, model loaded")
    return True


def _identity(body: dict[str, Any]) -> ServedIdentity:
    def text(key: str) -> str | None:
        value = body.get(key)
        return None if value is None else str(value)[:200]

    count = body.get("expected_feature_count")
    threshold = _number(body.get("threshold"))
    return ServedIdentity(
        model_name=text("model_name"), model_version=text("model_version"), source_run_id=text("source_run_id"),
        model_stage=text("model_stage"),
        expected_feature_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        threshold=threshold, positive_class=text("positive_class"),
    )


def _model_info(endpoint: Endpoint, result: ProbeResult, expected: Expected) -> ServedIdentity | None:
    reply = _get(endpoint, result, "model-info", "/model-info")
    if reply is None:
        return None
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        result.add("model-info", "GET /model-info", reply, False,
                   f"GET /model-info answered HTTP {reply.status}" + ("" if isinstance(body, dict) else ", not JSON"),
                   f"the endpoint {endpoint.shown} does not say which model it serves (GET /model-info: HTTP "
                   f"{reply.status}): implement /model-info with model_name, model_version and source_run_id")
        return None
    served = _identity(body)
    wrong = []
    if served.model_name != expected.name:
        wrong.append(f"model {served.model_name or '(none)'} instead of {expected.name}")
    if served.model_version != str(expected.version):
        wrong.append(f"version {served.model_version or '(none)'} instead of {expected.version}")
    if expected.run_id and served.source_run_id != expected.run_id:
        wrong.append(f"run {served.source_run_id or '(none)'} instead of {expected.run_id}")
    if served.expected_feature_count is not None and served.expected_feature_count != len(expected.features):
        wrong.append(f"{served.expected_feature_count} expected features instead of {len(expected.features)}")
    if wrong:
        who = f"{served.model_name} v{served.model_version}"
        runs = (f" (same run {str(expected.run_id)[:12]})" if served.source_run_id == expected.run_id else
                f" (run {str(served.source_run_id)[:12]}, audited run {str(expected.run_id)[:12]})")
        result.add("model-info", "GET /model-info", reply, False, "serves " + ", ".join(wrong),
                   f"the endpoint {endpoint.shown} serves {who}, not the audited {expected.name} v{expected.version}"
                   f"{runs}: deploy the audited version (serve its registry alias) or audit the served one")
    else:
        result.add("model-info", "GET /model-info", reply, True,
                   f"serves {served.model_name} v{served.model_version}, run {served.source_run_id}")
    return served


def _predictions(endpoint: Endpoint, result: ProbeResult, expected: Expected, served: ServedIdentity | None) -> None:
    errors: list[float] = []
    complement = 0
    for i in range(len(expected.rows)):
        request = f"POST /predict (evaluation row {i + 1})"
        reply = _post(endpoint, result, "predict", "/predict", {"features": row_payload(expected.rows, i)})
        if reply is None:
            return
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            result.add("predict", request, reply, False, f"answered HTTP {reply.status}",
                       f"POST /predict answered HTTP {reply.status} for a complete, valid row: the endpoint "
                       "cannot score the model's own input")
            return
        absent = [f for f in PREDICT_FIELDS if f not in body]
        if absent:
            result.add("predict", request, reply, False, "answer lacks " + ", ".join(absent),
                       f"POST /predict answers without {', '.join(absent)}: return probability_positive_class, "
                       "prediction and prediction_label (seed 001's contract)")
            return
        value = _number(body.get("probability_positive_class"))
        if value is None:
            result.add("predict", request, reply, False, "probability_positive_class is not a number",
                       "POST /predict returns a probability_positive_class that is not a number")
            return
        want = expected.scores[i]
        errors.append(abs(value - want))
        if abs((1.0 - value) - want) <= expected.tolerance < abs(value - want):
            complement += 1
        threshold = served.threshold if served and served.threshold is not None else None
        label = _number(body.get("prediction"))
        if threshold is not None and label is not None and int(label) != int(value >= threshold):
            result.add("predict", request, reply, False,
                       f"prediction {label} disagrees with probability {value:.4f} at threshold {threshold:g}",
                       f"POST /predict returns a prediction that is not probability >= threshold {threshold:g}: "
                       "the decision and the probability disagree")
            return
    result.compared = len(errors)
    result.max_error = max(errors) if errors else None
    worst = result.max_error or 0.0
    if worst > expected.tolerance:
        why = (" (it returns 1 - p: P(negative class) instead of P(positive class))" if complement == len(errors)
               else "")
        result.add("predict", f"POST /predict ({len(errors)} evaluation rows)", None, False,
                   f"probability differs from the audited model's by up to {worst:.4g}{why}",
                   f"the endpoint's probability_positive_class differs from the audited model's own score by up to "
                   f"{worst:.3g} (tolerance {expected.tolerance:g}) on {len(errors)} evaluation rows{why}: serve "
                   "predict_proba(X)[:, 1] of the audited version")
    else:
        result.add("predict", f"POST /predict ({len(errors)} evaluation rows)", None, True,
                   f"probability equals the audited model's score (max error {worst:.2g}), fields "
                   + ", ".join(PREDICT_FIELDS))


def _schema(endpoint: Endpoint, result: ProbeResult, expected: Expected) -> None:
    row = row_payload(expected.rows, 0)
    dropped = expected.features[0]
    cases: tuple[tuple[str, dict[str, Any], list[str], list[str]], ...] = (
        ("missing feature", {k: v for k, v in row.items() if k != dropped}, [dropped], []),
        ("extra feature", {**row, EXTRA_FEATURE: 0.0}, [], [EXTRA_FEATURE]),
    )
    for name, features, want_missing, want_extra in cases:
        request = f"POST /predict ({name})"
        reply = _post(endpoint, result, "schema", "/predict", {"features": features})
        if reply is None:
            return
        missing, extra = _lists(reply.json())
        good = reply.status == 422 and missing == want_missing and extra == want_extra
        if good:
            result.add("schema", request, reply, True, f"HTTP 422, missing {missing}, extra {extra}")
            continue
        got = (f"HTTP {reply.status}" + (f", missing {missing}, extra {extra}" if reply.status == 422 else ""))
        result.add("schema", request, reply, False, f"{got} (expected 422 with missing {want_missing}, extra "
                   f"{want_extra})",
                   f"the endpoint does not validate its input: a request with {'a ' + name} got {got}, expected "
                   f"HTTP 422 with missing {want_missing} and extra {want_extra}: enforce the exact feature set "
                   "before inference (seed 001)")


def probe_contract(endpoint: Endpoint, expected: Expected) -> ProbeResult:
    """Seed 001's contract: health, identity, scores equal to the audited model's, schema validation."""
    result = ProbeResult()
    if not _health(endpoint, result):
        return result
    result.served = _model_info(endpoint, result, expected)
    _predictions(endpoint, result, expected, result.served)
    _schema(endpoint, result, expected)
    return result


# -- mlflow protocol (mlflow models serve) ------------------------------------------------------------
def invocation(rows: pd.DataFrame) -> dict[str, Any]:
    """``rows`` as MLflow's ``dataframe_split`` request body."""
    return {"dataframe_split": {"columns": [str(c) for c in rows.columns],
                                "data": [[_plain(v) for v in row] for row in rows.itertuples(index=False)]}}


def _same(got: Any, want: Any, tolerance: float) -> bool:
    g, w = _number(got), _number(want)
    if g is not None and w is not None:
        return abs(g - w) <= tolerance
    return str(got) == str(want)


def probe_mlflow(endpoint: Endpoint, expected: Expected) -> ProbeResult:
    """MLflow's scoring server: alive, answers equal to the audited model's, a missing input refused."""
    result = ProbeResult()
    reply = _get(endpoint, result, "ping", "/ping")
    if reply is None:
        return result
    if reply.status != 200:
        result.add("ping", "GET /ping", reply, False, f"answered HTTP {reply.status}",
                   f"the MLflow scoring server {endpoint.shown} is not healthy (GET /ping: HTTP {reply.status})")
        return result
    result.add("ping", "GET /ping", reply, True, "alive")
    version = _get(endpoint, result, "version", "/version")
    if version is not None:
        text = version.body.decode("utf-8", "replace").strip()[:40]
        result.add("version", "GET /version", version, version.status == 200,
                   f"MLflow {mask_values(text)} (the scoring server does not name the model version: verified by "
                   "its answers)")
    reply = _post(endpoint, result, "invocations", "/invocations", invocation(expected.rows))
    if reply is None:
        return result
    body = reply.json()
    predictions = body.get("predictions") if isinstance(body, dict) else None
    if reply.status != 200 or not isinstance(predictions, list) or len(predictions) != len(expected.rows):
        result.add("invocations", f"POST /invocations ({len(expected.rows)} rows)", reply, False,
                   f"answered HTTP {reply.status}" + ("" if isinstance(predictions, list) else " without predictions"),
                   f"POST /invocations answered HTTP {reply.status} without one prediction per row: the scoring "
                   "server cannot score the model's own input")
        return result
    flat = [p[0] if isinstance(p, list) and len(p) == 1 else p for p in predictions]
    differ = [i for i, (g, w) in enumerate(zip(flat, expected.outputs, strict=True))
              if not _same(g, w, expected.tolerance)]
    result.compared = len(flat)
    numbers = [(_number(g), _number(w)) for g, w in zip(flat, expected.outputs, strict=True)]
    gaps = [abs(g - w) for g, w in numbers if g is not None and w is not None]
    result.max_error = max(gaps) if gaps else None
    if differ:
        result.add("invocations", f"POST /invocations ({len(flat)} rows)", reply, False,
                   f"{len(differ)} of {len(flat)} answers differ from the audited model's",
                   f"the MLflow scoring server {endpoint.shown} answers {len(differ)} of {len(flat)} evaluation rows "
                   f"differently from the audited {expected.name} v{expected.version}: it serves another model or "
                   "version: serve models:/NAME@ALIAS of the audited version")
    else:
        result.add("invocations", f"POST /invocations ({len(flat)} rows)", reply, True,
                   f"answers equal the audited {expected.name} v{expected.version}'s own on {len(flat)} rows")
    dropped = expected.features[0]
    reply = _post(endpoint, result, "schema", "/invocations", invocation(expected.rows.drop(columns=[dropped]).head(1)))
    if reply is None:
        return result
    if 400 <= reply.status < 500:
        result.add("schema", "POST /invocations (missing feature)", reply, True,
                   f"HTTP {reply.status}: a missing input is refused (MLflow ignores extra inputs by design)")
    else:
        result.add("schema", "POST /invocations (missing feature)", reply, False, f"answered HTTP {reply.status}",
                   f"the MLflow scoring server scored a request without input {dropped!r} (HTTP {reply.status}): log "
                   "the model with a signature (infer_signature) so the server enforces its inputs")
    return result
