# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Survival metrics: Harrell's C-index in O(n log n), weighted for the bootstrap (Cox-based metrics: ``survival_cox``).

Conventions. Scores are **risk scores**: higher means an earlier event. ``concordance_index(t, e,
risk)`` equals ``lifelines.utils.concordance_index(t, -risk, e)`` exactly (same counts, same float),
including lifelines' treatment of ties:

* a pair is comparable when the earlier of the two times has an event; two events at the same time
  are not comparable; an event and a censoring at the same time are (the censored one outlived it);
  two censorings never are;
* a comparable pair is concordant when the earlier event has the higher risk, and counts 0.5 when the
  risks are equal.

Bootstrap resamples are expressed as integer **weights** (how often each patient was drawn). A pair
of copies of the same patient is never comparable (same time, same event status), so the C-index of
a resample equals the weighted C-index with pair weight ``w_i * w_j``. That lets one precomputed
plan per model serve a whole matrix of resamples with a few vectorised passes (``take`` / ``cumsum``)
per chunk of resamples instead of one Python-level tree walk per patient per resample.

The strictly-concordant count is a weighted inversion count, computed with a vectorised
divide-and-conquer over time order (every merge level at once); the tied and comparable-pair counts
are single cumulative sums. numpy / lifelines are imported inside functions only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

_INT32_MAX = 2**31 - 1


def _as_arrays(durations: Any, events: Any, risk: Any | None = None) -> tuple[Any, Any, Any]:
    import numpy as np

    t = np.asarray(durations, dtype=float).reshape(-1)
    e = np.asarray(events, dtype=float).reshape(-1)
    if t.shape != e.shape:
        raise ValueError(f"durations ({t.size}) and events ({e.size}) differ in length")
    r = None
    if risk is not None:
        r = np.asarray(risk, dtype=float).reshape(-1)
        if r.shape != t.shape:
            raise ValueError(f"risk scores ({r.size}) and durations ({t.size}) differ in length")
        if np.isnan(r).any():
            raise ValueError("risk scores contain NaN")
    if np.isnan(t).any() or np.isnan(e).any():
        raise ValueError("durations or events contain NaN")
    return t, e != 0, r


def _group_starts(n: int, *keys: Any) -> Any:
    """Index of the first element of each element's run of equal ``keys`` (arrays already sorted)."""
    import numpy as np

    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return np.maximum.accumulate(np.where(new, np.arange(n), 0))


@dataclass(frozen=True)
class PairsPlan:
    """Comparable-pair counting for one set of (durations, events); shared by every model."""

    order: Any  # time order: by time, events before censorings
    died: Any  # events in that order (int)
    take: Any  # positions (in time order) that have at least one comparable earlier event
    bound: Any  # for those: number of leading time-ordered elements that are comparable earlier events


@dataclass(frozen=True)
class MergeSpans:
    """The numpy kernel's gather plan for the strictly-concordant count (n log n per array)."""

    left: Any  # patient ids of left-half events, per merge level, each block sorted by risk rank
    hi: Any  # per right-half patient: end of its block's left events in ``left`` (cumsum index)
    lo: Any  # ... and the first left event ranked above it
    right: Any  # the right-half patient ids those bounds belong to


@dataclass(frozen=True)
class ConcordancePlan:
    """Everything about one model's risk scores that does not depend on the resample weights."""

    n: int
    levels: int
    order: Any  # time order: by time, events before censorings, equal-time events by ascending risk
    rank: Any  # in that order: unique risk ranks (equal risks ranked by time position)
    events: Any  # in that order: event flags (bool)
    tie_order: Any  # order by (risk, time, events first)
    tie_died: Any
    tie_take: Any  # positions in tie order with tied comparable earlier events
    tie_hi: Any
    tie_lo: Any

    @cached_property
    def streamable(self) -> bool:
        """Whether the tie spans only move forward, as ``survival_jit.span_sums`` needs (checked once)."""
        return _forward(self.tie_hi, self.tie_lo)

    @cached_property
    def spans(self) -> MergeSpans:
        """Every merge level's (later patient, earlier events ranked above it) spans, built on first use
        (only the numpy kernel reads them; the compiled one merges instead)."""
        return _merge_spans(self.order, self.rank, self.events, self.levels)


