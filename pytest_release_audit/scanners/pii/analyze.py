# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Analysing distinct values with presidio, each only for the entity types whose gate it passed.

Gating runs over a column's distinct values at once: each gate regex's RE2 form
(``prefilter``) decides ASCII values alone where it is exact and narrows the rest to the values
the Python regex must still search; gates few values pass share one RE2 screening pass, and the
gates' passes run on threads (RE2 releases the GIL).

A value's *signature* has one bit per gate it passed; values with the same signature are sent to
presidio together, for exactly those gates' entity types, in chunks (``pool``: across the cores
when there are many). A value that passes no gate cannot produce a presidio result and is not
analysed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_release_audit.scanners.pii import prefilter
from pytest_release_audit.scanners.pii.gates import Gate, may_hold_context

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from pytest_release_audit.scanners.pii.engine import PiiEngine

BATCH_SIZE = 256
#: A pattern's required characters get their own RE2 pass when at most this share of values has them.
SELECTIVE = 0.25
#: Gates matched by at most this share of a sample of ``SCREEN_SAMPLE`` values are screened together.
RARE = 0.05
SCREEN_SAMPLE = 2000
#: A gate whose RE2 superset is longer than this is never screened with others: combined with the
#: other digit patterns, IP_ADDRESS's (IPv6 forms, ~3,900 characters) makes RE2's DFA blow up,
#: 6 us per clinical note for the union against 0.26 us without it (0.19 us for the IP pass alone).
MAX_SCREEN_CHARS = 2000


@dataclass(frozen=True)
class Hit:
    """One presidio result in one value."""

    entity: str
    start: int
    end: int
    score: float
    detector: str


class _Column:
    """One column's distinct values for the gates, also as one Arrow array for the RE2 prefilters."""

    def __init__(self, values: Sequence[str] | np.ndarray) -> None:
        import numpy as np

        self.values = values
        self.arrow = prefilter.as_arrow(values)  # None: Arrow cannot hold them; Python searches all
        if self.arrow is None:
            self.ascii = np.zeros(len(values), dtype=bool)
        else:
            import pyarrow.compute as pc

            self.ascii = pc.string_is_ascii(self.arrow).fill_null(False).to_numpy(zero_copy_only=False)

    def containing(self, chars: str, among: np.ndarray) -> np.ndarray | None:
        """Which values (of ``among``; the rest False) contain every one of ``chars`` (None: no characters)."""
        import numpy as np

        if not chars:
            return None
        mask = np.zeros(len(self.values), dtype=bool)
        rows = among
        for ch in chars:
            found = self.search(prefilter.literal(ch), rows)
            if found is None:  # no Arrow: the same test in Python
                found = np.fromiter((ch in self.values[int(i)] for i in rows), dtype=bool, count=len(rows))
            rows = rows[found]
        mask[rows] = True
        return mask

    def search(self, pattern: str | None, rows: np.ndarray) -> np.ndarray | None:
        """Which of ``rows`` the RE2 ``pattern`` finds a match in (None: no pattern, no Arrow, or RE2 refused it)."""
        if pattern is None or self.arrow is None:
            return None
        if not len(rows):
            return rows.astype(bool)
        subset = self.arrow if len(rows) == len(self.values) else self.arrow.take(rows)
        return prefilter.matches(subset, pattern)


