# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Table sources, whichever engine reads them: a directory of Parquet parts or a Delta table.

Both engines read exactly the parts listed here, in this order, so row positions, findings and
digests are the same through pandas and through Spark:

* a Parquet directory: every ``*.parquet`` / ``*.pq`` file below it (names and folders starting
  with ``_`` or ``.`` are Spark's and Hadoop's bookkeeping: ``_SUCCESS``, ``.crc``), sorted by
  their path relative to the directory;
* a Delta table (a directory with ``_delta_log``): the files of the version the run logged
  (``mlflow.data.from_spark(df, path=..., version=N)``), replayed from the log's JSON commits
  (``add`` / ``remove`` actions), no delta-spark needed. A version the log does not hold, a file
  the version lists that is missing or has another size, or a partitioned table is one line.

The content digest of a table is one sha256 per part (the part file's bytes) and one over the
sorted part digests (``parts_digest``): a renamed or re-ordered part keeps it, any edited byte
changes it. A dataset may log it as the tag ``data_sha256``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import DatasetUnavailable

PART_SUFFIXES = (".parquet", ".pq")
#: MLflow source types whose digest hashes a Spark query plan, not the data.
PLAN_DIGEST_SOURCES = ("spark", "delta_table")
DELTA_LOG = "_delta_log"


@dataclass(frozen=True)
class TableSource:
    """The parts one logged dataset consists of, and the Delta version they belong to."""

    root: Path
    kind: str  # "parquet" | "delta"
    parts: tuple[Path, ...]
    logged_version: int | None = None  # the Delta version the run logged (None: not logged)
    version: int | None = None  # the Delta version read
    notes: tuple[str, ...] = field(default=())

    def relative(self, part: Path) -> str:
        return part.relative_to(self.root).as_posix()


def _hidden(relative: Path) -> bool:
    return any(p.startswith(("_", ".")) for p in relative.parts)


def parquet_parts(root: Path) -> list[Path]:
    """The Parquet part files of a directory, in the order both engines read them."""
    found = [p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(PART_SUFFIXES)
             and not _hidden(p.relative_to(root))]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def logged_version(details: dict[str, Any]) -> int | None:
    """The Delta version MLflow recorded in the source (``delta_table_version``), if any."""
    for key in ("delta_table_version", "version"):
        value = details.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def _commits(log: Path) -> dict[int, Path]:
    out: dict[int, Path] = {}
    for file in log.glob("*.json"):
        if file.stem.isdigit():
            out[int(file.stem)] = file
    return out


def delta_source(root: Path, label: str, version: int | None) -> TableSource:
    """The files of Delta ``version`` (the latest when None), from the JSON commits of ``_delta_log``."""
    commits = _commits(root / DELTA_LOG)
    if not commits:
        raise DatasetUnavailable(f"{label}: {root / DELTA_LOG} holds no JSON commit: not a readable Delta table")
    latest = max(commits)
    target = latest if version is None else version
    missing = [v for v in range(target + 1) if v not in commits]
    if target > latest or missing:
        raise DatasetUnavailable(
            f"{label}: Delta version {target} cannot be rebuilt from {root / DELTA_LOG} (latest commit {latest}"
            + (f", commits {missing[:5]} missing: checkpointed or vacuumed" if missing and target <= latest else "")
            + "): restore the table's log or log the dataset at a version the log still holds"
        )
    files: dict[str, int | None] = {}
    for number in range(target + 1):
        for line in commits[number].read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                action = json.loads(line)
            except ValueError:
                raise DatasetUnavailable(f"{label}: {commits[number].name} is not valid JSON: the Delta log is "
                                         "corrupt") from None
            if "metaData" in action and action["metaData"].get("partitionColumns"):
                cols = ", ".join(action["metaData"]["partitionColumns"])
                raise DatasetUnavailable(f"{label}: the Delta table is partitioned by {cols}: partitioned Delta "
                                         "tables are not read by the audit yet; log an unpartitioned copy")
            if "add" in action:
                files[str(action["add"]["path"])] = action["add"].get("size")
            elif "remove" in action:
                files.pop(str(action["remove"]["path"]), None)
    parts: list[Path] = []
    from urllib.parse import unquote

    for rel, size in sorted(files.items()):
        path = (root / unquote(rel)).resolve()
        if root.resolve() not in path.parents:
            raise DatasetUnavailable(f"{label}: Delta version {target} lists {rel}, outside the table: refused")
        if not path.is_file():
            raise DatasetUnavailable(f"{label}: Delta version {target} lists {rel}, which is missing (vacuumed or "
                                     "deleted): restore it or re-run training on an existing version")
        if isinstance(size, int) and path.stat().st_size != size:
            raise DatasetUnavailable(f"{label}: {rel} of Delta version {target} is {path.stat().st_size} bytes, the "
                                     f"log says {size}: the file changed since it was committed")
        parts.append(path)
    notes = () if version is not None else (
        f"the run logged no Delta version: read the latest, {latest} (MLflow records no version 0: pin the "
        "content with a data_sha256 tag, or log from_spark(df, path=..., version=N) for N >= 1)",)
    return TableSource(root=root.resolve(), kind="delta", parts=tuple(parts), logged_version=version,
                       version=target, notes=notes)


def table_source(path: Path, label: str, details: dict[str, Any] | None = None) -> TableSource | None:
    """The table at ``path`` (a Delta table or a directory of Parquet parts), or None for a single file."""
    if not path.is_dir():
        return None
    if (path / DELTA_LOG).is_dir():
        return delta_source(path, label, logged_version(details or {}))
    parts = parquet_parts(path)
    if not parts:
        raise DatasetUnavailable(f"{label}: directory {path} holds no Parquet part (*.parquet): log a directory of "
                                 "Parquet parts, a Delta table, or a file")
    return TableSource(root=path.resolve(), kind="parquet", parts=tuple(parts))


def sha256_part(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parts_digest(digests: list[str] | tuple[str, ...]) -> str:
    """sha256 over the sorted part digests (hex, one per line)."""
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def plan_digest(source_type: str) -> bool:
    """MLflow's digest of this source type hashes the Spark query plan (``semanticHash``), not the rows."""
    return source_type.strip().lower() in PLAN_DIGEST_SOURCES


def read_parts_pandas(table: TableSource, label: str) -> Any:
    """The table as one pandas frame, the parts concatenated in order (the pandas engine)."""
    import pyarrow.parquet as pq

    try:
        if table.kind == "parquet" and len(table.parts) > 1 and any(
                "=" in p for part in table.parts for p in part.relative_to(table.root).parts[:-1]):
            return pq.read_table(str(table.root)).to_pandas()  # hive partitions: columns from the folder names
        import pyarrow as pa

        tables = [pq.read_table(str(part)) for part in table.parts]
        return pa.concat_tables(tables, promote_options="default").to_pandas()
    except Exception as exc:  # corrupt part, incompatible schemas
        from pytest_release_audit.errors import describe_exception

        raise DatasetUnavailable(f"{label}: the Parquet parts of {table.root} cannot be read "
                                 f"({describe_exception(exc)})") from None
