# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: the PII scan's gating and analysis next to the naive loop, presidio's batch engine and raw RE2.

Two cases on a clinical ``notes`` column (default 1,000,000 rows, ~50% distinct notes, as
templated EHR text is), all timed in this one run, on this machine's cores:

1. **Gating** (5% of notes hold PII): which values any recognizer could report on. Side by side:
   one raw RE2 pass of the union of every gate's prefilter over the column (the limit: one RE2
   pass, nothing decided), our gating (``analyze.signatures`` on the distinct values, de-duplication
   included), and the same gates searched in Python (``regex``) on every distinct value. MB/s are
   of the column's text (all rows).
2. **20% gated**: one note in five holds a phone number, an e-mail address, an SSN, an MRN or a
   name. Side by side: our full scan (``scan_dataframe``) with the process pool and serially; the
   naive per-cell loop (``AnalyzerEngine.analyze`` on every cell) and presidio's
   ``BatchAnalyzerEngine`` over every cell, both measured on a random subsample and extrapolated
   (labelled so). Cells/s are of the column (all rows).

Findings must be identical across paths: the pooled and serial scans' findings (type, rows,
masked sample) on the whole column, and on the subsample our scan's (type, affected rows) against
the naive loop's and the batch engine's. The exit status is 1 if any differ.

    python bench/pii_scan.py [--rows 1000000] [--subsample 1500] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIRST = ["Mary", "John", "Alice", "Robert", "Priya", "Ahmed", "Sofia", "David", "Emma", "Kenji"]
LAST = ["Jones", "Okafor", "Lindqvist", "Moreau", "Castillo", "Novak", "Brennan", "Takahashi"]
DIAGNOSES = ["NSCLC", "SCLC", "breast carcinoma", "CRC", "melanoma", "RCC", "HCC", "PDAC", "GBM", "AML"]
DRUGS = ["cisplatin", "carboplatin", "pembrolizumab", "nivolumab", "docetaxel", "osimertinib"]


def _pii(kind: int, first: str, last: str, num: int) -> str:
    return [
        f" Daughter {first} {last} can be reached on phone 212-555-{num:04d}.",
        f" Contact email {first.lower()}.{last.lower()}{num}@example.org.",
        f" MRN: {num * 1000 + 17:08d}.",
        f" SSN 536-{(num % 89) + 10:02d}-{num:04d} on file.",
        f" Discussed with Dr. {last}.",
    ][kind]