def _merge_spans(order_p: Any, rho: Any, ep: Any, levels: int) -> MergeSpans:
    import numpy as np

    n = order_p.size
    pos = np.arange(n)
    lefts, his, los, rights = [], [], [], []
    base = 0
    for k in range(levels):
        block = pos >> (k + 1)
        half = (pos >> k) & 1
        perm = np.lexsort((rho, block))
        blk = block[perm]
        is_left = (half[perm] == 0) & ep[perm]
        left_before = np.concatenate(([0], np.cumsum(is_left)))
        block_end = np.searchsorted(blk, blk, side="right")
        s = np.nonzero(half[perm] == 1)[0]
        hi = left_before[block_end[s]]
        lo = left_before[s + 1]
        keep = hi > lo  # right elements with no higher-ranked earlier event add nothing
        lefts.append(order_p[perm[is_left]])
        his.append(hi[keep] + base)
        los.append(lo[keep] + base)
        rights.append(order_p[perm[s[keep]]])
        base += int(is_left.sum())
    empty = np.zeros(0, dtype=np.int64)
    return MergeSpans(
        left=np.concatenate(lefts) if lefts else empty,
        hi=np.concatenate(his) if his else empty,
        lo=np.concatenate(los) if los else empty,
        right=np.concatenate(rights) if rights else empty,
    )


def pairs_plan(durations: Any, events: Any) -> PairsPlan:
    """Precompute comparable-pair counting for ``durations`` / ``events``."""
    import numpy as np

    t, e, _ = _as_arrays(durations, events)
    n = t.size
    order = np.lexsort((~e, t))
    ts, es = t[order], e[order]
    time_start = _group_starts(n, ts)
    censored_start = _group_starts(n, ts, es)
    # An event is comparable with events strictly earlier; a censoring also with events at its time.
    bound = np.where(es, time_start, censored_start)
    died_cum = np.concatenate(([0], np.cumsum(es)))
    has = died_cum[bound] > 0
    take = np.nonzero(has)[0]
    return PairsPlan(order=order, died=es.astype(np.int32), take=take, bound=bound[take])


def concordance_plan(durations: Any, events: Any, risk: Any) -> ConcordancePlan:
    """Precompute the weight-independent part of the C-index for one model's ``risk`` scores."""
    import numpy as np

    t, e, r = _as_arrays(durations, events, risk)
    n = t.size
    # Time order with ties: events first, then censorings; equal-time events by ascending risk, so
    # that two events at the same time (not comparable) never form an inversion below.
    order_p = np.lexsort((r, ~e, t))
    rp, ep = r[order_p], e[order_p]
    # Unique risk ranks; equal risks ordered by time position so they never count as an inversion
    # (ties are counted separately, at 0.5).
    by_risk = np.argsort(rp, kind="stable")
    rho = np.empty(n, dtype=np.int64)
    rho[by_risk] = np.arange(n)
    levels = max(1, int(math.ceil(math.log2(n)))) if n > 1 else 0
    tie_order = np.lexsort((~e, t, r))
    rs, ts, es = r[tie_order], t[tie_order], e[tie_order]
    r_start = _group_starts(n, rs)
    rt_start = _group_starts(n, rs, ts)
    c_start = _group_starts(n, rs, ts, es)
    bound = np.where(es, rt_start, c_start)
    tie_take = np.nonzero(bound > r_start)[0]
    return ConcordancePlan(
        n=n,
        levels=levels,
        order=order_p,
        rank=rho,
        events=ep,
        tie_order=tie_order,
        tie_died=es.astype(np.int32),
        tie_take=tie_take,
        tie_hi=bound[tie_take],
        tie_lo=r_start[tie_take],
    )


def _narrowed(weights: Any, levels: int) -> tuple[Any, Any]:
    """(weights in the narrowest exact gather dtype, running-sum dtype) for one chunk of resamples.

    Every intermediate is bounded by the resample size ``total`` (the largest row sum) and the
    largest single weight ``top``: a running sum over one merge level's events is at most ``total``
    (over all ``levels`` at most ``total * levels``), a span is a difference of two of them (at most
    ``total``), and a span times one weight at most ``total * top``; the final sums are int64. So
    int32 is exact while ``total * max(levels, top)`` fits, and the weights are gathered as int8
    (a quarter of the memory traffic of int32) while ``top`` does: a bootstrap resample of a
    million rows has a largest weight near 10. ``bench/bootstrap_kernel.py`` measures the gain
    (0.69x the time of int64 at 300k rows, 0.49x at a million) and checks the counts are equal.
    """
    import numpy as np

    work: Any = np.int32
    gather: Any = np.int32
    if weights.size:
        total = int(weights.sum(axis=1).max())
        top = int(weights.max())
        work = np.int32 if total * max(levels, top, 1) <= _INT32_MAX else np.int64
        integral = np.issubdtype(weights.dtype, np.integer)
        gather = np.int8 if integral and 0 <= int(weights.min()) and top <= 127 else work
    return weights.astype(gather, copy=False), work


