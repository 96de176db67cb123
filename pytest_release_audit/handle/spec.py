# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Parse ``--audit-model`` specs: ``NAME``, ``NAME@ALIAS``, ``NAME/VERSION``, ``models:/NAME@ALIAS``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pytest_release_audit.errors import AuditConfigError

_ALIAS = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class ModelSpec:
    """What the user asked for. At most one of ``alias`` and ``version`` is set."""

    name: str
    alias: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.alias:
            return f"{self.name}@{self.alias}"
        if self.version:
            return f"{self.name}/{self.version}"
        return self.name


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raise AuditConfigError with the accepted forms when it is malformed."""
    forms = "use NAME, NAME@ALIAS, NAME/VERSION or models:/NAME@ALIAS"
    if not isinstance(spec, str):
        raise AuditConfigError(f"--audit-model must be a string ({forms})")
    text = spec.strip()
    if text.startswith("models:/"):
        text = text[len("models:/") :]
    if not text or any(ch in text for ch in "\n\r\t\x00") or text != text.strip():
        raise AuditConfigError(f"--audit-model {spec!r} is not a model spec: {forms}")
    if "@" in text:
        name, _, alias = text.rpartition("@")
        if not name or not alias or not _ALIAS.fullmatch(alias):
            raise AuditConfigError(f"--audit-model {spec!r}: bad alias {alias!r} ({forms})")
        return ModelSpec(name=name, alias=alias)
    name, sep, version = text.rpartition("/")
    # isdigit() alone also accepts "²" or "٣"; a registry version is ASCII digits
    is_number = version.isascii() and version.isdigit()
    if sep and is_number and name:
        return ModelSpec(name=name, version=str(int(version)))
    if sep and not version:
        raise AuditConfigError(f"--audit-model {spec!r}: missing version after '/' ({forms})")
    if sep and name and not is_number:
        raise AuditConfigError(f"--audit-model {spec!r}: version {version!r} is not a number ({forms})")
    return ModelSpec(name=text)
