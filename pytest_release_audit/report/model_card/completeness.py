# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Whether a card is complete: the sections it must have, placeholders, and the ``model_card`` check."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.files import sha256_text
from pytest_release_audit.report.format import plural
from pytest_release_audit.report.model_card.common import (
    CARD_FILENAME,
    NOT_RECORDED,
    REQUIRED_OVERVIEW,
    SECTIONS,
    text_of,
)
from pytest_release_audit.report.model_card.context import build_context
from pytest_release_audit.report.model_card.front_matter import split_front_matter
from pytest_release_audit.report.model_card.render import render_model_card
from pytest_release_audit.report.text import one_line

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import CheckResult

#: Notes that stand in for absent content start with one of these (rendered in italics); a
#: section holding nothing else counts as empty for ``missing_sections``.
_EMPTY_NOTE_PREFIXES = ("*not run", "*not recorded")
_PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|\{\{|\}\}|\{%|%\}|\{#|#\}|lorem ipsum", re.IGNORECASE)
_TITLE_PROBLEM = "Title: '# Model Card: NAME' is missing or has no model name"
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_PLACEHOLDER_WORDS = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum", re.IGNORECASE)


def card_sections(markdown: str) -> dict[str, list[str]]:
    """``## Title`` -> its content lines (front matter and title excluded), in document order."""
    _, body = split_front_matter(markdown)
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        match = re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if match and not line.startswith("###"):
            current = sections.setdefault(match.group(1), [])
            continue
        # A new H1 or a thematic break (before the status line) ends the section.
        if line.startswith("# ") or line.strip() in ("---", "***", "___"):
            current = None
            continue
        if current is not None:
            current.append(line)
    return sections


def _is_table_scaffold(line: str) -> bool:
    return bool(re.match(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", line))


def _content_lines(lines: list[str]) -> list[str]:
    content = [line.strip() for line in lines if line.strip()]
    # A table header without rows, and "not run / not recorded" notes, are not content.
    tables = [i for i, line in enumerate(content) if _is_table_scaffold(line)]
    headers = {i - 1 for i in tables}
    out = []
    for i, line in enumerate(content):
        if i in headers or _is_table_scaffold(line):
            continue
        if line.lower().startswith(_EMPTY_NOTE_PREFIXES):
            continue
        out.append(line)
    return out


def missing_sections(
    markdown: str,
    required: Sequence[str] = SECTIONS,
    required_overview: Sequence[str] = REQUIRED_OVERVIEW,
) -> list[str]:
    """Problems that make a Markdown card incomplete, one line each ([] = complete).

    For any card, hand-written ones too (the ``model_card`` check judges its own card on the
    context: ``context_problems``). A required section is missing, empty (no rows, or only
    "not run"/"not recorded" notes), an Overview field in ``required_overview`` is "not recorded",
    or a placeholder remains anywhere in the body (TODO, TBD, FIXME, XXX, ``{{``, ``{%``, lorem ipsum).
    """
    problems: list[str] = []
    _, body = split_front_matter(markdown)
    title = re.search(r"^# Model Card:\s*(.*)$", body, re.MULTILINE)
    if title is None or not title.group(1).strip() or NOT_RECORDED in title.group(1):
        problems.append(_TITLE_PROBLEM)
    sections = card_sections(markdown)
    for name in required:
        if name not in sections:
            problems.append(f"{name}: section missing")
        elif not _content_lines(sections[name]):
            problems.append(f"{name}: section is empty")
    overview = sections.get("Overview", [])
    for field_name in required_overview:
        row = next(
            (line for line in overview if re.match(rf"^\|\s*{re.escape(field_name)}\s*\|", line)), None
        )
        if row is None:
            if "Overview" in sections:
                problems.append(f"Overview: no '{field_name}' row")
            continue
        value = row.split("|")[2].strip() if row.count("|") >= 3 else ""
        if not value or value.lower() == NOT_RECORDED:
            problems.append(f"Overview: {field_name} is {NOT_RECORDED}")
    for lineno, line in enumerate(body.splitlines(), start=1):
        match = _PLACEHOLDER.search(line)
        if match:
            problems.append(f"placeholder '{match.group(0)}' remains (body line {lineno})")
            break
    return problems



def _stands_for_content(note: Any) -> bool:
    """A note that says something (not "not run: ..." / "not recorded: ...")."""
    return bool(text_of(note)) and not text_of(note).lower().startswith(("not run", "not recorded"))


#: Whether a section of the context holds content (what the built-in template renders for it).
_FILLED: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "Overview": lambda c: bool(c["overview"]),
    "Training Data": lambda c: bool(c["training_data"]["rows"]),
    "Performance Metrics": lambda c: bool(c["performance"]["rows"]),
    "Limitations & Bias": lambda c: bool(c["limitations"]["items"] or c["limitations"]["bias_subgroups"])
    or _stands_for_content(c["limitations"]["bias_note"]),
    "Lineage": lambda c: bool(c["lineage"]["nodes"]),
    "Approval Chain": lambda c: bool(c["approvals"]["rows"]),
    "Compliance Checklist": lambda c: bool(c["checklist"]),
}


def _strings(item: Any) -> list[str]:
    if isinstance(item, str):
        return [item]
    if isinstance(item, Mapping):
        return [s for v in item.values() for s in _strings(v)]
    if isinstance(item, list | tuple):
        return [s for v in item for s in _strings(v)]
    return []


def context_problems(
    context: Mapping[str, Any],
    required: Sequence[str] = SECTIONS,
    required_overview: Sequence[str] = REQUIRED_OVERVIEW,
) -> list[str]:
    """Problems of ``build_context``'s context that make its card incomplete ([] = complete).

    The model has no name, a required section has no content, an Overview field in
    ``required_overview`` is "not recorded", or an owner-supplied value holds a placeholder (TODO,
    TBD, FIXME, XXX, lorem ipsum).
    """
    problems: list[str] = []
    name = text_of(context["model"]["name"])
    if not name or name == NOT_RECORDED:
        problems.append(_TITLE_PROBLEM)
    problems += [f"{s}: section is empty" for s in required if s in _FILLED and not _FILLED[s](context)]
    overview = {row["field"]: text_of(row["value"]) for row in context["overview"]}
    for field_name in required_overview:
        if field_name not in overview:
            problems.append(f"Overview: no '{field_name}' row")
        elif not overview[field_name] or overview[field_name].lower() == NOT_RECORDED:
            problems.append(f"Overview: {field_name} is {NOT_RECORDED}")
    # Where a placeholder a person left in can be: values from the owner (policy, registry, logged
    # data). Other checks' results (summaries, bias findings) never make the card incomplete.
    owned = [context["model"], context["overview"], context["training_data"], context["lineage"]["nodes"],
             context.get("extra_sections"), *(i for i in context["limitations"]["items"] if i.get("label") != "Bias")]
    for text in _strings(owned):
        match = _PLACEHOLDER_WORDS.search(text)
        if match:
            problems.append(f"placeholder '{match.group(0)}' remains (in {one_line(text, 80)!r})")
            break
    return problems


def _structure_problems(markdown: str, required: Sequence[str]) -> list[str]:
    """What only the rendered card shows: its title line, the required headings, template syntax left over."""
    _, body = split_front_matter(markdown)
    title = re.search(r"^# Model Card:\s*(.*)$", body, re.MULTILINE)
    problems = [_TITLE_PROBLEM] if title is None or not title.group(1).strip() else []
    sections = card_sections(markdown)
    problems += [f"{name}: section missing" for name in required if name not in sections]
    match = _TEMPLATE_SYNTAX.search(body)
    if match:
        problems.append(f"placeholder '{match.group(0)}' remains (template syntax in the rendered card)")
    return problems


#: Sections the ``model_card`` check requires. Performance, approvals and the checklist come from
#: other checks that may run later (or on another xdist worker): their own checks block on them.
CHECK_REQUIRED_SECTIONS: tuple[str, ...] = ("Overview", "Training Data", "Lineage")

_FIXES = {
    "Overview: Model Name": "the model could not be resolved",
    "Overview: Version": "the model version could not be resolved",
    "Overview: Task": "set model_card.task in the policy ([tool.release_audit.model_card] task) or the "
    "model version's task tag (MlflowClient().set_model_version_tag(NAME, VERSION, 'task', 'binary'))",
    "Training Data": "log the training dataset on the run (mlflow.log_input(..., context='training'))",
    "Limitations & Bias": "add model_card.limitations to the policy or a Limitations section to the "
    "version description",
    "Lineage": "register the model from an MLflow run",
    "placeholder": "remove the placeholder from the model description, tags or policy",
}


@dataclass(frozen=True)
class CardCheck:
    """What the ``model_card`` check found: the rendered card and its problems."""

    markdown: str
    context: dict[str, Any]
    missing: tuple[str, ...]
    evidence: dict[str, Any]
    summary: str

    @property
    def failure_message(self) -> str:
        """One line: what is missing and how to fix it."""
        fixes: list[str] = []
        for problem in self.missing:
            for key, fix in _FIXES.items():
                if (problem.startswith(key) or key in problem) and fix not in fixes:
                    fixes.append(fix)
        message = f"model card incomplete ({len(self.missing)} problems): {'; '.join(self.missing)}"
        return message + (f"; fix: {'; '.join(fixes)}" if fixes else "")


def check_card(
    handle: ModelHandle | None,
    policy_section: Mapping[str, Any] | None,
    checks: Sequence[CheckResult] = (),
    *,
    base_dir: str | Path | None = None,
) -> CardCheck:
    """Render the provisional card from the handle, policy and the checks finished so far.

    The outcome depends only on the handle and policy (the Overview, Training Data, Lineage and
    stated limitations), never on which other checks happened to run first, so the check gives the
    same verdict under any order and under xdist. Earlier checks' evidence only enriches the card.
    """
    section = dict(policy_section or {})
    context = build_context(None, handle, section, checks=checks)
    markdown = render_model_card(context, text_of(section.get("template")) or None, base_dir=base_dir)
    problems = _structure_problems(markdown, CHECK_REQUIRED_SECTIONS)
    rendered = [name for name in CHECK_REQUIRED_SECTIONS if name in card_sections(markdown)]
    problems += [p for p in context_problems(context, rendered) if p not in problems]
    # Bias findings depend on the bias check having run first: only stated limitations count here.
    stated = [item for item in context["limitations"]["items"] if item.get("label") != "Bias"]
    # No stated limitation is reported, not blocking: the final card's Limitations & Bias section
    # still carries the bias check's subgroup results, so it is never empty.
    warnings = [] if stated else [
        "no limitation stated by the model owner: add [tool.release_audit.model_card] limitations or a "
        "'Limitations:' paragraph to the version description"
    ]
    present = list(card_sections(markdown))
    training = len(context["training_data"]["rows"])
    metrics = len(context["performance"]["metrics"])
    evidence = {
        "path": CARD_FILENAME,
        "provisional_sha256": sha256_text(markdown),
        "provisional": True,
        "template": text_of(section.get("template")) or "built-in",
        "sections": present,
        "missing": list(problems),
        "checks_seen": sorted({c.id for c in checks}),
        "training_datasets": training,
        "limitations": len(stated),
        "warnings": warnings,
        "verified_metrics": metrics,
        "license": context["metadata"].get("license"),
    }
    summary = (
        f"model card written: {plural(len(present), 'section')}, {plural(training, 'training dataset')}, "
        f"{plural(len(stated), 'stated limitation')} "
        "(final card written at session end)"
    )
    return CardCheck(
        markdown=markdown, context=context, missing=tuple(problems), evidence=evidence, summary=summary
    )
