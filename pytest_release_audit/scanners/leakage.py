# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Train / evaluation contamination: shared identities and duplicate feature rows.

Both functions are vectorised (pandas hash tables, ``pandas.util.hash_pandas_object``; no Python
loop over rows), so a million rows per split take about a second. Results carry counts, row
positions and masked ids only, never a raw id or feature value.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SAMPLE_SIZE = 5
ROW_SAMPLE = 10


def mask_id(value: Any) -> str:
    """``P100145`` -> ``*****45``: the shape and last two characters of an id, never all of it."""
    text = str(value)
    if len(text) <= 4:
        return "***"
    return "*" * (len(text) - 2) + text[-2:]


@dataclass(frozen=True)
class IdOverlap:
    """Identities present in both splits, for one id column."""

    column: str
    train_ids: int  # distinct ids in training
    eval_ids: int  # distinct ids in evaluation
    shared_ids: int  # distinct ids in both
    train_rows: int  # training rows whose id is shared
    eval_rows: int  # evaluation rows whose id is shared
    masked_sample: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "train_ids": int(self.train_ids),
            "eval_ids": int(self.eval_ids),
            "shared_ids": int(self.shared_ids),
            "train_rows": int(self.train_rows),
            "eval_rows": int(self.eval_rows),
            "masked_sample": list(self.masked_sample),
        }


@dataclass(frozen=True)
class IdOverlapResult:
    """``find_id_overlap`` over one or more id columns (each checked on its own)."""

    id_columns: tuple[str, ...]
    columns: tuple[IdOverlap, ...]
    seconds: float = 0.0

    @property
    def shared_ids(self) -> int:
        return sum(c.shared_ids for c in self.columns)

    @property
    def leaked(self) -> bool:
        return self.shared_ids > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id_columns": list(self.id_columns),
            "columns": [c.to_dict() for c in self.columns],
            "shared_ids": int(self.shared_ids),
            "seconds": round(float(self.seconds), 3),
        }


@dataclass(frozen=True)
class DuplicateRowsResult:
    """Evaluation rows whose feature values exactly equal a training row's."""

    feature_columns: tuple[str, ...]
    train_total: int
    eval_total: int
    eval_rows: int  # evaluation rows duplicating some training row
    train_rows: int  # training rows duplicated in evaluation
    distinct_rows: int  # distinct duplicated feature vectors
    train_internal_duplicates: int  # training rows repeating an earlier training row (context)
    sample_eval_rows: tuple[int, ...]  # 0-based positions, first 10
    sample_train_rows: tuple[int, ...]
    seconds: float = 0.0
    eval_internal_duplicates: int = 0  # evaluation rows repeating an earlier evaluation row

    @property
    def found(self) -> bool:
        return self.eval_rows > 0

    @property
    def natural(self) -> bool:
        """Records repeat *within* a split too: identical records are a property of the data
        (few, discrete columns), so matches across the split are not evidence of a copy."""
        return self.train_internal_duplicates > 0 or self.eval_internal_duplicates > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_columns": len(self.feature_columns),
            "train_rows_total": int(self.train_total),
            "eval_rows_total": int(self.eval_total),
            "eval_rows": int(self.eval_rows),
            "train_rows": int(self.train_rows),
            "distinct_rows": int(self.distinct_rows),
            "train_internal_duplicates": int(self.train_internal_duplicates),
            "eval_internal_duplicates": int(self.eval_internal_duplicates),
            "natural": self.natural,
            "sample_eval_rows": [int(i) for i in self.sample_eval_rows],
            "sample_train_rows": [int(i) for i in self.sample_train_rows],
            "seconds": round(float(self.seconds), 3),
        }


def _id_keys(series: pd.Series, other: pd.Series) -> pd.Series:
    """Comparable keys: ints when both sides hold integers, else trimmed strings.

    ``P-0012`` and `` P-0012`` match; an id read as the integer 123 in one file and the string
    ``"00123"`` in the other matches too (leading zeros dropped from all-digit ids).
    """
    import numpy as np
    import pandas as pd

    def integral(s: pd.Series) -> bool:
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            return False
        values = s.dropna().to_numpy(dtype=float)
        return bool(np.isfinite(values).all() and (np.mod(values, 1) == 0).all() and (np.abs(values) < 2**53).all())

    values = series.dropna()
    if integral(series) and integral(other):
        return values.astype("int64")
    if integral(series):
        text = values.astype("int64").astype(str)
    else:
        text = values.astype(str).str.strip()
    digits = text.str.fullmatch(r"\d+")
    if digits.any():
        stripped = text[digits].str.lstrip("0").replace("", "0")
        text = text.where(~digits, stripped)
    return text


