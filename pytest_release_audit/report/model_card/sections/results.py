# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Performance Metrics and Limitations & Bias: what the audit measured, and what the owner states."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import BiasEvidence, MetricRow, PerformanceEvidence, evidence_of
from pytest_release_audit.report.format import as_number, count, number, p_value
from pytest_release_audit.report.model_card.common import NOT_RECORDED, capitalized, ci_text, not_run_text, text_of
from pytest_release_audit.report.text import one_line

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import CheckResult

_LABELLED = re.compile(r"^([^:]{1,40}):\s+(.+)$")
_LIMITATIONS_HEADING = re.compile(r"^#{1,6}\s*(known\s+)?limitations?\b.*$", re.IGNORECASE)
_LIMITATIONS_LABEL = re.compile(r"(?:^|(?<=[.!?;]\s))(?:known\s+)?limitations?\s*:\s*(.*)$", re.IGNORECASE)
_BULLET = re.compile(r"^([-*+]|\d+[.)])\s+")


def _count_or_none(item: Any) -> str | None:
    return count(item) if as_number(item) is not None else None


def _versus(metric: MetricRow, has_baseline: bool) -> str:
    """The vs. Baseline cell: delta, its CI and the baseline's value, marked by the gate's verdict."""
    if not has_baseline:
        text = "no baseline"
    elif as_number(metric.delta) is None:
        text = "baseline not computed"
    else:
        parts = [number(metric.delta, signed=True, places=3)]
        delta_ci = ci_text(metric.delta_ci, signed=True)
        if delta_ci:
            parts.append(f"95% CI {delta_ci}")
        if as_number(metric.baseline) is not None:
            parts.append(f"baseline {number(metric.baseline, places=3)}")
        text = parts[0] + (f" ({'; '.join(parts[1:])})" if parts[1:] else "")
    if metric.gate is None:
        return text
    return f"✅ {text}" if metric.gate else f"❌ {text}"


