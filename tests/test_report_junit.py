# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""junit-audit.xml: valid against Jenkins xunit-plugin's junit-10.xsd, explanatory, injection-proof."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from report_samples import EVIL, ready_result, sample_result

from pytest_release_audit.report.junit import MAX_LIST_ITEMS, MAX_VALUE_CHARS, render_junit
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

XSD = Path(__file__).parent / "data" / "junit-10.xsd"
# xunit-plugin releases before PR 172 (2025) allow at most 3 decimals in suite time; many Jenkins
# servers still run them, so the output must pass that stricter form too.
RELAXED_TIME = r"(\.[0-9]*)?"
STRICT_TIME = r"(\.[0-9]{0,3})?"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


@pytest.fixture(scope="module")
def strict_schema() -> xmlschema.XMLSchema:
    text = XSD.read_text(encoding="utf-8")
    assert RELAXED_TIME in text, "vendored junit-10.xsd changed: update the strict-time variant"
    return xmlschema.XMLSchema(text.replace(RELAXED_TIME, STRICT_TIME))


@pytest.fixture()
def blocked(tmp_path: Path) -> AuditResult:
    return sample_result(tmp_path)


def _cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {case.get("name"): case for case in root.iter("testcase")}


def test_junit_is_valid_against_xunit_junit10_schema(schema, strict_schema, blocked):
    for result in (blocked, ready_result()):
        xml = render_junit(result)
        schema.validate(xml)
        strict_schema.validate(xml)


def test_the_vendored_schema_rejects_what_junit_writers_often_emit(schema, strict_schema):
    """The schema is strict enough to catch ``disabled`` suites and unrounded float times."""
    raw = (
        '<testsuites><testsuite name="s" tests="2" failures="0" errors="0" skipped="0" time="{time}"{extra}>'
        '<testcase name="a" classname="c" time="0.100"/><testcase name="b" classname="c" time="0.200"/>'
        "</testsuite></testsuites>"
    )
    assert schema.is_valid(raw.format(time="0.300", extra=""))
    assert not schema.is_valid(raw.format(time="0.300", extra=' disabled="0"'))
    assert not strict_schema.is_valid(raw.format(time="0.30000000000000004", extra=""))


def test_suite_time_has_three_decimals(blocked):
    root = ET.fromstring(render_junit(ready_result()))
    suite = root.find("testsuite")
    assert suite.get("time") == "0.633"  # 0.3333333 + (0.1 + 0.2) + 0.0
    assert root.get("time") == "0.633"
    assert "disabled" not in suite.attrib and "disabled" not in root.attrib
    times = [case.get("time") for case in root.iter("testcase")]
    assert times == ["0.333", "0.300", "0.000"]


def test_one_testcase_per_check_with_stable_classname_and_name(blocked):
    xml = render_junit(blocked)
    root = ET.fromstring(xml)
    cases = list(root.iter("testcase"))
    names = [c.get("name") for c in cases]
    expected = [c.id for c in blocked.checks] + ["approvals", "audit_setup"]
    assert names == expected
    assert len(set(names)) == len(names)
    for case in cases:
        assert case.get("classname") == f"release_audit.{case.get('name')}"
        assert set(case.attrib) <= {"name", "classname", "time"}
    assert render_junit(blocked) == xml  # a pure function: same input, same bytes


def test_failure_text_carries_the_explanation(blocked):
    pii = _cases(render_junit(blocked))["pii"]
    failure = pii.find("failure")
    assert (
        failure.get("message") == "PII found: 2 columns in clinical_train (EMAIL_ADDRESS in notes: 14 rows)"
    )
    text = failure.text
    assert text.startswith("FAILED: PII found: 2 columns")
    assert "Controls:  GDPR:Art.5(1)(c), HIPAA:164.514(b)" in text
    assert "Required:  yes: the release is BLOCKED by this check" in text
    assert "entity_type=EMAIL_ADDRESS, rows_affected=14, masked_sample=j***@e******.com" in text
    assert "Test:      checks/test_pii.py::test_pii" in text


def test_required_check_that_never_ran_is_a_failing_testcase(blocked):
    approvals = _cases(render_junit(blocked))["approvals"]
    failure = approvals.find("failure")
    assert failure is not None
    assert failure.get("message") == "required check did not run"
    assert "BLOCKED" in failure.text


def test_setup_errors_become_an_audit_setup_error(blocked):
    setup = _cases(render_junit(blocked))["audit_setup"]
    error = setup.find("error")
    assert error.get("message").startswith(
        "baseline cl_unimodal_v1: run 0aa1 has no logged evaluation dataset"
    )
    assert "the release is BLOCKED" in error.text


