# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Release approvals recorded in the model registry, and the risk tier that sets who must approve.

Storage
-------
A decision is a **signed statement** (``signed_approvals``): the canonical JSON of the model name
and version, its version digest and artifact digest, the role, the decision (approved or
rejected), the signer's principal, the UTC time and a comment, signed with the approver's SSH key
(``ssh-keygen -Y sign -n release-audit``, as git signs commits). Each statement is one model
version tag ``release_audit.signed_approval.<role>.<signer>.<time>.<hash>``, so a later decision never
erases an earlier one; the latest decision of each signer wins. The audit accepts a statement only
when ``ssh-keygen -Y verify`` says it is good for its signer against the ``allowed_signers`` file
of its role (``RELEASE_AUDIT_SIGNERS_DIR/<role>.allowed_signers`` from the CI, else the policy's
``[approvals.signers]``), it is about this version, and both digests match.

The version digest is sha256 over the canonical JSON of the model name, version number and
creation time, the source run id, the version's storage URI, the run's logged datasets (name,
digest, context) and the listing (path, size) of the model's artifacts, leaving out what merely
loading the model writes there (``LOAD_DROPPINGS``, ``__pycache__``). The artifact digest covers
the content of every model file. A statement copied to another version, or kept after the
artifacts changed, does not match and is listed as rejected with the reason.

Unsigned decisions (``release-audit approve`` without ``--key``; tag
``release_audit.approval.<role>``, the 0.1 format) count only for ``development`` and are labelled
"unsigned" wherever they appear.

Risk tiering (seed 002)
-----------------------
Six factors scored 0..10 with weights model_complexity 0.2, data_sensitivity 0.25,
deployment_scope 0.15, change_magnitude 0.2, testing_coverage 0.1, rollback_capability 0.1.
Each value comes from, in order: policy ``[approvals.risk]``; a version / run / registered-model
tag ``risk.<factor>``; a derivation from facts with seed 002's tables; else 5 (the midpoint: an
unknown risk is not a low one). Derivations (tags are read version, then run, then model):

* deployment_scope: the target (development 2, staging 4, production 6);
* data_sensitivity: tag ``data_classification`` (public 2, internal 4, confidential 7,
  restricted 9, anything else 5);
* change_magnitude: tag ``is_new_model=true`` 9, else tag ``deployment_strategy`` (blue_green 3,
  canary 4, rolling 6);
* testing_coverage: tag ``test_coverage`` (fraction; >= 0.9 2, >= 0.8 4, >= 0.7 6, else 8);
* rollback_capability: tag ``rollback_enabled`` (false 9; true with ``rollback_time_minutes``
  <= 5 2, <= 15 4, else 6);
* model_complexity: no derivation (set ``risk.model_complexity``).

With nothing recorded a production release scores 5.15 (high): record the facts or the scores.
Score = weighted sum; tier low (<= 3), medium (<= 5), high (<= 7), critical. Required roles =
``policy.approvals_required(target)`` plus ``policy.tier_roles(tier)`` (default: critical adds
``executive``; configure ``[approvals.tier_roles]`` to add roles for high).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditConfigError, PolicyError, RegistryUnavailable, describe_exception
from pytest_release_audit.files import utc_iso

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy

TAG_PREFIX = "release_audit.approval."
STATUSES = ("approved", "rejected")
MAX_COMMENT = 1000
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

#: Seed 002's weights (they sum to 1, so the score is on the factors' 0..10 scale).
RISK_WEIGHTS: dict[str, float] = {
    "model_complexity": 0.2,
    "data_sensitivity": 0.25,
    "deployment_scope": 0.15,
    "change_magnitude": 0.2,
    "testing_coverage": 0.1,
    "rollback_capability": 0.1,
}
UNKNOWN_FACTOR = 5.0
TIERS: tuple[tuple[float, str], ...] = ((3.0, "low"), (5.0, "medium"), (7.0, "high"))
_SENSITIVITY = {"public": 2.0, "internal": 4.0, "confidential": 7.0, "restricted": 9.0}
_SCOPE = {"development": 2.0, "staging": 4.0, "production": 6.0}
_STRATEGY = {"blue_green": 3.0, "canary": 4.0, "rolling": 6.0}