def _ordered_span_sum(w: Any, work: Any, order: Any, died: Any, take: Any, hi: Any, lo: Any | None) -> Any:
    """Per row: sum over ``take`` of w[order][take] * (events' weight in order[lo:hi]) (int64)."""
    import numpy as np

    ordered = np.take(w, order, axis=1)
    cum = np.zeros((w.shape[0], ordered.shape[1] + 1), dtype=work)
    np.cumsum(ordered * died.astype(work, copy=False), axis=1, out=cum[:, 1:])
    span = np.take(cum, hi, axis=1)
    if lo is not None:
        span -= np.take(cum, lo, axis=1)
    span *= np.take(ordered, take, axis=1)
    return span.sum(axis=1, dtype=np.int64)


def _pairs(plan: PairsPlan, w: Any, work: Any) -> Any:
    import numpy as np

    if plan.take.size == 0:
        return np.zeros(w.shape[0], dtype=np.int64)
    return _ordered_span_sum(w, work, plan.order, plan.died, plan.take, plan.bound, None)


def _concordant(plan: ConcordancePlan, w: Any, work: Any) -> tuple[Any, Any]:
    import numpy as np

    rows = w.shape[0]
    spans = plan.spans
    if spans.right.size:
        # Strictly concordant pairs: every merge level's (later patient, earlier events ranked
        # above it in the same block) spans, as differences of one running sum.
        cum = np.zeros((rows, spans.left.size + 1), dtype=work)
        np.cumsum(np.take(w, spans.left, axis=1), axis=1, dtype=work, out=cum[:, 1:])
        span = np.take(cum, spans.hi, axis=1)
        span -= np.take(cum, spans.lo, axis=1)
        span *= np.take(w, spans.right, axis=1)
        concordant = span.sum(axis=1, dtype=np.int64)
    else:
        concordant = np.zeros(rows, dtype=np.int64)
    if plan.tie_take.size:
        tied = _ordered_span_sum(w, work, plan.tie_order, plan.tie_died, plan.tie_take, plan.tie_hi, plan.tie_lo)
    else:
        tied = np.zeros(rows, dtype=np.int64)
    return concordant, tied


def comparable_pairs(plan: PairsPlan, weights: Any) -> Any:
    """Weighted number of comparable pairs, one value per row of ``weights`` (int64)."""
    return _pairs(plan, *_narrowed(weights, 1))


def concordant_counts(plan: ConcordancePlan, weights: Any) -> tuple[Any, Any]:
    """Weighted (concordant, tied) pair counts per row of ``weights`` (int64 arrays)."""
    return _concordant(plan, *_narrowed(weights, plan.levels))


def concordance_ratio(concordant: Any, tied: Any, pairs: Any) -> Any:
    """lifelines' ratio ``(concordant + tied / 2) / pairs``; NaN where there are no pairs."""
    import numpy as np

    pairs = np.asarray(pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.asarray(concordant) + np.asarray(tied) / 2) / pairs
    return np.where(pairs > 0, out, np.nan)


def concordance_index_weighted(durations: Any, events: Any, risk: Any, weights: Any) -> Any:
    """C-index for each row of integer ``weights`` (shape ``(m, n)``): one value per resample."""
    import numpy as np

    w = np.atleast_2d(np.asarray(weights))
    pp = pairs_plan(durations, events)
    cp = concordance_plan(durations, events, risk)
    concordant, tied = concordant_counts(cp, w)
    return concordance_ratio(concordant, tied, comparable_pairs(pp, w))


def concordance_index(durations: Any, events: Any, risk: Any) -> float:
    """Harrell's C-index of risk scores (higher = earlier event), O(n log n).

    Equal to ``lifelines.utils.concordance_index(durations, -risk, events)``; NaN (where lifelines
    raises ``ZeroDivisionError``) when no pair is comparable, e.g. without any event.
    """
    import numpy as np

    t, _, _ = _as_arrays(durations, events, risk)
    value = concordance_index_weighted(durations, events, risk, np.ones((1, t.size), dtype=np.int32))
    return float(value[0])


#: From this many rows on, the scorer counts with the compiled kernels (``survival_jit``) when numba
#: is installed: below it, numpy is fast enough and numba's import and first compilation are not.
JIT_MIN_ROWS = 10_000


def jit_kernels(n: int, kernel: str = "auto") -> Any:
    """The compiled kernels module for ``n`` rows, or None: numpy counts (``kernel="numpy"``, or
    ``"auto"`` below ``JIT_MIN_ROWS``, or numba not installed). ``"compiled"`` insists."""
    if kernel == "numpy" or (kernel == "auto" and n < JIT_MIN_ROWS):
        return None
    if kernel == "compiled":
        from pytest_release_audit.metrics import survival_jit as required

        return required
    try:
        from pytest_release_audit.metrics import survival_jit
    except ImportError:  # numba missing or broken: numpy counts the same pairs
        return None
    return survival_jit


def _forward(*bounds: Any) -> bool:
    """Whether every array is non-decreasing (what ``survival_jit.span_sums`` streams over)."""
    import numpy as np

    return all(b.size < 2 or bool((np.diff(b) >= 0).all()) for b in bounds)


