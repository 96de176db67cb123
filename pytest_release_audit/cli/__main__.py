# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``python -m pytest_release_audit.cli``: the ``release-audit`` command."""

from pytest_release_audit.cli import main

raise SystemExit(main())