def make_notes(rows: int, seed: int, pii_share: float, distinct_share: float = 0.5):
    """A notes column: ``distinct_share`` of the rows distinct, ``pii_share`` of the rows holding PII."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    unique = max(1, int(rows * distinct_share))
    days = (pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, unique), unit="D")).strftime("%Y-%m-%d")
    cols = dict(
        age=rng.integers(25, 90, unique), dx=rng.choice(DIAGNOSES, unique), ecog=rng.integers(0, 4, unique),
        drug=rng.choice(DRUGS, unique), dose=rng.choice([50, 75, 100, 200, 400], unique),
        cycle=rng.integers(1, 12, unique), hb=rng.normal(12, 1.5, unique).round(1),
        wbc=rng.normal(7, 2, unique).round(1), plt=rng.integers(90, 450, unique), tail=rng.integers(0, 4, unique),
        kind=rng.integers(0, 5, unique), first=rng.choice(FIRST, unique), last=rng.choice(LAST, unique),
        num=rng.integers(0, 10_000, unique), pii=rng.random(unique) < pii_share,
    )
    notes = []
    for i in range(unique):
        text = (
            f"{cols['age'][i]}yo with {cols['dx'][i]}. ECOG {cols['ecog'][i]}. {cols['drug'][i]} {cols['dose'][i]} "
            f"mg/m2, cycle {cols['cycle'][i]}. Hb {cols['hb'][i]} g/dL, WBC {cols['wbc'][i]}, plt {cols['plt'][i]}."
            + [f" Scan on {days[i]} showed stable disease.", f" Follow-up in {cols['cycle'][i] + 2} weeks.",
               f" Reviewed on {days[i]}.", " No new complaints."][cols["tail"][i]]
        )
        if cols["pii"][i]:
            text += _pii(int(cols["kind"][i]), str(cols["first"][i]), str(cols["last"][i]), int(cols["num"][i]))
        notes.append(text)
    picks = np.concatenate([np.arange(unique), rng.integers(0, unique, rows - unique)])
    rng.shuffle(picks)
    return pd.DataFrame({"notes": np.array(notes, dtype=object)[picks]})


def make_table(rows: int, seed: int):
    """A synthetic 16-column clinical table; about 1 in 12 notes carries seeded PII (used by the tests)."""
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


def _by_row(results, base: int = 0) -> dict[str, set[int]]:
    """{entity type: rows} from presidio results per cell."""
    out: dict[str, set[int]] = {}
    for pos, found in enumerate(results):
        for r in found:
            out.setdefault(r.entity_type, set()).add(base + pos)
    return out


def _ours_by_row(result) -> dict[str, tuple[int, ...]]:
    return {f.entity_type: (f.rows_affected, f.masked_sample) for f in result.findings}


def gating(df, engine) -> tuple[list[str], bool]:
    """Case 1: raw RE2, our gating, Python gating; returns printed lines and whether they agree."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pytest_release_audit.scanners.pii import prefilter
    from pytest_release_audit.scanners.pii.analyze import signatures
    from pytest_release_audit.scanners.pii.columns import distinct

    notes = df["notes"]
    mb = float(notes.str.len().sum()) / 1e6
    union = "|".join(f"(?:{prefilter.for_compiled(p).superset})" for g in engine.gates for p in g.patterns or ())
    column = pa.array(notes.to_numpy(), type=pa.large_string())
    t0 = time.perf_counter()
    pc.match_substring_regex(column, pattern=union)
    raw = time.perf_counter() - t0

    t0 = time.perf_counter()
    uniques = distinct(notes.to_numpy())
    ours_sig = signatures(engine, uniques, ["notes"])
    ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    python_sig = np.zeros(len(uniques), dtype=np.int64)
    for bit, gate in enumerate(engine.gates):
        if gate.patterns is None:
            python_sig |= 1 << bit
            continue
        passed = np.array([any(p.search(v) for p in gate.patterns) for v in uniques], dtype=bool)
        python_sig[passed] |= 1 << bit
    python = time.perf_counter() - t0
    # the Python reference has no context rule: compare the gates that have none, and the phone gate
    # (context-limited in ours) as a subset
    ctx = [bit for bit, g in enumerate(engine.gates) if g.context_only_score is not None]
    plain = ~np.int64(sum(1 << b for b in ctx))
    agree = bool(((ours_sig & plain) == (python_sig & plain)).all()) and bool(
        ((ours_sig & ~plain) & ~(python_sig & ~plain) == 0).all()
    )
    lines = [
        f"gating {len(notes):,} notes ({mb:,.1f} MB, {len(uniques):,} distinct; "
        f"{int((ours_sig != 0).sum()):,} distinct pass a gate)",
        f"  {'':36}{'seconds':>9}{'MB/s':>9}{'vs raw RE2':>12}",
        f"  {'raw RE2, one pass of the union':36}{raw:>9.2f}{mb / raw:>9.0f}{1.0:>11.1f}x",
        f"  {'ours (de-dup + RE2 + confirm)':36}{ours:>9.2f}{mb / ours:>9.0f}{ours / raw:>11.1f}x",
        f"  {'Python regex, every gate':36}{python:>9.2f}{mb / python:>9.0f}{python / raw:>11.1f}x",
        f"  same gates passed as Python: {agree}",
    ]
    return lines, agree


