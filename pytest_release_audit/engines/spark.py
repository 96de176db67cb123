# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The Spark engine for the data checks (policy ``[engine] data = "spark"``).

A dataset whose source is a directory of Parquet parts or a Delta table (``engines.sources``) is
read by Spark, exactly the parts both engines read, and every row carries its position in the
pandas engine's frame (the part's offset + ``_metadata.row_index``), so findings, positions and
digests are the same on both engines (``tests/test_spark_engine.py``).

What runs where:

* executors: the part digests (``binaryFile``), the PII scan (the column-to-text conversion, the
  gates and presidio of ``scanners.pii`` inside ``mapInPandas``, one engine per Python worker),
  the leakage keys and row hashes (``scanners.leakage``'s semantics) and their joins, the lineage
  facts (row count, distinct ids, date range);
* driver: aggregates only, and masked samples: a raw value never leaves the executors. The one
  frame collected (``toPandas``) is the evaluation data the models score, refused above
  ``[engine] max_driver_rows``; MLflow's pandas digest reads the first 10,000 rows it covers.

The session: ``SPARK_MASTER`` or ``[engine] master``; ``[engine] conf`` then
``RELEASE_AUDIT_SPARK_CONF_<key with . as __>`` from the environment. The audit's own package and
presidio must be importable on the executors (local mode: they are).
"""

from __future__ import annotations

import os
import shutil
import time
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
_ENGINES: dict[str, Any] = {}


def _pii_engine(section: Mapping[str, Any]) -> PiiEngine:
    from pytest_release_audit.scanners.pii import build_engine
    from pytest_release_audit.scanners.pii.pool import WORKERS_ENV

    os.environ[WORKERS_ENV] = "1"  # Spark runs the tasks in parallel; no process pool inside a task
    key = repr(sorted(section.items()))
    if key not in _ENGINES:
        _ENGINES.clear()
        _ENGINES[key] = build_engine(section)
    return _ENGINES[key]


def _strings(series: pd.Series, mode: str) -> Any:
    """``scanners.pii.columns.column_strings``'s text of each value, for a column judged as a whole."""
    import numpy as np

    from pytest_release_audit.scanners.pii.columns import _texts

    if mode == "text":
        return _texts(series)
    if mode == "datetime":
        return series.astype("string").astype(object).where(series.notna(), None).to_numpy(dtype=object)
    valid = np.isfinite(series.to_numpy(dtype=float, na_value=np.nan))
    out = np.full(len(series), None, dtype=object)
    kept = series[valid]
    kept = kept.map(lambda v: str(int(v))) if mode == "float" else kept.astype(str)
    out[np.flatnonzero(valid)] = kept.to_numpy(dtype=object)
    return out


SCAN_SCHEMA = "kind int, c int, v string, pos long, n long, m long, entity string"


def _pii_pass(batches: Iterator[pd.DataFrame], plan: dict[str, Any]) -> Iterator[pd.DataFrame]:
    """Per batch: (column, text, position) of every scanned value (kind 0); for a column whose name
    says it holds an identifier, its present rows (kind 1: count, first position and masked sample;
    kind 2: its first 10 positions) and where its values occur in the metadata texts (kind 3:
    text, start, length, masked). Only kind 0 holds raw text, and it stays on the executors."""
    import numpy as np
    import pandas as pd

    from pytest_release_audit.masking import mask_value

    texts = plan["texts"]
    columns = ["kind", "c", "v", "pos", "n", "m", "entity"]
    for batch in batches:
        batch = _cast(batch, plan["dtypes"])
        pos = batch[POS].to_numpy()
        small: list[tuple[Any, ...]] = []
        chunks = []
        for c, name, mode, entity in plan["columns"]:
            series = batch[name]
            if entity:
                present = series.notna().to_numpy()
                if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
                    present &= series.astype(str).str.strip().ne("").to_numpy()
                where = np.flatnonzero(present)
                if len(where):
                    first = int(where[0])
                    small.append((1, c, mask_value(series.iloc[first], entity), int(pos[first]), len(where), 0,
                                  entity))
                    small += [(2, c, None, int(pos[i]), 0, 0, entity) for i in where[:10]]
                    for raw in pd.unique(series.iloc[where].astype(str)):
                        for t, text in enumerate(texts):
                            if len(raw) >= 3 and raw in text:
                                small.append((3, c, mask_value(raw, entity), text.find(raw), t, len(raw), entity))
            if mode:
                strings = _strings(series, mode)
                keep = np.array([v is not None for v in strings], dtype=bool)
                chunks.append(pd.DataFrame({"kind": 0, "c": c, "v": strings[keep], "pos": pos[keep], "n": 0,
                                            "m": 0, "entity": ""}))
        if small:
            chunks.append(pd.DataFrame(small, columns=columns))
        out = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame({k: [] for k in columns})
        yield out[columns].astype({"kind": "int32", "c": "int32", "pos": "int64", "n": "int64", "m": "int64",
                                   "v": object, "entity": object})


class _Head:
    """The first distinct values of a column and how many it has: what ``is_free_text`` reads."""

    def __init__(self, values: Any, total: int) -> None:
        self.values, self.total = values, total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> Any:
        return self.values[index]


def _free_text(batches: Iterator[pd.DataFrame], present: int, uniques: int) -> Iterator[pd.DataFrame]:
    """``columns.is_free_text`` on a column's first 2,000 distinct values (one task sees them all)."""
    import numpy as np
    import pandas as pd

    from pytest_release_audit.scanners.pii.columns import is_free_text

    frames = list(batches)
    values = pd.concat(frames).sort_values("first")["v"].to_numpy(dtype=object) if frames else np.array([], object)
    yield pd.DataFrame({"free": [bool(is_free_text(_Head(values, uniques), present))]})


def _pii_analyze(batches: Iterator[pd.DataFrame], plan: dict[str, Any]) -> Iterator[pd.DataFrame]:
    """presidio on a batch of distinct values, column by column; hits come back masked."""
    import pandas as pd

    from pytest_release_audit.masking import mask_value
    from pytest_release_audit.scanners.pii.analyze import analyze_values
    from pytest_release_audit.scanners.pii.names import name_tokens

    engine = _pii_engine(plan["section"])
    names, ner, texts = plan["names"], plan["ner"], plan["texts"]
    keys = ("kind", "c", "v", "first", "entity", "score", "detector", "primary", "masked", "n", "m")
    for batch in batches:
        out: dict[str, list[Any]] = {k: [] for k in keys}

        def emit(*row: Any, _out: dict[str, list[Any]] = out) -> None:
            for key, value in zip(keys, row, strict=True):
                _out[key].append(value)

        for c, group in batch.groupby("c", sort=False):
            c = int(c)
            values = group["v"].to_numpy(dtype=object)
            firsts = group["first"].to_numpy()
            name = names[c]
            hits, analyzed = analyze_values(engine, values, [name, *name_tokens(name)], ner=bool(ner.get(c)))
            emit(1, c, None, 0, "", 0.0, "", False, "", int(analyzed), 0)
            for i, value_hits in hits.items():
                seen: set[str] = set()
                for hit in value_hits:
                    primary = hit.entity not in seen
                    seen.add(hit.entity)
                    raw = str(values[i])[hit.start:hit.end]
                    masked = mask_value(raw, hit.entity)
                    emit(0, c, values[i], int(firsts[i]), hit.entity, float(hit.score), hit.detector, primary,
                         masked, 0, 0)
                    if primary and len(raw) >= 3:
                        for t, text in enumerate(texts):
                            if raw in text:
                                emit(2, c, None, text.find(raw), hit.entity, 0.0, "", False, masked, t, len(raw))
        yield pd.DataFrame(out, columns=list(keys)).astype(
            {"kind": "int32", "c": "int32", "first": "int64", "score": "float64", "primary": "bool", "n": "int64",
             "m": "int64", "v": object})


ANALYZE_SCHEMA = ("kind int, c int, v string, first long, entity string, score double, detector string, "
                  "primary boolean, masked string, n long, m long")


def _id_keys_pass(batches: Iterator[pd.DataFrame], col: str, mode: str, dtype: str | None) -> Iterator[pd.DataFrame]:
    """``scanners.leakage._id_keys`` on each batch, with the integral decision taken on both whole columns."""
    import pandas as pd

    from pytest_release_audit.scanners.leakage import mask_id

    for batch in batches:
        if dtype:
            batch = _cast(batch, {col: dtype})
        series = batch[col]
        keep = series.notna().to_numpy()
        values = series[keep]
        if mode == "int":
            keys = values.astype("int64").astype(str)
        else:
            text = values.astype("int64").astype(str) if mode == "int_text" else values.astype(str).str.strip()
            digits = text.str.fullmatch(r"\d+")
            if digits.any():
                stripped = text[digits].str.lstrip("0").replace("", "0")
                text = text.where(~digits, stripped)
            keys = text
        yield pd.DataFrame({
            "k": keys.to_numpy(dtype=object),
            "pos": batch[POS].to_numpy()[keep],
            "raw": values.astype(str).to_numpy(dtype=object),
            "masked": [mask_id(v) for v in values.tolist()],
        })


def _row_hashes(batches: Iterator[pd.DataFrame], cols: list[str], targets: dict[str, str]) -> Iterator[pd.DataFrame]:
    """``pandas.util.hash_pandas_object`` of each record, every column in the dtype both splits share."""
    import pandas as pd

    for batch in batches:
        frame = {}
        for col in cols:
            x, target = batch[col], targets[col]
            if target == "str":
                x = x.astype(str).where(x.notna(), None).astype(object)
            elif target != "same":
                x = x.astype(target)
            frame[col] = x
        hashed = pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy().view("int64")
        yield pd.DataFrame({"h": hashed, "pos": batch[POS].to_numpy()})


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
        """``scanners.pii.scan_dataframe``'s result for a Spark dataset, and the flagged strings found in
        ``texts`` (the metadata: the driver's own strings) -> masked. No raw value reaches the driver."""
        import dataclasses

        from pyspark import StorageLevel
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from pytest_release_audit.scanners.pii.columns import SMALLEST_IDENTIFIER
        from pytest_release_audit.scanners.pii.engine import section_with_defaults
        from pytest_release_audit.scanners.pii.names import IDENTIFIER_COLUMNS, looks_like_id, normalise_name
        from pytest_release_audit.scanners.pii.results import PiiFinding, PiiScanResult

        started = time.perf_counter()
        data: SparkData = loaded.spark
        section = section_with_defaults(policy_section)
        skip: dict[str, str] = section["skip_columns"]
        ignored = set(engine.ignored)
        skipped: dict[str, str] = {}
        plan_cols: list[tuple[int, str, str, str]] = []
        numeric = [c for c in data.columns if c not in skip and data.numeric(c)]
        stats = self._number_stats(data, numeric)
        for c, name in enumerate(data.columns):
            if name in skip:
                continue
            entity = IDENTIFIER_COLUMNS.get(normalise_name(name))
            entity = entity if entity and entity not in ignored else ""
            mode, reason = self._mode(data, name, engine, stats.get(name), looks_like_id(name), SMALLEST_IDENTIFIER)
            if reason:
                skipped[name] = reason
            plan_cols.append((c, name, mode, entity))
        plan = {"columns": plan_cols, "dtypes": data.dtypes, "texts": texts}
        passed = data.with_rows(partial(_pii_pass, plan=plan), SCAN_SCHEMA)
        passed = passed.persist(StorageLevel.MEMORY_AND_DISK)
        strings = passed.where("kind = 0").select("c", "v", "pos")
        distinct = strings.groupBy("c", "v").agg(F.min("pos").alias("first"), F.count(F.lit(1)).alias("cells")) \
            .persist(StorageLevel.MEMORY_AND_DISK)
        try:
            small = passed.where("kind > 0").select("kind", "c", "v", "pos", "n", "m", "entity").collect()  # masked
            per_column = distinct.groupBy("c").agg(F.count(F.lit(1)).alias("uniques"), F.sum("cells").alias("cells"))
            present, uniques = {}, {}
            for r in per_column.collect():
                present[int(r["c"])], uniques[int(r["c"])] = int(r["cells"]), int(r["uniques"])
            ner: dict[int, bool] = {}
            if engine.ner_analyzer is not None:
                for c, count in uniques.items():
                    sample = distinct.where(F.col("c") == c).orderBy("first").limit(2000).coalesce(1)
                    p, u = present.get(c, 0), count
                    ner[c] = bool(sample.mapInPandas(partial(_free_text, present=p, uniques=u), "free boolean")
                                  .first()["free"])
            names = {c: name for c, name, _, _ in plan_cols}
            analyze_plan = {"section": engine.section if engine.section is not None else dict(section),
                            "names": names, "ner": ner, "texts": texts}
            hits = (distinct.repartition(max(self.spark.sparkContext.defaultParallelism, 1))
                    .mapInPandas(partial(_pii_analyze, plan=analyze_plan),
                                 ANALYZE_SCHEMA)
                    .persist(StorageLevel.MEMORY_AND_DISK))
            try:
                analyzed: dict[int, int] = {}
                meta: list[Any] = []
                for r in hits.where("kind > 0").select("kind", "c", "first", "entity", "masked", "n", "m").collect():
                    if r["kind"] == 1:
                        analyzed[int(r["c"])] = analyzed.get(int(r["c"]), 0) + int(r["n"])
                    else:
                        meta.append(r)
                content = hits.where("kind = 0")
                per_entity = {(int(r["c"]), r["entity"]): r for r in content.groupBy("c", "entity").agg(
                    F.max("score").alias("score"), F.collect_set("detector").alias("detectors"),
                    F.min_by(F.when(F.col("primary"), F.col("masked")), F.when(F.col("primary"), F.col("first")))
                    .alias("sample")).collect()}
                flagged = content.where("primary").select("c", "entity", "v").distinct()
                joined = strings.join(F.broadcast(flagged), ["c", "v"])
                window = Window.partitionBy("c", "entity")
                counts: dict[tuple[int, str], int] = {}
                firsts: dict[tuple[int, str], list[int]] = {}
                for r in (joined.withColumn("rn", F.row_number().over(window.orderBy("pos")))
                          .withColumn("rows", F.count(F.lit(1)).over(window)).where("rn <= 10")
                          .select("c", "entity", "pos", "rows").collect()):
                    counts[(int(r["c"]), r["entity"])] = int(r["rows"])
                    firsts.setdefault((int(r["c"]), r["entity"]), []).append(int(r["pos"]))
            finally:
                hits.unpersist()
        finally:
            distinct.unpersist()
            passed.unpersist()
        by_name: dict[int, dict[str, Any]] = {}
        for r in small:
            slot = by_name.setdefault(int(r["c"]), {"n": 0, "first": None, "sample": "", "positions": [],
                                                    "meta": []})
            if r["kind"] == 1:
                slot["n"] += int(r["n"])
                if slot["first"] is None or int(r["pos"]) < slot["first"]:
                    slot["first"], slot["sample"] = int(r["pos"]), r["v"]
            elif r["kind"] == 2:
                slot["positions"].append(int(r["pos"]))
            else:
                slot["meta"].append((int(r["n"]), int(r["pos"]), int(r["m"]), r["v"], r["entity"]))
        findings: list[PiiFinding] = []
        allowed: list[PiiFinding] = []
        scanned: list[str] = []
        ner_columns: list[str] = []
        flagged_in_texts: dict[str, str] = {}
        blocking_types = set(section["entities"])
        values_scanned = values_analyzed = 0
        for c, name, mode, entity in plan_cols:
            if name not in skipped:
                scanned.append(name)
            if ner.get(c) and mode:
                ner_columns.append(name)
            values_scanned += uniques.get(c, 0) if mode else 0
            values_analyzed += analyzed.get(c, 0)
            flags: dict[str, dict[str, Any]] = {}
            name_flag = by_name.get(c)
            if entity and name_flag and name_flag["n"]:
                flags[entity] = {"rows": name_flag["n"], "positions": sorted(name_flag["positions"])[:10],
                                 "score": 1.0, "sample": name_flag["sample"], "detectors": ["column name"]}
            content_entities = sorted(e for (col, e) in per_entity if col == c)
            for found_entity in content_entities:
                r = per_entity[(c, found_entity)]
                found = {"rows": counts.get((c, found_entity), 0),
                         "positions": sorted(firsts.get((c, found_entity), []))[:10], "score": float(r["score"]),
                         "sample": r["sample"], "detectors": sorted(r["detectors"])}
                if found_entity in flags:  # the name's flag covers every present row; content gives the sample
                    merged = flags[found_entity]
                    merged["score"] = max(merged["score"], found["score"])
                    merged["detectors"] = merged["detectors"] + found["detectors"]
                    merged["sample"] = found["sample"]
                else:
                    flags[found_entity] = found
            allowed_here = set(section["allow"].get(name, ()))
            for flag_entity, flag in flags.items():
                finding = PiiFinding(
                    dataset=dataset_name, column=name, entity_type=flag_entity, rows_affected=int(flag["rows"]),
                    masked_sample=flag["sample"], row_indices=tuple(flag["positions"]), max_score=float(flag["score"]),
                    detector=" + ".join(flag["detectors"]),
                    blocking=not blocking_types or flag_entity in blocking_types)
                if flag_entity in allowed_here:
                    allowed.append(dataclasses.replace(finding, blocking=False))
                    continue
                findings.append(finding)
                for t, start, length, masked, meta_entity in (name_flag or {}).get("meta", []):
                    if meta_entity == flag_entity and flag_entity == entity:
                        flagged_in_texts.setdefault(texts[t][start:start + length], masked)
                for r in meta:
                    if int(r["c"]) == c and r["entity"] == flag_entity:
                        start, length = int(r["first"]), int(r["m"])
                        flagged_in_texts.setdefault(texts[int(r["n"])][start:start + length], r["masked"])
        ordered = sorted(findings, key=lambda f: (not f.blocking, -f.rows_affected, f.column, f.entity_type))
        result = PiiScanResult(
            dataset=dataset_name, rows=int(data.rows), findings=tuple(ordered), columns_scanned=tuple(scanned),
            columns_skipped=_in_order(data.columns, skipped, skip), allowed=tuple(allowed),
            values_scanned=int(values_scanned), values_analyzed=int(values_analyzed),
            seconds=time.perf_counter() - started, flagged={}, ner_columns=tuple(ner_columns))
        return result, flagged_in_texts

    def _number_stats(self, data: SparkData, cols: list[str]) -> dict[str, Any]:
        """Per numeric column: any finite value, all finite values whole, the largest |value|."""
        from pyspark.sql import functions as F

        if not cols:
            return {}
        exprs = []
        for i, col in enumerate(cols):
            x = F.col(f"`{col}`").cast("double")
            finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
            exprs += [F.count(F.when(finite, 1)).alias(f"v{i}"),
                      F.count(F.when(finite & (x != F.floor(x)), 1)).alias(f"f{i}"),
                      F.max(F.when(finite, F.abs(x))).alias(f"m{i}")]
        row = data.frame.select(*exprs).first()
        return {col: (int(row[f"v{i}"]), int(row[f"f{i}"]), row[f"m{i}"]) for i, col in enumerate(cols)}

    @staticmethod
    def _mode(data: SparkData, name: str, engine: PiiEngine, stats: Any, id_like: bool,
              smallest: int) -> tuple[str, str | None]:
        """How the column's values become text (``column_strings``), or why it is skipped, from the whole column."""
        kind = data.types.get(name, "")
        dtype = data.dtypes.get(name)
        if kind == "BooleanType" and dtype == "bool":
            return "", "boolean values cannot encode an identifier"
        if kind in ("TimestampType", "TimestampNTZType"):
            if "DATE_TIME" not in engine.entity_types:
                return "", "datetime values; DATE_TIME is ignored by policy (pii.ignore_entities)"
            return "datetime", None
        if data.numeric(name):
            valid, fractional, largest = stats
            is_float = dtype in ("float32", "float64")
            if is_float and fractional:
                return "", "non-integral floats cannot encode an identifier"
            big = bool(valid) and float(largest) >= smallest
            if not valid or not (id_like or big):
                return "", f"numbers below {smallest}, name not identifier-like"
            return ("float" if is_float else "int"), None
        return "text", None

    # -- leakage --------------------------------------------------------------------------------------
    def id_overlap(self, train: SparkData, evaluation: SparkData, id_columns: list[str]) -> IdOverlapResult:
        """``scanners.leakage.find_id_overlap`` by a join on the id keys."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        from pytest_release_audit.scanners.leakage import SAMPLE_SIZE, IdOverlap, IdOverlapResult

        started = time.perf_counter()
        out = []
        for col in id_columns:
            for frame, label in ((train, "training"), (evaluation, "evaluation")):
                if col not in frame.columns:
                    raise KeyError(f"id column {col!r} is not in the {label} data")
            t_int, e_int = train.integral(col), evaluation.integral(col)
            modes = ("int", "int") if t_int and e_int else (
                "int_text" if t_int else "text", "int_text" if e_int else "text")
            schema = "k string, pos long, raw string, masked string"
            tk = train.frame.select(f"`{col}`", POS).mapInPandas(
                partial(_id_keys_pass, col=col, mode=modes[0], dtype=train.dtypes.get(col)), schema)
            ek = evaluation.frame.select(f"`{col}`", POS).mapInPandas(
                partial(_id_keys_pass, col=col, mode=modes[1], dtype=evaluation.dtypes.get(col)), schema)
            tk, ek = tk.persist(StorageLevel.MEMORY_AND_DISK), ek.persist(StorageLevel.MEMORY_AND_DISK)
            tkeys = tk.groupBy("k").agg(F.count(F.lit(1)).alias("tn"))
            ekeys = ek.groupBy("k").agg(F.count(F.lit(1)).alias("en"))
            both = F.col("tn").isNotNull() & F.col("en").isNotNull()
            r = tkeys.join(ekeys, "k", "full_outer").agg(
                F.count("tn").alias("train_ids"), F.count("en").alias("eval_ids"),
                F.count(F.when(both, 1)).alias("shared"), F.sum(F.when(both, F.col("tn"))).alias("train_rows"),
                F.sum(F.when(both, F.col("en"))).alias("eval_rows")).first()
            sample: list[str] = []
            if r["shared"]:
                hits = ek.join(tkeys.select("k"), "k")
                first = hits.groupBy("raw").agg(F.min("pos").alias("p"), F.first("masked").alias("masked"))
                sample = [x["masked"] for x in first.orderBy("p").limit(SAMPLE_SIZE).select("masked").collect()]
            counts = (int(r["train_ids"]), int(r["eval_ids"]), int(r["shared"]))
            train_rows, eval_rows = int(r["train_rows"] or 0), int(r["eval_rows"] or 0)
            tk.unpersist()
            ek.unpersist()
            out.append(IdOverlap(column=str(col), train_ids=counts[0], eval_ids=counts[1], shared_ids=counts[2],
                                 train_rows=int(train_rows), eval_rows=int(eval_rows), masked_sample=tuple(sample)))
        return IdOverlapResult(id_columns=tuple(str(c) for c in id_columns), columns=tuple(out),
                               seconds=time.perf_counter() - started)

    def duplicate_rows(self, train: SparkData, evaluation: SparkData,
                       feature_columns: list[str]) -> DuplicateRowsResult:
        """``scanners.leakage.find_duplicate_rows`` by a hash of each record and a join."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        from pytest_release_audit.scanners.leakage import ROW_SAMPLE, DuplicateRowsResult

        started = time.perf_counter()
        cols = list(feature_columns)
        for frame, label in ((train, "training"), (evaluation, "evaluation")):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise KeyError(f"feature columns {missing} are not in the {label} data")
        if not cols:
            raise ValueError("find_duplicate_rows needs at least one feature column")
        targets_t, targets_e = {}, {}
        for col in cols:
            a, b = _arrow_dtype(train, col), _arrow_dtype(evaluation, col)
            if a == b:
                targets_t[col] = targets_e[col] = a if a != "object" else "same"
            elif a in _NUMERIC and b in _NUMERIC:
                targets_t[col] = targets_e[col] = "float64"
            else:
                targets_t[col] = targets_e[col] = "str"
        sel = [f"`{c}`" for c in cols] + [POS]
        ha = train.frame.select(*sel).mapInPandas(partial(_row_hashes, cols=cols, targets=targets_t),
                                                  "h long, pos long")
        hb = evaluation.frame.select(*sel).mapInPandas(partial(_row_hashes, cols=cols, targets=targets_e),
                                                       "h long, pos long")
        ha, hb = ha.persist(StorageLevel.MEMORY_AND_DISK), hb.persist(StorageLevel.MEMORY_AND_DISK)
        a = ha.groupBy("h").agg(F.count(F.lit(1)).alias("na"))
        b = hb.groupBy("h").agg(F.count(F.lit(1)).alias("nb"))
        both = F.col("na").isNotNull() & F.col("nb").isNotNull()
        r = a.join(b, "h", "full_outer").agg(
            F.sum("na").alias("n_a"), F.sum("nb").alias("n_b"), F.count("na").alias("da"), F.count("nb").alias("db"),
            F.sum(F.when(both, F.col("nb"))).alias("eval_rows"), F.sum(F.when(both, F.col("na"))).alias("train_rows"),
            F.count(F.when(both, 1)).alias("distinct_rows")).first()
        eval_sample: tuple[int, ...] = ()
        train_sample: tuple[int, ...] = ()
        if r["eval_rows"]:
            eval_sample = tuple(int(x["pos"]) for x in hb.join(a.select("h"), "h").orderBy("pos").limit(ROW_SAMPLE)
                                .collect())
            train_sample = tuple(int(x["pos"]) for x in ha.join(b.select("h"), "h").orderBy("pos").limit(ROW_SAMPLE)
                                 .collect())
        n_a, n_b = int(r["n_a"] or 0), int(r["n_b"] or 0)
        result = DuplicateRowsResult(
            feature_columns=tuple(str(c) for c in cols),
            train_total=n_a, eval_total=n_b,
            eval_rows=int(r["eval_rows"] or 0), train_rows=int(r["train_rows"] or 0),
            distinct_rows=int(r["distinct_rows"] or 0),
            train_internal_duplicates=n_a - int(r["da"]), eval_internal_duplicates=n_b - int(r["db"]),
            sample_eval_rows=eval_sample, sample_train_rows=train_sample,
            seconds=time.perf_counter() - started,
        )
        ha.unpersist()
        hb.unpersist()
        return result

    def from_pandas(self, loaded: LoadedDataset) -> SparkData:
        """A dataset the pandas engine read (a CSV beside a Parquet split), as Spark data for a join."""
        import pandas as pd

        df = loaded.df.reset_index(drop=True)
        frame = self.spark.createDataFrame(df.assign(**{POS: pd.RangeIndex(len(df))}))
        schema = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}
        dtypes = {str(c): str(df[c].dtype) for c in df.columns}
        return SparkData(engine=self, frame=frame, columns=[str(c) for c in df.columns], rows=len(df),
                         dtypes=dtypes, types=schema)


_NUMERIC = ("int8", "int16", "int32", "int64", "float32", "float64")


def _arrow_dtype(data: SparkData, col: str) -> str:
    """The column's pandas dtype in the pandas engine (``_pandas_dtype``, else object)."""
    return data.dtypes.get(col) or "object"


def _local(uri: str) -> Path:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return Path(unquote(parsed.path)).resolve()


def _in_order(columns: list[str], skipped: dict[str, str], skip: Mapping[str, str]) -> dict[str, str]:
    """The skipped columns in the frame's order, policy skips written as the pandas scan writes them."""
    out: dict[str, str] = {}
    for name in columns:
        if name in skip:
            out[name] = f"policy: {skip[name] or 'skip_columns'}"
        elif name in skipped:
            out[name] = skipped[name]
    return out
