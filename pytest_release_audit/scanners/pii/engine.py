# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The PII engine: an offline presidio analyzer for one policy, and what it can and cannot detect.

``build_engine(policy_section)`` never touches the network: a blank spaCy English tokenizer (no
model download; its tokens give presidio's context words such as "phone" or "MRN" near a match),
presidio's pattern recognizers (email, phone, US SSN, credit card, IBAN, IP, and URL / dates
unless the policy ignores them), a medical-record-number recognizer, the policy's own regexes
(``pii.patterns``), and, without an NER model, a small bundled gazetteer of given names that
finds ``Firstname Lastname`` pairs and ``Dr. Surname`` titles: reported as "PERSON (gazetteer,
not NER)", never as NER coverage.

With a spaCy pipeline (``pii.ner_model`` naming one, or by default the first official English
pipeline installed), a second analyzer runs that pipeline's NER for PERSON, LOCATION, NRP and
DATE_TIME on top of the same recognizers (the gazetteer stays as an extra recognizer). The scan
sends it only free-text columns (``columns.is_free_text``): identifier, code and categorical
columns keep the first analyzer, so a synthetic id such as ``H00042`` is never read by NER.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.report.text import one_line
from pytest_release_audit.scanners.pii.entities import (
    GAZETTEER_LABEL,
    INSTALL_NER,
    LANGUAGE,
    MRN_ENTITY,
    NER_ENTITIES,
    NER_ONLY,
    OFFICIAL_PIPELINES,
    PATTERN_ENTITIES,
)
from pytest_release_audit.scanners.pii.gates import Gate, gate_for
from pytest_release_audit.scanners.pii.names import COLUMN_NAME_ENTITIES, given_names


@dataclass(frozen=True)
class PiiEngine:
    """An offline presidio analyzer plus what it can and cannot detect.

    ``analyzer`` (tokenizer only) reads every column; ``ner_analyzer`` (the spaCy pipeline
    ``ner_model``, None without one) reads free-text columns instead, with ``ner_gates``.
    """

    analyzer: Any  # presidio_analyzer.AnalyzerEngine
    description: str
    detectable: tuple[str, ...]
    undetectable: tuple[str, ...]
    ignored: tuple[str, ...]
    threshold: float
    ner_model: str | None = None
    gates: tuple[Gate, ...] = field(default=(), repr=False)
    ner_analyzer: Any = field(default=None, repr=False)
    ner_gates: tuple[Gate, ...] = field(default=(), repr=False)
    ner_version: str = ""  # the pipeline's own version (meta.json)
    ner_choice: str = ""  # how the pipeline was chosen ("policy pii.ner_model", "auto-detected")
    short: str = "patterns + name list"  # the engine in a few words, for titles and summaries
    section: Mapping[str, Any] | None = field(default=None, repr=False)  # what it was built from (for workers)
    #: Values already analysed, per (column context, NER): ``scan.py`` reads a value shared by two
    #: datasets (a raw table and its splits) once. Only this engine's answers, for equal strings.
    seen: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """Entity type names the analyzer itself can return (content, not column names)."""
        return tuple(sorted({e for g in (*self.gates, *self.ner_gates) for e in g.entities}))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only."""
        return {
            "engine": self.description,
            "detectable": list(self.detectable),
            "undetectable": list(self.undetectable),
            "ignored": list(self.ignored),
            "threshold": float(self.threshold),
        }


def choose_ner_model(setting: str) -> tuple[str | None, str]:
    """(pipeline to load or None, how it was chosen) for the policy's ``pii.ner_model``."""
    import spacy

    value = setting.strip()
    if value.lower() == "auto":
        found = next((name for name in OFFICIAL_PIPELINES if spacy.util.is_package(name)), None)
        if found is None:
            return None, f"no official English spaCy pipeline installed ({', '.join(OFFICIAL_PIPELINES)})"
        return found, "auto-detected (installed official English pipeline)"
    if not value or value.lower() == "none":
        return None, "policy pii.ner_model = \"\" (patterns + name list)"
    if spacy.util.is_package(value):
        return value, "policy pii.ner_model (installed package)"
    # A directory the policy (the audited project) names: what it detects, and the name and
    # version its meta.json claims, are the project's own.
    return value, ("policy pii.ner_model: a pipeline directory, not an installed package (its name and "
                   "version are its own)")


