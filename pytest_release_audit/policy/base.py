# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What every policy section is built on: the strict, frozen ``Section`` and the error helpers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict
from pydantic_core import PydanticCustomError

#: A TOML array of strings, held as a tuple.
StrList = Annotated[tuple[str, ...], Strict(False)]


def shown(value: Any) -> str:
    """``repr(value)`` cut to one short line, for "got ..." in a message."""
    from pytest_release_audit.report.text import one_line  # late: report.build reads the policy

    return one_line(repr(value), 100)


def rule_error(detail: str, key: str = "") -> PydanticCustomError:
    """A semantic policy error: ``detail`` follows "policy key 'PATH'"; ``key`` extends PATH."""
    return PydanticCustomError("policy", "{detail}", {"detail": detail, "key": key})


def policy_keys(model: type[BaseModel]) -> dict[str, str]:
    """The keys a policy table of ``model`` accepts (a field's alias, else its name) -> field names."""
    return {field.alias or name: name for name, field in model.model_fields.items()}


class Section(BaseModel):
    """Base of every policy table: frozen, strict, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def plain(value: Any) -> Any:
    """``value`` with tuples as lists and mappings as dicts, recursively (TOML-shaped data)."""
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value
