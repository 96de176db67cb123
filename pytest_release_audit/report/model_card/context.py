# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``build_context``: the card's template context, assembled from its sections (plain data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.model import CheckResult
from pytest_release_audit.report.model_card.common import NOT_RECORDED
from pytest_release_audit.report.model_card.front_matter import metadata
from pytest_release_audit.report.model_card.sections.data import lineage, overview, training_data
from pytest_release_audit.report.model_card.sections.governance import approvals, checklist, generated, status
from pytest_release_audit.report.model_card.sections.results import limitations, performance
from pytest_release_audit.report.model_card.sections.serving import serving

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import AuditResult


def as_check_results(items: Iterable[Any]) -> list[CheckResult]:
    """CheckResults, accepting their ``to_dict()`` form too; anything else is skipped."""
    out: list[CheckResult] = []
    for item in items:
        if isinstance(item, CheckResult):
            out.append(item)
        elif isinstance(item, Mapping) and item.get("id"):
            data = {"title": "", "outcome": "error", "required": True, **dict(item)}
            if not isinstance(data.get("evidence"), dict):
                data["evidence"] = {}
            out.append(CheckResult.from_dict(data))
    return out


def build_context(
    result: AuditResult | None,
    handle: ModelHandle | None,
    policy_section: Mapping[str, Any] | None,
    *,
    checks: Sequence[CheckResult] | None = None,
) -> dict[str, Any]:
    """The template context for one model card (plain data; escaped only when rendered).

    ``result`` is the finished audit (final card) or None for a provisional card, whose check
    results then come from ``checks`` (what ran so far). ``handle`` may be None when the model
    could not be resolved. ``policy_section`` is ``policy.section("model_card")``. Missing or
    malformed evidence of any check is shown as "not run" / "not recorded", never raised.
    Extenders append ``{"title", "body"}`` dicts to ``context["extra_sections"]`` (body: a string
    of paragraphs or a list of bullet items).
    """
    policy = dict(policy_section or {})
    provisional = result is None
    all_checks = as_check_results(result.checks if result is not None else (checks or ()))
    by_id: dict[str, CheckResult] = {}
    for check in all_checks:
        by_id.setdefault(check.id, check)  # first result of an id wins (ids are unique in reports)
    rows = overview(handle, result, policy)
    training = training_data(handle, by_id)
    measured = performance(handle, by_id)
    verdict = status(result, provisional)
    name = rows[0]["value"]
    ref = handle.ref if handle is not None else (result.model if result is not None else None)
    return {
        "card_schema": 1,
        "provisional": provisional,
        "model": {
            "name": name,
            "version": ref.version if ref else NOT_RECORDED,
            "uri": (ref.uri or NOT_RECORDED) if ref else NOT_RECORDED,
            "run_id": (ref.run_id or NOT_RECORDED) if ref else NOT_RECORDED,
        },
        "overview": rows,
        "training_data": training,
        "performance": measured,
        "limitations": limitations(handle, by_id, policy),
        "serving": serving(by_id),
        "lineage": lineage(handle, by_id),
        "approvals": approvals(by_id),
        "checklist": checklist(all_checks, result.blocking if result is not None else ()),
        "status": verdict,
        "generated": generated(result, ref),
        "metadata": metadata(name, rows, measured, training, verdict["verdict"], policy, handle),
        "extra_sections": [],
    }
