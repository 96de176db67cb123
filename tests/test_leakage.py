# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Patient-id overlap and duplicate feature rows across a train / evaluation split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pytest_release_audit.scanners.leakage import find_duplicate_rows, find_id_overlap, mask_id


def _split(n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "patient_id": [f"P{100000 + i}" for i in range(n)],
            "age": rng.integers(30, 90, n),
            "tumor_size": rng.normal(25, 8, n).round(3),
            "grade": rng.choice(["1", "2", "3"], n),
        }
    )
    cut = int(n * 0.8)
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


def test_no_overlap_on_a_patient_level_split():
    train, evaluation = _split()
    result = find_id_overlap(train, evaluation, ["patient_id"])
    assert not result.leaked
    (col,) = result.columns
    assert (col.train_ids, col.eval_ids, col.shared_ids, col.eval_rows) == (800, 200, 0, 0)
    assert col.masked_sample == ()


def test_shared_patients_are_counted_and_masked():
    train, evaluation = _split()
    shared = train.sample(n=25, random_state=1)
    evaluation = pd.concat([evaluation, shared, shared.head(3)], ignore_index=True)
    result = find_id_overlap(train, evaluation, ["patient_id"])
    (col,) = result.columns
    assert result.leaked and col.shared_ids == 25
    assert col.eval_rows == 28 and col.train_rows == 25
    assert len(col.masked_sample) == 5
    raw = set(shared["patient_id"])
    for masked in col.masked_sample:
        assert masked not in raw and masked.startswith("*****")
    assert not (set(json.dumps(result.to_dict()).split('"')) & raw)


def test_ids_match_across_int_and_string_columns_and_missing_values():
    train = pd.DataFrame({"pid": [123, 456, 789, None]})
    evaluation = pd.DataFrame({"pid": ["00123", " 999", None, "456 "]})
    (col,) = find_id_overlap(train, evaluation, ["pid"]).columns
    assert col.shared_ids == 2 and col.eval_rows == 2


def test_each_id_column_is_checked_separately_and_missing_column_raises():
    train, evaluation = _split()
    train["mrn"] = np.arange(len(train))
    evaluation["mrn"] = np.arange(len(evaluation)) + 10_000
    result = find_id_overlap(train, evaluation, ["patient_id", "mrn"])
    assert [c.column for c in result.columns] == ["patient_id", "mrn"] and not result.leaked
    with pytest.raises(KeyError, match="'subject' is not in the training data"):
        find_id_overlap(train, evaluation, ["subject"])


def test_duplicate_feature_rows_across_the_split_are_found():
    train, evaluation = _split()
    features = ["age", "tumor_size", "grade"]
    assert not find_duplicate_rows(train, evaluation, features).found
    copied = train.iloc[[5, 17, 17]].assign(patient_id=["X1", "X2", "X3"])  # new ids, same features
    evaluation = pd.concat([evaluation, copied], ignore_index=True)
    result = find_duplicate_rows(train, evaluation, features)
    assert result.found
    assert (result.eval_rows, result.train_rows, result.distinct_rows) == (3, 2, 2)
    assert result.sample_eval_rows == (200, 201, 202)
    assert result.sample_train_rows == (5, 17)
    assert json.loads(json.dumps(result.to_dict()))["eval_rows"] == 3


def test_duplicates_survive_int_float_dtype_mismatch_and_nan():
    train = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, np.nan, 2.0], "c": pd.Categorical(["x", "y", "x"])})
    evaluation = pd.DataFrame({"a": [1.0, 2.0, 9.0], "b": [0.5, np.nan, 2.0], "c": ["x", "y", "x"]})
    result = find_duplicate_rows(train, evaluation, ["a", "b", "c"])
    assert result.eval_rows == 2 and result.sample_eval_rows == (0, 1)


def test_a_million_rows_is_handled_vectorised():
    # No timing assert (see bench/): this pins that 1M-row splits are supported at all.
    n = 1_000_000
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"patient_id": np.arange(n), "x": rng.random(n), "y": rng.integers(0, 1000, n)})
    evaluation = pd.DataFrame(
        {"patient_id": np.arange(n - 10, 2 * n - 10), "x": rng.random(n), "y": rng.integers(0, 1000, n)}
    )
    evaluation.loc[7, ["x", "y"]] = train.loc[3, ["x", "y"]].to_numpy()
    overlap = find_id_overlap(train, evaluation, ["patient_id"])
    dupes = find_duplicate_rows(train, evaluation, ["x", "y"])
    assert overlap.columns[0].shared_ids == 10
    assert dupes.eval_rows == 1 and dupes.sample_eval_rows == (7,)


