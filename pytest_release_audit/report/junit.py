# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``junit-audit.xml``: the audit as one JUnit test suite, one test case per check.

Built with ``xml.etree.ElementTree`` the way pytest's own ``junitxml`` plugin builds its report,
valid against the schema CI servers validate (Jenkins xunit-plugin ``junit-10.xsd``): no
``disabled`` attribute, times with exactly three decimals, testcases with ``name``, ``classname``
and ``time`` only. Every string goes through ``report.text.xml_text``; nothing here parses XML.

What CI servers show (see REFERENCE.md): GitLab shows only the *text* of ``failure``/``error``/
``skipped`` and keeps only the first of duplicate classname+name pairs; Jenkins shows ``message``
as "Error Details" and the text as "Stack Trace". So the one-line summary goes in ``message`` and
the explanation (summary, controls, required, evidence) in the text; classname+name come from the
check id and are unique. The schema has no testcase-level properties: model and verdict are suite
properties, per-check facts are in the text / ``system-out``.
"""

from __future__ import annotations

# Only builds and serialises our own elements; nothing here parses XML.
import xml.etree.ElementTree as ET  # nosec B405
from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.report.format import seconds, value
from pytest_release_audit.report.model import AuditResult, CheckResult
from pytest_release_audit.report.text import one_line, xml_text

SUITE_NAME = "release-audit"
CLASSNAME_PREFIX = "release_audit"
SETUP_CASE_ID = "audit_setup"

#: Longest rendering of one evidence value (JSON for nested values) before it is cut.
MAX_VALUE_CHARS = 240
#: Longest ``message`` attribute (a one-line summary).
MAX_MESSAGE_CHARS = 300
#: Items of a list shown before "... N more".
MAX_LIST_ITEMS = 12
#: Evidence lines per check (failure text and system-out).
MAX_EVIDENCE_LINES = 60


def _line(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One XML-safe line of at most ``limit`` characters."""
    return xml_text(one_line(text, limit), multiline=False)


def _item_line(item: Any) -> str:
    if isinstance(item, dict):
        return _line(", ".join(f"{k}={value(v, limit=80)}" for k, v in item.items()), MAX_VALUE_CHARS)
    return _line(value(item, limit=MAX_VALUE_CHARS), MAX_VALUE_CHARS)


def evidence_lines(evidence: dict[str, Any], max_lines: int = MAX_EVIDENCE_LINES) -> list[str]:
    """Readable ``key: value`` lines for a check's evidence (lists of records one per line)."""
    lines: list[str] = []
    for key, item in evidence.items():
        label = _line(key, 80)
        if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
            lines.append(f"{label}: {len(item)} item(s)")
            lines += [f"  - {_item_line(record)}" for record in item[:MAX_LIST_ITEMS]]
            if len(item) > MAX_LIST_ITEMS:
                lines.append(f"  ... {len(item) - MAX_LIST_ITEMS} more (see audit_report.json)")
        else:
            lines.append(f"{label}: {_line(value(item, limit=MAX_VALUE_CHARS), MAX_VALUE_CHARS)}")
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines] + [f"... {hidden} more line(s) (full evidence in audit_report.json)"]
    return lines


def _waiver_note(check: CheckResult) -> str | None:
    waiver = check.waiver
    if not waiver:
        return None
    who = _line(waiver.get("approver", "?"), 120)
    until = _line(waiver.get("expires", "?"), 40)
    reason = _line(waiver.get("reason", ""), 240)
    if check.outcome == "waived":
        return f"WAIVED by {who} until {until}: {reason}"
    return f"A waiver by {who} expired on {until}: it no longer applies (reason was: {reason})"


