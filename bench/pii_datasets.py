# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: the PII scan of a raw table and its training / evaluation splits, with one engine
(each distinct value analysed once across the three) and with a fresh engine per dataset.

The data is the scale benchmark's (``bench/scale.py``: the demo's curated table resampled to
``--rows`` patients, notes ~50% distinct, a 70/30 patient split), the three datasets an audit of
the demo model scans. Both ways are timed in this one run; their results must be identical
(findings, masked samples, counts, flagged values in order), else the exit status is 1.

    python bench/pii_datasets.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples" / "training_code"), str(ROOT / "bench")]


def _same(result) -> tuple:
    return result.to_dict() | {"seconds": None}, list(result.flagged.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from clinical_data import patient_split  # type: ignore[import-not-found]  # examples/training_code/
    from scale import scaled_table  # bench/

    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe

    raw = scaled_table(args.rows, 20241201)  # the demo's seed (examples/build_demo.py)
    train, evaluation = patient_split(raw)
    datasets = [("raw", raw), ("train", train), ("eval", evaluation)]
    build_engine()  # imports and pipeline loading outside both timings
    timings, results = {}, {}
    for way in ("fresh engine per dataset", "one engine, values shared"):
        shared = build_engine()
        started = time.perf_counter()
        results[way] = [scan_dataframe(df, name, engine=shared if way.startswith("one") else build_engine())
                        for name, df in datasets]
        timings[way] = time.perf_counter() - started
    fresh, shared_results = results.values()
    same = all(_same(a) == _same(b) for a, b in zip(fresh, shared_results, strict=True))
    rows = sum(len(df) for _, df in datasets)
    print(f"{args.rows:,} raw rows; {rows:,} rows scanned in 3 datasets; "
          f"{sum(r.values_scanned for r in fresh):,} distinct values (per dataset, summed)")
    for way, seconds in timings.items():
        print(f"  {way:<28}{seconds:8.1f} s  {rows / seconds:>12,.0f} rows/s")
    first, second = timings.values()
    print(f"  ratio (shared / fresh): {second / first:.2f}x; results identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
