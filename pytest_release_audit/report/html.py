# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``audit_report.html``: one self-contained page (inline CSS, images as data URIs, no scripts).

The page is rendered by a Jinja template with autoescaping on. Everything the template sees is
prepared here as plain strings (ANSI escapes and control characters stripped) and escaped by Jinja;
nothing is marked safe, so a ``<script>`` or ``{{ }}`` in a model name, summary or evidence value
is shown as text. A Content-Security-Policy meta tag forbids scripts and any non-``data:`` image
as a second line of defence, and keeps the page from fetching anything.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pytest_release_audit.report.model import AuditResult, CheckResult

TEMPLATE_NAME = "audit_report.html.j2"
#: Rows shown per evidence table before "N more rows".
MAX_TABLE_ROWS = 200
#: Characters of pretty JSON shown per evidence value.
MAX_JSON_CHARS = 20_000
#: Nested records shown in one table cell.
MAX_CELL_LINES = 8
#: Largest image embedded as a data URI.
MAX_IMAGE_BYTES = 8 * 1024 * 1024

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_GOOD = {"pass", "passed", "ok", "ready", "within", "met", "true", "yes", "non-inferior", "superior", "clean"}
_BAD = {"fail", "failed", "blocked", "error", "false", "no", "violation", "flagged", "inferior", "missing"}
_WARN = {"warn", "warning", "skip", "skipped", "insufficient", "unknown", "n/a", "small", "low_n", "waived"}
_BADGE_COLUMNS = {"status", "gate", "outcome", "result", "verdict", "passed", "ok"}
_OUTCOME_LABEL = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "skipped": "skipped",
    "waived": "waived",
    "not_run": "did not run",
}


# -- making values inert and readable ------------------------------------------------------------
def clean(text: object, *, multiline: bool = False) -> str:
    """``text`` without ANSI escapes and control characters; one line unless ``multiline``."""
    value = _ANSI.sub("", str(text))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        return _CONTROL.sub("", value.replace("\t", "    "))
    return " ".join(_CONTROL.sub(" ", value.replace("\n", " ")).split())


def clean_deep(value: Any) -> Any:
    """A copy of plain-JSON ``value`` with every string (keys too) cleaned."""
    if isinstance(value, str):
        return clean(value, multiline=True)
    if isinstance(value, dict):
        return {clean(k): clean_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_deep(v) for v in value]
    return value


def fmt_number(value: float | int) -> str:
    """A number for people: ints as is, floats with up to 4 decimals (or 3 significant digits)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if value != value:  # NaN never reaches plain JSON, but a user's check may hand us one
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    return f"{value:.3g}"


def _looks_like_id(value: Any) -> bool:
    """Paths, URIs, hashes: long strings without spaces read best in monospace."""
    return isinstance(value, str) and len(value) > 24 and not any(c.isspace() for c in value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_interval(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def fmt_value(value: Any, limit: int = 400) -> str:
    """One line for any evidence value: numbers rounded, intervals ``[a, b]``, others compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, (bool, int, float)):
        return fmt_number(value)
    if _is_interval(value):
        return f"[{fmt_number(value[0])}, {fmt_number(value[1])}]"
    if isinstance(value, str):
        text = clean(value)
    elif isinstance(value, (list, tuple, dict)) and not value:
        text = "none"
    elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        text = ", ".join(fmt_value(v, limit) for v in value)
    else:
        text = clean(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge_class(value: Any) -> str | None:
    """``good``/``bad``/``warn`` for status-like values, else None."""
    if isinstance(value, bool):
        return "good" if value else "bad"
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in _GOOD:
        return "good"
    if word in _BAD:
        return "bad"
    if word in _WARN:
        return "warn"
    return None


_WORDS = {
    "ci": "CI",
    "id": "ID",
    "uri": "URI",
    "url": "URL",
    "p": "p",
    "sha256": "SHA-256",
    "pii": "PII",
    "auc": "AUC",
    "roc": "ROC",
    "sd": "SD",
    "mlflow": "MLflow",
}


def _label(key: str) -> str:
    """``p_value`` -> ``p value``, ``candidate_ci`` -> ``Candidate CI``: a column or row heading."""
    words = [_WORDS.get(w.lower(), w) for w in clean(key).replace("_", " ").split()]
    if not words:
        return "-"
    first = words[0]
    if first not in _WORDS.values():
        words[0] = first[:1].upper() + first[1:]
    return " ".join(words)


def anchor_for(check_id: str, used: set[str]) -> str:
    """A unique, URL-safe fragment id for a check."""
    base = "check-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", check_id).strip("-") or "x")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


