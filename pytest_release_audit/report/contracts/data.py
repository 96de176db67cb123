# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Evidence of the data checks: lineage, data_integrity, pii, leakage, data_license."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_release_audit.report.contracts.base import CheckEvidence, Record, optional


@dataclass(frozen=True)
class ChainNode(Record):
    """One link of the lineage chain: a raw dataset, a pinned split, the run or the model."""

    kind: str = ""
    name: str = ""
    role: str = ""
    id: str | None = optional()
    context: str | None = optional()
    digest: str | None = optional()
    status: str | None = optional()
    git_commit: str | None = optional()
    uri: str | None = optional()
    source: str | None = optional()
    verified: bool | None = optional()


@dataclass(frozen=True)
class DatasetFacts(Record):
    """Plain facts about one logged dataset (no data values)."""

    name: str = ""
    context: str | None = None
    source: str | None = None
    rows: int | None = None
    columns: int | None = None
    patients: int | None = None
    date_range: tuple[str, ...] | None = None
    data_product: str | None = None
    license: str | None = None
    pii_status: str | None = None
    derived_from: str | None = None
    digest: str | None = None
    file_sha256: str | None = None


@dataclass(frozen=True)
class DvcPath(Record):
    """One dependency or output of a DVC stage as the commit's dvc.lock / .dvc file records it."""

    path: str = ""
    md5: str | None = None
    size: int | None = None
    hash: str | None = None


@dataclass(frozen=True)
class DvcStageRecord(Record):
    """A stage of dvc.lock (``kind="stage"``) or a file tracked by a .dvc file (``kind="tracked"``)."""

    name: str = ""
    file: str = ""
    kind: str = ""
    cmd: str | None = None
    deps: tuple[DvcPath, ...] = ()
    outs: tuple[DvcPath, ...] = ()


@dataclass(frozen=True)
class DvcMatch(Record):
    """One logged dataset's file compared with the DVC output it should be."""

    dataset: str = ""
    context: str | None = None
    file: str | None = None
    md5: str | None = None
    stage: str | None = None
    out: str | None = None
    recorded_md5: str | None = None
    how: str | None = None  # how the out was found: path, path suffix, file name, content
    match: bool | None = None
    reason: str | None = optional()
    role: str | None = optional()  # "dep": a stage's recorded input no stage produces (absent: an output)


