# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The drift statistics: PSI's value, its false-alarm rate on samples of one distribution, its power.

The ``drift`` status needs PSI above the alarm *and* a significant chi-square test (Bonferroni over
the features), so that a 30-row evaluation split of a stable feature does not block a release
while a real shift on 200 rows does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pytest_release_audit.metrics.drift import feature_drift, frame_drift, psi
from pytest_release_audit.policy import default_policy
from pytest_release_audit.rules.drift import _status

SECTION = default_policy().section("drift")


def test_psi_is_the_symmetric_divergence_of_the_binned_shares():
    ref, other = np.array([50, 30, 20]), np.array([20, 30, 50])
    expected = sum((b - a) * math.log(b / a) for a, b in zip([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], strict=True))
    value, p_value, used = psi(ref, other)
    assert value == pytest.approx(expected, rel=1e-12) and used == 3
    assert p_value < 1e-4
    same, p_same, _ = psi(ref, ref.copy())
    assert same == 0.0 and p_same == pytest.approx(1.0)


def test_an_empty_side_is_no_evidence_of_drift():
    assert psi(np.array([5, 5]), np.array([0, 0])) == (0.0, 1.0, 2)


@pytest.mark.parametrize("n", [30, 60, 200])
def test_samples_of_the_training_distribution_rarely_alarm(n: int):
    rng = np.random.default_rng(n)
    reference = pd.Series(rng.normal(size=2000))
    alarms = sum(_status(feature_drift("x", reference, pd.Series(rng.normal(size=n))), SECTION, 1) == "drift"
                 for _ in range(400))
    assert alarms / 400 <= 0.03, f"{alarms} false alarms in 400 stable samples of {n} rows"


def test_a_shift_of_one_standard_deviation_on_200_rows_is_drift():
    rng = np.random.default_rng(7)
    reference = pd.Series(rng.normal(size=2000))
    found = [feature_drift("x", reference, pd.Series(rng.normal(1.0, 1.0, size=200))) for _ in range(50)]
    assert all(_status(d, SECTION, 1) == "drift" for d in found)
    assert min(d.psi for d in found) > SECTION["psi_alarm"] and max(d.ks_p_value or 1 for d in found) < 1e-6


def test_a_new_category_and_missing_values_are_binned():
    reference = pd.Series(["a"] * 500 + ["b"] * 500)
    other = pd.Series(["a"] * 100 + ["c"] * 80 + [None] * 20)
    drift = feature_drift("site", reference, other)
    assert drift.kind == "categorical" and drift.other_missing == pytest.approx(0.1)
    assert _status(drift, SECTION, 1) == "drift"


def test_bonferroni_over_the_features_compared():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=1000) for i in range(30)})
    other = pd.DataFrame({f"x{i}": rng.normal(size=60) for i in range(30)})
    drifts = frame_drift(ref, other, list(ref.columns))
    assert [d.feature for d in drifts] == list(ref.columns)
    assert not [d.feature for d in drifts if _status(d, SECTION, len(drifts)) == "drift"]