def _explanation(check: CheckResult, blocking: bool, headline: str) -> str:
    """The text body: what CI servers (GitLab in particular) show for a failed check."""
    if check.required:
        req = "yes: the release is BLOCKED by this check" if blocking else "yes"
    else:
        req = "no (optional: does not block the release)"
    lines = [
        headline,
        "",
        f"Check:     {_line(check.id, 200)} - {_line(check.title, 200)}",
        f"Outcome:   {check.outcome}",
        f"Required:  {req}",
        f"Controls:  {', '.join(_line(c, 120) for c in check.controls) or '-'}",
    ]
    if check.nodeid:
        lines.append(f"Test:      {_line(check.nodeid, 300)}")
    if check.artifacts:
        lines.append(f"Artifacts: {', '.join(_line(a, 200) for a in check.artifacts)}")
    note = _waiver_note(check)
    if note:
        lines.append(f"Waiver:    {note}")
    if blocking and check.outcome == "skipped":
        lines.append(
            "Note:      a required check that is skipped without a valid waiver blocks the release "
            "(fail closed): make it run, or record a waiver in the policy."
        )
    if check.evidence:
        lines += ["", "Evidence:"] + [f"  {line}" for line in evidence_lines(check.evidence)]
    lines += ["", "Full evidence: audit_report.json / audit_report.html"]
    return "\n".join(lines)


def _system_out(check: CheckResult) -> str:
    lines = [f"{_line(check.id, 200)}: {_line(check.summary or check.title)}"]
    note = _waiver_note(check)
    if note:
        lines.append(note)
    if check.controls:
        lines.append(f"controls: {', '.join(_line(c, 120) for c in check.controls)}")
    lines += evidence_lines(check.evidence)
    return "\n".join(lines)


