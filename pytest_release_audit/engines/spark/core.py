# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The SparkSession, reading a table with each row's position, the lineage facts and the loader.

``SparkEngine`` is what the session holds for ``[engine] data = "spark"``; the PII scan
(``spark.pii``) and leakage (``spark.leakage``) are its methods' other halves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import DatasetUnavailable, describe_exception

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.engines.sources import TableSource
    from pytest_release_audit.handle.model import DatasetRef, ModelHandle
    from pytest_release_audit.scanners.leakage import DuplicateRowsResult, IdOverlapResult
    from pytest_release_audit.scanners.pii import PiiEngine, PiiScanResult

POS = "__release_audit_pos"
CONF_ENV = "RELEASE_AUDIT_SPARK_CONF_"
INSTALL = 'pip install "pytest-release-audit[spark]"'
#: MLflow's pandas digest covers this many rows (``digests.MAX_ROWS``).
DIGEST_ROWS = 10_000


class SparkUnavailable(DatasetUnavailable):
    """Spark cannot start (no Java, no pyspark, a master that refuses): one line naming the fix."""


def session_settings(section: Mapping[str, Any],
                     environ: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The master URL and configuration: the policy's, then the environment's (which wins)."""
    env = os.environ if environ is None else environ
    master = env.get("SPARK_MASTER", "").strip() or str(section.get("master") or "local[2]")
    conf = {str(k): str(v) for k, v in (section.get("conf") or {}).items()}
    for key, value in env.items():
        if key.startswith(CONF_ENV) and len(key) > len(CONF_ENV):
            conf[key[len(CONF_ENV):].replace("__", ".")] = value
    return master, conf


def _java_problem(environ: Mapping[str, str]) -> str | None:
    """Why no JVM can start, or None."""
    home = environ.get("JAVA_HOME", "").strip()
    if home:
        java = Path(home) / "bin" / "java"
        if not java.is_file() or not os.access(java, os.X_OK):
            return (f"JAVA_HOME={home} has no bin/java: point JAVA_HOME at a Java 17+ runtime or unset it "
                    "(apt-get install default-jre-headless)")
        return None
    if shutil.which("java") is None:
        return ("no Java runtime (java is not on PATH, JAVA_HOME unset): install one "
                "(apt-get install default-jre-headless)")
    return None


def _pandas_dtype(spark_type: Any, nullable_seen: bool) -> str | None:
    """The dtype ``pandas.read_parquet`` gives a column of this Spark type (None: whatever Arrow gives)."""
    name = type(spark_type).__name__
    ints = {"ByteType": "int8", "ShortType": "int16", "IntegerType": "int32", "LongType": "int64"}
    if name in ints:
        return "float64" if nullable_seen else ints[name]
    if name == "FloatType":
        return "float32"
    if name == "DoubleType":
        return "float64"
    if name == "BooleanType":
        return "object" if nullable_seen else "bool"
    return None


def _cast(batch: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """One Arrow batch with each column in the dtype the whole column has in the pandas engine."""
    for col, dtype in dtypes.items():
        if col in batch.columns and str(batch[col].dtype) != dtype:
            batch[col] = batch[col].astype(dtype)
    return batch


# -- executor-side functions (module level: pickled by reference) --------------------------------
def _date_pass(batches: Iterator[pd.DataFrame], cols: list[str]) -> Iterator[pd.DataFrame]:
    """Per batch and candidate column: parsable dates (``rules.lineage._date_range``'s parse), min, max."""
    import pandas as pd

    for batch in batches:
        rows = []
        for c, col in enumerate(cols):
            parsed = pd.to_datetime(batch[col], errors="coerce", format="ISO8601")
            valid = parsed.dropna()
            rows.append((c, int(len(batch)), int(len(valid)),
                         valid.min().date().isoformat() if len(valid) else None,
                         valid.max().date().isoformat() if len(valid) else None))
        yield pd.DataFrame(rows, columns=["c", "n", "valid", "lo", "hi"]).astype({"c": "int32"})


def _hash_parts(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    import hashlib

    import pandas as pd

    for batch in batches:
        digests = [hashlib.sha256(bytes(b)).hexdigest() for b in batch["content"]]
        yield pd.DataFrame({"path": batch["path"], "sha": digests})


# -- the dataset on Spark -------------------------------------------------------------------------
@dataclass
class SparkData:
    """One dataset read by Spark: the frame with each row's position, and the column facts."""

    engine: SparkEngine
    frame: Any  # pyspark DataFrame: the data columns and POS
    columns: list[str]
    rows: int
    dtypes: dict[str, str]  # column -> the pandas engine's dtype, where it is not Arrow's
    types: dict[str, str] = field(default_factory=dict)  # column -> Spark type name
    nulls: dict[str, int] = field(default_factory=dict)  # column -> null cells

    def numeric(self, col: str) -> bool:
        return self.types.get(col) in ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType",
                                       "DoubleType", "DecimalType") and self.types.get(col) != "DecimalType"

    def integral(self, col: str) -> bool:
        """``scanners.leakage._id_keys``'s test on the whole column: numeric, every value a whole number < 2**53."""
        from pyspark.sql import functions as F

        if not self.numeric(col):
            return False
        x = F.col(col).cast("double")
        bad = F.when(F.isnan(x) | (F.abs(x) == float("inf")) | (x != F.floor(x)) | (F.abs(x) >= 2.0 ** 53), 1)
        return int(self.frame.select(F.count(bad)).first()[0]) == 0

    def with_rows(self, fn: Any, schema: str) -> Any:
        return self.frame.mapInPandas(fn, schema)


class SparkEngine:
    """The SparkSession (started on first use, stopped at the end of the audit) and the loaders."""

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.section = dict(section)
        self._spark: Any = None
        self.max_driver_rows = int(self.section.get("max_driver_rows") or 5_000_000)

    @property
    def spark(self) -> Any:
        if self._spark is None:
            self._spark = self._start()
        return self._spark

    def _start(self) -> Any:
        master, conf = session_settings(self.section)
        problem = _java_problem(os.environ)
        if problem:
            raise SparkUnavailable(f"Spark engine ([engine] data = \"spark\") cannot start: {problem}")
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkUnavailable(f"Spark engine ([engine] data = \"spark\") needs pyspark: {INSTALL}") from None
        builder = (SparkSession.builder.master(master).appName("pytest-release-audit")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.sql.session.timeZone", "UTC"))
        if master.startswith("local") and "spark.sql.shuffle.partitions" not in conf:
            conf["spark.sql.shuffle.partitions"] = "4"  # 200 by default: one machine's data, tiny tasks
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # JVM did not start, master unreachable: one line
            raise SparkUnavailable(
                f"Spark engine cannot start a session on master {master} ({describe_exception(exc)}): check "
                "SPARK_MASTER / [engine] master and that a Java 17+ runtime is installed (JAVA_HOME)"
            ) from None
        spark.sparkContext.setLogLevel("ERROR")
        import atexit

        atexit.register(self.stop)  # the session's cleanup stops it; this covers a process that ends early
        return spark

    def stop(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None

    # -- reading ------------------------------------------------------------------------------------
    def read(self, table: TableSource, label: str) -> SparkData:
        """The table's parts read by Spark, each row with its position in the pandas engine's frame."""
        from pyspark.sql import functions as F

        spark = self.spark
        uris = [p.as_uri() for p in table.parts]
        try:
            raw = (spark.read.option("basePath", table.root.as_uri()).parquet(*uris)
                   .select("*", F.col("_metadata.file_path").alias("__file"),
                           F.col("_metadata.row_index").alias("__row")))
            data_cols = [c for c in raw.columns if c not in ("__file", "__row")]
            # one pass: the rows of each part (their offsets) and the nulls of each column (its dtype)
            per_file = raw.groupBy("__file").agg(F.count(F.lit(1)).alias("__count"), *[
                F.count(F.when(F.col(f"`{c}`").isNull(), 1)).alias(f"__null{i}") for i, c in enumerate(data_cols)
            ]).collect()
            counts = {r["__file"]: int(r["__count"]) for r in per_file}
            null_counts = {c: sum(int(r[f"__null{i}"]) for r in per_file) for i, c in enumerate(data_cols)}
        except Exception as exc:  # corrupt part, schema conflict
            raise DatasetUnavailable(f"{label}: Spark cannot read the Parquet parts of {table.root} "
                                     f"({describe_exception(exc)})") from None
        offsets, total = [], 0
        by_path = {_local(k): (k, v) for k, v in counts.items()}
        for part in table.parts:
            key, n = by_path.get(part.resolve(), (part.as_uri(), 0))
            offsets.append((key, total))
            total += n
        offset_frame = spark.createDataFrame(offsets, "__file string, __offset long")
        frame = (raw.join(F.broadcast(offset_frame), "__file")
                 .select(*[F.col(f"`{c}`") for c in data_cols], (F.col("__offset") + F.col("__row")).alias(POS)))
        schema = {f.name: f.dataType for f in frame.schema.fields if f.name != POS}
        dtypes = {}
        for c in data_cols:
            dtype = _pandas_dtype(schema[c], bool(null_counts[c]))
            if dtype:
                dtypes[c] = dtype
        return SparkData(engine=self, frame=frame, columns=data_cols, rows=total, dtypes=dtypes,
                         types={c: type(schema[c]).__name__ for c in data_cols}, nulls=null_counts)

    def driver_frame(self, data: SparkData, label: str, limit: int | None = None) -> pd.DataFrame:
        """Rows brought to the driver in the pandas engine's order (refused above max_driver_rows)."""
        from pyspark.sql import functions as F

        if limit is None and data.rows > self.max_driver_rows:
            raise DatasetUnavailable(
                f"{label} has {data.rows:,} rows, above [engine] max_driver_rows = {self.max_driver_rows:,}: the "
                "evaluation frame the models score is collected on the driver; raise the limit (and the driver's "
                "memory) or log a smaller evaluation split"
            )
        frame = data.frame.orderBy(POS)
        if limit is not None:
            frame = frame.where(F.col(POS) < limit)
        pdf = frame.select(*[F.col(f"`{c}`") for c in data.columns]).toPandas() if data.columns else None
        import pandas as pd

        if pdf is None:
            return pd.DataFrame(index=pd.RangeIndex(0))
        return _cast(pdf.reset_index(drop=True), data.dtypes)

    def load(self, ref: DatasetRef, table: TableSource, handle: ModelHandle, task_policy: Any) -> LoadedDataset:
        """One logged dataset on Spark, as the checks use it."""
        from pytest_release_audit.data import LoadedDataset
        from pytest_release_audit.datasets import plan_digest_check, schema_columns
        from pytest_release_audit.digests import match_logged_digest, numpy_spec
        from pytest_release_audit.engines.sources import parts_digest, plan_digest
        from pytest_release_audit.task import feature_columns, infer_task

        label = f"dataset '{ref.name}' ({ref.context or 'no context'})"
        data = self.read(table, label)
        parts = self.part_digests(table, label)
        scored = ref.is_evaluation
        if scored:
            df = self.driver_frame(data, label)
        else:  # the columns in the dtypes the pandas engine reads, no rows
            df = _cast(data.frame.limit(0).select(*[f"`{c}`" for c in data.columns]).toPandas(), data.dtypes)
        if plan_digest(ref.source_type):
            check = plan_digest_check(ref, data.rows)
        elif numpy_spec(ref.schema, ref.profile) is not None:
            raise DatasetUnavailable(f"{label} was logged with from_numpy: its digest covers arrays, not a Parquet "
                                     "table; use engine pandas for it or log it with from_spark / from_pandas")
        else:
            head = df.head(DIGEST_ROWS) if scored else self.driver_frame(data, label, limit=DIGEST_ROWS)
            check = match_logged_digest(head, ref.digest, schema_columns(ref), rows=data.rows,
                                        all_str=self.all_str(data, head))
        columns = [str(c) for c in df.columns]
        task = infer_task(handle, task_policy, ref, columns, frame=df if scored else None)
        return LoadedDataset(
            ref=ref, df=df, task=task, local_path=table.root, file_sha256=parts_digest([d for _, d in parts]),
            feature_columns=feature_columns(handle, task, columns), digest_check=check, table=table,
            parts=parts, spark=data, rows=data.rows,
        )

    def all_str(self, data: SparkData, head: pd.DataFrame) -> dict[Any, bool]:
        """``digests._all_str`` of each whole column: a text column without nulls holds only str."""
        text = [c for c in data.columns if data.types.get(c) == "StringType"]
        out: dict[Any, bool] = {}
        for position, col in enumerate(head.columns):
            dtype = str(head.dtypes.iloc[position])
            if data.rows == 0:
                out[(col, dtype)] = True
            elif col in text:
                out[(col, dtype)] = data.nulls.get(col, 1) == 0
            elif dtype == "object":
                out[(col, dtype)] = False  # dates, decimals, bytes, booleans with nulls: not str
        return out

    def part_digests(self, table: TableSource, label: str) -> tuple[tuple[str, str], ...]:
        """sha256 of each part's bytes, computed on the executors (``binaryFile``)."""
        try:
            files = self.spark.read.format("binaryFile").load([p.as_uri() for p in table.parts])
            found = {_local(r["path"]): r["sha"] for r in files.mapInPandas(_hash_parts, "path string, sha string")
                     .collect()}
        except Exception as exc:
            raise DatasetUnavailable(f"{label}: Spark cannot hash the parts of {table.root} "
                                     f"({describe_exception(exc)})") from None
        missing = [p for p in table.parts if p.resolve() not in found]
        if missing:
            raise DatasetUnavailable(f"{label}: part {missing[0]} was not read by Spark: check the path")
        return tuple((table.relative(p), found[p.resolve()]) for p in table.parts)

    # -- lineage facts --------------------------------------------------------------------------------
    def facts(self, loaded: LoadedDataset) -> tuple[int | None, list[str] | None]:
        """(distinct ids, date range) as ``rules.lineage.dataset_facts`` computes them from the frame."""
        from pyspark.sql import functions as F

        from pytest_release_audit.rules.lineage import DATE_HINTS

        data: SparkData = loaded.spark
        patients = None
        id_col = loaded.id_column
        if id_col:
            patients = int(data.frame.select(F.countDistinct(F.col(f"`{id_col}`"))).first()[0])
        candidates = [c for c in data.columns if any(h in c.lower() for h in DATE_HINTS)
                      and c.lower() not in (loaded.task.duration_col or "",) and not data.numeric(c)
                      and data.types.get(c) != "BooleanType"]
        if not candidates or data.rows == 0:
            return patients, None
        rows = (data.frame.select(*[f"`{c}`" for c in candidates])
                .mapInPandas(partial(_date_pass, cols=candidates), "c int, n long, valid long, lo string, hi string")
                .groupBy("c").agg(F.sum("n").alias("n"), F.sum("valid").alias("valid"), F.min("lo").alias("lo"),
                                  F.max("hi").alias("hi")).collect())
        by_col = {int(r["c"]): r for r in rows}
        for c in range(len(candidates)):
            r = by_col.get(c)
            if r is None or not r["n"] or r["valid"] / r["n"] < 0.8:
                continue
            return patients, [r["lo"], r["hi"]]
        return patients, None

    # -- pii ------------------------------------------------------------------------------------------
    def scan_pii(self, loaded: LoadedDataset, dataset_name: str, engine: PiiEngine, policy_section: Mapping[str, Any],
                 texts: list[str]) -> tuple[PiiScanResult, dict[str, str]]:
        """The PII scan on the executors (``spark.pii.scan_pii``)."""
        from pytest_release_audit.engines.spark.pii import scan_pii

        return scan_pii(self, loaded, dataset_name, engine, policy_section, texts)

    # -- leakage --------------------------------------------------------------------------------------
    def id_overlap(self, train: SparkData, evaluation: SparkData, id_columns: list[str]) -> IdOverlapResult:
        from pytest_release_audit.engines.spark.leakage import id_overlap

        return id_overlap(train, evaluation, id_columns)

    def duplicate_rows(self, train: SparkData, evaluation: SparkData,
                       feature_columns: list[str]) -> DuplicateRowsResult:
        from pytest_release_audit.engines.spark.leakage import duplicate_rows

        return duplicate_rows(train, evaluation, feature_columns)

    def from_pandas(self, loaded: LoadedDataset) -> SparkData:
        from pytest_release_audit.engines.spark.leakage import from_pandas

        return from_pandas(self, loaded)


def _local(uri: str) -> Path:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return Path(unquote(parsed.path)).resolve()


