# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The evaluation scores of an audit: candidate and baseline scored on the evaluation dataset.

``score_dataset`` runs both models in their workers (``handle.worker``), reads each output for the
task kind (``handle.loading.interpret_output``: the rule used is kept) and puts a baseline's
class columns in the candidate's order; ``session.AuditContext.scores`` caches the result.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditError, DatasetUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.session import Scores


def label_texts(data: LoadedDataset) -> tuple[str, ...] | None:
    """The evaluation labels as sorted ``label_key`` texts (None without a label column)."""
    y = data.y
    if y is None or data.task.kind not in ("binary", "multiclass"):
        return None
    import numpy as np

    from pytest_release_audit.metrics.multiclass import label_key

    values = y.dropna().to_numpy()
    try:
        distinct = np.unique(values)
    except TypeError:  # mixed types: text order
        distinct = np.asarray(sorted({str(v) for v in values}), dtype=object)
    return tuple(dict.fromkeys(label_key(v) for v in distinct[:1001]))


def score_dataset(data: LoadedDataset, handle: ModelHandle, baseline: tuple[ModelHandle | None, str]) -> Scores:
    """Candidate and baseline scored on ``data`` (each reads its own inputs), read for the task kind."""
    from pytest_release_audit.handle.loading import predict_output
    from pytest_release_audit.session import Scores
    from pytest_release_audit.task import feature_columns

    kind, labels = data.task.kind, label_texts(data)
    baseline_handle, reason = baseline
    preload = None
    if baseline_handle is not None:
        # The baseline loads in its own worker while the candidate scores in its worker.
        from pytest_release_audit.handle.worker import pool

        preload = threading.Thread(target=pool().preload, args=(baseline_handle,), daemon=True)
        preload.start()
    try:
        candidate = predict_output(handle, data.X, kind, labels)
    finally:
        if preload is not None:
            preload.join()
    base = None
    error: str | None = reason or None
    if baseline_handle is not None:
        # The baseline reads its own inputs (its signature), which may differ from the candidate's.
        columns = feature_columns(baseline_handle, data.task, [str(c) for c in data.df.columns])
        missing = [c for c in columns if c not in data.df.columns]
        try:
            if missing:
                raise DatasetUnavailable(
                    f"evaluation dataset '{data.name}' lacks the baseline's inputs: {', '.join(missing[:8])}"
                )
            base = _aligned(predict_output(baseline_handle, data.df[columns], kind, labels), candidate)
        except AuditError as exc:
            error = f"baseline {baseline_handle.name} v{baseline_handle.version}: {exc}"
            base = None
    return Scores(
        candidate=candidate.values,
        baseline=None if base is None else base.values,
        baseline_error=error,
        classes=candidate.classes,
        output_rule=candidate.rule,
        baseline_output_rule=None if base is None else base.rule,
        label_only=candidate.label_only,
        baseline_label_only=bool(base is not None and base.label_only),
        output_note=candidate.note,
        baseline_output_note="" if base is None else base.note,
    )


def _aligned(base: Any, candidate: Any) -> Any:
    """The baseline's matrix with its columns in the candidate's class order (multiclass)."""
    from dataclasses import replace

    from pytest_release_audit.errors import ModelLoadError

    if getattr(base.values, "ndim", 1) != 2 or base.classes == candidate.classes:
        return base
    if candidate.classes is None or base.classes is None or set(base.classes) != set(candidate.classes):
        raise ModelLoadError(
            f"predicts classes [{', '.join(base.classes or ())}] but the candidate "
            f"[{', '.join(candidate.classes or ())}]: both must score the same classes"
        )
    order = [base.classes.index(c) for c in candidate.classes]
    return replace(base, values=base.values[:, order], classes=candidate.classes)
