# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The leakage rule: no identity and no whole record of the evaluation data is in the training data.

Every training / evaluation pair is compared on its id columns (policy, task, or ``patient_id``)
and, unless the policy disables it, on every shared non-id column. Evidence holds masked ids and
row counts, never a raw value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.report.contracts import LeakageEvidence, LeakagePair
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset

STATEMENT = "Leakage Verified: patient ID audit"


def _id_columns(policy_ids: list[str], train: LoadedDataset, evaluation: LoadedDataset) -> tuple[list[str], str]:
    """The id columns for one pair and where they came from."""
    if policy_ids:
        return list(policy_ids), "policy leakage.id_columns"
    both = set(train.df.columns) & set(evaluation.df.columns)
    task_ids = [c for c in train.task.id_columns if c in both]
    if task_ids:
        return task_ids, "task id_columns"
    if "patient_id" in both:
        return ["patient_id"], "default patient_id"
    return [], ""


def _record_columns(train: LoadedDataset, evaluation: LoadedDataset, id_columns: list[str]) -> list[str]:
    """Every shared column but the identities: a duplicate *record*, not a duplicate feature value.

    Comparing only the model's inputs would flag any low-dimensional model (one covariate such as
    age repeats across patients by nature); an identical whole record under a new id is the copy
    that contaminates an evaluation.
    """
    excluded = set(id_columns) | set(train.task.exclude_features)
    return [c for c in train.df.columns if c in set(evaluation.df.columns) and c not in excluded]


def _require_columns(ids: list[str], *datasets: LoadedDataset) -> None:
    """Raise ``PolicyError`` when a policy id column is missing from one of the datasets."""
    for col in ids:
        for ds in datasets:
            if col not in ds.df.columns:
                raise PolicyError(
                    f"policy key 'leakage.id_columns' names {col!r}, which dataset {ds.name} "
                    f"({ds.context}) does not have: fix leakage.id_columns"
                )


def _on_spark(train: LoadedDataset, evaluation: LoadedDataset) -> tuple[Any, Any] | None:
    """Both splits as Spark data when either was read by Spark (the other one is sent there), else None."""
    engine = (train.spark or evaluation.spark)
    if engine is None:
        return None
    engine = engine.engine
    return (train.spark or engine.from_pandas(train), evaluation.spark or engine.from_pandas(evaluation))


