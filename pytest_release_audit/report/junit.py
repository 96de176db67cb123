# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``junit-audit.xml``: the audit as one JUnit test suite, one test case per check.

Built with ``junit-xml`` and then post-processed, because its raw output is not valid against the
schema CI servers validate (Jenkins xunit-plugin ``junit-10.xsd``): it writes ``disabled`` on the
suites, a float-sum suite ``time`` with up to 17 decimals (xunit <= 3.1 allows at most 3) and would
write testcase ``file``/``line``. We use ``TestSuite.build_xml_doc()`` (an ElementTree element) and
fix the element instead of re-parsing text, so no XML parser ever reads our output here.

What CI servers show (see REFERENCE.md): GitLab shows only the *text* of ``failure``/``error``/
``skipped`` and keeps only the first of duplicate classname+name pairs; Jenkins shows ``message``
as "Error Details" and the text as "Stack Trace". So the one-line summary goes in ``message`` and
the explanation (summary, controls, required, evidence) in the text; classname+name come from the
check id and are unique. The schema has no testcase-level properties: model and verdict are suite
properties, per-check facts are in the text / ``system-out``.
"""

from __future__ import annotations

import json
import re

# Only builds and serialises our own elements; nothing here parses XML.
import xml.etree.ElementTree as ET  # nosec B405
from typing import Any

from pytest_release_audit.report.model import AuditResult, CheckResult

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

# ANSI CSI/OSC-like escapes, then every character XML 1.0 forbids (keeps \t \n \r).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_XML_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_TESTCASE_ATTRS = ("name", "classname", "time")


def clean_text(text: object, *, multiline: bool = True) -> str:
    """``text`` without ANSI escapes and XML-illegal characters; one line unless ``multiline``."""
    value = _XML_ILLEGAL.sub("", _ANSI.sub("", str(text)))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = " ".join(value.split())
    return value


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A single clean line of at most ``limit`` characters."""
    return _cut(clean_text(text, multiline=False), limit)


def _fmt_seconds(seconds: float | int | None) -> str:
    """Seconds with exactly 3 decimals, as the schema's SUREFIRE_TIME (and Surefire) allow."""
    try:
        value = max(float(seconds or 0.0), 0.0)
    except (TypeError, ValueError):
        value = 0.0
    return f"{value:.3f}"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_value(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """One clean line for an evidence value: scalars as text, nested values as compact JSON."""
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)
    else:
        text = _scalar(value)
    return one_line(text, limit)


def _item_line(item: Any) -> str:
    if isinstance(item, dict):
        return one_line(", ".join(f"{k}={format_value(v, 80)}" for k, v in item.items()), MAX_VALUE_CHARS)
    return format_value(item)


def evidence_lines(evidence: dict[str, Any], max_lines: int = MAX_EVIDENCE_LINES) -> list[str]:
    """Readable ``key: value`` lines for a check's evidence (lists of records one per line)."""
    lines: list[str] = []
    for key, value in evidence.items():
        label = one_line(key, 80)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{label}: {len(value)} item(s)")
            lines += [f"  - {_item_line(item)}" for item in value[:MAX_LIST_ITEMS]]
            if len(value) > MAX_LIST_ITEMS:
                lines.append(f"  ... {len(value) - MAX_LIST_ITEMS} more (see audit_report.json)")
        else:
            lines.append(f"{label}: {format_value(value)}")
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines] + [f"... {hidden} more line(s) (full evidence in audit_report.json)"]
    return lines


def _classname(check_id: str) -> str:
    return f"{CLASSNAME_PREFIX}.{one_line(check_id, 200)}"


def _waiver_note(check: CheckResult) -> str | None:
    waiver = check.waiver
    if not waiver:
        return None
    who = one_line(waiver.get("approver", "?"), 120)
    until = one_line(waiver.get("expires", "?"), 40)
    reason = one_line(waiver.get("reason", ""), 240)
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
        f"Check:     {one_line(check.id, 200)} - {one_line(check.title, 200)}",
        f"Outcome:   {check.outcome}",
        f"Required:  {req}",
        f"Controls:  {', '.join(one_line(c, 120) for c in check.controls) or '-'}",
    ]
    if check.nodeid:
        lines.append(f"Test:      {one_line(check.nodeid, 300)}")
    if check.artifacts:
        lines.append(f"Artifacts: {', '.join(one_line(a, 200) for a in check.artifacts)}")
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
    lines = [f"{one_line(check.id, 200)}: {one_line(check.summary or check.title)}"]
    note = _waiver_note(check)
    if note:
        lines.append(note)
    if check.controls:
        lines.append(f"controls: {', '.join(one_line(c, 120) for c in check.controls)}")
    lines += evidence_lines(check.evidence)
    return "\n".join(lines)


