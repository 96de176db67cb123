# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The pytest hooks: options, built-in suite collection, evidence capture, verdict at session end.

Thin on purpose: inputs live in ``session.AuditContext``, the verdict in ``report.build``, the
files in ``report.writer``. Without ``--audit-model`` the plugin only registers its marker and
skips compliance-marked tests; nothing heavy is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_release_audit.errors import AuditError
from pytest_release_audit.evidence import plain_json
from pytest_release_audit.session import AuditContext, get_options
from pytest_release_audit.stash import context_key, evidence_key, results_key

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Generator


CHECKS_DIR = Path(__file__).parent / "checks"
reporter_key = pytest.StashKey["AuditReporter"]()

MARKER_HELP = (
    "compliance(id, title='', controls=[], severity='required'): a release-audit compliance check. "
    "It runs when pytest is given --audit-model=NAME and its outcome and audit_evidence land in the "
    "audit report; a required check that fails, errors or skips blocks the release."
)

_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("--audit-model", "audit_model", {"metavar": "NAME[@ALIAS|/VERSION]",
     "help": "model to audit; default alias 'candidate', else latest version. Enables the audit."}),
    ("--audit-baseline", "audit_baseline", {"metavar": "ALIAS",
     "help": "model version to beat: alias of the same model or models:/ URI (default: production)."}),
    ("--audit-target", "audit_target", {"metavar": "ENV",
     "help": "development, staging or production (default): sets the required approvals."}),
    ("--audit-tracking-uri", "audit_tracking_uri", {"metavar": "URI",
     "help": "MLflow tracking/registry URI (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in rootdir)."}),
    ("--audit-policy", "audit_policy", {"metavar": "PATH",
     "help": "policy TOML (default: [tool.release_audit] of the rootdir pyproject.toml)."}),
    ("--audit-source", "audit_source", {"metavar": "PATH",
     "help": "git repository of the training code (default: rootdir); audited at the run's commit."}),
    ("--audit-out", "audit_out", {"metavar": "DIR",
     "help": "where reports go (default: audit-reports/<model>-<version>/)."}),
    ("--audit-promote", "audit_promote", {"action": "store_true", "default": None,
     "help": "when READY: set alias production-candidate, tag the version, publish the model card."}),
    ("--audit-notify", "audit_notify", {"metavar": "URL",
     "help": "POST a Slack-compatible message with the verdict (never data values)."}),
    ("--audit-only", "audit_only", {"action": "store_true", "default": None,
     "help": "run only compliance-marked tests (deselect the user's ordinary tests)."}),
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_release_audit import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("release-audit", "ML model release audit (pytest-release-audit)")
    for option, dest, kwargs in _OPTIONS:
        is_flag = kwargs.get("action") == "store_true"
        parser.addini(dest, type="bool" if is_flag else "string", default=False if is_flag else None,
                      help="Default value for " + option)
        group.addoption(option, dest=dest, **kwargs)


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from pytest_release_audit import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "release_audit_fixtures")
    options = get_options(config)
    if options is None:
        return
    ctx = AuditContext(options, Path(config.rootpath), Path(config.invocation_params.dir))
    config.stash[context_key] = ctx
    config.stash[results_key] = []
    config.pluginmanager.register(ResultsSoFar(config), "release_audit_results_so_far")
    # The built-in suite joins whatever the user collects, once: xdist workers may already
    # receive it from the controller. As a directory argument its nodeids read test_pii.py::...
    if str(CHECKS_DIR) not in {str(Path(a)) for a in config.args}:
        config.args.append(str(CHECKS_DIR))
    if not is_xdist_worker(config):
        from pytest_release_audit.reporter import AuditReporter

        reporter = AuditReporter(config, ctx)
        config.stash[reporter_key] = reporter
        config.pluginmanager.register(reporter, "release_audit_reporter")


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.stash.get(reporter_key, None)
    if reporter is not None:
        del config.stash[reporter_key]
        config.pluginmanager.unregister(reporter)
    collector = config.pluginmanager.get_plugin("release_audit_results_so_far")
    if collector is not None:
        config.pluginmanager.unregister(collector)
    ctx = config.stash.get(context_key, None)
    if ctx is not None:
        ctx.cleanup()
        del config.stash[context_key]


