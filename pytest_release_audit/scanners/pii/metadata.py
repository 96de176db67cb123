# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The PII scan of what surrounds the data: column and dataset names, descriptions, tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pytest_release_audit.masking import mask_value
from pytest_release_audit.scanners.pii.analyze import analyze_values
from pytest_release_audit.scanners.pii.engine import PiiEngine
from pytest_release_audit.scanners.pii.entities import METADATA_ENTITIES, VALUE_FLAGGED_IN_DATA
from pytest_release_audit.scanners.pii.results import PiiFinding

#: A flagged data value shorter than this is not looked for in metadata.
MIN_FLAGGED_LENGTH = 3


def _found(texts: list[str], engine: PiiEngine, data_flagged: Mapping[str, str]) -> dict[str, list[tuple[str, str]]]:
    """text -> [(entity, raw string)] for each text with something to report."""
    wanted = {e for e in METADATA_ENTITIES if e not in set(engine.ignored)}
    hits, _ = analyze_values(engine, texts, []) if texts and wanted else ({}, 0)
    found: dict[str, list[tuple[str, str]]] = {}
    for i, value_hits in hits.items():
        for hit in value_hits:
            if hit.entity in wanted:
                found.setdefault(texts[i], []).append((hit.entity, texts[i][hit.start : hit.end]))
    for raw in data_flagged:
        for text in texts:
            if raw in text and len(raw) >= MIN_FLAGGED_LENGTH:
                found.setdefault(text, []).append((VALUE_FLAGGED_IN_DATA, raw))
    return found


def scan_metadata(
    items: Sequence[tuple[str, str]], engine: PiiEngine, data_flagged: Mapping[str, str] | None = None
) -> tuple[list[PiiFinding], dict[str, str]]:
    """Scan names and prose around the data: ``items`` are (where, text), e.g. ("column name of train", ...).

    Returns blocking findings (``dataset`` "metadata", ``column`` the *where* label, never the raw
    text) and raw -> masked for every flagged string. A text that contains a value the data scan
    flagged (``data_flagged``) is a finding too: a patient's name used as a column or subgroup label.
    """
    data_flagged = data_flagged or {}
    found = _found(sorted({t for _, t in items if isinstance(t, str) and t.strip()}), engine, data_flagged)
    flagged: dict[str, str] = {}
    findings: list[PiiFinding] = []
    seen: set[tuple[str, str]] = set()
    for where, text in items:
        for entity, raw in found.get(text, []):
            masked = data_flagged.get(raw) if entity == VALUE_FLAGGED_IN_DATA else None
            flagged[raw] = masked = masked or mask_value(raw, entity)
            if (where, entity) in seen:
                continue
            seen.add((where, entity))
            findings.append(
                PiiFinding(
                    dataset="metadata",
                    column=where,
                    entity_type=entity,
                    rows_affected=1,
                    masked_sample=masked,
                    row_indices=(),
                    max_score=1.0,
                    detector="metadata scan",
                )
            )
    return findings, flagged
