# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The built-in suite runs in a clean child pytest session, where no project code runs.

A project's ``conftest.py``, its ``-p`` plugins and ``addopts`` are imported into the user's
pytest session before any test and can patch anything there. So the user's session never runs
the built-in checks: ``ChecksChild`` starts a second pytest process over the plugin's own
``checks/`` modules with ``--noconftest``, an isolated rootdir and ini file of its own
(``python_files`` / ``python_functions`` fixed, no ``addopts``), plugin autoloading off, and the
audit's options passed explicitly in a spec file, the model version pinned to the one the user's
session resolved. The child sends every check's reports back over a pipe (``ChildRecorder``); the
user's session merges them with its own compliance tests and computes the one verdict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.isolation import TRUSTED_ENV, child_env

if TYPE_CHECKING:  # pragma: no cover
    import pytest

    from pytest_release_audit.report.build import TestRecord
    from pytest_release_audit.session import AuditContext

CHECKS_DIR = Path(__file__).parent / "checks"
SPEC_ENV = "RELEASE_AUDIT_CHILD_SPEC"
#: The child's ini file: the built-in suite is collected whatever the project configured.
CHILD_INI = """[pytest]
python_files = test_*.py
python_classes = Test*
python_functions = test_*
addopts =
console_output_style = classic
"""
#: ``--tb`` styles the checks child renders a built-in check's unexpected error in.
CHILD_TB_STYLES = ("auto", "long", "short", "native")


def child_spec() -> dict[str, Any] | None:
    """In the checks child: the spec its parent wrote (None in any other session)."""
    path = TRUSTED_ENV.get(SPEC_ENV)
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        spec: dict[str, Any] = json.load(fh)
    return spec


