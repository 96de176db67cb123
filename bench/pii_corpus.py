# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A labelled PII corpus for measuring the scan: Faker values embedded in clinical-note templates.

``corpus(n_per_entity, n_negative, seed)`` returns ``Sample``s: a note and the spans of PII it
holds (entity type, start, end). Positives hold exactly one planted value; negatives are PII-free
clinical notes (drugs, doses, lab values, stages, cycle numbers, ECOG, ward names) with the same
varied casing and punctuation. The recipe, so anyone can rebuild it:

* names: Faker ``name()`` in en_US, en_GB, de_DE, fr_FR, es_ES, pl_PL and ga_IE, written as is,
  in lower case (a typed note), or in upper case (a form);
* addresses: ``address()`` in the same locales, newlines made ", " (truth type LOCATION: NER finds
  the place names; a street alone is not a LOCATION for it);
* phones: ``phone_number()`` per locale, kept when ``phonenumbers`` says it is a valid number of
  that country (Faker also invents numbers no numbering plan has), written as Faker wrote it
  (national format) or in the international format (``+44 20 7946 0018``);
* e-mails ``email()``, US SSNs ``ssn()`` (en_US), MRNs ``MRN: `` + 6-10 digits (``MRN 00123456``,
  ``mrn#...``), dates of birth ``date_of_birth()`` as ``DOB 1961-03-04`` / ``d.o.b. 04/03/1961``.

Seeded: the same arguments give the same corpus on every machine (Faker's own seed per locale).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "pl_PL", "ga_IE")
#: truth entity -> the entity type a detector must report over (part of) the span
ENTITIES = ("PERSON", "LOCATION", "PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN", "MEDICAL_RECORD_NUMBER",
            "DATE_TIME")

_PERSON = ("Patient {v} reports pain in the left knee.", "pt {v} seen today, c/o chest tightness",
           "Seen with daughter; {v} is anxious about the biopsy.", "{v} tolerated cycle 2 well.",
           "Referred by GP. Name: {v}.", "Discussed results with {v} and her husband.")
_LOCATION = ("Lives at {v}.", "Home address {v}, lives alone", "Discharged to {v} with community nurse.",
             "Transport booked from {v}.")
_PHONE = ("Call back on {v} after 5pm.", "contact number {v}", "Daughter can be reached at {v}.",
          "tel {v} (mobile)")
_EMAIL = ("Results sent to {v}.", "email: {v}", "Pt prefers contact via {v}")
_SSN = ("SSN {v} on file.", "social security number {v}", "Insurance verified, SSN: {v}")
_MRN = ("{v}, admitted via ED.", "Chart {v} reviewed.", "{v} - follow up in 6 weeks")
_DOB = ("{v}, lives with partner.", "Patient {v} confirmed at triage.")
_NEGATIVE = (
    "Stable after cycle {n} of FOLFOX, no new complaints, continue current dose.",
    "ECOG {e}. Tolerating tamoxifen 20 mg daily. Hb {hb} g/dL, platelets {plt}.",
    "Stage {stage} ductal carcinoma, ER+ PR+ HER2-. Plan: adjuvant radiotherapy {n} fractions.",
    "Reviewed in clinic. Pain score {e}/10, paracetamol 1 g QDS, oramorph PRN.",
    "CT chest/abdo/pelvis: no evidence of metastatic disease. Next scan in {n} months.",
    "ward {n}b, bed {e}: obs stable, NEWS {e}, afebrile, eating and drinking",
    "Neutrophils {hb} x10^9/L; G-CSF not required. Cycle {n} day 1 approved.",
    "Seen by physio, mobilising with frame. Discharge planned for day {n} post-op.",
    "MDT outcome: proceed to mastectomy and sentinel node biopsy. Consent obtained.",
    "Creatinine {plt} umol/L, eGFR > 60. Zoledronic acid {n} mg IV given.",
    "no known drug allergies. BP 12{e}/8{e}, HR 7{e}, SpO2 9{e}% on air",
    "Grade {e} neuropathy, dose reduced to 80%. Review in {n} weeks.",
)
_STAGES = ("I", "IIA", "IIB", "IIIA", "IV")


@dataclass(frozen=True)
class Sample:
    text: str
    spans: tuple[tuple[str, int, int], ...]  # (entity, start, end); () for a negative


def _cased(value: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.2:
        return value.lower()
    if roll < 0.3:
        return value.upper()
    return value


def _plant(template: str, value: str, entity: str) -> Sample:
    start = template.index("{v}")
    text = template.replace("{v}", value, 1)
    return Sample(text, ((entity, start, start + len(value)),))


def _values(entity: str, fakers: dict[str, object], rng: random.Random) -> str:
    locale = rng.choice(LOCALES)
    fake = fakers[locale]
    if entity == "PERSON":
        return _cased(f"{fake.first_name()} {fake.last_name()}", rng)  # type: ignore[attr-defined]
    if entity == "LOCATION":
        return str(fake.address()).replace("\n", ", ")  # type: ignore[attr-defined]
    if entity == "PHONE_NUMBER":
        return _phone(fake, locale, rng)
    if entity == "EMAIL_ADDRESS":
        return str(fake.email())  # type: ignore[attr-defined]
    if entity == "US_SSN":
        return str(fakers["en_US"].ssn())  # type: ignore[attr-defined]
    if entity == "MEDICAL_RECORD_NUMBER":
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
        return rng.choice(("MRN: ", "MRN ", "mrn#", "MRN no. ")) + digits
    dob = fake.date_of_birth(minimum_age=18, maximum_age=95)  # type: ignore[attr-defined]
    return rng.choice((f"DOB {dob.isoformat()}", f"d.o.b. {dob:%d/%m/%Y}", f"born {dob:%d %B %Y}"))


def _phone(fake: object, locale: str, rng: random.Random) -> str:
    """A valid phone number of ``locale``'s country, national (as Faker writes it) or international."""
    import phonenumbers

    region = locale.split("_")[1]
    for _ in range(50):
        written = str(fake.phone_number())  # type: ignore[attr-defined]
        try:
            number = phonenumbers.parse(written, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            if rng.random() < 0.5:
                return written
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    example = phonenumbers.example_number(region)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_TEMPLATES = {"PERSON": _PERSON, "LOCATION": _LOCATION, "PHONE_NUMBER": _PHONE, "EMAIL_ADDRESS": _EMAIL,
              "US_SSN": _SSN, "MEDICAL_RECORD_NUMBER": _MRN, "DATE_TIME": _DOB}


def negative(rng: random.Random) -> Sample:
    template = rng.choice(_NEGATIVE)
    text = template.format(n=rng.randint(1, 12), e=rng.randint(0, 4), hb=round(rng.uniform(7, 15), 1),
                           plt=rng.randint(60, 450), stage=rng.choice(_STAGES))
    return Sample(_cased(text, rng) if rng.random() < 0.3 else text, ())


def corpus(n_per_entity: int = 400, n_negative: int = 2000, seed: int = 20241201) -> list[Sample]:
    """``n_per_entity`` positives of every entity type and ``n_negative`` PII-free notes, shuffled."""
    from faker import Faker

    rng = random.Random(seed)
    fakers: dict[str, object] = {}
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + i)
        fakers[locale] = fake
    samples = [
        _plant(rng.choice(_TEMPLATES[entity]), _values(entity, fakers, rng), entity)
        for entity in ENTITIES
        for _ in range(n_per_entity)
    ]
    samples += [negative(rng) for _ in range(n_negative)]
    rng.shuffle(samples)
    return samples