def _verified_rows(evidence: PerformanceEvidence) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(table rows, Hugging Face metrics) for the metrics the performance gate recomputed."""
    rows: list[dict[str, str]] = []
    meta: list[dict[str, Any]] = []
    for metric in evidence.metrics:
        name = text_of(metric.name)
        if not name:
            continue
        label = text_of(metric.label) or name
        candidate = as_number(metric.candidate)
        rows.append({
            "metric": label,
            "value": number(candidate, places=3) if candidate is not None else NOT_RECORDED,
            "ci": ci_text(metric.candidate_ci) or NOT_RECORDED,
            "vs_baseline": _versus(metric, evidence.baseline is not None),
        })  # fmt: skip
        if candidate is not None:
            meta.append({"type": name, "value": round(candidate, 6), "name": label})
    hazard = evidence.hazard_ratio
    value = as_number(hazard.value) if hazard is not None else None
    if hazard is not None and value is not None:
        verdict = "not tested" if hazard.significant is None else (
            "Significant" if hazard.significant else "Not significant")  # fmt: skip
        p_text = p_value(hazard.p) if as_number(hazard.p) is not None else None
        rows.append({
            "metric": "Hazard Ratio",
            "value": number(value, places=2),
            "ci": ci_text(hazard.ci, places=2) or NOT_RECORDED,
            "vs_baseline": verdict + (f" ({p_text})" if p_text else ""),
        })  # fmt: skip
        meta.append({"type": "hazard_ratio", "value": round(value, 6), "name": "Hazard Ratio"})
    return rows, meta


def _verified_note(evidence: PerformanceEvidence) -> str:
    parts = []
    n, events = _count_or_none(evidence.n), _count_or_none(evidence.events)
    if n:
        parts.append(f"n = {n}" + (f", {events} events" if events else ""))
    base = evidence.baseline
    if base is not None:
        label = f"{text_of(base.name)} v{text_of(base.version)}" + (f" (@{text_of(base.alias)})" if base.alias else "")
        parts.append(f"baseline {label}")
    return "Recomputed on the evaluation data by the performance gate" + (f" ({'; '.join(parts)})" if parts else "")


def performance(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    """The Performance Metrics table: the gate's recomputed metrics, else the run's logged ones (unverified)."""
    gate = checks.get("performance_gate")
    evidence = evidence_of(gate, PerformanceEvidence) or PerformanceEvidence()
    rows, meta = _verified_rows(evidence)
    if rows:
        note = _verified_note(evidence)
    else:
        # Nothing verified: show what the run logged, clearly marked as unverified.
        logged = dict(handle.run.metrics) if handle is not None and handle.run is not None else {}
        rows = [{"metric": name, "value": number(logged[name], places=3), "ci": "not computed",
                 "vs_baseline": "not compared"} for name in sorted(logged)[:20]]  # fmt: skip
        reason = not_run_text("performance_gate", gate)
        note = f"As logged by the training run, not verified; {reason}" if rows else capitalized(reason)
    return {"rows": rows, "note": note, "verified": bool(meta), "metrics": meta, "task": text_of(evidence.task),
            "empty": not rows}  # fmt: skip


def _limitation(text: str) -> dict[str, str | None]:
    """``"Population: Trained on US patients"`` -> label ``Population`` + text (seed style)."""
    text = one_line(text)
    match = _LABELLED.match(text)
    if match and len(match.group(1).split()) <= 4:
        return {"label": match.group(1).strip(), "text": match.group(2).strip()}
    return {"label": None, "text": text}


def _description_limitations(description: str) -> list[str]:
    """Limitations stated in a registry description (Markdown or plain text).

    Reads a ``## Limitations`` heading's lines until the next heading, or a ``Limitations: ...``
    label (at a line or sentence start) and the list lines right after it.
    """
    items: list[str] = []
    inside = False
    for raw_line in description.splitlines():
        line = raw_line.strip()
        if _LIMITATIONS_HEADING.match(line):
            inside = True
            continue
        label = _LIMITATIONS_LABEL.search(line)
        if label and not line.startswith("#"):
            inside = True
            if label.group(1).strip():
                items.append(label.group(1).strip())
            continue
        if not inside:
            continue
        if line.startswith("#"):
            inside = False
            continue
        if not line:
            inside = not items  # a blank line ends the block once it has items
            continue
        items.append(_BULLET.sub("", line))
    return items


def _stated(handle: ModelHandle | None, policy: Mapping[str, Any]) -> list[str]:
    """Limitations the owner states: policy, version and model descriptions, the ``limitations`` tag."""
    stated = policy.get("limitations")
    found = [str(t) for t in stated if t is not None] if isinstance(stated, list | tuple) else []
    if handle is not None:
        for description in (handle.description, handle.model_description):
            found += _description_limitations(description or "")
        found += [t for t in re.split(r"[;\n]", text_of(handle.tag("limitations"))) if t.strip()]
    return found


def _subgroup_rows(evidence: BiasEvidence) -> list[dict[str, str]]:
    return [
        {
            "subgroup": f"{text_of(group.column)} = {text_of(group.value)}",
            "n": _count_or_none(group.n) or NOT_RECORDED,
            "events": _count_or_none(group.events) or NOT_RECORDED,
            "value": number(group.metric_value, places=3) if as_number(group.metric_value) is not None
            else NOT_RECORDED,
            "ci": ci_text(group.ci) or NOT_RECORDED,
            "status": text_of(group.status) or NOT_RECORDED,
        }
        for group in evidence.subgroups
    ]


def limitations(
    handle: ModelHandle | None, checks: Mapping[str, CheckResult], policy: Mapping[str, Any]
) -> dict[str, Any]:
    """Limitations & Bias: the stated limitations, the bias check's findings and subgroup table."""
    items: list[dict[str, str | None]] = []
    seen: set[str] = set()

    def add(entry: dict[str, str | None]) -> None:
        key = (entry["text"] or "").lower()
        if entry["text"] and key not in seen:
            seen.add(key)
            items.append(entry)

    for text in _stated(handle, policy):
        add(_limitation(text_of(text)))
    bias = checks.get("bias")
    evidence = evidence_of(bias, BiasEvidence) or BiasEvidence()
    for finding in evidence.findings:
        add({"label": "Bias", "text": one_line(finding)})
    subgroups = _subgroup_rows(evidence)
    bias_note = None
    if not (evidence.subgroups or evidence.findings or (bias is not None and bias.outcome == "passed")):
        bias_note = capitalized(not_run_text("bias", bias))
    elif not evidence.findings:
        metric = text_of(evidence.metric)
        bias_note = f"Bias analysis: no subgroup findings across {len(subgroups)} subgroups" + (
            f" ({metric})" if metric else ""
        )
    return {"items": items, "bias_subgroups": subgroups, "bias_metric": text_of(evidence.metric) or "Metric",
            "bias_note": bias_note}  # fmt: skip
