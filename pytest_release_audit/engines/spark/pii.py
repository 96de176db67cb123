# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The PII scan on Spark: ``scanners.pii.scan_dataframe``'s answer, computed on the executors.

A first pass turns each column into the text the pandas scan analyses (``columns.column_strings``,
with the numeric and skip decisions taken on the whole column); the distinct values, with their
first position, then go to presidio in ``mapInPandas`` (``analyze.analyze_values``, one engine per
Python worker). Hits come back masked; the rows of each finding are counted by a join. Only
aggregates and masked samples reach the driver.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from pytest_release_audit.engines.spark.core import POS, SparkData, _cast

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.engines.spark.core import SparkEngine
    from pytest_release_audit.scanners.pii import PiiEngine, PiiScanResult

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
                         masked, hit.start, hit.end)
                    if primary and len(raw) >= 3:
                        for t, text in enumerate(texts):
                            if raw in text:
                                emit(2, c, None, text.find(raw), hit.entity, 0.0, "", False, masked, t, len(raw))
        yield pd.DataFrame(out, columns=list(keys)).astype(
            {"kind": "int32", "c": "int32", "first": "int64", "score": "float64", "primary": "bool", "n": "int64",
             "m": "int64", "v": object})


ANALYZE_SCHEMA = ("kind int, c int, v string, first long, entity string, score double, detector string, "
                  "primary boolean, masked string, n long, m long")



def scan_pii(spark_engine: SparkEngine, loaded: LoadedDataset, dataset_name: str, engine: PiiEngine,
             policy_section: Mapping[str, Any],
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
    from pytest_release_audit.scanners.pii.results import MAX_FLAGGED_PER_COLUMN, PiiFinding, PiiScanResult

    started = time.perf_counter()
    data: SparkData = loaded.spark
    scored = data.rows > 0 and len(loaded.df) == data.rows  # the evaluation frame, collected for scoring
    section = section_with_defaults(policy_section)
    skip: dict[str, str] = section["skip_columns"]
    ignored = set(engine.ignored)
    skipped: dict[str, str] = {}
    plan_cols: list[tuple[int, str, str, str]] = []
    numeric = [c for c in data.columns if c not in skip and data.numeric(c)]
    stats = _number_stats(data, numeric)
    for c, name in enumerate(data.columns):
        if name in skip:
            continue
        entity = IDENTIFIER_COLUMNS.get(normalise_name(name))
        entity = entity if entity and entity not in ignored else ""
        mode, reason = _mode(data, name, engine, stats.get(name), looks_like_id(name), SMALLEST_IDENTIFIER)
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
        hits = (distinct.repartition(max(spark_engine.spark.sparkContext.defaultParallelism, 1))
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
            scored_raw: list[Any] = []
            if scored:  # the frame is on the driver already: its flagged strings are masked in every output
                by_first = Window.partitionBy("c", "entity").orderBy("first")
                scored_raw = (content.where("primary").withColumn("rn", F.row_number().over(by_first))
                              .where(f"rn <= {MAX_FLAGGED_PER_COLUMN}").select("c", "entity", "v", "n", "m", "masked")
                              .collect())
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
    driver_flagged: dict[str, str] = {}
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
            if scored:
                driver_flagged.update(_scored_flagged(loaded, name, c, flag_entity, entity, scored_raw))
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
        seconds=time.perf_counter() - started, flagged=driver_flagged, ner_columns=tuple(ner_columns))
    return result, flagged_in_texts

def _scored_flagged(loaded: LoadedDataset, name: str, c: int, flag_entity: str, name_entity: str,
                    scored_raw: list[Any]) -> dict[str, str]:
    """raw -> masked of one finding of the frame on the driver, as ``scan._Flag.raw`` holds them."""
    import pandas as pd

    from pytest_release_audit.masking import mask_value
    from pytest_release_audit.scanners.pii.results import MAX_FLAGGED_PER_COLUMN

    out: dict[str, str] = {}
    if flag_entity == name_entity:
        series = loaded.df[name]
        present = series.notna()
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            present &= series.astype(str).str.strip().ne("")
        for value in pd.unique(series[present].astype(str))[:MAX_FLAGGED_PER_COLUMN]:
            out[str(value)] = mask_value(value, flag_entity)
    for r in scored_raw:
        if int(r["c"]) == c and r["entity"] == flag_entity:
            out[str(r["v"])[int(r["n"]):int(r["m"])]] = r["masked"]
    return out


def _number_stats(data: SparkData, cols: list[str]) -> dict[str, Any]:
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


def _in_order(columns: list[str], skipped: dict[str, str], skip: Mapping[str, str]) -> dict[str, str]:
    """The skipped columns in the frame's order, policy skips written as the pandas scan writes them."""
    out: dict[str, str] = {}
    for name in columns:
        if name in skip:
            out[name] = f"policy: {skip[name] or 'skip_columns'}"
        elif name in skipped:
            out[name] = skipped[name]
    return out
