# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Stash keys shared by the plugin and the fixtures (no module globals, no config attributes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.report.model import CheckResult
    from pytest_release_audit.session import AuditContext

context_key = pytest.StashKey["AuditContext"]()
evidence_key = pytest.StashKey["Evidence"]()
results_key = pytest.StashKey["list[CheckResult]"]()
