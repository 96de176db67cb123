# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The RE2 prefilters never change a gate's answer; the pool never changes the scan's.

* character rules: over every Unicode code point, each character test's RE2 form accepts every
  character the ``regex`` module accepts (and, where called exact, the same ASCII characters);
* every built-in gate regex: property tests with strings generated from the regex itself and with
  random text: the superset form matches whenever the regex does, the exact form agrees on ASCII;
* ``signatures`` equals a reference that searches every value in Python, on notes, the accuracy
  corpus, non-ASCII text and values Arrow cannot hold;
* the remembering phone recognizer returns presidio's results; the process pool the serial ones.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_release_audit.scanners.pii import build_engine, pool, prefilter
from pytest_release_audit.scanners.pii.analyze import analyze_values, signatures
from pytest_release_audit.scanners.pii.gates import may_hold_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

ALL = "".join(chr(i) for i in range(prefilter.MAX_CODE_POINT + 1) if not 0xD800 <= i <= 0xDFFF)
ALL_ARROW = pa.array(list(ALL))
ASCII = {chr(i) for i in range(128)}

CHAR_TESTS = [
    r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", ".", r"[^\W]", r"[^\d_x]", r"[A-Z]", r"[a-f0-9]", r"[\W_xXー]",
    r"[^k]", r"[^K\d]", "\u212a", "é", "ー", r"[à-ÿ]", r"[^à-ÿ]", r"[0-9A-Fa-f]", r"[- .]", r"[:#=-]",
]
ASCII_LITERALS = [re.escape(chr(i)) for i in range(128)]


def _python_set(test: str, flags: int, over: str = ALL) -> set[str]:
    return set(regex.findall(test, over, flags=regex.V0 | flags))


def _python_mask(test: str, flags: int) -> np.ndarray:
    """Over every code point (in ``ALL`` order), which the ``regex`` module's character test accepts."""
    found = "".join(regex.findall(test, ALL, flags=regex.V0 | flags))
    cps = np.frombuffer(found.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    mask = np.zeros(len(ALL), dtype=bool)
    mask[cps - np.where(cps > 0xDFFF, 0x800, 0)] = True
    return mask


def _re2_mask(pattern: str) -> np.ndarray:
    return pc.match_substring_regex(ALL_ARROW, pattern=f"^(?:{pattern})$").to_numpy(zero_copy_only=False)


ASCII_ROWS = slice(0, 128)


@pytest.mark.parametrize("ignorecase", [False, True], ids=["case", "ignorecase"])
def test_character_rules_hold_over_every_code_point(ignorecase):
    for test in CHAR_TESTS:
        for dotall in (False, True) if test == "." else (False,):
            flags = (regex.IGNORECASE if ignorecase else 0) | (regex.DOTALL if dotall else 0)
            python = _python_mask(test, flags)
            missed = np.flatnonzero(python & ~_re2_mask(prefilter.translate(test, ignorecase, dotall)))
            assert not len(missed), f"{test!r}: RE2 misses {[hex(ord(ALL[i])) for i in missed[:5]]}"
            try:
                exact = _re2_mask(prefilter.translate(test, ignorecase, dotall, exact=True))
            except prefilter.Untranslatable:
                continue
            assert (exact[ASCII_ROWS] == python[ASCII_ROWS]).all(), f"{test!r}: the exact form differs on ASCII"
    flags = regex.IGNORECASE if ignorecase else 0
    # every character an ASCII literal can match lies in what [\x00-\x7f] matches over all code points:
    # under IGNORECASE also dotted and dotless i, long s and the Kelvin sign
    reach = "".join(sorted(_python_set(r"[\x00-\x7f]", flags)))
    assert {c for c in reach if not c.isascii()} == ({"\u0130", "\u0131", "\u017f", "\u212a"} if ignorecase else set())
    for test in ASCII_LITERALS:
        accepted = _python_set(test, flags, reach)
        superset = {c for c in reach if _re2(prefilter.translate(test, ignorecase), c)}
        assert accepted <= superset, test
        exact_form = {c for c in reach if _re2(prefilter.translate(test, ignorecase, exact=True), c)}
        assert accepted & ASCII == exact_form & ASCII, test


def test_the_engines_really_disagree_outside_ascii():
    """Why no Unicode class is translated: RE2's \\d and regex's \\d are different sets."""
    assert (_python_mask(r"\d", 0) != _re2_mask(r"\p{Nd}")).sum() == 90
    assert _python_set(r"[a-z]", regex.IGNORECASE) - ASCII == {"\u0130", "\u017f", "\u212a"}


def test_untranslatable_constructs_get_no_prefilter():
    assert prefilter.for_compiled(regex.compile(r"(?V1)[[a-z]--[aeiou]]")).superset is None
    assert prefilter.for_compiled(regex.compile(r"\p{Greek}+")).superset is None  # re's parser refuses \p
    assert prefilter.for_compiled(regex.compile(r"(a)\1")).exact is None
    assert prefilter.for_compiled(regex.compile(r"(?<=x)\d{4}")).exact is None
    assert prefilter.for_compiled(regex.compile(r"(?<=x)\d{4}")).superset is not None
    assert prefilter.for_compiled(regex.compile(r"\bMRN\b")).exact is not None


def _gate_patterns():
    engine = build_engine()
    seen = {}
    for gate in engine.gates:
        for p in gate.patterns or ():
            seen[(p.pattern, p.flags)] = p
    from pytest_release_audit.scanners.pii.gates import PHONE_GATE

    seen[(PHONE_GATE, 0)] = regex.compile(PHONE_GATE)
    return list(seen.values())


PATTERNS = _gate_patterns()


def _re2(pattern: str | None, text: str) -> bool:
    assert pattern is not None
    return bool(pc.match_substring_regex(pa.array([text]), pattern=pattern)[0].as_py())


def _as_re(compiled):
    flags = 0
    for ours, theirs in ((regex.IGNORECASE, re.IGNORECASE), (regex.DOTALL, re.DOTALL), (regex.MULTILINE, re.MULTILINE)):
        if compiled.flags & ours:
            flags |= theirs
    return re.compile(compiled.pattern, flags)


TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789-.:@ /()+#xX_'\tMRNmrnAaZz")), st.characters(max_codepoint=0x2FF),
        st.characters(),
    ),
    max_size=40,
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("compiled", PATTERNS, ids=[p.pattern[:30] for p in PATTERNS])
def test_every_gate_regex_is_covered_by_its_prefilter(compiled):
    form = prefilter.for_compiled(compiled)
    assert form.superset is not None, "every built-in gate regex gets a prefilter"

    def check(text: str) -> None:
        found = compiled.search(text) is not None
        if found:
            assert _re2(form.superset, text), f"superset misses {text!r}"
        if form.exact is not None and text.isascii():
            assert _re2(form.exact, text) == found, f"exact form differs on {text!r}"

    @SETTINGS
    @given(st.from_regex(_as_re(compiled)))
    def generated(text):
        check(text)

    @SETTINGS
    @given(TEXT)
    def random_text(text):
        check(text)

    generated()
    random_text()


