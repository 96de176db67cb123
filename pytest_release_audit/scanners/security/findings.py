# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What a security scan found: bandit findings, ``# nosec`` comments, and the verdict on a tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RANKS = ("LOW", "MEDIUM", "HIGH")
RANK = {"UNDEFINED": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}


@dataclass(frozen=True)
class SecurityFinding:
    """One bandit finding, located by repository-relative path and 1-based line/column."""

    test_id: str
    test_name: str
    severity: str
    confidence: str
    cwe: int | None
    text: str
    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    more_info: str = ""
    blocking: bool = False
    nosec_line: int | None = None  # for a suppressed finding: the line of the nosec comment
    line_range: tuple[int, int] = (0, 0)  # the statement's first and last line (bandit's context)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        """``B602 subprocess ... shell=True at src/run.py:12`` for one-line messages."""
        return f"{self.test_id} {self.test_name.replace('_', ' ')} at {self.location}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_id": self.test_id,
            "test_name": self.test_name,
            "severity": self.severity,
            "confidence": self.confidence,
            "cwe": self.cwe,
            "text": self.text,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "blocking": self.blocking,
            "nosec_line": self.nosec_line,
            "more_info": self.more_info,
        }


@dataclass(frozen=True)
class NosecComment:
    """A ``# nosec`` comment: which tests it names (none = all) and the reason given, if any."""

    path: str
    line: int
    codes: tuple[str, ...]
    justification: str
    suppressed: tuple[str, ...] = ()  # test ids of the findings it silenced

    @property
    def justified(self) -> bool:
        return bool(re.search(r"[A-Za-z]{2,}", self.justification))

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "codes": list(self.codes),
            "blanket": not self.codes,
            "justification": self.justification,
            "justified": self.justified,
            "suppressed": list(self.suppressed),
        }


@dataclass(frozen=True)
class SecurityResult:
    """bandit's verdict on a tree under one policy."""

    files_scanned: int
    findings: tuple[SecurityFinding, ...]  # active findings (not silenced), all severities
    suppressed: tuple[SecurityFinding, ...] = ()  # findings silenced by a nosec comment
    nosec: tuple[NosecComment, ...] = ()
    skipped: tuple[str, ...] = ()  # "path: reason" for files bandit could not parse
    files_excluded: int = 0
    severity: str = "HIGH"
    confidence: str = "MEDIUM"
    require_nosec_justification: bool = False
    bandit_version: str = ""
    metrics: dict[str, int] = field(default_factory=dict)  # bandit's totals (loc, nosec, ...)

    @property
    def blocking_findings(self) -> tuple[SecurityFinding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def unjustified_nosec(self) -> tuple[NosecComment, ...]:
        return tuple(n for n in self.nosec if not n.justified)

    @property
    def blocking(self) -> bool:
        return bool(self.blocking_findings) or (
            self.require_nosec_justification and bool(self.unjustified_nosec)
        )

    def counts(self) -> dict[str, int]:
        """Active findings per severity."""
        out = {rank: 0 for rank in RANKS}
        for finding in self.findings:
            out[finding.severity] = out.get(finding.severity, 0) + 1
        return out

    def problems(self, limit: int = 3) -> list[str]:
        """One human line per blocking reason, with numbers."""
        out = []
        blocking = self.blocking_findings
        if blocking:
            by_sev: dict[str, int] = {}
            for f in blocking:
                by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
            counts = ", ".join(
                f"{n} {sev}" for sev, n in sorted(by_sev.items(), key=lambda kv: -RANK[kv[0]])
            )
            shown = "; ".join(f.describe() for f in blocking[:limit])
            more = f" (+{len(blocking) - limit} more)" if len(blocking) > limit else ""
            noun = "finding" if len(blocking) == 1 else "findings"
            out.append(
                f"{counts}-severity {noun} (policy blocks {self.severity}+ severity at "
                f"{self.confidence}+ confidence): {shown}{more}"
            )
        if self.require_nosec_justification and self.unjustified_nosec:
            bad = self.unjustified_nosec
            shown = ", ".join(n.location for n in bad[:limit])
            more = f" (+{len(bad) - limit} more)" if len(bad) > limit else ""
            out.append(
                f"{len(bad)} '# nosec' without a justification (policy requires one, e.g. "
                f"'# nosec B603 - argv is fixed'): {shown}{more}"
            )
        return out

    def summary(self) -> str:
        counts = self.counts()
        sev = ", ".join(f"{counts[r]} {r}" for r in reversed(RANKS))
        parts = [
            f"{len(self.blocking_findings)} blocking findings in {self.files_scanned} Python files ({sev})"
        ]
        parts.append(f"{len(self.nosec)} nosec comments silencing {len(self.suppressed)} findings")
        if self.skipped:
            parts.append(f"{len(self.skipped)} files not parsable")
        return "; ".join(parts)

    def to_dict(self, limit: int = 50) -> dict[str, Any]:
        return {
            "files_scanned": self.files_scanned,
            "files_excluded": self.files_excluded,
            "thresholds": {"severity": self.severity, "confidence": self.confidence},
            "require_nosec_justification": self.require_nosec_justification,
            "counts": self.counts(),
            "blocking_count": len(self.blocking_findings),
            "findings_count": len(self.findings),
            "findings": [f.to_dict() for f in self.findings[:limit]],
            "suppressed_count": len(self.suppressed),
            "suppressed": [f.to_dict() for f in self.suppressed[:limit]],
            "nosec_count": len(self.nosec),
            "nosec_unjustified_count": len(self.unjustified_nosec),
            "nosec": [n.to_dict() for n in self.nosec[:limit]],
            "skipped": list(self.skipped[:limit]),
            "bandit_version": self.bandit_version,
            "bandit_metrics": dict(self.metrics),
        }
