# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The hash-chained audit trail: appends, tamper detection, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

import pytest

from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef
from pytest_release_audit.trail import (
    GENESIS_HASH,
    TrailError,
    append_record,
    build_record,
    canonical_json,
    file_digests,
    record_hash,
    verify_trail,
)


def _trail(path: Path, n: int) -> list[dict]:
    return [append_record(path, {"audit_id": f"a{i}", "verdict": "READY", "note": "é"}) for i in range(n)]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_records_form_a_chain_from_genesis(tmp_path):
    path = tmp_path / "deep" / "dir" / "audit_log.jsonl"
    records = _trail(path, 3)
    assert records[0]["prev_hash"] == GENESIS_HASH
    assert records[1]["prev_hash"] == records[0]["hash"]
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert all(r["hash"] == record_hash(r) for r in records)
    # One canonical JSON line per record, non-ASCII kept as UTF-8.
    first = json.loads(_lines(path)[0])
    assert first == records[0]
    assert "é".encode() in path.read_bytes()
    result = verify_trail(path)
    assert result.ok and result.records == 3 and result.first_broken_index is None
    assert result.warnings == ()
    assert result.last_hash == records[-1]["hash"]


def test_caller_supplied_hash_fields_are_replaced(tmp_path):
    path = tmp_path / "log.jsonl"
    rec = append_record(path, {"x": 1, "hash": "f" * 64, "prev_hash": "e" * 64, "seq": 99})
    assert rec["seq"] == 1 and rec["prev_hash"] == GENESIS_HASH and rec["hash"] != "f" * 64
    assert verify_trail(path).ok


def test_append_never_rewrites_earlier_bytes(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 2)
    before = path.read_bytes()
    append_record(path, {"x": 3})
    assert path.read_bytes().startswith(before)


def test_broken_when_a_record_is_edited(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 4)
    lines = _lines(path)
    lines[1] = lines[1].replace(b'"READY"', b'"BLOCKED"')
    path.write_bytes(b"".join(lines))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 2
    assert "edited" in result.reason and result.records == 1


def test_broken_when_an_edit_also_recomputes_the_hash(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 3)
    lines = _lines(path)
    record = json.loads(lines[0])
    record["verdict"] = "BLOCKED"
    record["hash"] = record_hash(record)
    lines[0] = (canonical_json(record) + "\n").encode()  # a careful forger writes canonical JSON
    path.write_bytes(b"".join(lines))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 2
    assert "prev_hash" in result.reason


def test_broken_when_a_record_is_deleted(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 4)
    lines = _lines(path)
    del lines[1]
    path.write_bytes(b"".join(lines))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 2
    assert "deleted" in result.reason


