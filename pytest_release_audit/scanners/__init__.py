# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Scanners of what a release is made of: data (PII, leakage, licence), code (licences, security, dependencies)."""
