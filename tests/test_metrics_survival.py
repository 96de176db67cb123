# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""C-index (hand-computed and against lifelines), hazard ratio and survival calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index as lifelines_cindex

from pytest_release_audit.metrics import survival
from pytest_release_audit.metrics.survival import concordance_index, concordance_index_weighted
from pytest_release_audit.metrics.survival_cox import hazard_ratio, survival_calibration


def reference(t, e, risk) -> float:
    """lifelines with its convention (higher predicted value = longer survival); NaN for no pairs."""
    try:
        return lifelines_cindex(t, -np.asarray(risk, dtype=float), e)
    except ZeroDivisionError:
        return math.nan


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# (durations, events, risk, hand-computed C-index, why)
HAND_CASES = [
    ([1, 2, 3], [1, 1, 1], [3, 2, 1], 1.0, "earlier events have higher risk: 3 concordant pairs"),
    ([1, 2, 3], [1, 1, 1], [1, 2, 3], 0.0, "reversed ranking: 3 discordant pairs"),
    # (0,1) both die at t=1: not comparable; (0,2) concordant; (1,2) tied risk: 0.5 -> 1.5 / 2
    ([1, 1, 2], [1, 1, 0], [2, 1, 1], 0.75, "tie in time between events, tie in score"),
    # event and censoring at the same time: comparable, the censored one outlived; lower risk died
    ([2, 2], [1, 0], [1, 2], 0.0, "event and censoring at the same time"),
    # patient 0 censored first: comparable with no one; (1,2) concordant
    ([1, 2, 3], [0, 1, 1], [5, 2, 1], 1.0, "early censoring is not comparable"),
    # only (0,1),(0,2),(0,3) comparable (0 dies first, rest censored); risks 2 vs 2,1,3 -> 0.5+1+0
    ([1, 4, 5, 6], [1, 0, 0, 0], [2, 2, 1, 3], 0.5, "one event, ties and misses in score"),
    ([1, 2], [0, 0], [1, 2], math.nan, "all censored: no comparable pair"),
]


@pytest.mark.parametrize(("t", "e", "risk", "expected", "why"), HAND_CASES, ids=[c[-1] for c in HAND_CASES])
def test_cindex_equals_hand_computed_value_and_lifelines(t, e, risk, expected, why):
    ours = concordance_index(t, e, risk)
    assert same(ours, expected), why
    assert same(ours, reference(t, e, risk)), why


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(1, 6), min_size=n, max_size=n),
            st.lists(st.booleans(), min_size=n, max_size=n),
            st.lists(st.integers(-2, 2), min_size=n, max_size=n),
        )
    )
)
def test_cindex_equals_lifelines_exactly_with_heavy_ties(data):
    t, e, risk = (np.asarray(x, dtype=float) for x in data)
    assert same(concordance_index(t, e, risk), reference(t, e, risk))


def test_weighted_cindex_equals_lifelines_on_each_resample():
    rng = np.random.default_rng(5)
    n = 80
    t = rng.integers(1, 30, n).astype(float)  # many tied times
    e = rng.random(n) < 0.6
    risk = np.round(rng.normal(size=n), 1)  # tied scores
    idx = rng.integers(0, n, size=(40, n))
    weights = np.stack([np.bincount(row, minlength=n) for row in idx])
    ours = concordance_index_weighted(t, e, risk, weights)
    for b, row in enumerate(idx):
        assert same(float(ours[b]), reference(t[row], e[row], risk[row]))


