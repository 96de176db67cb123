# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: the paired C-index bootstrap holding its resample matrix whole vs block by block.

Each way runs in a fresh process on the same synthetic survival data (so peak memory is its own):

* ``whole``: today's protocol materialised as before: ``draw_indices`` (n_bootstrap x n int32)
  passed in, 16 resamples per pass, one thread;
* ``blocks``: the default: rows drawn block by block from the same stream, blocks sized by the
  scorer's work per resample, scored on every core.

Both must give the same intervals (printed); the ratios are of wall time and peak RSS.

    python bench/bootstrap_memory.py [--rows 200000] [--resamples 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[4])
from pytest_release_audit.metrics import bootstrap
from pytest_release_audit.metrics.survival import SurvivalScorer
n, b, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
t = rng.exponential(600, n).round(0); e = rng.integers(0, 2, n)
cand = rng.normal(size=n) - t / 600; base = rng.normal(size=n) - t / 900
started = time.perf_counter()
if mode == "whole":
    bootstrap._workers = lambda: 1
    r = bootstrap.paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=b, seed=3,
                                   indices=bootstrap.draw_indices(n, b, 3), chunk_rows=16)
else:
    r = bootstrap.paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=b, seed=3)
est = r.get("c_index")
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ci": est.candidate_ci, "delta_ci": est.delta_ci}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args(argv)
    out = {}
    for mode in ("whole", "blocks"):
        done = subprocess.run([sys.executable, "-c", RUN, str(args.rows), str(args.resamples), mode, str(ROOT)],
                              capture_output=True, text=True, check=True)
        out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    w, b = out["whole"], out["blocks"]
    print(f"paired C-index bootstrap, {args.rows:,} rows x {args.resamples} resamples")
    print(f"  {'':8}{'seconds':>9}{'peak MB':>9}")
    for mode in ("whole", "blocks"):
        print(f"  {mode:8}{out[mode]['seconds']:>9.2f}{out[mode]['rss_mb']:>9.0f}")
    print(f"  blocks vs whole: {w['seconds'] / b['seconds']:.1f}x faster, {w['rss_mb'] / b['rss_mb']:.1f}x less memory")
    same = w["ci"] == b["ci"] and w["delta_ci"] == b["delta_ci"]
    print(f"  same intervals: {same} {b['ci']} {b['delta_ci']}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
