# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Datasets logged on a run, loaded from their source, and the task they describe.

``LoadedDataset`` is what the ``audit_training_data`` / ``audit_evaluation_data`` fixtures return.
pandas is imported by the functions that need it, never at module import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.handle.model import DatasetRef

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Column names taken for survival durations / events when nothing says otherwise.
DURATION_NAMES = ("duration", "time", "os_time", "os_months", "os_days", "survival_time", "t", "days", "week")
EVENT_NAMES = ("event", "status", "cens", "death", "dead", "e", "arrest", "observed")
ID_NAMES = ("patient_id",)


@dataclass(frozen=True)
class TaskSpec:
    """What the model predicts and which columns hold targets and identities."""

    kind: str  # "survival" | "binary" | "multiclass" | "regression"
    duration_col: str | None = None
    event_col: str | None = None
    label_col: str | None = None
    id_columns: tuple[str, ...] = ()
    exclude_features: tuple[str, ...] = ()

    @property
    def target_columns(self) -> tuple[str, ...]:
        cols = (self.duration_col, self.event_col, self.label_col)
        return tuple(c for c in cols if c)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "duration_col": self.duration_col,
            "event_col": self.event_col,
            "label_col": self.label_col,
            "id_columns": list(self.id_columns),
        }


@dataclass
class LoadedDataset:
    """One logged dataset, read from its source.

    ``df`` is the frame exactly as read; ``X`` the model's input columns; ``y`` the label
    (classification / regression); ``durations`` / ``events`` (survival); ``ids`` the identity
    column (e.g. ``patient_id``) when there is one.
    """

    ref: DatasetRef
    df: pd.DataFrame
    task: TaskSpec
    local_path: Path | None = None
    file_sha256: str | None = None
    feature_columns: list[str] = field(default_factory=list)
    #: MLflow's digest recomputed when the data was read (``digests.DigestCheck``), or None.
    digest_check: Any = None
    #: Columns of the file that the logged dataset does not describe (autolog logs X only, the
    #: file mapped to it may hold the label too): the label candidates, in file order.
    label_candidates: tuple[str, ...] = ()
    #: Where the file came from: "" (the logged source), else the mapping that named it
    #: ("--audit-data" or "policy [datasets.NAME]").
    mapped_by: str = ""

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def context(self) -> str | None:
        return self.ref.context

    @property
    def n_rows(self) -> int:
        return int(len(self.df))

    @property
    def X(self) -> pd.DataFrame:
        return self.df[self.feature_columns]

    @property
    def y(self) -> pd.Series | None:
        if self.task.label_col and self.task.label_col in self.df:
            return self.df[self.task.label_col]
        return None

    @property
    def durations(self) -> np.ndarray:
        return self.df[self.task.duration_col].to_numpy(dtype=float)

    @property
    def events(self) -> np.ndarray:
        return self.df[self.task.event_col].to_numpy(dtype=float)

    @property
    def id_column(self) -> str | None:
        for col in self.task.id_columns:
            if col in self.df.columns:
                return col
        return None

    @property
    def ids(self) -> pd.Series | None:
        col = self.id_column
        return self.df[col] if col else None

    def describe(self) -> dict[str, Any]:
        """Plain-JSON facts for evidence (no data values)."""
        return {
            "name": self.name,
            "context": self.context,
            "source": self.ref.source,
            "rows": self.n_rows,
            "columns": len(self.df.columns),
            "mlflow_digest": self.ref.digest,
            "file_sha256": self.file_sha256,
        }