@pytest.mark.parametrize(
    ("top", "expected"),
    [(8, (np.int8, np.int32)), (300, (np.int32, np.int32)), (2**27, (np.int64, np.int64))],
    ids=["bootstrap-sized weights: int8 gathers", "a weight above 127: int32", "sums beyond int32: int64"],
)
def test_narrow_work_dtypes_count_exactly_what_int64_counts(top, expected):
    rng = np.random.default_rng(17)
    n = 3000
    t = rng.integers(1, 200, n).astype(float)
    e = rng.random(n) < 0.5
    risk = np.round(rng.normal(size=n), 2)
    weights = rng.integers(0, 4, size=(6, n)).astype(np.int32)
    weights[:, rng.integers(0, n, 5)] = top  # a few heavy rows set the bound
    plan = survival.concordance_plan(t, e, risk)
    pairs_plan = survival.pairs_plan(t, e)
    w, work = survival._narrowed(weights, plan.levels)
    assert (w.dtype.type, work) == expected
    narrow = [*survival.concordant_counts(plan, weights), survival.comparable_pairs(pairs_plan, weights)]
    wide_w = weights.astype(np.int64)
    wide = [*survival._concordant(plan, wide_w, np.int64), survival._pairs(pairs_plan, wide_w, np.int64)]
    for a, b in zip(narrow, wide, strict=True):
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, b)
    if work is np.int64:  # the fallback is needed: int32 running sums would count wrongly here
        w32 = weights.astype(np.int32)
        assert not np.array_equal(survival._concordant(plan, w32, np.int32)[0], wide[0])


def test_cindex_matches_lifelines_on_a_large_continuous_sample():
    rng = np.random.default_rng(11)
    n = 5000
    x = rng.normal(size=n)
    t = rng.exponential(np.exp(-x))
    e = rng.random(n) < 0.7
    risk = x + rng.normal(scale=0.5, size=n)
    assert concordance_index(t, e, risk) == reference(t, e, risk)


def test_cindex_rejects_mismatched_lengths_and_nan():
    with pytest.raises(ValueError, match="differ in length"):
        concordance_index([1, 2], [1, 1], [0.1])
    with pytest.raises(ValueError, match="NaN"):
        concordance_index([1, 2], [1, 1], [0.1, float("nan")])


