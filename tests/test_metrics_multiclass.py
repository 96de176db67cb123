# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Multi-class and regression metrics: unit weights equal sklearn's, on every resample, to 1e-12."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from pytest_release_audit.metrics.bootstrap import draw_indices, paired_bootstrap, weights_from_indices
from pytest_release_audit.metrics.multiclass import MulticlassScorer, class_codes, label_key, per_class_metrics
from pytest_release_audit.metrics.regression import RegressionScorer

CLASSES = ("0", "1", "2")


def multiclass_data(n: int, seed: int, k: int = 3, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    if ties:
        logits = np.round(logits, 0)
    p = np.exp(logits)
    return y, p / p.sum(axis=1, keepdims=True)


def sklearn_values(y, p, labels):
    pred = np.asarray(labels)[np.argmax(p, axis=1)]
    out = {
        "log_loss": skm.log_loss(y, p, labels=labels),
        "accuracy": skm.accuracy_score(y, pred),
        "f1_macro": skm.f1_score(y, pred, average="macro"),
        "f1_weighted": skm.f1_score(y, pred, average="weighted"),
    }
    for average in ("macro", "weighted"):
        try:
            value = skm.roc_auc_score(y, p, multi_class="ovr", average=average, labels=labels)
        except ValueError:  # a class absent from the resample: sklearn raises, we give NaN
            value = math.nan
        out[f"roc_auc_ovr_{average}"] = value
    return out


def assert_close(ours: float, theirs: float, what: str) -> None:
    if math.isnan(theirs):
        assert math.isnan(ours), f"{what}: expected NaN, got {ours}"
    else:
        assert abs(ours - theirs) <= 1e-12, f"{what}: {ours} vs sklearn {theirs}"


@pytest.mark.parametrize("ties", [False, True])
def test_unit_weights_equal_sklearn(ties):
    y, p = multiclass_data(300, 3, ties=ties)
    scorer = MulticlassScorer(y, CLASSES)
    ours = scorer.evaluate([scorer.prepare(p)], np.ones((1, y.size), dtype=np.int32))[0]
    for name, theirs in sklearn_values(y, p, [0, 1, 2]).items():
        assert_close(float(ours[name][0]), theirs, name)


def test_every_resample_equals_sklearn_including_resamples_without_a_class():
    y, p = multiclass_data(40, 5, k=4)
    y[:3] = 3  # class 3 is rare: many resamples lack it
    y[3:] = np.where(y[3:] == 3, 0, y[3:])
    labels = ("0", "1", "2", "3")
    scorer = MulticlassScorer(y, labels)
    idx = draw_indices(y.size, 60, seed=11)
    values = scorer.evaluate([scorer.prepare(p)], weights_from_indices(idx, y.size))[0]
    lacking = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b, rows in enumerate(idx):
            lacking += len(np.unique(y[rows])) < 4
            for name, theirs in sklearn_values(y[rows], p[rows], [0, 1, 2, 3]).items():
                assert_close(float(values[name][b]), theirs, f"{name} resample {b}")
    assert lacking > 0  # the case sklearn raises on was exercised


def test_paired_bootstrap_takes_a_matrix_and_excludes_undefined_resamples():
    y, p = multiclass_data(200, 8)
    _, q = multiclass_data(200, 9)
    result = paired_bootstrap(MulticlassScorer(y, CLASSES), p, q, n_bootstrap=100, seed=1)
    macro = result.get("roc_auc_ovr_macro")
    assert macro.candidate == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"), abs=1e-12)
    assert macro.candidate_ci is not None and macro.candidate_ci[0] < macro.candidate < macro.candidate_ci[1]
    assert macro.delta_ci is not None and macro.n_valid == 100
    assert result.get("log_loss").direction == "lower"


def test_labels_from_csv_match_the_models_classes_and_unknown_labels_are_named():
    assert label_key(1.0) == "1" and label_key("setosa") == "setosa" and label_key(np.int64(2)) == "2"
    assert list(class_codes(np.array([2.0, 0.0, 1.0]), CLASSES)) == [2, 0, 1]
    with pytest.raises(ValueError, match="labels 7 are not among the model's classes"):
        class_codes([0, 7], CLASSES)


def test_per_class_metrics_equal_sklearn():
    y, p = multiclass_data(250, 4)
    rows = per_class_metrics(y, p, CLASSES)
    pred = np.argmax(p, axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred, labels=[0, 1, 2])
    for c, row in enumerate(rows):
        assert row["label"] == CLASSES[c] and row["support"] == support[c]
        assert row["precision"] == pytest.approx(precision[c], abs=1e-12)
        assert row["recall"] == pytest.approx(recall[c], abs=1e-12)
        assert row["f1"] == pytest.approx(f1[c], abs=1e-12)
        assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(y == c, p[:, c]), abs=1e-12)


def test_regression_unit_weights_and_resamples_equal_sklearn():
    rng = np.random.default_rng(2)
    y = rng.normal(150, 60, size=120)
    pred = y + rng.normal(0, 40, size=120)
    scorer = RegressionScorer(y)
    idx = draw_indices(y.size, 30, seed=3)
    weights = np.vstack([np.ones((1, y.size), dtype=np.int32), weights_from_indices(idx, y.size)])
    values = scorer.evaluate([scorer.prepare(pred)], weights)[0]
    for b, rows in enumerate([np.arange(y.size), *idx]):
        yy, pp = y[rows], pred[rows]
        assert values["r2"][b] == pytest.approx(skm.r2_score(yy, pp), abs=1e-12)
        assert values["rmse"][b] == pytest.approx(skm.root_mean_squared_error(yy, pp), abs=1e-12)
        assert values["mae"][b] == pytest.approx(skm.mean_absolute_error(yy, pp), abs=1e-12)
        assert values["mse"][b] == pytest.approx(skm.mean_squared_error(yy, pp), abs=1e-9)


def test_r2_is_undefined_on_constant_labels():
    scorer = RegressionScorer(np.full(10, 3.0))
    values = scorer.evaluate([scorer.prepare(np.arange(10.0))], np.ones((1, 10), dtype=np.int32))[0]
    assert math.isnan(values["r2"][0]) and values["rmse"][0] > 0