def _reference(engine, values, context):
    """Signatures by searching every value with every gate regex in Python (no prefilter)."""
    out = np.zeros(len(values), dtype=np.int64)
    for bit, gate in enumerate(engine.gates):
        if gate.patterns is None:
            out |= 1 << bit
            continue
        passed = np.array([any(p.search(v) for p in gate.patterns) for v in values], dtype=bool)
        if gate.context_only_score is not None and gate.context_only_score < engine.threshold and not any(
            w in c.lower() for w in gate.context for c in context
        ):
            passed &= np.array([may_hold_context(v, gate.context, True) for v in values], dtype=bool)
        out[passed] |= 1 << bit
    return out


@pytest.fixture(scope="module")
def engine():
    return build_engine()


def _values(rows: int = 3000):
    from pii_corpus import corpus as make_corpus  # type: ignore[import-not-found]  # bench/, on sys.path
    from pii_scan import make_table  # type: ignore[import-not-found]

    table = make_table(rows, 11)
    corpus = [doc.text for doc in make_corpus(30, 150, seed=5)]
    odd = ["Ｍｒ Smith ☎ ０２０ ７９４６ ０９５８", "mrn: ١٢٣٤٥٦", "İstanbul MRN 12345678", "Kelvin \u212a MRN 1234",
           "call 020\u00a07946\u00a00958", "x@y.co", "ſsn 123-45-6789", "Dr. Åsa Öberg"]
    return [*table["notes"].tolist(), *[v for v in table["emergency_contact"] if v], *corpus, *odd]


def test_signatures_equal_a_python_search_of_every_value(engine):
    values = _values()
    for context in (["notes"], ["phone"]):
        assert (signatures(engine, values, context) == _reference(engine, values, context)).all()


def test_values_arrow_cannot_hold_are_searched_in_python(engine):
    values = ["call 212-555-0123 \ud800", "nothing here", "MRN 12345678"]
    assert prefilter.as_arrow(values) is None
    assert (signatures(engine, values, ["notes"]) == _reference(engine, values, ["notes"])).all()


def test_the_remembering_phone_recognizer_returns_presidios_results():
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from pytest_release_audit.scanners.pii.recognizers import PHONE_REGIONS, RememberingPhoneRecognizer

    theirs = PhoneRecognizer(supported_regions=PHONE_REGIONS)
    ours = RememberingPhoneRecognizer(supported_regions=PHONE_REGIONS)
    for text in _values(600) * 2:  # the second round answers from the memo
        a = [(r.start, r.end, r.score, r.entity_type) for r in theirs.analyze(text, ["PHONE_NUMBER"])]
        b = [(r.start, r.end, r.score, r.entity_type) for r in ours.analyze(text, ["PHONE_NUMBER"])]
        assert a == b, text
    assert ours.name == "PhoneRecognizer"  # type: ignore[has-type]  # presidio sets it untyped


@pytest.mark.slow
def test_the_pool_gives_the_serial_answer(engine, monkeypatch):
    values = _values()[:1500]
    monkeypatch.setenv(pool.WORKERS_ENV, "1")
    serial = analyze_values(engine, values, ["notes"])
    monkeypatch.setenv(pool.WORKERS_ENV, "2")
    monkeypatch.setattr(pool, "POOL_MIN_VALUES", 1)
    monkeypatch.setattr(pool, "CHUNK", 97)
    try:
        pooled = analyze_values(engine, values, ["notes"])
        assert pool._POOL, "the pool ran"
    finally:
        pool.shutdown()
    assert pooled == serial
    assert serial[1] > 100 and len(serial[0]) > 50