# -- evidence blocks -------------------------------------------------------------------------------
_CELL_DEFAULTS: dict[str, Any] = {
    "text": "-", "sub": None, "badge": None, "mono": False, "num": False, "title": None, "lines": None,
}  # fmt: skip
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def _short_hash(text: str) -> str:
    """A sha256 / run id shortened for a table (the full value stays in the title and the JSON)."""
    return text[:12] + "…" if _HEX.fullmatch(text) else text


def _pairs(record: dict[str, Any]) -> str:
    """``kind file_sha256 · match yes · logged 5e27c3d69098…``: one nested record on one line."""
    parts = []
    for key, value in record.items():
        text = _short_hash(value) if isinstance(value, str) else fmt_value(value, 120)
        parts.append(f"{clean(key).replace('_', ' ')} {text}")
    return " · ".join(parts)


def _full(cell: dict[str, Any]) -> dict[str, Any]:
    """A table cell with every key the template reads."""
    return {**_CELL_DEFAULTS, **cell}


def _cell(value: Any, column: str = "", *, short: bool = True) -> dict[str, Any]:
    badge = badge_class(value) if column.lower() in _BADGE_COLUMNS else None
    if isinstance(value, bool) and badge:
        return {"text": "pass" if value else "fail", "badge": badge}
    if isinstance(value, dict) and column.lower() == "gate":
        return _gate_cell(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return {
            "text": "",
            "lines": [_pairs(v) for v in value[:MAX_CELL_LINES]]
            + ([f"… {len(value) - MAX_CELL_LINES} more"] if len(value) > MAX_CELL_LINES else []),
        }
    if isinstance(value, dict) and value:
        return {"text": "", "lines": [_pairs(value)]}
    if isinstance(value, str) and _HEX.fullmatch(value):
        return {"text": _short_hash(value) if short else value, "title": value, "mono": True}
    return {"text": fmt_value(value), "badge": badge, "mono": _looks_like_id(value)}


def _gate_cell(gate: Any) -> dict[str, Any]:
    if isinstance(gate, dict):
        verdict = next((gate[k] for k in ("status", "result", "passed", "ok") if k in gate), None)
        rest = {k: v for k, v in gate.items() if k not in ("status", "result", "passed", "ok")}
        sub = ", ".join(f"{clean(k)} {fmt_value(v, 60)}" for k, v in rest.items())
        if isinstance(verdict, bool):
            return {"text": "pass" if verdict else "fail", "badge": "good" if verdict else "bad", "sub": sub}
        if verdict is not None:
            return {"text": fmt_value(verdict), "badge": badge_class(verdict), "sub": sub}
        return {"text": sub or "-"}
    if isinstance(gate, bool):
        return {"text": "pass" if gate else "fail", "badge": "good" if gate else "bad"}
    return {"text": fmt_value(gate), "badge": badge_class(gate)}


def _fixed(value: Any) -> str:
    """Estimates side by side read best with the same number of decimals."""
    if _is_number(value) and value == value and 1e-3 <= abs(value) < 1e4:
        return f"{value:.4f}"
    return fmt_value(value)


def _with_ci(value: Any, ci: Any, signed: bool = False) -> dict[str, Any]:
    if value is None:
        return {"text": "-"}
    text = _fixed(value)
    if signed and _is_number(value) and value > 0:
        text = "+" + text
    sub = f"[{_fixed(ci[0])}, {_fixed(ci[1])}]" if _is_interval(ci) else (fmt_value(ci) if ci is not None else None)
    return {"text": text, "sub": sub, "num": True}


def _metrics_table(metrics: list[dict[str, Any]], confidence: Any = None) -> dict[str, Any]:
    """performance_gate: one row per metric, estimates with their confidence intervals."""
    level = f"{confidence * 100:g}%" if _is_number(confidence) and 0 < confidence < 1 else "95%"
    rows = []
    for m in metrics[:MAX_TABLE_ROWS]:
        name = m.get("label") or m.get("name") or "?"
        rows.append(
            [
                {
                    "text": fmt_value(name),
                    "sub": fmt_value(m["name"]) if m.get("label") and m.get("name") else None,
                },
                _with_ci(m.get("candidate"), m.get("candidate_ci")),
                _with_ci(m.get("baseline"), m.get("baseline_ci")),
                _with_ci(m.get("delta"), m.get("delta_ci"), signed=True),
                {"text": _fixed(m.get("logged")), "num": True},
                _gate_cell(m.get("gate")),
            ]
        )
    return {
        "type": "table",
        "title": f"Metrics ({level} confidence intervals below the estimates)",
        "columns": ["Metric", "Candidate", "Baseline", "Δ candidate − baseline", "Logged value", "Gate"],
        "num_cols": [False, True, True, True, True, False],
        "rows": [[_full(c) for c in row] for row in rows],
        "more": max(len(metrics) - MAX_TABLE_ROWS, 0),
    }


def _records_table(title: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    for record in records[:MAX_TABLE_ROWS]:
        columns += [k for k in record if k not in columns]
    shown = records[:MAX_TABLE_ROWS]
    # A column of numbers (and gaps) is right-aligned, heading included.
    num_cols = [
        any(_is_number(r.get(c)) for r in shown) and all(r.get(c) is None or _is_number(r.get(c)) for r in shown)
        for c in columns
    ]
    rows = [
        [_full({**_cell(r.get(c), c), "num": num}) for c, num in zip(columns, num_cols, strict=True)] for r in shown
    ]
    return {
        "type": "table",
        "title": title,
        "columns": [_label(c) for c in columns],
        "num_cols": num_cols,
        "rows": rows,
        "more": max(len(records) - MAX_TABLE_ROWS, 0),
    }


def _kv_table(title: str | None, items: dict[str, Any]) -> dict[str, Any]:
    rows = [[_full({"text": _label(k)}), _full(_cell(v, k, short=False))] for k, v in items.items()]
    return {"type": "kv", "title": title, "rows": rows}


def _json_block(title: str, value: Any) -> dict[str, Any]:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_JSON_CHARS:
        text = text[:MAX_JSON_CHARS] + "\n… (truncated: the full value is in audit_report.json)"
    return {"type": "json", "title": title, "text": text}


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool)) or _is_interval(value)


