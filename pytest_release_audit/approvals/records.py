# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Approval records: the unsigned 0.1 tag format, its parser, role names, listing a version's tags."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from pytest_release_audit.errors import AuditConfigError, RegistryUnavailable, describe_exception

TAG_PREFIX = "release_audit.approval."
STATUSES = ("approved", "rejected")
MAX_COMMENT = 1000
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Approval:
    """One role's decision on one model version, as stored in its tag."""

    role: str
    by: str
    at: str
    status: str
    comment: str = ""
    version_digest: str = ""
    error: str = ""  # set when the tag could not be read as an approval
    signed: bool = False  # a verified signed statement (else an unsigned tag, development only)

    def to_dict(self) -> dict[str, Any]:
        """The stored fields (``error`` only when set; ``signed`` is not stored)."""
        return {k: v for k, v in asdict(self).items() if k != "signed" and (k != "error" or v)}

    def tag_value(self) -> str:
        """The unsigned tag's JSON value."""
        return json.dumps({k: v for k, v in self.to_dict().items() if k != "error"}, sort_keys=True, ensure_ascii=False)


def normalize_role(role: str) -> str:
    """Lower-case ``role``; AuditConfigError when it is not a short identifier."""
    text = (role or "").strip().lower()
    if not _ROLE.fullmatch(text):
        raise AuditConfigError(
            f"role {role!r} is not valid: use a short lower-case name like technical, security, business"
        )
    return text


def parse_approval(key: str, value: str) -> Approval:
    """The approval stored under tag ``key``; an Approval with ``error`` set when it is unreadable."""
    role = key[len(TAG_PREFIX) :]
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return Approval(role=role, by="", at="", status="invalid", error="tag value is not JSON")
    if not isinstance(data, dict):
        return Approval(role=role, by="", at="", status="invalid", error="tag value is not a JSON object")
    approval = Approval(
        role=str(data.get("role", "")),
        by=str(data.get("by", "")),
        at=str(data.get("at", "")),
        status=str(data.get("status", "")),
        comment=str(data.get("comment", "")),
        version_digest=str(data.get("version_digest", "")),
    )
    problem = ""
    if approval.role != role:
        problem = f"role in value ({approval.role!r}) differs from the tag key"
    elif approval.status not in STATUSES:
        problem = f"status {approval.status!r} is not approved/rejected"
    elif not approval.by:
        problem = "no approver recorded"
    if problem:
        return replace(approval, role=role, status="invalid", error=problem)
    return approval


def approvals_from_tags(tags: dict[str, str]) -> list[Approval]:
    """Every approval tag among ``tags`` (version tags), sorted by role."""
    return [parse_approval(k, v) for k, v in sorted(tags.items()) if k.startswith(TAG_PREFIX)]


def version_tags(client: Any, name: str, version: str | int) -> dict[str, str]:
    """Every tag of ``name`` version ``version``; RegistryUnavailable when it cannot be read."""
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_model_version(name, str(version)).tags or {})
    except MlflowException as exc:
        raise RegistryUnavailable(f"cannot read {name}/{version} ({describe_exception(exc)})") from None


def list_approvals(client: Any, name: str, version: str | int) -> list[Approval]:
    """The unsigned approvals recorded on ``name`` version ``version`` (digests not checked here)."""
    return approvals_from_tags(version_tags(client, name, version))
