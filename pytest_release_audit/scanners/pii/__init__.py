# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""PII / PHI scan of tabular data with presidio-analyzer, offline by default.

``build_engine(policy_section)`` builds the analyzer (``engine``); ``scan_dataframe`` scans every
value of every column that can hold an identifier (``scan``); ``scan_metadata`` scans the names
and prose around the data (``metadata``). Findings carry masked samples, never a raw value
(``results``). Importing this package is cheap: presidio, spaCy, pandas and numpy are imported
only when an engine is built or a scan runs.

Modules: ``entities`` (entity-type vocabulary), ``names`` (identifier column names, the given-name
gazetteer), ``recognizers`` (the presidio recognizers and offline NLP engine; imported lazily),
``gates`` (which values a recognizer could report on), ``prefilter`` (their RE2 forms, proven
supersets), ``analyze`` (gating in RE2, then presidio on distinct values), ``pool`` (presidio across
the cores),
``columns`` (a column's values as strings), ``engine``, ``scan``, ``metadata``, ``results``.
"""

from __future__ import annotations

from pytest_release_audit.masking import mask_value
from pytest_release_audit.scanners.pii.engine import PiiEngine, build_engine
from pytest_release_audit.scanners.pii.entities import GAZETTEER_LABEL
from pytest_release_audit.scanners.pii.gates import PHONE_MIN_DIGITS
from pytest_release_audit.scanners.pii.metadata import scan_metadata
from pytest_release_audit.scanners.pii.results import PiiFinding, PiiScanResult, masked_summary, rows_text
from pytest_release_audit.scanners.pii.scan import scan_dataframe

__all__ = [
    "GAZETTEER_LABEL",
    "PHONE_MIN_DIGITS",
    "PiiEngine",
    "PiiFinding",
    "PiiScanResult",
    "build_engine",
    "mask_value",
    "masked_summary",
    "rows_text",
    "scan_dataframe",
    "scan_metadata",
]
