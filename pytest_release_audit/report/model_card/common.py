# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What every part of the model card shares: its sections, the words for absent content, small readers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import CheckEvidence
from pytest_release_audit.report.format import as_number, interval

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import CheckResult

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_TEMPLATE = "model_card.md.j2"
CARD_FILENAME = "model_card.md"

#: The card's ``##`` sections, in order (seed 000, phase 3).
SECTIONS: tuple[str, ...] = (
    "Overview",
    "Training Data",
    "Performance Metrics",
    "Limitations & Bias",
    "Serving",
    "Lineage",
    "Approval Chain",
    "Compliance Checklist",
)
#: Overview rows that must hold a real value for a card to be complete.
REQUIRED_OVERVIEW: tuple[str, ...] = ("Model Name", "Version", "Task")

NOT_RECORDED = "not recorded"
NOT_RUN = "not run"
INFERRED_TASKS = {
    "survival": "Survival prediction (inferred from the data)",
    "binary": "Binary classification (inferred from the data)",
    "multiclass": "Multi-class classification (inferred from the data)",
    "regression": "Regression (inferred from the data)",
}
_VERBS = {"error": "errored", "failed": "failed", "skipped": "was skipped", "waived": "was waived"}


def text_of(item: Any) -> str:
    """``item`` as stripped text ("" for None)."""
    return "" if item is None else str(item).strip()


def capitalized(text: str) -> str:
    """``text`` with its first letter upper-case."""
    return text[:1].upper() + text[1:]


def ci_text(ci: Sequence[Any] | None, *, signed: bool = False, places: int = 3) -> str | None:
    """``[0.680, 0.740]`` when both ends are numbers, else None."""
    if ci is None or len(ci) != 2 or any(as_number(end) is None for end in ci):
        return None
    return interval(ci, signed=signed, places=places)


def not_run_text(check_id: str, check: CheckResult | None) -> str:
    """Why a check's evidence is absent: "not run: the bias check has not run" and the like."""
    if check is None:
        return f"{NOT_RUN}: the {check_id} check has not run"
    summary = text_of(check.summary)
    detail = f" ({summary})" if summary else ""
    if CheckEvidence.from_dict(check.evidence).ran is False:
        return f"{NOT_RUN}: the {check_id} check did not run{detail}"
    verb = _VERBS.get(check.outcome, check.outcome)
    return f"{NOT_RUN}: the {check_id} check {verb} without evidence{detail}"