# -- records ---------------------------------------------------------------------------------
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
        out = {
            "role": self.role,
            "by": self.by,
            "at": self.at,
            "status": self.status,
            "comment": self.comment,
            "version_digest": self.version_digest,
        }
        if self.error:
            out["error"] = self.error
        return out

    def tag_value(self) -> str:
        return json.dumps({k: v for k, v in self.to_dict().items() if k != "error"}, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class RiskAssessment:
    """The weighted risk score, its tier and where each factor's value came from."""

    score: float
    tier: str
    factors: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "tier": self.tier,
            "factors": {k: dict(v) for k, v in self.factors.items()},
        }


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


# -- version digest --------------------------------------------------------------------------


#: Files MLflow or Python write into a local artifact store when a version is *loaded*: MLflow
#: drops ``registered_model_meta`` (name and version of the loader) into the model directory on
#: every ``models:/NAME/VERSION`` download from a local store, and importing ``code_paths`` can
#: leave ``__pycache__``. They are not model content; counting them would void every approval
#: the first time an audit loads the model.
LOAD_DROPPINGS = ("registered_model_meta",)


def is_load_dropping(path: str) -> bool:
    """True for a file that merely loading a model writes into its directory (not model content)."""
    parts = path.replace("\\", "/").split("/")
    return parts[-1] in LOAD_DROPPINGS or "__pycache__" in parts or parts[-1].endswith(".pyc")


def _list_tree(list_fn: Any, path: str | None, depth: int = 0) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    if depth > 8:
        return out
    for entry in list_fn(path):
        if is_load_dropping(entry.path):
            continue
        if entry.is_dir:
            out.extend(_list_tree(list_fn, entry.path, depth + 1))
        else:
            out.append((entry.path, int(entry.file_size or 0)))
    return out


def _model_artifacts(client: Any, source: str, run_id: str | None) -> list[tuple[str, int]] | None:
    """(path, size) of the version's model files; None when MLflow cannot list that source kind."""
    if source.startswith("models:/m-"):
        model_id = source[len("models:/") :].split("/", 1)[0]
        return sorted(_list_tree(lambda p: client.list_logged_model_artifacts(model_id, p), None))
    if source.startswith("runs:/"):
        rest = source[len("runs:/") :]
        src_run, _, sub = rest.partition("/")
        return sorted(_list_tree(lambda p: client.list_artifacts(src_run or run_id, p), sub or None))
    return None


