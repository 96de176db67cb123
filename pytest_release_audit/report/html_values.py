# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence as display blocks for ``audit_report.html``: key/value tables, record tables, JSON.

Every string is cleaned with ``report.text.clean`` and every number written by ``report.format``;
Jinja escapes the result. performance_gate's metrics are read through its evidence contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_release_audit.report.contracts import DriftEvidence, MetricRow, PerformanceEvidence
from pytest_release_audit.report.format import MISSING, as_number, interval, number, value
from pytest_release_audit.report.model import CheckResult
from pytest_release_audit.report.text import clean

#: Rows shown per evidence table before "N more rows".
MAX_TABLE_ROWS = 200
#: Characters of pretty JSON shown per evidence value.
MAX_JSON_CHARS = 20_000
#: Nested records shown in one table cell.
MAX_CELL_LINES = 8

_GOOD = {"pass", "passed", "ok", "ready", "within", "met", "true", "yes", "non-inferior", "superior", "clean"}
_BAD = {"fail", "failed", "blocked", "error", "false", "no", "violation", "flagged", "inferior", "missing"}
_WARN = {"warn", "warning", "skip", "skipped", "insufficient", "unknown", "n/a", "small", "low_n", "waived"}
_BADGE_COLUMNS = {"status", "gate", "outcome", "result", "verdict", "passed", "ok"}
_WORDS = {
    "ci": "CI", "id": "ID", "uri": "URI", "url": "URL", "p": "p", "sha256": "SHA-256", "pii": "PII",
    "auc": "AUC", "roc": "ROC", "sd": "SD", "mlflow": "MLflow", "psi": "PSI", "ks": "KS", "ms": "ms",
}  # fmt: skip
_TITLES = {
    "findings": "Findings (samples are masked)",
    "subgroups": "Subgroups",
    "hazard_ratio": "Hazard ratio",
    "chain": "Lineage chain",
}
_CELL_DEFAULTS: dict[str, Any] = {
    "text": MISSING, "sub": None, "badge": None, "mono": False, "num": False, "title": None, "lines": None,
}  # fmt: skip
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def clean_deep(item: Any) -> Any:
    """A copy of plain-JSON ``item`` with every string (keys too) cleaned."""
    if isinstance(item, str):
        return clean(item, multiline=True)
    if isinstance(item, dict):
        return {clean(k): clean_deep(v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [clean_deep(v) for v in item]
    return item


def looks_like_id(item: Any) -> bool:
    """Paths, URIs, hashes: long strings without spaces read best in monospace."""
    return isinstance(item, str) and len(item) > 24 and not any(c.isspace() for c in item)


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _is_interval(item: Any) -> bool:
    return isinstance(item, list | tuple) and len(item) == 2 and all(_is_number(v) for v in item)


def badge_class(item: Any) -> str | None:
    """``good``/``bad``/``warn`` for status-like values, else None."""
    if isinstance(item, bool):
        return "good" if item else "bad"
    if not isinstance(item, str):
        return None
    word = item.strip().lower()
    if word in _GOOD:
        return "good"
    if word in _BAD:
        return "bad"
    return "warn" if word in _WARN else None


def label(key: str) -> str:
    """``p_value`` -> ``p value``, ``candidate_ci`` -> ``Candidate CI``: a column or row heading."""
    words = [_WORDS.get(w.lower(), w) for w in clean(key).replace("_", " ").split()]
    if not words:
        return MISSING
    if words[0] not in _WORDS.values():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def short_hash(text: str) -> str:
    """A sha256 / run id shortened for a table (the full value stays in the title and the JSON)."""
    return text[:12] + "…" if _HEX.fullmatch(text) else text


def _pairs(record: dict[str, Any]) -> str:
    """``kind file_sha256 · match yes · logged 5e27c3d69098…``: one nested record on one line."""
    parts = []
    for key, item in record.items():
        text = short_hash(item) if isinstance(item, str) else value(item, limit=120)
        parts.append(f"{clean(key).replace('_', ' ')} {text}")
    return " · ".join(parts)


def _full(cell: dict[str, Any]) -> dict[str, Any]:
    """A table cell with every key the template reads."""
    return {**_CELL_DEFAULTS, **cell}


def _verdict_cell(verdict: Any) -> dict[str, Any]:
    if isinstance(verdict, bool):
        return {"text": "pass" if verdict else "fail", "badge": "good" if verdict else "bad"}
    return {"text": value(verdict), "badge": badge_class(verdict)}


def _cell(item: Any, column: str = "", *, short: bool = True) -> dict[str, Any]:
    badge = badge_class(item) if column.lower() in _BADGE_COLUMNS else None
    if isinstance(item, bool) and badge:
        return _verdict_cell(item)
    if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
        more = [f"… {len(item) - MAX_CELL_LINES} more"] if len(item) > MAX_CELL_LINES else []
        return {"text": "", "lines": [_pairs(v) for v in item[:MAX_CELL_LINES]] + more}
    if isinstance(item, dict) and item:
        return {"text": "", "lines": [_pairs(item)]}
    if isinstance(item, str) and _HEX.fullmatch(item):
        return {"text": short_hash(item) if short else item, "title": item, "mono": True}
    return {"text": value(item), "badge": badge, "mono": looks_like_id(item)}


def _with_ci(estimate: float | None, ci: Any, *, signed: bool = False) -> dict[str, Any]:
    """An estimate with its interval below it; estimates side by side share four decimals."""
    if as_number(estimate) is None:
        return {"text": MISSING}
    sub = interval(ci, places=4) if ci is not None else None
    return {"text": number(estimate, signed=signed, places=4), "sub": sub, "num": True}


def _metric_row(metric: MetricRow) -> list[dict[str, Any]]:
    name = metric.label or metric.name or "?"
    return [
        {"text": value(name), "sub": value(metric.name) if metric.label and metric.name else None},
        _with_ci(metric.candidate, metric.candidate_ci),
        _with_ci(metric.baseline, metric.baseline_ci),
        _with_ci(metric.delta, metric.delta_ci, signed=True),
        {"text": number(metric.logged, places=4), "num": True},
        _verdict_cell(metric.gate),
    ]


def metrics_table(evidence: PerformanceEvidence) -> dict[str, Any]:
    """performance_gate: one row per metric, estimates with their confidence intervals."""
    level = evidence.confidence
    shown = f"{level * 100:g}%" if level is not None and 0 < level < 1 else "95%"
    metrics = evidence.metrics
    return {
        "type": "table",
        "title": f"Metrics ({shown} confidence intervals below the estimates)",
        "columns": ["Metric", "Candidate", "Baseline", "Δ candidate − baseline", "Logged value", "Gate"],
        "num_cols": [False, True, True, True, True, False],
        "rows": [[_full(c) for c in _metric_row(m)] for m in metrics[:MAX_TABLE_ROWS]],
        "more": max(len(metrics) - MAX_TABLE_ROWS, 0),
    }


def _records_table(title: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    shown = records[:MAX_TABLE_ROWS]
    columns: list[str] = []
    for record in shown:
        columns += [k for k in record if k not in columns]
    # A column of numbers (and gaps) is right-aligned, heading included.
    num_cols = [
        any(_is_number(r.get(c)) for r in shown) and all(r.get(c) is None or _is_number(r.get(c)) for r in shown)
        for c in columns
    ]
    rows = [
        [_full({**_cell(r.get(c), c), "num": num}) for c, num in zip(columns, num_cols, strict=True)] for r in shown
    ]
    return {"type": "table", "title": title, "columns": [label(c) for c in columns], "num_cols": num_cols,
            "rows": rows, "more": max(len(records) - MAX_TABLE_ROWS, 0)}  # fmt: skip


def _kv_table(title: str | None, items: dict[str, Any]) -> dict[str, Any]:
    rows = [[_full({"text": label(k)}), _full(_cell(v, k, short=False))] for k, v in items.items()]
    return {"type": "kv", "title": title, "rows": rows}


def _json_block(title: str, item: Any) -> dict[str, Any]:
    text = json.dumps(item, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_JSON_CHARS:
        text = text[:MAX_JSON_CHARS] + "\n… (truncated: the full value is in audit_report.json)"
    return {"type": "json", "title": title, "text": text}


def _is_scalar(item: Any) -> bool:
    return item is None or isinstance(item, str | int | float | bool) or _is_interval(item)


def _flat(item: Any) -> bool:
    return _is_scalar(item) or (isinstance(item, list) and all(_is_scalar(v) for v in item))


def _fits_cell(item: Any) -> bool:
    """A value one table cell shows well: a scalar, a flat list, or (a list of) flat records."""
    if _flat(item):
        return True
    if isinstance(item, dict):
        return all(_flat(v) for v in item.values())
    return isinstance(item, list) and all(isinstance(v, dict) and all(_flat(x) for x in v.values()) for v in item)


def _block(title: str, item: Any) -> dict[str, Any]:
    """A record table, key/value table or JSON block for one non-scalar evidence value."""
    if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
        if all(_fits_cell(v) for rec in item for v in rec.values()):
            return _records_table(title, item)
    elif isinstance(item, dict) and item and all(_fits_cell(v) for v in item.values()):
        return _kv_table(title, item)
    return _json_block(title, item)


def evidence_blocks(check: CheckResult) -> list[dict[str, Any]]:
    """The check's evidence as display blocks: key/value tables, record tables, or pretty JSON."""
    evidence = clean_deep(check.evidence or {})
    headline: list[dict[str, Any]] = []  # performance_gate's metrics: shown before the run facts
    if check.id == "performance_gate":
        gate = PerformanceEvidence.from_dict(evidence)
        if gate.metrics:
            headline.append(metrics_table(gate))
            evidence.pop("metrics")
    if check.id == "drift" and isinstance(evidence.get("comparisons"), list):
        for comparison in DriftEvidence.from_dict(evidence).comparisons:
            title = (f"{comparison.sample} ({comparison.rows:,} rows) vs training ({comparison.reference_rows:,} "
                     f"rows): {len(comparison.drifted)} of {len(comparison.features)} features drifted")
            headline.append(_records_table(title, [row.to_dict() for row in comparison.features]))
        evidence.pop("comparisons")
    scalars: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    for key, item in evidence.items():
        if check.id == "lineage" and key == "chain" and isinstance(item, list) and item:
            blocks.append({"type": "lineage_link", "title": None})  # drawn once, in the Lineage section
        elif _is_scalar(item) or (isinstance(item, list) and all(_is_scalar(v) for v in item)):
            scalars[key] = item
        else:
            blocks.append(_block(_TITLES.get(key, label(key)), item))
    facts = [_kv_table(None, scalars)] if scalars else []
    return headline + facts + blocks
