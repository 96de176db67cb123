# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``# nosec`` comments: where they are, which tests they name, the justification they give."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_release_audit.scanners.security.findings import NosecComment, SecurityFinding

#: bandit's own pattern for a nosec comment (bandit/core/manager.py)
_NOSEC_RE = re.compile(r"#\s*nosec\b:?", re.IGNORECASE)
_CODE_RE = re.compile(r"^(B\d{3}|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$")
#: other tools' directives sharing the comment are not a justification
_DIRECTIVE_RE = re.compile(
    r"(noqa(:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*)?|type:\s*ignore(\[[^\]]*\])?|pragma:[^#]*|pylint:[^#]*)",
    re.IGNORECASE,
)


def nosec_line_for(finding: SecurityFinding, by_line: Mapping[tuple[str, int], NosecComment]) -> int | None:
    """The line of the nosec comment that silenced ``finding``, if any."""
    # bandit honours a nosec on the finding's line or anywhere in its statement's line range
    first, last = finding.line_range if finding.line_range != (0, 0) else (finding.line, finding.line)
    for line in [finding.line, *range(first, last + 1)]:
        if (finding.path, line) in by_line:
            return line
    return None


def find_nosec(root: Path, files: Sequence[str]) -> list[NosecComment]:
    """Every ``# nosec`` comment in ``files``, read from Python comment tokens as bandit does."""
    out = []
    for rel in files:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue  # bandit reports unreadable files as skipped
        try:
            for tok in tokenize.tokenize(io.BytesIO(data).readline):
                if tok.type == tokenize.COMMENT and _NOSEC_RE.search(tok.string):
                    codes, justification = parse_nosec(tok.string)
                    out.append(NosecComment(rel, tok.start[0], codes, justification))
        except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
            continue  # a file bandit cannot parse is reported as skipped by bandit itself
    return out


def parse_nosec(comment: str) -> tuple[tuple[str, ...], str]:
    """Split a nosec comment into the test ids/names it names and the justification around them.

    ``# nosec B603 B607 - argv is fixed`` -> ``(("B603", "B607"), "argv is fixed")``;
    ``# argv is fixed  # nosec: B603`` -> ``(("B603",), "argv is fixed")``; ``# nosec`` -> ``((), "")``.
    """
    match = _NOSEC_RE.search(comment)
    if not match:
        return (), ""
    before = comment[: match.start()]
    after = comment[match.end() :]
    codes: list[str] = []
    rest = after
    while True:
        token = re.match(r"[\s,/;]*([A-Za-z0-9_]+)", rest)
        if not token or not _CODE_RE.match(token.group(1)):
            break
        codes.append(token.group(1))
        rest = rest[token.end() :]
    # a trailing "# other tool" directive after the justification is not part of it
    reason_after = rest.split("#", 1)[0]
    reason_before = _DIRECTIVE_RE.sub(" ", before.replace("#", " "))
    parts = [p.strip(" \t-–—:;,()[]") for p in (reason_after, reason_before)]
    return tuple(codes), " ".join(p for p in parts if p).strip()
