# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What a PII scan reports: findings with masked samples, never a raw value."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
        """Plain JSON types only."""
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
    ner_columns: tuple[str, ...] = ()  # free-text columns the NER pipeline read

    @property
    def blocking(self) -> tuple[PiiFinding, ...]:
        """The findings that block a release."""
        return tuple(f for f in self.findings if f.blocking)

    @property
    def flagged_columns(self) -> tuple[str, ...]:
        """Columns with at least one finding, sorted."""
        return tuple(sorted({f.column for f in self.findings}))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; ``flagged`` is left out."""
        return {
            "dataset": self.dataset,
            "rows": int(self.rows),
            "findings": [f.to_dict() for f in self.findings],
            "columns_scanned": list(self.columns_scanned),
            "columns_skipped": dict(self.columns_skipped),
            "ner_columns": list(self.ner_columns),
            "allowed": [f.to_dict() for f in self.allowed],
            "values_scanned": int(self.values_scanned),
            "values_analyzed": int(self.values_analyzed),
            "seconds": round(float(self.seconds), 3),
        }


def rows_text(n: int) -> str:
    """``1 row`` / ``14 rows`` / ``1,204 rows``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def masked_summary(findings: Iterable[PiiFinding]) -> str:
    """``notes: EMAIL_ADDRESS 14 rows, PERSON 3 rows; contact: PHONE_NUMBER 2 rows`` (no values)."""
    by_column: dict[str, list[str]] = {}
    for f in findings:
        by_column.setdefault(f"{f.dataset}:{f.column}", []).append(f"{f.entity_type} {rows_text(f.rows_affected)}")
    return "; ".join(f"{col}: {', '.join(items)}" for col, items in by_column.items())
