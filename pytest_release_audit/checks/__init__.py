# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The built-in compliance checks: each one fixtures in, one rule from ``rules``, evidence, assert."""
