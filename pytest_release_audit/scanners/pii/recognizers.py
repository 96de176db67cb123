# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The recognizers and the offline NLP engine the PII analyzer is built from.

This module imports presidio, spaCy, ``regex`` and tldextract, so it is imported only when an
engine is built (``engine.build_engine``), never by ``import pytest_release_audit``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import phonenumbers
import regex
import spacy
import tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)
from spacy.language import Language

from pytest_release_audit.scanners.pii.entities import LANGUAGE, MRN_ENTITY, NER_ENTITIES
from pytest_release_audit.scanners.pii.names import CAPWORD, PERSON_CONTEXT, SURNAME_STOPWORDS, TITLES

#: Published sample SSNs, which presidio drops as placeholders.
SAMPLE_SSNS = frozenset({"123456789", "987654320", "078051120"})
#: spaCy NER labels not reported (PERSON, GPE / LOC / FAC and NORP are).
NER_LABELS_IGNORED = (
    "ORGANIZATION ORG DATE TIME DATE_TIME CARDINAL ORDINAL QUANTITY MONEY PERCENT LANGUAGE "
    "PRODUCT EVENT WORK_OF_ART LAW MISC"
).split()
_LOWER_LEMMA = "release_audit_lower_lemma"
#: Regions whose national phone formats are recognised: presidio's defaults plus the European ones
#: our users' notes come from (measured by bench/pii_accuracy.py).
#: Candidates remembered per phone recognizer before the memo starts again.
PHONE_MEMO_SIZE = 200_000
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "ES", "PL", "IE", "IT", "NL")
#: Clinical abbreviations a small NER pipeline reads as names ("ER+", "Chart MRN").
CLINICAL_TOKENS = frozenset(
    "MRN ECOG ER PR HER2 CT MRI MDT GP ED BP HR NEWS PRN QDS BD OD IV PO SPO2 DOB HB ICU ENT ITU"
    " FOLFOX FEC TAC AC EC".split()
)


class _RememberingMatcher(phonenumbers.PhoneNumberMatcher):
    """phonenumbers' matcher, remembering what parsing and verifying one candidate gave.

    ``_parse_and_verify(candidate, offset)`` reads nothing of the text but the candidate, whether
    it starts the text, the character before it (unless it opens with phone punctuation), the
    character after it, the region and the leniency (phonenumbermatcher.py, version pinned by
    presidio); notes repeat the same candidates ("12.3", "250", a date) across thousands of values.
    Control flow, tries and offsets stay phonenumbers' own.
    """

    def __init__(self, text: str, region: str, leniency: Any, memo: dict[Any, Any]) -> None:
        super().__init__(text, region, leniency=leniency)
        self._memo = memo

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        before = self.text[offset - 1] if offset > 0 else None
        end = offset + len(candidate)
        after = self.text[end] if end < len(self.text) else None
        key = (candidate, before, after, self.preferred_region, self.leniency)
        if key in self._memo:
            numobj = self._memo[key]
            return None if numobj is None else phonenumbers.PhoneNumberMatch(offset, candidate, copy.copy(numobj))
        match = super()._parse_and_verify(candidate, offset)
        if len(self._memo) >= PHONE_MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = None if match is None else copy.copy(match.number)
        return match


class RememberingPhoneRecognizer(PhoneRecognizer):
    """presidio's ``PhoneRecognizer``, its ``analyze`` line for line, on ``_RememberingMatcher``.

    Same results (``tests/test_pii_scanner.py`` compares both on the accuracy corpus and on notes),
    same name in findings.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(name="PhoneRecognizer", **kwargs)
        self._memo: dict[Any, Any] = {}

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results = []
        for region in self.supported_regions:
            for match in _RememberingMatcher(text, region, self.leniency, self._memo):
                try:
                    parsed_number = phonenumbers.parse(text[match.start : match.end])
                    region = phonenumbers.region_code_for_number(parsed_number)
                    results += [self._get_recognizer_result(match, text, region, nlp_artifacts)]
                except phonenumbers.NumberParseException:
                    results += [self._get_recognizer_result(match, text, region, nlp_artifacts)]
        return list(EntityRecognizer.remove_duplicates(results))


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's email recognizer validating domains with tldextract's bundled suffix list.

    The stock ``tldextract.extract`` fetches the public suffix list from the internet on a cold
    cache (DNS + HTTP, then a logged traceback when offline); this extractor never does.
    """

    def __init__(self) -> None:
        self._extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        super().__init__()

    def validate_result(self, pattern_text: str) -> bool:  # noqa: D102
        return bool(self._extractor(pattern_text).fqdn != "")


