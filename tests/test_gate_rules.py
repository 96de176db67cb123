# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Performance gate rules, logged-metric matching, subgroup (bias) judgement, and the checks end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pytest_release_audit.metrics.bootstrap import MetricEstimate
from pytest_release_audit.metrics.gate import (
    GateRule,
    LoggedMetric,
    assess_performance,
    evaluate_gate,
    match_logged,
    rule_from_policy,
)
from pytest_release_audit.metrics.subgroups import analyse_subgroups, group_labels, pick_columns
from pytest_release_audit.policy import default_policy

CINDEX = GateRule(metric="c_index")


def est(cand, cand_ci, base=None, base_ci=None, delta_ci=None, name="c_index"):
    delta = None if base is None else cand - base
    return MetricEstimate(name, cand, cand_ci, base, base_ci, delta, delta_ci, 1000)


# -- the gate rule -------------------------------------------------------------------------------


def test_gate_fails_with_the_numbers_when_the_candidate_is_worse():
    worse = est(0.68, (0.64, 0.71), 0.69, (0.65, 0.72), (-0.03, 0.01))
    decision = evaluate_gate([worse], CINDEX, baseline_label="production")
    assert not decision.passed
    assert decision.message == "C-index 0.68 [0.64, 0.71] vs production 0.69: -0.01, required > 0"
    assert decision.verdicts == {"c_index": False}


def test_gate_fails_when_equal_because_strictly_better_is_required():
    tie = est(0.69, (0.65, 0.72), 0.69, (0.65, 0.72), (-0.01, 0.01))
    assert not evaluate_gate([tie], CINDEX, baseline_label="baseline v3").passed
    assert (
        "vs baseline v3 0.69: +0.00, required > 0"
        in evaluate_gate([tie], CINDEX, baseline_label="baseline v3").message
    )


def test_gate_passes_when_better_and_says_by_how_much():
    better = est(0.71, (0.68, 0.74), 0.69, (0.66, 0.72), (0.004, 0.036))
    decision = evaluate_gate([better], CINDEX, baseline_label="production")
    assert decision.passed and decision.reasons == ()
    assert (
        decision.summary
        == "C-index 0.71 [0.68, 0.74] vs production 0.69: +0.02 [+0.004, +0.04], required > 0"
    )


def test_small_deltas_are_shown_with_enough_decimals():
    tiny = est(0.6920, (0.66, 0.72), 0.6955, (0.66, 0.72), (-0.01, 0.004))
    assert ": -0.004, required > 0" in evaluate_gate([tiny], CINDEX, baseline_label="production").message


def test_min_delta_raises_the_bar():
    better = est(0.71, (0.68, 0.74), 0.69, (0.66, 0.72), (0.004, 0.036))
    decision = evaluate_gate([better], GateRule("c_index", min_delta=0.05), baseline_label="production")
    assert not decision.passed and decision.message.endswith("+0.02, required > 0.05")


def test_require_significant_fails_when_the_difference_ci_includes_zero():
    rule = GateRule("c_index", require_significant=True)
    unsure = est(0.71, (0.66, 0.76), 0.69, (0.64, 0.74), (-0.01, 0.05))
    sure = est(0.71, (0.66, 0.76), 0.69, (0.64, 0.74), (0.005, 0.05))
    decision = evaluate_gate([unsure], rule, baseline_label="production")
    assert (
        not decision.passed and "not significant" in decision.message and "[-0.01, +0.05]" in decision.message
    )
    assert evaluate_gate([sure], rule, baseline_label="production").passed


def test_no_baseline_fails_unless_first_release():
    alone = est(0.71, (0.68, 0.74))
    decision = evaluate_gate([alone], CINDEX, baseline_label=None, baseline_missing="no alias production")
    assert not decision.passed and decision.message == (
        "no baseline to compare with (no alias production): "
        "set [tool.release_audit.performance] first_release = true for a first release"
    )
    first = evaluate_gate([alone], GateRule("c_index", first_release=True), baseline_label=None)
    assert first.passed and first.summary == "C-index 0.71 [0.68, 0.74] (first release: no baseline)"


def test_a_baseline_that_cannot_be_scored_fails_even_for_a_first_release():
    alone = est(0.71, (0.68, 0.74))
    problem = "baseline m v1 could not be scored on eval: ModelLoadError"
    decision = evaluate_gate(
        [alone], GateRule("c_index", first_release=True), baseline_label=None, baseline_problem=problem
    )
    assert not decision.passed and decision.message == problem


