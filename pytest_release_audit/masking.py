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
written to a file. ``mask_value`` gives the masked form of one flagged value.
"""

from __future__ import annotations

import re
import threading
import types
from collections.abc import Callable, Mapping
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
        """Mask ``raw`` as ``masked`` (too short a string, or one already known, is left out)."""
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
        """A copy of raw -> masked."""
        with self._lock:
            return dict(self._table)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._table:
                alternatives = sorted(self._table, key=len, reverse=True)  # the longest match wins
                self._pattern = re.compile("|".join(re.escape(a) for a in alternatives))
            return self._pattern

    def text(self, value: str) -> str:
        """``value`` with every registered string masked (the longest match wins)."""
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


# --------------------------------------------------------------------------------------------
# The masked form of one value, by entity type: its shape, never the value itself


def _email(text: str, digits: str) -> str:
    if "@" not in text:
        return _other(text, digits)
    local, _, domain = text.rpartition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}***@***." + tld if tld else f"{local[:1]}***@***"


def _phone(text: str, digits: str) -> str:
    return "***-***-" + digits[-4:] if len(digits) >= 8 else "***"


def _ssn(text: str, digits: str) -> str:
    return "***-**-" + digits[-4:] if len(digits) == 9 else "***-**-****"


def _card(text: str, digits: str) -> str:
    return "****-****-****-" + digits[-4:] if len(digits) >= 12 else "****"


def _iban(text: str, digits: str) -> str:
    compact = re.sub(r"\s", "", text)
    return compact[:2].upper() + "**-****-" + compact[-4:] if len(compact) >= 12 else "****"


def _ip(text: str, digits: str) -> str:
    return text.split(".")[0] + ".***.***.***" if "." in text else text.split(":")[0] + ":****:…"


def _person(text: str, digits: str) -> str:
    return " ".join(w[:1] + "***" for w in text.split()) or "***"


def _url(text: str, digits: str) -> str:
    scheme = text.split("://", 1)[0] + "://" if "://" in text else ""
    host = text.split("://", 1)[-1].split("/", 1)[0]
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    return f"{scheme}***.{tld}" if tld else f"{scheme}***"


def _date(text: str, digits: str) -> str:
    return re.sub(r"\w", "*", text)


def _number(text: str, digits: str) -> str:
    """Keeps the label ("MRN: ") and the last 2 digits, stars every other digit."""
    keep = 2 if len(digits) >= 6 else 0
    out = []
    seen = 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > len(digits) - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def _other(text: str, digits: str) -> str:
    return text[:1] + "***" if len(text) > 4 else "***"


_MASKS: Mapping[str, Callable[[str, str], str]] = types.MappingProxyType(
    {
        "EMAIL_ADDRESS": _email,
        "PHONE_NUMBER": _phone,
        "US_SSN": _ssn,
        "CREDIT_CARD": _card,
        "IBAN_CODE": _iban,
        "IP_ADDRESS": _ip,
        "PERSON": _person,
        "URL": _url,
        "DATE_TIME": _date,
        "DATE_OF_BIRTH": _date,
        "MEDICAL_RECORD_NUMBER": _number,
        "ZIP_CODE": _number,
    }
)


def mask_value(value: Any, entity_type: str) -> str:
    """A masked rendering of ``value`` that keeps its shape, never the value itself.

    ``john.smith@example.org`` -> ``j***@***.org``; ``212-555-0199`` -> ``***-***-0199``;
    ``John Smith`` -> ``J*** S***``; ``MRN: 00123456`` -> ``MRN: ******56``.
    """
    text = str(value).strip()
    if text.endswith(" 00:00:00"):  # a pandas Timestamp holding a plain date
        text = text[: -len(" 00:00:00")]
    masked = _MASKS.get(entity_type.upper(), _other)(text, re.sub(r"\D", "", text))
    # Belt and braces: a masked sample must never contain the raw value.
    if len(text) >= 3 and text in masked:
        return "***"
    return masked