@dataclass
class _Suite:
    """The one ``testsuite`` being built: its test cases and their counts (pytest's LogXML style)."""

    cases: list[ET.Element] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"failures": 0, "errors": 0, "skipped": 0})
    time: float = 0.0

    def case(self, case_id: str, duration: float = 0.0, stdout: str | None = None) -> ET.Element:
        """A new ``testcase`` for ``case_id``, with ``stdout`` as its ``system-out``."""
        element = ET.Element("testcase", {"name": _line(case_id, 200), "time": seconds(duration),
                                          "classname": f"{CLASSNAME_PREFIX}.{_line(case_id, 200)}"})
        if stdout:
            ET.SubElement(element, "system-out").text = xml_text(stdout)
        self.cases.append(element)
        self.time += max(duration or 0.0, 0.0)
        return element

    def result(self, case: ET.Element, tag: str, message: str, text: str, kind: str) -> None:
        """Mark ``case`` failed / errored / skipped with a one-line ``message`` and a text body."""
        key = {"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]
        self.counts[key] += 1
        child = ET.Element(tag, {"type": kind, "message": xml_text(message, multiline=False)})
        child.text = xml_text(text)
        case.insert(0, child)  # before system-out, as the schema orders them

    def element(self, result: AuditResult) -> ET.Element:
        """The finished ``testsuite``: attributes, properties, system-out, then the test cases."""
        attrs = {
            "errors": str(self.counts["errors"]), "failures": str(self.counts["failures"]), "name": SUITE_NAME,
            "skipped": str(self.counts["skipped"]), "tests": str(len(self.cases)), "time": seconds(self.time),
        }  # fmt: skip
        if result.audit_id:
            attrs["id"] = _line(result.audit_id, 128)
        if result.started_at:
            attrs["timestamp"] = _line(result.started_at, 64)
        suite = ET.Element("testsuite", attrs)
        properties = ET.SubElement(suite, "properties")
        for name, text in _properties(result).items():
            ET.SubElement(properties, "property", {"name": name, "value": text})
        ET.SubElement(suite, "system-out").text = xml_text(_suite_out(result))
        suite.extend(self.cases)
        return suite


def _check_case(suite: _Suite, check: CheckResult, blocking: bool) -> None:
    summary = _line(check.summary or f"{check.title}: {check.outcome}")
    case = suite.case(check.id, check.duration_s, _system_out(check))
    if check.outcome == "failed":
        message = summary if check.required else _line(f"(optional) {summary}")
        suite.result(case, "failure", message, _explanation(check, blocking, f"FAILED: {summary}"), "check_failed")
    elif check.outcome == "error":
        suite.result(case, "error", summary, _explanation(check, blocking, f"ERROR: {summary}"), "check_error")
    elif check.outcome == "skipped" and blocking:
        # A CI test view that shows a blocking skip as "skipped" (grey) contradicts a red pipeline:
        # fail closed here too, and say why in the text.
        message = _line(f"required check skipped without a valid waiver: {summary}")
        suite.result(case, "failure", message, _explanation(check, blocking, f"BLOCKING SKIP: {summary}"),
                     "blocking_skip")
    elif check.outcome == "skipped":
        suite.result(case, "skipped", summary, _explanation(check, blocking, f"SKIPPED: {summary}"), "skipped")
    # passed and waived stay passed test cases; the waiver is in system-out.


def _not_run_case(suite: _Suite, check_id: str) -> None:
    summary = "required check did not run"
    text = "\n".join(
        [
            f"FAILED: {summary}",
            "",
            f"Check:     {_line(check_id, 200)}",
            "Required:  yes: the release is BLOCKED by this check",
            "Note:      the policy requires this check but no result was recorded (deselected with -k, "
            "not collected, or its module failed to import). Run the full audit suite.",
        ]
    )
    suite.result(suite.case(check_id), "failure", summary, text, "check_not_run")


def _setup_case(suite: _Suite, errors: tuple[str, ...]) -> None:
    text = "\n".join(
        ["ERROR: the audit could not be set up; the release is BLOCKED.", ""]
        + [f"- {_line(e, 1000)}" for e in errors]
    )
    suite.result(suite.case(SETUP_CASE_ID), "error", _line(errors[0]), text, "audit_setup_error")


def _properties(result: AuditResult) -> dict[str, str]:
    model, base = result.model, result.baseline
    raw: dict[str, Any] = {
        "audit.status": result.status,
        "audit.id": result.audit_id,
        "audit.target": result.target,
        "audit.blocking": ", ".join(result.blocking),
        "audit.started_at": result.started_at,
        "audit.finished_at": result.finished_at,
        "audit.tool_version": result.tool_version,
        "model.name": model.name if model else None,
        "model.version": model.version if model else None,
        "model.alias": model.alias if model else None,
        "model.run_id": model.run_id if model else None,
        "model.uri": model.uri if model else None,
        "baseline": base.label if base else "none",
        "baseline.name": base.name if base else None,
        "baseline.version": base.version if base else None,
        "baseline.alias": base.alias if base else None,
        "baseline.run_id": base.run_id if base else None,
    }
    # property@value is required by the schema: empty string, never "None".
    return {k: _line(v if v is not None else "", 500) for k, v in raw.items()}


def _suite_out(result: AuditResult) -> str:
    model = result.model
    lines = [
        f"status: {result.status}",
        f"model: {_line(model.label) if model else 'unresolved'}",
        f"baseline: {_line(result.baseline.label) if result.baseline else 'none'}",
        f"target: {_line(result.target)}",
        f"blocking: {', '.join(_line(b, 120) for b in result.blocking) or '-'}",
    ]
    lines += [f"setup error: {_line(e, 1000)}" for e in result.errors]
    counts: dict[str, int] = {}
    for check in result.checks:
        counts[check.outcome] = counts.get(check.outcome, 0) + 1
    lines.append("checks: " + (", ".join(f"{n} {o}" for o, n in counts.items()) or "none ran"))
    return "\n".join(lines)


def render_junit(result: AuditResult) -> str:
    """``junit-audit.xml`` for ``result``: valid against Jenkins xunit-plugin's junit-10.xsd.

    One ``testsuite`` (:data:`SUITE_NAME`) with model and verdict as properties; one ``testcase``
    per check (classname ``release_audit.<id>``, name ``<id>``); a required check that never ran
    and session-level setup errors get their own failing test cases, so the CI view agrees with
    the verdict.
    """
    suite = _Suite()
    blocking = set(result.blocking)
    for check in result.checks:
        _check_case(suite, check, check.id in blocking)
    ran = {check.id for check in result.checks}
    for check_id in dict.fromkeys(result.blocking):
        if check_id not in ran and check_id != SETUP_CASE_ID:
            _not_run_case(suite, check_id)
    if result.errors:
        _setup_case(suite, result.errors)
    suite_el = suite.element(result)
    root = ET.Element("testsuites", {
        "name": SUITE_NAME, "tests": suite_el.get("tests", "0"), "failures": suite_el.get("failures", "0"),
        "errors": suite_el.get("errors", "0"), "time": suite_el.get("time", "0.000"),
    })  # fmt: skip
    root.append(suite_el)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
