# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""RE2 prefilters: for each gate regex, an RE2 pattern that matches at least every value it matches.

A gate regex is searched with Python's ``regex`` module, one value at a time. Before that, its
prefilter runs over the whole column at once in RE2 (``pyarrow.compute.match_substring_regex``),
and only the values it matches are searched in Python. The gate's answer is unchanged as long as
the prefilter matches a *superset*: every value the regex matches.

The prefilter is derived from the regex's parse tree (``re._parser``; a pattern it cannot parse,
or that uses a construct not listed here, gets no prefilter and is searched in Python over every
value), by rules that each only ever widen what matches:

* anchors (``^ $ \\b \\B \\A \\Z``) and lookarounds are dropped (a constraint removed);
* a backreference becomes ``.*``; a conditional group, both of its branches;
* repeats keep their bounds (an upper bound above RE2's 1000 becomes unbounded);
* every character test becomes a set of code-point ranges that contains every character it
  accepts. The two engines disagree on Unicode (``regex`` follows a newer Unicode than the RE2 in
  pyarrow: 90 digits, 9,262 word characters and U+000B as a space differ), so no Unicode class
  is ever translated: ``\\d``, ``\\w`` and ``\\s`` become their exact ASCII members *plus every
  non-ASCII character*; under IGNORECASE an ASCII letter becomes both cases plus every non-ASCII
  character (``k`` also matches U+212A KELVIN SIGN, ``i`` U+0130), and a non-ASCII literal becomes
  any character. Negated tests (``\\D``, ``[^...]``) become the complement of a *subset* of what
  they exclude: ``\\W`` is "not an ASCII word character".

A second, *exact* form is kept where the regex has no lookaround, atomic group, backreference or
line anchor: on a value made only of ASCII characters it matches exactly when the regex does
(``\\b`` kept, as RE2's ASCII word boundary equals Python's on ASCII text; every character test
equal to the regex's on ASCII). On ASCII values such a pattern is decided by RE2 alone; every other
value the superset lets through is searched in Python.

``tests/test_pii_prefilter.py`` checks the character rules over every Unicode code point against
the ``regex`` module, and every built-in gate regex with property tests (strings generated from
the regex itself, and random text): the superset never misses a value the regex matches, and the
exact form agrees with the regex on ASCII text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_CODE_POINT = 0x10FFFF
ASCII_END = 0x7F
#: RE2 refuses repeat counts above 1000.
RE2_MAX_REPEAT = 1000

Ranges = tuple[tuple[int, int], ...]

EVERYTHING: Ranges = ((0, MAX_CODE_POINT),)
NON_ASCII: Ranges = ((ASCII_END + 1, MAX_CODE_POINT),)


class Untranslatable(ValueError):
    """The regex uses a construct the prefilter rules do not cover: search it in Python only."""


#: The ASCII members of the ``regex`` module's classes (checked over all of ASCII in the tests).
ASCII_DIGIT: Ranges = ((0x30, 0x39),)
ASCII_WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
ASCII_SPACE: Ranges = ((0x09, 0x0D), (0x20, 0x20))


def normalise(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sorted, merged, non-overlapping ranges."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(ranges: Ranges) -> Ranges:
    """Every code point not in ``ranges``."""
    out: list[tuple[int, int]] = []
    start = 0
    for lo, hi in normalise(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return tuple(out)


def _ascii_within(ranges: Ranges) -> Ranges:
    return tuple((lo, min(hi, ASCII_END)) for lo, hi in ranges if lo <= ASCII_END)


#: category -> (a superset, a subset) of the characters ``regex`` accepts for it.
_CATEGORIES: dict[str, tuple[Ranges, Ranges]] = {}
for _name, _ascii in (("DIGIT", ASCII_DIGIT), ("WORD", ASCII_WORD), ("SPACE", ASCII_SPACE)):
    _CATEGORIES[f"CATEGORY_{_name}"] = (normalise((*_ascii, *NON_ASCII)), _ascii)
    _CATEGORIES[f"CATEGORY_NOT_{_name}"] = (complement(_ascii), _ascii_within(complement((*_ascii, *NON_ASCII))))


def _swapcase(lo: int, hi: int) -> Ranges:
    """The other case of the ASCII letters in ``lo..hi`` (ASCII only)."""
    out = []
    for a, b, shift in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
        s, e = max(lo, a), min(hi, b)
        if s <= e:
            out.append((s + shift, e + shift))
    return tuple(out)


Charset = tuple[Ranges, Ranges]  # (a superset, a subset) of the characters the regex accepts


def _cased(lo: int, hi: int, ignorecase: bool) -> Charset:
    """A literal (``lo == hi``) or a range, with IGNORECASE applied."""
    exact: Ranges = ((lo, hi),)
    if not ignorecase:
        return exact, exact
    if hi > ASCII_END:
        return EVERYTHING, exact  # U+212A KELVIN SIGN matches "k" and "K": anything may
    both = normalise((*exact, *_swapcase(lo, hi)))
    if both == exact:
        return exact, exact  # ASCII non-letters have no case partners (checked in the tests)
    return normalise((*both, *NON_ASCII)), both  # "i" also matches U+0130, "s" U+017F, ...


def _charset(op: str, av: Any, ignorecase: bool, dotall: bool) -> Charset:
    """(superset, subset) of the characters one character test accepts."""
    if op == "LITERAL":
        return _cased(int(av), int(av), ignorecase)
    if op == "RANGE":
        return _cased(int(av[0]), int(av[1]), ignorecase)
    if op == "NOT_LITERAL":
        sup, sub = _cased(int(av), int(av), ignorecase)
        return complement(sub), complement(sup)
    if op == "ANY":
        return EVERYTHING, EVERYTHING if dotall else complement(((0x0A, 0x0A),))
    if op == "CATEGORY":
        key = str(av)
        if key not in _CATEGORIES:
            raise Untranslatable(key)
        return _CATEGORIES[key]
    if op == "IN":
        items = list(av)
        negate = bool(items) and str(items[0][0]) == "NEGATE"
        parts = [_charset(str(o), a, ignorecase, dotall) for o, a in (items[1:] if negate else items)]
        superset = normalise(r for sup, _ in parts for r in sup)
        subset = normalise(r for _, sub in parts for r in sub)
        return (complement(subset), complement(superset)) if negate else (superset, subset)
    raise Untranslatable(op)


def exact_on_ascii(charset: Charset) -> bool:
    """Whether superset and subset agree on every ASCII character (so both equal the regex's set there)."""
    sup, sub = charset
    return _ascii_within(sup) == _ascii_within(sub)


def _class(ranges: Ranges) -> str:
    if not ranges:
        raise Untranslatable("a character test nothing can pass")
    if ranges == EVERYTHING:
        return r"(?s:.)"
    body = "".join(rf"\x{{{lo:X}}}" if lo == hi else rf"\x{{{lo:X}}}-\x{{{hi:X}}}" for lo, hi in ranges)
    return f"[{body}]"


def _repeat(body: str, low: int, high: int) -> str:
    from re._constants import MAXREPEAT  # type: ignore[import-not-found]

    low = min(int(low), RE2_MAX_REPEAT)
    if high == MAXREPEAT or int(high) > RE2_MAX_REPEAT:
        return f"(?:{body}){{{low},}}"
    return f"(?:{body}){{{low},{int(high)}}}"


#: In exact mode, the anchors RE2 reads as Python does on ASCII text (RE2's ``\b`` is ASCII-only).
_EXACT_ANCHORS = {"AT_BOUNDARY": r"\b", "AT_NON_BOUNDARY": r"\B"}


class _Emitter:
    """Writes one parse tree as RE2: a superset everywhere, or (``exact``) equal on ASCII-only text."""

    def __init__(self, dotall: bool, exact: bool) -> None:
        self.dotall = dotall
        self.exact = exact

    def emit(self, nodes: Sequence[Any], ignorecase: bool) -> str:
        return "".join(self._node(str(op), av, ignorecase) for op, av in nodes)

    def _node(self, op: str, av: Any, ignorecase: bool) -> str:
        import re

        if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
            charset = _charset(op, av, ignorecase, self.dotall)
            if self.exact and not exact_on_ascii(charset):
                raise Untranslatable(f"{op} differs on ASCII")
            return _class(charset[0])
        if op == "AT":
            if self.exact:
                if str(av) not in _EXACT_ANCHORS:
                    raise Untranslatable(str(av))
                return _EXACT_ANCHORS[str(av)]
            return ""  # a constraint dropped: matches more
        if op in ("ASSERT", "ASSERT_NOT"):
            if self.exact:
                raise Untranslatable(op)
            return ""
        if op == "SUBPATTERN":
            _group, add_flags, del_flags, sub = av
            if (add_flags | del_flags) & re.DOTALL:
                raise Untranslatable("a scoped DOTALL flag")
            local = (ignorecase or bool(add_flags & re.IGNORECASE)) and not bool(del_flags & re.IGNORECASE)
            return f"(?:{self.emit(sub, local)})"
        if op in ("MAX_REPEAT", "MIN_REPEAT") or (op == "POSSESSIVE_REPEAT" and not self.exact):
            low, high, sub = av
            return _repeat(self.emit(sub, ignorecase), low, high)
        if op == "BRANCH":
            return "(?:" + "|".join(self.emit(b, ignorecase) for b in av[1]) + ")"
        if self.exact:
            raise Untranslatable(op)  # atomic groups, backreferences, conditionals
        if op == "ATOMIC_GROUP":
            return f"(?:{self.emit(av, ignorecase)})"
        if op == "GROUPREF":
            return r"(?s:.)*"
        if op == "GROUPREF_EXISTS":
            _group, yes, no = av
            return f"(?:{self.emit(yes, ignorecase)}|{self.emit(no or [], ignorecase)})"
        raise Untranslatable(op)


@functools.lru_cache(maxsize=1024)
def translate(pattern: str, ignorecase: bool, dotall: bool = False, verbose: bool = False,
              exact: bool = False) -> str:
    """An RE2 pattern for the Python regex ``pattern``, for a *search* (a match anywhere in the value).

    Default: it matches every string the regex matches (a superset). ``exact``: on a string made
    of ASCII characters only it matches exactly when the regex does (no lookarounds, atomic groups,
    backreferences or line anchors allowed). Raises ``Untranslatable`` when the pattern cannot be
    parsed or uses a construct the rules do not cover.
    """
    import re
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import re._parser as parser  # type: ignore[import-not-found]

    try:
        parsed = parser.parse(pattern, re.VERBOSE if verbose else 0)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise Untranslatable(str(exc)) from exc
    flags = int(parsed.state.flags)
    emitter = _Emitter(dotall or bool(flags & re.DOTALL), exact)
    return emitter.emit(list(parsed), ignorecase or bool(flags & re.IGNORECASE))


@dataclass(frozen=True)
class Prefilter:
    """The RE2 forms of one compiled gate regex: ``superset`` (None: none) and ``exact`` (on ASCII; None: none)."""

    superset: str | None
    exact: str | None


@functools.lru_cache(maxsize=1024)
def _cached(pattern: str, flags: int, is_re: bool) -> Prefilter:
    import re

    import regex

    if is_re:
        ignorecase, dotall, verbose = (bool(flags & f) for f in (re.IGNORECASE, re.DOTALL, re.VERBOSE))
    else:
        if flags & (regex.VERSION1 | regex.FULLCASE | regex.WORD):
            return Prefilter(None, None)  # V1 set operations, full case folding, Unicode word breaks
        ignorecase, dotall, verbose = (bool(flags & f) for f in (regex.IGNORECASE, regex.DOTALL, regex.VERBOSE))
    out: list[str | None] = []
    for exact in (False, True):
        try:
            out.append(translate(pattern, ignorecase, dotall, verbose, exact))
        except Untranslatable:
            out.append(None)
    return Prefilter(out[0], out[1] if out[0] is not None else None)


def for_compiled(compiled: Any) -> Prefilter:
    """The prefilters of a compiled ``regex`` or ``re`` pattern."""
    import re

    return _cached(compiled.pattern, int(compiled.flags), isinstance(compiled, re.Pattern))


def literal(text: str) -> str:
    """``text`` as an RE2 pattern matching exactly it (every character written as a code point)."""
    return "".join(c if c.isascii() and c.isalnum() else rf"\x{{{ord(c):X}}}" for c in text)


def as_arrow(values: Any) -> Any | None:
    """``values`` (strings) as an Arrow string array, or None when Arrow cannot hold them (lone surrogates)."""
    import numpy as np
    import pyarrow as pa

    try:  # from an object array: a third of the time a list takes
        return pa.array(values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object),
                        type=pa.large_string())
    except (pa.ArrowException, UnicodeError, TypeError):
        return None


def matches(array: Any, prefilter: str) -> Any | None:
    """Boolean numpy mask: which values of ``array`` the RE2 ``prefilter`` finds a match in (None: RE2 refused it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.match_substring_regex(array, pattern=prefilter)
    except pa.ArrowException:
        return None  # e.g. over RE2's memory budget: the caller searches every value
    return found.fill_null(False).to_numpy(zero_copy_only=False)