def test_error_outcome_is_a_junit_error(blocked):
    security = _cases(render_junit(blocked))["security"]
    assert security.find("failure") is None
    assert security.find("error").get("message") == "bandit crashed: SyntaxError in train.py line 3"
    assert "Artifacts: security.sarif" in security.find("error").text


def test_waived_check_passes_with_the_waiver_in_system_out(blocked):
    case = _cases(render_junit(blocked))["ip_headers"]
    assert case.find("failure") is None and case.find("error") is None and case.find("skipped") is None
    assert "WAIVED by alice until 2099-01-01: vendored code" in case.find("system-out").text


def test_blocking_skip_fails_and_optional_skip_is_skipped(blocked):
    cases = _cases(render_junit(blocked))
    repro = cases["reproducibility"].find("failure")
    assert repro.get("type") == "blocking_skip"
    assert "skipped without a valid waiver" in repro.get("message")
    assert "waiver by bob expired on 2020-01-01" in repro.text
    deps = cases["dependencies"]
    assert deps.find("failure") is None
    assert deps.find("skipped").get("message") == "no requirements file"


def test_optional_failure_says_it_does_not_block(blocked):
    bias = _cases(render_junit(blocked))["bias"].find("failure")
    assert bias.get("message").startswith("(optional) ")
    assert "optional: does not block the release" in bias.text


def test_suite_properties_carry_model_and_verdict(blocked):
    suite = ET.fromstring(render_junit(blocked)).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["audit.status"] == "BLOCKED"
    assert props["model.name"] == "cl_unimodal_v2"
    assert props["model.version"] == "2"
    assert props["model.alias"] == "candidate"
    assert props["model.run_id"] == "4b1d5c9e0f6a4c7e8d2b1a3f5e7c9d0b"
    assert props["baseline"] == "cl_unimodal_v1 v1 (@production)"
    assert props["audit.target"] == "production"
    assert props["audit.id"] == "a1b2c3d4"
    assert props["audit.tool_version"] == "0.1.0"
    assert props["audit.blocking"] == "pii, security, reproducibility, calibration, approvals"
    assert suite.get("name") == "release-audit"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("11", "5", "2")


def test_unresolved_model_still_renders_valid_xml(schema):
    result = AuditResult(
        status="BLOCKED", model=None, baseline=None, target="production", started_at="", finished_at="",
        tool_version="0.1.0", checks=(), blocking=("lineage",), errors=("model 'x' not found: exists: a",),
    )  # fmt: skip
    xml = render_junit(result)
    schema.validate(xml)
    props = {p.get("name"): p.get("value") for p in ET.fromstring(xml).iter("property")}
    assert props["model.name"] == ""
    assert list(_cases(xml)) == ["lineage", "audit_setup"]


def test_markup_injection_stays_well_formed_xml(schema, tmp_path):
    result = sample_result(tmp_path, evil_model=True)
    xml = render_junit(result)
    schema.validate(xml)  # parses: nothing broke out of attributes or text
    assert "<script>" not in xml and "<b>" not in xml and "<i>" not in xml
    assert "\x1b" not in xml
    root = ET.fromstring(xml)
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["model.name"] == "evil<b>model</b>{{ x }}|"  # ANSI escape stripped, markup kept as text
    evil = _cases(xml)["calibration<i>"].find("failure")
    one_line_evil = '<script>alert("x")</script> {{ 7*7 }} | pipe & "quote" red second line'
    assert evil.get("message") == one_line_evil
    assert "\n" not in evil.get("message")
    assert f"Controls:  {one_line_evil}" in evil.text


def test_long_evidence_is_truncated(schema):
    check = CheckResult(
        "big", "Big evidence", "failed", True, (), "too big",
        {"blob": "x" * 5000, "rows": [{"i": i} for i in range(MAX_LIST_ITEMS + 5)], "ctl": "\x00\x07bell"},
    )  # fmt: skip
    result = AuditResult(
        "BLOCKED", ModelRef("m", "1"), None, "production", "", "", "0.1.0", (check,), ("big",)
    )
    xml = render_junit(result)
    schema.validate(xml)
    text = _cases(xml)["big"].find("failure").text
    blob_line = next(line for line in text.splitlines() if line.strip().startswith("blob:"))
    assert len(blob_line.strip()) <= len("blob: ") + MAX_VALUE_CHARS
    assert blob_line.endswith("…")
    assert "... 5 more (see audit_report.json)" in text
    assert "ctl: bell" in text


def test_evil_constant_is_really_hostile():
    """Guards the fixture: the injection tests above are only meaningful if EVIL carries every trick."""
    for needle in ("<script>", "{{", "|", "\x1b[", "\n", "&", '"'):
        assert needle in EVIL
