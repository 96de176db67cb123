# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model card: a Markdown "birth certificate" rendered with jinja2 from the audit.

Two steps so extenders can add content in between (``pytest_release_audit_model_card_context``)::

    context = build_context(result, handle, policy.section("model_card"))
    config.hook.pytest_release_audit_model_card_context(result=result, context=context)
    markdown = render_model_card(context, template_path=policy_section["template"] or None)

- ``context``: ``build_context`` assembles the sections (``sections/``: data, results, governance),
  each reading the checks' typed evidence (``report.contracts``).
- ``render``: the sandboxed jinja2 environment whose ``finalize`` escapes every value.
- ``front_matter``: the Hugging Face YAML metadata, every string escaped.
- ``completeness``: ``missing_sections`` and the ``model_card`` check's ``check_card``.
"""

from __future__ import annotations

from pytest_release_audit.report.model_card.common import (
    CARD_FILENAME,
    DEFAULT_TEMPLATE,
    INFERRED_TASKS,
    NOT_RECORDED,
    NOT_RUN,
    REQUIRED_OVERVIEW,
    SECTIONS,
    TEMPLATES_DIR,
)
from pytest_release_audit.report.model_card.completeness import (
    CHECK_REQUIRED_SECTIONS,
    CardCheck,
    card_sections,
    check_card,
    context_problems,
    missing_sections,
)
from pytest_release_audit.report.model_card.context import build_context
from pytest_release_audit.report.model_card.front_matter import front_matter_yaml, split_front_matter
from pytest_release_audit.report.model_card.render import Raw, render_model_card, write_card
from pytest_release_audit.report.text import escape_md

__all__ = [
    "CARD_FILENAME", "CHECK_REQUIRED_SECTIONS", "DEFAULT_TEMPLATE", "INFERRED_TASKS", "NOT_RECORDED", "NOT_RUN",
    "REQUIRED_OVERVIEW", "SECTIONS", "TEMPLATES_DIR", "CardCheck", "Raw", "build_context", "card_sections",
    "check_card", "context_problems", "escape_md", "front_matter_yaml", "missing_sections", "render_model_card",
    "split_front_matter", "write_card",
]  # fmt: skip
