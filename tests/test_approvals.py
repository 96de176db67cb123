# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Approvals as model-version tags, version digests, risk tiers, and the ``approvals`` check."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_release_audit.approvals import (
    TAG_PREFIX,
    assess_risk,
    digest_of,
    evaluate_approvals,
    list_approvals,
    record_approval,
    tier_for,
    version_digest,
    version_facts,
)
from pytest_release_audit.errors import AuditConfigError, PolicyError, RegistryUnavailable
from pytest_release_audit.evidence import Evidence
from pytest_release_audit.policy import validate

NAME = "cl_unimodal_v2"
LOW = {
    "model_complexity": 1,
    "data_sensitivity": 1,
    "change_magnitude": 1,
    "testing_coverage": 1,
    "rollback_capability": 1,
}  # deployment_scope stays derived from the target


def _empty_db(root: Path, basetemp: Path) -> str:
    """A migrated empty MLflow SQLite DB under ``root``, copied from a per-run template.

    Creating an MLflow DB runs every alembic migration (several seconds); the template makes that
    a one-off per test process (the other release/cli test modules reuse it).
    """
    import shutil

    import filelock
    from mlflow import MlflowClient

    template = basetemp / "mlflow-empty-template.db"
    with filelock.FileLock(f"{template}.lock"):
        if not template.exists():
            building = basetemp / "mlflow-empty-building.db"
            MlflowClient(f"sqlite:///{building}").search_experiments()
            building.rename(template)
    shutil.copyfile(template, root / "mlflow.db")
    return f"sqlite:///{root / 'mlflow.db'}"


