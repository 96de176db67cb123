# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: our PII scan vs a naive per-cell presidio loop, side by side in one run.

Generates a clinical table (default 200,000 rows) with seeded PII in a free-text ``notes`` column
and a sparse ``emergency_contact`` column, then times

* naive: ``AnalyzerEngine.analyze(str(cell), context=[column])`` on every cell of a random row
  subsample (all columns, no dedupe), extrapolated linearly to the full table and labelled so;
* ours: ``scan_dataframe`` on the full table (every value scanned), and on the same subsample.

Both use the same offline engine (same recognizers, same threshold), so their findings must
agree: on the subsample the flagged (column, entity type) pairs and the affected rows are compared
exactly; on the full table the flagged columns are compared with the naive subsample's.

    python bench/pii_scan.py [--rows 200000] [--naive-rows 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIRST = ["Mary", "John", "Alice", "Robert", "Priya", "Ahmed", "Sofia", "David", "Emma", "Kenji"]
LAST = ["Jones", "Okafor", "Lindqvist", "Moreau", "Castillo", "Novak", "Brennan", "Takahashi"]
DIAGNOSES = ["NSCLC", "SCLC", "breast carcinoma", "CRC", "melanoma", "RCC", "HCC", "PDAC", "GBM", "AML"]
DRUGS = ["cisplatin", "carboplatin", "pembrolizumab", "nivolumab", "docetaxel", "osimertinib"]


def make_table(rows: int, seed: int):
    """A synthetic clinical table; about 1 in 12 notes carries seeded PII."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D")
    dates = days.strftime("%Y-%m-%d").to_numpy()
    age = rng.integers(25, 90, rows)
    hb = rng.normal(12, 1.5, rows).round(1)
    wbc = rng.normal(7, 2, rows).round(1)
    plt_ = rng.integers(90, 450, rows)
    ecog = rng.integers(0, 4, rows)
    cycle = rng.integers(1, 12, rows)
    dose = rng.choice([50, 75, 100, 200, 400], rows)
    dx = rng.choice(DIAGNOSES, rows)
    drug = rng.choice(DRUGS, rows)
    tail_kind = rng.integers(0, 5, rows)
    pii_kind = rng.integers(0, 60, rows)  # 0..4 seed PII: 5/60 of rows
    first = rng.choice(FIRST, rows)
    last = rng.choice(LAST, rows)
    num = rng.integers(0, 10_000, rows)
    notes = []
    for i in range(rows):
        text = (
            f"{age[i]}yo with {dx[i]}. ECOG {ecog[i]}. {drug[i]} {dose[i]} mg/m2, cycle {cycle[i]}. "
            f"Hb {hb[i]} g/dL, WBC {wbc[i]}, plt {plt_[i]}."
        )
        tail = tail_kind[i]
        if tail == 0:
            text += f" Scan on {dates[i]} showed stable disease."
        elif tail == 1:
            text += f" Follow-up in {cycle[i] + 2} weeks."
        elif tail == 2:
            text += f" Reviewed on {dates[i]}."
        else:
            text += " No new complaints."
        kind = pii_kind[i]
        if kind == 0:
            text += f" Daughter {first[i]} {last[i]} can be reached on phone 212-555-{num[i]:04d}."
        elif kind == 1:
            text += f" Contact email {first[i].lower()}.{last[i].lower()}{num[i]}@example.org."
        elif kind == 2:
            text += f" MRN: {num[i] * 1000 + 17:08d}."
        elif kind == 3:
            text += f" SSN 536-{(num[i] % 89) + 10:02d}-{num[i]:04d} on file."
        elif kind == 4:
            text += f" Discussed with Dr. {last[i]}."
        notes.append(text)
    contact = np.full(rows, None, dtype=object)
    has_contact = rng.random(rows) < 0.03
    for i in np.flatnonzero(has_contact):
        contact[i] = f"{first[i]} {last[i]} (spouse) 415-555-{num[i]:04d}"
    return pd.DataFrame(
        {
            "patient_id": np.arange(1_000_000, 1_000_000 + rows),
            "age": age,
            "sex": rng.choice(["F", "M"], rows),
            "diagnosis": dx,
            "stage": rng.choice(["I", "II", "III", "IV"], rows),
            "diagnosis_date": dates,
            "hb": hb,
            "wbc": wbc,
            "platelets": plt_,
            "ldh": rng.normal(250, 60, rows).round(0),
            "crp": rng.gamma(2.0, 5.0, rows).round(2),
            "duration_days": rng.exponential(600, rows).round(1),
            "event": rng.integers(0, 2, rows),
            "treatment": drug,
            "notes": notes,
            "emergency_contact": contact,
        }
    )


def naive_scan(df, engine):
    """What a first attempt looks like: analyze every cell, one call each."""
    import pandas as pd

    flagged: dict[tuple[str, str], set[int]] = {}
    for col in df.columns:
        for pos, cell in enumerate(df[col].tolist()):
            if cell is None or (isinstance(cell, float) and pd.isna(cell)):
                continue
            for r in engine.analyzer.analyze(
                text=str(cell), language="en", context=[str(col)], score_threshold=engine.threshold
            ):
                flagged.setdefault((str(col), r.entity_type), set()).add(pos)
    return flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe

    t0 = time.perf_counter()
    df = make_table(args.rows, args.seed)
    print(f"table: {len(df):,} rows x {len(df.columns)} columns ({time.perf_counter() - t0:.1f}s to generate)")
    t0 = time.perf_counter()
    engine = build_engine()
    print(f"engine: {engine.description} ({time.perf_counter() - t0:.1f}s to build)")
    engine.analyzer.analyze(text="warm up john@example.org", language="en")

    sub = df.sample(n=min(args.naive_rows, len(df)), random_state=args.seed).reset_index(drop=True)
    t0 = time.perf_counter()
    naive = naive_scan(sub, engine)
    naive_s = time.perf_counter() - t0
    cells = int(sub.notna().sum().sum())
    naive_full_est = naive_s * len(df) / len(sub)

    t0 = time.perf_counter()
    ours_sub = scan_dataframe(sub, "subsample", engine=engine)
    ours_sub_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = scan_dataframe(df, "full", engine=engine)
    ours_s = time.perf_counter() - t0

    # Content findings only: naive presidio cannot see column names (none of these columns is
    # identifier-named, so there are no column-name findings to exclude).
    ours_sub_pairs = {(f.column, f.entity_type): f for f in ours_sub.findings}
    same_pairs = set(ours_sub_pairs) == set(naive)
    same_rows = same_pairs and all(
        f.rows_affected == len(naive[key]) and set(f.row_indices) <= naive[key] for key, f in ours_sub_pairs.items()
    )
    naive_cols = sorted({c for c, _ in naive})
    full_cols = sorted(ours.flagged_columns)

    print()
    print(f"{'':34}{'seconds':>10}{'rows':>10}")
    print(f"{'naive per-cell, measured':34}{naive_s:>10.1f}{len(sub):>10,}   ({cells:,} cells, 1 analyze each)")
    scale = len(df) / len(sub)
    print(f"{'naive per-cell, EXTRAPOLATED':34}{naive_full_est:>10.1f}{len(df):>10,}   (measured x {scale:.0f})")
    print(f"{'ours, same subsample':34}{ours_sub_s:>10.2f}{len(sub):>10,}")
    print(
        f"{'ours, full table (measured)':34}{ours_s:>10.2f}{len(df):>10,}   "
        f"({ours.values_scanned:,} distinct values scanned, {ours.values_analyzed:,} sent to presidio)"
    )
    print()
    print(f"speed-up on the full table: {naive_full_est / ours_s:.1f}x (naive extrapolated / ours measured)")
    print(f"speed-up on the subsample:  {naive_s / ours_sub_s:.1f}x (both measured)")
    print(f"subsample: same (column, entity) pairs: {same_pairs}; same affected rows: {same_rows}")
    print(f"  naive: {sorted(f'{c}:{e}:{len(r)}' for (c, e), r in naive.items())}")
    print(f"  ours:  {sorted(f'{f.column}:{f.entity_type}:{f.rows_affected}' for f in ours_sub.findings)}")
    print(f"flagged columns, naive subsample: {naive_cols}; ours full table: {full_cols}")
    print(f"same flagged columns: {naive_cols == full_cols}")
    print("full-table findings (masked):")
    for f in ours.findings:
        print(f"  {f.column:18} {f.entity_type:22} {f.rows_affected:>7,} rows  sample {f.masked_sample}")
    print(f"skipped columns: {ours.columns_skipped}")
    return 0 if (same_pairs and same_rows and naive_cols == full_cols) else 1


if __name__ == "__main__":
    raise SystemExit(main())
