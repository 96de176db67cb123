# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""MLflow's dataset digest: MLflow's own ``compute_pandas_digest`` vs ``digests.pandas_digest``, side by side.

``data_integrity`` recomputes the digest ``mlflow.data.from_pandas`` logged, for several variants
of each frame (as read, RangeIndex, index column, schema columns, dates parsed). MLflow's function
runs ``df.map(type)`` over the whole frame; ours reads the same 10,000-row head and tests column
types once. Both run on the same frame in one process; the script asserts they agree, then prints
the times and the ratio.

    python bench/digest.py                  # 1,000,000 rows x 12 columns (numbers, text, dates)
    python bench/digest.py --rows 200000
"""

from __future__ import annotations

import argparse
import time
import warnings


def frame(rows: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{i}": rng.normal(size=rows).round(6) for i in range(8)})
    df["site"] = rng.choice(["north", "south", "east"], size=rows)
    df["note"] = np.array([f"visit {i} stable" for i in range(rows)], dtype=object)
    df["admitted"] = (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, rows), unit="D")).astype(str)
    df["label"] = rng.integers(0, 2, rows)
    return df.sample(frac=1.0, random_state=seed)  # a shuffled index, as train_test_split leaves it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from mlflow.data.digest_utils import compute_pandas_digest

    from pytest_release_audit.digests import pandas_digest

    df = frame(args.rows)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = compute_pandas_digest(df)
    mlflow_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = pandas_digest(df)
    ours_s = time.perf_counter() - started
    assert ours == theirs, (ours, theirs)
    print(f"{args.rows:,} rows x {df.shape[1]} columns: digest {ours} (equal)")
    print(f"mlflow compute_pandas_digest {mlflow_s:.2f} s | pandas_digest {ours_s:.2f} s | "
          f"ratio {mlflow_s / ours_s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