def build_store(root: Path, basetemp: Path) -> dict[str, Any]:
    """A real SQLite MLflow store: one pyfunc model; v1 from run A, v2 = same model files, run B.

    Sets mlflow's global tracking/registry URI to the store (the registry resolves a
    ``models:/`` source through it); the fixtures restore the previous URIs.
    """
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    class Scorer(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input.iloc[:, 0]

    uri = _empty_db(root, basetemp)
    client = MlflowClient(uri, uri)
    exp = client.create_experiment("audit", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    runs = []
    for rows in (3, 4):
        df = pd.DataFrame({"age": [50.0 + i for i in range(rows)], "event": [i % 2 for i in range(rows)]})
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.log_input(
                mlflow.data.from_pandas(df, source=str(root / "train.csv"), name="train"), context="training"
            )
            if not runs:
                info = mlflow.pyfunc.log_model(name="model", python_model=Scorer(), registered_model_name=NAME)
        runs.append(run.info.run_id)
    source = client.get_model_version(NAME, "1").source
    assert source == info.model_uri
    client.create_model_version(NAME, source, run_id=runs[1])
    return {"uri": uri, "client": client, "runs": runs, "source": source, "root": root}


def store_fixture(tmp_path_factory: pytest.TempPathFactory, label: str) -> Iterator[dict[str, Any]]:
    """Body of a module-scoped store fixture (shared with test_release.py and test_cli.py)."""
    import mlflow

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        with warnings.catch_warnings():  # MLflow's hints about toy models and SQLAlchemy deprecations
            warnings.simplefilter("ignore")
            built = build_store(tmp_path_factory.mktemp(label), tmp_path_factory.getbasetemp())
        yield built
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from store_fixture(tmp_path_factory, "approvals-store")


PEOPLE = {"technical": "j.smith@example.org", "security": "m.chen@example.org", "business": "k.patel@example.org"}


def make_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real SSH keys per role (ssh-keygen) and ``signers/<role>.allowed_signers`` beside them."""
    import build_demo

    root = tmp_path_factory.mktemp("approvers")
    made = build_demo.make_approvers(root, PEOPLE)
    made["_root"] = root
    return made


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory)


def signed_policy(keys: dict[str, Path], **approvals: Any) -> Any:
    """A policy with LOW risk whose [approvals.signers] names the test signers."""
    root = keys["_root"] / "signers"
    table = {"risk": LOW, "signers": {role: str(root / f"{role}.allowed_signers") for role in PEOPLE}, **approvals}
    return validate({"approvals": table})


def sign(store: dict[str, Any], version: str, role: str, keys: dict[str, Path], *, by: str | None = None,
         key_of: str | None = None, reject: bool = False, comment: str = "") -> Any:
    return record_approval(store["client"], NAME, version, role, by or PEOPLE[role], reject=reject, comment=comment,
                           key=keys[key_of or role])


@pytest.fixture
def fresh(store: dict[str, Any]) -> str:
    """A new version (same run and source as v1) so each test starts without approvals."""
    client = store["client"]
    run_id = store["runs"][0]
    mv = client.create_model_version(NAME, store["source"], run_id=run_id)
    return str(mv.version)


def handle_for(store: dict[str, Any], version: str):
    from pytest_release_audit.handle.resolve import resolve_handle
    from pytest_release_audit.handle.spec import ModelSpec

    return resolve_handle(ModelSpec(name=NAME, version=version), store["uri"])


def test_approval_is_a_version_tag_naming_who_when_and_digest(store, fresh):
    client = store["client"]
    approval = record_approval(client, NAME, fresh, "Security", "  M.   Chen ", comment="looked at\nbandit")
    tags = client.get_model_version(NAME, fresh).tags
    value = json.loads(tags[TAG_PREFIX + "security"])
    assert value == {
        "role": "security",
        "by": "M. Chen",
        "at": approval.at,
        "status": "approved",
        "comment": "looked at bandit",
        "version_digest": version_digest(client, NAME, fresh),
    }
    assert value["at"].endswith("Z") and len(value["version_digest"]) == 64
    assert [a.role for a in list_approvals(client, NAME, fresh)] == ["security"]


def test_digest_differs_between_versions_of_the_same_source(store, fresh):
    client = store["client"]
    other = client.create_model_version(NAME, store["source"], run_id=store["runs"][0]).version
    assert version_digest(client, NAME, fresh) == version_digest(client, NAME, fresh)
    assert version_digest(client, NAME, fresh) != version_digest(client, NAME, other)


def test_digest_covers_run_datasets_and_model_files(store):
    client = store["client"]
    v1, v2 = version_facts(client, NAME, "1"), version_facts(client, NAME, "2")
    assert v1["source"] == v2["source"] and v1["run_id"] != v2["run_id"]
    assert v1["datasets"] != v2["datasets"] and v1["datasets"][0][2] == "training"
    files = dict(v1["artifacts"])
    assert files["MLmodel"] > 0 and "python_model.pkl" in files
    assert digest_of(v1) == version_digest(client, NAME, "1")
    assert digest_of({**v1, "datasets": v2["datasets"]}) != digest_of(v1)
    assert digest_of({**v1, "artifacts": [["MLmodel", 1]]}) != digest_of(v1)


def test_loading_the_model_keeps_the_digest(store, fresh):
    """MLflow writes registered_model_meta into a local store on load: not content, not counted."""
    import mlflow

    client = store["client"]
    before = version_digest(client, NAME, fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.pyfunc.load_model(f"models:/{NAME}/{fresh}")
    listed = {f.path for f in client.list_logged_model_artifacts(store["source"].removeprefix("models:/"))}
    assert "registered_model_meta" in listed  # the dropping is really there ...
    assert version_digest(client, NAME, fresh) == before  # ... and ignored


def test_missing_roles_for_production_listed_in_order(store, fresh, keys):
    sign(store, fresh, "technical", keys)
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "production")
    assert status.required == ("technical", "security", "business")
    assert [a.role for a in status.present] == ["technical"]
    assert status.missing == ("security", "business") and not status.ok
    assert status.risk.tier == "low"


@pytest.mark.parametrize(
    ("target", "required"),
    [
        ("development", ("technical",)),
        ("staging", ("technical", "security")),
        ("production", ("technical", "security", "business")),
    ],
)
def test_required_roles_per_target_default_to_seed(store, fresh, target, required):
    status = evaluate_approvals(handle_for(store, fresh), validate({"approvals": {"risk": LOW}}), target)
    assert status.required == required and status.missing == required


def test_ready_when_all_roles_approved_this_version(store, fresh, keys):
    for role in PEOPLE:
        sign(store, fresh, role, keys)
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "production")
    assert status.ok and status.missing == () and status.ignored == ()
    data = status.to_dict()
    assert [p["by"] for p in data["present"]] == list(PEOPLE.values())
    assert all(p["signed"] for p in data["present"])
    assert set(data["signers"].values()) == {"policy [approvals.signers] (the audited repository)"}
    assert data["tier"] == "low" and json.loads(json.dumps(data)) == data


def test_tiers_add_the_policy_roles(store, fresh):
    handle = handle_for(store, fresh)
    high = {k: 6 for k in LOW}
    critical = {k: 9 for k in LOW}
    # Defaults (policy.DEFAULT_TIER_ROLES): critical adds executive; high adds nothing by default.
    status = evaluate_approvals(handle, validate({"approvals": {"risk": critical}}), "staging")
    assert status.risk.tier == "critical"
    assert status.required == ("technical", "security", "executive")
    assert status.missing == status.required
    status = evaluate_approvals(handle, validate({"approvals": {"risk": high}}), "production")
    assert status.risk.tier == "high" and status.required == ("technical", "security", "business")
    # Configured tier roles are added once, after the target's roles, in order.
    custom = validate({"approvals": {"risk": high, "tier_roles": {"high": ["risk", "Technical"]}}})
    assert evaluate_approvals(handle, custom, "development").required == ("technical", "risk")
    custom = validate(
        {"approvals": {"risk": high, "tier_roles": {"high": ["cmo"]}, "required": {"production": ["owner"]}}}
    )
    assert evaluate_approvals(handle, custom, "production").required == ("owner", "cmo")


def test_approval_copied_from_another_version_is_ignored(store, fresh):
    client = store["client"]
    other = client.create_model_version(NAME, store["source"], run_id=store["runs"][0]).version
    record_approval(client, NAME, other, "technical", "J. Smith")
    copied = client.get_model_version(NAME, other).tags[TAG_PREFIX + "technical"]
    client.set_model_version_tag(NAME, fresh, TAG_PREFIX + "technical", copied)
    status = evaluate_approvals(handle_for(store, fresh), validate({"approvals": {"risk": LOW}}), "development")
    assert status.present == () and status.missing == ("technical",)
    assert status.ignored[0]["role"] == "technical" and "other content" in status.ignored[0]["reason"]


def test_unreadable_approval_tag_is_ignored_not_counted(store, fresh):
    client = store["client"]
    client.set_model_version_tag(NAME, fresh, TAG_PREFIX + "technical", "yes, approved")
    client.set_model_version_tag(
        NAME,
        fresh,
        TAG_PREFIX + "security",
        json.dumps({"role": "business", "by": "x", "status": "approved"}),
    )
    status = evaluate_approvals(handle_for(store, fresh), validate({"approvals": {"risk": LOW}}), "staging")
    assert status.missing == ("technical", "security")
    assert {i["role"] for i in status.ignored} == {"technical", "security"}


def test_rejection_blocks_even_with_other_approvals(store, fresh):
    client = store["client"]
    record_approval(client, NAME, fresh, "technical", "J. Smith")
    record_approval(client, NAME, fresh, "security", "M. Chen", reject=True, comment="open CVE")
    status = evaluate_approvals(handle_for(store, fresh), validate({"approvals": {"risk": LOW}}), "development")
    assert status.missing == () and not status.ok
    assert [(a.role, a.by) for a in status.rejected] == [("security", "M. Chen")]
    # A later approval of the same role replaces the rejection.
    record_approval(client, NAME, fresh, "security", "M. Chen", comment="CVE patched")
    assert evaluate_approvals(handle_for(store, fresh), validate({"approvals": {"risk": LOW}}), "development").ok


def test_risk_factors_from_policy_then_tags_then_derivation(store, fresh):
    client = store["client"]
    client.set_model_version_tag(NAME, fresh, "risk.model_complexity", "8")
    client.set_model_version_tag(NAME, fresh, "risk.testing_coverage", "7")
    client.set_model_version_tag(NAME, fresh, "data_classification", "Restricted")
    client.set_model_version_tag(NAME, fresh, "rollback_enabled", "true")
    client.set_model_version_tag(NAME, fresh, "rollback_time_minutes", "3")
    handle = handle_for(store, fresh)
    risk = assess_risk(handle, validate({"approvals": {"risk": {"testing_coverage": 1}}}), "staging")
    f = risk.factors
    assert f["model_complexity"] == {"value": 8.0, "weight": 0.2, "source": "tag risk.model_complexity"}
    assert f["testing_coverage"]["value"] == 1 and f["testing_coverage"]["source"] == "policy"
    assert f["data_sensitivity"]["value"] == 9.0 and "data_classification" in f["data_sensitivity"]["source"]
    assert f["deployment_scope"]["value"] == 4.0 and "target staging" in f["deployment_scope"]["source"]
    assert f["rollback_capability"]["value"] == 2.0
    assert f["change_magnitude"]["value"] == 5.0 and f["change_magnitude"]["source"].startswith("default")
    expected = 8 * 0.2 + 9 * 0.25 + 4 * 0.15 + 5 * 0.2 + 1 * 0.1 + 2 * 0.1
    assert risk.score == round(expected, 2) and risk.tier == "high"


def test_unknown_risk_in_production_is_high(store, fresh):
    risk = assess_risk(handle_for(store, fresh), validate({}), "production")
    assert risk.score == 5.15 and risk.tier == "high"


def test_tier_boundaries_follow_seed():
    assert [tier_for(s) for s in (0, 3, 3.01, 5, 5.5, 7, 7.01, 10)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
    ]


def test_bad_risk_inputs_are_one_line_errors(store, fresh):
    handle = handle_for(store, fresh)
    with pytest.raises(PolicyError, match="approvals.risk.blast_radius"):
        assess_risk(handle, validate({"approvals": {"risk": {"blast_radius": 3}}}), "production")
    with pytest.raises(PolicyError, match="from 0 to 10"):
        assess_risk(handle, validate({"approvals": {"risk": {"data_sensitivity": 11}}}), "production")
    store["client"].set_model_version_tag(NAME, fresh, "risk.data_sensitivity", "very")
    with pytest.raises(AuditConfigError, match="risk.data_sensitivity"):
        assess_risk(handle_for(store, fresh), validate({}), "production")


def test_bad_role_or_approver_rejected_before_writing(store, fresh):
    client = store["client"]
    with pytest.raises(AuditConfigError, match="role"):
        record_approval(client, NAME, fresh, "security; drop", "x")
    with pytest.raises(AuditConfigError, match="--by"):
        record_approval(client, NAME, fresh, "security", "   ")
    assert list_approvals(client, NAME, fresh) == []
    with pytest.raises(RegistryUnavailable, match="no_such_model/1"):
        record_approval(client, "no_such_model", "1", "security", "x")


def _run_check(store, version, policy, target):
    from pytest_release_audit.checks.test_approvals import test_approvals as check

    evidence = Evidence()
    try:
        check(handle_for(store, version), policy, target, evidence)
    except AssertionError as exc:
        return evidence, str(exc)
    return evidence, None


def test_check_fails_naming_missing_roles_and_the_command(store, fresh, keys):
    sign(store, fresh, "technical", keys)
    evidence, message = _run_check(store, fresh, signed_policy(keys), "production")
    assert message is not None and message.startswith("missing approvals for production: security, business")
    assert f"release-audit approve {NAME}/{fresh} --role security --by PRINCIPAL --key" in message
    assert evidence["missing"] == ["security", "business"] and evidence["tier"] == "low"


def test_check_fails_on_rejection(store, fresh, keys):
    for role in ("technical", "security"):
        sign(store, fresh, role, keys)
    sign(store, fresh, "business", keys, reject=True)
    _evidence, message = _run_check(store, fresh, signed_policy(keys), "production")
    assert message is not None and message.startswith("rejected for production: business by k.patel@example.org")


def test_check_passes_with_summary(store, fresh):
    record_approval(store["client"], NAME, fresh, "technical", "J. Smith")
    evidence, message = _run_check(store, fresh, validate({"approvals": {"risk": LOW}}), "development")
    assert message is None
    assert evidence.summary.startswith("1/1 approvals for development (risk ")
    assert "technical by J. Smith" in evidence.summary


# -- signed statements: what an attacker with registry write access can and cannot do ----------
def _statements(store: dict[str, Any], version: str) -> dict[str, str]:
    from pytest_release_audit.approvals.signed import TAG_PREFIX as SIGNED

    tags = store["client"].get_model_version(NAME, version).tags
    return {k: v for k, v in tags.items() if k.startswith(SIGNED)}


def _not_counted(status: Any) -> str:
    return " | ".join(i["reason"] for i in status.ignored)


def test_signed_statement_is_canonical_json_signed_by_ssh_keygen(store, fresh, keys):
    from pytest_release_audit.handle.artifact import artifact_digest

    sign(store, fresh, "security", keys, comment="bandit clean")
    [(key, value)] = _statements(store, fresh).items()
    stored = json.loads(value)
    statement = json.loads(stored["statement"])
    assert stored["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    assert statement["by"] == "m.chen@example.org" and statement["decision"] == "approved"
    assert statement["version_digest"] == version_digest(store["client"], NAME, fresh)
    assert statement["artifact_digest"] == artifact_digest(handle_for(store, fresh))
    assert key.startswith("release_audit.signed_approval.security.")


def test_unsigned_approval_counts_only_for_development(store, fresh, keys):
    record_approval(store["client"], NAME, fresh, "technical", "J. Smith")
    assert evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development").present[0].signed is False
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "staging")
    assert status.present == () and "unsigned" in _not_counted(status)


def test_forged_decision_in_a_signed_tag_is_rejected(store, fresh, keys):
    """The security approver rejected; someone with registry write access flips it to approved."""
    sign(store, fresh, "security", keys, reject=True)
    [(key, value)] = _statements(store, fresh).items()
    stored = json.loads(value)
    stored["statement"] = stored["statement"].replace('"decision":"rejected"', '"decision":"approved"')
    store["client"].set_model_version_tag(NAME, fresh, key, json.dumps(stored))
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "staging")
    assert status.present == () and status.rejected == () and not status.ok
    assert "edited after signing" in _not_counted(status)
    assert [u["role"] for u in status.unverified] == ["security"]
    _evidence, message = _run_check(store, fresh, signed_policy(keys), "staging")
    assert message is not None and "1 signed decision(s)" in message and "do not verify" in message


def test_backdated_statement_is_rejected(store, fresh, keys):
    sign(store, fresh, "security", keys, reject=True)
    sign(store, fresh, "security", keys)  # a fresh approval after the rejection ...
    tags = _statements(store, fresh)
    for key, value in tags.items():  # ... and an attacker re-dates the rejection to after it
        stored = json.loads(value)
        statement = json.loads(stored["statement"])
        if statement["decision"] == "rejected":
            statement["at"] = "2099-01-01T00:00:00Z"
            stored["statement"] = json.dumps(statement, sort_keys=True, separators=(",", ":"))
            store["client"].set_model_version_tag(NAME, fresh, key, json.dumps(stored))
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "staging")
    assert "edited after signing" in _not_counted(status)
    assert [a.status for a in status.present] == ["approved"] and status.rejected == ()
    assert not status.ok  # the tampered rejection blocks: dropping a rejection is not a way to approve


def test_later_signed_rejection_by_the_same_signer_wins(store, fresh, keys):
    import time

    sign(store, fresh, "technical", keys)
    time.sleep(1.1)  # statement times have one-second resolution
    sign(store, fresh, "technical", keys, reject=True, comment="found a leak")
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development")
    assert not status.ok and [(a.role, a.status) for a in status.rejected] == [("technical", "rejected")]
    time.sleep(1.1)
    sign(store, fresh, "technical", keys, comment="leak fixed")
    assert evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development").ok


def test_signer_not_allowed_for_the_role_is_rejected(store, fresh, keys):
    # The technical approver's own key, signing as herself, for the business role.
    sign(store, fresh, "business", keys, by=PEOPLE["technical"], key_of="technical")
    # The technical approver's key claiming to be the business approver.
    sign(store, fresh, "technical", keys, by=PEOPLE["business"], key_of="technical")
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "production")
    reasons = _not_counted(status)
    assert status.present == () and len(status.unverified) == 2
    assert "not an allowed signer for role business" in reasons
    assert f"signed with the key of {PEOPLE['technical']}, not of {PEOPLE['business']}" in reasons


def test_statement_copied_from_another_version_is_rejected(store, fresh, keys):
    client = store["client"]
    other = str(client.create_model_version(NAME, store["source"], run_id=store["runs"][0]).version)
    sign(store, other, "technical", keys)
    for key, value in _statements(store, other).items():
        client.set_model_version_tag(NAME, fresh, key, value)
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development")
    assert status.present == () and "not this version" in _not_counted(status)


def test_statement_for_other_model_files_is_rejected(store, fresh, keys):
    sign(store, fresh, "technical", keys)
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development",
                                artifact_digest="0" * 64)
    assert status.present == () and "signed for other model files" in _not_counted(status)


def test_roles_come_from_the_policy(store, fresh, keys):
    with pytest.raises(AuditConfigError, match="'qa' is not a role of the policy"):
        record_approval(store["client"], NAME, fresh, "qa", PEOPLE["technical"], key=keys["technical"],
                        roles=tuple(signed_policy(keys).known_roles()))
    with pytest.raises(AuditConfigError, match="not a signer principal"):
        record_approval(store["client"], NAME, fresh, "technical", "J. Smith", key=keys["technical"])
    assert _statements(store, fresh) == {}


def test_production_cannot_require_no_approval(store, fresh, keys):
    with pytest.raises(PolicyError, match="approvals.required.production"):
        evaluate_approvals(handle_for(store, fresh), signed_policy(keys, required={"production": []}), "production")


def test_signers_from_the_ci_win_over_the_policy(store, fresh, keys, tmp_path, monkeypatch):
    """RELEASE_AUDIT_SIGNERS_DIR (the CI's) replaces the audited repository's [approvals.signers]."""
    from types import MappingProxyType

    from pytest_release_audit import isolation

    sign(store, fresh, "technical", keys)
    empty = tmp_path / "ci-signers"
    empty.mkdir()
    (empty / "technical.allowed_signers").write_text("", encoding="utf-8")
    monkeypatch.setattr(isolation, "TRUSTED_ENV", MappingProxyType({"RELEASE_AUDIT_SIGNERS_DIR": str(empty)}))
    status = evaluate_approvals(handle_for(store, fresh), signed_policy(keys), "development")
    assert status.present == () and status.signers == {"technical": "RELEASE_AUDIT_SIGNERS_DIR (the CI)"}
    assert "not an allowed signer for role technical" in _not_counted(status)
