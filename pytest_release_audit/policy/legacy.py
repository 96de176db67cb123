# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``SCHEMA``: the policy's keys and defaults in the old ``{key: (type, default)}`` shape.

Kept for compatibility with callers that have not moved to the section models
(``scanners/pii.py``, the hostile-input tests); derived from the models, so it cannot drift.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from pytest_release_audit.policy.messages import unwrap
from pytest_release_audit.policy.sections import plain, policy_keys
from pytest_release_audit.policy.settings import PolicySettings


def legacy_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model`` as nested tables of ``(type, default)`` leaves; a free-form table is ``{"*": leaf}``."""
    out: dict[str, Any] = {}
    for key, name in policy_keys(model).items():
        field = model.model_fields[name]
        annotation = unwrap(field.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[key] = legacy_schema(annotation)
        elif typing.get_origin(annotation) is dict:
            out[key] = {"*": (unwrap(typing.get_args(annotation)[1]), None)}
        else:
            out[key] = (annotation, plain(field.get_default(call_default_factory=True)))
    return out


SCHEMA: dict[str, Any] = legacy_schema(PolicySettings)
