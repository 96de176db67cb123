# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evaluating approvals: which required roles approved this exact version, who rejected it, and why
each other decision does not count."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.approvals import signed
from pytest_release_audit.approvals.digest import version_digest
from pytest_release_audit.approvals.records import Approval, approvals_from_tags, version_tags
from pytest_release_audit.approvals.risk import RiskAssessment, assess_risk

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


@dataclass(frozen=True)
class ApprovalStatus:
    """What the approvals of one version amount to for one target."""

    target: str
    risk: RiskAssessment
    required: tuple[str, ...]
    present: tuple[Approval, ...]
    missing: tuple[str, ...]
    rejected: tuple[Approval, ...]
    ignored: tuple[dict[str, str], ...]
    version_digest: str
    extra: tuple[Approval, ...] = field(default_factory=tuple)  # valid approvals of roles not required
    signers: dict[str, str] = field(default_factory=dict)  # role -> where its allowed signers came from
    artifact_digest: str = ""
    unverified: tuple[dict[str, str], ...] = ()  # statements about this version whose signature fails

    @property
    def ok(self) -> bool:
        """True when every required role approved this exact version, nobody rejected it and no
        statement about it fails verification."""
        return not self.missing and not self.rejected and not self.unverified

    def to_dict(self) -> dict[str, Any]:
        def who(a: Approval) -> dict[str, Any]:
            return {"role": a.role, "by": a.by, "at": a.at, "status": a.status, "comment": a.comment,
                    "signed": a.signed}

        return {
            "target": self.target,
            "score": self.risk.score,
            "tier": self.risk.tier,
            "factors": self.risk.to_dict()["factors"],
            "required": list(self.required),
            "present": [who(a) for a in self.present],
            "missing": list(self.missing),
            "rejected": [who(a) for a in self.rejected],
            "ignored": [dict(i) for i in self.ignored],
            "other_approvals": [who(a) for a in self.extra],
            "version_digest": self.version_digest,
            "artifact_digest": self.artifact_digest,
            "signers": dict(self.signers),
            "unverified": [dict(u) for u in self.unverified],
        }


def _dedupe(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item.strip().lower(), None)
    return tuple(k for k in seen if k)


def policy_dir(policy: Policy) -> Path:
    """The directory relative policy paths (allowed signers) are read from."""
    source = policy.source.split(" [")[0]
    return Path(source).parent if source and source != "default policy" else Path.cwd()


@dataclass(frozen=True)
class _Version:
    """What every decision about the audited version is checked against."""

    name: str
    version: str
    digest: str  # version digest (registry facts)
    content: str  # artifact digest (model files); "" when no signed statement needs it
    roles: frozenset[str]  # the roles the policy knows
    section: dict[str, Any]  # the policy's approvals section
    base_dir: Path  # where relative allowed_signers paths are read from


