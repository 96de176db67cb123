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
#: Column names taken for a label when nothing else tells it.
LABEL_NAMES = ("target", "label", "y", "outcome", "class", "labels", "targets")
#: Each task kind in words.
TASK_TITLES = {
    "survival": "Survival prediction",
    "binary": "Binary classification",
    "multiclass": "Multi-class classification",
    "regression": "Regression",
}


@dataclass(frozen=True)
class TaskSpec:
    """What the model predicts and which columns hold targets and identities."""

    kind: str  # "survival" | "binary" | "multiclass" | "regression"
    duration_col: str | None = None
    event_col: str | None = None
    label_col: str | None = None
    id_columns: tuple[str, ...] = ()
    exclude_features: tuple[str, ...] = ()
    #: where the kind came from ("policy [task] kind", "logged metric r2", "label values: 3 classes")
    source: str = ""
    #: where the label came from ("version tag label_col", "the only dataset column that is not a model input")
    label_source: str = ""
    #: why the model cannot be scored on this data (label or features unknown): one line naming the fix
    problem: str = ""

    @property
    def title(self) -> str:
        """The kind in words, with its source: ``Regression (from logged metric r2)``."""
        name = TASK_TITLES.get(self.kind, self.kind)
        return f"{name} (from {self.source})" if self.source else name

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
            "source": self.source,
            "label_source": self.label_source,
            "problem": self.problem or None,
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
    #: The table the dataset was read from (``engines.sources.TableSource``: Parquet parts or a
    #: Delta version), and each part's sha256 (relative path, digest), in read order.
    table: Any = None
    parts: tuple[tuple[str, str], ...] = ()
    #: The dataset on the Spark engine (``engines.spark.SparkData``): its checks run there, and
    #: ``df`` holds only the columns (no rows) unless the models score it (the evaluation frame).
    spark: Any = None
    #: The row count when ``df`` does not hold the rows (Spark).
    rows: int | None = None

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def context(self) -> str | None:
        return self.ref.context

    @property
    def n_rows(self) -> int:
        return int(len(self.df)) if self.rows is None else int(self.rows)

    @property
    def X(self) -> pd.DataFrame:
        """The model's inputs; raises ``TaskUndetermined`` / ``DatasetUnavailable`` (one line) when unknown."""
        from pytest_release_audit.errors import DatasetUnavailable, TaskUndetermined

        if self.task.problem:
            raise TaskUndetermined(self.task.problem)
        missing = [c for c in self.feature_columns if c not in self.df.columns]
        if missing:
            shown = ", ".join(missing[:8]) + (f" (+{len(missing) - 8} more)" if len(missing) > 8 else "")
            raise DatasetUnavailable(
                f"dataset '{self.name}' ({self.context or 'no context'}) lacks {len(missing)} input"
                f"{'s' if len(missing) > 1 else ''} of the model's signature: {shown}: log the frame the model "
                "reads (mlflow.log_input(mlflow.data.from_pandas(df, source=PATH), context=...)), or re-log the "
                "model with signature=infer_signature(X, model.predict(X))"
            )
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
