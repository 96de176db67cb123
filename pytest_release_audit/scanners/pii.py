# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""PII / PHI scan of tabular data with presidio-analyzer, offline by default.

``build_engine(policy_section)`` builds a presidio ``AnalyzerEngine`` that never touches the network:
a blank spaCy English tokenizer (no model download; its tokens give presidio's context words such
as "phone" or "MRN" near a match), presidio's pattern recognizers (email, phone, US SSN, credit
card, IBAN, IP, and URL / dates unless the policy ignores them), a medical-record-number
recognizer, the policy's own regexes (``pii.patterns``), and, without an NER model, a small
bundled gazetteer of given names that finds ``Firstname Lastname`` pairs and ``Dr. Surname``
titles: reported as "PERSON (gazetteer, not NER)", never as NER coverage. With
``pii.ner_model`` naming an installed spaCy pipeline, that pipeline's NER finds PERSON and
LOCATION instead.

``scan_dataframe(df, name, engine=..., policy_section=...)`` is a full scan: every non-empty value
of every column that can hold an identifier. It stays fast by analysing each distinct value of a
column once, and by sending to presidio only the values that can match at least one recognizer:
each recognizer's own regexes (and for phone numbers, a run of at least four digits) are tried
first, and a value is analysed for exactly the entity types whose gate it passed. A value that
passes no gate cannot produce a presidio result, so nothing is lost.

Findings carry counts, row positions and a *masked* sample (``j***@***.org``): never a raw value.
presidio, spaCy, pandas and numpy are imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import PolicyError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DATA_DIR = Path(__file__).parent / "data"
GAZETTEER_FILE = DATA_DIR / "given_names.txt"
GAZETTEER_LABEL = "PERSON (gazetteer, not NER)"
LANGUAGE = "en"

#: Columns whose *name* says they hold a direct identifier: a finding whenever they hold values.
IDENTIFIER_COLUMNS: dict[str, str] = {
    **dict.fromkeys(
        (
            "name",
            "full_name",
            "fullname",
            "first_name",
            "firstname",
            "last_name",
            "lastname",
            "surname",
            "given_name",
            "family_name",
            "patient_name",
            "patientname",
            "middle_name",
        ),
        "PERSON",
    ),
    **dict.fromkeys(("email", "e_mail", "email_address", "mail", "emailaddress"), "EMAIL_ADDRESS"),
    **dict.fromkeys(
        ("phone", "phone_number", "phonenumber", "telephone", "tel", "mobile", "cell_phone", "fax"),
        "PHONE_NUMBER",
    ),
    **dict.fromkeys(("ssn", "social_security_number", "social_security"), "US_SSN"),
    **dict.fromkeys(("address", "street_address", "home_address", "street", "address_line1"), "ADDRESS"),
    **dict.fromkeys(("dob", "date_of_birth", "birth_date", "birthdate", "birthday"), "DATE_OF_BIRTH"),
    **dict.fromkeys(("mrn", "medical_record_number", "medical_record_no"), "MEDICAL_RECORD_NUMBER"),
    **dict.fromkeys(("zip", "zipcode", "zip_code", "postcode", "postal_code"), "ZIP_CODE"),
}
COLUMN_NAME_ENTITIES = tuple(sorted(set(IDENTIFIER_COLUMNS.values())))

#: Name tokens that mark an integer (or integral float) column as an identifier worth scanning.
ID_NAME_TOKENS = frozenset(
    {
        "id",
        "ids",
        "uid",
        "mrn",
        "ssn",
        "nhs",
        "phone",
        "tel",
        "telephone",
        "mobile",
        "fax",
        "zip",
        "zipcode",
        "postcode",
        "account",
        "acct",
        "card",
        "iban",
        "contact",
        "number",
        "no",
        "num",
        "nr",
        "insurance",
        "member",
        "patientid",
        "subjectid",
        "personid",
        "memberid",
        "record",
    }
)
#: Integers with fewer digits than this cannot hold a phone, SSN, card or record number.
MIN_IDENTIFIER_DIGITS = 6

#: Entity types only an NER model can find (none without ``pii.ner_model``).
NER_ONLY = ("LOCATION", "ORGANIZATION", "NRP")
NER_ENTITIES = ("PERSON", "LOCATION")
MRN_ENTITY = "MEDICAL_RECORD_NUMBER"
PATTERN_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "URL",
    "DATE_TIME",
)

# phonenumbers only reports a number whose national part has at least this many digits in the
# regions presidio checks (tests/test_pii_scanner.py re-derives it from phonenumbers' metadata);
# digits inside a candidate are separated by at most 4 punctuation characters, all of which are
# non-word characters, "x" or the katakana long-vowel mark (also verified there).
PHONE_MIN_DIGITS = 4
PHONE_GATE = r"\d(?:[\W_xXー]{0,4}\d){" + str(PHONE_MIN_DIGITS - 1) + "}"

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)"
# Capitalised name words: Smith, O'Neil, McDonald, DeLuca, Smith-Jones.
_CAPWORD = r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
#: Capitalised words that follow a given name without being a surname ("Mary Hospital").
SURNAME_STOPWORDS = frozenset(
    """
    Hospital Clinic Center Centre Medical Health Healthcare Street Avenue Road Lane Drive Disease Syndrome
    Score Scale Criteria Index Test Trial Study University Institute Foundation Department Unit Ward County
    City State Memorial General Regional Cancer Oncology Care Home House Lab Laboratory Group Inc Ltd
    Company Protocol Stage Grade Type Day Week Month Year Monday Tuesday Wednesday Thursday Friday
    Saturday Sunday January February March April May June July August September October November
    December Therapy Service Services Program Project Pharmaceuticals Pharma Cohort Registry Score
    """.split()
)
PERSON_CONTEXT = [
    "patient",
    "name",
    "mr",
    "mrs",
    "ms",
    "dr",
    "daughter",
    "son",
    "wife",
    "husband",
    "mother",
    "father",
    "contact",
    "family",
    "spouse",
    "caregiver",
    "sister",
    "brother",
    "seen",
]