@dataclass
class _Tally:
    """Decisions that count (latest per signer) and those that do not, with why."""

    latest: dict[tuple[str, str], Approval] = field(default_factory=dict)
    ignored: list[dict[str, str]] = field(default_factory=list)
    unverified: list[dict[str, str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # role -> where its allowed signers came from

    def ignore(self, role: str, by: str, reason: str) -> None:
        self.ignored.append({"role": role, "by": by, "reason": reason})


def _statement_mismatch(statement: signed.Statement, facts: _Version) -> str:
    """Why a readable statement is not about this version under this policy ('' when it is)."""
    if statement.role not in facts.roles:
        return f"role {statement.role!r} is not a role of the policy"
    if statement.decision not in signed.DECISIONS:
        return f"decision {statement.decision!r} is not approved/rejected"
    if (statement.model, statement.version) != (facts.name, facts.version):
        return f"signed for {statement.model} v{statement.version}, not this version"
    if statement.version_digest != facts.digest:
        return (f"signed for other registry facts (version digest {statement.version_digest[:12]}, this "
                f"version {facts.digest[:12]})")
    if statement.artifact_digest != facts.content:
        return (f"signed for other model files (artifact digest {statement.artifact_digest[:12]}, this "
                f"version {facts.content[:12]})")
    if not signed.valid_time(statement.at):
        return f"time {statement.at!r} is not a UTC timestamp"
    return ""


def _count_signed(key: str, value: str, facts: _Version, tally: _Tally) -> None:
    """Judge one signed-approval tag; a decision that verifies becomes its signer's latest."""
    statement, text, signature = signed.read_tag(key, value)
    if statement is None:
        tally.ignore(key[len(signed.TAG_PREFIX):].split(".")[0], "", f"rejected: {signature}")
        return
    why = _statement_mismatch(statement, facts)
    if not why:
        file, source = signed.signers_file(statement.role, facts.section, facts.base_dir)
        tally.sources[statement.role] = source
        why = ("no allowed_signers file is configured for this role ([approvals.signers] or "
               f"{signed.SIGNERS_ENV})") if file is None else signed.verify(
                   text, signature, statement.by, file, statement.role)
        if not why and key != statement.tag_key():
            why = "stored under another tag than its own (a copy)"
        elif why:
            # A statement that names this version but does not verify was forged or tampered with
            # (or signed by someone the role does not allow): it blocks until someone looks.
            tally.unverified.append({"role": statement.role, "by": statement.by, "reason": why})
    if why:
        tally.ignore(statement.role, statement.by, f"rejected: {why}")
        return
    approval = Approval(role=statement.role, by=statement.by, at=statement.at, status=statement.decision,
                        comment=statement.comment, version_digest=facts.digest, signed=True)
    current = tally.latest.get((statement.role, statement.by))
    if (current is None or approval.at > current.at
            or (approval.at == current.at and approval.status == "rejected")):
        tally.latest[(statement.role, statement.by)] = approval  # the signer's latest decision wins (a tie: rejected)


def _count_unsigned(approval: Approval, target: str, facts: _Version, tally: _Tally) -> None:
    """Judge one unsigned (0.1 format) approval: it counts only for development."""
    if approval.error:
        tally.ignore(approval.role, approval.by, f"unreadable: {approval.error}")
    elif target != "development":
        tally.ignore(approval.role, approval.by, "rejected: unsigned (an unsigned decision counts only for "
                                                 "development: sign it with release-audit approve --key)")
    elif approval.role not in facts.roles:
        tally.ignore(approval.role, approval.by, f"rejected: role {approval.role!r} is not a role of the policy")
    elif approval.version_digest != facts.digest:
        tally.ignore(approval.role, approval.by, "recorded for other content (version digest "
                     f"{approval.version_digest[:12] or 'missing'}, this version {facts.digest[:12]})")
    else:
        tally.latest.setdefault((approval.role, f"unsigned:{approval.by}"), replace(approval, signed=False))


def _version_facts(handle: ModelHandle, policy: Policy, tags: dict[str, str], *, digest: str,
                   roles: frozenset[str], artifact_digest: str | None) -> _Version:
    """The digests and policy settings decisions about ``handle`` are checked against."""
    content = ""
    if any(k.startswith(signed.TAG_PREFIX) for k in tags):
        if artifact_digest is None:
            from pytest_release_audit.handle import artifact

            artifact_digest = artifact.artifact_digest(handle)
        content = artifact_digest
    return _Version(name=handle.name, version=str(handle.version), digest=digest, content=content,
                    roles=roles, section=policy.section("approvals"), base_dir=policy_dir(policy))


def evaluate_approvals(
    handle: ModelHandle, policy: Policy, target: str, *, client: Any = None, artifact_digest: str | None = None
) -> ApprovalStatus:
    """Which required approvals the audited version has, for ``target`` and its risk tier.

    Signed statements count when their SSH signature verifies for a signer allowed for their role
    and they name this version's digests; the latest decision of each signer wins. Unsigned
    approval tags count only for ``development`` (labelled unsigned). ``artifact_digest``: the
    content digest of the version's model files (default: computed from the audit's download).
    Raises RegistryUnavailable / PolicyError / AuditConfigError / ModelLoadError on unusable inputs.
    """
    if client is None:
        from pytest_release_audit.handle.resolve import open_client

        client = open_client(handle.tracking_uri)
    risk = assess_risk(handle, policy, target)
    required = _dedupe(policy.approvals_required(target) + policy.tier_roles(risk.tier))
    roles = frozenset(policy.known_roles())
    digest = version_digest(client, handle.name, handle.version)
    tags = version_tags(client, handle.name, handle.version)
    facts = _version_facts(handle, policy, tags, digest=digest, roles=roles, artifact_digest=artifact_digest)
    tally = _Tally()
    for key, value in sorted(tags.items()):
        if key.startswith(signed.TAG_PREFIX):
            _count_signed(key, value, facts, tally)
    for approval in approvals_from_tags(tags):
        _count_unsigned(approval, target, facts, tally)
    present = [a for a in tally.latest.values() if a.status != "rejected" and a.role in required]
    rejected = [a for a in tally.latest.values() if a.status == "rejected"]  # any valid rejection blocks
    extra = [a for a in tally.latest.values() if a.status != "rejected" and a.role not in required]
    decided = {a.role for a in present} | {a.role for a in rejected}
    return ApprovalStatus(
        target=target,
        risk=risk,
        required=required,
        present=tuple(sorted(present, key=lambda a: (required.index(a.role), a.at))),
        missing=tuple(r for r in required if r not in decided),
        rejected=tuple(rejected),
        ignored=tuple(tally.ignored),
        version_digest=facts.digest,
        extra=tuple(extra),
        signers=dict(tally.sources),
        artifact_digest=facts.content,
        unverified=tuple(tally.unverified),
    )


def tracking_uri_option(tracking_uri: str | None) -> str:
    """`` --tracking-uri URI`` when ``release-audit`` run here would not find this store by default, else ""."""
    import os
    import shlex

    from pytest_release_audit.errors import redact

    if not tracking_uri:
        return ""
    env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    default = env or f"sqlite:///{(Path.cwd() / 'mlflow.db').resolve()}"
    if tracking_uri in (default, env):
        return ""
    return f" --tracking-uri {shlex.quote(redact(tracking_uri))}"


def approve_hint(name: str, version: str | int, role: str, tracking_uri: str | None = None) -> str:
    """The command that records a missing approval (naming the store unless it is the default one)."""
    return (f"release-audit approve {name}/{version} --role {role} --by PRINCIPAL --key ~/.ssh/id_ed25519"
            f"{tracking_uri_option(tracking_uri)}")
