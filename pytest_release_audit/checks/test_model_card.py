# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``model_card`` check: the release's model card can be generated and is complete.

The check renders a *provisional* card from the model handle and the policy's ``[model_card]``
section, writes ``model_card.md`` to the output directory and attaches it.
It fails when a required part would be empty or a placeholder remains: no task recorded or
inferable, no training dataset, no lineage, "TODO" or ``{{`` left in the text. Its verdict
depends only on the handle and the policy, so check order and xdist do not change it.

The final card, with every check's outcome and the verdict, is rendered by the plugin at session
end with the same ``build_context`` / ``render_model_card`` and overwrites this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_release_audit.errors import AuditError
from pytest_release_audit.report.model_card import CARD_FILENAME, INFERRED_TASKS, check_card, write_card


@pytest.mark.compliance(
    "model_card",
    title="Model card is generated and complete",
    controls=["EU-AI-Act:Art.11", "EU-AI-Act:Annex-IV", "SR11-7:documentation"],
)
def test_model_card(audit_model, audit_policy, audit_out, audit_evidence, request):
    section = audit_policy.section("model_card")
    if not section.get("task") and not audit_model.tag("task"):
        try:
            kind = request.getfixturevalue("evaluation_data").task.kind
        except AuditError:
            kind = ""  # the data checks report why the data cannot be read
        section["task"] = INFERRED_TASKS.get(kind, "")
    # From the handle and policy only: the verdict and evidence are the same in any check order and
    # under xdist. The final card, with every check's outcome, is rendered at session end.
    card = check_card(audit_model, section, (), base_dir=request.config.rootpath)
    path = write_card(card.markdown, Path(audit_out) / CARD_FILENAME)
    audit_evidence.update(card.evidence)
    audit_evidence["rendered_from"] = "handle and policy (the final card adds every check's outcome)"
    audit_evidence.attach(path)
    audit_evidence.summary = card.summary
    assert not card.missing, card.failure_message