def test_floors_apply_to_any_metric_and_error_metrics_use_a_ceiling():
    auc = est(0.80, (0.75, 0.85), name="roc_auc")
    recall = est(0.62, (0.55, 0.70), name="recall")
    rule = GateRule("roc_auc", first_release=True, min_value={"roc_auc": 0.75, "recall": 0.7})
    decision = evaluate_gate([auc, recall], rule, baseline_label=None)
    assert decision.reasons == ("Recall 0.62 below the floor min_value.recall = 0.7",)
    assert decision.verdicts == {"roc_auc": True, "recall": False}  # others: no rule applies
    rmse = est(3.2, (3.0, 3.4), 3.0, (2.8, 3.2), (0.1, 0.3), name="rmse")
    decision = evaluate_gate([rmse], GateRule("rmse", min_value={"rmse": 3.1}), baseline_label="production")
    assert decision.reasons == (
        "RMSE 3.20 [3.00, 3.40] vs production 3.00: +0.20, required < 0",
        "RMSE 3.20 above the ceiling min_value.rmse = 3.1",
    )


def test_policy_section_maps_aliases_and_reports_unknown_metrics():
    section = default_policy().section("performance")
    section.update(metric="auc", min_value={"AUC": 0.8, "c_index": 0.6})
    rule, problems = rule_from_policy(section, "binary")
    assert rule.metric == "roc_auc" and rule.min_value == {"roc_auc": 0.8}
    assert problems == [
        "policy performance.min_value.c_index names no metric of a binary task "
        "(use one of: roc_auc, accuracy, precision, recall, f1)"
    ]
    rule, problems = rule_from_policy(default_policy().section("performance"), "survival")
    assert rule.metric == "c_index" and rule.min_delta == 0.0 and not problems


# -- logged metrics ------------------------------------------------------------------------------


def test_logged_metrics_are_matched_only_when_clearly_from_the_evaluation_split():
    logged = {
        "train_c_index": 0.80,  # training: never compared
        "cv_auc": 0.9,
        "c_index": 0.70,  # bare: compared (one evaluation dataset)
        "Test-ROC-AUC": 0.91,  # explicit marker, any spelling
        "accuracy_eval": 0.88,
        "val_f1": 0.5,  # validation is another split here
        "mm_eval_recall": 0.6,  # the evaluation dataset's own name as marker
    }
    found = match_logged(logged, eval_context="evaluation", eval_name="mm_eval")
    assert {k: v.key for k, v in found.items()} == {
        "c_index": "c_index",
        "roc_auc": "Test-ROC-AUC",
        "accuracy": "accuracy_eval",
        "recall": "mm_eval_recall",
    }
    assert "c_index" not in match_logged(logged, eval_context="evaluation", n_eval_inputs=2)
    assert match_logged({"val_f1": 0.5}, eval_context="validation")["f1"].value == 0.5


def test_explicit_evaluation_metric_wins_over_a_bare_one():
    found = match_logged({"c_index": 0.5, "test_cindex": 0.7}, eval_context="test")
    assert found["c_index"] == LoggedMetric("test_cindex", 0.7, True)


def test_logged_metric_that_disagrees_with_the_recomputed_one_fails():
    better = est(0.71, (0.68, 0.74), 0.69, (0.66, 0.72), (0.004, 0.036))
    ok = {"c_index": LoggedMetric("c_index", 0.7120, False)}
    bad = {"c_index": LoggedMetric("test_c_index", 0.78, True)}
    assert evaluate_gate([better], CINDEX, baseline_label="production", logged=ok).passed
    decision = evaluate_gate([better], CINDEX, baseline_label="production", logged=bad)
    assert decision.message == (
        "logged test_c_index = 0.7800 does not match the recomputed C-index 0.7100 on the evaluation "
        "data (|diff| 0.0700 > tolerance 0.005)"
    )