def _flat(value: Any) -> bool:
    return _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(v) for v in value))


def _fits_cell(value: Any) -> bool:
    """A value one table cell shows well: a scalar, a flat list, or (a list of) flat records."""
    if _flat(value):
        return True
    if isinstance(value, dict):
        return all(_flat(v) for v in value.values())
    return isinstance(value, list) and all(isinstance(v, dict) and all(_flat(x) for x in v.values()) for v in value)


_TITLES = {
    "findings": "Findings (samples are masked)",
    "subgroups": "Subgroups",
    "hazard_ratio": "Hazard ratio",
    "chain": "Lineage chain",
}


def evidence_blocks(check: CheckResult) -> list[dict[str, Any]]:
    """The check's evidence as display blocks: key/value tables, record tables, or pretty JSON."""
    evidence = clean_deep(check.evidence or {})
    scalars: dict[str, Any] = {}
    headline: list[dict[str, Any]] = []  # performance_gate's metrics: shown before the run facts
    blocks: list[dict[str, Any]] = []
    for key, value in evidence.items():
        title = _TITLES.get(key, _label(key))
        if check.id == "lineage" and key == "chain" and isinstance(value, list) and value:
            blocks.append({"type": "lineage_link", "title": None})  # drawn once, in the Lineage section
        elif _is_scalar(value):
            scalars[key] = value
        elif (
            key == "metrics"
            and isinstance(value, list)
            and value
            and all(isinstance(m, dict) and ("candidate" in m or "baseline" in m) for m in value)
        ):
            headline.append(_metrics_table(value, evidence.get("confidence")))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            if all(_fits_cell(v) for rec in value for v in rec.values()):
                blocks.append(_records_table(title, value))
            else:
                blocks.append(_json_block(title, value))
        elif isinstance(value, list) and all(_is_scalar(v) for v in value):
            scalars[key] = value
        elif isinstance(value, dict) and value and all(_fits_cell(v) for v in value.values()):
            blocks.append(_kv_table(title, value))
        else:
            blocks.append(_json_block(title, value))
    facts = [_kv_table(None, scalars)] if scalars else []
    return headline + facts + blocks


