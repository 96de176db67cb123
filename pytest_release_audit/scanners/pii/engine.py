# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The PII engine: an offline presidio analyzer for one policy, and what it can and cannot detect.

``build_engine(policy_section)`` never touches the network: a blank spaCy English tokenizer (no
model download; its tokens give presidio's context words such as "phone" or "MRN" near a match),
presidio's pattern recognizers (email, phone, US SSN, credit card, IBAN, IP, and URL / dates
unless the policy ignores them), a medical-record-number recognizer, the policy's own regexes
(``pii.patterns``), and, without an NER model, a small bundled gazetteer of given names that
finds ``Firstname Lastname`` pairs and ``Dr. Surname`` titles: reported as "PERSON (gazetteer,
not NER)", never as NER coverage. With ``pii.ner_model`` naming an installed spaCy pipeline,
that pipeline's NER finds PERSON and LOCATION instead.
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
    LANGUAGE,
    MRN_ENTITY,
    NER_ENTITIES,
    NER_ONLY,
    PATTERN_ENTITIES,
)
from pytest_release_audit.scanners.pii.gates import Gate, gate_for
from pytest_release_audit.scanners.pii.names import COLUMN_NAME_ENTITIES, given_names


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
    gates: tuple[Gate, ...] = field(default=(), repr=False)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """Entity type names the analyzer itself can return (content, not column names)."""
        return tuple(sorted({e for g in self.gates for e in g.entities}))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only."""
        return {
            "engine": self.description,
            "detectable": list(self.detectable),
            "undetectable": list(self.undetectable),
            "ignored": list(self.ignored),
            "threshold": float(self.threshold),
        }


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


def _nlp_and_recognizers(ner_model: str | None, custom: list[tuple[str, str]]) -> tuple[Any, list[Any]]:
    """The NLP engine (loaded) and every candidate recognizer, before ``ignore_entities``."""
    from pytest_release_audit.scanners.pii import recognizers

    if ner_model and not recognizers.ner_model_installed(ner_model):
        raise PolicyError(
            f"policy key 'pii.ner_model' names spaCy model {ner_model!r}, which is not installed: "
            f"install it (python -m spacy download {ner_model}, or pip install its wheel), give the path "
            'of a saved pipeline, or set pii.ner_model = "" for the offline pattern engine'
        )
    candidates = recognizers.pattern_recognizers()
    candidates += [recognizers.policy_recognizer(entity, pattern) for entity, pattern in custom]
    if ner_model:
        nlp_engine, person = recognizers.ner_engine(ner_model)
    else:
        nlp_engine, person = recognizers.gazetteer_engine(given_names())
    try:
        nlp_engine.load()
    except (OSError, ValueError) as exc:
        raise PolicyError(
            f"policy key 'pii.ner_model': spaCy pipeline {ner_model!r} cannot be loaded "
            f"({exc.__class__.__name__}): point it at an installed model or a saved pipeline directory"
        ) from None
    return nlp_engine, [*candidates, person]


def _capabilities(content: list[str], ner_model: str | None) -> tuple[list[str], list[str]]:
    """What the engine can detect (content types and column names) and what it cannot."""
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


def _description(ner_model: str | None) -> str:
    from importlib.metadata import version

    presidio = f"presidio-analyzer {version('presidio-analyzer')}"
    if ner_model:
        return f"{presidio}, spaCy NER pipeline {ner_model!r} + pattern recognizers"
    return f"{presidio}, offline: blank spaCy 'en' tokenizer (no NER model), pattern recognizers + MRN + name gazetteer"


def build_engine(policy_section: Mapping[str, Any] | None = None) -> PiiEngine:
    """The analyzer for ``policy_section`` (``Policy.section("pii")``; None = defaults).

    Offline unless ``pii.ner_model`` names an installed spaCy pipeline (name or path), which is
    then loaded from disk. Raises ``PolicyError`` for an uninstalled model, a bad regex in
    ``pii.patterns`` or a blocking entity type this engine cannot detect.
    """
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    section = section_with_defaults(policy_section)
    ignored = tuple(sorted(set(section["ignore_entities"])))
    custom = policy_patterns(section["patterns"])
    ner_model = section["ner_model"].strip() or None
    nlp_engine, candidates = _nlp_and_recognizers(ner_model, custom)
    recognizers = [r for r in candidates if not set(r.supported_entities) <= set(ignored)]
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
    gates = tuple(gate_for(r) for r in recognizers)
    content = sorted({e for g in gates for e in g.entities})
    detectable, undetectable = _capabilities(content, ner_model)
    _check_blocking(set(section["entities"]), ignored, content, [e for e, _ in custom])
    return PiiEngine(
        analyzer=analyzer,
        description=_description(ner_model),
        detectable=tuple(detectable),
        undetectable=tuple(undetectable),
        ignored=ignored,
        threshold=float(section["threshold"]),
        ner_model=ner_model,
        gates=gates,
    )
