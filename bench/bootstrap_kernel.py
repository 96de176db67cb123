# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The weighted C-index kernel: int64 throughout vs the narrow dtypes it picks, side by side.

``metrics.survival._narrowed`` gathers the resample weights as int8 and keeps running sums in
int32 whenever that is provably exact. This script scores the same resamples both ways (one
candidate and one baseline, every pair count), asserts the counts are equal, and prints the
time per resample and the ratio.

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


def score(scorer, plans, weights, wide):
    """Every pair count of one chunk: with the narrowed weights, or with int64 throughout."""
    if wide:
        w, work = weights.astype(np.int64), np.int64
    else:
        w, work = survival._narrowed(weights, max(plan.levels for plan in plans))
    pairs = survival._pairs(scorer._pairs, w, work)
    return [pairs, *[x for plan in plans for x in survival._concordant(plan, w, work)]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,300000,1000000")
    parser.add_argument("--resamples", type=int, default=16)
    args = parser.parse_args()
    print(f"{'n':>10}{'int64 ms':>10}{'narrow ms':>11}{'ratio':>7}  (per resample, both models, one thread)")
    for n in (int(s) for s in args.sizes.split(",")):
        d, e, c, b = make(n)
        scorer = survival.SurvivalScorer(d, e)
        plans = [scorer.prepare(c), scorer.prepare(b)]
        step = chunk_rows_for(n, scorer.work_per_resample(plans))
        blocks = [weights_from_indices(x, n) for x in index_chunks(n, args.resamples, 0, step)]
        times, results = {}, {}
        for label in ("int64", "narrow"):
            started = time.perf_counter()
            results[label] = [score(scorer, plans, w, wide=label == "int64") for w in blocks]
            times[label] = (time.perf_counter() - started) / args.resamples * 1000
        for wide, narrow in zip(results["int64"], results["narrow"], strict=True):
            assert all((x == y).all() for x, y in zip(wide, narrow, strict=True)), f"counts differ at n={n}"
        print(f"{n:>10,}{times['int64']:>10.1f}{times['narrow']:>11.1f}{times['narrow'] / times['int64']:>6.2f}x")


if __name__ == "__main__":
    main()
