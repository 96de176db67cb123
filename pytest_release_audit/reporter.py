# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""AuditReporter: the controller-side plugin object (as ``_pytest/junitxml.LogXML``).

Registered only on the controller (never on xdist workers). It collects every check's reports,
builds the AuditResult at session end, writes the reports, promotes / notifies / appends to the
trail, prints the terminal summary and makes pytest's exit code non-zero when BLOCKED.
"""

from __future__ import annotations

import datetime as dt
import platform
import uuid
from pathlib import Path
from typing import Any

import pytest

from pytest_release_audit.errors import AuditError
from pytest_release_audit.handle.resolve import redact_uri
from pytest_release_audit.plugin import CHECKS_DIR
from pytest_release_audit.report.build import TestRecord, build_result
from pytest_release_audit.report.model import AuditResult, ModelRef
from pytest_release_audit.session import AuditContext


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-release-audit")
    except PackageNotFoundError:
        return "0+unknown"


class AuditReporter:
    """Collects check outcomes and produces the audit at session end."""

    def __init__(self, config: pytest.Config, ctx: AuditContext) -> None:
        self.config = config
        self.ctx = ctx
        self.records: dict[str, TestRecord] = {}
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.deselected_checks = 0
        self.collection_errors = 0
        self.result: AuditResult | None = None
        self.paths: dict[str, str] = {}
        self.audit_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]

    # -- start ---------------------------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            self.ctx.validate()
        except AuditError as exc:
            self.errors.append(str(exc))
            return
        _handle, error = self.ctx.try_handle()
        if error:
            self.errors.append(error)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from pytest_release_audit.report.text import strip_control  # names come from the registry: inert

        handle, _ = self.ctx.try_handle()
        if handle is None:
            return [strip_control(f"release-audit: {self.ctx.options.model} (unresolved)")]
        try:
            policy = self.ctx.policy.source
        except AuditError:
            policy = "invalid"
        where = redact_uri(self.ctx.tracking_uri)
        return [
            strip_control(f"release-audit: {handle.ref.label} run {handle.run_id} from {where}"),
            strip_control(f"release-audit: target {self.ctx.target}, policy {policy}"),
        ]

    # -- collection / run ---------------------------------------------------------------------
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors += 1
            text = str(report.longrepr).strip().splitlines()
            last = text[-1] if text else "collection failed"
            last = last[2:] if last.startswith("E ") else last  # pytest's error-line marker
            self.errors.append(f"collection error in {report.nodeid or 'session'}: {' '.join(last.split())[:300]}")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected_checks += sum(1 for i in items if i.get_closest_marker("compliance") is not None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "release_audit", None)
        if payload is None:
            payload = self._payload_for_unmarked(report)
            if payload is None:
                self._block_on_crash(report)
                return
        record = self.records.get(report.nodeid)
        if record is None:
            record = self.records[report.nodeid] = TestRecord(nodeid=report.nodeid, payload=payload)
        record.add(report.when or "call", report.outcome, payload, float(report.duration or 0.0),
                   bool(getattr(report, "wasxfail", None)) and report.when == "call")

    def _block_on_crash(self, report: pytest.TestReport) -> None:
        """A test that crashed its xdist worker (xdist reports it with ``when='???'``).

        The controller never collected it, so it cannot tell a user's compliance check from an
        ordinary test: fail closed, or a crashed check would simply be missing from a READY audit.
        """
        if report.failed and report.when not in ("setup", "call", "teardown"):
            text = " ".join(str(report.longrepr).split())[:300]
            self.errors.append(f"{report.nodeid} crashed ({text}): a crashed test blocks the audit; "
                               "run it without -n to see why")

    def _payload_for_unmarked(self, report: pytest.TestReport) -> dict[str, Any] | None:
        """A built-in check's report without payload: its worker crashed mid-test."""
        path, _, name = report.nodeid.partition("::")
        if Path(path).name not in {p.name for p in CHECKS_DIR.glob("test_*.py")} or not report.failed:
            return None
        text = str(report.longrepr).strip().splitlines()
        return {
            "id": name.split("[")[0].removeprefix("test_"),
            "title": name,
            "controls": [],
            "severity": "required",
            "builtin": True,
            "message": "check crashed: " + (" ".join(text[-1].split())[:300] if text else "no report"),
        }

    # -- finish --------------------------------------------------------------------------------
    def _not_run_reason(self, session: pytest.Session) -> str:
        if self.errors and not self.records:
            return "the audit could not start (see errors)"
        reasons = []
        if self.deselected_checks:
            reasons.append("deselected (-k / -m / --deselect)")
        if self.collection_errors:
            reasons.append("collection failed")
        if session.shouldstop or session.shouldfail:
            reasons.append("the session stopped early")
        return " or ".join(reasons) or "not collected, deselected, or its worker crashed"

    def _environment(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        env: dict[str, Any] = {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "pytest": pytest.__version__,
            "tracking_uri": redact_uri(self.ctx.tracking_uri) if "tracking_uri" in self.ctx.__dict__ else None,
            "rootdir": str(self.ctx.rootdir),
            "xdist_workers": getattr(self.config.option, "numprocesses", None) or 0,
        }
        for package in ("mlflow", "presidio-analyzer", "bandit", "reuse", "lifelines", "scikit-learn"):
            try:
                env[package] = version(package)
            except PackageNotFoundError:
                env[package] = None
        try:
            env["policy"] = self.ctx.policy.source
        except AuditError:
            env["policy"] = None
        return env

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.option.collectonly:
            return  # nothing ran: no verdict, no reports, no trail entry
        handle, _ = self.ctx.try_handle()
        baseline_ref = None
        if handle is not None:
            try:
                base, reason = self.ctx.baseline
                baseline_ref = base.ref if base is not None else None
                if base is None and reason:
                    self.notes.append(f"baseline: {reason}")
            except AuditError as exc:
                self.notes.append(f"baseline: {exc}")
        try:
            policy = self.ctx.policy
            target = self.ctx.target
        except AuditError:
            policy, target = None, self.ctx.options.target or "production"
        model_ref = handle.ref if handle is not None else ModelRef(
            name=self.ctx.options.model, version="unresolved", alias=None, run_id=None, uri=None
        )
        self.result = build_result(
            records=list(self.records.values()),
            policy=policy,
            model=model_ref,
            baseline=baseline_ref,
            target=target,
            started_at=self.ctx.started_at,
            tool_version=tool_version(),
            errors=self.errors,
            environment=self._environment(),
            audit_id=self.audit_id,
            not_run_reason=self._not_run_reason(session),
        )
        from pytest_release_audit.report.writer import finish_audit

        self.result, self.paths, notes = finish_audit(self.config, self.ctx, self.result, handle, policy)
        self.notes.extend(notes)
        if not self.result.ready and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.result is None:
            return
        from pytest_release_audit.report.terminal import write_summary

        write_summary(terminalreporter, self.result, self.paths, self.notes)
