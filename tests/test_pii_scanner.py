# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The PII scanner on real presidio (offline engine), real spaCy, real DataFrames."""

from __future__ import annotations

import json
import re
import socket

import numpy as np
import pandas as pd
import presidio_analyzer  # noqa: F401  (see below)
import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.scanners import pii
from pytest_release_audit.scanners.pii import PiiFinding, build_engine, mask_value, scan_dataframe
from pytest_release_audit.scanners.pii.analyze import analyze_values
from pytest_release_audit.scanners.pii.gates import REQUIRED_CHARS, required_chars

# presidio and spaCy are imported in this process on purpose: pytester's in-process runs drop every
# module first imported inside a run, and a second run then finds pydantic half-unloaded
# (KeyError: 'pydantic.root_model'). A real audit imports them once and is not affected.

# Seeded raw values: none of them may ever appear in a finding, a summary or evidence.
SEEDED = {
    "email": "john.smith@example.org",
    "phone": "212-555-0147",
    "ssn": "536-22-1234",
    "card": "4111 1111 1111 1111",
    "iban": "DE89370400440532013000",
    "ip": "192.168.14.27",
    "mrn": "00123456",
    "mrn2": "1234567",
    "name": "Mary Jones",
    "doctor": "Patel",
    "national": "AB123456C",
}


@pytest.fixture(scope="module")
def engine():
    return build_engine()


def _pairs(result):
    return {(f.column, f.entity_type) for f in result.findings}


def dirty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [100234, 100235, 100236, 100237, 100238],
            "age": [54, 61, 47, 70, 38],
            "sbp": [120.5, 130.0, np.nan, 110.2, 99.9],
            "notes": [
                f"Seen with daughter {SEEDED['name']}, phone {SEEDED['phone']}. Email {SEEDED['email']}",
                f"MRN: {SEEDED['mrn']} reviewed by Dr. {SEEDED['doctor']}",
                f"SSN {SEEDED['ssn']} on file; card {SEEDED['card']}",
                f"Refund to IBAN {SEEDED['iban']}; portal login from {SEEDED['ip']}",
                f"Transferred, MRN-{SEEDED['mrn2']}. Stable disease on 2021-03-04.",
            ],
        }
    )


def test_each_seeded_entity_type_is_found_in_free_text(engine):
    result = scan_dataframe(dirty_frame(), "train.csv", engine=engine)
    found = _pairs(result)
    for entity in (
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "MEDICAL_RECORD_NUMBER",
        "PERSON",
    ):
        assert ("notes", entity) in found, entity
    by_type = {f.entity_type: f for f in result.findings}
    assert by_type["MEDICAL_RECORD_NUMBER"].rows_affected == 2  # "MRN: 0012..." and "MRN-123..."
    assert by_type["MEDICAL_RECORD_NUMBER"].row_indices == (1, 4)
    assert by_type["PERSON"].detector == "gazetteer (not NER)"
    assert by_type["PERSON"].rows_affected == 2  # "Mary Jones" and "Dr. Patel"
    assert result.blocking
    assert "age" in result.columns_skipped and "sbp" in result.columns_skipped
    assert "patient_id" in result.columns_scanned


def test_findings_never_contain_a_seeded_raw_value(engine):
    result = scan_dataframe(dirty_frame(), "train.csv", engine=engine)
    dumped = json.dumps(result.to_dict()) + pii.masked_summary(result.findings)
    for raw in SEEDED.values():
        assert raw not in dumped
    samples = {f.entity_type: f.masked_sample for f in result.findings}
    assert samples["EMAIL_ADDRESS"] == "j***@***.org"
    assert samples["PHONE_NUMBER"] == "***-***-0147"
    assert samples["US_SSN"] == "***-**-1234"


