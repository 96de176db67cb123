# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Attacks on the approvals by whoever can write registry tags or the audited repository.

Each test audits a new version of the demo's clean candidate (same run, same model files) whose
approvals the test writes: real ``ssh-keygen`` signatures with the demo approvers' keys, real
MLflow tags, the audit in a pytest subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import Attack, assert_blocked, demo_subset

NAME = "cl_unimodal_v2"
APPROVERS = {"technical": "j.smith@example.org", "security": "m.chen@example.org", "business": "k.patel@example.org"}


@pytest.fixture(scope="module")
def approvals_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's production model and clean candidate (signed approvals, keys in .demo-keys/)."""
    return demo_subset(tmp_path_factory, "approvals", ("cl_unimodal_v1", "cl_unimodal_v2"))


def _client(registry: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    return MlflowClient(uri, uri)


def new_version(registry: Path) -> str:
    """A new version of the candidate: same run and files, its model-card tags, no approvals."""
    from pytest_release_audit.handle.resolve import using_store

    client = _client(registry)
    current = client.get_model_version_by_alias(NAME, "candidate")
    with using_store(f"sqlite:///{registry / 'mlflow.db'}"):  # MLflow looks the logged model up globally
        version = str(client.create_model_version(NAME, current.source, run_id=current.run_id).version)
    for key, value in (current.tags or {}).items():
        if not key.startswith("release_audit."):
            client.set_model_version_tag(NAME, version, key, value)
    return version


def approve(registry: Path, version: str, role: str, *, reject: bool = False, key: Path | None = None,
            by: str | None = None) -> None:
    from pytest_release_audit.approvals import record_approval
    from pytest_release_audit.handle.resolve import using_store

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    with using_store(uri):
        record_approval(_client(registry), NAME, version, role, by or APPROVERS[role], reject=reject,
                        key=key or registry / ".demo-keys" / f"{role}_ed25519")


def statements(registry: Path, version: str) -> dict[str, str]:
    tags = _client(registry).get_model_version(NAME, version).tags or {}
    return {k: v for k, v in tags.items() if k.startswith("release_audit.signed_approval.")}


#: The attacks run the approvals check alone (a partial run: BLOCKED whatever it says, so each test
#: asserts the approvals check itself failed, and why); the control runs every check.
ONLY = "--audit-checks=approvals"


@pytest.fixture
def audit(pytester: pytest.Pytester, approvals_registry: Path, monkeypatch: pytest.MonkeyPatch) -> Attack:
    monkeypatch.setenv("COLUMNS", "250")  # one check per terminal line: the cause is not wrapped
    return Attack(pytester, approvals_registry)


def test_control_three_signed_approvals_are_ready(audit: Attack, approvals_registry: Path) -> None:
    version = new_version(approvals_registry)
    for role in APPROVERS:
        approve(approvals_registry, version, role)
    result = audit.run(f"{NAME}/{version}")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert "READY FOR PRODUCTION" in result.stdout.str()


def test_rejection_rewritten_as_an_earlier_approval_is_blocked(audit: Attack, approvals_registry: Path) -> None:
    """The issue's attack: the security approver's rejection becomes an approval dated before it."""
    version = new_version(approvals_registry)
    for role in ("technical", "business"):
        approve(approvals_registry, version, role)
    approve(approvals_registry, version, "security", reject=True)
    client = _client(approvals_registry)
    for key, value in statements(approvals_registry, version).items():
        stored = json.loads(value)
        statement = json.loads(stored["statement"])
        if statement["decision"] == "rejected":
            statement.update(decision="approved", at="2020-01-01T00:00:00Z")
            stored["statement"] = json.dumps(statement, sort_keys=True, separators=(",", ":"))
            client.set_model_version_tag(NAME, version, key, json.dumps(stored))
    result = audit.run(f"{NAME}/{version}", ONLY)
    report = assert_blocked(result, audit, "do not verify")
    assert "approvals" in report["blocking"]


def test_unsigned_approvals_do_not_count_for_production(audit: Attack, approvals_registry: Path) -> None:
    """Registry write access alone writes 0.1-style approval tags for every role."""
    version = new_version(approvals_registry)
    client = _client(approvals_registry)
    from pytest_release_audit.approvals import TAG_PREFIX, Approval, version_digest

    digest = version_digest(client, NAME, version)
    for role, who in APPROVERS.items():
        tag = Approval(role=role, by=who, at="2026-12-01T00:00:00Z", status="approved", version_digest=digest)
        client.set_model_version_tag(NAME, version, TAG_PREFIX + role, tag.tag_value())
    result = audit.run(f"{NAME}/{version}", ONLY)
    report = assert_blocked(result, audit, "missing approvals for production")
    approvals = next(c for c in report["checks"] if c["id"] == "approvals")
    assert "unsigned" in approvals["summary"]


def test_statements_copied_from_another_version_do_not_count(audit: Attack, approvals_registry: Path) -> None:
    version = new_version(approvals_registry)
    client = _client(approvals_registry)
    original = client.get_model_version_by_alias(NAME, "candidate").version
    for key, value in statements(approvals_registry, str(original)).items():
        client.set_model_version_tag(NAME, version, key, value)
    result = audit.run(f"{NAME}/{version}", ONLY)
    report = assert_blocked(result, audit, "missing approvals for production")
    approvals = next(c for c in report["checks"] if c["id"] == "approvals")
    assert f"signed for {NAME} v{original}, not this version" in approvals["summary"]


def test_repository_signers_lose_to_the_ci_signers(audit: Attack, approvals_registry: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The audited repository names its own allowed_signers (the attacker's key) and signs every role."""
    version = new_version(approvals_registry)
    attacker = tmp_path / "attacker_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(attacker)], check=True)
    public = " ".join(attacker.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
    for role, who in APPROVERS.items():
        (audit.pytester.path / "signers" / f"{role}.allowed_signers").write_text(f"{who} {public}\n",
                                                                                 encoding="utf-8")
        approve(approvals_registry, version, role, key=attacker, by=who)
    ci_signers = tmp_path / "ci-signers"
    shutil.copytree(approvals_registry / "signers", ci_signers)
    monkeypatch.setenv("RELEASE_AUDIT_SIGNERS_DIR", str(ci_signers))
    result = audit.run(f"{NAME}/{version}", ONLY)
    report = assert_blocked(result, audit, "do not verify")
    approvals = next(c for c in report["checks"] if c["id"] == "approvals")
    assert "not an allowed signer for role" in approvals["summary"]
    assert set(approvals["evidence"]["signers"].values()) == {"RELEASE_AUDIT_SIGNERS_DIR (the CI)"}
    assert len(approvals["evidence"]["unverified"]) == 3
