# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Gates: which values a recognizer could report on, decided before presidio sees them.

A gate holds the regexes one of which must match a value before its recognizer can report
anything: for a pattern recognizer exactly the regexes and flags presidio searches with; for the
phone recognizer a run of at least ``PHONE_MIN_DIGITS`` digits; for the gazetteer its own
``GATES``. Anything else (NER) has no gate: every value is analysed. A gate only saves time; it
never skips a value that could match.

``REQUIRED_CHARS`` is a shortcut on top: for a built-in pattern, characters every match of it
contains, looked for first (an RE2 literal search, memchr-fast) when few values hold them. Each
entry names the pattern and the digest of the regex text it was checked against
(``tests/test_pii_scanner.py`` checks every entry against positive examples); a pattern whose
text differs, and every policy pattern, gets no shortcut. Letters are never listed: under
IGNORECASE, Unicode case folding makes a literal search an unsafe test for them.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_release_audit.files import sha256_text

# phonenumbers only reports a number whose national part has at least this many digits in the
# regions presidio checks (tests/test_pii_scanner.py re-derives it from phonenumbers' metadata);
# digits inside a candidate are separated by at most 4 punctuation characters, all of which are
# non-word characters, "x" or the katakana long-vowel mark (also verified there).
PHONE_MIN_DIGITS = 4
PHONE_GATE = r"\d(?:[\W_xXー]{0,4}\d){" + str(PHONE_MIN_DIGITS - 1) + "}"

#: (recognizer name, pattern name) -> (characters every match contains, sha256 prefix of the regex)
REQUIRED_CHARS: Mapping[tuple[str, str], tuple[str, str]] = types.MappingProxyType(
    {
        ("OfflineEmailRecognizer", "Email (Medium)"): (".@", "004723abbb67ff6c"),
        ("PlaceholderSsnRecognizer", "SSN1 (very weak)"): ("-", "17f1d935dc2f3eff"),
        ("PlaceholderSsnRecognizer", "SSN2 (very weak)"): ("-", "75527eba59550d4d"),
        ("PlaceholderSsnRecognizer", "SSN3 (very weak)"): ("-", "213ac080713cf308"),
        ("IpRecognizer", "IPv4_mapped"): (".:", "5def597d3b4dac73"),
        ("IpRecognizer", "IPv4_embedded"): (".:", "66197b1f8e63cd27"),
        ("IpRecognizer", "IPv4"): (".", "ae1e66dfc54606cf"),
        ("IpRecognizer", "IPv6"): (":", "c4f79b73053cd5f0"),
        ("IpRecognizer", "IPv6_unspecified"): (":", "c696285024ae5b47"),
        ("UrlRecognizer", "Standard Url"): ("./:", "422b91a465b6177e"),
        ("UrlRecognizer", "Non schema URL"): (".", "7405c3a8b8c39f4d"),
        ("UrlRecognizer", "Quoted URL"): ("./:", "473c5e6b40a31272"),
        ("UrlRecognizer", "Quoted Non-schema URL"): (".", "58b5bbbc4796bab1"),
        ("DateRecognizer", "Datetime (yyyy-mm-ddThh:mm[:ss[.f]] with timezone)"): ("-:", "8231e96300900a19"),
        ("DateRecognizer", "mm/dd/yyyy or mm/dd/yy"): ("/", "de849c1681c98a79"),
        ("DateRecognizer", "dd/mm/yyyy or dd/mm/yy"): ("/", "19ffdc2987b151d9"),
        ("DateRecognizer", "yyyy/mm/dd"): ("/", "4ccb5d61a4e1942d"),
        ("DateRecognizer", "mm-dd-yyyy"): ("-", "9d1fcea6de93cf88"),
        ("DateRecognizer", "dd-mm-yyyy"): ("-", "cd1cf05f027c5501"),
        ("DateRecognizer", "yyyy-mm-dd"): ("-", "79e15fb16d77fdfa"),
        ("DateRecognizer", "dd.mm.yyyy or dd.mm.yy"): (".", "ed7ea12896824ef7"),
        ("DateRecognizer", "dd-MMM-yyyy or dd-MMM-yy"): ("-", "9cca403b33cf14e4"),
        ("DateRecognizer", "MMM-yyyy or MMM-yy"): ("-", "47b9242593e806a6"),
        ("DateRecognizer", "dd-MMM or dd-MMM"): ("-", "94027aaf76935ea5"),
        ("DateRecognizer", "mm/yyyy or m/yyyy"): ("/", "52dd574bb25c7150"),
        ("DateRecognizer", "mm/yy or m/yy"): ("/", "cfd91e15ada32eda"),
    }
)
DIGEST_LENGTH = 16
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Gate:
    """Entity types of one recognizer and the regexes one of which must match before it can.

    ``required``: per pattern, characters every match of that pattern contains (``REQUIRED_CHARS``).
    ``context_only_score``: for a recognizer with a fixed score below the threshold (presidio's
    phone recognizer scores 0.4), a result can only reach the threshold through a context word
    (from the column name or a word in the value); such a value must then contain one of
    ``context`` unless the column name already does.
    """

    entities: tuple[str, ...]
    patterns: tuple[Any, ...] | None  # compiled `regex` patterns; None = every value
    required: tuple[str, ...] = ()
    context_only_score: float | None = None
    context: tuple[str, ...] = ()


