# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``digests.pandas_digest`` equals MLflow's ``compute_pandas_digest`` on many varied frames,
and an edited frame matches the logged digest under none of the variants."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_release_audit.digests import match_logged_digest, pandas_digest


def mlflow_digest(df: pd.DataFrame) -> str | None:
    """MLflow's own digest; None where MLflow itself fails (an empty pyarrow string column), so
    ``from_pandas`` could never have logged one."""
    from mlflow.data.digest_utils import compute_pandas_digest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(compute_pandas_digest(df))
        except NotImplementedError:
            return None


def _column(kind: str, n: int, rng: np.random.Generator) -> Any:
    words = np.array(["a", "b", "ccc", "", "é"], dtype=object)
    strs = words[rng.integers(0, len(words), n)]
    holes = rng.random(n) < 0.2
    if kind == "float":
        values = rng.normal(size=n)
        values[holes] = np.nan
        return values
    if kind == "int":
        return rng.integers(-5, 5, n)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "str":
        return strs
    if kind == "str_none":
        return np.where(holes, None, strs)
    if kind == "str_nan":
        return np.where(holes, np.nan, strs)
    if kind == "str_late_none":  # a non-str past the rows the digest hashes: still excludes the column
        out = strs.copy()
        if n:
            out[-1] = None
        return out
    if kind == "mixed":
        return np.where(holes, 3, strs)
    if kind == "bytes":
        return np.array([s.encode() for s in strs], dtype=object)
    if kind == "np_str":
        return np.array([np.str_(s) for s in strs], dtype=object)
    if kind == "category":
        return pd.Categorical(strs)
    if kind == "category_nan":
        return pd.Categorical(np.where(holes, None, strs))
    if kind == "string_python":
        return pd.array(np.where(holes, None, strs), dtype="string[python]")
    if kind == "string_full":
        return pd.array(strs, dtype="string[python]")
    if kind == "string_pyarrow":
        return pd.array(strs, dtype="string[pyarrow]")
    if kind == "string_nan":
        return pd.array(np.where(holes, None, strs), dtype=pd.StringDtype(na_value=np.nan))
    if kind == "Int64":
        return pd.array(np.where(holes, None, rng.integers(0, 9, n)), dtype="Int64")
    if kind == "datetime":
        return pd.date_range("2024-01-01", periods=n, freq="h")
    if kind == "all_none":
        return np.array([None] * n, dtype=object)
    raise AssertionError(kind)


KINDS = ["float", "int", "bool", "str", "str_none", "str_nan", "str_late_none", "mixed", "bytes", "np_str",
         "category", "category_nan", "string_python", "string_full", "string_pyarrow", "string_nan", "Int64",
         "datetime", "all_none"]


@st.composite
def frames(draw: Any) -> pd.DataFrame:
    n = draw(st.sampled_from([0, 1, 3, 40, 257]))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=0, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    df = pd.DataFrame({f"c{i}_{k}": _column(k, n, rng) for i, k in enumerate(kinds)}, index=range(n))
    index = draw(st.sampled_from(["range", "shuffled", "strings"]))
    if index == "shuffled" and n:
        df = df.sample(frac=1.0, random_state=int(rng.integers(0, 1000)))
    elif index == "strings":
        df.index = [f"r{i}" for i in range(n)]
    return df


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_pandas_digest_equals_mlflow(df: pd.DataFrame) -> None:
    expected = mlflow_digest(df)
    assume(expected is not None)
    assert pandas_digest(df) == expected, list(df.dtypes)


@pytest.mark.parametrize("kind", KINDS)
def test_digest_past_max_rows(kind: str) -> None:
    """Beyond the 10,000 rows MLflow hashes, the all-str test still covers the whole column."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"x": _column(kind, 10_050, rng), "y": rng.normal(size=10_050)})
    assert pandas_digest(df) == mlflow_digest(df)


def test_edited_frame_matches_under_no_variant() -> None:
    """A frame from train_test_split, written with and without its index, then one cell edited."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(3)
    full = pd.DataFrame({"a": rng.normal(size=400).round(6), "b": rng.integers(0, 9, 400),
                         "day": pd.date_range("2024-01-01", periods=400, freq="D").strftime("%Y-%m-%d"),
                         "y": rng.integers(0, 2, 400)})
    train, _ = train_test_split(full, random_state=0)
    for logged_frame, columns in ((train, None), (train[["a", "b"]], ["a", "b"])):
        logged = str(mlflow_digest(logged_frame))
        for keep_index in (True, False):
            written = train.copy() if keep_index else train.reset_index(drop=True)
            read = pd.read_csv(pd.io.common.StringIO(written.to_csv(index=keep_index)), float_precision="round_trip")
            check = match_logged_digest(read, logged, columns)
            if keep_index:
                assert check.match, check.tried
                assert check.index_column == "Unnamed: 0"
            edited = read.copy()
            edited.loc[5, "a"] = edited.loc[5, "a"] + 1.0
            refused = match_logged_digest(edited, logged, columns)
            assert not refused.match and len(refused.tried) >= 2, refused.tried
