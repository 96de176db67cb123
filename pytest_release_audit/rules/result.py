# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``RuleResult``: what one built-in rule found, in the shape its check records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.evidence import Evidence

#: how many offending files / findings a message lists before "+N more"
SHOWN = 5
#: how many findings the evidence of a scanner check lists
EVIDENCE_LIMIT = 50


@dataclass
class RuleResult:
    """The evidence, one-line summary, attachments and verdict (with its one-line message) of a rule."""

    evidence: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    passed: bool = True
    message: str = ""
    attachments: list[Path] = field(default_factory=list)

    @classmethod
    def failure(cls, message: str, evidence: dict[str, Any] | None = None) -> RuleResult:
        """A rule that could not be judged on its inputs: fails with ``message``, summary left empty."""
        return cls(evidence=dict(evidence or {}), passed=False, message=message)

    def record(self, evidence: Evidence) -> None:
        """Write the facts, the summary and the attachments into a check's ``audit_evidence``."""
        evidence.update(self.evidence)
        evidence.summary = self.summary
        for path in self.attachments:
            evidence.attach(path)
