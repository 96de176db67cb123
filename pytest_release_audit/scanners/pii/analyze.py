# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Analysing distinct values with presidio, each only for the entity types whose gate it passed.

A value's *signature* has one bit per gate it passed; values with the same signature are sent to
presidio together, for exactly those gates' entity types. A value that passes no gate cannot
produce a presidio result and is not analysed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_release_audit.scanners.pii.entities import LANGUAGE
from pytest_release_audit.scanners.pii.gates import Gate, may_hold_context

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from pytest_release_audit.scanners.pii.engine import PiiEngine

BATCH_SIZE = 256


@dataclass(frozen=True)
class Hit:
    """One presidio result in one value."""

    entity: str
    start: int
    end: int
    score: float
    detector: str


class _Contains:
    """Which values contain a character, computed once per character for all gates."""

    def __init__(self, values: Sequence[str]) -> None:
        import pandas as pd

        self._series = pd.Series(list(values), dtype=object)
        self._seen: dict[str, np.ndarray] = {}

    def __call__(self, ch: str) -> np.ndarray:
        if ch not in self._seen:
            self._seen[ch] = self._series.str.contains(ch, regex=False).to_numpy(dtype=bool)
        return self._seen[ch]


def _passes(gate: Gate, values: Sequence[str], contains: _Contains) -> np.ndarray:
    """Which values one of ``gate``'s regexes matches (its required characters tested first)."""
    import numpy as np

    passed = np.zeros(len(values), dtype=bool)
    for k, pattern in enumerate(gate.patterns or ()):
        open_ = ~passed
        for ch in gate.required[k] if k < len(gate.required) else "":
            open_ &= contains(ch)
        todo = np.flatnonzero(open_)
        search = pattern.search
        passed[todo] = [search(values[int(i)]) is not None for i in todo]
    return passed


def _without_context(
    gate: Gate, engine: PiiEngine, values: Sequence[str], context: Sequence[str], passed: np.ndarray
) -> np.ndarray:
    """``passed`` less the values whose score could never reach the threshold (no context word)."""
    if gate.context_only_score is None or gate.context_only_score >= engine.threshold:
        return passed
    if any(w in c.lower() for w in gate.context for c in context):
        return passed
    import numpy as np

    # The score can only rise through a context word among the value's own words.
    todo = np.flatnonzero(passed)
    out = passed.copy()
    out[todo] = [may_hold_context(values[int(i)], gate.context, engine.ner_model is None) for i in todo]
    return out


def signatures(engine: PiiEngine, values: Sequence[str], context: Sequence[str],
               gates: Sequence[Gate] | None = None) -> np.ndarray:
    """Per value, one bit per gate (``engine.gates`` unless given) it passed."""
    import numpy as np

    signature = np.zeros(len(values), dtype=np.int64)
    contains = _Contains(values)
    for bit, gate in enumerate(engine.gates if gates is None else gates):
        if gate.patterns is None:
            signature |= np.int64(1 << bit)
            continue
        passed = _without_context(gate, engine, values, context, _passes(gate, values, contains))
        signature[passed] |= np.int64(1 << bit)
    return signature


def drop_contained(results: list[Any]) -> list[Any]:
    """Drop a result inside a longer span of another type (the URL inside every email address)."""
    return [
        r
        for r in results
        if not any(
            o is not r
            and o.entity_type != r.entity_type
            and o.start <= r.start
            and r.end <= o.end
            and ((o.end - o.start) > (r.end - r.start) or o.score > r.score)
            for o in results
        )
    ]


def detector(result: Any, engine: PiiEngine) -> str:
    """Which recognizer found ``result``, as findings name it."""
    name = (result.recognition_metadata or {}).get("recognizer_name", "")
    if name == "GazetteerPersonRecognizer":
        return "gazetteer (not NER)"
    if name in ("SpacyRecognizer", "NerRecognizer"):
        return f"NER ({engine.ner_model})"
    return f"presidio:{name}" if name else "presidio"


def _hits(found: list[Any], engine: PiiEngine) -> list[Hit]:
    return [
        Hit(entity=r.entity_type, start=r.start, end=r.end, score=float(r.score), detector=detector(r, engine))
        for r in drop_contained(found)
    ]


def analyze_values(
    engine: PiiEngine, values: Sequence[str], context: Sequence[str], *, ner: bool = False
) -> tuple[dict[int, list[Hit]], int]:
    """Analyse distinct ``values``; returns {index: hits} for flagged ones and how many were analysed.

    ``ner``: the values are free text and the engine has an NER pipeline: its analyzer reads them.
    """
    import numpy as np
    from presidio_analyzer import BatchAnalyzerEngine

    if len(values) == 0:
        return {}, 0
    use_ner = ner and engine.ner_analyzer is not None
    gates = engine.ner_gates if use_ner else engine.gates
    signature = signatures(engine, values, context, gates)
    batch = BatchAnalyzerEngine(analyzer_engine=engine.ner_analyzer if use_ner else engine.analyzer)
    hits: dict[int, list[Hit]] = {}
    analysed = 0
    for sig in np.unique(signature):
        if sig == 0:
            continue  # no recognizer's regex matches: presidio cannot report anything here
        entities = sorted({e for bit, g in enumerate(gates) if sig & (1 << bit) for e in g.entities})
        idx = [int(i) for i in np.flatnonzero(signature == sig)]
        analysed += len(idx)
        results = batch.analyze_iterator(
            [values[i] for i in idx],
            language=LANGUAGE,
            batch_size=BATCH_SIZE,
            entities=entities,
            context=list(context),
            score_threshold=engine.threshold,
        )
        for i, found in zip(idx, results, strict=True):
            kept = [r for r in found if r.score >= engine.threshold]
            if kept:
                hits[i] = _hits(kept, engine)
    return hits, analysed
