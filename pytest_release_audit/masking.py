# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Masking of what the PII scan flagged, wherever it would otherwise appear in an output.

The ``pii`` check never writes a raw value: its findings carry masked samples. But the same
strings can reach the reports by other roads: a column or dataset named with an e-mail address,
a bias subgroup whose level is a patient's name, a model description with a phone number, a tag.
The check registers every string it flagged (``register``) with its masked form; the checks
session sends the table to your session, which applies it (``Masker.apply``) to every check's
evidence and summary, the errors and notes, and the model card's context before anything is
rendered, so the JSON, Markdown, HTML, JUnit, the model card, the terminal and the trail record
show ``j***@***.org`` where the raw string was.

The table itself lives only in memory (and on the pipe between the two sessions); it is never
written to a file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

#: Flagged strings shorter than this are not masked (they would garble ordinary words).
MIN_LENGTH = 3
#: At most this many strings are kept (the most distinct values a report could show is far less).
MAX_STRINGS = 50_000


class Masker:
    """Replaces each registered raw string by its mask in strings and nested JSON-like values."""

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        self._table: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        for raw, masked in (table or {}).items():
            self.add(raw, masked)

    def add(self, raw: str, masked: str) -> None:
        raw = str(raw)
        if len(raw.strip()) < MIN_LENGTH or raw == masked:
            return
        with self._lock:
            if raw not in self._table and len(self._table) < MAX_STRINGS:
                self._table[raw] = str(masked)
                self._pattern = None

    def __bool__(self) -> bool:
        return bool(self._table)

    def table(self) -> dict[str, str]:
        with self._lock:
            return dict(self._table)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._table:
                alternatives = sorted(self._table, key=len, reverse=True)  # the longest match wins
                self._pattern = re.compile("|".join(re.escape(a) for a in alternatives))
            return self._pattern

    def text(self, value: str) -> str:
        pattern = self._compiled()
        if pattern is None or not value:
            return value
        return pattern.sub(lambda m: self._table[m.group(0)], value)

    def apply(self, value: Any) -> Any:
        """``value`` with every registered string masked, in keys and values, at any depth."""
        if not self:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.apply(k) if isinstance(k, str) else k: self.apply(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            items = [self.apply(v) for v in value]
            return items if isinstance(value, list) else tuple(items)
        return value


_PROCESS = Masker()


def register(raw: str, masked: str) -> None:
    """Mask ``raw`` as ``masked`` in every output of this audit (called by the ``pii`` check)."""
    _PROCESS.add(raw, masked)


def process_masker() -> Masker:
    """The strings this process's checks flagged so far."""
    return _PROCESS