def test_mask_id_keeps_only_the_last_two_characters():
    assert mask_id("P100145") == "*****45"
    assert mask_id(1234) == "***"


# --------------------------------------------------------------------------------------------
# The leakage check itself, called with real datasets and a real policy


def _loaded(name: str, context: str, df: pd.DataFrame, features: list[str], ids: tuple[str, ...] = ()):
    from pytest_release_audit.data import LoadedDataset, TaskSpec
    from pytest_release_audit.handle.model import DatasetRef

    ref = DatasetRef(name=name, digest="d", source_type="local", source=f"{name}.csv", context=context)
    task = TaskSpec(kind="survival", duration_col="os_days", event_col="event", id_columns=ids)
    return LoadedDataset(ref=ref, df=df, task=task, feature_columns=features)


def _run_leakage_check(datasets, policy_raw=None):
    from pytest_release_audit.checks.test_data_governance import test_leakage as leakage_check
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.policy import validate

    evidence = Evidence()
    policy = validate(policy_raw or {})
    try:
        leakage_check(None, datasets, policy, evidence)
    except AssertionError as exc:
        return evidence, str(exc)
    return evidence, None


def _no_id_split():
    train, evaluation = _split()
    return train.drop(columns=["patient_id"]), evaluation.drop(columns=["patient_id"])


def test_leakage_check_without_id_column_still_checks_duplicates_and_says_so():
    train, evaluation = _no_id_split()
    features = ["age", "tumor_size", "grade"]
    datasets = [_loaded("train", "training", train, features), _loaded("eval", "evaluation", evaluation, features)]
    evidence, failure = _run_leakage_check(datasets)
    assert failure is None
    (pair,) = evidence["pairs"]
    assert pair["id_columns"] == [] and pair["id_overlap"].startswith("no id column found")
    assert pair["duplicate_rows"]["eval_rows"] == 0
    assert evidence.summary.startswith("patient overlap not checked (no id column in")
    assert "0 of 0" not in evidence.summary and "id_columns" in evidence.summary  # names the fix
    assert "statement" not in evidence  # nothing verified about patients

    copied = pd.concat([evaluation, train.head(2)], ignore_index=True)
    datasets[1] = _loaded("eval", "evaluation", copied, features)
    evidence, failure = _run_leakage_check(datasets)
    assert failure.startswith("Train/evaluation leakage: 2 of 202 rows of eval duplicate a train record")


def test_records_that_repeat_within_a_split_are_reported_not_blocking():
    train, evaluation = _no_id_split()
    features = ["age", "tumor_size", "grade"]
    # discrete data: the same record occurs twice in training already, and once in evaluation
    train = pd.concat([train, train.head(1)], ignore_index=True)
    evaluation = pd.concat([evaluation, train.head(1)], ignore_index=True)
    datasets = [_loaded("train", "training", train, features), _loaded("eval", "evaluation", evaluation, features)]
    evidence, failure = _run_leakage_check(datasets)
    assert failure is None
    assert evidence["pairs"][0]["duplicate_rows"]["natural"] is True
    assert "records also repeat within the splits" in evidence.summary


def test_leakage_check_fails_when_nothing_can_be_verified():
    train, evaluation = _no_id_split()
    datasets = [_loaded("train", "training", train, ["age"]), _loaded("eval", "evaluation", evaluation, ["age"])]
    evidence, failure = _run_leakage_check(datasets, {"leakage": {"check_duplicate_rows": False}})
    assert failure.startswith("leakage not verifiable")
    assert evidence["status"] == "not_verified"


def test_leakage_check_uses_task_ids_and_rejects_a_policy_id_column_that_is_absent():
    from pytest_release_audit.errors import PolicyError

    train, evaluation = _split()
    evaluation = pd.concat([evaluation, train.head(4).assign(age=1)], ignore_index=True)  # same ids, new features
    datasets = [
        _loaded("train", "training", train, ["age"], ids=("patient_id",)),
        _loaded("eval", "evaluation", evaluation, ["age"], ids=("patient_id",)),
    ]
    evidence, failure = _run_leakage_check(datasets)
    assert failure.startswith("Train/evaluation leakage: 4 patient_id values in both train and eval")
    assert evidence["pairs"][0]["id_columns_from"] == "task id_columns"
    assert all(raw not in failure for raw in train.head(4)["patient_id"])
    with pytest.raises(PolicyError, match="leakage.id_columns"):
        _run_leakage_check(datasets, {"leakage": {"id_columns": ["subject_id"]}})
