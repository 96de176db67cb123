# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A column's values as the strings the scan analyses, or why the column cannot hold an identifier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_release_audit.scanners.pii.names import MIN_IDENTIFIER_DIGITS, looks_like_id

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.scanners.pii.engine import PiiEngine

#: A decimal number with a fractional part (one point, optional sign and exponent).
DECIMAL_TEXT = r"[+-]?(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?"
#: Integers below this cannot hold a phone, SSN, card or record number.
SMALLEST_IDENTIFIER = 10 ** (MIN_IDENTIFIER_DIGITS - 1)


def column_strings(series: Any, name: str, engine: PiiEngine) -> tuple[Any, str | None]:
    """Values of one column as strings (object array, None where empty), or None and a skip reason."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None, "boolean values cannot encode an identifier"
    if pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        return None, f"{dtype} values cannot encode an identifier"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if "DATE_TIME" not in engine.entity_types:
            return None, "datetime values; DATE_TIME is ignored by policy (pii.ignore_entities)"
        out = series.astype("string").astype(object).where(series.notna(), None)
        return out.to_numpy(dtype=object), None
    if pd.api.types.is_numeric_dtype(dtype):
        return _numbers(series, name)
    return _texts(series), None


def _numbers(series: Any, name: str) -> tuple[Any, str | None]:
    """Integral numbers that may be identifiers, printed as integers."""
    import numpy as np
    import pandas as pd

    as_float = series.to_numpy(dtype=float, na_value=np.nan)
    valid = np.isfinite(as_float)
    is_float = pd.api.types.is_float_dtype(series.dtype)
    if is_float and not (np.mod(as_float[valid], 1) == 0).all():
        return None, "non-integral floats cannot encode an identifier"
    big = bool(valid.any()) and float(np.abs(as_float[valid]).max()) >= SMALLEST_IDENTIFIER
    if not valid.any() or not (looks_like_id(name) or big):
        return None, f"numbers below {SMALLEST_IDENTIFIER}, name not identifier-like"
    out = np.full(len(series), None, dtype=object)
    kept = series[valid]
    if is_float:  # integral floats (an int column with gaps): print as ints
        kept = kept.map(lambda v: str(int(v)))
    out[np.flatnonzero(valid)] = kept.astype(str).to_numpy(dtype=object)
    return out, None


def _texts(series: Any) -> Any:
    """Object, string, category: everything as stripped text, except decimal numbers written as text.

    A numeric column with one bad cell is read as text: "-0.4563456345634563" is not a card number.
    Each distinct value is normalised once (a notes column repeats its templates).
    """
    import numpy as np
    import pandas as pd

    notna = series.notna().to_numpy()
    out = np.full(len(series), None, dtype=object)
    present = series.to_numpy(dtype=object)[notna]
    if pd.api.types.infer_dtype(present, skipna=False) == "string":
        codes, distinct = pd.factorize(present)  # only strings: equal values, equal text
    else:  # mixed cells (1 == 1.0 == True, yet "1", "1.0", "True"), lists: each one
        codes, distinct = np.arange(len(present)), present
    text = pd.Series(distinct, dtype=object).astype(str).str.strip()
    text = text.where(~text.str.fullmatch(DECIMAL_TEXT), "")
    normalised = text.where(text != "", None).to_numpy(dtype=object)
    out[np.flatnonzero(notna)] = normalised[codes]
    return out


def distinct(strings: Any) -> Any:
    """The distinct values of an object array, in order of first appearance (``pd.unique``'s answer, faster)."""
    import pandas as pd

    return pd.Series(strings, dtype=object, copy=False).drop_duplicates().to_numpy(dtype=object)


#: A column is free text when at least this share of its (sampled) distinct values is prose.
FREE_TEXT_SHARE = 0.3
#: ... and it is not categorical: at most this many distinct values, each repeated (``REPEATS``).
MAX_CATEGORIES = 12
REPEATS = 5
_SAMPLE = 2000


def _prose(value: str) -> bool:
    """Two or more words made of letters, letters the bulk of the value: a name or a sentence, not a code."""
    words = [w for w in value.split() if any(ch.isalpha() for ch in w)]
    if len(words) < 2:
        return False
    letters = sum(ch.isalpha() for ch in value)
    return letters >= 0.6 * sum(not ch.isspace() for ch in value)


def is_free_text(uniques: Any, present: int | None = None) -> bool:
    """Whether a column's distinct values (strings) are free text NER can find names and places in.

    Judged by content, not by the column's name: enough values are prose (``_prose``) and the
    column is not categorical (a few distinct values, each repeated over ``present`` non-empty
    cells). Identifier columns (``H00042``), codes (``C50.9``) and categories (``north`` /
    ``south``, ``Stage II``) are not.
    """
    values = [v for v in list(uniques[:_SAMPLE]) if isinstance(v, str)]
    if not values or (len(uniques) <= MAX_CATEGORIES and (present or 0) >= REPEATS * len(uniques)):
        return False
    return sum(_prose(v) for v in values) >= FREE_TEXT_SHARE * len(values)