# --------------------------------------------------------------------------------------------
# Results


#: Flagged strings kept per column and entity for masking them in every output (``masking``).
MAX_FLAGGED_PER_COLUMN = 5_000


@dataclass(frozen=True)
class PiiFinding:
    """One entity type found in one column of one dataset (values masked)."""

    dataset: str
    column: str
    entity_type: str
    rows_affected: int
    masked_sample: str
    row_indices: tuple[int, ...]  # 0-based row positions, first 10
    max_score: float
    detector: str = ""  # "presidio:EmailRecognizer", "gazetteer (not NER)", "column name", ...
    blocking: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "entity_type": self.entity_type,
            "rows_affected": int(self.rows_affected),
            "masked_sample": self.masked_sample,
            "row_indices": [int(i) for i in self.row_indices],
            "max_score": round(float(self.max_score), 4),
            "detector": self.detector,
            "blocking": bool(self.blocking),
        }


@dataclass(frozen=True)
class PiiScanResult:
    """Outcome of ``scan_dataframe`` on one dataset."""

    dataset: str
    rows: int
    findings: tuple[PiiFinding, ...]
    columns_scanned: tuple[str, ...]
    columns_skipped: dict[str, str]  # column -> reason
    allowed: tuple[PiiFinding, ...] = ()  # found, but allowed in that column by policy
    values_scanned: int = 0  # distinct non-empty values examined (all of them)
    values_analyzed: int = 0  # of those, sent to presidio (they passed a recognizer's gate)
    seconds: float = 0.0
    #: raw flagged string -> its mask, for ``masking`` (never written anywhere; not in to_dict)
    flagged: dict[str, str] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def blocking(self) -> tuple[PiiFinding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def flagged_columns(self) -> tuple[str, ...]:
        return tuple(sorted({f.column for f in self.findings}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "rows": int(self.rows),
            "findings": [f.to_dict() for f in self.findings],
            "columns_scanned": list(self.columns_scanned),
            "columns_skipped": dict(self.columns_skipped),
            "allowed": [f.to_dict() for f in self.allowed],
            "values_scanned": int(self.values_scanned),
            "values_analyzed": int(self.values_analyzed),
            "seconds": round(float(self.seconds), 3),
        }


@dataclass(frozen=True)
class _Gate:
    """Entity types of one recognizer and the regexes one of which must match before it can.

    ``required``: per pattern, characters every match of that pattern contains (read from the
    pattern's parse tree), tested with ``in`` before the slower regex search.
    ``context_only_score``: for a recognizer with a fixed score below the threshold (presidio's
    phone recognizer scores 0.4), a result can only reach the threshold through a context word
    (from the column name or a word in the value); such a value must then contain one of
    ``context`` unless the column name already does.
    """

    entities: tuple[str, ...]
    patterns: tuple[Any, ...] | None  # compiled `regex` patterns; None = every value
    required: tuple[frozenset[str], ...] = ()
    context_only_score: float | None = None
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class PiiEngine:
    """An offline presidio analyzer plus what it can and cannot detect."""

    analyzer: Any  # presidio_analyzer.AnalyzerEngine
    description: str
    detectable: tuple[str, ...]
    undetectable: tuple[str, ...]
    ignored: tuple[str, ...]
    threshold: float
    ner_model: str | None = None
    gates: tuple[_Gate, ...] = field(default=(), repr=False)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """Entity type names the analyzer itself can return (content, not column names)."""
        return tuple(sorted({e for g in self.gates for e in g.entities}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.description,
            "detectable": list(self.detectable),
            "undetectable": list(self.undetectable),
            "ignored": list(self.ignored),
            "threshold": float(self.threshold),
        }


# --------------------------------------------------------------------------------------------
# Masking


def mask_value(value: Any, entity_type: str) -> str:
    """A masked rendering of ``value`` that keeps its shape, never the value itself.

    ``john.smith@example.org`` -> ``j***@***.org``; ``212-555-0199`` -> ``***-***-0199``;
    ``John Smith`` -> ``J*** S***``; ``MRN: 00123456`` -> ``MRN: ******56``.
    """
    text = str(value).strip()
    if text.endswith(" 00:00:00"):  # a pandas Timestamp holding a plain date
        text = text[: -len(" 00:00:00")]
    digits = re.sub(r"\D", "", text)
    kind = entity_type.upper()
    if kind == "EMAIL_ADDRESS" and "@" in text:
        local, _, domain = text.rpartition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        masked = f"{local[:1]}***@***." + tld if tld else f"{local[:1]}***@***"
    elif kind == "PHONE_NUMBER":
        masked = "***-***-" + digits[-4:] if len(digits) >= 8 else "***"
    elif kind == "US_SSN":
        masked = "***-**-" + digits[-4:] if len(digits) == 9 else "***-**-****"
    elif kind == "CREDIT_CARD":
        masked = "****-****-****-" + digits[-4:] if len(digits) >= 12 else "****"
    elif kind == "IBAN_CODE":
        compact = re.sub(r"\s", "", text)
        masked = compact[:2].upper() + "**-****-" + compact[-4:] if len(compact) >= 12 else "****"
    elif kind == "IP_ADDRESS":
        masked = text.split(".")[0] + ".***.***.***" if "." in text else text.split(":")[0] + ":****:…"
    elif kind == "PERSON":
        masked = " ".join(w[:1] + "***" for w in text.split()) or "***"
    elif kind == "URL":
        scheme = text.split("://", 1)[0] + "://" if "://" in text else ""
        host = text.split("://", 1)[-1].split("/", 1)[0]
        tld = host.rsplit(".", 1)[-1] if "." in host else ""
        masked = f"{scheme}***.{tld}" if tld else f"{scheme}***"
    elif kind in ("DATE_TIME", "DATE_OF_BIRTH"):
        masked = re.sub(r"\w", "*", text)
    elif kind in (MRN_ENTITY, "ZIP_CODE"):
        # keep the label ("MRN: ") and the last 2 digits, star every other digit
        keep = 2 if len(digits) >= 6 else 0
        seen = 0
        out = []
        for ch in text:
            if ch.isdigit():
                seen += 1
                out.append(ch if seen > len(digits) - keep else "*")
            else:
                out.append(ch)
        masked = "".join(out)
    else:
        masked = text[:1] + "***" if len(text) > 4 else "***"
    # Belt and braces: a masked sample must never contain the raw value.
    if len(text) >= 3 and text in masked:
        return "***"
    return masked


# --------------------------------------------------------------------------------------------
# Engine


def _section_with_defaults(policy_section: Mapping[str, Any] | None) -> dict[str, Any]:
    from pytest_release_audit.policy import SCHEMA

    out: dict[str, Any] = {}
    for key, spec in SCHEMA["pii"].items():
        out[key] = {} if isinstance(spec, dict) else (list(spec[1]) if isinstance(spec[1], list) else spec[1])
    for key, value in (policy_section or {}).items():
        if key not in out:
            raise PolicyError(f"unknown policy key 'pii.{key}' (known keys here: {', '.join(sorted(out))})")
        out[key] = value
    return out


def _normalise_name(name: Any) -> str:
    """``PatientName`` / ``patient-name`` / ``Patient Name`` -> ``patient_name``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _name_tokens(name: Any) -> list[str]:
    return [t for t in _normalise_name(name).split("_") if t]


def _looks_like_id(name: Any) -> bool:
    tokens = _name_tokens(name)
    return any(t in ID_NAME_TOKENS for t in tokens) or _normalise_name(name) in IDENTIFIER_COLUMNS


@functools.lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    lines = GAZETTEER_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _recognizer_classes() -> dict[str, type]:
    """presidio-dependent classes, defined on first use so importing this module stays cheap."""
    import presidio_analyzer

    # keyed on the module object: a re-imported presidio (pytester's in-process runs drop modules
    # between runs) must not be mixed with classes derived from the old one
    return _recognizer_classes_for(id(presidio_analyzer))


@functools.lru_cache(maxsize=2)
def _recognizer_classes_for(_presidio_module_id: int) -> dict[str, type]:
    import regex
    import tldextract
    from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    class OfflineEmailRecognizer(EmailRecognizer):
        """presidio's email recognizer validating domains with tldextract's bundled suffix list.

        The stock ``tldextract.extract`` fetches the public suffix list from the internet on a cold
        cache (DNS + HTTP, then a logged traceback when offline); this extractor never does.
        """

        _extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        def validate_result(self, pattern_text: str) -> bool:  # noqa: D102
            return self._extractor(pattern_text).fqdn != ""

    from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

    class PlaceholderSsnRecognizer(UsSsnRecognizer):
        """presidio's SSN recognizer, except that published sample SSNs (123-45-6789) still count.

        presidio drops them as placeholders; in training data an SSN-shaped placeholder is still a
        column or note that holds SSNs, which an audit must report.
        """

        def invalidate_result(self, pattern_text: str) -> bool:  # noqa: D102
            digits = "".join(c for c in pattern_text if c.isdigit())
            if digits in ("123456789", "987654320", "078051120"):
                return False
            return super().invalidate_result(pattern_text)

    class GazetteerPersonRecognizer(LocalRecognizer):
        """Person names without NER: a bundled list of given names, used conservatively.

        Matches ``Firstname Lastname`` where the first word is a known given name and the second a
        capitalised word that is not a common institution / calendar word, and ``Dr. Surname``
        style titles. Case-sensitive on purpose: ``john smith`` in lower case is not matched.
        """

        PAIR = regex.compile(rf"\b(?=({_CAPWORD})[ \t]+({_CAPWORD})\b)")
        TITLE = regex.compile(rf"\b{_TITLE}\.?[ \t]+({_CAPWORD})\b")
        GATES = (regex.compile(rf"{_CAPWORD}[ \t]+[A-Z]"), regex.compile(rf"\b{_TITLE}\.?[ \t]+[A-Z]"))
        SCORE = 0.6

        def __init__(self, names: frozenset[str]) -> None:
            self.names = names
            super().__init__(supported_entities=["PERSON"], context=PERSON_CONTEXT, name="GazetteerPersonRecognizer")

        def load(self) -> None:  # noqa: D102
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:  # noqa: D102
            spans: list[tuple[int, int]] = []
            for m in self.PAIR.finditer(text):
                # "Mary Jones", also "Mary Ellen" (a second given name is still a name)
                if m.group(1) in self.names and m.group(2) not in SURNAME_STOPWORDS:
                    spans.append((m.start(1), m.end(2)))
            for m in self.TITLE.finditer(text):
                if m.group(1) not in SURNAME_STOPWORDS:
                    spans.append((m.start(), m.end()))
            results = []
            for start, end in sorted(set(spans)):
                results.append(
                    RecognizerResult(
                        entity_type="PERSON",
                        start=start,
                        end=end,
                        score=self.SCORE,
                        analysis_explanation=AnalysisExplanation(
                            recognizer=self.name,
                            original_score=self.SCORE,
                            textual_explanation="given name from the bundled gazetteer, not NER",
                        ),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
            return results

    class TokenizerNlpEngine(SpacyNlpEngine):
        """presidio's spaCy engine on a blank English pipeline: tokens and lower-case lemmas only.

        No model is loaded or downloaded; the tokens let presidio's context enhancer see words
        such as "phone" or "MRN" next to a match, which raises the score of weak patterns.
        """

        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": LANGUAGE, "model_name": "blank:en"}])

        def load(self) -> None:  # noqa: D102
            self.nlp = {LANGUAGE: _blank_pipeline()}

    return {
        "OfflineEmailRecognizer": OfflineEmailRecognizer,
        "GazetteerPersonRecognizer": GazetteerPersonRecognizer,
        "PlaceholderSsnRecognizer": PlaceholderSsnRecognizer,
        "TokenizerNlpEngine": TokenizerNlpEngine,
    }


def _blank_pipeline() -> Any:
    import spacy
    from spacy.language import Language

    name = "release_audit_lower_lemma"
    if not Language.has_factory(name):

        def _lower_lemma(doc: Any) -> Any:
            # spaCy's blank pipeline has no lemmatizer; presidio's context words compare lemmas.
            for token in doc:
                token.lemma_ = token.lower_
            return doc

        Language.component(name, func=_lower_lemma)
    nlp = spacy.blank(LANGUAGE)
    nlp.add_pipe(name)
    # spaCy lists "call" and "name" as stop words, and presidio drops stop words before it looks
    # for context ("call back on (617) 555-0100" would stay at 0.4). This vocab is ours alone.
    for word in ("call", "name"):
        nlp.vocab[word].is_stop = False
    return nlp


def _compile_policy_patterns(patterns: Mapping[str, str]) -> list[tuple[str, str]]:
    import regex

    out = []
    for entity, pattern in patterns.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
            raise PolicyError(
                f"policy key 'pii.patterns.{entity}' must be an UPPER_CASE entity name (e.g. NATIONAL_ID)"
            )
        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            raise PolicyError(
                f"policy key 'pii.patterns.{entity}' is not a valid regex ({exc}): fix the pattern"
            ) from None
        if not pattern or compiled.fullmatch(""):
            raise PolicyError(
                f"policy key 'pii.patterns.{entity}' matches the empty string: make it require characters"
            )
        out.append((entity, pattern))
    return out


def _ner_model_installed(name: str) -> bool:
    import spacy

    return spacy.util.is_package(name) or Path(name).exists()


def build_engine(policy_section: Mapping[str, Any] | None = None) -> PiiEngine:
    """The analyzer for ``policy_section`` (``Policy.section("pii")``; None = defaults).

    Offline unless ``pii.ner_model`` names an installed spaCy pipeline (name or path), which is
    then loaded from disk. Raises ``PolicyError`` for an uninstalled model, a bad regex in
    ``pii.patterns`` or a blocking entity type this engine cannot detect.
    """
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UrlRecognizer,
    )

    section = _section_with_defaults(policy_section)
    classes = _recognizer_classes()
    ignored = tuple(sorted(set(section["ignore_entities"])))
    custom = _compile_policy_patterns(section["patterns"])
    ner_model = section["ner_model"].strip() or None
    if ner_model and not _ner_model_installed(ner_model):
        raise PolicyError(
            f"policy key 'pii.ner_model' names spaCy model {ner_model!r}, which is not installed: "
            f"install it (python -m spacy download {ner_model}, or pip install its wheel), give the path "
            'of a saved pipeline, or set pii.ner_model = "" for the offline pattern engine'
        )

    candidates: list[Any] = [
        classes["OfflineEmailRecognizer"](),
        # presidio's phone context plus words clinical contact fields use
        PhoneRecognizer(context=[*PhoneRecognizer.CONTEXT, "contact", "reach", "tel", "fax"]),
        classes["PlaceholderSsnRecognizer"](),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        DateRecognizer(),
        PatternRecognizer(
            supported_entity=MRN_ENTITY,
            name="MedicalRecordNumberRecognizer",
            patterns=[
                Pattern(
                    "MRN label",
                    r"\bMRN\s*(?:#|no\.?|number)?\s*[:#=-]?\s*[A-Z]{0,3}-?\d{4,12}\b",
                    0.85,
                ),
                Pattern(
                    "medical record label",
                    r"\bmedical[ \t]+record(?:[ \t]+(?:number|no\.?|#))?\s*[:#=-]?\s*[A-Z]{0,3}-?\d{4,12}\b",
                    0.85,
                ),
            ],
            context=["mrn", "medical", "record", "chart", "patient"],
        ),
    ]
    for entity, pattern in custom:
        candidates.append(
            PatternRecognizer(
                supported_entity=entity,
                name=f"PolicyPattern_{entity}",
                patterns=[Pattern(f"policy pattern {entity}", pattern, 1.0)],
            )
        )
    if ner_model:
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        labels_to_ignore = [
            "ORGANIZATION",
            "NRP",
            "DATE_TIME",
            "ORG",
            "NORP",
            "DATE",
            "TIME",
            "CARDINAL",
            "ORDINAL",
            "QUANTITY",
            "MONEY",
            "PERCENT",
            "LANGUAGE",
            "FAC",
            "PRODUCT",
            "EVENT",
            "WORK_OF_ART",
            "LAW",
            "MISC",
        ]
        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": LANGUAGE, "model_name": ner_model}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=labels_to_ignore),
        )
        candidates.append(SpacyRecognizer(supported_language=LANGUAGE, supported_entities=list(NER_ENTITIES)))
    else:
        nlp_engine = classes["TokenizerNlpEngine"]()
        candidates.append(classes["GazetteerPersonRecognizer"](_given_names()))

    recognizers = [r for r in candidates if not set(r.supported_entities) <= set(ignored)]
    try:
        nlp_engine.load()
    except (OSError, ValueError) as exc:
        raise PolicyError(
            f"policy key 'pii.ner_model': spaCy pipeline {ner_model!r} cannot be loaded "
            f"({exc.__class__.__name__}): point it at an installed model or a saved pipeline directory"
        ) from None
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])

    gates = tuple(_gate_for(r, classes) for r in recognizers)
    content = sorted({e for g in gates for e in g.entities})
    detectable = [GAZETTEER_LABEL if (e == "PERSON" and not ner_model) else e for e in content]
    if ner_model:
        detectable = [f"{e} (NER: {ner_model})" if e in NER_ENTITIES else e for e in detectable]
    detectable += [f"{e} (column name)" for e in COLUMN_NAME_ENTITIES]
    undetectable = [f"{e} (needs an NER model)" for e in NER_ONLY if not (ner_model and e in NER_ENTITIES)]
    if not ner_model:
        undetectable = ["PERSON (NER: names outside the gazetteer)", "LOCATION (needs an NER model)"] + [
            u for u in undetectable if not u.startswith("LOCATION")
        ]
        undetectable.append("DATE_TIME (free-text dates, needs an NER model)")
    undetectable.append("ADDRESS / ZIP_CODE in free text (only identifier-named columns)")

    blocking = set(section["entities"])
    known = set(PATTERN_ENTITIES) | {
        MRN_ENTITY,
        "PERSON",
        *NER_ONLY,
        *COLUMN_NAME_ENTITIES,
        *(e for e, _ in custom),
    }
    for entity in sorted(blocking):
        if entity not in known:
            raise PolicyError(
                f"policy key 'pii.entities' lists unknown entity type {entity!r}: use one of "
                f"{', '.join(sorted(known))} or add a regex for it under pii.patterns"
            )
        if entity in ignored:
            raise PolicyError(
                f"policy key 'pii.entities' lists {entity}, which pii.ignore_entities also lists: remove it from one"
            )
        if entity not in content and entity not in COLUMN_NAME_ENTITIES:
            raise PolicyError(
                f"policy key 'pii.entities' lists {entity}, which the offline engine cannot detect: "
                "set pii.ner_model to an installed spaCy NER pipeline"
            )

    from importlib.metadata import version

    if ner_model:
        description = (
            f"presidio-analyzer {version('presidio-analyzer')}, spaCy NER pipeline {ner_model!r} + pattern recognizers"
        )
    else:
        description = (
            f"presidio-analyzer {version('presidio-analyzer')}, offline: blank spaCy 'en' tokenizer (no NER model), "
            "pattern recognizers + MRN + name gazetteer"
        )
    return PiiEngine(
        analyzer=analyzer,
        description=description,
        detectable=tuple(detectable),
        undetectable=tuple(undetectable),
        ignored=ignored,
        threshold=float(section["threshold"]),
        ner_model=ner_model,
        gates=gates,
    )


def _gate_for(recognizer: Any, classes: Mapping[str, type]) -> _Gate:
    """The regexes one of which must match a value before ``recognizer`` can report anything."""
    import regex
    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    entities = tuple(recognizer.supported_entities)
    if isinstance(recognizer, PatternRecognizer) and recognizer.patterns:
        # exactly the regexes and flags presidio's PatternRecognizer searches with
        flags = recognizer.global_regex_flags
        return _Gate(
            entities,
            tuple(regex.compile(p.regex, flags=flags) for p in recognizer.patterns),
            required=tuple(required_chars(p.regex, flags or 0) for p in recognizer.patterns),
        )
    if isinstance(recognizer, PhoneRecognizer):
        return _Gate(
            entities,
            (regex.compile(PHONE_GATE),),
            context_only_score=float(recognizer.SCORE),
            context=tuple(w.lower() for w in recognizer.context),
        )
    if isinstance(recognizer, classes["GazetteerPersonRecognizer"]):
        return _Gate(entities, recognizer.GATES)
    return _Gate(entities, None)  # NER and anything else: analyse every value


def required_chars(pattern: str, flags: int = 0) -> frozenset[str]:
    """Non-letter characters that every match of ``pattern`` contains (``@`` for an email regex).

    Read from the parse tree of Python's ``re`` (presidio's patterns are ``re``-compatible);
    a pattern ``re`` cannot parse gets no shortcut (empty set). Letters are left out: under
    IGNORECASE, Unicode case folding makes ``in`` an unsafe test for them.
    """
    try:
        from re import _constants as c
        from re import _parser as parser

        tree = parser.parse(pattern, flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE))
    except (ImportError, re.error, TypeError, ValueError, OverflowError, RecursionError):
        return frozenset()

    def need(seq: Any) -> set[str]:
        out: set[str] = set()
        for op, av in seq:
            if op is c.LITERAL:
                out.add(chr(av))
            elif op is c.SUBPATTERN:
                out |= need(av[-1])
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                if av[0] >= 1:
                    out |= need(av[2])
            elif op is c.BRANCH:
                branches = [need(b) for b in av[1]]
                out |= set.intersection(*branches) if branches else set()
            elif op is getattr(c, "ATOMIC_GROUP", None):
                out |= need(av)
            elif op is c.IN and len(av) == 1 and av[0][0] is c.LITERAL:
                out.add(chr(av[0][1]))
            # assertions, anchors, classes, ANY: require nothing for sure
        return out

    return frozenset(ch for ch in need(tree) if not ch.isalpha())


# --------------------------------------------------------------------------------------------
# Scan


_LETTER = re.compile(r"[^\W\d_]")


def _may_hold_context(value: str, words: Sequence[str], lemmas_are_lowercase: bool) -> bool:
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


@dataclass
class _Hit:
    entity: str
    start: int
    end: int
    score: float
    detector: str


def _drop_contained(results: list[Any]) -> list[Any]:
    """Drop a result inside a longer span of another type (the URL inside every email address)."""
    keep = []
    for r in results:
        inside = any(
            o is not r
            and o.entity_type != r.entity_type
            and o.start <= r.start
            and r.end <= o.end
            and ((o.end - o.start) > (r.end - r.start) or o.score > r.score)
            for o in results
        )
        if not inside:
            keep.append(r)
    return keep


def _analyze_values(engine: PiiEngine, values: Sequence[str], context: list[str]) -> tuple[dict[int, list[_Hit]], int]:
    """Analyse distinct ``values``; returns {index: hits} for flagged ones and how many were analysed."""
    import numpy as np
    import pandas as pd
    from presidio_analyzer import BatchAnalyzerEngine

    n = len(values)
    if n == 0:
        return {}, 0
    signature = np.zeros(n, dtype=np.int64)
    series = pd.Series(values, dtype=object)
    has_char: dict[str, Any] = {}  # character -> which values contain it (shared by all gates)
    for bit, gate in enumerate(engine.gates):
        if gate.patterns is None:
            signature |= np.int64(1 << bit)
            continue
        passed = np.zeros(n, dtype=bool)
        for k, pattern in enumerate(gate.patterns):
            open_ = ~passed
            for ch in gate.required[k] if k < len(gate.required) else ():
                if ch not in has_char:
                    has_char[ch] = series.str.contains(ch, regex=False).to_numpy(dtype=bool)
                open_ &= has_char[ch]
            todo = np.flatnonzero(open_)
            if not len(todo):
                continue
            search = pattern.search
            passed[todo] = np.fromiter((search(values[i]) is not None for i in todo), dtype=bool, count=len(todo))
        if gate.context_only_score is not None and gate.context_only_score < engine.threshold:
            if not any(w in c.lower() for w in gate.context for c in context):
                # The score can only rise through a context word among the value's own words.
                todo = np.flatnonzero(passed)
                passed[todo] = np.fromiter(
                    (_may_hold_context(values[i], gate.context, engine.ner_model is None) for i in todo),
                    dtype=bool,
                    count=len(todo),
                )
        signature[passed] |= np.int64(1 << bit)

    batch = BatchAnalyzerEngine(analyzer_engine=engine.analyzer)
    hits: dict[int, list[_Hit]] = {}
    analysed = 0
    for sig in np.unique(signature):
        if sig == 0:
            continue  # no recognizer's regex matches: presidio cannot report anything here
        entities = sorted({e for bit, g in enumerate(engine.gates) if sig & (1 << bit) for e in g.entities})
        idx = np.flatnonzero(signature == sig)
        texts = [values[i] for i in idx]
        analysed += len(texts)
        results = batch.analyze_iterator(
            texts,
            language=LANGUAGE,
            batch_size=256,
            entities=entities,
            context=context,
            score_threshold=engine.threshold,
        )
        for i, found in zip(idx, results, strict=True):
            found = [r for r in found if r.score >= engine.threshold]
            if not found:
                continue
            hits[int(i)] = [
                _Hit(
                    entity=r.entity_type,
                    start=r.start,
                    end=r.end,
                    score=float(r.score),
                    detector=_detector(r, engine),
                )
                for r in _drop_contained(found)
            ]
    return hits, analysed


def _detector(result: Any, engine: PiiEngine) -> str:
    name = (result.recognition_metadata or {}).get("recognizer_name", "")
    if name == "GazetteerPersonRecognizer":
        return "gazetteer (not NER)"
    if name == "SpacyRecognizer":
        return f"NER ({engine.ner_model})"
    return f"presidio:{name}" if name else "presidio"


#: A decimal number with a fractional part (one point, optional sign and exponent).
_DECIMAL_TEXT = r"[+-]?(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?"


def _column_strings(series: pd.Series, name: str, engine: PiiEngine) -> tuple[Any, str | None]:
    """Values of one column as strings (object array, None where empty), or None and a skip reason."""
    import numpy as np
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
        as_float = series.to_numpy(dtype=float, na_value=np.nan)
        valid = np.isfinite(as_float)
        if pd.api.types.is_float_dtype(dtype) and not (np.mod(as_float[valid], 1) == 0).all():
            return None, "non-integral floats cannot encode an identifier"
        big = bool(valid.any()) and float(np.abs(as_float[valid]).max()) >= 10 ** (MIN_IDENTIFIER_DIGITS - 1)
        if not valid.any() or not (_looks_like_id(name) or big):
            return None, f"numbers below {10 ** (MIN_IDENTIFIER_DIGITS - 1)}, name not identifier-like"
        out = np.full(len(series), None, dtype=object)
        kept = series[valid]
        if pd.api.types.is_float_dtype(dtype):  # integral floats (an int column with gaps): print as ints
            kept = kept.map(lambda v: str(int(v)))
        out[np.flatnonzero(valid)] = kept.astype(str).to_numpy(dtype=object)
        return out, None
    # object, string, category: everything as text, except decimal numbers written as text (a
    # numeric column with one bad cell is read as text): "-0.4563456345634563" is not a card number.
    notna = series.notna().to_numpy()
    out = np.full(len(series), None, dtype=object)
    text = series[notna].astype(str).str.strip()
    text = text.where(~text.str.fullmatch(_DECIMAL_TEXT), "")
    out[np.flatnonzero(notna)] = text.where(text != "", None).to_numpy(dtype=object)
    return out, None


def scan_dataframe(
    df: pd.DataFrame,
    dataset_name: str,
    *,
    engine: PiiEngine,
    policy_section: Mapping[str, Any] | None = None,
) -> PiiScanResult:
    """Scan every value of every column of ``df`` that can hold an identifier.

    ``policy_section`` is ``Policy.section("pii")``: ``skip_columns`` ({column: reason}),
    ``allow`` ({column: [entity types allowed there]}), ``entities`` (types that block; [] = all).
    Findings are sorted blocking first, then by rows affected.
    """
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    section = _section_with_defaults(policy_section)
    skip: dict[str, str] = section["skip_columns"]
    allow: dict[str, list[str]] = section["allow"]
    blocking_types = set(section["entities"])
    ignored = set(engine.ignored)

    findings: list[PiiFinding] = []
    allowed: list[PiiFinding] = []
    scanned: list[str] = []
    skipped: dict[str, str] = {}
    values_scanned = 0
    values_analyzed = 0
    flagged: dict[str, str] = {}

    for col in df.columns:
        name = str(col)
        if name in skip:
            skipped[name] = f"policy: {skip[name] or 'skip_columns'}"
            continue
        series = df[col]
        if isinstance(series, pd.DataFrame):  # duplicated column label: scan each copy by position
            series = series.iloc[:, 0]
        per_entity: dict[str, dict[str, Any]] = {}

        by_name = IDENTIFIER_COLUMNS.get(_normalise_name(name))
        if by_name and by_name not in ignored:
            present = series.notna().to_numpy()
            if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
                present &= series.astype(str).str.strip().ne("").to_numpy()
            positions = np.flatnonzero(present)
            if len(positions):
                first = series.iloc[int(positions[0])]
                per_entity[by_name] = {
                    "mask": present,
                    "score": 1.0,
                    "sample": mask_value(first, by_name),
                    "detectors": ["column name"],
                    "raw": {str(v): mask_value(v, by_name)
                            for v in pd.unique(series.iloc[positions].astype(str))[:MAX_FLAGGED_PER_COLUMN]},
                }

        strings, reason = _column_strings(series, name, engine)
        if strings is None:
            skipped[name] = reason or "not scannable"
        else:
            scanned.append(name)
            present = np.array([v is not None for v in strings], dtype=bool)
            uniques = pd.unique(strings[present]) if present.any() else np.array([], dtype=object)
            values_scanned += len(uniques)
            context = [name, *_name_tokens(name)]
            hits, analysed = _analyze_values(engine, list(uniques), context)
            values_analyzed += analysed
            flagged_by_entity: dict[str, dict[str, Any]] = {}
            for i, value_hits in hits.items():
                for hit in value_hits:
                    slot = flagged_by_entity.setdefault(hit.entity, {"values": {}, "score": 0.0, "detectors": set()})
                    slot["values"].setdefault(uniques[i], hit)
                    slot["score"] = max(slot["score"], hit.score)
                    slot["detectors"].add(hit.detector)
            for entity, slot in flagged_by_entity.items():
                mask = pd.Series(strings, dtype=object).isin(list(slot["values"])).to_numpy()
                first_pos = int(np.flatnonzero(mask)[0])
                value = strings[first_pos]
                hit = slot["values"][value]
                sample = mask_value(value[hit.start : hit.end], entity)
                raw = {}
                for flagged_value, flagged_hit in list(slot["values"].items())[:MAX_FLAGGED_PER_COLUMN]:
                    text = str(flagged_value)[flagged_hit.start : flagged_hit.end]
                    raw[text] = mask_value(text, entity)
                if entity in per_entity:
                    merged = per_entity[entity]
                    merged["mask"] = merged["mask"] | mask
                    merged["score"] = max(merged["score"], slot["score"])
                    merged["detectors"] = merged["detectors"] + sorted(slot["detectors"])
                    merged["sample"] = sample
                    merged["raw"] = {**merged.get("raw", {}), **raw}
                else:
                    per_entity[entity] = {
                        "mask": mask,
                        "score": slot["score"],
                        "sample": sample,
                        "detectors": sorted(slot["detectors"]),
                        "raw": raw,
                    }

        allowed_here = set(allow.get(name, ()))
        for entity, info in per_entity.items():
            positions = np.flatnonzero(info["mask"])
            finding = PiiFinding(
                dataset=dataset_name,
                column=name,
                entity_type=entity,
                rows_affected=int(len(positions)),
                masked_sample=info["sample"],
                row_indices=tuple(int(p) for p in positions[:10]),
                max_score=float(info["score"]),
                detector=" + ".join(info["detectors"]),
                blocking=not blocking_types or entity in blocking_types,
            )
            if entity in allowed_here:
                allowed.append(dataclasses.replace(finding, blocking=False))
            else:
                findings.append(finding)
                flagged.update(info.get("raw") or {})

    findings.sort(key=lambda f: (not f.blocking, -f.rows_affected, f.column, f.entity_type))
    return PiiScanResult(
        dataset=dataset_name,
        rows=int(len(df)),
        findings=tuple(findings),
        columns_scanned=tuple(scanned),
        columns_skipped=skipped,
        allowed=tuple(allowed),
        values_scanned=int(values_scanned),
        values_analyzed=int(values_analyzed),
        seconds=time.perf_counter() - started,
        flagged=flagged,
    )


#: What names, descriptions and tags are scanned for: patterns that leave no doubt. Person names
#: and places in prose are left to NER in the data (a gazetteer would flag "Cox" in "Cox model").
METADATA_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")


def scan_metadata(items: Sequence[tuple[str, str]], engine: PiiEngine,
                  data_flagged: Mapping[str, str] | None = None) -> tuple[list[PiiFinding], dict[str, str]]:
    """Scan names and prose around the data: ``items`` are (where, text), e.g. ("column name of train", ...).

    Returns blocking findings (``dataset`` "metadata", ``column`` the *where* label, never the raw
    text) and raw -> masked for every flagged string. A text that contains a value the data scan
    flagged (``data_flagged``) is a finding too: a patient's name used as a column or subgroup label.
    """
    texts = sorted({t for _, t in items if isinstance(t, str) and t.strip()})
    ignored = set(engine.ignored)
    wanted = {e for e in METADATA_ENTITIES if e not in ignored}
    hits, _ = _analyze_values(engine, texts, []) if texts and wanted else ({}, 0)
    found: dict[str, list[tuple[str, str]]] = {}  # text -> [(entity, raw)]
    for i, value_hits in hits.items():
        for hit in value_hits:
            if hit.entity in wanted:
                found.setdefault(texts[i], []).append((hit.entity, texts[i][hit.start:hit.end]))
    for raw, _masked in (data_flagged or {}).items():
        for text in texts:
            if raw in text and len(raw) >= 3:
                found.setdefault(text, []).append(("VALUE_FLAGGED_IN_DATA", raw))
    flagged: dict[str, str] = {}
    findings: list[PiiFinding] = []
    seen: set[tuple[str, str]] = set()
    for where, text in items:
        for entity, raw in found.get(text, []):
            masked = (data_flagged or {}).get(raw) if entity == "VALUE_FLAGGED_IN_DATA" else None
            masked = masked or mask_value(raw, entity)
            flagged[raw] = masked
            if (where, entity) in seen:
                continue
            seen.add((where, entity))
            findings.append(PiiFinding(dataset="metadata", column=where, entity_type=entity, rows_affected=1,
                                       masked_sample=masked, row_indices=(), max_score=1.0,
                                       detector="metadata scan"))
    return findings, flagged


def rows_text(n: int) -> str:
    """``1 row`` / ``14 rows``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def masked_summary(findings: Iterable[PiiFinding]) -> str:
    """``notes: EMAIL_ADDRESS 14 rows, PERSON 3 rows; contact: PHONE_NUMBER 2 rows`` (no values)."""
    by_column: dict[str, list[str]] = {}
    for f in findings:
        by_column.setdefault(f"{f.dataset}:{f.column}", []).append(f"{f.entity_type} {rows_text(f.rows_affected)}")
    return "; ".join(f"{col}: {', '.join(items)}" for col, items in by_column.items())