class PlaceholderSsnRecognizer(UsSsnRecognizer):
    """presidio's SSN recognizer, except that published sample SSNs (123-45-6789) still count.

    In training data an SSN-shaped placeholder is still a column or note that holds SSNs, which
    an audit must report.
    """

    def invalidate_result(self, pattern_text: str) -> bool:  # noqa: D102
        if "".join(c for c in pattern_text if c.isdigit()) in SAMPLE_SSNS:
            return False
        return bool(super().invalidate_result(pattern_text))


class GazetteerPersonRecognizer(LocalRecognizer):
    """Person names without NER: a bundled list of given names, used conservatively.

    Matches ``Firstname Lastname`` where the first word is a known given name and the second a
    capitalised word that is not a common institution / calendar word, and ``Dr. Surname``
    style titles. Case-sensitive on purpose: ``john smith`` in lower case is not matched.
    """

    PAIR = regex.compile(rf"\b(?=({CAPWORD})[ \t]+({CAPWORD})\b)")
    TITLE = regex.compile(rf"\b{TITLES}\.?[ \t]+({CAPWORD})\b")
    #: One of these matches every text in which ``analyze`` can find a name.
    GATES = (regex.compile(rf"{CAPWORD}[ \t]+[A-Z]"), regex.compile(rf"\b{TITLES}\.?[ \t]+[A-Z]"))
    SCORE = 0.6
    NAME = "GazetteerPersonRecognizer"

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        super().__init__(supported_entities=["PERSON"], context=PERSON_CONTEXT, name=self.NAME)

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:  # noqa: D102
        return [self._result(start, end) for start, end in sorted(set(self._spans(text)))]

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for m in self.PAIR.finditer(text):
            # "Mary Jones", also "Mary Ellen" (a second given name is still a name)
            if m.group(1) in self.names and m.group(2) not in SURNAME_STOPWORDS:
                spans.append((m.start(1), m.end(2)))
        for m in self.TITLE.finditer(text):
            if m.group(1) not in SURNAME_STOPWORDS:
                spans.append((m.start(), m.end()))
        return spans

    def _result(self, start: int, end: int) -> Any:
        return RecognizerResult(
            entity_type="PERSON",
            start=start,
            end=end,
            score=self.SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.NAME,
                original_score=self.SCORE,
                textual_explanation="given name from the bundled gazetteer, not NER",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


class TokenizerNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine on a blank English pipeline: tokens and lower-case lemmas only.

    No model is loaded or downloaded; the tokens let presidio's context enhancer see words
    such as "phone" or "MRN" next to a match, which raises the score of weak patterns.
    """

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": "blank:en"}])

    def load(self) -> None:  # noqa: D102
        self.nlp = {LANGUAGE: blank_pipeline()}  # type: ignore[assignment]  # presidio declares it None


def _lower_lemma(doc: Any) -> Any:
    """spaCy's blank pipeline has no lemmatizer; presidio's context words compare lemmas."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def blank_pipeline() -> Any:
    """A blank English spaCy pipeline whose lemmas are the lower-cased tokens."""
    if not Language.has_factory(_LOWER_LEMMA):
        Language.component(_LOWER_LEMMA, func=_lower_lemma)
    nlp = spacy.blank(LANGUAGE)
    nlp.add_pipe(_LOWER_LEMMA)
    # spaCy lists "call" and "name" as stop words, and presidio drops stop words before it looks
    # for context ("call back on (617) 555-0100" would stay at 0.4). This vocab is ours alone.
    for word in ("call", "name"):
        nlp.vocab[word].is_stop = False
    return nlp


def mrn_recognizer() -> Any:
    """Medical record numbers written with their label ("MRN: 00123456")."""
    tail = r"\s*[:#=-]?\s*[A-Z]{0,3}-?\d{4,12}\b"
    return PatternRecognizer(
        supported_entity=MRN_ENTITY,
        name="MedicalRecordNumberRecognizer",
        patterns=[
            Pattern("MRN label", r"\bMRN\s*(?:#|no\.?|number)?" + tail, 0.85),
            Pattern("medical record label", r"\bmedical[ \t]+record(?:[ \t]+(?:number|no\.?|#))?" + tail, 0.85),
        ],
        context=["mrn", "medical", "record", "chart", "patient"],
    )


def pattern_recognizers() -> list[Any]:
    """presidio's pattern recognizers (two made offline-safe / placeholder-aware) and the MRN one."""
    return [
        OfflineEmailRecognizer(),
        # presidio's phone context plus words clinical contact fields use
        RememberingPhoneRecognizer(context=[*PhoneRecognizer.CONTEXT, "contact", "reach", "tel", "fax"],
                                   supported_regions=PHONE_REGIONS),
        PlaceholderSsnRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        DateRecognizer(),
        mrn_recognizer(),
    ]


def policy_recognizer(entity: str, pattern: str) -> Any:
    """A recognizer for one of the policy's ``pii.patterns`` (score 1.0)."""
    return PatternRecognizer(
        supported_entity=entity,
        name=f"PolicyPattern_{entity}",
        patterns=[Pattern(f"policy pattern {entity}", pattern, 1.0)],
    )


class NerRecognizer(SpacyRecognizer):
    """presidio's spaCy recognizer without the spans a small pipeline gets wrong in clinical notes.

    A PERSON span with a digit or a sign in it ("cycle 138", "ER+") or a clinical abbreviation
    ("Chart MRN") is not a name; one word opening a sentence ("Tumour grade 2") is a capitalised
    common word more often than a name or place; a span without two letters is nothing. Measured by
    ``bench/pii_accuracy.py`` (precision on PII-free notes).
    """

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:  # noqa: D102
        results = super().analyze(text, entities, nlp_artifacts)
        kept = []
        for result in results:
            span = text[result.start:result.end]
            if sum(ch.isalpha() for ch in span) < 2:
                continue
            if result.entity_type == "PERSON" and not _name_like(span):
                continue
            if len(span.split()) == 1 and _starts_sentence(text, result.start):
                continue  # "Tumour grade 2": a capitalised common word opening a sentence
            kept.append(result)
        return kept


def _starts_sentence(text: str, start: int) -> bool:
    """Whether ``start`` opens the text or a sentence (only spaces after ., !, ?, ;, : or a newline)."""
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in ".!?;:\n"


def _name_like(span: str) -> bool:
    """A span a name can be: letters, spaces, hyphens, apostrophes, periods; no clinical abbreviation."""
    if any(not (ch.isalpha() or ch in " -'’.") for ch in span):
        return False
    return not any(word.strip(".-'’").upper() in CLINICAL_TOKENS for word in span.split())


def ner_engine(model: str, entities: tuple[str, ...] = NER_ENTITIES) -> tuple[Any, Any]:
    """The NLP engine running spaCy pipeline ``model`` and the recognizer reading its ``entities``."""
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": model}],
        ner_model_configuration=NerModelConfiguration(
            labels_to_ignore=NER_LABELS_IGNORED,
            # FAC: streets and buildings ("Baker Street"), the part of an address GPE misses
            model_to_presidio_entity_mapping={**(NerModelConfiguration().model_to_presidio_entity_mapping or {}),
                                              "FAC": "LOCATION"},
        ),
    )
    return nlp_engine, NerRecognizer(supported_language=LANGUAGE, supported_entities=list(entities))


def gazetteer_engine(names: frozenset[str]) -> tuple[Any, Any]:
    """The offline NLP engine (tokenizer only) and the gazetteer person recognizer."""
    return TokenizerNlpEngine(), GazetteerPersonRecognizer(names)


def ner_model_installed(name: str) -> bool:
    """Whether ``name`` is an installed spaCy pipeline package or a path that exists."""
    return bool(spacy.util.is_package(name)) or Path(name).exists()
