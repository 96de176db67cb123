# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence: what a compliance check records, carried to the reports as plain JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any


class Evidence(dict[str, Any]):
    """A dict of plain-JSON facts a check records, plus a one-line ``summary`` and attachments.

    Example::

        def test_calibration(audit_evidence):
            audit_evidence["ece"] = 0.031
            audit_evidence.summary = "ECE 0.031 (limit 0.05)"
            audit_evidence.attach(audit_out / "calibration.png")
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary: str = ""
        self.artifacts: list[str] = []

    def attach(self, path: str | Path) -> None:
        """Record a file the check wrote (a plot, SARIF, ...) so reports link or embed it."""
        self.artifacts.append(str(path))


def to_plain(value: Any, depth: int = 0) -> Any:
    """Convert ``value`` to plain JSON (numpy scalars, paths, dates, sets); NaN/inf become None."""
    if depth > 50:
        return str(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v, depth + 1) for v in items]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return to_plain(to_dict(), depth + 1)
        except TypeError:
            pass
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return to_plain(item(), depth + 1)
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist):
        return to_plain(tolist(), depth + 1)
    return str(value)


def plain_json(value: Any) -> Any:
    """``to_plain`` and a JSON round trip: guaranteed to cross xdist and land in reports."""
    return json.loads(json.dumps(to_plain(value), allow_nan=False))