def _ph_data(n: int, beta: float, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    event_time = rng.exponential(1.0 / np.exp(beta * x))
    censor = rng.exponential(2.0, size=n)
    return np.minimum(event_time, censor), (event_time <= censor).astype(int), x


def test_hazard_ratio_of_median_split_equals_a_direct_cox_fit():
    import pandas as pd

    t, e, x = _ph_data(600, 1.0, seed=2)
    hr = hazard_ratio(t, e, x)
    high = (x > np.median(x)).astype(int)
    cph = CoxPHFitter().fit(pd.DataFrame({"T": t, "E": e, "g": high}), "T", "E")
    assert hr is not None
    assert hr.value == pytest.approx(math.exp(cph.params_["g"]), rel=1e-9)
    lo, hi = np.exp(cph.confidence_intervals_.loc["g"].to_numpy())
    assert hr.ci == pytest.approx((lo, hi), rel=1e-9)
    assert hr.significant and hr.value > 1 and hr.n_high + hr.n_low == 600
    d = hr.to_dict()
    assert set(d) >= {"value", "ci", "p", "significant"} and isinstance(d["p"], float)


def test_hazard_ratio_not_significant_for_noise_and_none_without_events():
    t, e, _ = _ph_data(300, 0.0, seed=4)
    noise = np.random.default_rng(9).normal(size=300)
    hr = hazard_ratio(t, e, noise)
    assert hr is not None and not hr.significant
    assert hazard_ratio(t, np.zeros(300), noise) is None
    assert hazard_ratio(t, e, np.ones(300)) is None  # no high-risk group


def test_calibration_expected_events_match_observed_for_a_well_specified_score():
    t, e, x = _ph_data(5000, 0.8, seed=3)
    bins = survival_calibration(t, e, x, bins=10)
    assert len(bins) == 10 and sum(b.n for b in bins) == 5000
    # Breslow: expected events sum to the observed events exactly
    assert sum(b.predicted * b.n for b in bins) == pytest.approx(e.sum(), rel=1e-6)
    assert max(abs(b.observed - b.predicted) for b in bins) < 0.1  # ~2 sd of 500-patient bins


def test_calibration_flags_a_score_with_the_wrong_shape():
    t, e, x = _ph_data(5000, 0.8, seed=3)
    # Same ranking (same C-index) but not log-linear in the hazard: the extreme deciles are off.
    bins = survival_calibration(t, e, x**3, bins=10)
    assert concordance_index(t, e, x**3) == concordance_index(t, e, x)
    assert max(abs(b.observed - b.predicted) for b in bins) > 0.3


def test_calibration_is_empty_when_not_estimable():
    assert survival_calibration([1, 2, 3], [1, 0, 1], [1, 2, 3], bins=10) == []
    t, e, _ = _ph_data(100, 0.5, seed=1)
    assert survival_calibration(t, e, np.ones(100)) == []


@pytest.mark.parametrize(
    ("n", "times", "risks"),
    [(1, 5, 3), (2, 1, 1), (97, 4, 3), (1000, 40, 7), (5000, 10**6, 10**6)],
    ids=["one patient", "two, all tied", "heavy ties", "ties", "continuous"],
)
def test_compiled_kernels_count_exactly_what_numpy_counts(n, times, risks):
    """The merge-sort kernel and the streamed spans (numba) against numpy's gather passes, on the
    same weights: every C-index of every resample equal, on tied times, tied scores, all-censored."""
    rng = np.random.default_rng(n)
    t = rng.integers(1, times + 1, n).astype(float)
    for e in (rng.random(n) < 0.4, np.zeros(n, dtype=bool), np.ones(n, dtype=bool)):
        candidate = rng.integers(0, risks, n).astype(float)
        baseline = rng.normal(size=n)
        weights = rng.integers(0, 5, size=(9, n)).astype(np.int32)
        weights[0] = 1  # the point estimate's weights
        answers = []
        for kernel in ("numpy", "compiled"):
            scorer = survival.SurvivalScorer(t, e, kernel=kernel)
            plans = [scorer.prepare(candidate), scorer.prepare(baseline)]
            answers.append([m["c_index"] for m in scorer.evaluate(plans, weights)])
        for numpy_values, compiled_values in zip(*answers, strict=True):
            np.testing.assert_array_equal(numpy_values, compiled_values)
        expected = reference(t, e, candidate)
        assert answers[1][0][0] == pytest.approx(expected, nan_ok=True, abs=1e-12)


def test_scorer_picks_the_compiled_kernels_for_large_inputs_only():
    rng = np.random.default_rng(2)
    small, large = survival.JIT_MIN_ROWS - 1, survival.JIT_MIN_ROWS
    assert survival.SurvivalScorer(np.arange(small, dtype=float), np.ones(small))._jit is None
    assert survival.SurvivalScorer(rng.random(large), np.ones(large))._jit is not None
    assert survival.SurvivalScorer(rng.random(large), np.ones(large), kernel="numpy")._jit is None


def test_bootstrap_cis_are_identical_with_the_compiled_kernels():
    """The whole paired bootstrap (seeded draws, blocks, percentile CIs) gives the same numbers with
    either kernel, including draws the compiled rows cannot hold (a patient drawn 200 times)."""
    from pytest_release_audit.metrics.bootstrap import paired_bootstrap

    rng = np.random.default_rng(5)
    n = 3000
    t = rng.integers(1, 300, n).astype(float)
    e = rng.random(n) < 0.45
    candidate, baseline = rng.normal(size=n), np.round(rng.normal(size=n), 1)
    results = [paired_bootstrap(survival.SurvivalScorer(t, e, kernel=kernel), candidate, baseline,
                                n_bootstrap=70, seed=3).to_dict() for kernel in ("numpy", "compiled")]
    assert results[0] == results[1]
    heavy = rng.integers(0, n, size=(4, n), dtype=np.int32)
    heavy[1, :200] = 7  # 200 copies of one patient: beyond int8
    answers = [paired_bootstrap(survival.SurvivalScorer(t, e, kernel=kernel), candidate, baseline,
                                indices=heavy).samples["c_index"] for kernel in ("numpy", "compiled")]
    for a, b in zip(*answers, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):  # an index outside the data is refused, not read out of bounds
        paired_bootstrap(survival.SurvivalScorer(t, e, kernel="compiled"), candidate,
                         indices=np.full((2, n), n, dtype=np.int32))
