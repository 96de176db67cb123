# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The weighted C-index kernels side by side: numpy in int64, numpy in the narrow dtypes, compiled.

``metrics.survival._narrowed`` gathers the resample weights as int8 and keeps running sums in
int32 whenever that is provably exact; from ``JIT_MIN_ROWS`` rows the scorer counts with the
compiled kernels (``metrics/survival_jit.py``: a merge sort carrying the resamples' weights, in
numba) instead. This script scores the same resamples all three ways (one candidate and one
baseline, every pair count), asserts the counts are equal, and prints the time per resample and
the ratios to int64 numpy (the compiled kernels compiled before timing; numba caches them on disk).

    python bench/bootstrap_kernel.py                       # n = 20,000 / 300,000 / 1,000,000
    python bench/bootstrap_kernel.py --sizes 300000 --resamples 8
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pytest_release_audit.metrics import survival
from pytest_release_audit.metrics.bootstrap import chunk_rows_for, index_chunks, weights_from_indices


def make(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    durations = rng.integers(8, 3000, n).astype(float)  # whole days: tied times
    events = rng.random(n) < 0.45
    candidate = rng.normal(size=n)
    baseline = np.round(candidate + rng.normal(size=n), 1)  # rounded: tied scores
    return durations, events, candidate, baseline


def score(scorer, plans, weights, how):
    """Every C-index of one chunk: numpy with int64 throughout or narrowed, or the compiled kernels."""
    if how == "compiled":
        w, _ = survival._narrowed(weights, max(plan.levels for plan in plans))
        return [m["c_index"] for m in scorer._evaluate_compiled(scorer._jit, plans, w)]
    if how == "int64":
        w, work = weights.astype(np.int64), np.int64
    else:
        w, work = survival._narrowed(weights, max(plan.levels for plan in plans))
    pairs = survival._pairs(scorer._pairs, w, work)
    return [survival.concordance_ratio(*survival._concordant(plan, w, work), pairs) for plan in plans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,300000,1000000")
    parser.add_argument("--resamples", type=int, default=16)
    args = parser.parse_args()
    ways = ("int64", "narrow", "compiled")
    print(f"{'n':>10}{'int64 ms':>10}{'narrow ms':>11}{'compiled ms':>13}{'narrow':>8}{'compiled':>10}"
          "  (per resample, both models, one thread; ratios to int64)")
    print(f"{'':>10}  resamples per block: as the audit chunks them for each kernel")
    for n in (int(s) for s in args.sizes.split(",")):
        d, e, c, b = make(n)
        scorer = survival.SurvivalScorer(d, e, kernel="compiled")
        plans = [scorer.prepare(c), scorer.prepare(b)]
        # the same resamples, in the block size the audit uses with each kernel
        kernels = {how: survival.SurvivalScorer(d, e, kernel="compiled" if how == "compiled" else "numpy")
                   for how in ways}
        steps = {how: chunk_rows_for(n, k.work_per_resample(plans), k.block_rows) for how, k in kernels.items()}
        score(scorer, plans, np.ones((1, n), dtype=np.int32), "compiled")  # compile (or load the cache) untimed
        times, results = {}, {}
        for how in ways:
            blocks = [weights_from_indices(x, n) for x in index_chunks(n, args.resamples, 0, steps[how])]
            started = time.perf_counter()
            values = [score(scorer, plans, w, how) for w in blocks]
            times[how] = (time.perf_counter() - started) / args.resamples * 1000
            results[how] = [np.concatenate([v[m] for v in values]) for m in range(len(plans))]
        for how in ways[1:]:
            assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(results["int64"], results[how],
                                                                             strict=True)), f"{how} differs at n={n}"
        print(f"{n:>10,}{times['int64']:>10.1f}{times['narrow']:>11.1f}{times['compiled']:>13.1f}"
              f"{times['narrow'] / times['int64']:>7.2f}x{times['compiled'] / times['int64']:>9.2f}x")


if __name__ == "__main__":
    main()