def analysis(df, subsample: int, seed: int) -> tuple[list[str], bool]:
    """Case 2: our scan (pool and serial), naive loop and BatchAnalyzerEngine on a subsample.

    Each path gets an engine of its own, built and warmed up outside the timing (the phone
    recognizer remembers candidates: a shared engine would hand the later paths its memo).
    """
    from presidio_analyzer import BatchAnalyzerEngine

    from pytest_release_audit.scanners.pii import pool, scan_dataframe

    rows = len(df)
    engine = fresh_engine()
    t0 = time.perf_counter()
    pooled = scan_dataframe(df, "notes", engine=engine)
    pooled_s = time.perf_counter() - t0
    os.environ[pool.WORKERS_ENV] = "1"
    try:
        engine = fresh_engine()
        t0 = time.perf_counter()
        serial = scan_dataframe(df, "notes", engine=engine)
        serial_s = time.perf_counter() - t0
    finally:
        del os.environ[pool.WORKERS_ENV]
    same_full = _ours_by_row(pooled) == _ours_by_row(serial)

    sub = df.sample(n=min(subsample, rows), random_state=seed).reset_index(drop=True)
    cells = sub["notes"].tolist()
    engine = fresh_engine()
    t0 = time.perf_counter()
    naive = [engine.analyzer.analyze(text=c, language="en", context=["notes"], score_threshold=engine.threshold)
             for c in cells]
    naive_s = time.perf_counter() - t0
    engine = fresh_engine()
    t0 = time.perf_counter()
    batch = list(BatchAnalyzerEngine(analyzer_engine=engine.analyzer).analyze_iterator(
        cells, language="en", context=["notes"], score_threshold=engine.threshold))
    batch_s = time.perf_counter() - t0
    ours_sub = scan_dataframe(sub, "sub", engine=engine)
    ours_rows = {f.entity_type: f.rows_affected for f in ours_sub.findings}
    same_naive = ours_rows == {e: len(r) for e, r in _by_row(naive).items()}
    same_batch = _by_row(naive) == _by_row(batch)

    scale = rows / len(sub)
    gated = pooled.values_analyzed
    lines = [
        f"20% gated: {rows:,} notes, {pooled.values_scanned:,} distinct, {gated:,} sent to presidio",
        f"  {'':40}{'seconds':>9}{'cells/s':>10}{'vs ours':>9}",
        f"  {f'ours, process pool ({pool.workers()} workers)':40}{pooled_s:>9.1f}{rows / pooled_s:>10,.0f}"
        f"{1.0:>8.1f}x",
        f"  {'ours, serial':40}{serial_s:>9.1f}{rows / serial_s:>10,.0f}{serial_s / pooled_s:>8.1f}x",
        f"  {'BatchAnalyzerEngine, EXTRAPOLATED':40}{batch_s * scale:>9.0f}{len(sub) / batch_s:>10,.0f}"
        f"{batch_s * scale / pooled_s:>8.1f}x   (measured on {len(sub):,} rows x {scale:.0f})",
        f"  {'naive per-cell analyze, EXTRAPOLATED':40}{naive_s * scale:>9.0f}{len(sub) / naive_s:>10,.0f}"
        f"{naive_s * scale / pooled_s:>8.1f}x   (measured on {len(sub):,} rows x {scale:.0f})",
        f"  same findings, pool vs serial (type, rows, masked sample): {same_full}",
        f"  same affected rows on the subsample, ours vs naive: {same_naive}; naive vs batch: {same_batch}",
        "  findings (masked): " + "; ".join(f"{f.entity_type} {f.rows_affected:,} rows e.g. {f.masked_sample}"
                                           for f in pooled.findings),
    ]
    return lines, same_full and same_naive and same_batch


def fresh_engine():
    from pytest_release_audit.scanners.pii import build_engine

    engine = build_engine()
    engine.analyzer.analyze(text="warm up john@example.org", language="en")
    return engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subsample", type=int, default=1_500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from pytest_release_audit.scanners.pii import pool

    engine = fresh_engine()
    print(f"engine: {engine.description}; {os.cpu_count()} cores")
    lines, ok_gating = gating(make_notes(args.rows, args.seed, pii_share=0.05), engine)
    print("\n".join(lines))
    print()
    lines, ok_analysis = analysis(make_notes(args.rows, args.seed + 1, pii_share=0.2), args.subsample, args.seed)
    print("\n".join(lines))
    pool.shutdown()
    return 0 if ok_gating and ok_analysis else 1


if __name__ == "__main__":
    raise SystemExit(main())