def test_a_clean_clinical_table_has_no_findings(engine):
    df = pd.DataFrame(
        {
            "patient_id": ["P0001", "P0002", "P0003", "P0004"],
            "diagnosis": ["NSCLC", "Hodgkin Lymphoma", "squamous cell carcinoma", "melanoma"],
            "diagnosis_date": ["2021-03-04", "2020-11-30", "2019-01-15", "2022-07-07"],
            "notes": [
                "62yo, ECOG 1. Cisplatin 75 mg/m2 cycle 3. Hb 11.2 g/dL, plt 245. Scan on 2021-04-01 stable.",
                "Seen in Oncology Clinic with Mary Hospital staff; Will Follow up in 6 weeks.",
                "Stage IIIA, PD-L1 50%. Reviewed at tumour board 2022-01-12. Grace period for labs.",
                "Lot 20231104-7731 of drug dispensed; cell count 12000 per mm3.",
            ],
            "os_days": [400.0, 1200.5, 87.0, 650.25],
            "event": [1, 0, 1, 0],
        }
    )
    result = scan_dataframe(df, "clean.csv", engine=engine)
    assert result.findings == ()
    assert not result.blocking
    assert result.values_scanned > 0
    assert set(result.columns_scanned) == {"patient_id", "diagnosis", "diagnosis_date", "notes"}


def test_identifier_named_columns_are_findings_by_name(engine):
    df = pd.DataFrame(
        {
            "First Name": ["Zorblax", "Quentara", None],  # not in the gazetteer: found by the name
            "dob": pd.to_datetime(["1961-02-03", "1970-05-06", None]),
            "mrn": [12345678, 23456789, 34567890],
            "email": ["a.b@example.org", "", None],
        }
    )
    result = scan_dataframe(df, "d", engine=engine)
    found = {(f.column, f.entity_type): f for f in result.findings}
    assert found[("First Name", "PERSON")].rows_affected == 2
    assert found[("First Name", "PERSON")].detector == "column name"
    assert found[("dob", "DATE_OF_BIRTH")].rows_affected == 2
    assert found[("dob", "DATE_OF_BIRTH")].masked_sample == "****-**-**"
    assert found[("mrn", "MEDICAL_RECORD_NUMBER")].rows_affected == 3
    email = found[("email", "EMAIL_ADDRESS")]
    assert email.rows_affected == 1 and "column name" in email.detector and "Email" in email.detector


def test_phone_numbers_need_context_from_column_name_or_nearby_words(engine):
    df = pd.DataFrame(
        {
            "phone_number": ["(415) 555-0132", "212-555-0199"],
            "reference": ["(415) 555-0132", "212-555-0199"],  # bare number, no context: 0.4 < 0.5
            "notes": ["call back on (617) 555-1002 about scans", "ref 212-555-0199 pending"],
        }
    )
    result = scan_dataframe(df, "d", engine=engine)
    found = {(f.column, f.entity_type): f for f in result.findings}
    assert found[("phone_number", "PHONE_NUMBER")].rows_affected == 2
    assert ("reference", "PHONE_NUMBER") not in found
    assert found[("notes", "PHONE_NUMBER")].row_indices == (0,)


def test_integer_ids_are_scanned_and_small_integers_and_real_floats_skipped(engine):
    df = pd.DataFrame(
        {
            "contact_number": [4155550132.0, np.nan, 2125550199.0],  # int column with a gap: floats
            "age": [54, 61, 47],
            "creatinine": [1.1, 0.9, 1.3],
            "flag": [True, False, True],
            "big": [4111111111111111, 5, 7],  # a card number in an unnamed integer column
        }
    )
    result = scan_dataframe(df, "d", engine=engine)
    assert set(result.columns_scanned) == {"contact_number", "big"}
    assert result.columns_skipped["creatinine"] == "non-integral floats cannot encode an identifier"
    assert "age" in result.columns_skipped and "flag" in result.columns_skipped
    found = {(f.column, f.entity_type): f for f in result.findings}
    assert found[("contact_number", "PHONE_NUMBER")].rows_affected == 2
    assert found[("contact_number", "PHONE_NUMBER")].row_indices == (0, 2)
    assert found[("big", "CREDIT_CARD")].masked_sample == "****-****-****-1111"


def test_policy_skip_allow_and_blocking_entities_are_honoured(engine):
    df = dirty_frame().assign(contact=["x@example.org", None, None, None, None])
    section = {
        "skip_columns": {"notes": "free text reviewed by the DPO, ticket 42"},
        "allow": {"contact": ["EMAIL_ADDRESS"]},
    }
    result = scan_dataframe(df, "d", engine=engine, policy_section=section)
    assert result.findings == ()
    assert result.columns_skipped["notes"] == "policy: free text reviewed by the DPO, ticket 42"
    assert [(f.column, f.entity_type, f.blocking) for f in result.allowed] == [("contact", "EMAIL_ADDRESS", False)]

    only_ssn = scan_dataframe(dirty_frame(), "d", engine=engine, policy_section={"entities": ["US_SSN"]})
    blocking = [(f.column, f.entity_type) for f in only_ssn.blocking]
    assert blocking == [("notes", "US_SSN")]
    assert len(only_ssn.findings) > 1  # the others are still reported, not blocking