class SurvivalScorer:
    """Bootstrap scorer for survival models: the C-index, sharing the pair counts between models.

    On ``JIT_MIN_ROWS`` rows or more (and numba installed) a chunk of resamples is counted by the
    compiled kernels, otherwise by numpy's passes; both give the same integers. ``kernel``
    (``auto``, ``numpy``, ``compiled``) chooses for tests and benchmarks.
    """

    metrics: tuple[str, ...] = ("c_index",)

    def __init__(self, durations: Any, events: Any, kernel: str = "auto") -> None:
        self.durations = durations
        self.events = events
        self._pairs = pairs_plan(durations, events)
        self._jit = jit_kernels(self._pairs.order.size, kernel)
        if self._jit is not None and not _forward(self._pairs.bound):
            self._jit = None  # cannot happen with group starts; numpy does not need it

    def prepare(self, scores: Any) -> ConcordancePlan:
        """Per-model precomputation (independent of the resample weights)."""
        return concordance_plan(self.durations, self.events, scores)

    @property
    def block_rows(self) -> int | None:
        """Resamples per block the compiled kernels want (their lanes: 32 run twice as fast as 8);
        None: the bootstrap's default for numpy."""
        return 32 if self._jit is not None else None

    def work_per_resample(self, plans: list[ConcordancePlan]) -> int:
        """The widest array one resample needs, for chunk sizing: numpy's merge spans (~n log n
        int64), or for the compiled kernels a fifth of n (their arrays are int8 rows plus the
        block's int32 indices and weights, about 12 bytes per row of a resample against numpy's
        ~40 per span, and they run twice as fast with 32 resamples per block as with 8)."""
        if self._jit is not None:
            return max(1, self._pairs.order.size // 5)
        sizes = [self._pairs.order.size, self._pairs.take.size]
        for plan in plans:
            spans = plan.spans
            sizes += [spans.left.size, spans.hi.size, plan.tie_order.size, plan.tie_take.size]
        return max(sizes)

    def evaluate(self, plans: list[ConcordancePlan], weights: Any) -> list[dict[str, Any]]:
        """C-index per row of ``weights`` for each prepared model."""
        import numpy as np

        # One narrowing per chunk, shared by the pair counts and every model (the bound with the
        # most merge levels holds for all of them).
        w, work = _narrowed(weights, max((plan.levels for plan in plans), default=1))
        jit = self._jit if w.dtype == np.int8 and w.shape[0] else None
        if jit is not None and all(p.streamable for p in plans):
            return self._evaluate_compiled(jit, plans, w)
        pairs = _pairs(self._pairs, w, work)
        out = []
        for plan in plans:
            concordant, tied = _concordant(plan, w, work)
            out.append({"c_index": concordance_ratio(concordant, tied, pairs)})
        return out

    def evaluate_indices(self, plans: list[ConcordancePlan], indices: Any) -> list[dict[str, Any]]:
        """``evaluate`` for the resamples given as row indices (a row per resample): the compiled
        kernels count them straight into their rows of weights."""
        import numpy as np

        from pytest_release_audit.metrics.bootstrap import weights_from_indices

        n = self._pairs.order.size
        if self._jit is not None and n and all(p.streamable for p in plans):
            rows = self._jit.lane_counts(np.ascontiguousarray(indices, dtype=np.int32), n)
            if rows is not None:
                return self._evaluate_rows(self._jit, plans, rows)
        return self.evaluate(plans, weights_from_indices(indices, n))

    def _evaluate_compiled(self, jit: Any, plans: list[ConcordancePlan], w: Any) -> list[dict[str, Any]]:
        import numpy as np

        return self._evaluate_rows(jit, plans, np.ascontiguousarray(w.T))

    def _evaluate_rows(self, jit: Any, plans: list[ConcordancePlan], rows: Any) -> list[dict[str, Any]]:
        """The compiled counts from ``rows`` ``(n, k)`` int8: a patient's weights in the k resamples."""
        import numpy as np

        pp = self._pairs
        k = rows.shape[1]
        pairs = np.zeros(k, dtype=np.int64)
        if pp.take.size:
            pairs = jit.span_sums(jit.gather_rows(rows, pp.order), pp.died, pp.take, pp.bound, pp.bound, False)
        out = []
        for plan in plans:
            concordant = jit.merge_concordant(plan.rank, plan.events, jit.gather_rows(rows, plan.order))
            tied = np.zeros(k, dtype=np.int64)
            if plan.tie_take.size:
                tied = jit.span_sums(jit.gather_rows(rows, plan.tie_order), plan.tie_died, plan.tie_take,
                                     plan.tie_hi, plan.tie_lo, True)
            out.append({"c_index": concordance_ratio(concordant, tied, pairs)})
        return out