def _testcase(check: CheckResult, blocking: bool) -> Any:
    from junit_xml import TestCase

    summary = one_line(check.summary or f"{check.title}: {check.outcome}")
    case = TestCase(
        name=one_line(check.id, 200),
        classname=_classname(check.id),
        elapsed_sec=check.duration_s,
        stdout=_system_out(check),
    )
    if check.outcome == "failed":
        message = summary if check.required else one_line(f"(optional) {summary}")
        case.add_failure_info(
            message=message,
            output=_explanation(check, blocking, f"FAILED: {summary}"),
            failure_type="check_failed",
        )
    elif check.outcome == "error":
        case.add_error_info(
            message=summary,
            output=_explanation(check, blocking, f"ERROR: {summary}"),
            error_type="check_error",
        )
    elif check.outcome == "skipped" and blocking:
        # A CI test view that shows a blocking skip as "skipped" (grey) contradicts a red pipeline:
        # fail closed here too, and say why in the text.
        message = one_line(f"required check skipped without a valid waiver: {summary}")
        case.add_failure_info(
            message=message,
            output=_explanation(check, blocking, f"BLOCKING SKIP: {summary}"),
            failure_type="blocking_skip",
        )
    elif check.outcome == "skipped":
        case.add_skipped_info(message=summary, output=_explanation(check, blocking, f"SKIPPED: {summary}"))
    # passed and waived stay passed test cases; the waiver is in system-out.
    return case


def _not_run_case(check_id: str) -> Any:
    from junit_xml import TestCase

    summary = "required check did not run"
    case = TestCase(name=one_line(check_id, 200), classname=_classname(check_id), elapsed_sec=0.0)
    text = "\n".join(
        [
            f"FAILED: {summary}",
            "",
            f"Check:     {one_line(check_id, 200)}",
            "Required:  yes: the release is BLOCKED by this check",
            "Note:      the policy requires this check but no result was recorded (deselected with -k, "
            "not collected, or its module failed to import). Run the full audit suite.",
        ]
    )
    case.add_failure_info(message=summary, output=text, failure_type="check_not_run")
    return case


def _setup_case(errors: tuple[str, ...]) -> Any:
    from junit_xml import TestCase

    case = TestCase(name=SETUP_CASE_ID, classname=_classname(SETUP_CASE_ID), elapsed_sec=0.0)
    text = "\n".join(
        ["ERROR: the audit could not be set up; the release is BLOCKED.", ""]
        + [f"- {one_line(e, 1000)}" for e in errors]
    )
    case.add_error_info(message=one_line(errors[0]), output=text, error_type="audit_setup_error")
    return case


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
    return {k: one_line(v if v is not None else "", 500) for k, v in raw.items()}


def _suite_out(result: AuditResult) -> str:
    model = result.model
    lines = [
        f"status: {result.status}",
        f"model: {one_line(model.label) if model else 'unresolved'}",
        f"baseline: {one_line(result.baseline.label) if result.baseline else 'none'}",
        f"target: {one_line(result.target)}",
        f"blocking: {', '.join(one_line(b, 120) for b in result.blocking) or '-'}",
    ]
    lines += [f"setup error: {one_line(e, 1000)}" for e in result.errors]
    counts: dict[str, int] = {}
    for check in result.checks:
        counts[check.outcome] = counts.get(check.outcome, 0) + 1
    lines.append("checks: " + (", ".join(f"{n} {o}" for o, n in counts.items()) or "none ran"))
    return "\n".join(lines)


def _fix_element(suite_el: ET.Element, cases: list[Any]) -> None:
    """Make junit-xml's element valid against junit-10.xsd (see the module docstring)."""
    suite_el.attrib.pop("disabled", None)
    total = sum(float(c.elapsed_sec or 0.0) for c in cases)
    suite_el.set("time", _fmt_seconds(total))
    for case, case_el in zip(cases, suite_el.iter("testcase"), strict=True):
        for attr in list(case_el.attrib):
            if attr not in _TESTCASE_ATTRS:
                del case_el.attrib[attr]
        case_el.set("time", _fmt_seconds(case.elapsed_sec))


def render_junit(result: AuditResult) -> str:
    """``junit-audit.xml`` for ``result``: valid against Jenkins xunit-plugin's junit-10.xsd.

    One ``testsuite`` (:data:`SUITE_NAME`) with model and verdict as properties; one ``testcase``
    per check (classname ``release_audit.<id>``, name ``<id>``); a required check that never ran
    and session-level setup errors get their own failing test cases, so the CI view agrees with
    the verdict.
    """
    from junit_xml import TestSuite

    blocking = set(result.blocking)
    cases = [_testcase(check, check.id in blocking) for check in result.checks]
    ran = {check.id for check in result.checks}
    cases += [
        _not_run_case(cid)
        for cid in dict.fromkeys(result.blocking)
        if cid not in ran and cid != SETUP_CASE_ID
    ]
    if result.errors:
        cases.append(_setup_case(result.errors))

    suite = TestSuite(
        name=SUITE_NAME,
        test_cases=cases,
        timestamp=one_line(result.started_at, 64) or None,
        id=one_line(result.audit_id, 128) or None,
        properties=_properties(result),
        stdout=_suite_out(result),
    )
    suite_el = suite.build_xml_doc()
    _fix_element(suite_el, cases)

    # Our own <testsuites>: junit-xml's adds ``disabled`` and an unrounded float ``time``.
    root = ET.Element(
        "testsuites",
        {
            "name": SUITE_NAME,
            "tests": suite_el.get("tests", "0"),
            "failures": suite_el.get("failures", "0"),
            "errors": suite_el.get("errors", "0"),
            "time": suite_el.get("time", "0.000"),
        },
    )
    root.append(suite_el)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
