# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Parquet directories and Delta tables as both engines list them (no Spark needed): the parts read,
their order, the version replayed from ``_delta_log``, and every bad log refused with one line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_release_audit.engines.sources import parquet_parts, parts_digest, read_parts_pandas, table_source
from pytest_release_audit.errors import DatasetUnavailable


def _part(path: Path, start: int, n: int) -> Path:
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": range(start, start + n), "x": [float(i) for i in range(n)]}).to_parquet(path, index=False)
    return path


def _log(table: Path, commits: list[list[dict[str, Any]]]) -> None:
    (table / "_delta_log").mkdir(parents=True, exist_ok=True)
    for number, actions in enumerate(commits):
        (table / "_delta_log" / f"{number:020d}.json").write_text("\n".join(json.dumps(a) for a in actions))


def _add(table: Path, name: str) -> dict[str, Any]:
    return {"add": {"path": name, "size": (table / name).stat().st_size, "partitionValues": {}}}


def test_parquet_directory_parts_sorted_bookkeeping_left_out(tmp_path: Path) -> None:
    root = tmp_path / "t"
    b = _part(root / "part-00001.parquet", 10, 5)
    a = _part(root / "part-00000.parquet", 0, 10)
    (root / "_SUCCESS").write_text("")
    (root / ".part-00000.parquet.crc").write_bytes(b"crc")
    _part(root / "_temporary" / "part-9.parquet", 99, 1)
    assert parquet_parts(root) == [a, b]
    table = table_source(root, "dataset 'd' (training)")
    assert table is not None and table.kind == "parquet"
    df = read_parts_pandas(table, "d")
    assert df["id"].tolist() == list(range(15))
    expected = hashlib.sha256("\n".join(sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)))
                              .encode()).hexdigest()
    assert parts_digest([hashlib.sha256(p.read_bytes()).hexdigest() for p in (b, a)]) == expected


def test_delta_version_replayed_with_removes(tmp_path: Path) -> None:
    table = tmp_path / "delta"
    _part(table / "v0.parquet", 0, 3)
    _part(table / "v1.parquet", 3, 4)
    _part(table / "v2.parquet", 7, 5)
    _log(table, [[_add(table, "v0.parquet")],
                 [{"remove": {"path": "v0.parquet"}}, _add(table, "v1.parquet")],
                 [_add(table, "v2.parquet")]])
    pinned = table_source(table, "d", {"path": str(table), "delta_table_version": 1})
    assert pinned is not None and [p.name for p in pinned.parts] == ["v1.parquet"] and pinned.version == 1
    latest = table_source(table, "d", {"path": str(table)})
    assert latest is not None and [p.name for p in latest.parts] == ["v1.parquet", "v2.parquet"]
    assert latest.logged_version is None and "no Delta version" in latest.notes[0]


@pytest.mark.parametrize("fault", ["outside", "missing", "size", "gap", "future", "partitioned", "corrupt"])
def test_bad_delta_logs_refused_with_one_line(tmp_path: Path, fault: str) -> None:
    table = tmp_path / "delta"
    _part(table / "a.parquet", 0, 3)
    _part(tmp_path / "outside.parquet", 0, 3)
    add = _add(table, "a.parquet")
    commits: list[list[dict[str, Any]]] = [[add], [_add(table, "a.parquet")]]
    version = 1
    if fault == "outside":
        commits[1] = [{"add": {"path": "../outside.parquet", "size": 1}}]
    elif fault == "missing":
        commits[1] = [{"add": {"path": "gone.parquet", "size": 1}}]
    elif fault == "size":
        commits[1] = [{"add": {"path": "a.parquet", "size": 1}}]
    elif fault == "future":
        version = 7
    elif fault == "partitioned":
        commits[0] = [{"metaData": {"partitionColumns": ["site"]}}, add]
    _log(table, commits)
    if fault == "gap":
        (table / "_delta_log" / f"{0:020d}.json").unlink()
    if fault == "corrupt":
        (table / "_delta_log" / f"{1:020d}.json").write_text("{not json")
    with pytest.raises(DatasetUnavailable) as err:
        table_source(table, "dataset 'd' (training)", {"delta_table_version": version})
    message = str(err.value)
    assert "\n" not in message and message.startswith("dataset 'd' (training)")
    expected = {"outside": "outside the table", "missing": "which is missing", "size": "the log says 1",
                "gap": "missing", "future": "cannot be rebuilt", "partitioned": "partitioned by site",
                "corrupt": "not valid JSON"}[fault]
    assert expected in message, message


def test_empty_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(DatasetUnavailable, match="holds no Parquet part"):
        table_source(tmp_path / "empty", "dataset 'd' (training)")