def test_broken_when_records_are_reordered(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 4)
    lines = _lines(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 3


def test_broken_when_last_line_is_partial(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 3)
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 3
    assert "partial" in result.reason
    # Appending after a partial line would glue two records together: refused, nothing written.
    with pytest.raises(TrailError, match="partial record"):
        append_record(path, {"x": 1})
    assert path.read_bytes() == data[:-20]


def test_broken_when_whole_trailing_records_are_removed(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 4)
    lines = _lines(path)
    path.write_bytes(b"".join(lines[:2]))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 3
    assert "truncated" in result.reason and result.records == 2


def test_broken_when_a_line_is_not_json(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 3)
    lines = _lines(path)
    lines[1] = b"{not json\n"
    path.write_bytes(b"".join(lines))
    result = verify_trail(path)
    assert not result.ok and result.first_broken_index == 2 and "JSON" in result.reason


def test_missing_head_sidecar_is_a_warning_not_a_break(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 2)
    Path(f"{path}.head").unlink()
    result = verify_trail(path)
    assert result.ok and result.records == 2
    assert any("head sidecar" in w for w in result.warnings)


def test_head_lagging_after_interrupted_append_is_a_warning(tmp_path):
    path = tmp_path / "log.jsonl"
    _trail(path, 2)
    head = Path(f"{path}.head")
    saved = head.read_bytes()
    append_record(path, {"x": 3})
    head.write_bytes(saved)  # as if the process died between the line and the head write
    result = verify_trail(path)
    assert result.ok and result.records == 3
    assert any("lags" in w for w in result.warnings)
    append_record(path, {"x": 4})  # the next append heals the head
    assert verify_trail(path).warnings == ()


def test_missing_trail_raises_one_line_error(tmp_path):
    with pytest.raises(TrailError, match="no audit trail at"):
        verify_trail(tmp_path / "nope.jsonl")


def test_append_rejects_a_file_that_is_not_a_trail(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"some": "other log"}\n')
    with pytest.raises(TrailError, match="not an audit trail"):
        append_record(path, {"x": 1})


def test_append_rejects_values_that_are_not_plain_json(tmp_path):
    with pytest.raises(TrailError, match="plain JSON"):
        append_record(tmp_path / "log.jsonl", {"x": float("nan")})


def test_empty_trail_is_valid(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"")
    result = verify_trail(path)
    assert result.ok and result.records == 0


def _append_many(path: str, worker: int, count: int) -> None:
    for i in range(count):
        append_record(path, {"worker": worker, "i": i, "pad": "x" * (i % 7) * 50})


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_concurrent_processes_append_without_loss_or_interleaving(tmp_path):
    path = tmp_path / "log.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 50)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 8
    result = verify_trail(path)
    assert result.ok, result.reason
    assert result.records == 400 and result.warnings == ()
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    seen = {(r["worker"], r["i"]) for r in records}
    assert len(seen) == 400
    # Each writer's own records stay in its order.
    for w in range(8):
        mine = [r["i"] for r in records if r["worker"] == w]
        assert mine == list(range(50))


def _result(status: str = "BLOCKED") -> AuditResult:
    checks = (
        CheckResult(
            id="pii",
            title="PII",
            outcome="failed",
            required=True,
            summary="PII found",
            evidence={"findings": [{"sample": "j***@x.org"}]},
        ),
        CheckResult(id="security", title="Sec", outcome="passed", required=True),
    )
    return AuditResult(
        status=status,
        model=ModelRef(name="cl_unimodal_v2", version="2", alias="candidate", run_id="r1"),
        baseline=ModelRef(name="cl_unimodal_v2", version="1", alias="production"),
        target="production",
        started_at="2026-11-23T10:00:00Z",
        finished_at="2026-11-23T10:01:00Z",
        tool_version="0.1.0",
        checks=checks,
        blocking=("pii",) if status == "BLOCKED" else (),
        audit_id="abc123",
        errors=("something at /secret/path",),
    )


def test_build_record_holds_outcomes_and_digests_not_evidence(tmp_path):
    report = tmp_path / "audit_report.json"
    report.write_text("{}")
    digests = file_digests({"json": report, "html": tmp_path / "missing.html"})
    assert set(digests) == {"json"} and len(digests["json"]) == 64
    record = build_record(_result(), digests, "ci-bot", {"ok": False, "status": None}, promotion={"promoted": False})
    assert record["audit_id"] == "abc123"
    assert record["verdict"] == "BLOCKED" and record["blocking"] == ["pii"]
    assert record["checks"] == {"pii": "failed", "security": "passed"}
    assert record["model"]["version"] == "2" and record["baseline"]["alias"] == "production"
    assert record["reports"] == digests and record["actor"] == "ci-bot"
    assert record["errors"] == 1
    text = json.dumps(record)
    assert "j***@x.org" not in text and "/secret/path" not in text
    appended = append_record(tmp_path / "log.jsonl", record)
    assert appended["audit_id"] == "abc123" and verify_trail(tmp_path / "log.jsonl").ok


def test_build_record_keeps_no_webhook_secret():
    record = build_record(_result(), {}, "ci", {"ok": True, "url": "https://hooks.slack.com/services/T0/B0/s3cr3t"})
    assert record["notify"]["url"] == "https://hooks.slack.com"
    assert "s3cr3t" not in json.dumps(record)
