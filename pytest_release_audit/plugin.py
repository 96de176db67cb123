# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The pytest hooks: options, compliance markers, evidence capture, the verdict's exit code.

Thin on purpose: inputs live in ``session.AuditContext``, the built-in suite's clean child
session in ``suite``, the verdict in ``report.build``, the session end in ``reporter``. Without
``--audit-model`` the plugin only registers its marker and skips compliance-marked tests;
nothing heavy is imported.

Two kinds of session load this plugin:

* the **user's session** (``pytest --audit-model=M``): runs the project's own tests and
  compliance checks, starts the built-in suite in a child process and merges its results;
* the **checks child** (``suite.ChecksChild``): a clean session over ``checks/`` that loads no
  project conftest, plugin or ``addopts``; it only records and returns its results.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imported at plugin load, before any conftest of the audited repository: it snapshots the
# environment the CI set (see isolation.TRUSTED_ENV).
from pytest_release_audit import isolation  # noqa: F401
from pytest_release_audit.errors import AuditError, describe_exception, mask_values, redact
from pytest_release_audit.evidence import plain_json
from pytest_release_audit.marker import MARKER_HELP, compliance_info
from pytest_release_audit.report.text import one_line
from pytest_release_audit.session import AuditContext, get_options
from pytest_release_audit.stash import context_key, evidence_key, reporter_key, verdict_key
from pytest_release_audit.suite import CHECKS_DIR, child_spec

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Generator

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
     "help": "where reports go (default: audit-reports/<model>-<version>-<target>/)."}),
    ("--audit-promote", "audit_promote", {"action": "store_true", "default": None,
     "help": "when READY: set alias production-candidate, tag the version, publish the model card."}),
    ("--audit-notify", "audit_notify", {"metavar": "URL",
     "help": "POST a Slack-compatible message with the verdict (never data values)."}),
    ("--audit-only", "audit_only", {"action": "store_true", "default": None,
     "help": "run only compliance-marked tests (deselect the user's ordinary tests)."}),
    ("--audit-checks", "audit_checks", {"metavar": "ID,ID",
     "help": "run only these built-in checks (to iterate on one); a partial run, never READY."}),
    ("--audit-endpoint", "audit_endpoint", {"metavar": "URL",
     "help": "live serving endpoint to verify (serving_contract) and time (latency); protocol from policy [serving]."}),
    ("--audit-data", "audit_data", {"metavar": "NAME=PATH", "action": "append", "default": None,
     "help": "the file holding logged dataset NAME (one logged without a file, e.g. by autolog); used only if "
             "it reproduces the logged digest. Repeatable; relative to the invocation directory."}),
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_release_audit import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("release-audit", "ML model release audit (pytest-release-audit)")
    for option, dest, kwargs in _OPTIONS:
        is_flag = kwargs.get("action") == "store_true"
        if kwargs.get("action") == "append":
            parser.addini(dest, type="linelist", default=[], help="Default value for " + option + " (one a line)")
        else:
            parser.addini(dest, type="bool" if is_flag else "string", default=False if is_flag else None,
                          help="Default value for " + option)
        group.addoption(option, dest=dest, **kwargs)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before any conftest loads: remember what the audit's own code is (``integrity``)."""
    known = getattr(early_config, "known_args_namespace", None)
    requested = getattr(known, "audit_model", None) or early_config.getini("audit_model")
    if child_spec() is None and requested:
        from pytest_release_audit import integrity

        integrity.take_baseline(early_config)


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from pytest_release_audit import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "release_audit_fixtures")
    spec = child_spec()
    if spec is not None:
        _configure_child(config, spec)
        return
    options = get_options(config)
    if options is None:
        return
    ctx = AuditContext(options, Path(config.rootpath), Path(config.invocation_params.dir))
    _use_extensions(config, ctx)
    if not is_xdist_worker(config):
        _check_session_start(config, ctx)
    if is_xdist_worker(config):
        exchange = getattr(config, "workerinput", {}).get("release_audit_exchange")
        ctx.exchange_dir = Path(exchange) if exchange else None
    else:
        from pytest_release_audit.reporter import AuditReporter

        reporter = AuditReporter(config, ctx)
        config.stash[reporter_key] = reporter
        config.pluginmanager.register(reporter, "release_audit_reporter")
        reporter.start_checks()  # now: the built-in suite runs while this session collects and runs
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_XdistExchange(ctx), "release_audit_xdist")


def _check_session_start(config: pytest.Config, ctx: AuditContext) -> None:
    """Stop before the user's suite runs when the audit cannot start (``preflight``)."""
    from pytest_release_audit import preflight
    from pytest_release_audit.extensions import load_extensions

    custom = any(hasattr(m, "pytest_release_audit_resolve_handle") for m in load_extensions(config))
    preflight.check_session_start(ctx, custom_resolver=custom)


def pytest_report_header(config: pytest.Config) -> list[str]:
    ctx = config.stash.get(context_key, None)
    if ctx is None or ctx.child:
        return []
    from pytest_release_audit.preflight import policy_notice

    notice = policy_notice(ctx)
    return [notice] if notice else []


class _XdistExchange:
    """Tells each xdist worker where the checks child publishes the scores (as syrupy's workeroutput)."""

    def __init__(self, ctx: AuditContext) -> None:
        self.ctx = ctx

    def pytest_configure_node(self, node: Any) -> None:
        if self.ctx.exchange_dir is not None:
            node.workerinput["release_audit_exchange"] = str(self.ctx.exchange_dir)


