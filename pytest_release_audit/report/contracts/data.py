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
class LineageEvidence(CheckEvidence):
    """``lineage``: the verified chain raw -> split -> run -> model, and each dataset's facts."""

    chain: tuple[ChainNode, ...] = ()
    datasets: tuple[DatasetFacts, ...] = ()


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