def version_facts(client: Any, name: str, version: str | int) -> dict[str, Any]:
    """The registry facts the version digest covers (plain JSON)."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, str(version))
        datasets: list[list[str | None]] = []
        if mv.run_id:
            run = client.get_run(mv.run_id)
            for di in run.inputs.dataset_inputs if run.inputs else []:
                tags = {t.key: t.value for t in (di.tags or [])}
                datasets.append([di.dataset.name, di.dataset.digest, tags.get("mlflow.data.context")])
        artifacts = _model_artifacts(client, mv.source or "", mv.run_id)
    except MlflowException as exc:
        raise RegistryUnavailable(
            f"cannot read {name}/{version} to compute its digest ({describe_exception(exc)}): check the name, "
            "version and tracking URI"
        ) from None
    return {
        "name": name,
        "version": str(mv.version),
        "created": mv.creation_timestamp,
        "run_id": mv.run_id,
        "source": mv.source,
        "datasets": sorted(datasets, key=lambda d: [str(x) for x in d]),
        "artifacts": [list(a) for a in artifacts] if artifacts is not None else None,
    }


def digest_of(facts: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``facts``."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_digest(client: Any, name: str, version: str | int) -> str:
    """sha256 identifying the content of ``name`` version ``version`` (see the module docstring)."""
    return digest_of(version_facts(client, name, version))


# -- recording and reading -------------------------------------------------------------------
def normalize_role(role: str) -> str:
    """Lower-case ``role``; AuditConfigError when it is not a short identifier."""
    text = (role or "").strip().lower()
    if not _ROLE.fullmatch(text):
        raise AuditConfigError(
            f"role {role!r} is not valid: use a short lower-case name like technical, security, business"
        )
    return text


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

    With ``key`` (an SSH private key) the decision is a signed statement (``signed_approvals``)
    and ``by`` is the signer's principal as the role's ``allowed_signers`` file lists it; without,
    an unsigned tag that counts only for development. ``roles``: the roles the policy knows
    (an unknown role is an AuditConfigError). ``signers``: the role's allowed_signers file; the
    signature is verified against it *before* anything is written, because a statement that does
    not verify blocks every later audit of the version.
    """
    from mlflow.exceptions import MlflowException

    from pytest_release_audit import signed_approvals as signed

    role = normalize_role(role)
    if roles is not None and role not in roles:
        raise AuditConfigError(
            f"role {role!r} is not a role of the policy (roles: {', '.join(roles)}): use one of them or add it to "
            "[tool.release_audit.approvals.required]"
        )
    who = " ".join((by or "").split())
    if not who or len(who) > 200:
        raise AuditConfigError("--by must name the approver (1 to 200 characters), e.g. --by 'K. Patel'")
    if key is not None and not signed.PRINCIPAL.fullmatch(who):
        raise AuditConfigError(
            f"--by {who!r} is not a signer principal: use the principal of the role's allowed_signers file, "
            "e.g. --by k.patel@example.org"
        )
    note = " ".join((comment or "").split())
    if len(note) > MAX_COMMENT:
        raise AuditConfigError(f"--comment is {len(note)} characters: keep it under {MAX_COMMENT}")
    digest = version_digest(client, name, version)
    approval = Approval(
        role=role,
        by=who,
        at=utc_iso(),
        status="rejected" if reject else "approved",
        comment=note,
        version_digest=digest,
        signed=key is not None,
    )
    if key is None:
        tag, value = TAG_PREFIX + role, approval.tag_value()
    else:
        from pytest_release_audit.handle.artifact import artifact_digest
        from pytest_release_audit.handle.model import ModelHandle

        uri = str(getattr(client, "tracking_uri", ""))
        handle = ModelHandle(name=name, version=str(version), tracking_uri=uri, registry_uri=uri)
        statement = signed.Statement(
            model=name, version=str(version), version_digest=digest, artifact_digest=artifact_digest(handle),
            role=role, decision=approval.status, by=who, at=approval.at, comment=note,
        )
        signature = signed.sign(statement, Path(key))
        if signers is not None:
            problem = signed.verify(statement.canonical(), signature, who, signers, role)
            if problem:
                raise AuditConfigError(
                    f"not recorded: {problem} (allowed signers {signers}): sign with the key listed for {who}, "
                    "or have the key added to that file"
                )
        tag, value = statement.tag_key(), signed.tag_value(statement, signature)
    try:
        client.set_model_version_tag(name, str(version), tag, value)
    except MlflowException as exc:
        raise RegistryUnavailable(
            f"cannot tag {name}/{version} ({describe_exception(exc)}): check the tracking URI"
        ) from None
    return approval


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


def _version_tags(client: Any, name: str, version: str | int) -> dict[str, str]:
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_model_version(name, str(version)).tags or {})
    except MlflowException as exc:
        raise RegistryUnavailable(f"cannot read {name}/{version} ({describe_exception(exc)})") from None


def list_approvals(client: Any, name: str, version: str | int) -> list[Approval]:
    """The unsigned approvals recorded on ``name`` version ``version`` (digests not checked here)."""
    return approvals_from_tags(_version_tags(client, name, version))


