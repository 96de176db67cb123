# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model card: a Markdown "birth certificate" rendered with jinja2 from the audit.

Two steps so extenders can add content in between (``pytest_release_audit_model_card_context``)::

    context = build_context(result, handle, policy.section("model_card"))
    config.hook.pytest_release_audit_model_card_context(result=result, context=context)
    markdown = render_model_card(context, template_path=policy_section["template"] or None)

Everything in the context is *data*: the template runs in a sandboxed jinja2 environment whose
``finalize`` escapes every ``{{ value }}`` for Markdown tables and HTML (``|``, ``<``, ``>``, ``&``,
backticks, braces, emphasis characters, newlines), so a model description containing ``|``,
``<script>`` or ``{{ 7*7 }}`` can neither break a table, inject markup nor be evaluated by this or
any later template engine. The YAML front matter (Hugging Face model card metadata) is emitted by
``front_matter_yaml`` with every string double-quoted and escaped.

Missing evidence is normal (a check errored, was deselected, or has not run yet when the
``model_card`` check renders its provisional card): every builder tolerates absent or malformed
evidence and says "not run" / "not recorded" instead of raising.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditConfigError
from pytest_release_audit.handle.model import EVALUATION_CONTEXTS, TRAINING_CONTEXTS
from pytest_release_audit.report.text import _clean_text, escape_md

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import AuditResult, CheckResult

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = "model_card.md.j2"
CARD_FILENAME = "model_card.md"

#: The card's ``##`` sections, in order (seed 000, phase 3).
SECTIONS: tuple[str, ...] = (
    "Overview",
    "Training Data",
    "Performance Metrics",
    "Limitations & Bias",
    "Lineage",
    "Approval Chain",
    "Compliance Checklist",
)
#: Overview rows that must hold a real value for a card to be complete.
REQUIRED_OVERVIEW: tuple[str, ...] = ("Model Name", "Version", "Task")

NOT_RECORDED = "not recorded"
INFERRED_TASKS = {
    "survival": "Survival prediction (inferred from the data)",
    "binary": "Binary classification (inferred from the data)",
    "regression": "Regression (inferred from the data)",
}
NOT_RUN = "not run"
#: Notes that stand in for absent content start with one of these (rendered in italics); a
#: section holding nothing else counts as empty for ``missing_sections``.
_EMPTY_NOTE_PREFIXES = ("*not run", "*not recorded")

_PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|\{\{|\}\}|\{%|%\}|\{#|#\}|lorem ipsum", re.IGNORECASE)
_MAX_VALUE_CHARS = 1000

# --------------------------------------------------------------------------------------------
# Escaping


class Raw(str):
    """Text this module built as markup (the YAML front matter): passed through unescaped.

    Never wrap user or registry data in ``Raw``; it is only for output of this module.
    """


def _finalize(value: Any) -> Any:
    """jinja2 ``finalize``: every ``{{ expression }}`` passes through here before output."""
    if isinstance(value, Raw):
        return value
    if hasattr(value, "__html__"):  # markupsafe.Markup from a custom template's ``|safe``
        return value
    return escape_md(value)


# YAML: every string double-quoted; anything outside printable text, plus characters that are
# markup or template syntax elsewhere, as \x / \u escapes (PyYAML and the Hub read them back).
_YAML_ESCAPE_ASCII = set('"\\<>&{}`|[]')
_YAML_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _yaml_printable(cp: int) -> bool:
    if cp in (0x2028, 0x2029, 0xFEFF):  # YAML 1.1 line/paragraph separators; BOM
        return False
    return 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def yaml_scalar(value: Any) -> str:
    """One YAML 1.1 scalar (PyYAML-compatible): null, bool, int, float or a double-quoted string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 floats need a dot and a signed exponent: 1e-05 would load as a string.
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    out = ['"']
    for ch in str(value):
        cp = ord(ch)
        if ch in _YAML_ESCAPE_ASCII or not _yaml_printable(cp):
            if cp <= 0xFF:
                out.append(f"\\x{cp:02x}")
            elif cp <= 0xFFFF:
                out.append(f"\\u{cp:04x}")
            else:
                out.append(f"\\U{cp:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# Plain words YAML 1.1 reads as booleans or null: such keys are quoted.
_YAML_WORDS = frozenset("y n yes no true false on off null".split())


def _yaml_key(key: Any) -> str:
    key = str(key)
    if _YAML_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS:
        return key
    return yaml_scalar(key)


def _yaml_block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = f"{pad}{_yaml_key(key)}:"
            if isinstance(item, Mapping | list | tuple) and item:
                lines.append(head)
                lines.extend(_yaml_block(item, indent + 2))
            elif isinstance(item, Mapping):
                lines.append(f"{head} {{}}")
            elif isinstance(item, list | tuple):
                lines.append(f"{head} []")
            else:
                lines.append(f"{head} {yaml_scalar(item)}")
        return lines
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Mapping | list | tuple) and item:
                nested = _yaml_block(item, indent + 2)
                # "- " takes the place of the first nested line's indentation.
                lines.append(f"{pad}- {nested[0][indent + 2 :]}")
                lines.extend(nested[1:])
            elif isinstance(item, Mapping):
                lines.append(f"{pad}- {{}}")
            elif isinstance(item, list | tuple):
                lines.append(f"{pad}- []")
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
        return lines
    return [f"{pad}{yaml_scalar(value)}"]


def front_matter_yaml(metadata: Mapping[str, Any]) -> str:
    """The YAML between the card's ``---`` lines (no delimiters), safe for any string values."""
    if not metadata:
        return "{}"
    return "\n".join(_yaml_block(dict(metadata), 0))


# --------------------------------------------------------------------------------------------
# Formatting helpers (tolerant of whatever a check put in its evidence)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _fmt_float(value: float, digits: int = 3) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.{digits}f}"


def _fmt_signed(value: Any) -> str | None:
    number = _num(value)
    if number is None:
        return None
    if math.isnan(number):
        return "NaN"
    return f"{number:+.3f}"


def _fmt_ci(ci: Any, signed: bool = False, digits: int = 3) -> str | None:
    if not isinstance(ci, list | tuple) or len(ci) != 2:
        return None
    lo, hi = _num(ci[0]), _num(ci[1])
    if lo is None or hi is None:
        return None
    if signed:
        return f"[{lo:+.3f}, {hi:+.3f}]"
    return f"[{_fmt_float(lo, digits)}, {_fmt_float(hi, digits)}]"


def _fmt_count(value: Any) -> str | None:
    number = _num(value)
    if number is None or math.isnan(number) or math.isinf(number):
        return None
    return f"{int(number):,}"


def _fmt_p(value: Any) -> str | None:
    number = _num(value)
    if number is None:
        return None
    return "p < 0.001" if number < 0.001 else f"p = {number:.3f}"


def _fmt_date_range(value: Any) -> str:
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(value):
        return NOT_RECORDED
    start, end = (str(v) for v in value)
    # Timestamps from pandas (2018-01-03T00:00:00) read better as dates.
    start, end = start.split("T")[0], end.split("T")[0]
    return f"{start} – {end}"


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


_OUTCOME_LABELS = {
    "passed": ("✅", "Passed"),
    "failed": ("❌", "Failed"),
    "error": ("❌", "Error"),
    "skipped": ("⚠️", "Skipped"),
    "waived": ("⚠️", "Waived"),
}


def _outcome_label(check: CheckResult) -> str:
    icon, label = _OUTCOME_LABELS.get(check.outcome, ("⚠️", check.outcome.capitalize() or "Unknown"))
    if check.outcome in ("failed", "error") and not check.required:
        icon, label = "⚠️", f"{label} (optional)"
    if check.outcome == "waived" and check.waiver:
        waiver = _as_dict(check.waiver)
        label = (
            f"Waived until {_text(waiver.get('expires')) or '?'} by {_text(waiver.get('approver')) or '?'}"
        )
    return f"{icon} {label}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


_VERBS = {"error": "errored", "failed": "failed", "skipped": "was skipped", "waived": "was waived"}


def _not_run_text(check_id: str, check: CheckResult | None) -> str:
    """Why a check's evidence is absent: "not run: the bias check has not run" and the like."""
    if check is None:
        return f"{NOT_RUN}: the {check_id} check has not run"
    summary = _text(check.summary)
    detail = f" ({summary})" if summary else ""
    if _as_dict(check.evidence).get("ran") is False:
        return f"{NOT_RUN}: the {check_id} check did not run{detail}"
    verb = _VERBS.get(check.outcome, check.outcome)
    return f"{NOT_RUN}: the {check_id} check {verb} without evidence{detail}"


def _evidence(check: CheckResult | None, *keys: str) -> dict[str, Any]:
    """A check's evidence when it holds any of ``keys`` (i.e. the check got far enough), else {}."""
    evidence = _as_dict(check.evidence if check is not None else None)
    return evidence if any(key in evidence for key in keys) else {}


# --------------------------------------------------------------------------------------------
# Section builders


def _overview(
    handle: ModelHandle | None, result: AuditResult | None, policy: Mapping[str, Any]
) -> list[dict]:
    ref = handle.ref if handle is not None else (result.model if result is not None else None)
    name = ref.name if ref else ""
    version = ref.version if ref else ""
    if version and ref is not None and ref.alias:
        version = f"{version} (@{ref.alias})"

    def pick(key: str, *tag_keys: str) -> str:
        value = _text(policy.get(key))
        if value:
            return value
        if handle is not None:
            for tag_key in tag_keys:
                tag = _text(handle.tag(tag_key))
                if tag:
                    return tag
        return NOT_RECORDED

    task = pick("task", "task")
    if task == NOT_RECORDED and result is not None:
        # Nothing recorded: the kind the audit inferred from the data, labelled as inferred.
        gate = next((c for c in result.checks if c.id == "performance_gate"), None)
        kind = _as_dict(gate.evidence).get("task") if gate is not None else None
        if isinstance(kind, str) and kind in INFERRED_TASKS:
            task = INFERRED_TASKS[kind]
    return [
        {"field": "Model Name", "value": name or NOT_RECORDED},
        {"field": "Version", "value": version or NOT_RECORDED},
        {"field": "Task", "value": task},
        {"field": "Modality", "value": pick("modality", "modality")},
        # mlflow autolog records the estimator class as a run tag: an honest architecture fallback.
        {"field": "Architecture", "value": pick("architecture", "architecture", "estimator_class")},
    ]


def _pii_status(name: str, context: Any, pii: CheckResult | None, claim: str) -> str:
    claim_note = f" (claimed: {claim})" if claim else ""
    if pii is None:
        return f"{NOT_RUN}{claim_note}"
    evidence = _evidence(pii, "datasets", "status")
    if not evidence:
        ran = _as_dict(pii.evidence).get("ran") is not False
        return f"❌ scan error{claim_note}" if ran and pii.outcome == "error" else f"{NOT_RUN}{claim_note}"
    match = None
    for item in _as_list(evidence.get("datasets")):
        item = _as_dict(item)
        if item.get("name") == name and (context is None or item.get("context") in (None, context)):
            match = item
            break
    if match is None:
        if pii.outcome == "error":
            return f"❌ scan error{claim_note}"
        return f"⚠️ not scanned{claim_note}"
    findings = match.get("findings")
    count = len(findings) if isinstance(findings, list) else _num(findings)
    if count is None:
        return f"⚠️ scanned, findings not recorded{claim_note}"
    if count == 0:
        return f"✅ No PII found{claim_note}"
    return f"❌ PII found ({int(count)} findings){claim_note}"


def _training_data(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    lineage = checks.get("lineage")
    pii = checks.get("pii")
    lineage_sets = [_as_dict(d) for d in _as_list(_evidence(lineage, "datasets").get("datasets"))]
    integrity = checks.get("data_integrity")
    integrity_sets = [
        _as_dict(d) for d in _as_list(_as_dict(integrity.evidence if integrity else {}).get("datasets"))
    ]
    pii_evidence = _evidence(pii, "datasets", "claims")
    pii_sets = [_as_dict(d) for d in _as_list(pii_evidence.get("datasets"))]
    pii_claims = _as_dict(pii_evidence.get("claims"))

    # Datasets: what the run logged (handle), enriched by lineage / integrity evidence by name.
    datasets: list[dict[str, Any]] = []
    refs = list(handle.run.inputs) if handle is not None and handle.run is not None else []
    for ref in refs:
        datasets.append(
            {"name": ref.name, "context": ref.context, "tags": dict(ref.tags), "source": ref.source}
        )
    known = {(d["name"], d["context"]) for d in datasets}
    for item in lineage_sets + integrity_sets:
        key = (item.get("name"), item.get("context"))
        if item.get("name") and key not in known and (item.get("name"), None) not in known:
            datasets.append({"name": item["name"], "context": item.get("context"), "tags": {}, "source": ""})
            known.add(key)

    def facts(name: str, context: Any) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for item in pii_sets + integrity_sets + lineage_sets:  # lineage last: it wins
            if item.get("name") == name and item.get("context") in (None, context):
                merged.update({k: v for k, v in item.items() if v is not None})
        return merged

    def kind(context: Any) -> str:
        lowered = (context or "").lower()
        if lowered in EVALUATION_CONTEXTS:
            return "evaluation"
        return "training" if lowered in TRAINING_CONTEXTS else "other"

    # The table lists the datasets the model was fitted on; when none is logged with a training
    # context, every non-evaluation dataset is shown rather than none.
    has_training = any(kind(ds["context"]) == "training" for ds in datasets)
    rows: list[dict[str, str]] = []
    evaluation: list[str] = []
    upstream: list[str] = []
    products: dict[str, list[str]] = {}
    for ds in datasets:
        info = facts(ds["name"], ds["context"])
        product = _text(info.get("data_product")) or _text(ds["tags"].get("data_product"))
        if product and ds["name"] not in products.setdefault(product, []):
            products[product].append(ds["name"])
        rows_count = _fmt_count(info.get("rows"))
        role = kind(ds["context"])
        if role == "evaluation" or (role == "other" and has_training):
            detail = f"{rows_count} rows" if rows_count else "rows not recorded"
            entry = f"{ds['name']} ({ds['context'] or 'no context'}, {detail})"
            (evaluation if role == "evaluation" else upstream).append(entry)
            continue
        patients = _fmt_count(info.get("patients"))
        if patients is None:
            patients = NOT_RECORDED + (f" ({rows_count} rows)" if rows_count else "")
        claim = (
            _text(pii_claims.get(ds["name"]))
            or _text(info.get("pii_status"))
            or _text(ds["tags"].get("pii_status"))
        )
        rows.append(
            {
                "dataset": ds["name"],
                "patients": patients,
                "date_range": _fmt_date_range(info.get("date_range")),
                "pii_status": _pii_status(ds["name"], ds["context"], pii, claim),
            }
        )
    note = None
    if not rows:
        note = "Not recorded: the training run logged no training dataset (mlflow.log_input)"
    return {
        "rows": rows,
        "note": note,
        "evaluation": evaluation,
        "upstream": upstream,
        "data_products": [f"{product} (used by {', '.join(names)})" for product, names in products.items()],
    }


def _performance(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    gate = checks.get("performance_gate")
    evidence = _evidence(gate, "metrics", "hazard_ratio")
    rows: list[dict[str, str]] = []
    metrics_meta: list[dict[str, Any]] = []
    baseline = _as_dict(evidence.get("baseline"))
    for item in _as_list(evidence.get("metrics")):
        item = _as_dict(item)
        name = _text(item.get("name"))
        if not name:
            continue
        label = _text(item.get("label")) or name
        candidate = _num(item.get("candidate"))
        if baseline:
            delta = _fmt_signed(item.get("delta"))
            if delta is None:
                vs = "baseline not computed"
            else:
                parts = [delta]
                delta_ci = _fmt_ci(item.get("delta_ci"), signed=True)
                if delta_ci:
                    parts.append(f"95% CI {delta_ci}")
                base_value = _num(item.get("baseline"))
                if base_value is not None:
                    parts.append(f"baseline {_fmt_float(base_value)}")
                vs = parts[0] + (f" ({'; '.join(parts[1:])})" if parts[1:] else "")
        else:
            vs = "no baseline"
        gate_mark = item.get("gate")
        if gate_mark in (True, "passed", "pass"):
            vs = f"✅ {vs}"
        elif gate_mark in (False, "failed", "fail"):
            vs = f"❌ {vs}"
        rows.append(
            {
                "metric": label,
                "value": _fmt_float(candidate) if candidate is not None else NOT_RECORDED,
                "ci": _fmt_ci(item.get("candidate_ci")) or NOT_RECORDED,
                "vs_baseline": vs,
            }
        )
        if candidate is not None and math.isfinite(candidate):
            metrics_meta.append({"type": name, "value": round(candidate, 6), "name": label})
    hazard = _as_dict(evidence.get("hazard_ratio"))
    hr_value = _num(hazard.get("value"))
    if hazard and hr_value is not None:
        significant = hazard.get("significant")
        verdict = {True: "Significant", False: "Not significant"}.get(significant, "not tested")
        p_text = _fmt_p(hazard.get("p"))
        rows.append(
            {
                "metric": "Hazard Ratio",
                "value": _fmt_float(hr_value, 2),
                "ci": _fmt_ci(hazard.get("ci"), digits=2) or NOT_RECORDED,
                "vs_baseline": verdict + (f" ({p_text})" if p_text else ""),
            }
        )
        if math.isfinite(hr_value):
            metrics_meta.append({"type": "hazard_ratio", "value": round(hr_value, 6), "name": "Hazard Ratio"})

    note = None
    if rows:
        parts = []
        n, events = _fmt_count(evidence.get("n")), _fmt_count(evidence.get("events"))
        if n:
            parts.append(f"n = {n}" + (f", {events} events" if events else ""))
        if baseline:
            label = f"{_text(baseline.get('name'))} v{_text(baseline.get('version'))}"
            if baseline.get("alias"):
                label += f" (@{_text(baseline.get('alias'))})"
            parts.append(f"baseline {label}")
        note = "Recomputed on the evaluation data by the performance gate" + (
            f" ({'; '.join(parts)})" if parts else ""
        )
    else:
        # Nothing verified: show what the run logged, clearly marked as unverified.
        logged = dict(handle.run.metrics) if handle is not None and handle.run is not None else {}
        for name in sorted(logged)[:20]:
            rows.append(
                {
                    "metric": name,
                    "value": _fmt_float(logged[name]),
                    "ci": "not computed",
                    "vs_baseline": "not compared",
                }
            )
        reason = _not_run_text("performance_gate", gate)
        if rows:
            note = f"As logged by the training run, not verified; {reason}"
        else:
            note = _capitalized(reason)
    return {
        "rows": rows,
        "note": note,
        "verified": bool(metrics_meta),
        "metrics": metrics_meta,
        "task": _text(evidence.get("task")),
        "empty": not rows,
    }


_LABELLED = re.compile(r"^([^:]{1,40}):\s+(.+)$")


def _limitation(text: str) -> dict[str, str | None]:
    """``"Population: Trained on US patients"`` -> label ``Population`` + text (seed style)."""
    text = _clean_text(text)
    match = _LABELLED.match(text)
    if match and len(match.group(1).split()) <= 4:
        return {"label": match.group(1).strip(), "text": match.group(2).strip()}
    return {"label": None, "text": text}


_LIMITATIONS_HEADING = re.compile(r"^#{1,6}\s*(known\s+)?limitations?\b.*$", re.IGNORECASE)
_LIMITATIONS_LABEL = re.compile(r"(?:^|(?<=[.!?;]\s))(?:known\s+)?limitations?\s*:\s*(.*)$", re.IGNORECASE)
_BULLET = re.compile(r"^([-*+]|\d+[.)])\s+")


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


def _limitations(
    handle: ModelHandle | None, checks: Mapping[str, CheckResult], policy: Mapping[str, Any]
) -> dict[str, Any]:
    items: list[dict[str, str | None]] = []
    seen: set[str] = set()

    def add(text: Any, label: str | None = None) -> None:
        entry = _limitation(_text(text)) if label is None else {"label": label, "text": _clean_text(text)}
        key = (entry["text"] or "").lower()
        if entry["text"] and key not in seen:
            seen.add(key)
            items.append(entry)

    for text in _as_list(policy.get("limitations")):
        add(text)
    if handle is not None:
        for description in (handle.description, handle.model_description):
            for text in _description_limitations(description or ""):
                add(text)
        tagged = _text(handle.tag("limitations"))
        for text in re.split(r"[;\n]", tagged):
            if text.strip():
                add(text)
    bias = checks.get("bias")
    evidence = _evidence(bias, "subgroups", "findings")
    for finding in _as_list(evidence.get("findings")):
        add(finding, label="Bias")
    subgroups = []
    for group in _as_list(evidence.get("subgroups")):
        group = _as_dict(group)
        value = _num(group.get("metric_value"))
        subgroups.append(
            {
                "subgroup": f"{_text(group.get('column'))} = {_text(group.get('value'))}",
                "n": _fmt_count(group.get("n")) or NOT_RECORDED,
                "events": _fmt_count(group.get("events")) or NOT_RECORDED,
                "value": _fmt_float(value) if value is not None else NOT_RECORDED,
                "ci": _fmt_ci(group.get("ci")) or NOT_RECORDED,
                "status": _text(group.get("status")) or NOT_RECORDED,
            }
        )
    bias_note = None
    if not evidence:
        bias_note = _capitalized(_not_run_text("bias", bias))
    elif not _as_list(evidence.get("findings")):
        metric = _text(evidence.get("metric"))
        bias_note = f"Bias analysis: no subgroup findings across {len(subgroups)} subgroups" + (
            f" ({metric})" if metric else ""
        )
    return {
        "items": items,
        "bias_subgroups": subgroups,
        "bias_metric": _text(evidence.get("metric")) or "Metric",
        "bias_note": bias_note,
    }


def _lineage(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    lineage = checks.get("lineage")
    chain = [_as_dict(n) for n in _as_list(_evidence(lineage, "chain").get("chain"))]
    nodes = []
    for node in chain:
        role = _text(node.get("role")) or _text(node.get("kind")) or "step"
        context = _text(node.get("context"))
        if context and context.lower() not in TRAINING_CONTEXTS:
            role += f", {context}"
        if node.get("verified") is False:
            role += ", unverified"
        nodes.append({"name": _text(node.get("name")) or _text(node.get("id")) or NOT_RECORDED, "role": role})
    if nodes and lineage is not None:
        summary = _text(lineage.summary)
        if lineage.outcome == "passed":
            note = "Verified by the lineage check" + (f": {summary}" if summary else "")
        else:
            note = f"⚠️ Lineage check {lineage.outcome}" + (f": {summary}" if summary else "")
        return {"nodes": nodes, "note": note, "verified": lineage.outcome == "passed"}
    # No verified chain: the chain as the registry records it, marked unverified.
    if handle is not None:
        run = handle.run
        if run is not None:
            training = [d for d in run.inputs if not d.is_evaluation] or list(run.inputs)
            for ref in training:
                nodes.append({"name": ref.name, "role": f"Dataset, {ref.context or 'no context'}"})
            nodes.append({"name": run.run_name or run.run_id, "role": "Training Run"})
        nodes.append({"name": f"{handle.name} v{handle.version}", "role": "Final Artifact"})
    reason = _not_run_text("lineage", lineage)
    note = f"Chain as recorded in the registry, not verified; {reason}"
    return {"nodes": nodes, "note": note, "verified": False}


def _approvals(checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    approvals = checks.get("approvals")
    evidence = _evidence(approvals, "required", "present", "missing")
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for item in _as_list(evidence.get("present")) + _as_list(evidence.get("rejected")):
        item = _as_dict(item)
        role, by, at = _text(item.get("role")), _text(item.get("by")), _text(item.get("at"))
        if not role or (role, by, at) in seen:
            continue
        seen.add((role, by, at))
        status = _text(item.get("status")).lower() or "approved"
        label = {"approved": "✅ Approved", "rejected": "❌ Rejected"}.get(status, f"⏳ {status}")
        label += " (signed)" if item.get("signed") else " (UNSIGNED: development only)"
        rows.append(
            {
                "role": role,
                "name": by or NOT_RECORDED,
                "date": at[:10] if at else NOT_RECORDED,
                "status": label,
            }
        )
    for role in _as_list(evidence.get("missing")):
        rows.append({"role": _text(role), "name": "—", "date": "Pending", "status": "⏳ Awaiting"})
    if not evidence:
        return {"rows": [], "note": _capitalized(_not_run_text("approvals", approvals))}
    parts = []
    if evidence.get("tier"):
        score = _num(evidence.get("score"))
        parts.append(
            f"risk tier {_text(evidence.get('tier'))}"
            + (f" (score {_fmt_float(score, 1)})" if score is not None else "")
        )
    required = [_text(r) for r in _as_list(evidence.get("required"))]
    if required:
        parts.append(f"required roles: {', '.join(required)}")
    note = ("; ".join(parts)).capitalize() if parts else None
    if not rows:
        rows.append({"role": "none required", "name": "—", "date": "—", "status": "✅ Nothing to approve"})
    return {"rows": rows, "note": note}


def _checklist(checks: Sequence[CheckResult], blocking: Iterable[str]) -> list[dict[str, str]]:
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "status": _outcome_label(c),
            "summary": _text(c.summary) or "—",
        }
        for c in checks
    ]
    ran = {c.id for c in checks}
    for check_id in blocking:
        if check_id not in ran:
            rows.append(
                {"id": check_id, "title": "required check", "status": "❌ Not run", "summary": "did not run"}
            )
    return rows


_HF_LICENSES = frozenset(
    "apache-2.0 mit bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear isc cc0-1.0 cc-by-2.0 cc-by-2.5 "
    "cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 "
    "cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 agpl-3.0 gpl gpl-2.0 "
    "gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 mpl-2.0 epl-1.0 epl-2.0 eupl-1.1 eupl-1.2 bsl-1.0 afl-3.0 "
    "artistic-2.0 unlicense zlib odbl odc-by pddl openrail unknown other".split()
)
_TASK_TYPES = {
    "binary": "tabular-classification",
    "regression": "tabular-regression",
    "survival": "survival-analysis",
}


def _license_metadata(policy: Mapping[str, Any], handle: ModelHandle | None) -> dict[str, str]:
    """Hugging Face ``license`` (a Hub id, else ``other`` with a ``license_name``)."""
    raw = _text(policy.get("license")) or (_text(handle.tag("license")) if handle is not None else "")
    if not raw:
        return {"license": "unknown"}
    lowered = raw.lower()
    if lowered in _HF_LICENSES:
        return {"license": lowered}
    slug = re.sub(r"[^a-z0-9.]+", "-", lowered.removeprefix("licenseref-")).strip("-") or "custom"
    return {"license": "other", "license_name": slug}


def _metadata(
    model_name: str,
    overview: list[dict],
    performance: dict[str, Any],
    training: dict[str, Any],
    verdict: str,
    policy: Mapping[str, Any],
    handle: ModelHandle | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = dict(_license_metadata(policy, handle))
    tags = ["pytest-release-audit", "model-card", f"audit-{verdict.lower()}"]
    meta["tags"] = tags
    if performance["metrics"]:
        task_display = next((r["value"] for r in overview if r["field"] == "Task"), NOT_RECORDED)
        task_kind = performance["task"]
        eval_name = NOT_RECORDED
        if handle is not None and handle.run is not None and handle.run.evaluation_inputs:
            eval_name = handle.run.evaluation_inputs[0].name
        task: dict[str, Any] = {"type": _TASK_TYPES.get(task_kind, task_kind or "other")}
        if task_display != NOT_RECORDED:
            task["name"] = task_display
        meta["model-index"] = [
            {
                "name": model_name,
                "results": [
                    {
                        "task": task,
                        "dataset": {"type": eval_name, "name": eval_name, "split": "evaluation"},
                        "metrics": [dict(m) for m in performance["metrics"]],
                    }
                ],
            }
        ]
    return meta


def _status(result: AuditResult | None, provisional: bool) -> dict[str, Any]:
    if provisional or result is None:
        return {
            "verdict": "PROVISIONAL",
            "line": "🟡 PROVISIONAL: rendered during the audit; the final card with the verdict is written "
            "at session end",
            "blocking": [],
        }
    target = (result.target or "production").upper()
    if result.status == "READY":
        return {"verdict": "READY", "line": f"🟢 READY FOR {target}", "blocking": []}
    blocking = list(result.blocking)
    detail = ", ".join(blocking) if blocking else "see errors"
    if result.partial:
        detail = f"partial run ({result.partial})"
    if result.errors:
        detail += f"; {len(result.errors)} session error(s)"
    return {"verdict": "BLOCKED", "line": f"🔴 BLOCKED for {target.lower()}: {detail}", "blocking": blocking}


def _generated(result: AuditResult | None, ref: Any) -> dict[str, str]:
    """The card's footer: who wrote it, for which audit and version (only what is known)."""
    facts = {
        "tool_version": result.tool_version if result is not None else "",
        "audit_id": result.audit_id if result is not None else "",
        "finished_at": result.finished_at if result is not None else "",
        "target": result.target if result is not None else "",
        "uri": (ref.uri or "") if ref is not None else "",
        "run_id": (ref.run_id or "") if ref is not None else "",
    }
    writer = "the model_card check (provisional)" if result is None else "pytest-release-audit"
    parts = [f"Generated by {writer}" + (f" {facts['tool_version']}" if facts["tool_version"] else "")]
    if facts["audit_id"]:
        parts.append(f"audit {facts['audit_id']}")
    if facts["finished_at"]:
        parts.append(facts["finished_at"])
    if facts["uri"]:
        parts.append(facts["uri"])
    if facts["run_id"]:
        parts.append(f"run {facts['run_id']}")
    return {**facts, "line": " · ".join(parts)}


def _as_check_results(items: Iterable[Any]) -> list[CheckResult]:
    """CheckResults, accepting their ``to_dict()`` form too; anything else is skipped."""
    from pytest_release_audit.report.model import CheckResult

    out: list[CheckResult] = []
    for item in items:
        if isinstance(item, CheckResult):
            out.append(item)
        elif isinstance(item, Mapping) and item.get("id"):
            data = {"title": "", "outcome": "error", "required": True, **dict(item)}
            if not isinstance(data.get("evidence"), dict):
                data["evidence"] = {}
            out.append(CheckResult.from_dict(data))
    return out


def build_context(
    result: AuditResult | None,
    handle: ModelHandle | None,
    policy_section: Mapping[str, Any] | None,
    *,
    checks: Sequence[CheckResult] | None = None,
) -> dict[str, Any]:
    """The template context for one model card (plain data; escaped only when rendered).

    ``result`` is the finished audit (final card) or None for a provisional card, whose check
    results then come from ``checks`` (what ran so far). ``handle`` may be None when the model
    could not be resolved. ``policy_section`` is ``policy.section("model_card")``. Missing or
    malformed evidence of any check is shown as "not run" / "not recorded", never raised.
    Extenders append ``{"title", "body"}`` dicts to ``context["extra_sections"]`` (body: a string
    of paragraphs or a list of bullet items).
    """
    policy = dict(policy_section or {})
    provisional = result is None
    all_checks = _as_check_results(result.checks if result is not None else (checks or ()))
    by_id: dict[str, CheckResult] = {}
    for check in all_checks:
        by_id.setdefault(check.id, check)  # first result of an id wins (ids are unique in reports)

    overview = _overview(handle, result, policy)
    training = _training_data(handle, by_id)
    performance = _performance(handle, by_id)
    limitations = _limitations(handle, by_id, policy)
    lineage = _lineage(handle, by_id)
    approvals = _approvals(by_id)
    status = _status(result, provisional)
    name = overview[0]["value"]
    ref = handle.ref if handle is not None else (result.model if result is not None else None)
    return {
        "card_schema": 1,
        "provisional": provisional,
        "model": {
            "name": name,
            "version": ref.version if ref else NOT_RECORDED,
            "uri": (ref.uri or NOT_RECORDED) if ref else NOT_RECORDED,
            "run_id": (ref.run_id or NOT_RECORDED) if ref else NOT_RECORDED,
        },
        "overview": overview,
        "training_data": training,
        "performance": performance,
        "limitations": limitations,
        "lineage": lineage,
        "approvals": approvals,
        "checklist": _checklist(all_checks, result.blocking if result is not None else ()),
        "status": status,
        "generated": _generated(result, ref),
        "metadata": _metadata(name, overview, performance, training, status["verdict"], policy, handle),
        "extra_sections": [],
    }


# --------------------------------------------------------------------------------------------
# Rendering


def _paragraphs(value: Any) -> list[str]:
    """Split free text into paragraphs on blank lines (each is escaped when output)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [p for p in re.split(r"\n\s*\n", str(value)) if p.strip()]


def _environment(template_dir: Path | None) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders: list[Any] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    # The built-in template stays reachable, so a custom one can {% extends "model_card.md.j2" %}.
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # HTML autoescaping is the wrong escaping for Markdown: _finalize does it
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["paragraphs"] = _paragraphs
    env.tests["itemlist"] = lambda v: isinstance(v, list | tuple)
    return env


def render_model_card(
    context: Mapping[str, Any],
    template_path: str | Path | None = None,
    *,
    base_dir: str | Path | None = None,
) -> str:
    """Render the card's Markdown (with YAML front matter) from ``build_context``'s context.

    ``template_path`` (policy ``model_card.template``) replaces the built-in template; a relative
    path is resolved against ``base_dir`` (the rootdir; default the working directory). Raises
    ``AuditConfigError`` when the template is missing or does not render.
    """
    import jinja2

    template_dir: Path | None = None
    template_name = DEFAULT_TEMPLATE
    if template_path:
        path = Path(template_path)
        if not path.is_absolute():
            path = Path(base_dir or Path.cwd()) / path
        if not path.is_file():
            raise AuditConfigError(
                f"model card template {path} does not exist: fix model_card.template in the policy"
            )
        template_dir, template_name = path.parent, path.name
    env = _environment(template_dir)
    variables = dict(context)
    variables.setdefault("extra_sections", [])
    variables["front_matter"] = Raw(front_matter_yaml(_as_dict(context.get("metadata"))))
    try:
        text = env.get_template(template_name).render(variables)
    except jinja2.TemplateError as exc:
        where = template_path or DEFAULT_TEMPLATE
        message = " ".join(str(exc).split()) or exc.__class__.__name__
        raise AuditConfigError(
            f"model card template {where} does not render ({exc.__class__.__name__}: {message}): "
            "fix the template"
        ) from None
    # Collapse the blank-line runs optional blocks leave behind (Markdown ignores them anyway).
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text if text.endswith("\n") else text + "\n"


# --------------------------------------------------------------------------------------------
# Validation


def split_front_matter(markdown: str) -> tuple[str, str]:
    """(front matter YAML without delimiters, body); ("", markdown) when there is none."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 3)
        if end != -1:
            return markdown[4:end], markdown[end + 5 :]
    return "", markdown


def card_sections(markdown: str) -> dict[str, list[str]]:
    """``## Title`` -> its content lines (front matter and title excluded), in document order."""
    _, body = split_front_matter(markdown)
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        match = re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if match and not line.startswith("###"):
            current = sections.setdefault(match.group(1), [])
            continue
        # A new H1 or a thematic break (before the status line) ends the section.
        if line.startswith("# ") or line.strip() in ("---", "***", "___"):
            current = None
            continue
        if current is not None:
            current.append(line)
    return sections


def _is_table_scaffold(line: str) -> bool:
    return bool(re.match(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", line))


def _content_lines(lines: list[str]) -> list[str]:
    content = [line.strip() for line in lines if line.strip()]
    # A table header without rows, and "not run / not recorded" notes, are not content.
    tables = [i for i, line in enumerate(content) if _is_table_scaffold(line)]
    headers = {i - 1 for i in tables}
    out = []
    for i, line in enumerate(content):
        if i in headers or _is_table_scaffold(line):
            continue
        if line.lower().startswith(_EMPTY_NOTE_PREFIXES):
            continue
        out.append(line)
    return out


def missing_sections(
    markdown: str,
    required: Sequence[str] = SECTIONS,
    required_overview: Sequence[str] = REQUIRED_OVERVIEW,
) -> list[str]:
    """Problems that make a card incomplete, one line each ([] = complete).

    A required section is missing, empty (no rows, or only "not run"/"not recorded" notes), an
    Overview field in ``required_overview`` is "not recorded", or a placeholder remains anywhere
    in the body (TODO, TBD, FIXME, XXX, ``{{``, ``{%``, lorem ipsum).
    """
    problems: list[str] = []
    _, body = split_front_matter(markdown)
    title = re.search(r"^# Model Card:\s*(.*)$", body, re.MULTILINE)
    if title is None or not title.group(1).strip() or NOT_RECORDED in title.group(1):
        problems.append("Title: '# Model Card: NAME' is missing or has no model name")
    sections = card_sections(markdown)
    for name in required:
        if name not in sections:
            problems.append(f"{name}: section missing")
        elif not _content_lines(sections[name]):
            problems.append(f"{name}: section is empty")
    overview = sections.get("Overview", [])
    for field_name in required_overview:
        row = next(
            (line for line in overview if re.match(rf"^\|\s*{re.escape(field_name)}\s*\|", line)), None
        )
        if row is None:
            if "Overview" in sections:
                problems.append(f"Overview: no '{field_name}' row")
            continue
        value = row.split("|")[2].strip() if row.count("|") >= 3 else ""
        if not value or value.lower() == NOT_RECORDED:
            problems.append(f"Overview: {field_name} is {NOT_RECORDED}")
    for lineno, line in enumerate(body.splitlines(), start=1):
        match = _PLACEHOLDER.search(line)
        if match:
            problems.append(f"placeholder '{match.group(0)}' remains (body line {lineno})")
            break
    return problems


# --------------------------------------------------------------------------------------------
# Conveniences for the plugin and the model_card check


def write_card(markdown: str, path: str | Path) -> Path:
    """Write the card as UTF-8 (creating parent directories) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown, encoding="utf-8", newline="\n")
    return target


#: Sections the ``model_card`` check requires. Performance, approvals and the checklist come from
#: other checks that may run later (or on another xdist worker): their own checks block on them.
CHECK_REQUIRED_SECTIONS: tuple[str, ...] = ("Overview", "Training Data", "Lineage")

_FIXES = {
    "Overview: Model Name": "the model could not be resolved",
    "Overview: Version": "the model version could not be resolved",
    "Overview: Task": "set model_card.task in the policy or a 'task' tag on the model version",
    "Training Data": "log the training dataset on the run (mlflow.log_input(..., context='training'))",
    "Limitations & Bias": "add model_card.limitations to the policy or a Limitations section to the "
    "version description",
    "Lineage": "register the model from an MLflow run",
    "placeholder": "remove the placeholder from the model description, tags or policy",
}


@dataclass(frozen=True)
class CardCheck:
    """What the ``model_card`` check found: the rendered card and its problems."""

    markdown: str
    context: dict[str, Any]
    missing: tuple[str, ...]
    evidence: dict[str, Any]
    summary: str

    @property
    def failure_message(self) -> str:
        """One line: what is missing and how to fix it."""
        fixes: list[str] = []
        for problem in self.missing:
            for key, fix in _FIXES.items():
                if (problem.startswith(key) or key in problem) and fix not in fixes:
                    fixes.append(fix)
        message = f"model card incomplete ({len(self.missing)} problems): {'; '.join(self.missing)}"
        return message + (f"; fix: {'; '.join(fixes)}" if fixes else "")


def check_card(
    handle: ModelHandle | None,
    policy_section: Mapping[str, Any] | None,
    checks: Sequence[CheckResult] = (),
    *,
    base_dir: str | Path | None = None,
) -> CardCheck:
    """Render the provisional card from the handle, policy and the checks finished so far.

    The outcome depends only on the handle and policy (the Overview, Training Data, Lineage and
    stated limitations), never on which other checks happened to run first, so the check gives the
    same verdict under any order and under xdist. Earlier checks' evidence only enriches the card.
    """
    import hashlib

    section = dict(policy_section or {})
    context = build_context(None, handle, section, checks=checks)
    markdown = render_model_card(context, _text(section.get("template")) or None, base_dir=base_dir)
    problems = missing_sections(markdown, required=CHECK_REQUIRED_SECTIONS)
    # Bias findings depend on the bias check having run first: only stated limitations count here.
    stated = [item for item in context["limitations"]["items"] if item.get("label") != "Bias"]
    # No stated limitation is reported, not blocking: the final card's Limitations & Bias section
    # still carries the bias check's subgroup results, so it is never empty.
    warnings = [] if stated else [
        "no limitation stated by the model owner: add [tool.release_audit.model_card] limitations or a "
        "'Limitations:' paragraph to the version description"
    ]
    present = list(card_sections(markdown))
    training = len(context["training_data"]["rows"])
    metrics = len(context["performance"]["metrics"])
    evidence = {
        "path": CARD_FILENAME,
        "provisional_sha256": hashlib.sha256(markdown.encode("utf-8")).hexdigest(),
        "provisional": True,
        "template": _text(section.get("template")) or "built-in",
        "sections": present,
        "missing": list(problems),
        "checks_seen": sorted({c.id for c in checks}),
        "training_datasets": training,
        "limitations": len(stated),
        "warnings": warnings,
        "verified_metrics": metrics,
        "license": context["metadata"].get("license"),
    }
    summary = (
        f"model card written: {_plural(len(present), 'section')}, {_plural(training, 'training dataset')}, "
        f"{_plural(len(stated), 'stated limitation')} "
        "(final card written at session end)"
    )
    return CardCheck(
        markdown=markdown, context=context, missing=tuple(problems), evidence=evidence, summary=summary
    )