# -- artifacts -------------------------------------------------------------------------------------
def _artifacts(check: CheckResult, out_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(images as data URIs, other files as relative links) for a check's attached files.

    Only files inside ``out_dir`` are read: an artifact path cannot pull another file into the page.
    """
    images: list[dict[str, str]] = []
    files: list[dict[str, Any]] = []
    root = out_dir.resolve()
    for raw in check.artifacts:
        name = clean(raw)
        path = Path(raw)
        path = (path if path.is_absolute() else out_dir / path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            files.append({"name": name, "href": None, "note": "not found in the report directory"})
            continue
        rel = path.relative_to(root).as_posix()
        mime = None
        if path.stat().st_size <= MAX_IMAGE_BYTES:
            with path.open("rb") as fh:
                head = fh.read(16)
            mime = next((m for magic, m in _IMAGE_MAGIC if head.startswith(magic)), None)
        if mime:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            images.append({"name": clean(rel), "src": f"data:{mime};base64,{data}"})
        else:
            files.append({"name": clean(rel), "href": "./" + quote(rel), "note": None})
    return images, files


# -- the page --------------------------------------------------------------------------------------
def _lineage(result: AuditResult) -> list[dict[str, Any]] | None:
    check = result.check("lineage")
    chain = (check.evidence or {}).get("chain") if check else None
    if not isinstance(chain, list) or not chain:
        return None
    nodes = []
    for raw in clean_deep(chain):
        if not isinstance(raw, dict):
            nodes.append({"kind": "", "kind_class": "", "name": fmt_value(raw), "role": "", "details": []})
            continue
        details = [
            {
                "key": _label(k),
                "value": _short_hash(v) if isinstance(v, str) else fmt_value(v, 200),
                "full": fmt_value(v, 200),
                "mono": _looks_like_id(v),
            }
            for k, v in raw.items()
            if k not in ("kind", "name", "role")
        ]
        kind = fmt_value(raw.get("kind") or "")
        nodes.append(
            {
                "kind": kind.replace("_", " "),
                "kind_class": re.sub(r"[^a-z0-9_]+", "_", kind.lower()),
                "name": fmt_value(raw.get("name") or "?"),
                "role": fmt_value(raw.get("role") or ""),
                "details": details,
            }
        )
    return nodes


def _duration(started: str, finished: str) -> str | None:
    try:
        seconds = (dt.datetime.fromisoformat(finished) - dt.datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return None
    if seconds < 0:
        return None
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _waiver_note(check: CheckResult) -> str | None:
    waiver = check.waiver
    if not waiver:
        return None
    who, until = fmt_value(waiver.get("approver")), fmt_value(waiver.get("expires"))
    reason = fmt_value(waiver.get("reason"))
    if check.outcome == "waived":
        return f"Waived by {who} until {until}: {reason}"
    return f"A waiver by {who} expired on {until} and no longer applies (reason was: {reason})"


def _check_view(check: CheckResult, anchor: str, blocking: bool, out_dir: Path) -> dict[str, Any]:
    images, files = _artifacts(check, out_dir)
    return {
        "id": clean(check.id),
        "anchor": anchor,
        "title": clean(check.title),
        "outcome": check.outcome if check.outcome in _OUTCOME_LABEL else "error",
        "outcome_label": _OUTCOME_LABEL.get(check.outcome, clean(check.outcome)),
        "required": check.required,
        "blocking": blocking,
        "summary": clean(check.summary) or "-",
        "controls": [clean(c) for c in check.controls],
        "duration": f"{max(check.duration_s or 0.0, 0.0):.2f} s",
        "nodeid": clean(check.nodeid) if check.nodeid else None,
        "waiver": _waiver_note(check),
        "blocks": evidence_blocks(check),
        "images": images,
        "files": files,
        "is_lineage": check.id == "lineage",
    }


def _not_run_view(check_id: str, anchor: str) -> dict[str, Any]:
    return {
        "id": clean(check_id),
        "anchor": anchor,
        "title": _label(check_id),
        "outcome": "not_run",
        "outcome_label": _OUTCOME_LABEL["not_run"],
        "required": True,
        "blocking": True,
        "summary": "required check did not run (deselected, not collected, or its module failed to import)",
        "controls": [],
        "duration": "-",
        "nodeid": None,
        "waiver": None,
        "blocks": [],
        "images": [],
        "files": [],
        "is_lineage": False,
    }


def _count_label(outcome: str, n: int) -> str:
    """``3 passed``, ``1 error`` / ``2 errors``, ``1 did not run``."""
    if outcome == "error" and n != 1:
        return "errors"
    return _OUTCOME_LABEL[outcome]


def build_context(result: AuditResult, out_dir: Path) -> dict[str, Any]:
    """Everything the template shows, as cleaned plain values (Jinja escapes them)."""
    used: set[str] = {"top", "summary", "errors", "checks", "lineage", "details", "environment"}
    blocking = set(result.blocking)
    checks = []
    for check in result.checks:
        checks.append(_check_view(check, anchor_for(check.id, used), check.id in blocking, out_dir))
    ran = {c.id for c in result.checks}
    for check_id in dict.fromkeys(result.blocking):
        if check_id not in ran:
            checks.append(_not_run_view(check_id, anchor_for(check_id, used)))
    by_id = {c["id"]: c for c in checks}

    counts: dict[str, int] = {}
    for check in checks:
        counts[check["outcome"]] = counts.get(check["outcome"], 0) + 1
    model, base = result.model, result.baseline
    facts = [
        ("Model", clean(model.label) if model else "unresolved"),
        ("Model URI", clean(model.uri) if model and model.uri else None),
        ("Source run", clean(model.run_id) if model and model.run_id else None),
        ("Baseline", clean(base.label) if base else "none"),
        ("Target", clean(result.target)),
        ("Started", clean(result.started_at)),
        ("Finished", clean(result.finished_at)),
        ("Duration", _duration(result.started_at, result.finished_at)),
        ("Audit id", clean(result.audit_id) or None),
        ("Tool", f"pytest-release-audit {clean(result.tool_version)}"),
    ]
    policy = result.environment.get("policy") if isinstance(result.environment, dict) else None
    if policy:
        facts.append(("Policy", fmt_value(policy)))
    env = clean_deep(result.environment or {})
    return {
        "status": "READY" if result.ready else "BLOCKED",
        "ready": result.ready,
        "model_label": clean(model.label) if model else "unresolved model",
        "target": clean(result.target),
        "blocking": [
            {"id": clean(b), "anchor": by_id[clean(b)]["anchor"] if clean(b) in by_id else None}
            for b in dict.fromkeys(result.blocking)
        ],
        "errors": [clean(e, multiline=True) for e in result.errors],
        "facts": [(k, v) for k, v in facts if v],
        "counts": [(o, _count_label(o, counts[o]), counts[o]) for o in _OUTCOME_LABEL if counts.get(o)],
        "checks": checks,
        "lineage": _lineage(result),
        "lineage_anchor": by_id["lineage"]["anchor"] if "lineage" in by_id else None,
        "environment": [(_label(k), fmt_value(v, 600)) for k, v in env.items()],
        "schema_version": result.schema_version,
    }


def render_html(result: AuditResult, out_dir: Path) -> str:
    """``audit_report.html`` for ``result``: one self-contained page, every value escaped.

    ``out_dir`` is the report directory: check artifacts (paths relative to it) that are PNG,
    JPEG or GIF images are embedded as data URIs, other files linked relatively. Nothing is
    fetched when the page is opened; it prints with all evidence expanded.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE_NAME).render(**build_context(result, Path(out_dir)))