def _use_extensions(config: pytest.Config, ctx: AuditContext) -> None:
    """Keep ``ctx`` in the stash, its model resolved by the installed extensions first."""
    from pytest_release_audit.extensions import load_extensions, resolve_by_extension

    load_extensions(config)
    ctx.resolver = functools.partial(resolve_by_extension, config)
    config.stash[context_key] = ctx


def _configure_child(config: pytest.Config, spec: dict[str, Any]) -> None:
    from pytest_release_audit.handle.worker import pool
    from pytest_release_audit.isolation import die_with_parent
    from pytest_release_audit.session import AuditOptions
    from pytest_release_audit.suite import ChildRecorder

    die_with_parent()
    pool().warm()  # the model workers' zygote imports MLflow while this session starts
    options = dict(spec["options"])
    options["data"] = tuple(options.get("data") or ())
    ctx = AuditContext(AuditOptions(**options), Path(spec["rootdir"]), Path(spec["invocation_dir"]), child=True)
    _use_extensions(config, ctx)
    recorder = ChildRecorder(int(spec["result_fd"]), ctx, Path(spec["exchange_dir"]))
    config.pluginmanager.register(recorder, "release_audit_child")


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.stash.get(reporter_key, None)
    if reporter is not None:
        reporter.close_child()
        del config.stash[reporter_key]
        config.pluginmanager.unregister(reporter)
    exchange = config.pluginmanager.get_plugin("release_audit_xdist")
    if exchange is not None:
        config.pluginmanager.unregister(exchange)
    ctx = config.stash.get(context_key, None)
    if ctx is not None:
        ctx.cleanup()
        del config.stash[context_key]
    from pytest_release_audit.handle.worker import pool

    pool().close()


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, Any, Any]:
    """An audit exits 0 only with a READY verdict, whatever ran (``--fixtures``, ``--markers``, ...)."""
    exit_code = yield
    if child_spec() is not None or get_options(config) is None:
        return exit_code
    verdict = config.stash.get(verdict_key, None)
    if verdict == "READY":
        return exit_code
    if verdict is None:
        import sys

        sys.stderr.write("release-audit: BLOCKED: no audit verdict was produced in this run "
                         "(an info option such as --fixtures, --markers or --help ran instead)\n")
    if exit_code in (0, pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED, 5):
        return pytest.ExitCode.TESTS_FAILED
    return exit_code


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The user's session never collects the built-in checks: its clean child runs them."""
    if child_spec() is None and config.stash.get(context_key, None) is not None:
        try:
            collection_path.resolve().relative_to(CHECKS_DIR.resolve())
        except ValueError:
            return None
        return True
    return None


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
    selected = ctx.options.selected_checks if ctx.child else None
    for item in items:
        is_check = item.get_closest_marker("compliance") is not None
        unselected = selected is not None and is_check and (compliance_info(item) or {}).get("id") not in selected
        if (is_check and setup_error) or (not is_check and ctx.options.only) or unselected:
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


#: Longest traceback of a built-in check the checks child sends to the user's session.
MAX_TRACEBACK_CHARS = 20000


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
        payload["summary"] = one_line(evidence.summary, 400)
        payload["artifacts"] = [_relative(a, ctx) for a in evidence.artifacts]
    excinfo = call.excinfo
    if report.skipped and excinfo is not None:
        payload["message"] = one_line(getattr(excinfo.value, "msg", "") or str(excinfo.value), 400)
    elif excinfo is not None and report.failed:
        payload.update(_failure(excinfo.value, info, report))
    report.release_audit = payload  # type: ignore[attr-defined]  # plain JSON: crosses xdist like pytest-html's extras
    return report


def _failure(exc: BaseException, info: dict[str, Any], report: pytest.TestReport) -> dict[str, str]:
    """A failed check's one-line message, and the traceback of a bug in a built-in check.

    An expected failure (an unusable input, a failed assertion, ``pytest.fail``) is one line in
    pytest's output too. An unexpected exception is a bug: pytest's report keeps its traceback
    (``--tb`` decides how much); the checks child also sends it to the user's session, redacted.
    """
    if isinstance(exc, AuditError):
        # An unusable input (a missing dataset, an unreadable store) breaks every check that
        # needs it: the AUDIT REPORT names it once, pytest's own sections just point there.
        report.longrepr = f"[{info['id']}] could not run: an audit input is unusable (named in the AUDIT REPORT)"
        return {"message": one_line(exc, 400)}
    if isinstance(exc, (AssertionError, pytest.fail.Exception)):
        message = one_line((str(exc).strip().splitlines() or ["assertion failed"])[0], 400)
        if info["builtin"]:
            report.longrepr = f"[{info['id']}] {message}"
        return {"message": message}
    out = {"message": one_line(describe_exception(exc), 400)}  # redacted, quoted data values masked
    if info["builtin"]:
        out["traceback"] = _masked_traceback(str(report.longrepr))
    return out


def _masked_traceback(text: str) -> str:
    """``text`` redacted, quoted literals masked outside source lines (exception texts quote data values)."""
    lines = [line if line[:1] in (" ", ">") else mask_values(line) for line in redact(text).splitlines()]
    return "\n".join(lines)[-MAX_TRACEBACK_CHARS:]


def _relative(path: str, ctx: AuditContext) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.artifacts_dir.resolve()))
    except ValueError:
        return str(path)
