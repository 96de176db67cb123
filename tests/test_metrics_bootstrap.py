# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Paired bootstrap: reproducible, truly paired, equal to the naive per-resample computation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from lifelines.utils import concordance_index as lifelines_cindex
from sklearn import metrics as skm

from pytest_release_audit.metrics import bootstrap
from pytest_release_audit.metrics.bootstrap import (
    draw_indices,
    index_chunks,
    paired_bootstrap,
    percentile_interval,
    weights_from_indices,
)
from pytest_release_audit.metrics.classification import BinaryScorer, binary_labels
from pytest_release_audit.metrics.regression import RegressionScorer
from pytest_release_audit.metrics.survival import SurvivalScorer


def survival_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    event_time = rng.exponential(np.exp(-x))
    censor = rng.exponential(1.5, size=n)
    t = np.ceil(np.minimum(event_time, censor) * 20)  # tied times
    e = (event_time <= censor).astype(float)
    cand = x + rng.normal(scale=0.7, size=n)
    base = np.round(x + rng.normal(scale=1.5, size=n), 1)  # tied scores
    return t, e, cand, base


def test_same_seed_same_result_and_another_seed_differs():
    t, e, cand, base = survival_data(150, 1)
    a = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=200, seed=7)
    b = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=200, seed=7)
    c = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=200, seed=8)
    assert a.to_dict() == b.to_dict()
    assert a.get("c_index").candidate == c.get("c_index").candidate  # point estimate needs no seed
    assert a.get("c_index").candidate_ci != c.get("c_index").candidate_ci


def test_resamples_follow_the_documented_protocol():
    idx = draw_indices(50, 30, seed=3)
    expected = np.random.default_rng(3).integers(0, 50, size=(30, 50), dtype=np.int32)
    assert np.array_equal(idx, expected)
    weights = weights_from_indices(idx, 50)
    assert weights.shape == (30, 50) and (weights.sum(axis=1) == 50).all()
    assert np.array_equal(weights[4], np.bincount(idx[4], minlength=50))


def test_cindex_bootstrap_equals_a_naive_lifelines_loop_on_the_same_resamples():
    t, e, cand, base = survival_data(120, 2)
    n_boot, seed, conf = 60, 11, 0.9
    result = paired_bootstrap(
        SurvivalScorer(t, e), cand, base, n_bootstrap=n_boot, seed=seed, confidence=conf
    )
    idx = draw_indices(120, n_boot, seed)
    c = np.array([lifelines_cindex(t[i], -cand[i], e[i]) for i in idx])
    b = np.array([lifelines_cindex(t[i], -base[i], e[i]) for i in idx])
    ours_c, ours_b = result.samples["c_index"]
    assert np.array_equal(ours_c, c) and np.array_equal(ours_b, b)
    est = result.get("c_index")
    q = [5.0, 95.0]
    assert est.candidate == lifelines_cindex(t, -cand, e)
    assert est.candidate_ci == pytest.approx(tuple(np.percentile(c, q)), abs=1e-12)
    assert est.delta_ci == pytest.approx(tuple(np.percentile(c - b, q)), abs=1e-12)
    assert est.delta == pytest.approx(est.candidate - est.baseline)


def test_chunking_does_not_change_the_result():
    t, e, cand, base = survival_data(90, 4)
    one = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=50, seed=1, chunk_rows=1)
    many = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=50, seed=1, chunk_rows=64)
    assert one.to_dict() == many.to_dict()


@pytest.mark.parametrize("n", [1, 7, 686, 20_000, 1_500_000_000])
@pytest.mark.parametrize("step", [1, 7, 32])
def test_resamples_drawn_block_by_block_are_the_rows_of_one_draw(n, step):
    """What bounded memory rests on: numpy draws bounded int32s one after another from the stream."""
    cols = min(n, 50)
    whole = np.random.default_rng(5).integers(0, n, size=(100, cols), dtype=np.int32)
    rng = np.random.default_rng(5)
    blocks = [rng.integers(0, n, size=(min(step, 100 - s), cols), dtype=np.int32) for s in range(0, 100, step)]
    assert np.array_equal(np.vstack(blocks), whole)
    if n < 100_000:
        assert np.array_equal(np.vstack(list(index_chunks(n, 100, 5, step))), draw_indices(n, 100, 5))


