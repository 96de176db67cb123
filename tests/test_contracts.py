# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The typed evidence contracts: real audit evidence round-trips; missing and malformed keys are tolerated."""

from __future__ import annotations

import pytest

from pytest_release_audit.policy import BUILTIN_CHECKS
from pytest_release_audit.report.contracts import (
    EVIDENCE,
    ChainNode,
    HazardRatio,
    LineageEvidence,
    MetricRow,
    PerformanceEvidence,
    SignatureOutput,
    evidence_of,
)
from pytest_release_audit.report.model import CheckResult


def test_every_builtin_check_has_a_contract():
    assert set(EVIDENCE) == set(BUILTIN_CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cl_unimodal_v2", "breast_cancer_classifier"])
def test_real_evidence_round_trips_for_every_check(audit, model):
    """Survival and binary demo models: every check's evidence reads and writes back unchanged."""
    audit.run(model)
    checks = audit.report()["checks"]
    assert {c["id"] for c in checks} == set(BUILTIN_CHECKS)
    for check in checks:
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
