# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit policy: typed, validated settings read from ``[tool.release_audit]``.

``sections`` has one pydantic model per table, ``settings`` the top-level keys and waivers,
``core`` the ``Policy`` the audit consults, ``load`` the TOML reader and ``messages`` the one-line
errors.
"""

from __future__ import annotations

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.policy.core import DEFAULT_APPROVALS, DEFAULT_TIER_ROLES, RELAXABLE_TARGETS, Policy
from pytest_release_audit.policy.load import default_policy, load_policy, validate
from pytest_release_audit.policy.settings import BUILTIN_CHECKS, TARGETS, PolicySettings, Waiver

__all__ = [
    "BUILTIN_CHECKS",
    "DEFAULT_APPROVALS",
    "DEFAULT_TIER_ROLES",
    "RELAXABLE_TARGETS",
    "TARGETS",
    "Policy",
    "PolicyError",
    "PolicySettings",
    "Waiver",
    "default_policy",
    "load_policy",
    "validate",
]
