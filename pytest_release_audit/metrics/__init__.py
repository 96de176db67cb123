# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The measurements behind the gate and the bias check: bootstrap, survival, classification, subgroups."""