def test_policy_patterns_add_national_ids_and_dates_when_not_ignored():
    section = {"patterns": {"NATIONAL_ID": r"\b[A-Z]{2}\d{6}[A-D]\b"}, "ignore_entities": ["URL"]}
    engine = build_engine(section)
    assert "NATIONAL_ID" in engine.detectable and "DATE_TIME" in engine.detectable
    df = pd.DataFrame({"notes": [f"NI number {SEEDED['national']} checked", "seen 2021-03-04"]})
    result = scan_dataframe(df, "d", engine=engine, policy_section=section)
    found = {(f.column, f.entity_type): f for f in result.findings}
    assert found[("notes", "NATIONAL_ID")].masked_sample == "A***"
    assert found[("notes", "DATE_TIME")].row_indices == (1,)


def test_engine_states_what_it_cannot_detect_without_ner(engine):
    assert pii.GAZETTEER_LABEL in engine.detectable
    assert "PERSON" not in engine.detectable  # never claims NER coverage
    assert any(u.startswith("PERSON (NER") for u in engine.undetectable)
    assert any(u.startswith("LOCATION") for u in engine.undetectable)
    assert set(engine.ignored) == {"DATE_TIME", "URL"}
    assert "DATE_TIME" not in engine.entity_types and "URL" not in engine.entity_types
    assert "blank spaCy" in engine.description


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"ner_model": "en_core_web_nonexistent"}, "en_core_web_nonexistent"),
        ({"patterns": {"NATIONAL_ID": "([a-z"}}, "pii.patterns.NATIONAL_ID"),
        ({"patterns": {"NATIONAL_ID": "x*"}}, "empty string"),
        ({"entities": ["LOCATION"]}, "pii.ner_model"),
        ({"entities": ["SOCIAL_CREDIT"]}, "unknown entity type"),
        ({"entities": ["URL"]}, "ignore_entities"),
        ({"patterns": {"national\nid\x1b[2J": "x"}}, "pii.patterns.national id' must be an UPPER_CASE"),
        ({"thresh\nold": 0.5}, re.escape("unknown policy key 'pii.thresh\\nold'")),
    ],
)
def test_bad_pii_policy_raises_policy_error_naming_the_key(section, needle):
    with pytest.raises(PolicyError, match=needle) as info:
        build_engine(section)
    assert "\n" not in str(info.value)


def test_ner_model_from_a_saved_spacy_pipeline_finds_person_and_location(tmp_path):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": [{"LOWER": "zorblax"}, {"LOWER": "quint"}]},
            {"label": "GPE", "pattern": "Springfield"},
        ]
    )
    path = tmp_path / "ner_model"
    nlp.to_disk(path)
    engine = build_engine({"ner_model": str(path), "entities": ["PERSON", "LOCATION"]})
    assert f"PERSON (NER: {path})" in engine.detectable
    assert engine.ner_choice.startswith("policy pii.ner_model: a pipeline directory, not an installed package")
    assert pii.GAZETTEER_LABEL not in engine.detectable
    df = pd.DataFrame({"notes": ["patient Zorblax Quint lives in Springfield", "stable"]})
    result = scan_dataframe(df, "d", engine=engine, policy_section={"entities": ["PERSON", "LOCATION"]})
    found = {(f.column, f.entity_type): f for f in result.findings}
    assert found[("notes", "PERSON")].detector == f"NER ({path})"
    assert found[("notes", "PERSON")].masked_sample == "Z*** Q***"
    assert ("notes", "LOCATION") in found


def test_a_pipeline_directory_claiming_to_be_official_is_named_as_a_directory(tmp_path):
    """Attack: the policy (the audited project) points pii.ner_model at its own pipeline directory,
    whose meta.json claims to be en_core_web_sm 3.8.0 and whose NER finds nothing. The evidence
    must not present it as the official package: the path and "not an installed package" are named."""
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler")  # an NER step that never reports anything
    nlp.meta.update({"name": "core_web_sm", "version": "3.8.0"})
    path = tmp_path / "en_core_web_sm"
    nlp.to_disk(path)
    engine = build_engine({"ner_model": str(path)})
    assert engine.ner_model == str(path) and "not an installed package" in engine.ner_choice
    assert str(path) in engine.short and str(path) in engine.description
    df = pd.DataFrame({"notes": [f"Patient Zbigniew Brzeczyszczykiewicz seen, visit {i}" for i in range(20)]})
    assert scan_dataframe(df, "d", engine=engine).findings == ()  # the weakening is real ...
    assert scan_dataframe(df, "d", engine=engine).ner_columns == ("notes",)  # ... and on the record


