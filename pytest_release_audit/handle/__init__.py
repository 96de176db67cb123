# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model handle: a registered version resolved, its artifacts scanned, scored in a worker of its own."""
