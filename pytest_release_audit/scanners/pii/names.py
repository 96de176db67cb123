# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Names: column names that say a column holds an identifier, and the person-name gazetteer."""

from __future__ import annotations

import functools
import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GAZETTEER_FILE = DATA_DIR / "given_names.txt"

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
    """
    id ids uid mrn ssn nhs phone tel telephone mobile fax zip zipcode postcode account acct card iban
    contact number no num nr insurance member patientid subjectid personid memberid record
    """.split()
)
#: Integers with fewer digits than this cannot hold a phone, SSN, card or record number.
MIN_IDENTIFIER_DIGITS = 6

#: Titles before a surname ("Dr. Patel").
TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)"
#: Capitalised name words: Smith, O'Neil, McDonald, DeLuca, Smith-Jones.
CAPWORD = r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
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
#: Words near a name that raise a PERSON result's score.
PERSON_CONTEXT = (
    "patient name mr mrs ms dr daughter son wife husband mother father contact family spouse caregiver "
    "sister brother seen"
).split()


def normalise_name(name: object) -> str:
    """``PatientName`` / ``patient-name`` / ``Patient Name`` -> ``patient_name``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def name_tokens(name: object) -> list[str]:
    """The words of a column name (``PatientID`` -> ``["patient", "id"]``)."""
    return [t for t in normalise_name(name).split("_") if t]


def looks_like_id(name: object) -> bool:
    """Whether a column name says its numbers may be identifiers."""
    return any(t in ID_NAME_TOKENS for t in name_tokens(name)) or normalise_name(name) in IDENTIFIER_COLUMNS


@functools.lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """The bundled gazetteer of given names."""
    lines = GAZETTEER_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