def _survival(n, seed, noise_candidate=0.5, noise_baseline=1.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    event_time = rng.exponential(np.exp(-x))
    censor = rng.exponential(1.5, size=n)
    t = np.minimum(event_time, censor)
    e = (event_time <= censor).astype(float)
    return t, e, x + rng.normal(scale=noise_candidate, size=n), x + rng.normal(scale=noise_baseline, size=n)


def test_assess_performance_end_to_end_on_arrays_and_evidence_contract():
    from pytest_release_audit.metrics.survival import concordance_index

    t, e, cand, base = _survival(300, 1)
    section = default_policy().section("performance")
    section["n_bootstrap"] = 200
    true_c = concordance_index(t, e, cand)
    good = assess_performance(
        "survival",
        cand,
        base,
        section=section,
        durations=t,
        events=e,
        baseline_label="production",
        run_metrics={"c_index": true_c, "train_c_index": 0.99},
    )
    assert good.decision.passed, good.decision.message
    evidence = good.to_evidence({"name": "m", "version": "1", "alias": "production"})
    json.dumps(evidence, allow_nan=False)
    assert (
        evidence["task"] == "survival"
        and evidence["metric"] == "c_index"
        and evidence["direction"] == "higher"
    )
    assert evidence["n"] == 300 and evidence["events"] == int(e.sum())
    row = evidence["metrics"][0]
    assert (
        row["gate"] is True and row["gate_metric"] and row["logged"] == true_c and row["label"] == "C-index"
    )
    assert row["candidate_ci"][0] < row["candidate"] < row["candidate_ci"][1]
    assert evidence["hazard_ratio"]["significant"] and evidence["hazard_ratio"]["value"] > 1
    assert evidence["rule"]["min_delta"] == 0.0 and evidence["n_bootstrap"] == 200
    mismatch = assess_performance(
        "survival",
        cand,
        base,
        section=section,
        durations=t,
        events=e,
        baseline_label="production",
        run_metrics={"c_index": true_c + 0.05},
    )
    assert not mismatch.decision.passed and "logged c_index" in mismatch.decision.message
    assert mismatch.to_evidence(None)["metrics"][0]["gate"] is False
    swapped = assess_performance(
        "survival", base, cand, section=section, durations=t, events=e, baseline_label="production"
    )
    assert not swapped.decision.passed
    assert swapped.decision.message.startswith("C-index ") and ", required > 0" in swapped.decision.message


# -- subgroups -----------------------------------------------------------------------------------


def _binary_frame(seed=0):
    """Site A: informative scores; site B: noise; site C: 12 rows only."""
    rng = np.random.default_rng(seed)
    sites = np.array(["A"] * 200 + ["B"] * 200 + ["C"] * 12)
    y = (rng.random(sites.size) < 0.4).astype(int)
    p = np.where(sites == "B", rng.random(sites.size), np.clip(0.7 * y + 0.3 * rng.random(sites.size), 0, 1))
    return pd.DataFrame({"site": sites, "age": rng.integers(20, 90, sites.size)}), y, p


def test_subgroup_below_floor_fails_and_small_subgroups_are_insufficient_data():
    frame, y, p = _binary_frame()
    analysis = analyse_subgroups(
        frame, ["site"], p, kind="binary", metric="roc_auc", y=y, min_n=30, floor=0.7, n_bootstrap=100, seed=1
    )
    status = {s.value: s.status for s in analysis.subgroups}
    assert status == {"A": "ok", "B": "below_floor", "C": "insufficient_data"}
    assert analysis.failed and analysis.findings[0].startswith("site=B: ROC AUC 0.")
    assert "below the floor 0.7 (n=200)" in analysis.findings[0]
    assert analysis.notes == ("site=C: insufficient data (n=12 < min_n 30)",)
    small = next(s for s in analysis.subgroups if s.value == "C")
    assert small.n == 12 and small.ci is None
    json.dumps(analysis.to_dict(), allow_nan=False)


def test_subgroup_gap_beyond_max_gap_fails():
    frame, y, p = _binary_frame()
    kwargs = dict(kind="binary", metric="roc_auc", y=y, min_n=30, n_bootstrap=50, seed=1)
    wide = analyse_subgroups(frame, ["site"], p, max_gap=0.2, **kwargs)
    assert wide.gap is not None and wide.gap.worst == "B" and wide.gap.best == "A" and wide.gap.value > 0.3
    assert (
        wide.failed
        and "site: ROC AUC gap" in wide.findings[-1]
        and "exceeds max_gap 0.2" in wide.findings[-1]
    )
    assert not analyse_subgroups(frame, ["site"], p, max_gap=1.0, **kwargs).failed


def test_survival_subgroups_count_events_and_undefined_metric_is_insufficient():
    t, e, cand, _ = _survival(240, 3)
    e[:40] = 0  # group "none" has no events: C-index undefined there
    frame = pd.DataFrame({"sex": ["none"] * 40 + ["F"] * 100 + ["M"] * 100})
    analysis = analyse_subgroups(
        frame,
        ["sex"],
        cand,
        kind="survival",
        metric="c_index",
        durations=t,
        events=e,
        min_n=30,
        n_bootstrap=50,
        seed=2,
    )
    by_value = {s.value: s for s in analysis.subgroups}
    assert by_value["none"].status == "insufficient_data" and by_value["none"].events == 0
    assert by_value["F"].events == int(e[40:140].sum()) and by_value["F"].status == "ok"
    assert analysis.calibration and len(analysis.calibration) == 10


def test_numeric_columns_are_banded_and_identifier_like_columns_refused():
    order, labels = group_labels(pd.Series(np.arange(100)))
    assert len(order) == 4 and len(set(labels)) == 4
    assert group_labels(pd.Series([f"id{i}" for i in range(100)])) is None
    order, labels = group_labels(pd.Series(["F", None, "M", "F"]))
    assert order == ["F", "M", "missing"] and list(labels) == ["F", "missing", "M", "F"]


def test_bias_columns_default_to_conventional_names_present():
    assert pick_columns([], ["age", "sex", "site", "x"]) == (["sex", "site", "age"], [])
    assert pick_columns(["site", "zip"], ["site"]) == (["site"], ["zip"])
    assert pick_columns([], ["x"]) == ([], [])


def test_plots_write_pngs_for_km_forest_and_calibration(tmp_path):
    from pytest_release_audit.metrics import plots

    t, e, cand, base = _survival(200, 6)
    km = plots.km_risk_groups(tmp_path / "km.png", t, e, {"candidate": cand, "production": base})
    frame = pd.DataFrame({"sex": ["F"] * 100 + ["M"] * 90 + ["X"] * 10})
    analysis = analyse_subgroups(
        frame, ["sex"], cand, kind="survival", metric="c_index", durations=t, events=e, n_bootstrap=30
    )
    forest = plots.forest(tmp_path / "forest.png", analysis.subgroups, "C-index", overall=0.7, floor=0.55)
    cal = plots.calibration(tmp_path / "cal.png", analysis.calibration)
    for path in (km, forest, cal):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


# -- the checks end to end (real MLflow demo registry) -------------------------------------------


def _check(audit, check_id):
    return {c["id"]: c for c in audit.report()["checks"]}[check_id]


@pytest.mark.slow
def test_better_candidate_passes_gate_with_evidence_plots_and_logged_metric(audit):
    audit.run("cl_unimodal_v2", "--audit-checks=performance_gate,bias")
    gate = _check(audit, "performance_gate")
    assert gate["outcome"] == "passed", gate["summary"]
    assert gate["summary"].startswith("C-index 0.") and "vs production 0." in gate["summary"]
    ev = gate["evidence"]
    assert ev["baseline"]["name"] == "cl_unimodal_v1" and ev["metrics"][0]["logged"] is not None
    assert ev["metrics"][0]["delta"] > 0 and ev["hazard_ratio"]["value"] > 1
    assert "performance_km.png" in " ".join(gate["artifacts"])
    bias = _check(audit, "bias")
    assert bias["outcome"] == "passed", bias["summary"]
    assert bias["evidence"]["columns"] == ["age_band", "menopausal_status", "site"]
    assert any("bias_forest.png" in a for a in bias["artifacts"])
    assert (audit.out_dir / "partial" / "bias_forest.png").read_bytes()[:4] == b"\x89PNG"  # a selection is partial


@pytest.mark.slow
def test_regressed_candidate_is_blocked_by_the_gate_with_the_numbers(audit):
    result = audit.run("cl_unimodal_v3_regressed", "--audit-checks=performance_gate")
    gate = _check(audit, "performance_gate")
    assert gate["outcome"] == "failed"
    import re

    assert re.fullmatch(
        r"C-index 0\.\d\d \[0\.\d\d, 0\.\d\d\] vs production 0\.\d\d: -0\.\d\d+, required > 0",
        gate["summary"],
    ), gate["summary"]
    assert "performance_gate" in audit.report()["blocking"] and result.ret != 0


@pytest.mark.slow
def test_binary_first_release_passes_on_roc_auc(audit):
    audit.run("breast_cancer_classifier", "--audit-checks=performance_gate,bias")
    gate = _check(audit, "performance_gate")
    assert gate["outcome"] == "passed", gate["summary"]
    names = [m["name"] for m in gate["evidence"]["metrics"]]
    assert names == ["roc_auc", "accuracy", "precision", "recall", "f1"]
    assert all(m["logged"] is not None for m in gate["evidence"]["metrics"])  # bare names, one eval set
    assert gate["evidence"]["baseline"] is None and "first release" in gate["summary"]


@pytest.mark.slow
def test_policy_floor_and_unknown_bias_column_block_with_the_fix(audit):
    policy = audit.pytester.path / "pyproject.toml"
    policy.write_text(
        policy.read_text(encoding="utf-8")
        + "\n[tool.release_audit.models.cl_unimodal_v2.performance.min_value]\nc_index = 0.9\n"
        + "\n[tool.release_audit.models.cl_unimodal_v2.bias]\ncolumns = ['site', 'zip_code']\n",
        encoding="utf-8",
    )
    audit.run("cl_unimodal_v2", "--audit-checks=performance_gate,bias")
    gate = _check(audit, "performance_gate")
    assert gate["outcome"] == "failed"
    assert (
        gate["summary"].startswith("C-index 0.")
        and "below the floor min_value.c_index = 0.9" in gate["summary"]
    )
    assert [m["gate"] for m in gate["evidence"]["metrics"]] == [False]  # beats production, misses the floor
    bias = _check(audit, "bias")
    assert bias["outcome"] == "failed"
    assert bias["summary"] == (
        "bias columns zip_code are not in evaluation data mm_fusion_v1_eval: fix [tool.release_audit.bias] columns"
    )
