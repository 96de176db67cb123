# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The typed evidence contracts: real audit evidence round-trips; missing and malformed keys are tolerated."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_release_audit.evidence import Evidence
from pytest_release_audit.policy import BUILTIN_CHECKS
from pytest_release_audit.report.contracts import (
    EVIDENCE,
    ChainNode,
    DatasetRef,
    HazardRatio,
    LeakageEvidence,
    LeakagePair,
    LineageEvidence,
    MetricRow,
    PerformanceEvidence,
    PiiEvidence,
    SignatureOutput,
    evidence_of,
)
from pytest_release_audit.report.model import CheckResult
from pytest_release_audit.rules.data_governance import assess_data_license
from pytest_release_audit.rules.result import RuleResult, kept_on_error


def test_every_builtin_check_has_a_contract():
    assert set(EVIDENCE) == set(BUILTIN_CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cl_unimodal_v2", "breast_cancer_classifier"])
def test_real_evidence_round_trips_for_every_check(audit, model):
    """Survival and binary demo models: every check's evidence reads and writes back unchanged.

    No check errors: a rule builds its evidence with ``Record.of``, which raises on a key its contract
    cannot hold, so a contract that lags behind what a rule writes shows up here as an error.
    """
    audit.run(model)
    checks = audit.report()["checks"]
    assert {c["id"] for c in checks} == set(BUILTIN_CHECKS)
    for check in checks:
        assert check["outcome"] != "error", (check["id"], check["summary"])
        contract = EVIDENCE[check["id"]]
        assert contract.from_dict(check["evidence"]).to_dict() == check["evidence"], check["id"]


def test_nested_records_are_typed():
    evidence = PerformanceEvidence.from_dict(
        {"metrics": [{"name": "c_index", "candidate": 0.71, "candidate_ci": [0.68, 0.74], "gate": True}],
         "hazard_ratio": {"value": 1.8, "ci": [1.4, 2.4], "p": 0.0002, "significant": True}}
    )  # fmt: skip
    assert isinstance(evidence.metrics[0], MetricRow) and evidence.metrics[0].candidate_ci == (0.68, 0.74)
    assert isinstance(evidence.hazard_ratio, HazardRatio) and evidence.hazard_ratio.p == 0.0002


@pytest.mark.parametrize(
    "raw", [None, "garbage", 7, [], {"chain": "not a list"}, {"chain": [1, "x"]}, {"chain": [{"name": 3}]}]
)
def test_missing_or_malformed_evidence_gives_defaults(raw):
    evidence = LineageEvidence.from_dict(raw)
    assert evidence.datasets == ()
    assert all(isinstance(node, ChainNode) for node in evidence.chain)
    assert all(node.name == "" for node in evidence.chain)


def test_wrong_scalar_types_fall_back_to_defaults():
    row = MetricRow.from_dict({"name": "auc", "candidate": "0.9", "gate": "pass", "n_valid": True})
    assert (row.candidate, row.gate, row.n_valid) == (None, None, None)
    assert row.to_dict() == {"name": "auc"}


def test_records_built_with_keywords_write_every_field_but_unset_optional_ones():
    node = ChainNode(kind="run", name="train", role="Training Run", id="abc", verified=True)
    assert node.to_dict() == {"kind": "run", "name": "train", "role": "Training Run", "id": "abc",
                              "verified": True}  # fmt: skip
    assert SignatureOutput(type="tensor", tensor_spec={"dtype": "float64"}).to_dict() == {
        "type": "tensor", "tensor-spec": {"dtype": "float64"}
    }


def test_evidence_of_a_check_result():
    check = CheckResult("lineage", "t", "passed", True, evidence={"chain": [{"kind": "run", "name": "r"}]})
    evidence = evidence_of(check, LineageEvidence)
    assert evidence is not None and evidence.chain[0].name == "r"
    assert evidence_of(None, LineageEvidence) is None
    assert evidence_of(CheckResult("lineage", "t", "error", True, evidence={"ran": False}),
                       LineageEvidence).ran is False  # fmt: skip


def _ref(name: str, **tags: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, context="training", tags=tags)


def test_a_rule_writes_its_checks_contract_and_record_writes_its_json():
    """What the rule built is ``EVIDENCE[id]``; the JSON recorded is exactly its ``to_dict()``."""
    handle = SimpleNamespace(run=SimpleNamespace(inputs=[_ref("train", license="CC-BY-4.0"), _ref("eval")]))
    section = {"tag_keys": ["license"], "allowed": {"internal": ["CC-BY-4.0"]}}
    result = assess_data_license(handle, section, "internal")  # type: ignore[arg-type]
    assert type(result.evidence) is EVIDENCE["data_license"]
    recorded = Evidence()
    result.record(recorded)
    assert dict(recorded) == result.evidence.to_dict()
    assert list(recorded) == ["target", "tag_keys", "allowed", "datasets"]
    assert [row["status"] for row in recorded["datasets"]] == ["allowed", "missing"]
    assert EVIDENCE["data_license"].from_dict(dict(recorded)).to_dict() == dict(recorded)


def test_a_failure_keeps_what_the_rule_knew():
    known = LeakageEvidence(status="not_verified")
    recorded = Evidence()
    RuleResult.failure("could not judge", known).record(recorded)
    assert dict(recorded) == {"pairs": [], "status": "not_verified", "notes": []}


def test_what_a_rule_knew_is_recorded_when_a_later_step_raises():
    recorded = Evidence()
    with pytest.raises(RuntimeError), kept_on_error(recorded, PiiEvidence(engine="presidio", threshold=0.5)):
        raise RuntimeError("scan failed")
    assert recorded["engine"] == "presidio" and recorded["threshold"] == 0.5


def test_a_key_the_contract_cannot_hold_is_an_error_not_a_silent_loss():
    assert DatasetRef.of({"name": "eval", "context": None}).to_dict() == {"name": "eval", "context": None}
    with pytest.raises(ValueError, match="'renamed'"):
        DatasetRef.of({"name": "eval", "renamed": 1})
    with pytest.raises(ValueError, match=r"pairs\[0\]\.duplicate_rows"):
        LeakageEvidence.of({"pairs": [{"training": "t", "duplicate_rows": 3}]})
    with pytest.raises(ValueError, match="chain"):
        LineageEvidence.of({"chain": "not a list"})


def test_leakage_pairs_record_why_a_comparison_was_not_made():
    pair = {"training": "t", "evaluation": "e", "id_columns": [], "id_overlap": "no id column found",
            "duplicate_rows": "disabled by policy"}  # fmt: skip
    assert LeakagePair.of(pair).to_dict() == pair


@pytest.mark.parametrize(
    "outputs",
    [
        [{"type": "array", "items": {"type": "string"}, "name": "tags", "required": True}],
        [{"type": "object", "properties": {"p": {"type": "double"}}, "name": "o", "required": True}],
        [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}],
        "not json",
        None,
    ],
)
def test_every_mlflow_signature_output_shape_is_recorded(outputs):
    facts = {"inputs": [], "outputs": outputs, "input_example": None, "flavors": ["python_function"]}
    assert EVIDENCE["signature"].of(facts).to_dict() == facts
