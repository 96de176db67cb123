# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``Record``: a frozen dataclass that reads and writes one plain-JSON evidence record.

``from_dict`` is tolerant: a missing key takes the field's default, a value of the wrong shape
(a string where a record or list belongs, a bool where a number belongs) is dropped the same way,
unknown keys are ignored. ``to_dict`` writes exactly the keys the record was read with (in their
order), so evidence read from a report round-trips unchanged; a record built with keywords writes
every field except those declared with ``optional()`` that are None.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

R = TypeVar("R", bound="Record")

_KEY = "key"
_OPTIONAL = "optional"


def optional(default: Any = None, *, key: str | None = None) -> Any:
    """A field whose key is left out of ``to_dict`` while it is None (checks write it only sometimes)."""
    return field(default=default, metadata={_OPTIONAL: True, **({_KEY: key} if key else {})})


def keyed(key: str, default: Any = None) -> Any:
    """A field stored under ``key`` (a JSON key that is not a Python name, e.g. ``tensor-spec``)."""
    return field(default=default, metadata={_KEY: key})


class _Mismatch(Exception):
    """A value does not have the shape its field declares."""


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field annotations of a record class (computed once per class)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _load(tp: Any, value: Any) -> Any:
    """``value`` converted to the annotation ``tp`` (records, tuples, dicts), or ``_Mismatch``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arm in (a for a in args if a is not type(None)):
            try:
                return _load(arm, value)
            except _Mismatch:
                continue
        raise _Mismatch
    if isinstance(tp, type) and issubclass(tp, Record):
        if not isinstance(value, Mapping):
            raise _Mismatch
        return tp.from_dict(value)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _Mismatch
        items = [_load(args[0] if args else Any, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch
        return {k: _load(args[1] if args else Any, v) for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return value  # JSON has one number type: 1 stays 1, so it is written back as read
    if tp in (int, float) and isinstance(value, bool):
        raise _Mismatch
    if isinstance(tp, type) and not isinstance(value, tp):
        raise _Mismatch
    return value


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _lost(data: Any, written: Any, path: str = "") -> str:
    """The first key path of ``data`` that ``written`` (its record's ``to_dict``) lacks, else ""."""
    if isinstance(data, Mapping) and isinstance(written, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in written:
                return where
            if lost := _lost(value, written[key], where):
                return lost
    elif isinstance(data, list | tuple) and isinstance(written, list | tuple):
        for number, (value, out) in enumerate(zip(data, written, strict=False)):
            if lost := _lost(value, out, f"{path}[{number}]"):
                return lost
    return ""


@dataclass(frozen=True)
class Record:
    """Base of every evidence record: keyword fields with defaults, ``from_dict`` / ``to_dict``."""

    #: The keys ``from_dict`` read (None for a record built with keywords).
    _keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_dict(cls: type[R], data: Any) -> R:
        """The record in ``data`` (a mapping; anything else gives the defaults)."""
        if not isinstance(data, Mapping):
            return cls(_keys=())
        hints = _hints(cls)
        kwargs: dict[str, Any] = {}
        read: set[str] = set()
        for f in dataclasses.fields(cls):
            key = f.metadata.get(_KEY, f.name)
            if f.name == "_keys" or key not in data:
                continue
            try:
                kwargs[f.name] = _load(hints[f.name], data[key])
            except _Mismatch:
                continue
            read.add(key)
        return cls(**kwargs, _keys=tuple(k for k in data if k in read))

    @classmethod
    def of(cls: type[R], data: Mapping[str, Any]) -> R:
        """The record in ``data``, which a check is about to write: a key it cannot hold raises ``ValueError``."""
        record = cls.from_dict(data)
        lost = _lost(data, record.to_dict())
        if lost:
            raise ValueError(
                f"{cls.__name__} cannot record evidence key {lost!r}: add it to pytest_release_audit/report/contracts"
            )
        return record

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values, with the keys the checks write."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "_keys":
                continue
            key, value = f.metadata.get(_KEY, f.name), getattr(self, f.name)
            if self._keys is None and f.metadata.get(_OPTIONAL) and value is None:
                continue
            if self._keys is None or key in self._keys:
                out[key] = _dump(value)
        return out if self._keys is None else {k: out[k] for k in self._keys if k in out}


@dataclass(frozen=True)
class CheckEvidence(Record):
    """Base of one built-in check's evidence. ``ran`` is False when the check never ran."""

    ran: bool | None = optional()
