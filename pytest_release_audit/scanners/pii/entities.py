# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The entity types the PII scan knows, and the language its analyzer runs in."""

from __future__ import annotations

LANGUAGE = "en"

#: How a gazetteer PERSON finding is listed among what the engine can detect (never as NER).
GAZETTEER_LABEL = "PERSON (gazetteer, not NER)"

#: Entity types only an NER model can find (none without ``pii.ner_model``).
NER_ONLY = ("LOCATION", "ORGANIZATION", "NRP")
#: Entity types an NER model is asked for (presidio maps spaCy's GPE / LOC to LOCATION, NORP to NRP).
#: Not DATE_TIME: a small pipeline reads "6 weeks" and "day 1" as dates (precision 0.27 on PII-free
#: notes, bench/pii_accuracy.py); dates come from the date patterns.
NER_ENTITIES = ("PERSON", "LOCATION", "NRP")
#: Explosion's official English pipelines, in the order ``pii.ner_model = "auto"`` prefers them.
OFFICIAL_PIPELINES = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_trf")
#: How a user installs the small official pipeline in CI: pinned URL and its sha256.
OFFICIAL_WHEEL = (
    "https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.8.0/"
    "en_core_web_sm-3.8.0-py3-none-any.whl#sha256=1932429db727d4bff3deed6b34cfc05df17794f4a52eeb26cf8928f7c1a0fb85"
)
INSTALL_NER = f"pip install {OFFICIAL_WHEEL}"
MRN_ENTITY = "MEDICAL_RECORD_NUMBER"
#: Entity types of presidio's own pattern recognizers.
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
#: What names, descriptions and tags are scanned for: patterns that leave no doubt. Person names
#: and places in prose are left to NER in the data (a gazetteer would flag "Cox" in "Cox model").
METADATA_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
#: A metadata text that contains a value the data scan flagged.
VALUE_FLAGGED_IN_DATA = "VALUE_FLAGGED_IN_DATA"