def test_no_network_during_engine_build_and_email_scan(monkeypatch, tmp_path):
    attempts: list[str] = []

    def refuse_connect(self, address, *args, **kwargs):
        attempts.append(f"connect {address!r}")
        raise OSError("network disabled by test")

    def refuse_dns(host, *args, **kwargs):
        attempts.append(f"getaddrinfo {host!r}")
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse_dns(a[0] if a else "?"))
    engine = build_engine()  # every engine gets its own suffix-list extractor: built under the patch
    df = pd.DataFrame({"contact": ["jane.doe@example.co.uk", "ops@hospital.example.org", "n/a"]})
    result = scan_dataframe(df, "d", engine=engine)
    assert [(f.entity_type, f.rows_affected) for f in result.findings] == [("EMAIL_ADDRESS", 2)]
    assert attempts == []
    # The guard itself works: presidio's stock tldextract set-up does reach for the network.
    import tldextract

    tldextract.TLDExtract(cache_dir=str(tmp_path / "tld-cache"))("jane.doe@example.co.uk")
    assert attempts, "socket patch did not catch tldextract's public suffix list download"


def test_phone_gate_covers_every_character_phonenumbers_accepts_between_digits():
    import phonenumbers
    import regex
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import _VALID_PUNCTUATION
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from pytest_release_audit.scanners.pii.recognizers import PHONE_REGIONS

    theirs = regex.compile("[" + _VALID_PUNCTUATION + "]")
    ours = regex.compile(r"[\W_xXー]")
    missing = [hex(c) for c in range(0x10000) if theirs.fullmatch(chr(c)) and not ours.fullmatch(chr(c))]
    assert missing == []
    shortest = min(
        min(PhoneMetadata.metadata_for_region(r).general_desc.possible_length)
        for r in (*PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, *PHONE_REGIONS)
    )
    assert shortest >= pii.PHONE_MIN_DIGITS
    assert phonenumbers.Leniency.VALID == 1  # presidio's default leniency checks full validity


_ALPHABET = st.sampled_from(
    list("0123456789")
    + list(" -.()/+@:x")
    + [
        "phone ",
        "call ",
        "MRN ",
        "Mary ",
        "Jones ",
        "Dr. ",
        "ssn ",
        "example.org ",
        "4111",
        "555",
        "212-",
        "ECOG ",
        "10.1.2.3",
        "::1 ",
        "fe80::",
        "MRN:",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_ALPHABET, min_size=1, max_size=14).map("".join), min_size=1, max_size=8))
def test_gating_never_drops_a_presidio_result(engine, texts):
    """The gate is exact: every value presidio flags on its own is flagged by the scan."""
    texts = [t for t in dict.fromkeys(texts) if t.strip()]
    expected = {}
    for i, text in enumerate(texts):
        results = engine.analyzer.analyze(text=text, language="en", context=["notes"], score_threshold=engine.threshold)
        if results:
            expected[i] = {r.entity_type for r in results}
    hits, _ = analyze_values(engine, texts, ["notes"])
    got = {i: {h.entity for h in value_hits} for i, value_hits in hits.items()}
    assert set(got) == set(expected)
    for i in expected:
        assert got[i] <= expected[i] and got[i]  # only contained duplicates (URL in email) dropped



# --------------------------------------------------------------------------------------------
# The required-character shortcut: every entry of gates.REQUIRED_CHARS checked against presidio

