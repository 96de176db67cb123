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
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pytest_release_audit.report.contracts import LineageEvidence, evidence_of
from pytest_release_audit.report.format import MISSING, number, value
from pytest_release_audit.report.html_values import clean_deep, evidence_blocks, label, looks_like_id, short_hash
from pytest_release_audit.report.model import OUTCOME_STYLES, AuditResult, CheckResult, outcome_style
from pytest_release_audit.report.text import clean

TEMPLATE_NAME = "audit_report.html.j2"
#: Largest image embedded as a data URI.
MAX_IMAGE_BYTES = 8 * 1024 * 1024

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def anchor_for(check_id: str, used: set[str]) -> str:
    """A unique, URL-safe fragment id for a check."""
    base = "check-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", check_id).strip("-") or "x")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


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
    evidence = evidence_of(result.check("lineage"), LineageEvidence)
    if evidence is None or not evidence.chain:
        return None
    nodes = []
    for node in evidence.chain:
        details = [
            {
                "key": label(k),
                "value": short_hash(clean(v)) if isinstance(v, str) else value(v, limit=200),
                "full": value(v, limit=200),
                "mono": looks_like_id(v),
            }
            for k, v in node.to_dict().items()
            if k not in ("kind", "name", "role")
        ]
        kind = value(node.kind)
        nodes.append(
            {
                "kind": kind.replace("_", " "),
                "kind_class": re.sub(r"[^a-z0-9_]+", "_", kind.lower()),
                "name": value(node.name or "?"),
                "role": value(node.role),
                "details": details,
            }
        )
    return nodes


def _lineage_dvc(result: AuditResult) -> list[str] | None:
    """The DVC pipeline the lineage check read at the training commit: the graph, then one line per stage."""
    evidence = evidence_of(result.check("lineage"), LineageEvidence)
    dvc = evidence.dvc if evidence is not None else None
    if dvc is None or not dvc.graph:
        return None
    lines = [value(f"{(dvc.commit or '')[:12]}: {dvc.graph} ({dvc.status})", limit=400)]
    for stage in dvc.stages:
        outs = ", ".join(f"{o.path} md5 {(o.md5 or '?')[:12]}" for o in stage.outs)
        deps = ", ".join(d.path for d in stage.deps)
        lines.append(value(f"{stage.name}: {deps or stage.kind} -> {outs}", limit=400))
    for match in dvc.datasets:
        verdict = "matches" if match.match else "DOES NOT match"
        found = match.out or "no DVC output"
        lines.append(value(f"dataset {match.dataset} ({match.file}) {verdict} {found}", limit=400))
    return lines


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
    who, until = value(waiver.get("approver")), value(waiver.get("expires"))
    reason = value(waiver.get("reason"))
    if check.outcome == "waived":
        return f"Waived by {who} until {until}: {reason}"
    return f"A waiver by {who} expired on {until} and no longer applies (reason was: {reason})"


def _check_view(check: CheckResult, anchor: str, blocking: bool, out_dir: Path) -> dict[str, Any]:
    images, files = _artifacts(check, out_dir)
    return {
        "id": clean(check.id),
        "anchor": anchor,
        "title": clean(check.title),
        "outcome": check.outcome if check.outcome in OUTCOME_STYLES else "error",
        "outcome_label": _outcome_label(check.outcome),
        "required": check.required,
        "blocking": blocking,
        "summary": clean(check.summary) or MISSING,
        "controls": [clean(c) for c in check.controls],
        "duration": f"{number(max(check.duration_s or 0.0, 0.0), places=2)} s",
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
        "title": label(check_id),
        "outcome": "not_run",
        "outcome_label": _outcome_label("not_run"),
        "required": True,
        "blocking": True,
        "summary": "required check did not run (deselected, not collected, or its module failed to import)",
        "controls": [],
        "duration": MISSING,
        "nodeid": None,
        "waiver": None,
        "blocks": [],
        "images": [],
        "files": [],
        "is_lineage": False,
    }


def _outcome_label(outcome: str) -> str:
    """``passed``, ``did not run``: the outcome's label, in running text."""
    return clean(outcome_style(outcome).label.lower())


def _count_label(outcome: str, n: int) -> str:
    """``3 passed``, ``1 error`` / ``2 errors``, ``1 did not run``."""
    if outcome == "error" and n != 1:
        return "errors"
    return _outcome_label(outcome)


def build_context(result: AuditResult, out_dir: Path) -> dict[str, Any]:
    """Everything the template shows, as cleaned plain values (Jinja escapes them)."""
    used: set[str] = {"top", "summary", "errors", "checks", "lineage", "details", "environment"}
    blocking = set(result.blocking)
    checks = [_check_view(c, anchor_for(c.id, used), c.id in blocking, out_dir) for c in result.checks]
    ran = {c.id for c in result.checks}
    for check_id in dict.fromkeys(result.blocking):
        if check_id not in ran:
            checks.append(_not_run_view(check_id, anchor_for(check_id, used)))
    by_id = {c["id"]: c for c in checks}

    counts: dict[str, int] = {}
    for view in checks:
        counts[view["outcome"]] = counts.get(view["outcome"], 0) + 1
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
        facts.append(("Policy", value(policy)))
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
        "counts": [(o, _count_label(o, counts[o]), counts[o]) for o in OUTCOME_STYLES if counts.get(o)],
        "checks": checks,
        "lineage": _lineage(result),
        "lineage_dvc": _lineage_dvc(result),
        "lineage_anchor": by_id["lineage"]["anchor"] if "lineage" in by_id else None,
        "environment": [(label(k), value(v, limit=600)) for k, v in env.items()],
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