def find_id_overlap(train_df: pd.DataFrame, eval_df: pd.DataFrame, id_columns: Sequence[str]) -> IdOverlapResult:
    """Ids present in both ``train_df`` and ``eval_df``, column by column.

    Every column in ``id_columns`` must exist in both frames (``KeyError`` naming it otherwise:
    the caller decides which columns apply).
    """
    import numpy as np

    started = time.perf_counter()
    out = []
    for col in id_columns:
        for frame, label in ((train_df, "training"), (eval_df, "evaluation")):
            if col not in frame.columns:
                raise KeyError(f"id column {col!r} is not in the {label} data")
        train_keys = _id_keys(train_df[col], eval_df[col])
        eval_keys = _id_keys(eval_df[col], train_df[col])
        train_unique = train_keys.drop_duplicates()
        eval_unique = eval_keys.drop_duplicates()
        shared = eval_unique[eval_unique.isin(train_unique.to_numpy())]
        shared_values = shared.to_numpy()
        eval_hit = eval_keys.isin(shared_values)
        train_hit = train_keys.isin(shared_values)
        # sample in evaluation row order, masked from the original (un-normalised) values
        first_positions = np.flatnonzero(eval_df[col].notna().to_numpy())[np.flatnonzero(eval_hit.to_numpy())]
        sample_values = eval_df[col].iloc[first_positions].drop_duplicates().head(SAMPLE_SIZE)
        out.append(
            IdOverlap(
                column=str(col),
                train_ids=int(len(train_unique)),
                eval_ids=int(len(eval_unique)),
                shared_ids=int(len(shared)),
                train_rows=int(train_hit.sum()),
                eval_rows=int(eval_hit.sum()),
                masked_sample=tuple(mask_id(v) for v in sample_values.tolist()),
            )
        )
    return IdOverlapResult(
        id_columns=tuple(str(c) for c in id_columns),
        columns=tuple(out),
        seconds=time.perf_counter() - started,
    )


def _aligned(train: pd.DataFrame, evaluation: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give each feature column one dtype on both sides, so equal values hash equally."""
    import pandas as pd

    a, b = {}, {}
    for col in train.columns:
        x, y = train[col], evaluation[col]
        if isinstance(x.dtype, pd.CategoricalDtype):
            x = x.astype(object)
        if isinstance(y.dtype, pd.CategoricalDtype):
            y = y.astype(object)
        if x.dtype == y.dtype:
            pass
        elif pd.api.types.is_numeric_dtype(x.dtype) and pd.api.types.is_numeric_dtype(y.dtype):
            # int in one split, float in the other (a gap makes pandas read ints as floats)
            x, y = x.astype("float64"), y.astype("float64")
        else:
            x = x.astype(str).where(x.notna(), None).astype(object)
            y = y.astype(str).where(y.notna(), None).astype(object)
        a[col], b[col] = x, y
    return pd.DataFrame(a), pd.DataFrame(b)


def find_duplicate_rows(
    train_df: pd.DataFrame, eval_df: pd.DataFrame, feature_columns: Sequence[str]
) -> DuplicateRowsResult:
    """Evaluation rows whose ``feature_columns`` values exactly equal a training row's.

    Rows are hashed with ``pandas.util.hash_pandas_object`` (64-bit; for two splits of a million
    rows the chance of one false match is about 1e-7).
    """
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    cols = list(feature_columns)
    for frame, label in ((train_df, "training"), (eval_df, "evaluation")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KeyError(f"feature columns {missing} are not in the {label} data")
    if not cols:
        raise ValueError("find_duplicate_rows needs at least one feature column")
    a, b = _aligned(train_df[cols].reset_index(drop=True), eval_df[cols].reset_index(drop=True))
    ha = pd.util.hash_pandas_object(a, index=False).to_numpy()
    hb = pd.util.hash_pandas_object(b, index=False).to_numpy()
    eval_hit = np.isin(hb, ha)
    train_hit = np.isin(ha, hb[eval_hit])
    return DuplicateRowsResult(
        feature_columns=tuple(str(c) for c in cols),
        train_total=int(len(a)),
        eval_total=int(len(b)),
        eval_rows=int(eval_hit.sum()),
        train_rows=int(train_hit.sum()),
        distinct_rows=int(len(np.unique(hb[eval_hit]))),
        train_internal_duplicates=int(len(ha) - len(np.unique(ha))),
        eval_internal_duplicates=int(len(hb) - len(np.unique(hb))),
        sample_eval_rows=tuple(int(i) for i in np.flatnonzero(eval_hit)[:ROW_SAMPLE]),
        sample_train_rows=tuple(int(i) for i in np.flatnonzero(train_hit)[:ROW_SAMPLE]),
        seconds=time.perf_counter() - started,
    )