#: Real positive examples of each pattern that has required characters.
POSITIVES: dict[tuple[str, str], tuple[str, ...]] = {
    ("OfflineEmailRecognizer", "Email (Medium)"): ("john.smith@example.org", "a@b.co", "o'neil+x@mail.example.co.uk"),
    ("PlaceholderSsnRecognizer", "SSN1 (very weak)"): ("53622-1234",),
    ("PlaceholderSsnRecognizer", "SSN2 (very weak)"): ("536-221234",),
    ("PlaceholderSsnRecognizer", "SSN3 (very weak)"): ("536-22-1234", "123-45-6789"),
    ("IpRecognizer", "IPv4_mapped"): ("::ffff:10.1.2.3", "::10.1.2.3", "::ffff:0:192.168.0.1"),
    ("IpRecognizer", "IPv4_embedded"): ("64:ff9b::192.0.2.33", "2001:db8::10.1.2.3"),
    ("IpRecognizer", "IPv4"): ("192.168.14.27", "10.1.2.3", "255.255.255.0/24"),
    ("IpRecognizer", "IPv6"): ("fe80::1", "2001:db8:0:0:0:0:2:1", "2001:db8::ff00:42:8329"),
    ("IpRecognizer", "IPv6_unspecified"): ("::", "::/0"),
    ("UrlRecognizer", "Standard Url"): ("https://www.example.org/path", "http://example.com"),
    ("UrlRecognizer", "Non schema URL"): ("www.example.org", "example.com/x", "hospital.example.net"),
    ("UrlRecognizer", "Quoted URL"): ('"https://example.org"', "'http://www.example.com/a'"),
    ("UrlRecognizer", "Quoted Non-schema URL"): ("'example.org'", '"www.example.com"'),
    ("DateRecognizer", "Datetime (yyyy-mm-ddThh:mm[:ss[.f]] with timezone)"): (
        "2021-03-04T10:20:30Z",
        "2021-03-04T10:20:30.5+01:00",
        "2021-03-04T10:20+01:00",
    ),
    ("DateRecognizer", "mm/dd/yyyy or mm/dd/yy"): ("03/04/2021", "3/4/21"),
    ("DateRecognizer", "dd/mm/yyyy or dd/mm/yy"): ("31/12/2021", "31/1/21"),
    ("DateRecognizer", "yyyy/mm/dd"): ("2021/03/04", "2021/3/31"),
    ("DateRecognizer", "mm-dd-yyyy"): ("03-04-2021", "12-31-2021"),
    ("DateRecognizer", "dd-mm-yyyy"): ("31-12-2021", "4-3-2021"),
    ("DateRecognizer", "yyyy-mm-dd"): ("2021-03-04", "2021-3-31"),
    ("DateRecognizer", "dd.mm.yyyy or dd.mm.yy"): ("31.12.2021", "4.3.21"),
    ("DateRecognizer", "dd-MMM-yyyy or dd-MMM-yy"): ("04-MAR-2021", "4-mar-21"),
    ("DateRecognizer", "MMM-yyyy or MMM-yy"): ("MAR-2021", "Dec-21"),
    ("DateRecognizer", "dd-MMM or dd-MMM"): ("04-MAR", "31-dec"),
    ("DateRecognizer", "mm/yyyy or m/yyyy"): ("03/2021", "3/2021"),
    ("DateRecognizer", "mm/yy or m/yy"): ("03/21", "3/21"),
}
#: What a required character is replaced by: every printable ASCII character, nothing, and look-alikes.
REPLACEMENTS = ("", *(chr(c) for c in range(0x20, 0x7F)), "\u2010", "\u2212", "\uff0e", "\u00b7", "\uff1a", "\uff20")


@pytest.fixture(scope="module")
def every_pattern():
    """(recognizer name, pattern name) -> (presidio Pattern, compiled as presidio searches it)."""
    import regex

    full = build_engine({"ignore_entities": []})
    return {
        (r.name, p.name): (p, regex.compile(p.regex, flags=r.global_regex_flags))
        for r in full.analyzer.registry.recognizers
        for p in getattr(r, "patterns", None) or ()
    }


def test_required_chars_table_names_presidios_patterns_as_they_are(every_pattern):
    assert set(POSITIVES) == set(REQUIRED_CHARS)
    for key, (chars, _digest) in REQUIRED_CHARS.items():
        assert key in every_pattern, f"{key}: no such pattern in this presidio"
        assert required_chars(key[0], every_pattern[key][0]) == chars, f"{key}: regex changed, re-check the entry"
        assert chars and not any(c.isalpha() for c in chars)
    assert [k for k, (p, _) in every_pattern.items() if k not in REQUIRED_CHARS and required_chars(k[0], p)] == []