@dataclass
class _Findings:
    """What the pairs found: blocking problems, non-blocking notes, pairs whose ids were not checked."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)


def _compare_ids(train: LoadedDataset, evaluation: LoadedDataset, ids: list[str], source: str,
                 pair: dict[str, Any], found: _Findings) -> None:
    """Identities in both splits, per id column (or why they were not compared)."""
    from pytest_release_audit.scanners.leakage import find_id_overlap

    if not ids:
        pair["id_columns"] = []
        pair["id_overlap"] = "no id column found: set leakage.id_columns (patient overlap not checked)"
        found.unverified.append(f"{train.name}/{evaluation.name}")
        return
    pair_on_spark = _on_spark(train, evaluation)
    overlap = (pair_on_spark[0].engine.id_overlap(*pair_on_spark, ids) if pair_on_spark
               else find_id_overlap(train.df, evaluation.df, ids))
    pair["id_columns"] = ids
    pair["id_columns_from"] = source
    pair["id_overlap"] = [c.to_dict() for c in overlap.columns]
    found.problems += [
        f"{col.shared_ids} {col.column} values in both {train.name} and {evaluation.name} "
        f"({col.eval_rows} of {evaluation.n_rows} evaluation rows; e.g. {', '.join(col.masked_sample[:3])})"
        for col in overlap.columns
        if col.shared_ids
    ]


def _compare_records(train: LoadedDataset, evaluation: LoadedDataset, ids: list[str],
                     pair: dict[str, Any], found: _Findings) -> None:
    """Evaluation records equal to a training record on every shared non-id column."""
    from pytest_release_audit.scanners.leakage import find_duplicate_rows

    features = _record_columns(train, evaluation, ids)
    if not features:
        pair["duplicate_rows"] = "no shared non-id columns to compare"
        return
    pair_on_spark = _on_spark(train, evaluation)
    dupes = (pair_on_spark[0].engine.duplicate_rows(*pair_on_spark, features) if pair_on_spark
             else find_duplicate_rows(train.df, evaluation.df, features))
    pair["duplicate_rows"] = dupes.to_dict()
    if dupes.found and dupes.natural:
        found.notes.append(
            f"{dupes.eval_rows} of {dupes.eval_total} rows of {evaluation.name} equal a "
            f"{train.name} record, but records also repeat within the splits "
            f"({dupes.train_internal_duplicates} in training, {dupes.eval_internal_duplicates} "
            "in evaluation): a property of the data, reported, not blocking"
        )
    elif dupes.found:
        found.problems.append(
            f"{dupes.eval_rows} of {dupes.eval_total} rows of {evaluation.name} duplicate a "
            f"{train.name} record on all {len(features)} non-id columns"
        )


def _pair(train: LoadedDataset, evaluation: LoadedDataset, section: dict[str, Any], found: _Findings) -> dict[str, Any]:
    """The evidence of one training / evaluation pair."""
    pair: dict[str, Any] = {"training": train.name, "evaluation": evaluation.name}
    ids, source = _id_columns(section["id_columns"], train, evaluation)
    _require_columns(ids, train, evaluation)
    _compare_ids(train, evaluation, ids, source, pair, found)
    if section["check_duplicate_rows"]:
        _compare_records(train, evaluation, ids, pair, found)
    else:
        pair["duplicate_rows"] = "disabled by policy (leakage.check_duplicate_rows = false)"
    return pair


def _overlaps(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every id column's overlap result across the pairs."""
    return [c for p in pairs for c in (p["id_overlap"] if isinstance(p["id_overlap"], list) else [])]


def assess_leakage(
    trainings: list[LoadedDataset], evaluations: list[LoadedDataset], section: dict[str, Any]
) -> RuleResult:
    """Compare every training dataset with every evaluation dataset; raises ``PolicyError`` on a bad id column."""
    found = _Findings()
    pairs = [_pair(train, evaluation, section, found) for train in trainings for evaluation in evaluations]
    checked_any = any(p["id_columns"] for p in pairs) or any(isinstance(p.get("duplicate_rows"), dict) for p in pairs)
    evidence = LeakageEvidence(
        pairs=tuple(LeakagePair.of(p) for p in pairs),
        status="leakage" if found.problems else ("clean" if checked_any else "not_verified"),
        statement=STATEMENT if not found.problems and not found.unverified else None,
        notes=tuple(found.notes),
    )
    overlaps = _overlaps(pairs)
    duplicates = "; ".join(found.notes) if found.notes else "no duplicate records"
    if overlaps:
        shared = sum(c["shared_ids"] for c in overlaps)
        patients = sum(c["eval_ids"] for c in overlaps)
        unchecked = ", ".join(found.unverified)
        note = f"; no id column in {unchecked}: patient overlap not checked" if unchecked else ""
        summary = (
            f"{shared} of {patients} evaluation ids also in training; {duplicates} across "
            f"{len(pairs)} train/evaluation pair(s){note}"
        )
    else:  # no id column anywhere: say so first, not "0 of 0 evaluation ids"
        where = ", ".join(found.unverified) or "the datasets"
        summary = (f"patient overlap not checked (no id column in {where}; set [tool.release_audit.leakage] "
                   f"id_columns); {duplicates} across {len(pairs)} train/evaluation pair(s)")
    if found.problems:
        summary = "Train/evaluation leakage: " + "; ".join(found.problems)
    elif not checked_any:
        summary = "leakage not verifiable: no id column found and leakage.check_duplicate_rows is false"
    return RuleResult(evidence=evidence, summary=summary, passed=checked_any and not found.problems, message=summary)