def compliance_info(item: pytest.Item) -> dict[str, Any] | None:
    """The compliance marker's id, title, controls and severity, or None for ordinary tests."""
    marker = item.get_closest_marker("compliance")
    if marker is None:
        return None
    check_id = marker.args[0] if marker.args else marker.kwargs.get("id")
    if not check_id:
        name = getattr(item, "originalname", item.name)
        check_id = name.removeprefix("test_")
    title = marker.kwargs.get("title") or (marker.args[1] if len(marker.args) > 1 else "")
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    return {
        "id": str(check_id),
        "title": str(title or (doc.strip().splitlines() or [str(check_id)])[0]),
        "controls": [str(c) for c in marker.kwargs.get("controls", ())],
        "severity": str(marker.kwargs.get("severity", "required")),
        "builtin": Path(str(item.path)).parent == CHECKS_DIR,
    }


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    ctx = config.stash.get(context_key, None)
    if ctx is None:
        skip = pytest.mark.skip(reason="compliance check: runs only with --audit-model=NAME")
        for item in items:
            if item.get_closest_marker("compliance") is not None:
                item.add_marker(skip)
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    setup_error = _setup_error(ctx)
    for item in items:
        is_check = item.get_closest_marker("compliance") is not None
        if (is_check and setup_error) or (not is_check and ctx.options.only):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    from pytest_release_audit.report.build import ORDER

    def order(item: pytest.Item) -> tuple[int, int]:
        info = compliance_info(item)
        if info is None:
            return (0, 0)
        # model_card and approvals read the other checks' outcomes: run them last.
        return (1, ORDER.get(info["id"], len(ORDER) - 3))

    keep.sort(key=order)  # stable: the user's tests keep their order, checks follow
    items[:] = keep


def _setup_error(ctx: AuditContext) -> str | None:
    try:
        ctx.validate()
    except AuditError as exc:
        return str(exc)
    _handle, error = ctx.try_handle()
    return error


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line[:400]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    info = compliance_info(item)
    if info is None or item.config.stash.get(context_key, None) is None:
        return report
    evidence = item.stash.get(evidence_key, None)
    payload: dict[str, Any] = {**info}
    ctx = item.config.stash[context_key]
    if evidence is not None:
        payload["evidence"] = plain_json(dict(evidence))
        payload["summary"] = _one_line(evidence.summary)
        payload["artifacts"] = [_relative(a, ctx) for a in evidence.artifacts]
    excinfo = call.excinfo
    if report.skipped and excinfo is not None:
        payload["message"] = _one_line(getattr(excinfo.value, "msg", "") or str(excinfo.value))
    elif excinfo is not None and report.failed:
        exc = excinfo.value
        if isinstance(exc, AuditError):
            message = str(exc)
            # An unusable input (a missing dataset, an unreadable store) breaks every check that
            # needs it: the AUDIT REPORT names it once, pytest's own sections just point there.
            report.longrepr = f"[{info['id']}] could not run: an audit input is unusable (named in the AUDIT REPORT)"
        elif isinstance(exc, AssertionError):
            message = (str(exc).strip().splitlines() or ["assertion failed"])[0]
            if info["builtin"]:
                report.longrepr = f"[{info['id']}] {message}"
        else:
            message = f"{exc.__class__.__name__}: {exc}"
            if info["builtin"]:  # an input a built-in check did not foresee: one line, not frames full of data
                report.longrepr = f"[{info['id']}] {_one_line(message)}"
        payload["message"] = _one_line(message)
    report.release_audit = payload  # plain JSON: crosses xdist like pytest-html's extras
    return report


def _relative(path: str, ctx: AuditContext) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.out_dir.resolve()))
    except ValueError:
        return str(path)


class ResultsSoFar:
    """Per-process collector of finished check outcomes (for the ``audit_results_so_far`` fixture)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "release_audit", None)
        if payload is None or report.when != "call":
            return
        from pytest_release_audit.report.model import CheckResult

        self.config.stash[results_key].append(
            CheckResult(
                id=payload["id"],
                title=payload.get("title", ""),
                outcome=report.outcome,
                required=payload.get("severity", "required") == "required",
                controls=tuple(payload.get("controls", ())),
                summary=payload.get("summary") or payload.get("message") or "",
                evidence=payload.get("evidence") or {},
                nodeid=report.nodeid,
            )
        )