def ner_install_line() -> str:
    """What the check says when the policy requires NER and no pipeline can be loaded."""
    return f"{INSTALL_NER} (or set pii.ner_model)"


def section_with_defaults(policy_section: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``pii`` policy section with every key present, validated by the policy's own model
    (``PiiPolicy``): an unknown key or a wrong type is the same one-line ``PolicyError``."""
    from pydantic import ValidationError

    from pytest_release_audit.policy.messages import policy_error
    from pytest_release_audit.policy.sections import PiiPolicy, plain

    if isinstance(policy_section, PiiPolicy):
        return dict(plain(policy_section))
    raw = dict(policy_section or {})
    try:
        return dict(plain(PiiPolicy.model_validate(raw)))
    except ValidationError as exc:
        raise policy_error(exc, PiiPolicy, raw, prefix="pii") from None


def policy_patterns(patterns: Mapping[str, str]) -> list[tuple[str, str]]:
    """``pii.patterns`` as (entity, regex) pairs, each checked: a name, a valid non-empty regex."""
    import regex

    out = []
    for entity, pattern in patterns.items():
        key = f"policy key 'pii.patterns.{one_line(entity, 80)}'"
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
            raise PolicyError(f"{key} must be an UPPER_CASE entity name (e.g. NATIONAL_ID)")
        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            raise PolicyError(f"{key} is not a valid regex ({exc}): fix the pattern") from None
        if not pattern or compiled.fullmatch(""):
            raise PolicyError(f"{key} matches the empty string: make it require characters")
        out.append((entity, pattern))
    return out


def _recognizers(custom: list[tuple[str, str]], person: Any) -> list[Any]:
    """Every candidate recognizer of the tokenizer analyzer (``person``: the gazetteer), before ``ignore_entities``."""
    from pytest_release_audit.scanners.pii import recognizers

    candidates = recognizers.pattern_recognizers()
    candidates += [recognizers.policy_recognizer(entity, pattern) for entity, pattern in custom]
    return [*candidates, person]


def _load_ner(ner_model: str, ignored: tuple[str, ...]) -> tuple[Any, Any, str]:
    """The loaded NLP engine of pipeline ``ner_model``, its NER recognizer and the pipeline's version."""
    from pytest_release_audit.scanners.pii import recognizers

    if not recognizers.ner_model_installed(ner_model):
        raise PolicyError(
            f"policy key 'pii.ner_model' names spaCy model {ner_model!r}, which is not installed: "
            f"install it ({INSTALL_NER} for en_core_web_sm), give the path of a saved pipeline, or set "
            'pii.ner_model = "" for the offline pattern engine'
        )
    nlp_engine, ner = recognizers.ner_engine(ner_model, tuple(e for e in NER_ENTITIES if e not in ignored))
    try:
        nlp_engine.load()
    except (OSError, ValueError) as exc:
        raise PolicyError(
            f"policy key 'pii.ner_model': spaCy pipeline {ner_model!r} cannot be loaded "
            f"({exc.__class__.__name__}): point it at an installed model or a saved pipeline directory"
        ) from None
    nlp = nlp_engine.nlp.get("en") if isinstance(getattr(nlp_engine, "nlp", None), dict) else None
    version = str((getattr(nlp, "meta", None) or {}).get("version", "")) if nlp is not None else ""
    if nlp is not None:
        # spaCy lists "call" and "name" as stop words; presidio drops stop words before it looks
        # for context, so "Call back on +44 20 7946 0018" would stay below the threshold.
        for word in ("call", "name"):
            nlp.vocab[word].is_stop = False
    return nlp_engine, ner, version


def _capabilities(content: list[str], ner_model: str | None) -> tuple[list[str], list[str]]:
    """What the engine can detect (content types and column names) and what it cannot."""
    detectable = [GAZETTEER_LABEL if (e == "PERSON" and not ner_model) else e for e in content]
    if ner_model:
        detectable = [f"{e} (NER: {ner_model})" if e in NER_ENTITIES else e for e in detectable]
    detectable += [f"{e} (column name)" for e in COLUMN_NAME_ENTITIES]
    undetectable = [f"{e} (needs an NER model)" if not ner_model else f"{e} (not reported)"
                    for e in NER_ONLY if not (ner_model and e in NER_ENTITIES)]
    if not ner_model:
        undetectable = ["PERSON (NER: names outside the gazetteer)", "LOCATION (needs an NER model)"] + [
            u for u in undetectable if not u.startswith("LOCATION")
        ]
        undetectable.append("DATE_TIME (free-text dates, needs an NER model)")
    undetectable.append("ADDRESS / ZIP_CODE in free text (only identifier-named columns"
                        + ("; NER finds the place names in an address)" if ner_model else ")"))
    return detectable, undetectable


def _check_blocking(blocking: set[str], ignored: tuple[str, ...], content: list[str], custom: list[str]) -> None:
    """Every ``pii.entities`` type must be known, not ignored, and detectable by this engine."""
    known = {*PATTERN_ENTITIES, MRN_ENTITY, "PERSON", *NER_ONLY, *COLUMN_NAME_ENTITIES, *custom}
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


def _description(ner_model: str | None, version: str) -> str:
    from importlib.metadata import version as installed

    presidio = f"presidio-analyzer {installed('presidio-analyzer')}"
    if ner_model:
        shown = f"{ner_model} {version}".strip()
        return (f"{presidio}, NER: spaCy pipeline {shown} on free-text columns + pattern recognizers + MRN + "
                "name gazetteer")
    return f"{presidio}, offline: blank spaCy 'en' tokenizer (no NER model), pattern recognizers + MRN + name gazetteer"


def _analyzer(recognizers: list[Any], nlp_engine: Any) -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])


