# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence of the operational_readiness check."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_release_audit.report.contracts.base import CheckEvidence, Record, optional


@dataclass(frozen=True)
class ReadinessRow(Record):
    """One readiness item: what evidences it, its date and age, and its status."""

    item: str = ""
    description: str = ""
    status: str = ""  # present, missing, stale, unreadable
    evidence: str | None = None  # the file at the commit, tag or artifact found
    kind: str | None = None  # file, tag, artifact
    date: str | None = None
    age_days: float | None = None
    max_age_days: int | None = None
    satisfy: str | None = None  # what would satisfy the item
    reason: str | None = optional()  # why it is missing or stale


@dataclass(frozen=True)
class OperationalReadinessEvidence(CheckEvidence):
    """``operational_readiness``: the policy's items, each evidenced (or not) at the commit or on the version."""

    applicable: bool | None = None
    target: str = ""
    required: bool | None = None
    commit: str | None = None
    items: tuple[ReadinessRow, ...] = ()
