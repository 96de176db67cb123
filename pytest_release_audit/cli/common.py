# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What the ``release-audit`` commands share: the registry client and the ``NAME/VERSION`` argument."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_release_audit.errors import AuditConfigError, AuditError

PROG = "release-audit"


def _quiet_mlflow() -> None:
    import logging

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def client_for(uri: str | None) -> tuple[Any, str]:
    from pytest_release_audit.handle.resolve import normalize_tracking_uri, open_client

    _quiet_mlflow()
    tracking_uri = normalize_tracking_uri(uri, Path.cwd())
    try:
        return open_client(tracking_uri), tracking_uri
    except AuditError as exc:  # the resolver names the pytest option; this command's is --tracking-uri
        raise exc.__class__(str(exc).replace("--audit-tracking-uri", "--tracking-uri")) from None


def version_of(client: Any, spec_text: str) -> tuple[str, str]:
    """(name, version) from ``NAME/VERSION`` or ``NAME@ALIAS``."""
    from pytest_release_audit.handle.spec import parse_model_spec

    try:
        spec = parse_model_spec(spec_text)
    except AuditConfigError as exc:
        raise AuditConfigError(str(exc).replace("--audit-model", "model")) from None
    if spec.version:
        return spec.name, spec.version
    if spec.alias:
        from mlflow.exceptions import MlflowException

        try:
            return spec.name, str(client.get_model_version_by_alias(spec.name, spec.alias).version)
        except MlflowException:
            raise AuditConfigError(f"model '{spec.name}' has no alias '{spec.alias}': pass NAME/VERSION") from None
    raise AuditConfigError(
        f"'{spec_text}' names no version: an approval is for one version, pass NAME/VERSION (or NAME@ALIAS)"
    )


def trail_public_key(option: str | None) -> Any:
    """The trail's public key from ``--public-key``, else ``RELEASE_AUDIT_TRAIL_PUBLIC_KEY``; None without one."""
    import os

    from pytest_release_audit import trail

    source = option or os.environ.get("RELEASE_AUDIT_TRAIL_PUBLIC_KEY")
    if not source:
        return None
    try:
        return trail.load_public_key(source)
    except (OSError, ValueError) as exc:
        raise AuditConfigError(f"cannot read the public key {source} ({exc.__class__.__name__})") from None
