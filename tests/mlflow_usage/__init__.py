# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Registries built the way MLflow users build them.

A package so its conftest does not shadow ``tests/conftest.py``.
"""
