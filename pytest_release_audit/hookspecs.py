# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Hook specifications other plugins (or a ``conftest.py``) implement to extend an audit.

Added to pytest's plugin manager by ``pytest_addhooks``; call them through
``config.hook.<name>(...)`` with keyword arguments only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import AuditResult


@pytest.hookspec(firstresult=True)
def pytest_release_audit_resolve_handle(config: pytest.Config, spec: str, tracking_uri: str) -> ModelHandle | None:
    """Resolve ``--audit-model`` (``spec``, as given) from a registry other than MLflow.

    Asked before the built-in MLflow resolver on every process that resolves the model (the
    user's session, its xdist workers, the checks child); the first non-None result wins.
    ``tracking_uri`` is the MLflow store the audit reads otherwise. Raise
    ``pytest_release_audit.errors.HandleNotFound`` (one-line message) when the spec names
    something your registry should have but does not.

    Only **installed extensions** are asked: modules an installed distribution declares in the
    entry point group ``pytest_release_audit`` (see ``extensions``). The audited repository is
    not trusted, so an implementation in a ``conftest.py`` or a ``-p`` module is never called:
    it could otherwise swap the model under audit for another. The checks child, where no
    project code runs, resolves the model again and the audit is BLOCKED unless both sessions
    resolved the same name, version and run.
    """


def pytest_release_audit_lineage(handle: ModelHandle) -> list[dict[str, Any]] | None:
    """Contribute upstream lineage edges for ``handle`` (e.g. from an OpenLineage store).

    Every implementation is called; return a list of edges
    ``{"from": "raw_table", "to": "curated_split", "kind": "dataset", "role": "Raw"}`` or None.
    The ``lineage`` check adds them to the verified chain shown in reports and the model card.
    """


def pytest_release_audit_model_card_context(result: AuditResult, context: dict[str, Any]) -> None:
    """Add sections to the model card before it is rendered (at session end).

    Append ``{"title": ..., "body": ...}`` to ``context["extra_sections"]`` (body: text, or a list
    of bullet items); values are escaped when rendered. ``result`` and ``context`` are copies: the
    rest of the card (status, checklist, metrics, approvals) is the audit's own and cannot be changed
    here, since a project ``conftest.py`` may implement this hook.

    Example::

        def pytest_release_audit_model_card_context(result, context):
            context["extra_sections"].append({"title": "Intended Use", "body": "Research only."})
    """


def pytest_release_audit_report_written(result: AuditResult, paths: dict[str, str]) -> None:
    """Called on the controller after every report file is written (e.g. to ship them).

    ``paths`` maps a report kind (``json``, ``markdown``, ``html``, ``junit``, ``model_card``,
    ``trail``) to its path.
    """


@pytest.hookspec(firstresult=True)
def pytest_release_audit_notify(result: AuditResult, url: str) -> bool | None:
    """Replace the default webhook notifier for ``--audit-notify=URL``.

    Stops at the first non-None result: return True when you delivered the notification, False
    when delivery failed. A failed notification never changes the verdict.
    """
