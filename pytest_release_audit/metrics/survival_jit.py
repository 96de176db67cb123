# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Compiled (numba) kernels for the bootstrap C-index: the same integer counts, streamed.

``metrics.survival`` counts pairs for a chunk of resamples with numpy passes over precomputed
gather plans: for the concordant pairs, one ``take`` / ``cumsum`` per merge level of n log n
elements, each a random gather. These kernels count the same pairs by actually merge-sorting the
patients by risk, level by level, carrying each patient's weights in every resample of the chunk
(a row of ``k`` int8 values) with it. Every level reads and writes its rows in order, so the work
is sequential memory traffic instead of n log n random gathers, and the ``k`` lanes of a row are
summed together (SIMD). The tied and comparable-pair counts are single streams over their orders.

Arithmetic is exact integers: running sums in int64 per lane, products of an int8 weight and a
running sum in int64; the answers are equal to numpy's, count for count
(``tests/test_metrics_survival.py``; ``bench/bootstrap_kernel.py`` prints the times side by side).
Importing this module imports numba; ``metrics.survival`` does so only for large inputs, where the
one-off compilation (cached on disk by numba) is small next to the work.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def merge_concordant(rank: Any, events: Any, weights: Any) -> Any:  # pragma: no cover - compiled
    """Weighted strictly-concordant pair counts per resample (one per column of ``weights``).

    ``rank``: unique risk ranks of the patients in time order; ``events``: their event flags;
    ``weights``: ``(n, k)`` int8, row i the weights of patient i (time order) in the k resamples.
    A pair counts when the earlier patient (left in time order) has an event and the higher rank:
    merging two time-adjacent runs by descending rank, every right patient meets the left events
    ranked above it exactly when it is emitted (their weights summed so far, per lane). Each step
    updates both sums with 0/1 factors instead of branching on the side (measured 2x faster: the
    side is a coin flip the processor cannot predict).
    """
    n, k = weights.shape
    src_key = np.empty(n, np.int64)  # rank and event flag in one word
    for q in range(n):
        src_key[q] = rank[q] * 2 + (1 if events[q] else 0)
    src_w = weights.copy()
    dst_key = np.empty_like(src_key)
    dst_w = np.empty_like(src_w)
    out = np.zeros(k, np.int64)
    running = np.zeros(k, np.int64)
    width = 1
    while width < n:
        start = 0
        while start < n:
            mid = min(start + width, n)
            end = min(start + 2 * width, n)
            i = start
            j = mid
            running[:] = 0
            for o in range(start, end):
                left = j >= end or (i < mid and src_key[i] > src_key[j])
                row = i if left else j
                key = src_key[row]
                dst_key[o] = key
                add = 1 if left and (key & 1) else 0  # a left event: its weight joins the sum
                meet = 0 if left else 1  # a right patient: meets the left events ranked above it
                for c in range(k):
                    wc = src_w[row, c]
                    dst_w[o, c] = wc
                    out[c] += np.int64(wc * meet) * running[c]
                    running[c] += wc * add
                i += 1 if left else 0
                j += 0 if left else 1
            start += 2 * width
        src_key, dst_key = dst_key, src_key
        src_w, dst_w = dst_w, src_w
        width *= 2
    return out


@numba.njit(cache=True, nogil=True)
def lane_counts(indices: Any, n: int) -> Any:  # pragma: no cover - compiled
    """How often each patient was drawn in each resample (a row of ``indices`` each), as ``(n, k)``
    int8 rows; ``None`` if an index is outside ``[0, n)`` or some count would exceed 127 (the
    caller then counts with numpy, which says what is wrong or counts in int32)."""
    k = indices.shape[0]
    rows = np.zeros((n, k), np.int8)
    for c in range(k):
        for q in range(indices.shape[1]):
            i = indices[c, q]
            if i < 0 or i >= n or rows[i, c] == 127:
                return None
            rows[i, c] += 1
    return rows


@numba.njit(cache=True, nogil=True)
def gather_rows(rows: Any, order: Any) -> Any:  # pragma: no cover - compiled
    """``rows[order]`` for an ``(n, k)`` int8 array: one patient's k weights per row, in ``order``."""
    n, k = rows.shape
    out = np.empty((order.shape[0], k), rows.dtype)
    for q in range(order.shape[0]):
        src = order[q]
        for c in range(k):
            out[q, c] = rows[src, c]
    return out


@numba.njit(cache=True, nogil=True)
def _advance(weights: Any, died: Any, acc: Any, at: int, until: int) -> int:  # pragma: no cover - compiled
    """Add the events' weights of rows ``[at, until)`` to ``acc`` (per lane); the new position."""
    k = weights.shape[1]
    while at < until:
        if died[at]:
            for c in range(k):
                acc[c] += weights[at, c]
        at += 1
    return at


@numba.njit(cache=True, nogil=True)
def span_sums(weights: Any, died: Any, take: Any, hi: Any, lo: Any, has_lo: bool) -> Any:  # pragma: no cover
    """Per resample: sum over ``take`` of w[take] * (events' weight in rows [lo, hi)) (int64).

    ``weights`` ``(n, k)`` int8 in the plan's order; ``hi`` / ``lo`` non-decreasing (checked by
    the caller), so two running sums that only move forward give every span in one pass.
    ``has_lo`` False: every span starts at row 0.
    """
    n, k = weights.shape
    out = np.zeros(k, np.int64)
    at_hi = np.zeros(k, np.int64)
    at_lo = np.zeros(k, np.int64)
    p_hi = 0
    p_lo = 0
    for m in range(take.shape[0]):
        p_hi = _advance(weights, died, at_hi, p_hi, hi[m])
        if has_lo:
            p_lo = _advance(weights, died, at_lo, p_lo, lo[m])
        row = take[m]
        for c in range(k):
            out[c] += np.int64(weights[row, c]) * (at_hi[c] - at_lo[c])
    return out
