# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Every output shape an MLflow model returns is read by a stated rule, or refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_release_audit.errors import ModelLoadError
from pytest_release_audit.handle.loading import interpret_output
from pytest_release_audit.handle.worker import ModelOutput, plain_classes

N = 6
P2 = np.column_stack([np.linspace(0.9, 0.1, N), np.linspace(0.1, 0.9, N)])
P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]] * 2)


def out(values, *, columns=None, method="predict", classes=None, flavor="pyfunc"):
    return ModelOutput(values=np.asarray(values), columns=columns, method=method, kind="ndarray",
                       classes=classes, flavor=flavor)


def read(output, kind="binary", labels=("0", "1")):
    return interpret_output("model m v1", output, N, kind, labels)


def test_pyfunc_returning_the_predict_proba_matrix_is_read_as_column_1():
    scores = read(out(P2))
    assert np.allclose(scores.values, P2[:, 1]) and not scores.label_only
    assert scores.rule == "predict matrix column 1 = P(class 1)"
    sk = read(out(P2, method="predict_proba", classes=("no", "yes"), flavor="sklearn"), labels=("no", "yes"))
    assert sk.rule == "predict_proba column 1 = P(class yes)"


@pytest.mark.parametrize("shape", [(N,), (N, 1)])
def test_a_vector_or_a_single_column_is_one_score_per_row(shape):
    scores = read(out(P2[:, 1].reshape(shape)))
    assert scores.values.shape == (N,) and ("one value per row" in scores.rule or "single column" in scores.rule)


def test_multiclass_matrix_columns_are_the_models_classes_or_the_sorted_labels():
    sk = read(out(P3, method="predict_proba", classes=("0", "1", "2"), flavor="sklearn"), "multiclass", ("0", "1", "2"))
    assert sk.values.shape == (N, 3) and sk.classes == ("0", "1", "2")
    assert sk.rule == "(6, 3) predict_proba, columns = classes_ [0, 1, 2]"
    guessed = read(out(P3), "multiclass", ("a", "b", "c"))
    assert guessed.classes == ("a", "b", "c") and "sorted order" in guessed.rule


def test_dataframe_with_class_columns_is_reordered_to_the_classes():
    frame = P3[:, [2, 0, 1]]
    scores = read(out(frame, columns=("virginica", "setosa", "versicolor")), "multiclass",
                  ("setosa", "versicolor", "virginica"))
    assert np.allclose(scores.values, P3)
    binary = read(out(P2[:, ::-1], columns=("1", "0")))
    assert np.allclose(binary.values, P2[:, 1]) and binary.rule == "DataFrame column '1' = P(class 1)"


@pytest.mark.parametrize("name", ["probability", "proba", "score", "probability_positive_class"])
def test_dataframe_probability_column_is_found_by_name(name):
    frame = np.column_stack([np.zeros(N), P2[:, 1]])
    scores = read(out(frame, columns=("model_version", name)))
    assert np.allclose(scores.values, P2[:, 1]) and scores.rule == f"DataFrame column '{name}'"


def test_label_only_outputs_are_detected_and_named():
    labels01 = read(out(np.array([0, 1, 1, 0, 1, 0])))
    assert labels01.label_only and labels01.rule.endswith("class labels 0/1")
    assert labels01.note.startswith("model returns class labels (0/1), not probabilities: ROC AUC from labels")
    assert "return predict_proba from the pyfunc's predict" in labels01.note
    text = read(out(np.array(["yes", "no"] * 3)), labels=("no", "yes"))
    assert text.label_only and list(text.values) == [1.0, 0.0] * 3
    multi = read(out(np.array([0, 1, 2, 2, 1, 0])), "multiclass", ("0", "1", "2"))
    assert multi.label_only and multi.values.shape == (N, 3) and multi.values.sum() == N
    frame = read(out(np.array([[0], [1]] * 3), columns=("prediction",)))
    assert frame.label_only and frame.rule.startswith("DataFrame column 'prediction'")


@pytest.mark.parametrize(("output", "kind", "line"), [
    (out(np.zeros(2 * N)), "binary", "returned output of shape (12,) for 6 rows: expected (6,) or (6, k)"),
    (out(P3), "binary", "returned a (6, 3) matrix; a binary task expects (6,) scores or the (6, 2) predict_proba"),
    (out(P3), "regression", "returned a (6, 3) matrix; a regression task expects one value per row (6,)"),
    (out(P2[:, 1]), "multiclass", "returned one value per row (6,) for a multi-class task"),
    (out(P3 * 3), "multiclass", "whose rows are not probabilities"),
    (out(P3, columns=("x", "y", "z")), "binary", "returned a DataFrame with columns ['x', 'y', 'z']: expected one"),
    (out(np.full(N, np.nan)), "binary", "returned 6 NaN/inf scores out of 6"),
])
def test_unreadable_shapes_give_one_line(output, kind, line):
    with pytest.raises(ModelLoadError) as info:
        read(output, kind, ("0", "1", "2") if kind == "multiclass" else ("0", "1"))
    assert line in str(info.value) and "\n" not in str(info.value)


def test_classes_from_an_untrusted_worker_are_bounded():
    assert plain_classes([0, 1, 2]) == ("0", "1", "2")
    assert plain_classes(["a" * 500]) is None
    assert plain_classes(list(range(5000))) is None
    assert plain_classes([{"x": 1}]) is None
    assert plain_classes([1, 1.0]) is None  # repeated labels
    assert plain_classes("012") is None


# -- attacks: the model's own account of its classes (model code, untrusted) -------------------------
def test_a_model_listing_its_classes_backwards_cannot_choose_the_positive_column():
    """An anti-correlated model names its columns truthfully but lists classes_ as [1, 0].

    Were the positive class the model's last-listed one, the audit would read column '0' (which,
    for this model, rises with class 1) and score it as a good model; the positive class is the
    evaluation data's larger label, so column '1' is read, as a consumer reading by name would.
    """
    anti = P2[:, ::-1]  # column "0" holds what a good model puts in column "1"
    scores = read(out(anti, columns=("0", "1"), classes=("1", "0")))
    assert np.allclose(scores.values, anti[:, 1]) and scores.rule == "DataFrame column '1' = P(class 1)"
    text = read(out(anti, columns=("no", "yes"), classes=("yes", "no")), labels=("no", "yes"))
    assert np.allclose(text.values, anti[:, 1]) and "P(class yes)" in text.rule


def test_a_probability_matrix_with_unsorted_classes_is_refused():
    with pytest.raises(ModelLoadError, match=r"lists its classes as \[1, 0\], not sorted"):
        read(out(P2, method="predict_proba", classes=("1", "0"), flavor="sklearn"))
    numeric = read(out(P2, method="predict_proba", classes=("2", "10"), flavor="sklearn"), labels=("2", "10"))
    assert np.allclose(numeric.values, P2[:, 1]), "numbers sort as numbers, as np.unique sorts the labels"


def test_dataframe_columns_that_miss_the_positive_class_are_refused():
    with pytest.raises(ModelLoadError, match="positive class 1"):
        read(out(P2, columns=("a", "b"), classes=("a", "b")))