def test_required_chars_give_no_shortcut_to_a_changed_or_policy_pattern():
    from presidio_analyzer import Pattern

    assert required_chars("OfflineEmailRecognizer", Pattern("Email (Medium)", r"\w+@\w+", 0.5)) == ""
    assert required_chars("PolicyPattern_X", Pattern("policy pattern X", r"\d+-\d+", 1.0)) == ""
    engine = build_engine({"patterns": {"NATIONAL_ID": r"[A-Z]{2}-\d{6}"}})
    assert all(g.required == ("",) for g in engine.gates if g.entities == ("NATIONAL_ID",))


@pytest.mark.parametrize("key", sorted(REQUIRED_CHARS), ids=lambda k: f"{k[0]}:{k[1]}")
def test_every_match_of_the_pattern_holds_its_required_chars(every_pattern, key):
    """Each positive example matches and holds the characters; without any one of them, no match."""
    chars = REQUIRED_CHARS[key][0]
    compiled = every_pattern[key][1]
    for example in POSITIVES[key]:
        match = compiled.search(example)
        assert match is not None, f"{key}: {example!r} is not a positive example"
        assert all(c in match.group(0) for c in chars), (key, example)
        for c in chars:
            for other in REPLACEMENTS:
                if other != c:
                    assert compiled.search(example.replace(c, other)) is None, (key, example, c, other)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_no_text_without_a_required_char_matches(every_pattern, data):
    """Texts built from the positive examples' pieces and other characters, lacking one required character."""
    key = data.draw(st.sampled_from(sorted(REQUIRED_CHARS)))
    chars = REQUIRED_CHARS[key][0]
    c = data.draw(st.sampled_from(chars))
    pieces = [piece for example in POSITIVES[key] for piece in example.split(c) if piece]
    glue = st.sampled_from([*"0123456789abcfAF :.-/@T'\"_+xX", *chars]).filter(lambda g: g != c)
    parts = data.draw(st.lists(st.one_of(st.sampled_from(pieces), glue), min_size=1, max_size=12))
    assert every_pattern[key][1].search("".join(parts)) is None

@given(
    st.text(min_size=5, max_size=40),
    st.sampled_from(
        [
            "EMAIL_ADDRESS",
            "PHONE_NUMBER",
            "US_SSN",
            "CREDIT_CARD",
            "IBAN_CODE",
            "IP_ADDRESS",
            "PERSON",
            "URL",
            "MEDICAL_RECORD_NUMBER",
            "DATE_TIME",
            "DATE_OF_BIRTH",
            "NATIONAL_ID",
            "ZIP_CODE",
        ]
    ),
)
def test_mask_value_never_contains_the_raw_value(value, entity):
    if not value.strip() or len(value.strip()) < 5:
        return
    assert value.strip() not in mask_value(value, entity)


def test_mask_examples():
    assert mask_value("john.smith@example.org", "EMAIL_ADDRESS") == "j***@***.org"
    assert mask_value("212-555-0199", "PHONE_NUMBER") == "***-***-0199"
    assert mask_value("John Smith", "PERSON") == "J*** S***"
    assert mask_value("MRN: 00123456", "MEDICAL_RECORD_NUMBER") == "MRN: ******56"
    assert mask_value("10.1.2.3", "IP_ADDRESS") == "10.***.***.***"


def test_finding_to_dict_is_plain_json():
    f = PiiFinding("d", "c", "EMAIL_ADDRESS", np.int64(3), "j***@***.org", (np.int64(1), 2), np.float64(0.85))
    data = f.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["row_indices"] == [1, 2] and data["rows_affected"] == 3 and data["blocking"] is True


# --------------------------------------------------------------------------------------------
# The checks end to end on the demo registry (real MLflow store, plugin through pytester)


def _seeded_raw_values(registry) -> list[str]:
    """Every identifier the demo builder seeded into the dirty split, read back from its files."""
    import re

    clean = pd.read_csv(registry / "data" / "mm_fusion_v1_train.csv")
    dirty = pd.read_csv(registry / "data" / "dirty" / "mm_fusion_v1_train.csv")
    seeded_notes = dirty.loc[dirty["clinical_note"] != clean["clinical_note"], "clinical_note"].tolist()
    assert len(seeded_notes) >= 20
    raw: set[str] = set()
    for note in seeded_notes:
        raw.update(re.findall(r"[\w.]+@[\w.]+\w", note))
        raw.update(re.findall(r"\(\d{3}\) \d{3}-\d{4}", note))
        raw.update(re.findall(r"\d{3}-\d{4}", note))
        raw.update(re.findall(r"MRN: (\d+)", note))
        raw.update(re.findall(r"Patient ([A-Z][a-z]+ [A-Z][a-z]+)", note))
    evaluation = pd.read_csv(registry / "data" / "dirty" / "mm_fusion_v1_eval.csv")
    shared = set(evaluation["patient_id"]) & set(dirty["patient_id"])
    assert len(shared) == 25
    raw.update(shared)
    return sorted(raw)


