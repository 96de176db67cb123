# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Rendering an audit: the result model, typed evidence, terminal, Markdown, HTML, JUnit and the model card."""
