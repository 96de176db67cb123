# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""AuditReporter: the controller-side plugin object (as ``_pytest/junitxml.LogXML``).

Registered only in the user's session and only on the controller (never on xdist workers). At
session start it resolves the model and starts the built-in suite in its clean child session
(``suite.ChecksChild``); during the run it records the user's own compliance checks; at the end
it merges the child's results, checks that the audit's code was not modified in this process
(``integrity``), computes the one verdict and hands it to ``finish`` (reports, promotion,
notification, trail). pytest's exit code follows the verdict.
"""

from __future__ import annotations

import platform
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from pytest_release_audit.errors import AuditError, redact
from pytest_release_audit.files import utc_stamp
from pytest_release_audit.marker import compliance_info, marker_problem
from pytest_release_audit.policy import BUILTIN_CHECKS
from pytest_release_audit.report.build import TestRecord, build_result
from pytest_release_audit.report.model import AuditResult, ModelRef
from pytest_release_audit.session import AuditContext
from pytest_release_audit.stash import verdict_key
from pytest_release_audit.suite import ChecksChild, ChildOutcome

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle

#: Options after which nothing a run does is release evidence: no child, no reports, no trail.
INFO_OPTIONS = (("collectonly", "--collect-only"), ("setuponly", "--setup-only"), ("setupplan", "--setup-plan"),
                ("showfixtures", "--fixtures"), ("show_fixtures_per_test", "--fixtures-per-test"))


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-release-audit")
    except PackageNotFoundError:
        return "0+unknown"


def _same_version(pin: dict[str, Any], handle: ModelHandle) -> bool:
    """Whether the checks child audited the version this session will report and promote."""
    return (str(pin.get("name")), str(pin.get("version")), pin.get("run_id")) == (
        handle.name, str(handle.version), handle.run_id)


class AuditReporter:
    """Collects check outcomes and produces the audit at session end."""

    def __init__(self, config: pytest.Config, ctx: AuditContext) -> None:
        self.config = config
        self.ctx = ctx
        self.records: dict[str, TestRecord] = {}
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.deselected: list[str] = []  # ids of deselected compliance checks
        self.known: dict[str, dict[str, Any]] = {}  # marker info of every compliance check seen
        self.collected: dict[str, str] = {}  # compliance nodeid -> check id
        self.collection_errors = 0
        self.child: ChecksChild | None = None
        self.result: AuditResult | None = None
        self.paths: dict[str, str] = {}
        self.tracebacks: list[tuple[str, str, str]] = []  # (check id, message, traceback): bugs in built-in checks
        self.audit_id = utc_stamp() + "-" + uuid.uuid4().hex[:8]
        import tempfile
        from pathlib import Path

        # Private to this audit (0700): the checks child's spec, log, results and published scores.
        ctx.exchange_dir = Path(tempfile.mkdtemp(prefix="release-audit-suite-"))

    # -- start ---------------------------------------------------------------------------------
    def info_option(self) -> str | None:
        """The info option this run was given (nothing it does is an audit), or None."""
        for dest, flag in INFO_OPTIONS:
            if getattr(self.config.option, dest, False):
                return flag
        return None

    @property
    def tbstyle(self) -> str:
        """pytest's ``--tb`` style for this run."""
        return str(getattr(self.config.option, "tbstyle", "auto") or "auto")

    def start_checks(self) -> None:
        """Start the built-in suite's child session (unless the options or policy are unusable)."""
        if self.info_option() is not None:
            return
        try:
            self.ctx.validate()
            timeout = float(self.ctx.policy.section("audit")["checks_timeout_s"])
            artifacts = self.ctx.artifacts_dir
        except (AuditError, OSError):
            return  # named at session start
        assert self.ctx.exchange_dir is not None
        self.child = ChecksChild(self.ctx, artifacts, timeout, self.ctx.exchange_dir, self.tbstyle)
        from pytest_release_audit.isolation import set_dumpable

        # The child starts model workers of our user; none of them may ptrace this session.
        set_dumpable(False)
        try:
            self.child.start()
        except OSError as exc:
            self.errors.append(f"cannot start the built-in checks ({exc.__class__.__name__}: {exc})")
            self.child = None

    def close_child(self) -> None:
        """Wait briefly for the checks child to end (it tears down after sending its results), then stop it."""
        child, self.child = self.child, None
        if child is not None:
            child.cleanup(grace_s=30.0)

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
        where = redact(self.ctx.tracking_uri)
        return [
            strip_control(f"release-audit: {handle.ref.label} run {handle.run_id} from {where}"),
            strip_control(f"release-audit: target {self.ctx.target}, policy {policy}; built-in checks run in a "
                          "separate clean session"),
        ]

    # -- collection / run ---------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("compliance")
            if marker is None:
                continue
            problem = marker_problem(marker)
            if problem:
                self.errors.append(f"collection error in {item.nodeid}: compliance marker {problem}")
                continue
            info = compliance_info(item)
            assert info is not None
            if info["id"] in BUILTIN_CHECKS:
                self.errors.append(
                    f"collection error in {item.nodeid}: check id {info['id']!r} is reserved for the built-in "
                    "check; give your check another id"
                )
                continue
            self.collected[item.nodeid] = info["id"]
            self.known.setdefault(info["id"], info)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors += 1
            text = str(report.longrepr).strip().splitlines()
            last = text[-1] if text else "collection failed"
            last = last[2:] if last.startswith("E ") else last  # pytest's error-line marker
            self.errors.append(f"collection error in {report.nodeid or 'session'}: {' '.join(last.split())[:300]}")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = compliance_info(item)
            if info is not None:
                self.deselected.append(info["id"])
                self.known.setdefault(info["id"], info)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "release_audit", None)
        if payload is None:
            self._block_on_crash(report)
            return
        if payload.get("id") in BUILTIN_CHECKS:
            return  # named at collection: a user test may not report as a built-in check
        record = self.records.get(report.nodeid)
        if record is None:
            record = self.records[report.nodeid] = TestRecord(nodeid=report.nodeid, payload=payload)
        record.add(report.when or "call", report.outcome, payload, float(report.duration or 0.0),
                   bool(getattr(report, "wasxfail", None)) and report.when == "call")

    def _block_on_crash(self, report: pytest.TestReport) -> None:
        """A test that crashed its xdist worker (xdist reports it with ``when='???'``).

        The controller cannot tell a user's compliance check from an ordinary test then: fail
        closed, or a crashed check would simply be missing from a READY audit.
        """
        if report.failed and report.when not in ("setup", "call", "teardown"):
            text = " ".join(str(report.longrepr).split())[:300]
            self.errors.append(f"{report.nodeid} crashed ({text}): a crashed test blocks the audit; "
                               "run it without -n to see why")

    # -- finish --------------------------------------------------------------------------------
    def _partial_reason(self, session: pytest.Session) -> str | None:
        """Why this run is not release evidence (None for a full run)."""
        reasons = []
        if self.ctx.options.selected_checks is not None:
            reasons.append(f"only some built-in checks ran (--audit-checks={self.ctx.options.checks})")
        if self.deselected:
            reasons.append(f"compliance checks deselected ({', '.join(sorted(set(self.deselected)))})")
        for dest, flag in (("lf", "--last-failed"), ("stepwise", "--stepwise")):
            if getattr(self.config.option, dest, False):
                reasons.append(f"{flag} selects tests by history")
        if session.shouldstop or session.shouldfail:
            reasons.append("the session stopped early (-x / --maxfail)")
        ran = {r.payload["id"] for r in self.records.values() if "call" in r.phases}
        not_run = sorted({i for i in self.collected.values() if i not in ran})
        if not_run and not reasons:
            reasons.append(f"compliance checks collected but not run ({', '.join(not_run)})")
        if self.ctx.try_handle()[0] is None:
            reasons.append("the model was not resolved")
        return "; ".join(reasons) or None

    def _not_run_reason(self, session: pytest.Session) -> str:
        if self.errors and (self.child is None or self.ctx.try_handle()[0] is None):
            return "the audit could not start (see ERROR 1)"
        reasons = []
        if self.ctx.options.selected_checks is not None:
            reasons.append("not selected (--audit-checks)")
        if self.deselected:
            reasons.append("deselected (-k / -m / --deselect)")
        if self.collection_errors:
            reasons.append("collection failed")
        if session.shouldstop or session.shouldfail:
            reasons.append("the session stopped early")
        return " or ".join(reasons) or "not collected (check the test paths and --ignore), or its worker crashed"

    def _environment(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        env: dict[str, Any] = {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "pytest": pytest.__version__,
            "tracking_uri": redact(self.ctx.tracking_uri) if "tracking_uri" in self.ctx.__dict__ else None,
            "rootdir": str(self.ctx.rootdir),
            "xdist_workers": getattr(self.config.option, "numprocesses", None) or 0,
            "builtin_checks": "separate clean pytest session (no project conftest, plugins or addopts)",
        }
        for package in ("mlflow", "presidio-analyzer", "bandit", "reuse", "lifelines", "scikit-learn", "modelscan"):
            try:
                env[package] = version(package)
            except PackageNotFoundError:
                env[package] = None
        try:
            env["policy"] = self.ctx.policy.source
        except AuditError:
            env["policy"] = None
        return env

    def _child_outcome(self) -> ChildOutcome:
        if self.child is None:
            return ChildOutcome()
        outcome = self.child.wait()
        handle, _ = self.ctx.try_handle()
        audited = outcome.resolved.get("model")
        if handle is not None and audited and not _same_version(audited, handle):
            outcome.errors.append(
                f"the registry changed during the audit: the built-in checks audited {audited.get('name')} "
                f"v{audited.get('version')}, this session resolved {handle.name} v{handle.version} (an alias "
                "moved): audit again"
            )
        return outcome

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        info = self.info_option()
        if info is not None:
            self.ctx.discard_artifacts()
            self.notes.append(f"no audit: {info} is an info run (nothing was written); run without it to audit")
            self.result = None
            self.config.stash[verdict_key] = "BLOCKED"
            if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        child = self._child_outcome()
        from pytest_release_audit import integrity

        modified = integrity.modified_code()
        errors = [*self.errors, *child.errors]
        if modified:
            errors.insert(0, f"audit code was modified during the run ({', '.join(modified[:6])}"
                             f"{', ...' if len(modified) > 6 else ''}): a conftest, plugin or test of the audited "
                             "project patched the audit; the verdict cannot be trusted")
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
        partial = self._partial_reason(session)
        version = tool_version()
        from pytest_release_audit.masking import Masker

        # What the pii check flagged is masked in every record, error and note before anything renders.
        masker = self.ctx.masker = Masker(child.masks)
        from pytest_release_audit.isolation import secret_values

        for raw, shown in secret_values().items():  # the CI's secrets, should project code have copied one
            masker.add(raw, shown)
        records = [*child.records, *self.records.values()]
        for record in records:
            record.payload = masker.apply(record.payload)
            record.message = masker.text(record.message)
        errors = [masker.text(e) for e in errors]
        self.tracebacks = [(i, masker.text(m), masker.text(t)) for i, m, t in child.tracebacks]
        self.notes = [masker.text(n) for n in self.notes]
        self.result = build_result(
            records=records,
            policy=policy,
            model=model_ref,
            baseline=baseline_ref,
            target=target,
            started_at=self.ctx.started_at,
            tool_version=version,
            errors=errors,
            environment=self._environment(),
            audit_id=self.audit_id,
            not_run_reason=self._not_run_reason(session),
            partial=partial,
            integrity=integrity.fingerprint(self.config, version),
            known_checks=self.known,
            selected=self.ctx.options.selected_checks,
        )
        from pytest_release_audit.finish import finish_audit

        try:
            self.result, self.paths, notes = finish_audit(self.config, self.ctx, self.result, handle, policy)
        finally:
            self.close_child()
        self.notes.extend(masker.text(n) for n in notes)
        self.config.stash[verdict_key] = self.result.status
        if not self.result.ready and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif self.result.ready and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK  # the checks ran in their own session

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self._write_tracebacks(terminalreporter)
        if self.result is None:
            for note in self.notes:
                terminalreporter.write_line(f"release-audit: {note}", yellow=True)
            return
        from pytest_release_audit.report.terminal import write_summary

        write_summary(terminalreporter, self.result, self.paths, self.notes)

    def _write_tracebacks(self, terminalreporter: Any) -> None:
        """The traceback of each bug in a built-in check, as ``--tb`` asks (the child ran it)."""
        if self.tbstyle == "no" or not self.tracebacks:
            return
        from pytest_release_audit.report.text import clean

        terminalreporter.write_sep("=", "release-audit: unexpected errors in built-in checks")
        for check_id, message, text in self.tracebacks:
            if self.tbstyle == "line":
                terminalreporter.write_line(clean(f"[{check_id}] {message}"))
                continue
            terminalreporter.write_sep("_", clean(check_id))
            for line in clean(text, multiline=True).splitlines():
                terminalreporter.write_line(line)