@dataclass
class ChildOutcome:
    """What the child reported: one record per check item, and setup or collection errors."""

    records: list[TestRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resolved: dict[str, Any] = field(default_factory=dict)  # the model / baseline versions it audited
    masks: dict[str, str] = field(default_factory=dict)  # what the pii check flagged (``masking``)
    #: (check id, message, traceback) of each unexpected exception in a check (a bug).
    tracebacks: list[tuple[str, str, str]] = field(default_factory=list)


class ChecksChild:
    """Starts the built-in suite in a child pytest process and collects its results."""

    def __init__(self, ctx: AuditContext, out_dir: Path, timeout_s: float, exchange_dir: Path,
                 tbstyle: str = "short") -> None:
        self.ctx = ctx
        self.tbstyle = tbstyle if tbstyle in CHILD_TB_STYLES else "short"
        self.out_dir = out_dir
        self.timeout_s = timeout_s
        self._dir = exchange_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._chunks: list[bytes] = []
        self._reader: threading.Thread | None = None
        self._started = 0.0

    def start(self) -> None:
        options = self.ctx.options
        spec: dict[str, Any] = {
            "options": {
                "model": options.model, "baseline": options.baseline, "target": options.target,
                "tracking_uri": self.ctx.tracking_uri, "policy": options.policy, "source": options.source,
                "out": str(self.out_dir), "promote": False, "notify": None, "only": True,
                "checks": options.checks, "data": list(options.data), "endpoint": options.endpoint,
            },
            "rootdir": str(self.ctx.rootdir),
            "invocation_dir": str(self.ctx.invocation_dir),
            "exchange_dir": str(self._dir),
        }
        read_fd, write_fd = os.pipe()
        spec["result_fd"] = write_fd
        spec_path = self._dir / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        ini = self._dir / "pytest.ini"
        ini.write_text(CHILD_INI, encoding="utf-8")
        argv = [
            sys.executable, "-P", "-m", "pytest",
            "-p", "pytest_release_audit.plugin", "-p", "no:cacheprovider", "-p", "no:randomly",
            "--noconftest", "-c", str(ini), "--rootdir", str(self._dir),
            "-o", "cache_dir=" + str(self._dir / ".cache"),
            "-q", f"--tb={self.tbstyle}", "-W", "ignore::DeprecationWarning",
            str(CHECKS_DIR),
        ]
        log = (self._dir / "child.log").open("wb")
        try:
            self._proc = subprocess.Popen(
                argv, cwd=self._dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=child_env({SPEC_ENV: str(spec_path)}), pass_fds=(write_fd,), start_new_session=True,
            )
        finally:
            os.close(write_fd)
            log.close()
        self._started = time.monotonic()
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                self._chunks.append(chunk)

    def _log_tail(self, lines: int = 3) -> str:
        try:
            text = (self._dir / "child.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(kept[-lines:])[:400]

    def wait(self) -> ChildOutcome:
        """Wait for the child (up to its time limit) and return what it reported."""
        from pytest_release_audit.report.build import TestRecord

        outcome = ChildOutcome()
        proc = self._proc
        if proc is None:
            outcome.errors.append("built-in checks were not started")
            return outcome
        left = max(self.timeout_s - (time.monotonic() - self._started), 1.0)
        # The results arrive when the child's session finishes; its own teardown (garbage
        # collection, stopping its model workers) overlaps the parent's finish (see ``cleanup``).
        if self._reader is not None:
            self._reader.join(timeout=left)
        if self._reader is None or self._reader.is_alive():
            self.kill()
            outcome.errors.append(
                f"built-in checks did not finish within {self.timeout_s:g} s and were stopped: raise "
                "[tool.release_audit.audit] checks_timeout_s or find the slow check in the child log"
            )
            return outcome
        outcome.seconds = round(time.monotonic() - self._started, 3)
        data = b"".join(self._chunks)
        try:
            payload = json.loads(data) if data else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                code = proc.returncode
            why = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            tail = self._log_tail()
            outcome.errors.append(
                f"built-in checks process ended without results ({why}){': ' + tail if tail else ''}"
            )
            return outcome
        for item in payload.get("records") or []:
            record = TestRecord(nodeid=str(item["nodeid"]), payload=dict(item["payload"]))
            for when, result, duration, wasxfail, event in item["events"]:
                record.add(when, result, dict(event), float(duration), bool(wasxfail))
            outcome.records.append(record)
        outcome.errors.extend(str(e) for e in payload.get("errors") or [])
        outcome.resolved = dict(payload.get("resolved") or {})
        masks = payload.get("masks")
        outcome.masks = {str(k): str(v) for k, v in masks.items()} if isinstance(masks, dict) else {}
        outcome.tracebacks = [(str(i), str(m), str(t)) for i, m, t in payload.get("tracebacks") or []]
        return outcome

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            import signal

            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait()

    def cleanup(self, grace_s: float = 0.0) -> None:
        """Let the child end on its own for ``grace_s`` seconds, then stop it and remove its files."""
        proc = self._proc
        if proc is not None and grace_s > 0:
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        import shutil

        shutil.rmtree(self._dir, ignore_errors=True)


SCORES_FILE = "scores.npz"
SCORES_DONE = "scores.json"
#: The plain-JSON fields of ``session.Scores`` that travel beside the arrays.
SCORE_FACTS = ("baseline_error", "classes", "output_rule", "baseline_output_rule", "label_only",
               "baseline_label_only", "output_note", "baseline_output_note")


def publish_scores(ctx: AuditContext, exchange_dir: Path) -> None:
    """In the checks child: compute the evaluation scores now and publish them for the user's session.

    Run in a thread at the child's session start, so the models load in their workers while the
    data checks run, and the user's compliance tests (``audit_scores``) reuse these scores
    instead of loading the models a second time.
    """
    import numpy as np

    from pytest_release_audit.errors import AuditError

    try:
        scores = ctx.scores
    except AuditError as exc:
        status: dict[str, Any] = {"ok": False, "type": exc.__class__.__name__, "error": str(exc)}
    else:
        arrays: dict[str, Any] = {"candidate": scores.candidate}
        if scores.baseline is not None:
            arrays["baseline"] = scores.baseline
        np.savez(exchange_dir / SCORES_FILE, **arrays)
        status = {"ok": True, **{name: getattr(scores, name) for name in SCORE_FACTS}}
    from pytest_release_audit.files import write_atomic

    write_atomic(exchange_dir / SCORES_DONE, json.dumps(status))


def read_scores(exchange_dir: Path, timeout_s: float) -> Any:
    """In the user's session: the scores the checks child published (waits for them)."""
    import numpy as np

    from pytest_release_audit import errors
    from pytest_release_audit.session import Scores

    done = exchange_dir / SCORES_DONE
    deadline = time.monotonic() + timeout_s
    while not done.exists():
        if time.monotonic() > deadline:
            raise errors.ModelLoadError(f"the built-in checks published no scores within {timeout_s:g} s")
        time.sleep(0.05)
    status = json.loads(done.read_text(encoding="utf-8"))
    if not status.get("ok"):
        kind = getattr(errors, str(status.get("type")), errors.AuditError)
        if not (isinstance(kind, type) and issubclass(kind, errors.AuditError)):
            kind = errors.AuditError
        raise kind(str(status.get("error")))
    with np.load(exchange_dir / SCORES_FILE, allow_pickle=False) as data:
        candidate = data["candidate"]
        baseline = data["baseline"] if "baseline" in data.files else None
    classes = status.get("classes")
    return Scores(
        candidate=candidate,
        baseline=baseline,
        baseline_error=status.get("baseline_error"),
        classes=tuple(str(c) for c in classes) if isinstance(classes, list) else None,
        output_rule=str(status.get("output_rule") or ""),
        baseline_output_rule=status.get("baseline_output_rule"),
        label_only=bool(status.get("label_only")),
        baseline_label_only=bool(status.get("baseline_label_only")),
        output_note=str(status.get("output_note") or ""),
        baseline_output_note=str(status.get("baseline_output_note") or ""),
    )


class ChildRecorder:
    """In the checks child: records every check's reports and sends them to the parent at the end."""

    def __init__(self, result_fd: int, ctx: AuditContext, exchange_dir: Path) -> None:
        self.result_fd = result_fd
        self.ctx = ctx
        self.exchange_dir = exchange_dir
        self.records: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.tracebacks: list[tuple[str, str, str]] = []
        self._prefetch: threading.Thread | None = None

    def pytest_sessionstart(self) -> None:
        self._prefetch = threading.Thread(target=publish_scores, args=(self.ctx, self.exchange_dir), daemon=True)
        self._prefetch.start()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.errors.append(f"built-in suite collection error in {report.nodeid or 'session'}: "
                               f"{' '.join((text[-1] if text else 'failed').split())[:300]}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "release_audit", None)
        if payload is None:
            return
        entry = self.records.setdefault(report.nodeid, {"nodeid": report.nodeid, "payload": payload, "events": []})
        entry["payload"] = payload
        if payload.get("traceback"):
            self.tracebacks.append((str(payload["id"]), str(payload.get("message")), str(payload["traceback"])))
        entry["events"].append([report.when or "call", report.outcome, float(report.duration or 0.0),
                                bool(getattr(report, "wasxfail", None)) and report.when == "call", payload])

    def pytest_sessionfinish(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join()
        from pytest_release_audit.handle.resolve import pin_of

        resolved: dict[str, Any] = {}
        handle, _ = self.ctx.try_handle()
        if handle is not None:
            resolved["model"] = pin_of(handle)
            try:
                base, _reason = self.ctx.baseline
                resolved["baseline"] = pin_of(base) if base is not None else None
            except Exception:  # noqa: BLE001 - the checks already reported why; only the pin is missing
                resolved["baseline"] = None
        from pytest_release_audit.masking import process_masker

        data = json.dumps({"records": list(self.records.values()), "errors": self.errors,
                           "resolved": resolved, "masks": process_masker().table(),
                           "tracebacks": self.tracebacks}).encode("utf-8")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.result_fd, view):]
        finally:
            os.close(self.result_fd)
        # Nothing this session allocated needs collecting any more: freezing it makes pytest's
        # teardown collections (unraisable-exception detection) cheap while the parent finishes.
        import gc

        gc.freeze()
