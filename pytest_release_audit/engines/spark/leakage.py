# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Leakage on Spark: ``scanners.leakage``'s id overlap and duplicate records, by joins.

The id keys are normalised as the pandas scan normalises them (``_id_keys``), with the integral
decision taken on both whole columns; each record is hashed with ``pandas.util.hash_pandas_object``
in the dtype both splits share (``_aligned``). Counts, row positions and masked ids come back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from pytest_release_audit.engines.spark.core import POS, SparkData, _cast

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.engines.spark.core import SparkEngine
    from pytest_release_audit.scanners.leakage import DuplicateRowsResult, IdOverlapResult


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


def id_overlap(train: SparkData, evaluation: SparkData, id_columns: list[str]) -> IdOverlapResult:
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

def duplicate_rows(train: SparkData, evaluation: SparkData,
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

def from_pandas(spark_engine: SparkEngine, loaded: LoadedDataset) -> SparkData:
    """A dataset the pandas engine read (a CSV beside a Parquet split), as Spark data for a join."""
    import pandas as pd

    df = loaded.df.reset_index(drop=True)
    frame = spark_engine.spark.createDataFrame(df.assign(**{POS: pd.RangeIndex(len(df))}))
    schema = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}
    dtypes = {str(c): str(df[c].dtype) for c in df.columns}
    return SparkData(engine=spark_engine, frame=frame, columns=[str(c) for c in df.columns], rows=len(df),
                     dtypes=dtypes, types=schema)



_NUMERIC = ("int8", "int16", "int32", "int64", "float32", "float64")


def _arrow_dtype(data: SparkData, col: str) -> str:
    """The column's pandas dtype in the pandas engine (``_pandas_dtype``, else object)."""
    return data.dtypes.get(col) or "object"


