# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Serving: the endpoint contract as verified, the latency figures, and the drift table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import (
    DriftEvidence,
    LatencyEvidence,
    ServingContractEvidence,
    evidence_of,
)
from pytest_release_audit.report.format import count, number, p_value
from pytest_release_audit.report.model_card.common import capitalized, not_run_text, text_of

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import CheckResult

#: Features shown per drift comparison (the report has them all).
DRIFT_ROWS = 10


def _ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.1f} ms"


def _endpoint(check: CheckResult | None) -> str:
    evidence = evidence_of(check, ServingContractEvidence)
    if check is None or evidence is None:
        return capitalized(not_run_text("serving_contract", check))
    if not evidence.applicable or not evidence.endpoint:
        return "Not verified: no serving endpoint was given to the audit (not required by the policy)."
    served = evidence.served
    who = f"{text_of(served.model_name)} v{text_of(served.model_version)}" if served else "the model"
    run = f", run {text_of(served.source_run_id)}" if served and served.source_run_id else ""
    verdict = "verified" if check.outcome == "passed" else f"NOT verified ({text_of(check.summary)})"
    compared = f"; {evidence.rows_compared} evaluation rows scored identically" if evidence.rows_compared else ""
    return (f"Endpoint {text_of(evidence.endpoint)} ({text_of(evidence.protocol)} protocol) serves {who}{run}: "
            f"contract {verdict}{compared}.")


def _latency(check: CheckResult | None) -> tuple[list[dict[str, str]], str]:
    evidence = evidence_of(check, LatencyEvidence)
    if check is None or evidence is None or not evidence.stats:
        return [], capitalized(not_run_text("latency", check))
    limits = evidence.limits or {}
    p95 = limits.get("p95_ms")
    slo = f"p95 ≤ {float(p95):,.0f} ms" if p95 is not None else "—"
    rows = [{"kind": text_of(s.kind), "requests": count(s.requests), "p50": _ms(s.p50_ms), "p95": _ms(s.p95_ms),
             "p99": _ms(s.p99_ms), "slo": slo if s.rows_per_request == 1 else "—"} for s in evidence.stats]
    verdict = "within the SLO" if check.outcome == "passed" else "NOT within the SLO"
    where = text_of(evidence.measured_on)
    return rows, f"measured on the {where}, {verdict}; it includes {text_of(evidence.includes)}."


def _drift(check: CheckResult | None) -> tuple[list[dict[str, str]], str]:
    evidence = evidence_of(check, DriftEvidence)
    if check is None or evidence is None or not evidence.comparisons:
        return [], capitalized(not_run_text("drift", check))
    rows: list[dict[str, str]] = []
    for comparison in evidence.comparisons:
        for row in comparison.features[:DRIFT_ROWS]:
            rows.append({"sample": f"{text_of(comparison.sample)} ({count(comparison.rows)} rows)",
                         "feature": text_of(row.feature), "psi": number(row.psi, places=3),
                         "ks": p_value(row.ks_p_value) if row.ks_p_value is not None else "—",
                         "status": text_of(row.status)})
    shown = sum(min(len(c.features), DRIFT_ROWS) for c in evidence.comparisons)
    total = sum(len(c.features) for c in evidence.comparisons)
    more = f" The {total - shown} other features are in the audit report." if total > shown else ""
    return rows, f"Baseline: {text_of(evidence.baseline)}; production sample: {text_of(evidence.production)}.{more}"


def serving(checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    """The card's Serving section (plain data; the template escapes it)."""
    latency_rows, latency_note = _latency(checks.get("latency"))
    drift_rows, drift_note = _drift(checks.get("drift"))
    return {"endpoint": _endpoint(checks.get("serving_contract")), "latency": latency_rows,
            "latency_note": latency_note, "drift": drift_rows, "drift_note": drift_note}
