# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy loader: defaults, validation with key paths, waivers, per-model overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_release_audit.policy import BUILTIN_CHECKS, PolicyError, default_policy, load_policy, validate


def test_default_policy_requires_every_builtin_check_for_production():
    policy = default_policy()
    assert policy.required_checks("production") == BUILTIN_CHECKS
    assert policy.get("target") == "production"
    assert policy.approvals_required("production") == ["technical", "security", "business"]
    assert policy.approvals_required("development") == ["technical"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"pii": {"thresold": 0.5}}, "unknown policy key 'pii.thresold' (known keys here: allow, "),
        ({"pii": {"threshold": "high"}}, "policy key 'pii.threshold' must be an integer or a number"),
        ({"bias": {"columns": "sex"}}, "policy key 'bias.columns' must be a list of strings"),
        ({"performance": {"first_release": 1}}, "policy key 'performance.first_release' must be true/false"),
        ({"target": "prod"}, "policy key 'target' must be one of development, staging, production"),
        ({"waivers": [{"id": "pii", "reason": "r", "approver": "a"}]}, "'waivers[0].expires' is missing"),
        ({"waivers": [{"id": "pii", "reason": "r", "approver": "a", "expires": "soon"}]},
         "must be a timestamp with a timezone"),
    ],
)
def test_invalid_policies_name_the_key_path(raw, message):
    with pytest.raises(PolicyError) as info:
        validate(raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_waiver_is_active_until_its_expiry_timestamp_inclusive():
    expires = dt.datetime(2026, 1, 31, 23, 59, 59, tzinfo=dt.UTC)
    waivers = [{"id": "bias", "reason": "r", "approver": "K. Patel", "expires": expires}]
    policy = validate({"waivers": waivers})
    waiver = policy.waiver_for("bias")
    assert waiver.active(expires) and not waiver.active(expires + dt.timedelta(seconds=1))
    assert policy.waiver_for("pii") is None


def test_model_tables_apply_globs_first_then_the_exact_name():
    policy = validate({
        "bias": {"min_n": 30},
        "models": {
            "cl_*": {"bias": {"columns": ["site"], "min_n": 10}},
            "cl_special": {"bias": {"min_n": 5}},
        },
    })
    assert policy.for_model("cl_special").section("bias")["columns"] == ["site"]
    assert policy.for_model("cl_special").section("bias")["min_n"] == 5
    assert policy.for_model("cl_other").section("bias")["min_n"] == 10
    assert policy.for_model("risk").section("bias") == policy.section("bias")


def test_model_tables_are_validated_too():
    with pytest.raises(PolicyError, match="unknown policy key 'models.m.bias.colums'"):
        validate({"models": {"m": {"bias": {"colums": ["x"]}}}})


def test_pyproject_without_a_release_audit_table_gives_the_default(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert load_policy(None, tmp_path).source == "default policy"


def test_a_missing_policy_file_is_one_clear_line(tmp_path):
    with pytest.raises(PolicyError, match="policy file .*nope.toml does not exist: fix --audit-policy"):
        load_policy("nope.toml", tmp_path)


def test_syntax_errors_are_reported_with_the_file(tmp_path):
    (tmp_path / "p.toml").write_text("[release\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="is not valid TOML"):
        load_policy("p.toml", tmp_path)


def test_sections_are_typed_frozen_attributes():
    policy = validate({"pii": {"threshold": 1}, "bias": {"columns": ["site"]}})
    assert policy.pii.threshold == 1.0 and policy.bias.columns == ("site",)
    assert policy.approvals.required == {} and policy.promotion.alias == "production-candidate"
    with pytest.raises(ValueError):
        policy.pii.threshold = 0.9  # type: ignore[misc]


def test_section_and_get_are_plain_copies_for_older_callers():
    policy = default_policy()
    section = policy.section("pii")
    assert section["ignore_entities"] == ["DATE_TIME", "URL"]
    section["ignore_entities"].append("EMAIL")
    assert policy.section("pii")["ignore_entities"] == ["DATE_TIME", "URL"]
    assert policy.get("required_checks") == [] and policy.get("target") == "production"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"controls": {"nonsense": ["DP-7"]}}, "policy key 'controls.nonsense' is not a built-in check id"),
        ({"controls": {"pii": "DP-7"}}, "policy key 'controls.pii' must be a list of strings, got 'DP-7'"),
        ({"controls": {"pii": [" "]}}, "policy key 'controls.pii' contains an empty control id"),
        ({"required_checks": ["lineage", " "]}, "policy key 'required_checks' contains an empty check id"),
        ({"task": {"kind": "ranking"}}, "policy key 'task.kind' must be survival, binary, multiclass or regression"),
        ({"models": {"m": {"target": "prod"}}}, "policy key 'models.m.target' must be one of development"),
        ({"models": {"m": {"performance": {"n_bootstrap": "200"}}}},
         "policy key 'models.m.performance.n_bootstrap' must be an integer, got '200'"),
        ({"models": {"m": {"waivers": []}}}, "unknown policy key 'models.m.waivers'"),
        ({"waivers": [{"id": " ", "reason": "r", "approver": "a", "expires": "2026-01-01T00:00:00Z"}]},
         "policy key 'waivers[0].id' must be a non-empty string"),
        ({"waivers": [{"id": "pii", "reason": "r", "approver": "a", "expires": "2026-01-01"}]},
         "policy key 'waivers[0].expires' must be a timestamp with a timezone"),
        ({"pii": {"allow": {1: ["EMAIL"]}}}, "policy key 'pii.allow.1' is not a string"),
    ],
)
def test_semantic_rules_fail_closed_in_one_line(raw, message):
    with pytest.raises(PolicyError) as info:
        validate(raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_controls_map_check_ids_to_the_organisations_control_ids():
    policy = validate({"required_checks": ["fairness_review"],
                       "controls": {"pii": ["DP-7", "HIPAA-SR-3"], "fairness_review": ["FR-1"]}})
    assert policy.controls_for("pii") == ("DP-7", "HIPAA-SR-3")
    assert policy.controls_for("fairness_review") == ("FR-1",)
    assert policy.controls_for("bias") == ()


def test_model_overrides_give_a_typed_policy_and_keep_waivers():
    expires = dt.datetime(2026, 1, 31, tzinfo=dt.UTC)
    policy = validate({"waivers": [{"id": "bias", "reason": "r", "approver": "a", "expires": expires}],
                       "models": {"cl_*": {"performance": {"min_value": {"c_index": 0.7}}}}})
    model = policy.for_model("cl_one")
    assert model.performance.min_value == {"c_index": 0.7} and model.waiver_for("bias") is not None
    assert model.deviations() == ['performance.min_value = {"c_index": 0.7} (default {})']
    assert policy.performance.min_value == {}


def test_a_policy_file_records_its_digest(tmp_path):
    (tmp_path / "p.toml").write_text("[tool.release_audit]\ntarget = 'staging'\n", encoding="utf-8")
    policy = load_policy("p.toml", tmp_path)
    assert policy.target == "staging" and len(policy.sha256) == 64 and policy.source.endswith("p.toml")


def test_policy_controls_appear_beside_the_marker_controls_in_the_report() -> None:
    from pytest_release_audit.report.build import TestRecord, check_results, missing_required

    policy = validate({"controls": {"pii": ["DP-07", "SR 11-7 Data Quality"], "approvals": ["MRM-9"]}})
    record = TestRecord(nodeid="checks/test_data_governance.py::test_pii",
                        payload={"id": "pii", "controls": ["SR 11-7 Data Quality", "HIPAA 164.514(b)"]},
                        phases={"call": "passed"})
    [pii] = check_results([record], policy, "production")
    assert pii.controls == ("SR 11-7 Data Quality", "HIPAA 164.514(b)", "DP-07")  # each once, marker's first
    never = {r.id: r for r in missing_required([pii], policy, "production", "stopped")}
    assert never["approvals"].controls == ("MRM-9",)
    assert never["lineage"].controls == ()


@pytest.mark.parametrize(("data", "expected"), [
    ({"operational_readiness": {"items": {"x": {}}}},
     "policy key 'operational_readiness.items.x' names no evidence: set path (a file at the training commit), tag or "
     "artifact"),
    ({"operational_readiness": {"items": {"x": {"path": "ops/../../etc/passwd"}}}},
     "policy key 'operational_readiness.items.x' path must be repository-relative, without '..' and not starting "
     "with '/' or '-', got ('ops/../../etc/passwd',)"),
    ({"operational_readiness": {"items": {"x": {"tag": "t", "max_age_days": -1}}}},
     "policy key 'operational_readiness.items.x.max_age_days' must be 0 (any age) or a number of days, got -1"),
    ({"data_validation": {"required": ["prod"]}},
     "policy key 'data_validation.required' lists unknown targets ['prod']: use development, staging, production"),
    ({"lineage": {"dvc": "off"}}, "policy key 'lineage.dvc' must be 'auto' or 'required', got 'off'"),
])
def test_release_evidence_policy_is_validated(data, expected):
    with pytest.raises(PolicyError) as err:
        validate(data)
    assert str(err.value) == expected


def test_release_evidence_policy_defaults():
    policy = default_policy()
    assert policy.section("lineage") == {"dvc": "auto"}
    assert policy.section("data_validation") == {"artifact": ["validation*.json"], "required": []}
    assert policy.section("operational_readiness") == {"required": ["production"], "items": {}}
    item = validate({"operational_readiness": {"items": {"rb": {"path": "ops/rb.md", "max_age_days": 90}}}})
    assert item.section("operational_readiness")["items"]["rb"]["path"] == ["ops/rb.md"]


@pytest.mark.parametrize(("data", "key", "fragment"), [
    ({"serving": {"probability_tolerance": float("nan")}}, "serving.probability_tolerance", "in [0, 0.001]"),
    ({"serving": {"probability_tolerance": 1.0}}, "serving.probability_tolerance", "in [0, 0.001]"),
    ({"serving": {"timeout_s": -1.0}}, "serving.timeout_s", "(0, 600]"),
    ({"serving": {"rows": 1}}, "serving.rows", "between 5 and 1000"),
    ({"serving": {"url": "http://127.0.0.1:99999"}}, "serving.url", "is not a valid URL"),
    ({"serving": {"url": "http://[::1"}}, "serving.url", "is not a valid URL"),
    ({"latency": {"p95_ms": float("nan")}}, "latency.p95_ms", "finite number"),
    ({"latency": {"p95_ms": float("inf")}}, "latency.p95_ms", "finite number"),
    ({"latency": {"max_seconds": 0}}, "latency.max_seconds", "(0, 3600]"),
    ({"drift": {"psi_alarm": 1e9}}, "drift.psi_alarm", "(0, 0.5]"),
    ({"drift": {"psi_alarm": float("nan")}}, "drift.psi_alarm", "(0, 0.5]"),
    ({"drift": {"significance": 0.0}}, "drift.significance", "[0.0001, 0.5]"),
    ({"drift": {"ks_alpha": float("nan")}}, "drift.ks_alpha", "[0.0001, 0.5]"),
    ({"drift": {"psi_alarm": 0.1, "psi_warn": 0.2}}, "drift", "psi_warn 0.2 is above psi_alarm 0.1"),
])
def test_serving_latency_and_drift_limits_cannot_be_switched_off(data, key, fragment):
    """The policy is untrusted: NaN, infinity and limits loose enough to pass anything are refused."""
    with pytest.raises(PolicyError) as err:
        validate(data)
    assert str(err.value).startswith(f"policy key '{key}'") and fragment in str(err.value), str(err.value)


def test_drift_columns_add_to_the_model_inputs():
    import pandas as pd

    from pytest_release_audit.rules.drift import _features

    class Evaluation:
        feature_columns = ["a", "b"]

    training = pd.DataFrame({"a": [1], "b": [2], "c": [3]})
    section = {"columns": ["a", "c"]}
    assert _features(section, Evaluation(), training) == (["a", "b", "c"],
                                                         "the model's inputs and policy [drift] columns")
    assert _features({"columns": []}, Evaluation(), training) == (["a", "b"], "the model's inputs")
