# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What ``--audit-model`` checks at session start, before the user's suite runs.

A missing store is a usage error: one line naming it and the fix, exit code 4, nothing collected
(without it the user's whole test suite ran first and the verdict then blamed the store). A
missing policy is not an error (the built-in defaults are the strictest policy: every built-in
check required for production); it is one notice line in the session header.

Cheap: no MLflow import, only ``stat`` of the SQLite file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.session import AuditContext

#: The script that builds the demo registry, in the demo project (``examples/``).
DEMO_SCRIPT = "build_demo.py"


def is_demo_project(rootdir: Path) -> bool:
    """The rootdir is this repository's ``examples/`` demo project."""
    return (rootdir / DEMO_SCRIPT).is_file() and (rootdir / "training_code").is_dir()


def _is_plugin_repository(rootdir: Path) -> bool:
    return (rootdir / "examples" / DEMO_SCRIPT).is_file() and (rootdir / "pytest_release_audit").is_dir()


def missing_store(ctx: AuditContext) -> str | None:
    """One line naming the missing SQLite store and the fix, or None when the store exists or is remote."""
    uri = ctx.tracking_uri
    if not uri.startswith("sqlite:///"):
        return None  # a server or another scheme: reachability is the resolver's (BLOCKED, named)
    path = Path(uri[len("sqlite:///"):])
    if path.exists() or str(path).startswith(":memory:"):
        return None
    given = "from --audit-tracking-uri" if ctx.options.tracking_uri else (
        "from MLFLOW_TRACKING_URI" if _env_uri() else "the default: mlflow.db in the rootdir")
    line = f"release-audit: no MLflow store at {path} ({given})"
    if is_demo_project(ctx.rootdir):
        return f"{line}: build the demo registry first: python3 {DEMO_SCRIPT}"
    if _is_plugin_repository(ctx.rootdir):
        return (f"{line}: this is the plugin's own repository; the demo project is examples/: "
                f"python3 examples/{DEMO_SCRIPT} && (cd examples && python3 -m pytest --audit-model={ctx.spec.name})")
    return (f"{line}: point the audit at your registry with --audit-tracking-uri=URI "
            "(or set MLFLOW_TRACKING_URI), e.g. --audit-tracking-uri=sqlite:///path/to/mlflow.db")


def _env_uri() -> str:
    import os

    return os.environ.get("MLFLOW_TRACKING_URI", "").strip()


def policy_notice(ctx: AuditContext) -> str | None:
    """A notice when no policy is configured (the built-in defaults apply), else None."""
    if ctx.options.policy:
        return None
    pyproject = ctx.rootdir / "pyproject.toml"
    try:
        if ctx.base_policy.sha256:
            return None
    except Exception:  # a broken policy is reported by the audit itself, named (AuditError)
        return None
    return (f"release-audit: no policy ([tool.release_audit] in {pyproject} or --audit-policy): the built-in "
            "defaults apply (every built-in check required, target production)")


def check_session_start(ctx: AuditContext, *, custom_resolver: bool) -> None:
    """Raise ``pytest.UsageError`` when the audit cannot start (the store is missing)."""
    import pytest

    from pytest_release_audit.errors import AuditError

    if custom_resolver:
        return  # an installed extension may resolve the model from elsewhere
    try:
        problem = missing_store(ctx)
    except AuditError:
        return  # a bad option or policy: the audit reports it, named, as BLOCKED
    if problem is not None:
        raise pytest.UsageError(problem)
