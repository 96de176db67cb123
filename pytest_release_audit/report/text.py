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
    """Escape a value for a Markdown table cell or paragraph (one escaping rule for every report).

    Delegates to the model card's ``escape_md``: pipes, markup, braces and backticks are made
    inert, while ``cl_unimodal_v2`` and ``[0.63, 0.74]`` stay readable.
    """
    from pytest_release_audit.report.model_card import escape_md

    return escape_md(strip_control(text))


def md_text(text: object) -> str:
    """Escape a value for running Markdown text (same rules as a cell)."""
    return md_cell(text)


def md_code(text: object) -> str:
    """Text for inside a code span in a table: no backticks, pipes escaped (GFM splits cells on them
    even in code); nothing else, since backslash escapes are shown literally in code."""
    return strip_control(text).replace("`", "'").replace("|", "\\|")
