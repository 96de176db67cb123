# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Pydantic validation errors as one-line policy messages naming the key path.

``unknown policy key 'pii.thresold' (known keys here: ...)``, ``policy key 'bias.columns' must be
a list of strings, got 'sex'``: the texts users, tests and the fault matrix rely on.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.policy.sections import policy_keys, shown

_KINDS: dict[Any, str] = {str: "a string", bool: "true/false", int: "an integer", float: "an integer or a number"}


def policy_error(exc: ValidationError, model: type[BaseModel], raw: Any, prefix: str = "") -> PolicyError:
    """The first error of ``exc`` (validating ``raw`` as ``model``) as a ``PolicyError``.

    ``prefix`` is the key path of ``raw`` inside the policy file (``models.NAME``, ``waivers[0]``).
    """
    error = exc.errors()[0]
    parts, annotation, parent = _walk(model, error["loc"])
    path = _join(prefix, parts)
    if error["type"] == "policy":
        ctx = error.get("ctx") or {}
        return PolicyError(f"policy key {shown(_join(path, [ctx['key']] if ctx.get('key') else []))} {ctx['detail']}")
    if error["type"] == "extra_forbidden" and parent is not None:
        known = ", ".join(sorted(policy_keys(parent)))
        return PolicyError(f"unknown policy key {shown(path)} (known keys here: {known})")
    if error["type"] == "invalid_key" or "[key]" in error["loc"]:
        got = shown(error["input"])
        return PolicyError(f"policy key {shown(path)} is not a string, got {got}: name keys with strings")
    if error["type"] == "missing":
        if "waivers" not in path:
            return PolicyError(f"policy key {shown(path)} is missing: set it (the table needs {parts[-1]})")
        return PolicyError(f"policy key {shown(path)} is missing: a waiver needs {parts[-1]}")
    return PolicyError(f"policy key {shown(path)} must be {_kind(annotation)}, got {shown(_value_at(raw, parts))}")


def _join(prefix: str, parts: list[str]) -> str:
    return ".".join([prefix, *parts] if prefix else parts)


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[list[str], Any, type[BaseModel] | None]:
    """The key path ``loc`` names, the annotation found there and the model holding the last key.

    Stops at a list (an element error is reported against the whole list, as before).
    """
    parts: list[str] = []
    annotation: Any = model
    parent: type[BaseModel] | None = None
    for item in loc:
        annotation = unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            parent = annotation
            field = annotation.model_fields.get(policy_keys(annotation).get(str(item), ""))
            annotation = field.annotation if field is not None else None
        elif typing.get_origin(annotation) is dict:
            parent = None
            annotation = typing.get_args(annotation)[1]
        else:
            break
        parts.append(str(item))
    return parts, unwrap(annotation), parent


def unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` as ``X``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return unwrap(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType):
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return unwrap(rest[0]) if len(rest) == 1 else annotation
    return annotation


def _kind(annotation: Any) -> str:
    if typing.get_origin(annotation) is tuple:
        return "a list of strings"
    if typing.get_origin(annotation) is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "a table"
    return _KINDS.get(annotation, "a valid value")


def _value_at(raw: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(raw, dict):
            break
        raw = raw.get(part)
    return raw
