# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The terminal summary, in the spirit of the GREMLIN audit report: sections, check lines, status."""

from __future__ import annotations

import textwrap
from typing import Any

from pytest_release_audit.report.build import SECTIONS
from pytest_release_audit.report.model import AuditResult, CheckResult, outcome_style
from pytest_release_audit.report.text import strip_control


def _is_input_error(check: CheckResult) -> bool:
    """An error that is about an input (named once at the top), not a check that never ran."""
    return check.outcome == "error" and not check.summary.startswith(("required check did not run",
                                                                       "check did not run"))


def _line(tr: Any, check: CheckResult, width: int, errors: list[str]) -> None:
    style = outcome_style(check.outcome, required=check.required)
    optional = "" if check.required else " (optional)"
    tr.write("   ")
    tr.write(f"{style.word:<6}", **{style.colour: True, "bold": True})
    indent = 3 + 7 + 22
    summary = strip_control(check.summary)
    if _is_input_error(check) and summary in errors:
        summary = f"could not run: see ERROR {errors.index(summary) + 1} above"
    lines = textwrap.wrap(summary + optional, width=max(width - indent, 40)) or [""]
    tr.write_line(f" {strip_control(check.id):<21} {lines[0]}")
    shown = 4 if check.outcome in ("passed", "waived") else 8  # a reason to block gets more room
    for more in lines[1:shown]:
        tr.write_line(" " * indent + more)
    if len(lines) > shown:
        tr.write_line(" " * indent + "... (full text in the reports)")


def write_summary(tr: Any, result: AuditResult, paths: dict[str, str], notes: list[str]) -> None:
    """Write the audit section at the end of pytest's terminal output."""
    writer = getattr(tr, "_tw", None)
    width = writer.fullwidth if writer is not None else 100
    model = result.model
    title = f"AUDIT REPORT: {strip_control(model.label)}" if model else "AUDIT REPORT"
    tr.write_sep("=", title, bold=True)
    if model and model.run_id:
        base = strip_control(result.baseline.label) if result.baseline else "none"
        tr.write_line(f"   run {model.run_id}   baseline {base}   target {result.target}")
    # Each distinct problem once, in full, on one line; the checks it broke point back to it.
    errors: list[str] = []
    for text in [*result.errors, *(c.summary for c in result.checks if _is_input_error(c))]:
        clean = strip_control(text)
        if clean not in errors:
            errors.append(clean)
    for number, error in enumerate(errors, start=1):
        tr.write_line(f"   ERROR {number}  {error}", red=True, bold=True)
    by_id = {c.id: c for c in result.checks}
    shown: set[str] = set()
    number = 0
    for heading, ids in SECTIONS:
        checks = [by_id[i] for i in ids if i in by_id]
        if not checks:
            continue
        number += 1
        tr.write_line("")
        tr.write_line(f"{number}. {heading}", bold=True)
        for check in checks:
            shown.add(check.id)
            _line(tr, check, width, errors)
    others = [c for c in result.checks if c.id not in shown]
    if others:
        tr.write_line("")
        tr.write_line(f"{number + 1}. Your compliance checks", bold=True)
        for check in others:
            _line(tr, check, width, errors)
    if notes:
        tr.write_line("")
        for note in notes:
            tr.write_line(f"   note: {strip_control(note)}")
    tr.write_line("")
    if result.ready:
        tr.write_line(f"Status: READY FOR {result.target.upper()}", green=True, bold=True)
    else:
        why = result.why_blocked if (result.partial or result.blocking) else "errors above"
        tr.write_line(f"Status: BLOCKED ({why})", red=True, bold=True)
    if tr.config.option.verbose >= -1:
        for kind in ("json", "markdown", "html", "junit", "model_card", "sarif", "trail"):
            if kind in paths:
                tr.write_sep("-", f"generated {kind.replace('_', ' ')}: {paths[kind]}")