def _confirm(pattern: Any, column: _Column, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` the Python regex finds a match in."""
    import numpy as np

    values, search = column.values, pattern.search
    return rows[np.fromiter((search(values[int(i)]) is not None for i in rows), dtype=bool, count=len(rows))]


def _passes(gate: Gate, column: _Column, among: np.ndarray) -> np.ndarray:
    """Which values one of ``gate``'s regexes matches (``among``: rows that may; the others cannot).

    A pattern's required characters (``gates.REQUIRED_CHARS``) narrow its rows first. On ASCII-only
    values, a pattern with an exact RE2 form is then decided by RE2 alone (the gate's patterns
    without required characters in one pass); every other (pattern, value) pair is narrowed by the
    pattern's RE2 superset, then searched in Python.
    """
    import numpy as np

    patterns = gate.patterns or ()
    forms = [prefilter.for_compiled(p) for p in patterns]
    n = len(column.values)
    passed = np.zeros(n, dtype=bool)
    required = [column.containing(gate.required[k] if k < len(gate.required) else "", among)
                for k in range(len(patterns))]
    # a required character in most values narrows too little to be worth its own RE2 pass
    required = [r if r is not None and r.sum() <= SELECTIVE * max(1, len(among)) else None for r in required]
    decided = [False] * len(patterns)
    ascii_rows = among[column.ascii[among]]
    plain = [k for k, f in enumerate(forms) if f.exact is not None and required[k] is None]
    if plain and len(ascii_rows):
        hit = column.search("|".join(f"(?:{forms[k].exact})" for k in plain), ascii_rows)
        if hit is not None:
            passed[ascii_rows[hit]] = True
            for k in plain:
                decided[k] = True
    for k, form in enumerate(forms):
        need = required[k]
        if form.exact is None or decided[k] or need is None:
            continue
        rows = ascii_rows[need[ascii_rows] & ~passed[ascii_rows]]
        hit = column.search(form.exact, rows)
        if hit is not None:
            passed[rows[hit]] = True
            decided[k] = True
    other_rows = among[~column.ascii[among]]
    for k, (pattern, form) in enumerate(zip(patterns, forms, strict=True)):
        rows = other_rows if decided[k] else among
        need = required[k]
        mask = ~passed[rows] if need is None else ~passed[rows] & need[rows]
        rows = rows[mask]
        narrowed = column.search(form.superset, rows)
        if narrowed is not None:
            rows = rows[narrowed]
        passed[_confirm(pattern, column, rows)] = True
    return passed


def _without_context(
    gate: Gate, engine: PiiEngine, column: _Column, context: Sequence[str], passed: np.ndarray
) -> np.ndarray:
    """``passed`` less the values whose score could never reach the threshold (no context word)."""
    if gate.context_only_score is None or gate.context_only_score >= engine.threshold:
        return passed
    if any(w in c.lower() for w in gate.context for c in context):
        return passed
    import numpy as np

    # The score can only rise through a context word among the value's own words.
    lowercase_lemmas = engine.ner_model is None
    todo = np.flatnonzero(passed)
    out = passed.copy()
    arrow = column.arrow
    fast = todo[column.ascii[todo]] if arrow is not None and all(w.isascii() for w in gate.context) else todo[:0]
    if arrow is not None and len(fast):
        import pyarrow.compute as pc

        subset = arrow.take(fast)
        if lowercase_lemmas:  # on ASCII text, "w in value.lower()" is a case-insensitive substring test
            words = "|".join(prefilter.literal(w) for w in gate.context)
            keep = pc.match_substring_regex(subset, pattern=f"(?i)(?:{words})").to_numpy(zero_copy_only=False)
        else:  # any letter: on ASCII text, [^\W\d_] is [A-Za-z]
            keep = pc.match_substring_regex(subset, pattern="[A-Za-z]").to_numpy(zero_copy_only=False)
        out[fast] = keep
    slow = todo if not len(fast) else todo[~column.ascii[todo]]
    values = column.values
    out[slow] = [may_hold_context(values[int(i)], gate.context, lowercase_lemmas) for i in slow]
    return out


def _rare(gates: Sequence[Gate], column: _Column) -> tuple[list[int], str | None]:
    """The gates matched by few values (judged on an evenly spaced sample), and the RE2 union of their supersets.

    Those gates are screened together: one RE2 pass of the union over the column, then each gate
    runs only on the rows the union matched (a superset of its own matches). A gate many values
    pass (a run of digits, in notes with dates) keeps every row.
    """
    import numpy as np

    n = len(column.values)
    screens: dict[int, str] = {}
    for i, gate in enumerate(gates):
        forms = [prefilter.for_compiled(p) for p in gate.patterns or ()]
        if column.arrow is not None and forms and all(f.superset is not None for f in forms):
            screen = "|".join(f"(?:{f.superset})" for f in forms)
            if len(screen) <= MAX_SCREEN_CHARS:
                screens[i] = screen
    if len(screens) < 2 or n < SCREEN_SAMPLE:
        return [], None
    sample = np.unique(np.linspace(0, n - 1, SCREEN_SAMPLE).astype(np.int64))
    rare = []
    for i, screen in screens.items():
        hit = column.search(screen, sample)
        if hit is not None and hit.mean() <= RARE:
            rare.append(i)
    if len(rare) < 2:
        return [], None
    return rare, "|".join(f"(?:{screens[i]})" for i in rare)


def _gate_masks(gates: Sequence[Gate], column: _Column) -> list[np.ndarray]:
    """Per gate, which values pass it. RE2 releases the GIL: the gates' passes share the cores."""
    import numpy as np

    everyone = np.arange(len(column.values))
    rare, union = _rare(gates, column)
    workers = max(1, min(len(gates), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(_passes, g, column, everyone) for i, g in enumerate(gates) if i not in rare}
        if rare:
            hit = column.search(union, everyone)  # here, while the other gates run
            among = everyone if hit is None else everyone[hit]
            futures.update({i: pool.submit(_passes, gates[i], column, among) for i in rare})
        return [futures[i].result() for i in range(len(gates))]


def signatures(engine: PiiEngine, values: Sequence[str] | np.ndarray, context: Sequence[str],
               gates: Sequence[Gate] | None = None) -> np.ndarray:
    """Per value, one bit per gate (``engine.gates`` unless given) it passed."""
    import numpy as np

    signature = np.zeros(len(values), dtype=np.int64)
    column = _Column(values)
    gates = list(engine.gates if gates is None else gates)
    gated = [g for g in gates if g.patterns is not None]
    masks = dict(zip(map(id, gated), _gate_masks(gated, column), strict=True))
    for bit, gate in enumerate(gates):
        if gate.patterns is None:
            signature |= np.int64(1 << bit)
            continue
        passed = _without_context(gate, engine, column, context, masks[id(gate)])
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


def hits_of(found: list[Any], engine: PiiEngine) -> list[Hit]:
    """Our hits for presidio's results on one value (spans inside a longer span of another type dropped)."""
    return [
        Hit(entity=r.entity_type, start=r.start, end=r.end, score=float(r.score), detector=detector(r, engine))
        for r in drop_contained(found)
    ]


def analyze_values(
    engine: PiiEngine, values: Sequence[str] | np.ndarray, context: Sequence[str], *, ner: bool = False
) -> tuple[dict[int, list[Hit]], int]:
    """Analyse distinct ``values``; returns {index: hits} for flagged ones and how many were analysed.

    ``ner``: the values are free text and the engine has an NER pipeline: its analyzer reads them.
    """
    hits, signature = analyze_each(engine, values, context, ner=ner)
    return hits, int((signature != 0).sum())


def analyze_each(
    engine: PiiEngine, values: Sequence[str] | np.ndarray, context: Sequence[str], *, ner: bool = False
) -> tuple[dict[int, list[Hit]], np.ndarray]:
    """``analyze_values``, with each value's gate signature (nonzero: it went to presidio) instead of
    how many went. The hits are in signature order, then value order.

    A value's answer depends on the value, ``context``, ``ner`` and the engine only, never on the
    other values: ``scan.py`` reuses it for the same value in another dataset.
    """
    import numpy as np

    from pytest_release_audit.scanners.pii import pool

    if len(values) == 0:
        return {}, np.zeros(0, dtype=np.int64)
    use_ner = ner and engine.ner_analyzer is not None
    gates = engine.ner_gates if use_ner else engine.gates
    signature = signatures(engine, values, context, gates)
    tasks: list[pool.Task] = []
    positions: list[list[int]] = []
    for sig in np.unique(signature):
        if sig == 0:
            continue  # no recognizer's regex matches: presidio cannot report anything here
        entities = sorted({e for bit, g in enumerate(gates) if sig & (1 << bit) for e in g.entities})
        idx = [int(i) for i in np.flatnonzero(signature == sig)]
        for start, task in zip(range(0, len(idx), pool.CHUNK), pool.chunks(use_ner, entities, [values[i] for i in idx],
                                                                             context), strict=True):
            tasks.append(task)
            positions.append(idx[start : start + pool.CHUNK])
    hits: dict[int, list[Hit]] = {}
    for where, found in zip(positions, pool.run(engine, tasks), strict=True):
        for i, value_hits in zip(where, found, strict=True):
            if value_hits:
                hits[i] = [Hit(*h) for h in value_hits]
    return hits, signature
