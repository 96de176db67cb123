# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Stash keys shared by the plugin and the fixtures (no module globals, no config attributes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.reporter import AuditReporter
    from pytest_release_audit.session import AuditContext

context_key: pytest.StashKey[AuditContext] = pytest.StashKey()
evidence_key: pytest.StashKey[Evidence] = pytest.StashKey()
#: The verdict ("READY" / "BLOCKED") once the session computed it; the exit code follows it.
verdict_key: pytest.StashKey[str] = pytest.StashKey()
#: The controller's AuditReporter (the user's session only, never an xdist worker).
reporter_key: pytest.StashKey[AuditReporter] = pytest.StashKey()
