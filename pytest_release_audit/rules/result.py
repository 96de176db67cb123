# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``RuleResult``: what one built-in rule found, in the shape its check records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.report.contracts import CheckEvidence

#: how many offending files / findings a message lists before "+N more"
SHOWN = 5
#: how many findings the evidence of a scanner check lists
EVIDENCE_LIMIT = 50


@dataclass
class RuleResult:
    """The evidence (the check's contract record), one-line summary, attachments and verdict of a rule."""

    evidence: CheckEvidence | None = None
    summary: str = ""
    passed: bool = True
    message: str = ""
    attachments: list[Path] = field(default_factory=list)

    @classmethod
    def failure(cls, message: str, evidence: CheckEvidence | None = None) -> RuleResult:
        """A rule that could not be judged on its inputs: fails with ``message``, keeps what it knew."""
        return cls(evidence=evidence, passed=False, message=message)

    def record(self, evidence: Evidence) -> None:
        """Write the facts (as plain JSON), the summary and the attachments into a check's ``audit_evidence``."""
        if self.evidence is not None:
            evidence.update(self.evidence.to_dict())
        evidence.summary = self.summary
        for path in self.attachments:
            evidence.attach(path)


@contextmanager
def kept_on_error(sink: Evidence | None, known: CheckEvidence) -> Iterator[None]:
    """Run a step that may raise; if it does, what the rule already ``known`` is recorded into ``sink``."""
    try:
        yield
    except Exception:
        if sink is not None:
            RuleResult(evidence=known).record(sink)
        raise