def build_engine(policy_section: Mapping[str, Any] | None = None) -> PiiEngine:
    """The analyzer for ``policy_section`` (``Policy.section("pii")``; None = defaults).

    Offline: a pipeline named by ``pii.ner_model`` (or auto-detected) is loaded from disk. Raises
    ``PolicyError`` for an uninstalled model, a bad regex in ``pii.patterns`` or a blocking entity
    type this engine cannot detect.
    """
    from pytest_release_audit.scanners.pii import recognizers as rec

    section = section_with_defaults(policy_section)
    ignored = tuple(sorted(set(section["ignore_entities"])))
    custom = policy_patterns(section["patterns"])
    ner_model, choice = choose_ner_model(section["ner_model"])
    tokenizer, person = rec.gazetteer_engine(given_names())
    tokenizer.load()
    base = [r for r in _recognizers(custom, person) if not set(r.supported_entities) <= set(ignored)]
    analyzer = _analyzer(base, tokenizer)
    gates = tuple(gate_for(r) for r in base)
    ner_analyzer: Any = None
    ner_gates: tuple[Gate, ...] = ()
    version = ""
    if ner_model:
        nlp_engine, ner, version = _load_ner(ner_model, ignored)
        with_ner = [*base, ner] if ner.supported_entities else base
        ner_analyzer = _analyzer(with_ner, nlp_engine)
        ner_gates = tuple(gate_for(r) for r in with_ner)
    content = sorted({e for g in (*gates, *ner_gates) for e in g.entities})
    detectable, undetectable = _capabilities(content, ner_model)
    _check_blocking(set(section["entities"]), ignored, content, [e for e, _ in custom])
    short = f"NER: {ner_model} {version}".strip() + " + patterns + name list" if ner_model else "patterns + name list"
    return PiiEngine(
        analyzer=analyzer,
        description=_description(ner_model, version),
        detectable=tuple(detectable),
        undetectable=tuple(undetectable),
        ignored=ignored,
        threshold=float(section["threshold"]),
        ner_model=ner_model,
        gates=gates,
        ner_analyzer=ner_analyzer,
        ner_gates=ner_gates,
        ner_version=version,
        ner_choice=choice,
        short=short,
        section=dict(section),
    )
