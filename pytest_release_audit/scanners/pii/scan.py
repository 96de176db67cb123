# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The full PII scan of one DataFrame: every non-empty value of every column that can hold an identifier.

It stays fast by analysing each distinct value of a column once, and by sending to presidio only
the values that pass a recognizer's gate (``gates``), for exactly the entity types whose gate they
passed. Findings carry counts, row positions and a *masked* sample (``j***@***.org``): never a raw
value. pandas and numpy are imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_release_audit.masking import mask_value
from pytest_release_audit.scanners.pii.analyze import Hit, analyze_each
from pytest_release_audit.scanners.pii.columns import column_strings, distinct, is_free_text
from pytest_release_audit.scanners.pii.engine import PiiEngine, section_with_defaults
from pytest_release_audit.scanners.pii.names import IDENTIFIER_COLUMNS, name_tokens, normalise_name
from pytest_release_audit.scanners.pii.results import MAX_FLAGGED_PER_COLUMN, PiiFinding, PiiScanResult

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


@dataclass
class _Flag:
    """One entity type in one column: which rows, best score, a masked sample, raw -> masked."""

    mask: np.ndarray
    score: float
    sample: str
    detectors: list[str]
    raw: dict[str, str]


@dataclass
class _Column:
    """What one column's scan found (by its name and by its content) and how much it analysed."""

    flags: dict[str, _Flag] = field(default_factory=dict)
    skipped: str | None = None
    values_scanned: int = 0
    values_analyzed: int = 0
    ner: bool = False  # read by the NER pipeline (a free-text column)


def _by_name(series: Any, name: str, ignored: set[str]) -> dict[str, _Flag]:
    """A finding for every non-empty value of a column whose name says it holds an identifier."""
    import numpy as np
    import pandas as pd

    entity = IDENTIFIER_COLUMNS.get(normalise_name(name))
    if not entity or entity in ignored:
        return {}
    present = series.notna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        present &= series.astype(str).str.strip().ne("").to_numpy()
    positions = np.flatnonzero(present)
    if not len(positions):
        return {}
    distinct = pd.unique(series.iloc[positions].astype(str))[:MAX_FLAGGED_PER_COLUMN]
    return {
        entity: _Flag(
            mask=present,
            score=1.0,
            sample=mask_value(series.iloc[int(positions[0])], entity),
            detectors=["column name"],
            raw={str(v): mask_value(v, entity) for v in distinct},
        )
    }


def _content_flag(strings: Any, entity: str, hits: dict[Any, Hit], score: float, detectors: set[str]) -> _Flag:
    """The flag for ``entity`` from the distinct values (-> their first hit) it was found in."""
    import numpy as np
    import pandas as pd

    mask = pd.Series(strings, dtype=object).isin(list(hits)).to_numpy()
    value = strings[int(np.flatnonzero(mask)[0])]
    first = hits[value]
    raw = {}
    for flagged, hit in list(hits.items())[:MAX_FLAGGED_PER_COLUMN]:
        text = str(flagged)[hit.start : hit.end]
        raw[text] = mask_value(text, entity)
    sample = mask_value(value[first.start : first.end], entity)
    return _Flag(mask=mask, score=score, sample=sample, detectors=sorted(detectors), raw=raw)


@dataclass
class _Seen:
    """The distinct values of one column context analysed so far, and their answers."""

    values: Any  # object ndarray, distinct
    signature: Any  # int64 ndarray: the gates each value passed (0: not sent to presidio)
    hits: dict[int, list[Hit]]  # position in ``values`` -> hits


def _analyze_once(engine: PiiEngine, uniques: Any, context: list[str], ner: bool) -> tuple[dict[int, list[Hit]], int]:
    """``analyze_values`` for ``uniques``, reusing this engine's answers for the values it analysed
    in an earlier dataset under the same column context (a training split repeats its raw table's
    notes). A value's answer depends only on the value, the context and the engine, and the hits
    keep ``analyze_each``'s order (signature, then value), so the findings, samples and counts are
    exactly those of a fresh analysis."""
    import numpy as np
    import pandas as pd

    key = (tuple(context), ner)
    seen: _Seen | None = engine.seen.get(key)
    if seen is None:
        where = np.full(len(uniques), -1, dtype=np.int64)
    else:
        where = pd.Index(seen.values, dtype=object).get_indexer(pd.Index(uniques, dtype=object))
    fresh = np.flatnonzero(where < 0)
    found, fresh_signature = analyze_each(engine, uniques[fresh], context, ner=ner)
    signature = np.zeros(len(uniques), dtype=np.int64)
    signature[fresh] = fresh_signature
    hits = {int(fresh[i]): h for i, h in found.items()}
    if seen is not None:
        known = np.flatnonzero(where >= 0)
        signature[known] = seen.signature[where[known]]
        for i in known:
            old = seen.hits.get(int(where[i]))
            if old is not None:
                hits[int(i)] = old
        order = sorted(hits, key=lambda i: (int(signature[i]), i))
        hits = {i: hits[i] for i in order}
    if len(fresh):
        base = 0 if seen is None else len(seen.values)
        added = {base + i: h for i, h in found.items()}
        if seen is None:
            engine.seen[key] = _Seen(uniques[fresh], fresh_signature, added)
        else:
            seen.values = np.concatenate([seen.values, uniques[fresh]])
            seen.signature = np.concatenate([seen.signature, fresh_signature])
            seen.hits.update(added)
    return hits, int((signature != 0).sum())


