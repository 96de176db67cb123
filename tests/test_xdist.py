# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit under pytest-xdist: same verdict and report, written once, by the controller.

The matrix of syrupy's own tests: no xdist, ``-n0`` and ``-n 2``. The built-in checks run in
their own clean session whatever ``-n`` says; the user's compliance checks run on the xdist
workers. A conftest in the audited directory records each process's role and who calls the
``report_written`` hook.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MODES: dict[str, tuple[str, ...]] = {"no-xdist": (), "n0": ("-n0",), "n2": ("-n", "2")}

#: Loaded into every process of the audited session (controller and xdist workers). It patches
#: nothing (the audit would rightly call that a modification of its code): it records which
#: process is which, and who calls the ``report_written`` hook.
CALL_RECORDER = '''
import json
import os
from pathlib import Path

CALLS = Path(__file__).parent / "calls"
_role = {}


def _record(call, key):
    CALLS.mkdir(exist_ok=True)
    with (CALLS / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "role": _role.get("role"), "call": call, "key": key}) + "\\n")


def pytest_configure(config):
    _role["role"] = "worker" if hasattr(config, "workerinput") else "controller"
    _record("configure", None)


def pytest_release_audit_report_written(result, paths):
    _record("report_written", sorted(paths))
'''


def calls(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    folder = pytester.path / "calls"
    records = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        records.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return records


def trail_records(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    log = pytester.path / "audit-reports" / "audit_log.jsonl"
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


#: Wall-clock measurements, wherever they sit in the report (checks time their scans; ``latency``
#: measures prediction times, which depend on what else the machine runs).
TIMING_KEYS = frozenset({"duration_s", "seconds", "elapsed_s", "rows_per_s", "throughput_rps"})


def _timing(key: Any) -> bool:
    return key in TIMING_KEYS or str(key).endswith("_ms")


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not _timing(k)}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def normalized(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between any two runs: ids, clocks, timings, worker count."""
    out = _without_timings(copy.deepcopy(report))
    for key in ("audit_id", "started_at", "finished_at"):
        out.pop(key, None)
    out["environment"].pop("xdist_workers", None)
    for check in out.get("checks", []):
        if check.get("id") == "latency":  # its line quotes the measured figures
            check["summary"] = re.sub(r"[0-9][0-9,.]*", "#", check.get("summary", ""))
    return out


def diff_paths(a: Any, b: Any, path: str = "", limit: int = 8) -> list[str]:
    """Where two JSON values differ, as 'path: a != b' lines (at most ``limit``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            out += diff_paths(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}/{key}", limit)
        return out[:limit]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += diff_paths(x, y, f"{path}[{i}]", limit)
        return out[:limit]
    return [] if a == b else [f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]


def run_audit(audit: Any, *args: str) -> tuple[pytest.RunResult, dict[str, Any], list[dict[str, Any]], int]:
    """One audit in ``audit``'s directory: (result, report, calls of this run, new trail records)."""
    before = len(trail_records(audit.pytester))
    folder = audit.pytester.path / "calls"
    for stale in folder.glob("*.jsonl") if folder.is_dir() else []:
        stale.unlink()
    result = audit.run("cl_unimodal_v2", *args)
    return result, audit.report(), calls(audit.pytester), len(trail_records(audit.pytester)) - before


@pytest.fixture
def recorded_audit(audit: Any) -> Any:
    """An Audit against the demo registry whose directory records the audit's expensive calls."""
    audit.pytester.makeconftest(CALL_RECORDER)
    return audit


@pytest.mark.parametrize("mode", list(MODES))
def test_each_check_once_reports_and_trail_written_once_by_the_controller(recorded_audit, mode):
    result, report, records, new_trail = run_audit(recorded_audit, *MODES[mode])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    ids = [c["id"] for c in report["checks"]]
    assert len(ids) == len(set(ids)), f"checks reported more than once: {[i for i, n in Counter(ids).items() if n > 1]}"
    nodeids = [c["nodeid"] for c in report["checks"] if c["nodeid"]]
    assert len(nodeids) == len(set(nodeids))
    ran = {c["id"] for c in report["checks"] if "did not run" not in (c["summary"] or "")}
    assert ran == set(ids), f"checks that did not run under {mode}: {sorted(set(ids) - ran)}"
    assert report["environment"]["xdist_workers"] == (2 if mode == "n2" else 0)

    written = [r for r in records if r["call"] == "report_written"]
    assert len(written) == 1 and written[0]["role"] == "controller", written
    assert new_trail == 1, f"{new_trail} trail records for one audit"
    assert trail_records(recorded_audit.pytester)[-1]["audit_id"] == report["audit_id"]

    roles = {r["pid"]: r["role"] for r in records}
    workers = {pid for pid, role in roles.items() if role == "worker"}
    assert len(workers) == (2 if mode == "n2" else 0), roles
    builtin = [c for c in report["checks"] if c["nodeid"] and c["nodeid"].startswith("test_")]
    assert len(builtin) >= 16, "every built-in check ran (in the clean checks session) whatever -n says"


def test_parallel_run_gives_the_serial_report(recorded_audit):
    serial_result, serial, _, _ = run_audit(recorded_audit)
    parallel_result, parallel, _, _ = run_audit(recorded_audit, "-n", "2")
    assert parallel["status"] == serial["status"]
    assert (parallel_result.ret == 0) == (serial_result.ret == 0)
    assert [c["id"] for c in parallel["checks"]] == [c["id"] for c in serial["checks"]]
    a, b = normalized(serial), normalized(parallel)
    differing = [diff_paths(c, d, c["id"]) for c, d in zip(a["checks"], b["checks"], strict=True)]
    assert not [d for d in differing if d], f"changed under -n 2: {[line for d in differing for line in d]}"
    assert a == b