@pytest.mark.slow
def test_dirty_demo_model_is_blocked_by_pii_and_leakage_with_no_raw_value_in_any_output(audit):
    result = audit.run("cl_unimodal_v2_dirty", "--audit-checks=pii,leakage,data_license")
    outcomes = audit.outcomes()
    assert (outcomes["pii"], outcomes["leakage"], outcomes["data_license"]) == ("failed", "failed", "passed")
    assert audit.report()["status"] == "BLOCKED" and result.ret != 0
    checks = {c["id"]: c for c in audit.report()["checks"]}
    pii_evidence = checks["pii"]["evidence"]
    assert pii_evidence["status"] == "pii_found"
    assert {f["entity_type"] for f in pii_evidence["findings"]} >= {
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "MEDICAL_RECORD_NUMBER",
    }
    assert pii_evidence["claims"]["mm_fusion_v1_train"] == "scrubbed"  # recorded, and contradicted
    assert "tagged 'scrubbed'" in checks["pii"]["summary"]
    leakage = checks["leakage"]["evidence"]["pairs"][0]
    assert leakage["id_overlap"][0]["shared_ids"] == 25
    assert leakage["duplicate_rows"]["eval_rows"] == 25

    raw_values = _seeded_raw_values(audit.registry)
    written = [p for p in audit.pytester.path.rglob("*") if p.is_file() and p.suffix != ".toml"]
    assert any(p.name == "audit_report.json" for p in written)
    texts = {p: p.read_bytes().decode("utf-8", errors="replace") for p in written}
    texts["<terminal>"] = result.stdout.str() + result.stderr.str()
    leaks = [(str(p), raw) for p, text in texts.items() for raw in raw_values if raw in text]
    assert leaks == []


@pytest.mark.slow
def test_clean_demo_model_passes_pii_leakage_and_data_license(audit):
    audit.run("cl_unimodal_v2", "--audit-checks=pii,leakage,data_license")
    outcomes = audit.outcomes()
    assert (outcomes["pii"], outcomes["leakage"], outcomes["data_license"]) == ("passed", "passed", "passed")
    checks = {c["id"]: c for c in audit.report()["checks"]}
    assert checks["pii"]["evidence"]["status"] == "clean"
    assert checks["leakage"]["evidence"]["statement"] == "Leakage Verified: patient ID audit"
    assert {d["license"] for d in checks["data_license"]["evidence"]["datasets"]} == {"Internal-Only"}


@pytest.mark.slow
def test_data_license_fails_when_the_tag_is_missing_or_not_allowed(audit):
    from conftest import EXAMPLES

    policy = (EXAMPLES / "pyproject.toml").read_text(encoding="utf-8")
    table = '[tool.release_audit.models."cl_unimodal_*".data_license'
    assert table + ".allowed]" in policy
    missing = policy.replace(table + ".allowed]", table + ']\ntag_keys = ["usage_terms"]\n\n' + table + ".allowed]")
    (audit.pytester.path / "missing.toml").write_text(missing, encoding="utf-8")
    audit.run("cl_unimodal_v2", "--audit-checks=data_license", "--audit-policy=missing.toml")
    check = {c["id"]: c for c in audit.report()["checks"]}["data_license"]
    assert check["outcome"] == "failed"
    assert check["summary"].startswith("Data licence: mm_curated_q225 (raw), ")
    assert "(evaluation): no licence tag (usage_terms); log each with its licence: " in check["summary"]
    assert check["summary"].endswith("mlflow.log_input(dataset, context=..., tags={'usage_terms': '<SPDX id>'})")

    refused = policy.replace('production = ["Internal-Only"]', 'production = ["CC0-1.0"]')
    (audit.pytester.path / "refused.toml").write_text(refused, encoding="utf-8")
    audit.run("cl_unimodal_v2", "--audit-checks=data_license", "--audit-policy=refused.toml")
    check = {c["id"]: c for c in audit.report()["checks"]}["data_license"]
    assert check["outcome"] == "failed"
    assert "'Internal-Only' not on the policy's list for production (CC0-1.0)" in check["summary"]
    assert {d["status"] for d in check["evidence"]["datasets"]} == {"not_allowed"}


