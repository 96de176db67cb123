# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Making untrusted text inert for terminals, Markdown tables and one-line summaries."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f\x9b]")


def strip_control(text: object) -> str:
    """Remove ANSI escapes and control characters; newlines and tabs become spaces."""
    cleaned = _ANSI.sub("", str(text))
    return " ".join(cleaned.replace("\t", " ").split("\n")).replace("\r", " ")


def md_cell(text: object) -> str:
    """Escape a value for a Markdown table cell (pipes, markup, backticks, newlines)."""
    value = strip_control(text).replace("\\", "\\\\")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("|", "\\|").replace("`", "\\`").replace("{", "&#123;").replace("}", "&#125;")
    value = value.replace("[", "\\[").replace("]", "\\]").replace("*", "\\*").replace("_", "\\_")
    return value


def md_text(text: object) -> str:
    """Escape a value for running Markdown text (same rules as a cell)."""
    return md_cell(text)
