# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The one place untrusted text is made inert: terminals, Markdown, HTML, XML, plot labels, logs.

Everything a report shows came from something the audit does not trust (registry tags, column
names, exception texts, a model's own output). Every renderer passes it through one of these:

- ``clean``: no ANSI escapes, control characters or bidirectional overrides; one line unless
  ``multiline``; ``one_line`` also cuts to a length.
- ``escape_md`` (``md_cell``, ``md_text``): one value for Markdown (and the HTML it becomes).
- ``md_code``: text inside a code span in a table.
- ``xml_text``: also drops what XML 1.0 forbids (JUnit).
"""

from __future__ import annotations

import re
from typing import Any

from pytest_release_audit.report.format import number

#: Longest value a report cell shows.
MAX_VALUE_CHARS = 1000

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST) and two-byte escapes.
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-9;?]*[ -/]*[@-~]")
# C0 (but tab/newline/CR, handled per use) and C1 controls, DEL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidirectional overrides can make a cell read differently from what it contains ("Trojan Source").
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff]")
# Everything XML 1.0 forbids (tab, newline and CR are allowed).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def clean(text: object, *, multiline: bool = False) -> str:
    """``text`` without escapes, control characters and bidi overrides.

    One line (whitespace runs, newlines too, become one space) unless ``multiline``, which keeps
    newlines and turns tabs into four spaces.
    """
    value = _BIDI.sub("", ANSI.sub("", str(text)))
    value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be written
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        return _CONTROL.sub("", value.replace("\t", "    "))
    return " ".join(_CONTROL.sub(" ", value.replace("\n", " ").replace("\t", " ")).split())


def strip_control(text: object) -> str:
    """One clean line (``clean`` with defaults): for terminals and one-line summaries."""
    return clean(text)


def one_line(text: object, limit: int = MAX_VALUE_CHARS) -> str:
    """One clean line of at most ``limit`` characters (``…`` marks a cut)."""
    value = clean(text)
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


def xml_text(text: object, *, multiline: bool = True) -> str:
    """``clean`` and nothing XML 1.0 forbids: for JUnit attributes and bodies."""
    return _XML_ILLEGAL.sub("", clean(text, multiline=multiline))


# Characters escaped wherever they occur. HTML-significant ones become entities (so a Markdown
# renderer that allows inline HTML sees text), Markdown-significant ones get a backslash
# (CommonMark escapes any ASCII punctuation that way; GFM tables honour ``\|``), braces become
# entities so no template engine ever sees ``{{``. One pass, so nothing is escaped twice.
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "`": "&#96;",
    "{": "&#123;",
    "}": "&#125;",
    "\\": "\\\\",
    "|": "\\|",
    "*": "\\*",
    "~": "\\~",
    "$": "\\$",
}


def _clean_text(value: Any) -> str:
    """``value`` as one line of printable text (booleans as yes/no, floats rounded), cut to a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = number(value, places=3)
    else:
        text = str(value)
    return one_line(text, MAX_VALUE_CHARS)


def escape_md(value: Any) -> str:
    """Escape one value for a Markdown table cell, list item or paragraph (and the HTML it becomes).

    The result is a single line; it cannot end a table cell, open a code span, HTML tag, link,
    emphasis, heading, list or quote, and contains no ``{{``/``{%`` a template engine could
    evaluate. Characters that are only syntax in some positions (``_ [ ] # - +``) are escaped only
    there, so names like ``cl_unimodal_v2`` and intervals like ``[0.68, 0.74]`` stay readable.
    """
    text = _clean_text(value)
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i < last else ""
        if ch == "_":
            # Intraword underscores never open or close emphasis (CommonMark).
            inner = i > 0 and text[i - 1].isalnum() and nxt.isalnum()
            out.append("_" if inner else "\\_")
        elif ch == "]":
            # A link, image or reference definition needs "](", "][" or "]:".
            out.append("\\]" if nxt in ("(", "[", ":") else "]")
        elif ch == "[" and i == 0 and re.match(r"^\[[ xX]\]", text):
            out.append("\\[")  # "- [x] ..." would become a task-list checkbox
        else:
            out.append(_ESCAPES.get(ch, ch))
    escaped = "".join(out)
    # Block syntax only matters at the start of a line: headings, list markers, thematic breaks,
    # setext underlines, ordered-list numbers. "+0.02" and "-1.5" are numbers, not list markers.
    if escaped[:1] in ("#", "=") or (escaped[:1] in ("-", "+") and not escaped[1:2].isdigit()):
        escaped = "\\" + escaped
    match = re.match(r"^(\d{1,9})([.)])(\s|$)", escaped)
    if match:
        escaped = match.group(1) + "\\" + escaped[match.end(1) :]
    return escaped


def md_cell(text: object) -> str:
    """Escape a value for a Markdown table cell or paragraph (one escaping rule for every report)."""
    return escape_md(text)


def md_text(text: object) -> str:
    """Escape a value for running Markdown text (same rules as a cell)."""
    return escape_md(text)


def md_code(text: object) -> str:
    """Text for inside a code span in a table: no backticks, pipes escaped (GFM splits cells on them
    even in code); nothing else, since backslash escapes are shown literally in code."""
    return clean(text).replace("`", "'").replace("|", "\\|")