def required_chars(recognizer_name: str, pattern: Any) -> str:
    """Characters every match of presidio ``pattern`` contains, or "" (no shortcut)."""
    entry = REQUIRED_CHARS.get((recognizer_name, pattern.name))
    if entry is None or sha256_text(pattern.regex)[:DIGEST_LENGTH] != entry[1]:
        return ""
    return entry[0]


def gate_for(recognizer: Any) -> Gate:
    """The regexes one of which must match a value before ``recognizer`` can report anything."""
    import regex
    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from pytest_release_audit.scanners.pii.recognizers import GazetteerPersonRecognizer

    entities = tuple(recognizer.supported_entities)
    if isinstance(recognizer, PatternRecognizer):
        return _pattern_gate(recognizer, entities)
    if isinstance(recognizer, PhoneRecognizer):
        return Gate(
            entities,
            (regex.compile(PHONE_GATE),),
            context_only_score=float(recognizer.SCORE),
            context=tuple(w.lower() for w in recognizer.context),
        )
    if isinstance(recognizer, GazetteerPersonRecognizer):
        return Gate(entities, GazetteerPersonRecognizer.GATES)
    return Gate(entities, None)  # NER and anything else: analyse every value


def _pattern_gate(recognizer: Any, entities: tuple[str, ...]) -> Gate:
    """Exactly the regexes and flags presidio's ``PatternRecognizer`` searches with (none: every value)."""
    import regex

    if not recognizer.patterns:
        return Gate(entities, None)  # a deny list or other custom matching
    flags = recognizer.global_regex_flags
    return Gate(
        entities,
        tuple(regex.compile(p.regex, flags=flags) for p in recognizer.patterns),
        required=tuple(required_chars(recognizer.name, p) for p in recognizer.patterns),
    )


def may_hold_context(value: str, words: Sequence[str], lemmas_are_lowercase: bool) -> bool:
    """Whether presidio's context enhancer could find one of ``words`` among ``value``'s words.

    The offline engine's lemmas are the lower-cased tokens, and presidio matches a context word
    as a substring of a lemma, so the word must occur in ``value.lower()``. An NER pipeline's
    lemmatizer may rewrite words, so there any letter keeps the value (every context word is
    made of letters).
    """
    if lemmas_are_lowercase:
        lowered = value.lower()
        return any(w in lowered for w in words)
    return _LETTER.search(value) is not None
