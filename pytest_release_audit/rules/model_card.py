# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model_card rule: the release's model card can be generated and is complete.

The rule renders a *provisional* card from the model handle and the policy's ``[model_card]``
section and writes ``model_card.md`` to the output directory. It fails when a required part would
be empty or a placeholder remains: no task recorded or inferable, no training dataset, no lineage,
"TODO" or ``{{`` left in the text. Its verdict depends only on the handle and the policy, so check
order and xdist do not change it. The final card, with every check's outcome and the verdict, is
rendered by the plugin at session end with the same functions and overwrites this file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditError
from pytest_release_audit.report.contracts import ModelCardEvidence
from pytest_release_audit.report.model_card import CARD_FILENAME, INFERRED_TASKS, check_card, write_card
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.handle.model import ModelHandle


def _inferred_task(handle: ModelHandle, evaluation: Callable[[], LoadedDataset]) -> str:
    """The task the evaluation data implies, else what the registry records ("" when nothing says)."""
    from pytest_release_audit.task import recorded_task_title

    try:
        return INFERRED_TASKS.get(evaluation().task.kind, "")
    except AuditError:
        pass  # the data checks report why the data cannot be read
    return recorded_task_title(handle)


def assess_model_card(
    handle: ModelHandle,
    section: dict[str, Any],
    out_dir: Path,
    base_dir: Path,
    evaluation: Callable[[], LoadedDataset],
) -> RuleResult:
    """Render and write the provisional card; ``evaluation`` is read only when no task is recorded."""
    if not section.get("task") and not handle.tag("task"):
        section = {**section, "task": _inferred_task(handle, evaluation)}
    card = check_card(handle, section, (), base_dir=base_dir)
    path = write_card(card.markdown, Path(out_dir) / CARD_FILENAME)
    return RuleResult(
        evidence=ModelCardEvidence.of(
            {**card.evidence, "rendered_from": "handle and policy (the final card adds every check's outcome)"}
        ),
        summary=card.summary,
        passed=not card.missing,
        message=card.failure_message,
        attachments=[path],
    )