def test_threads_and_memory_capped_chunks_give_the_serial_answer(monkeypatch):
    t, e, cand, base = survival_data(400, 6)
    serial = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=120, seed=2, chunk_rows=200)
    monkeypatch.setattr(bootstrap, "CHUNK_CELLS", 1000)  # a few resamples per pass, on every core
    monkeypatch.setattr(bootstrap, "_workers", lambda: 2)
    assert bootstrap.chunk_rows_for(400, 2000) == 1
    threaded = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=120, seed=2)
    assert threaded.to_dict() == serial.to_dict()
    for name, (c, b) in serial.samples.items():
        assert np.array_equal(c, threaded.samples[name][0]) and np.array_equal(b, threaded.samples[name][1])


def test_pairing_makes_the_difference_ci_narrower_than_either_model_ci():
    # Baseline = candidate + tiny noise: each model's CI is wide, their paired difference is not.
    t, e, cand, _ = survival_data(300, 5)
    base = cand + np.random.default_rng(0).normal(scale=0.05, size=300)
    est = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=300, seed=2).get("c_index")
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(est.delta_ci) < width(est.candidate_ci) / 4
    assert width(est.delta_ci) < width(est.baseline_ci) / 4


def test_binary_bootstrap_values_equal_sklearn_on_each_resample():
    rng = np.random.default_rng(6)
    n = 200
    y = rng.random(n) < 0.35
    p = np.clip(np.round(0.4 * y + 0.6 * rng.random(n), 2), 0, 1)  # tied probabilities
    q = rng.random(n)
    result = paired_bootstrap(BinaryScorer(y), p, q, n_bootstrap=40, seed=9)
    idx = draw_indices(n, 40, 9)
    for b, rows in enumerate(idx):
        yy, pp = y[rows], p[rows]
        pred = pp >= 0.5
        expected = {
            "roc_auc": skm.roc_auc_score(yy, pp),
            "accuracy": skm.accuracy_score(yy, pred),
            "precision": skm.precision_score(yy, pred, zero_division=0),
            "recall": skm.recall_score(yy, pred),
            "f1": skm.f1_score(yy, pred),
        }
        for name, value in expected.items():
            assert result.samples[name][0][b] == pytest.approx(value, abs=1e-12), name
    assert result.get("roc_auc").candidate == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)


def test_binary_labels_take_the_larger_class_as_positive():
    assert binary_labels(np.array(["benign", "malignant", "benign"])).tolist() == [0, 1, 0]
    assert binary_labels(np.array([True, False])).tolist() == [1, 0]
    assert binary_labels(np.array([1.0, 1.0])).tolist() == [1, 1]
    with pytest.raises(ValueError, match="two label values"):
        binary_labels(np.array([0, 1, 2]))


def test_auc_is_undefined_on_a_one_class_resample_not_made_up():
    y = np.array([1] * 3 + [0] * 60)
    p = np.linspace(0, 1, 63)
    result = paired_bootstrap(BinaryScorer(y), p, n_bootstrap=200, seed=1)
    auc = result.samples["roc_auc"][0]
    idx = draw_indices(63, 200, 1)
    no_positive = ~(y[idx] == 1).any(axis=1)
    assert no_positive.any() and np.isnan(auc[no_positive]).all() and np.isfinite(auc[~no_positive]).all()
    assert result.get("roc_auc").n_valid == int((~no_positive).sum())


def test_regression_bootstrap_matches_sklearn():
    rng = np.random.default_rng(8)
    y = rng.normal(size=100)
    pred = y + rng.normal(scale=0.3, size=100)
    result = paired_bootstrap(RegressionScorer(y), pred, np.zeros(100), n_bootstrap=30, seed=2)
    idx = draw_indices(100, 30, 2)
    for b, rows in enumerate(idx):
        rmse = math.sqrt(skm.mean_squared_error(y[rows], pred[rows]))
        assert result.samples["rmse"][0][b] == pytest.approx(rmse, rel=1e-12)
        assert result.samples["mae"][0][b] == pytest.approx(skm.mean_absolute_error(y[rows], pred[rows]))
    rmse = result.get("rmse")
    assert rmse.direction == "lower" and rmse.delta < 0  # the candidate's error is smaller


def test_percentile_interval_needs_enough_defined_resamples():
    assert percentile_interval([0.5] * 19 + [math.nan] * 100, 0.95) is None
    lo, hi = percentile_interval(np.arange(101.0), 0.9)
    assert (lo, hi) == (5.0, 95.0)


def test_results_are_plain_json_without_nan():
    t, e, cand, base = survival_data(40, 3)
    e[:] = 0  # no events: every C-index undefined
    result = paired_bootstrap(SurvivalScorer(t, e), cand, base, n_bootstrap=30, seed=1)
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    est = data["metrics"][0]
    assert est["candidate"] is None and est["candidate_ci"] is None and est["n_valid"] == 0
