# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``compliance`` marker: its help text, how its arguments are validated and read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pytest_release_audit.suite import CHECKS_DIR, child_spec

MARKER_HELP = (
    "compliance(id, title='', controls=[], severity='required'): a release-audit compliance check. "
    "It runs when pytest is given --audit-model=NAME and its outcome and audit_evidence land in the "
    "audit report; a required check that fails, errors or skips blocks the release."
)
SEVERITIES = ("required", "optional")
MARKER_KEYWORDS = ("id", "title", "controls", "severity")
CHECK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")


def marker_problem(marker: pytest.Mark) -> str | None:
    """Why a compliance marker's arguments are invalid (None when they are valid)."""
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
    if unknown:
        return f"unknown keyword {', '.join(unknown)} (known: {', '.join(MARKER_KEYWORDS)})"
    if len(marker.args) > 2:
        return "takes at most two positional arguments (id, title)"
    severity = marker.kwargs.get("severity", "required")
    if severity not in SEVERITIES:
        return f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"
    check_id = marker.args[0] if marker.args else marker.kwargs.get("id")
    if check_id is not None and (not isinstance(check_id, str) or not CHECK_ID.fullmatch(check_id)):
        return f"check id {check_id!r} must be letters, digits, '_', '.', ':' or '-'"
    controls = marker.kwargs.get("controls", ())
    if isinstance(controls, str) or not all(isinstance(c, str) for c in controls):
        return "controls must be a list of strings"
    return None


def compliance_info(item: pytest.Item) -> dict[str, Any] | None:
    """The compliance marker's id, title, controls and severity, or None for ordinary tests."""
    marker = item.get_closest_marker("compliance")
    if marker is None:
        return None
    check_id = marker.args[0] if marker.args else marker.kwargs.get("id")
    if not check_id:
        name = getattr(item, "originalname", item.name)
        check_id = name.removeprefix("test_")
    title = marker.kwargs.get("title") or (marker.args[1] if len(marker.args) > 1 else "")
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    return {
        "id": str(check_id),
        "title": str(title or (doc.strip().splitlines() or [str(check_id)])[0]),
        "controls": [str(c) for c in marker.kwargs.get("controls", ())],
        "severity": str(marker.kwargs.get("severity", "required")),
        "builtin": child_spec() is not None and Path(str(item.path)).parent == CHECKS_DIR,
    }
