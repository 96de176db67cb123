# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Signed approval statements: SSH signatures made and checked with ``ssh-keygen -Y``, as git does.

A statement is the canonical JSON of ``{type, model, version, version_digest, artifact_digest,
role, decision, by, at, comment}``: the version digest covers the registry facts (run id, dataset
digests, artifact listing; ``approvals.digest.version_digest``), the artifact digest the content of every
model file (sha256 per file, ``handle.artifact.content_digest``).
``release-audit approve ... --key ~/.ssh/id_ed25519 --by PRINCIPAL`` signs it with
``ssh-keygen -Y sign -n release-audit`` and stores ``{"statement", "signature"}`` in one model
version tag per statement (``release_audit.signed_approval.<role>.<signer>.<time>.<hash>``), so a later
decision of the same signer does not erase the earlier one; the latest decision wins.

The approvals check accepts a statement only when ``ssh-keygen -Y verify`` says the signature is
good for the principal it names, in the namespace ``release-audit``, against the
``allowed_signers`` file of the statement's role, and when it is about this version (name,
number, version digest and artifact digest). Anything else (unsigned, forged, re-dated, another version, a signer
not allowed for the role) is listed as rejected with the reason.

Where the allowed signers come from: ``RELEASE_AUDIT_SIGNERS_DIR`` (a directory of
``<role>.allowed_signers`` files that the CI provides) when set, else the policy's
``[approvals.signers]`` table (files in the audited repository, which the report says).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import AuditConfigError
from pytest_release_audit.files import sha256_text

NAMESPACE = "release-audit"
STATEMENT_TYPE = "release-audit/approval@1"
TAG_PREFIX = "release_audit.signed_approval."
SIGNERS_ENV = "RELEASE_AUDIT_SIGNERS_DIR"
DECISIONS = ("approved", "rejected")
#: A signer principal as ``allowed_signers`` lists it (no spaces, commas or quotes), e.g. an e-mail.
PRINCIPAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]{0,199}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def valid_time(text: str) -> bool:
    """True for the UTC timestamp form statements use (``2026-12-01T09:30:00Z``)."""
    if not _TIME.fullmatch(text):
        return False
    try:
        dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _ssh_keygen() -> str:
    path = shutil.which("ssh-keygen")
    if path is None:
        raise AuditConfigError("ssh-keygen is not installed: install OpenSSH's client (Debian: openssh-client)")
    return path


@dataclass(frozen=True)
class Statement:
    """What one approver decided about one model version."""

    model: str
    version: str
    version_digest: str
    artifact_digest: str
    role: str
    decision: str
    by: str
    at: str
    comment: str = ""

    def canonical(self) -> str:
        """The signed text: canonical JSON of the statement with its type."""
        body = {"type": STATEMENT_TYPE, "model": self.model, "version": self.version,
                "version_digest": self.version_digest, "artifact_digest": self.artifact_digest,
                "role": self.role, "decision": self.decision,
                "by": self.by, "at": self.at, "comment": self.comment}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def parse(cls, text: str) -> Statement:
        """The statement ``text`` holds; ValueError unless it is exactly a canonical statement."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("type") != STATEMENT_TYPE:
            raise ValueError("not a release-audit approval statement")
        statement = cls(**{k: str(data.get(k, "")) for k in
                           ("model", "version", "version_digest", "artifact_digest", "role", "decision", "by",
                            "at", "comment")})
        if statement.canonical() != text:
            raise ValueError("the statement is not in canonical form (edited after signing?)")
        return statement

    def tag_key(self) -> str:
        """``release_audit.signed_approval.<role>.<signer>.<time>.<hash>``: one tag per statement."""
        signer = sha256_text(self.by)[:12]
        stamp = self.at.replace("-", "").replace(":", "")
        content = sha256_text(self.canonical())[:12]
        return f"{TAG_PREFIX}{self.role}.{signer}.{stamp}.{content}"


def sign(statement: Statement, key: Path) -> str:
    """The armored SSH signature of ``statement`` made with the private key at ``key``."""
    with tempfile.TemporaryDirectory(prefix="release-audit-sign-") as tmp:
        data = Path(tmp) / "statement.json"
        data.write_text(statement.canonical(), encoding="utf-8")
        done = subprocess.run([_ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(data)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        if done.returncode != 0:
            reason = " ".join((done.stderr or done.stdout).split())[:200]
            raise AuditConfigError(f"ssh-keygen could not sign with {key} ({reason}): pass an SSH private key")
        return (Path(tmp) / "statement.json.sig").read_text(encoding="utf-8")


def _principals(signature: Path, allowed_signers: Path) -> list[str]:
    """The principals ``allowed_signers`` lists for the key that made ``signature``."""
    try:
        done = subprocess.run([_ssh_keygen(), "-Y", "find-principals", "-s", str(signature), "-f",
                               str(allowed_signers)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def verify(statement_text: str, signature: str, principal: str, allowed_signers: Path, role: str) -> str:
    """'' when ``signature`` is ``principal``'s good signature of ``statement_text``; else why not."""
    if not allowed_signers.is_file():
        return f"no allowed_signers file at {allowed_signers}"
    with tempfile.TemporaryDirectory(prefix="release-audit-verify-") as tmp:
        sig = Path(tmp) / "statement.sig"
        sig.write_text(signature, encoding="utf-8")
        try:
            done = subprocess.run(
                [_ssh_keygen(), "-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", NAMESPACE,
                 "-s", str(sig)], input=statement_text.encode("utf-8"), capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "ssh-keygen did not answer"
        if done.returncode == 0:
            return ""
        text = " ".join((done.stderr or done.stdout).decode("utf-8", "replace").split())
        if "namespace" in text:
            return "signed for another purpose (SSH signature namespace is not release-audit)"
        owners = _principals(sig, allowed_signers)
    if not owners:
        return f"signed with a key that is not an allowed signer for role {role}"
    if principal not in owners:
        return f"signed with the key of {', '.join(owners[:3])}, not of {principal}"
    return "the signature does not verify (the statement was edited after signing)"


def signers_file(role: str, section: dict[str, Any], base_dir: Path) -> tuple[Path | None, str]:
    """The allowed_signers file for ``role`` and where the setting came from."""
    from pytest_release_audit.isolation import TRUSTED_ENV

    trusted = TRUSTED_ENV.get(SIGNERS_ENV)
    if trusted:
        return Path(trusted) / f"{role}.allowed_signers", f"{SIGNERS_ENV} (the CI)"
    configured = (section.get("signers") or {}).get(role)
    if not configured:
        return None, "none"
    path = Path(configured)
    return (path if path.is_absolute() else base_dir / path), "policy [approvals.signers] (the audited repository)"


def read_tag(key: str, value: str) -> tuple[Statement | None, str, str]:
    """(statement, statement text, signature) from a signed-approval tag; statement None when unreadable."""
    try:
        data = json.loads(value)
        text, signature = str(data["statement"]), str(data["signature"])
        return Statement.parse(text), text, signature
    except (TypeError, ValueError, KeyError) as exc:
        return None, "", f"unreadable: {exc.__class__.__name__}"


def tag_value(statement: Statement, signature: str) -> str:
    """The tag value: the statement text and its armored signature."""
    return json.dumps({"statement": statement.canonical(), "signature": signature}, sort_keys=True)
