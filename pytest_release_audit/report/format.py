# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The one way numbers are written for people: metrics, intervals, p-values, counts, values.

Every renderer (terminal, Markdown, HTML, JUnit, the model card, the CLI) and every check summary
uses these, so one metric reads the same everywhere. ``MISSING`` stands for a value that is not
there (None, NaN, or not a number).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

MISSING = "n/a"


def as_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (booleans, None, NaN, inf and non-numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number_ = float(value)
    return number_ if math.isfinite(number_) else None


def number(value: Any, *, signed: bool = False, places: int | None = None) -> str:
    """A metric for people.

    ``places=None``: two decimals, more (up to four) when two would hide a nonzero value
    (``+0.004``); large values get thousands separators. ``places=N``: exactly N decimals.
    """
    if isinstance(value, float) and math.isinf(value):
        return ("+∞" if signed else "∞") if value > 0 else "-∞"
    num = as_number(value)
    if num is None:
        return MISSING
    sign = "+" if signed else ""
    if abs(num) >= 1000 and places is None:
        return f"{num:{sign},.1f}"
    if places is not None:
        return f"{num:{sign}.{places}f}"
    for digits in (2, 3, 4):
        text = f"{num:{sign}.{digits}f}"
        if float(text) != 0.0 or num == 0.0:
            return text
    return f"{num:{sign}.2g}"


def interval(ci: Sequence[Any] | None, *, signed: bool = False, places: int | None = None) -> str:
    """``[0.68, 0.74]``; ``[n/a]`` when either end is missing."""
    if not isinstance(ci, list | tuple) or len(ci) != 2:
        return f"[{MISSING}]"
    lo, hi = as_number(ci[0]), as_number(ci[1])
    if lo is None or hi is None:
        return f"[{MISSING}]"
    return f"[{number(lo, signed=signed, places=places)}, {number(hi, signed=signed, places=places)}]"


def p_value(value: Any) -> str:
    """``p < 0.001`` or ``p = 0.042``."""
    num = as_number(value)
    if num is None:
        return f"p = {MISSING}"
    return "p < 0.001" if num < 0.001 else f"p = {num:.3f}"


def count(value: Any) -> str:
    """``12,345``."""
    num = as_number(value)
    return MISSING if num is None else f"{int(num):,}"


def seconds(value: Any) -> str:
    """Seconds with three decimals (JUnit's SUREFIRE_TIME allows no more)."""
    num = as_number(value)
    return f"{max(num or 0.0, 0.0):.3f}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 check``, ``3 checks``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def value(item: Any, *, limit: int = 400) -> str:
    """One line for any evidence value: numbers via ``number``, intervals ``[a, b]``, booleans
    yes/no, empty collections ``none``, others compact JSON; cleaned and cut to ``limit``."""
    from pytest_release_audit.report.text import one_line

    if item is None:
        return MISSING
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return number(item)
    if isinstance(item, list | tuple) and len(item) == 2 and all(as_number(v) is not None for v in item):
        return interval(item)
    if isinstance(item, list | tuple | dict) and not item:
        return "none"
    if isinstance(item, list | tuple) and all(isinstance(v, str | int | float) for v in item):
        return one_line(", ".join(value(v, limit=limit) for v in item), limit)
    if isinstance(item, str):
        return one_line(item, limit)
    return one_line(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str), limit)