# -- risk ------------------------------------------------------------------------------------
def _as_score(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 10.0 else None


def _derive(factor: str, handle: ModelHandle, target: str) -> tuple[float, str] | None:
    """Seed 002's tables applied to facts on the handle; None when nothing is known."""
    if factor == "deployment_scope":
        return _SCOPE.get(target, UNKNOWN_FACTOR), f"target {target}"
    if factor == "change_magnitude":
        strategy = (handle.tag("deployment_strategy") or "").strip().lower().replace("-", "_")
        if (handle.tag("is_new_model") or "").strip().lower() in ("1", "true", "yes"):
            return 9.0, "tag is_new_model=true"
        if strategy in _STRATEGY:
            return _STRATEGY[strategy], f"tag deployment_strategy={strategy}"
        return None
    if factor == "data_sensitivity":
        cls = (handle.tag("data_classification") or "").strip().lower()
        if cls:
            return _SENSITIVITY.get(cls, UNKNOWN_FACTOR), f"tag data_classification={cls}"
        return None
    if factor == "testing_coverage":
        raw = handle.tag("test_coverage")
        if raw is None:
            return None
        try:
            cov = float(raw)
        except ValueError:
            return None
        score = 2.0 if cov >= 0.9 else 4.0 if cov >= 0.8 else 6.0 if cov >= 0.7 else 8.0
        return score, f"tag test_coverage={cov:g}"
    if factor == "rollback_capability":
        raw = handle.tag("rollback_enabled")
        if raw is None:
            return None
        if raw.strip().lower() not in ("1", "true", "yes"):
            return 9.0, "tag rollback_enabled=false"
        try:
            minutes = float(handle.tag("rollback_time_minutes") or 60)
        except ValueError:
            minutes = 60.0
        score = 2.0 if minutes <= 5 else 4.0 if minutes <= 15 else 6.0
        return score, f"rollback enabled, {minutes:g} min"
    return None


def tier_for(score: float) -> str:
    """Seed 002's tiers: low <= 3 < medium <= 5 < high <= 7 < critical."""
    for limit, tier in TIERS:
        if score <= limit:
            return tier
    return "critical"


def assess_risk(handle: ModelHandle, policy: Policy, target: str) -> RiskAssessment:
    """Score the release risk of ``handle`` for ``target`` (see the module docstring)."""
    configured = policy.section("approvals").get("risk", {})
    unknown = sorted(set(configured) - set(RISK_WEIGHTS))
    if unknown:
        raise PolicyError(
            f"policy key 'approvals.risk.{unknown[0]}' is not a risk factor (known: {', '.join(RISK_WEIGHTS)})"
        )
    factors: dict[str, dict[str, Any]] = {}
    score = 0.0
    for factor, weight in RISK_WEIGHTS.items():
        if factor in configured:
            value = _as_score(configured[factor])
            if value is None:
                raise PolicyError(
                    f"policy key 'approvals.risk.{factor}' must be a number from 0 to 10, got {configured[factor]!r}"
                )
            source = "policy"
        elif handle.tag(f"risk.{factor}") is not None:
            raw = handle.tag(f"risk.{factor}")
            value = _as_score(raw)
            if value is None:
                raise AuditConfigError(
                    f"tag risk.{factor}={raw!r} on {handle.name} v{handle.version} must be a number from 0 "
                    "to 10: fix the tag or set approvals.risk in the policy"
                )
            source = f"tag risk.{factor}"
        else:
            derived = _derive(factor, handle, target)
            if derived is not None:
                value, source = derived[0], f"derived: {derived[1]}"
            else:
                value, source = UNKNOWN_FACTOR, "default (unknown: midpoint)"
        factors[factor] = {"value": value, "weight": weight, "source": source}
        score += value * weight
    score = round(score, 2)
    return RiskAssessment(score=score, tier=tier_for(score), factors=factors)


# -- evaluation ------------------------------------------------------------------------------
def _dedupe(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item.strip().lower(), None)
    return tuple(k for k in seen if k)


def policy_dir(policy: Policy) -> Path:
    """The directory relative policy paths (allowed signers) are read from."""
    source = policy.source.split(" [")[0]
    return Path(source).parent if source and source != "default policy" else Path.cwd()


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
    from pytest_release_audit import signed_approvals as signed

    if client is None:
        from pytest_release_audit.handle.resolve import open_client

        client = open_client(handle.tracking_uri)
    risk = assess_risk(handle, policy, target)
    required = _dedupe(policy.approvals_required(target) + policy.tier_roles(risk.tier))
    known_roles = set(policy.known_roles())
    digest = version_digest(client, handle.name, handle.version)
    section = policy.section("approvals")
    base_dir = policy_dir(policy)
    tags = _version_tags(client, handle.name, handle.version)
    statements = [(k, v) for k, v in sorted(tags.items()) if k.startswith(signed.TAG_PREFIX)]
    content = ""
    if statements:
        if artifact_digest is None:
            from pytest_release_audit.handle import artifact

            artifact_digest = artifact.artifact_digest(handle)
        content = artifact_digest
    ignored: list[dict[str, str]] = []
    unverified: list[dict[str, str]] = []
    latest: dict[tuple[str, str], Approval] = {}
    sources: dict[str, str] = {}
    for key, value in statements:
        statement, text, signature = signed.read_tag(key, value)
        if statement is None:
            ignored.append({"role": key[len(signed.TAG_PREFIX):].split(".")[0], "by": "",
                            "reason": f"rejected: {signature}"})
            continue
        why = ""
        if statement.role not in known_roles:
            why = f"role {statement.role!r} is not a role of the policy"
        elif statement.decision not in signed.DECISIONS:
            why = f"decision {statement.decision!r} is not approved/rejected"
        elif (statement.model, statement.version) != (handle.name, str(handle.version)):
            why = f"signed for {statement.model} v{statement.version}, not this version"
        elif statement.version_digest != digest:
            why = (f"signed for other registry facts (version digest {statement.version_digest[:12]}, this "
                   f"version {digest[:12]})")
        elif statement.artifact_digest != content:
            why = (f"signed for other model files (artifact digest {statement.artifact_digest[:12]}, this "
                   f"version {content[:12]})")
        elif not signed.valid_time(statement.at):
            why = f"time {statement.at!r} is not a UTC timestamp"
        else:
            file, source = signed.signers_file(statement.role, section, base_dir)
            sources[statement.role] = source
            why = ("no allowed_signers file is configured for this role ([approvals.signers] or "
                   f"{signed.SIGNERS_ENV})") if file is None else signed.verify(
                       text, signature, statement.by, file, statement.role)
            if not why and key != statement.tag_key():
                why = "stored under another tag than its own (a copy)"
            elif why:
                # A statement that names this version but does not verify was forged or tampered with
                # (or signed by someone the role does not allow): it blocks until someone looks.
                unverified.append({"role": statement.role, "by": statement.by, "reason": why})
        if why:
            ignored.append({"role": statement.role, "by": statement.by, "reason": f"rejected: {why}"})
            continue
        approval = Approval(role=statement.role, by=statement.by, at=statement.at, status=statement.decision,
                            comment=statement.comment, version_digest=digest, signed=True)
        current = latest.get((statement.role, statement.by))
        if (current is None or approval.at > current.at
                or (approval.at == current.at and approval.status == "rejected")):
            latest[(statement.role, statement.by)] = approval  # the signer's latest decision wins (a tie: rejected)
    for approval in approvals_from_tags(tags):  # unsigned, the 0.1 format
        if approval.error:
            ignored.append({"role": approval.role, "by": approval.by, "reason": f"unreadable: {approval.error}"})
        elif target != "development":
            ignored.append({"role": approval.role, "by": approval.by,
                            "reason": "rejected: unsigned (an unsigned decision counts only for development: sign "
                                      "it with release-audit approve --key)"})
        elif approval.role not in known_roles:
            ignored.append({"role": approval.role, "by": approval.by,
                            "reason": f"rejected: role {approval.role!r} is not a role of the policy"})
        elif approval.version_digest != digest:
            ignored.append({"role": approval.role, "by": approval.by,
                            "reason": "recorded for other content (version digest "
                                      f"{approval.version_digest[:12] or 'missing'}, this version {digest[:12]})"})
        else:
            latest.setdefault((approval.role, f"unsigned:{approval.by}"), replace(approval, signed=False))
    present: list[Approval] = []
    rejected: list[Approval] = []
    extra: list[Approval] = []
    for approval in latest.values():
        if approval.status == "rejected":
            rejected.append(approval)  # any valid rejection blocks, required role or not
        elif approval.role in required:
            present.append(approval)
        else:
            extra.append(approval)
    have = {a.role for a in present}
    refused = {a.role for a in rejected}
    missing = tuple(r for r in required if r not in have and r not in refused)
    return ApprovalStatus(
        target=target,
        risk=risk,
        required=required,
        present=tuple(sorted(present, key=lambda a: (required.index(a.role), a.at))),
        missing=missing,
        rejected=tuple(rejected),
        ignored=tuple(ignored),
        version_digest=digest,
        extra=tuple(extra),
        signers=dict(sources),
        artifact_digest=content,
        unverified=tuple(unverified),
    )


def approve_hint(name: str, version: str | int, role: str) -> str:
    """The command that records a missing approval."""
    return f"release-audit approve {name}/{version} --role {role} --by PRINCIPAL --key ~/.ssh/id_ed25519"
