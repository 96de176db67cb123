# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Recording a decision: ``release-audit approve`` writes one signed (or unsigned) version tag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_release_audit.approvals import signed
from pytest_release_audit.approvals.digest import version_digest
from pytest_release_audit.approvals.records import MAX_COMMENT, TAG_PREFIX, Approval, normalize_role
from pytest_release_audit.errors import AuditConfigError, RegistryUnavailable, describe_exception
from pytest_release_audit.files import utc_iso


def record_approval(
    client: Any,
    name: str,
    version: str | int,
    role: str,
    by: str,
    reject: bool = False,
    comment: str = "",
    *,
    key: str | Path | None = None,
    roles: tuple[str, ...] | None = None,
    signers: Path | None = None,
) -> Approval:
    """Record ``by``'s decision for ``role`` on ``name`` version ``version`` as a model version tag.

    With ``key`` (an SSH private key) the decision is a signed statement (``approvals.signed``)
    and ``by`` is the signer's principal as the role's ``allowed_signers`` file lists it; without,
    an unsigned tag that counts only for development. ``roles``: the roles the policy knows
    (an unknown role is an AuditConfigError). ``signers``: the role's allowed_signers file; the
    signature is verified against it *before* anything is written, because a statement that does
    not verify blocks every later audit of the version.
    """
    from mlflow.exceptions import MlflowException

    role, who, note = _checked_decision(role, by, comment, signing=key is not None, roles=roles)
    approval = Approval(
        role=role,
        by=who,
        at=utc_iso(),
        status="rejected" if reject else "approved",
        comment=note,
        version_digest=version_digest(client, name, version),
        signed=key is not None,
    )
    if key is None:
        tag, value = TAG_PREFIX + role, approval.tag_value()
    else:
        tag, value = _signed_tag(client, name, str(version), approval, Path(key), signers)
    try:
        client.set_model_version_tag(name, str(version), tag, value)
    except MlflowException as exc:
        raise RegistryUnavailable(
            f"cannot tag {name}/{version} ({describe_exception(exc)}): check the tracking URI"
        ) from None
    return approval


def _checked_decision(role: str, by: str, comment: str, *, signing: bool,
                      roles: tuple[str, ...] | None) -> tuple[str, str, str]:
    """(role, approver, comment) normalised; AuditConfigError naming the option when one is unusable."""
    role = normalize_role(role)
    if roles is not None and role not in roles:
        raise AuditConfigError(
            f"role {role!r} is not a role of the policy (roles: {', '.join(roles)}): use one of them or add it to "
            "[tool.release_audit.approvals.required]"
        )
    who = " ".join((by or "").split())
    if not who or len(who) > 200:
        raise AuditConfigError("--by must name the approver (1 to 200 characters), e.g. --by 'K. Patel'")
    if signing and not signed.PRINCIPAL.fullmatch(who):
        raise AuditConfigError(
            f"--by {who!r} is not a signer principal: use the principal of the role's allowed_signers file, "
            "e.g. --by k.patel@example.org"
        )
    note = " ".join((comment or "").split())
    if len(note) > MAX_COMMENT:
        raise AuditConfigError(f"--comment is {len(note)} characters: keep it under {MAX_COMMENT}")
    return role, who, note


def _signed_tag(client: Any, name: str, version: str, approval: Approval, key: Path,
                signers: Path | None) -> tuple[str, str]:
    """(tag key, tag value) of ``approval`` signed with ``key``, verified against ``signers`` first."""
    from pytest_release_audit.handle.artifact import artifact_digest
    from pytest_release_audit.handle.model import ModelHandle

    uri = str(getattr(client, "tracking_uri", ""))
    handle = ModelHandle(name=name, version=version, tracking_uri=uri, registry_uri=uri)
    statement = signed.Statement(
        model=name, version=version, version_digest=approval.version_digest, artifact_digest=artifact_digest(handle),
        role=approval.role, decision=approval.status, by=approval.by, at=approval.at, comment=approval.comment,
    )
    signature = signed.sign(statement, key)
    if signers is not None:
        problem = signed.verify(statement.canonical(), signature, approval.by, signers, approval.role)
        if problem:
            raise AuditConfigError(
                f"not recorded: {problem} (allowed signers {signers}): sign with the key listed for {approval.by}, "
                "or have the key added to that file"
            )
    return statement.tag_key(), signed.tag_value(statement, signature)
