# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The logic of the built-in checks, one module per family; no pytest here.

Each ``assess_*`` function takes plain inputs (the model handle, datasets, a policy section) and
returns a ``RuleResult``; the check in ``pytest_release_audit.checks`` records it and asserts.
"""

from __future__ import annotations

from pytest_release_audit.rules.result import RuleResult

__all__ = ["RuleResult"]
