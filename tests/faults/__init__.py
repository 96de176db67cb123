# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The fault-injection matrix (a package so its conftest does not shadow ``tests/conftest.py``)."""
