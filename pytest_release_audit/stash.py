# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Stash keys shared by the plugin and the fixtures (no module globals, no config attributes)."""

from __future__ import annotations

import pytest

context_key = pytest.StashKey["AuditContext"]()
evidence_key = pytest.StashKey["Evidence"]()
#: The verdict ("READY" / "BLOCKED") once the session computed it; the exit code follows it.
verdict_key = pytest.StashKey[str]()