def _by_content(strings: Any, name: str, engine: PiiEngine, column: _Column) -> dict[str, _Flag]:
    """Flags from presidio's results on the column's distinct values."""
    import numpy as np

    present = np.array([v is not None for v in strings], dtype=bool)
    uniques = distinct(strings[present])
    column.ner = engine.ner_analyzer is not None and is_free_text(uniques, int(present.sum()))
    hits, column.values_analyzed = _analyze_once(engine, uniques, [name, *name_tokens(name)], column.ner)
    column.values_scanned = len(uniques)
    by_entity: dict[str, dict[Any, Hit]] = {}
    scores: dict[str, float] = {}
    detectors: dict[str, set[str]] = {}
    for i, value_hits in hits.items():
        for hit in value_hits:
            by_entity.setdefault(hit.entity, {}).setdefault(uniques[i], hit)
            scores[hit.entity] = max(scores.get(hit.entity, 0.0), hit.score)
            detectors.setdefault(hit.entity, set()).add(hit.detector)
    return {
        entity: _content_flag(strings, entity, values, scores[entity], detectors[entity])
        for entity, values in by_entity.items()
    }


def _merge(flags: dict[str, _Flag], entity: str, found: _Flag) -> None:
    """Add a content flag to the column-name flag of the same entity (content gives the sample)."""
    if entity not in flags:
        flags[entity] = found
        return
    merged = flags[entity]
    merged.mask = merged.mask | found.mask
    merged.score = max(merged.score, found.score)
    merged.detectors = merged.detectors + found.detectors
    merged.sample = found.sample
    merged.raw = {**merged.raw, **found.raw}


def _scan_column(series: Any, name: str, engine: PiiEngine) -> _Column:
    """Scan one column by its name and, unless its values cannot hold an identifier, its content."""
    import pandas as pd

    if isinstance(series, pd.DataFrame):  # duplicated column label: scan each copy by position
        series = series.iloc[:, 0]
    column = _Column(flags=_by_name(series, name, set(engine.ignored)))
    strings, reason = column_strings(series, name, engine)
    if strings is None:
        column.skipped = reason or "not scannable"
        return column
    for entity, found in _by_content(strings, name, engine, column).items():
        _merge(column.flags, entity, found)
    return column


def _finding(dataset: str, column: str, entity: str, flag: _Flag, blocking_types: set[str]) -> PiiFinding:
    import numpy as np

    positions = np.flatnonzero(flag.mask)
    return PiiFinding(
        dataset=dataset,
        column=column,
        entity_type=entity,
        rows_affected=int(len(positions)),
        masked_sample=flag.sample,
        row_indices=tuple(int(p) for p in positions[:10]),
        max_score=float(flag.score),
        detector=" + ".join(flag.detectors),
        blocking=not blocking_types or entity in blocking_types,
    )


@dataclass
class _Totals:
    """The running totals of one dataset's scan."""

    findings: list[PiiFinding] = field(default_factory=list)
    allowed: list[PiiFinding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)
    values_scanned: int = 0
    values_analyzed: int = 0
    ner_columns: list[str] = field(default_factory=list)

    def add(self, name: str, column: _Column, dataset: str, section: Mapping[str, Any]) -> None:
        """Record one column's flags as findings, or as allowed where the policy allows them."""
        if column.skipped is not None:
            self.skipped[name] = column.skipped
        else:
            self.scanned.append(name)
        if column.ner:
            self.ner_columns.append(name)
        self.values_scanned += column.values_scanned
        self.values_analyzed += column.values_analyzed
        allowed_here = set(section["allow"].get(name, ()))
        for entity, flag in column.flags.items():
            finding = _finding(dataset, name, entity, flag, set(section["entities"]))
            if entity in allowed_here:
                self.allowed.append(dataclasses.replace(finding, blocking=False))
            else:
                self.findings.append(finding)
                self.flagged.update(flag.raw)


def scan_dataframe(
    df: Any,
    dataset_name: str,
    *,
    engine: PiiEngine,
    policy_section: Mapping[str, Any] | None = None,
) -> PiiScanResult:
    """Scan every value of every column of ``df`` (a pandas DataFrame) that can hold an identifier.

    ``policy_section`` is ``Policy.section("pii")``: ``skip_columns`` ({column: reason}),
    ``allow`` ({column: [entity types allowed there]}), ``entities`` (types that block; [] = all).
    Findings are sorted blocking first, then by rows affected.
    """
    started = time.perf_counter()
    section = section_with_defaults(policy_section)
    skip: dict[str, str] = section["skip_columns"]
    totals = _Totals()
    for col in df.columns:
        name = str(col)
        if name in skip:
            totals.skipped[name] = f"policy: {skip[name] or 'skip_columns'}"
            continue
        totals.add(name, _scan_column(df[col], name, engine), dataset_name, section)
    findings = sorted(totals.findings, key=lambda f: (not f.blocking, -f.rows_affected, f.column, f.entity_type))
    return PiiScanResult(
        dataset=dataset_name,
        rows=int(len(df)),
        findings=tuple(findings),
        columns_scanned=tuple(totals.scanned),
        columns_skipped=totals.skipped,
        allowed=tuple(totals.allowed),
        values_scanned=int(totals.values_scanned),
        values_analyzed=int(totals.values_analyzed),
        seconds=time.perf_counter() - started,
        flagged=totals.flagged,
        ner_columns=tuple(totals.ner_columns),
    )