def test_common_placeholder_identities_are_still_found():
    """Jane Doe, O'Neil / McDonald surnames and presidio's "sample" SSN all count in training data."""
    import pandas as pd

    from pytest_release_audit.policy import default_policy
    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe

    section = default_policy().section("pii")
    df = pd.DataFrame({"notes": ["Contact Jane Doe tomorrow", "Michael O'Neil reported pain", "Linda McDonald seen",
                                 "ssn: 123-45-6789", "Reviewed imaging; plan unchanged."]})
    result = scan_dataframe(df, "t", engine=build_engine(section), policy_section=section)
    found = {(f.entity_type, tuple(f.row_indices)) for f in result.findings}
    assert ("PERSON", (0, 1, 2)) in found
    assert ("US_SSN", (3,)) in found
    assert not any("Jane" in f.masked_sample or "123-45" in f.masked_sample for f in result.findings)


def test_decimal_numbers_read_as_text_are_not_card_numbers():
    """A numeric column with one bad cell is read as text; its 16-digit floats pass Luhn by chance."""
    import numpy as np
    import pandas as pd

    from pytest_release_audit.policy import default_policy
    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe

    section = default_policy().section("pii")
    values = [repr(float(v)) for v in np.random.default_rng(0).normal(size=400)] + ["1-0.25", "4111 1111 1111 1111"]
    result = scan_dataframe(pd.DataFrame({"f0": values}), "t", engine=build_engine(section), policy_section=section)
    cards = [f for f in result.findings if f.entity_type == "CREDIT_CARD"]
    assert len(cards) == 1 and cards[0].rows_affected == 1 and cards[0].row_indices == (401,)


def _raw_and_splits() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A raw table with PII of several types in its notes, and two splits that repeat most of its
    values (one adds values the raw table does not have)."""
    rng = np.random.default_rng(7)
    kinds = [
        lambda i: f"Call back on 212-555-{i % 10000:04d} about the scan.",
        lambda i: f"Email pat{i}@example.org the results.",
        lambda i: f"Stable disease, review {i}.",
        lambda i: f"MRN: {1000000 + i} seen today.",
        lambda i: f"Seen with daughter Mary Jones, visit {i}.",
    ]
    notes = [kinds[i % len(kinds)](i) for i in range(6000)]
    raw = pd.DataFrame({"patient_id": np.arange(6000) + 10**6, "clinical_note": notes,
                        "site": rng.choice(["north", "south"], 6000)})
    train = raw.iloc[rng.permutation(6000)[:4000]].reset_index(drop=True)
    extra = pd.DataFrame({"patient_id": [1, 2], "clinical_note": ["SSN 536-22-1234 on file", "Fine."],
                          "site": ["north", "north"]})
    evaluation = pd.concat([raw.iloc[4000:5000], extra], ignore_index=True)
    return raw, train, evaluation


def _everything(result) -> tuple:
    """All of a scan result but its timing, with the flagged map in order."""
    return (result.to_dict() | {"seconds": None}, list(result.flagged.items()), result.values_analyzed)


def test_values_shared_between_datasets_are_analysed_once_with_the_answers_of_a_fresh_scan():
    raw, train, evaluation = _raw_and_splits()
    shared = build_engine()
    fresh = [scan_dataframe(df, name, engine=build_engine()) for name, df in
             (("raw", raw), ("train", train), ("eval", evaluation))]
    reused = [scan_dataframe(df, name, engine=shared) for name, df in
              (("raw", raw), ("train", train), ("eval", evaluation))]
    assert fresh[0].findings and fresh[2].blocking  # the fixture has something to find
    assert {f.entity_type for f in fresh[2].findings} >= {"US_SSN", "EMAIL_ADDRESS"}
    for a, b in zip(fresh, reused, strict=True):
        assert _everything(a) == _everything(b)
    # the splits added only their own new values to what the engine remembers
    seen = next(v for (context, _), v in shared.seen.items() if context[0] == "clinical_note")
    assert len(seen.values) == raw["clinical_note"].nunique() + 2