@dataclass(frozen=True)
class DvcLineage(Record):
    """The DVC pipeline at the training commit and the logged datasets checked against its outputs."""

    status: str = ""  # verified, mismatch, not applicable (why), not read (why)
    commit: str | None = None
    files: tuple[str, ...] = ()
    graph: str | None = None  # one line: data/raw.csv -> split -> train
    stages: tuple[DvcStageRecord, ...] = ()
    edges: tuple[dict[str, str], ...] = ()
    datasets: tuple[DvcMatch, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineageEvidence(CheckEvidence):
    """``lineage``: the verified chain raw -> split -> run -> model, each dataset's facts, the DVC pipeline."""

    chain: tuple[ChainNode, ...] = ()
    datasets: tuple[DatasetFacts, ...] = ()
    dvc: DvcLineage | None = optional()


@dataclass(frozen=True)
class DigestComparison(Record):
    """One digest of one dataset: what the run logged and what the audit recomputed."""

    kind: str = ""
    logged: str | None = None
    recomputed: str | None = None
    match: bool | None = None
    covers: str = ""
    variant: str | None = optional()


@dataclass(frozen=True)
class IntegrityDataset(Record):
    """The digests compared for one dataset (or the run's own data_sha256 tag)."""

    name: str = ""
    context: str | None = None
    source: str | None = None
    rows: int | None = None
    digests: tuple[DigestComparison, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataIntegrityEvidence(CheckEvidence):
    """``data_integrity``: every dataset's digests, recomputed."""

    datasets: tuple[IntegrityDataset, ...] = ()


@dataclass(frozen=True)
class PiiDatasetScan(Record):
    """The PII scan of one dataset."""

    name: str = ""
    context: str | None = None
    rows: int | None = None
    columns_scanned: int | None = None
    columns_skipped: dict[str, str] = field(default_factory=dict)
    findings: int | None = None
    findings_not_blocking: int | None = None
    allowed: tuple[str, ...] = ()
    values_scanned: int | None = None
    values_analyzed: int | None = None
    seconds: float | None = None
    ner_columns: tuple[str, ...] = ()  # free-text columns the NER pipeline read


@dataclass(frozen=True)
class PiiFinding(Record):
    """One entity type found in one column (or name / description) of a dataset; values masked."""

    dataset: str = ""
    column: str = ""
    entity_type: str = ""
    rows_affected: int | None = None
    masked_sample: str = ""
    row_indices: tuple[int, ...] = ()
    max_score: float | None = None
    detector: str = ""
    blocking: bool = True


@dataclass(frozen=True)
class PiiEvidence(CheckEvidence):
    """``pii``: the engine, each dataset's scan, the findings (masked) and the datasets' claims."""

    engine: str = ""
    ner_model: str | None = None  # the spaCy pipeline and its version, None: patterns + name list
    ner_choice: str = ""  # how it was chosen: policy pii.ner_model, auto-detected, none installed
    require_ner: bool = False
    detectable: tuple[str, ...] = ()
    undetectable: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    threshold: float | None = None
    metadata_findings: tuple[PiiFinding, ...] = ()
    datasets: tuple[PiiDatasetScan, ...] = ()
    findings: tuple[PiiFinding, ...] = ()
    findings_total: int | None = None
    claims: dict[str, str] = field(default_factory=dict)
    status: str = ""


@dataclass(frozen=True)
class IdOverlap(Record):
    """Identities present in both splits, for one id column (samples masked)."""

    column: str = ""
    train_ids: int | None = None
    eval_ids: int | None = None
    shared_ids: int | None = None
    train_rows: int | None = None
    eval_rows: int | None = None
    masked_sample: tuple[str, ...] = ()


@dataclass(frozen=True)
class DuplicateRows(Record):
    """Whole evaluation records that also occur in training."""

    feature_columns: int | None = None
    train_rows_total: int | None = None
    eval_rows_total: int | None = None
    eval_rows: int | None = None
    train_rows: int | None = None
    distinct_rows: int | None = None
    train_internal_duplicates: int | None = None
    eval_internal_duplicates: int | None = None
    natural: bool | None = None
    sample_eval_rows: tuple[Any, ...] = ()
    sample_train_rows: tuple[Any, ...] = ()
    seconds: float | None = None


@dataclass(frozen=True)
class LeakagePair(Record):
    """One training / evaluation pair compared by id and by whole record."""

    training: str = ""
    evaluation: str = ""
    id_columns: tuple[str, ...] = ()
    id_columns_from: str = ""
    #: per id column, or why identities were not compared (no id column found)
    id_overlap: tuple[IdOverlap, ...] | str = ()
    #: the comparison, or why records were not compared (disabled by policy, no shared columns)
    duplicate_rows: DuplicateRows | str | None = None


@dataclass(frozen=True)
class LeakageEvidence(CheckEvidence):
    """``leakage``: each train/evaluation pair, the verdict word and notes."""

    pairs: tuple[LeakagePair, ...] = ()
    status: str = ""
    statement: str | None = optional()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LicenseRow(Record):
    """The licence tag of one logged dataset and how the policy judges it."""

    name: str = ""
    context: str | None = None
    tag_key: str | None = None
    license: str | None = None
    status: str = ""
    reason: str = ""


@dataclass(frozen=True)
class DataLicenseEvidence(CheckEvidence):
    """``data_license``: the target, the tags read, the licences allowed, each dataset's licence."""

    target: str = ""
    tag_keys: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    datasets: tuple[LicenseRow, ...] = ()


@dataclass(frozen=True)
class ValidationResultRow(Record):
    """One Great Expectations validation result the run logged, and the dataset it describes."""

    artifact: str = ""
    suite: str | None = None
    success: bool | None = None
    evaluated: int | None = None
    failed: int | None = None
    dataset: str | None = None
    context: str | None = None
    asset: str | None = None
    batch_ids: tuple[str, ...] = ()
    result_rows: tuple[int, ...] = ()  # the batch's row counts the result records
    dataset_rows: int | None = None
    fingerprint: str | None = None  # GX pandas_data_fingerprint vs the audited frame: match / differs
    gx_version: str | None = None
    validation_time: str | None = None
    error: str | None = optional()


@dataclass(frozen=True)
class FailedExpectation(Record):
    """A failed expectation: type, column and counts; the observed value only when it is a count."""

    artifact: str = ""
    type: str = ""
    column: str | None = None
    observed: str | None = None  # a row/column count, "masked", or None when the result has none
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    raised_exception: bool | None = None


@dataclass(frozen=True)
class DataValidationEvidence(CheckEvidence):
    """``data_validation``: the run's GX validation results, the datasets they describe, failed expectations."""

    applicable: bool | None = None
    target: str = ""
    required: bool | None = None
    patterns: tuple[str, ...] = ()
    results: tuple[ValidationResultRow, ...] = ()
    failed: tuple[FailedExpectation, ...] = ()
