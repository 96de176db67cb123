# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The task a model version performs, and which dataset columns are its label, targets, ids and features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_release_audit.data import DURATION_NAMES, EVENT_NAMES, ID_NAMES, TaskSpec
from pytest_release_audit.handle.model import DatasetRef, ModelHandle
from pytest_release_audit.policy.sections import TaskPolicy

__all__ = ["feature_columns", "infer_task"]


def _normalize_kind(text: str) -> str:
    low = (text or "").lower()
    if "surviv" in low or "time-to-event" in low or "time_to_event" in low:
        return "survival"
    if "regress" in low:
        return "regression"
    if "multi" in low or "multinomial" in low:
        return "multiclass"
    if "class" in low or "binary" in low:
        return "binary"
    return ""


def _pick(df_columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in df_columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def infer_task(
    handle: ModelHandle, task_policy: TaskPolicy | Mapping[str, Any], ref: DatasetRef, columns: list[str]
) -> TaskSpec:
    """Task kind and target/id columns: policy, then model/run tags, then the data's column names.

    ``task_policy`` is ``policy.task`` (a plain ``policy.section("task")`` is still accepted).
    """
    task = task_policy if isinstance(task_policy, TaskPolicy) else TaskPolicy.model_validate(dict(task_policy))

    def setting(value: str, key: str) -> str:
        return (value or handle.tag(key) or "").strip()

    duration: str | None
    event: str | None
    label: str | None
    kind = _normalize_kind(task.kind) or _normalize_kind(handle.tag("task") or "")
    duration = setting(task.duration_col, "duration_col") or _pick(columns, DURATION_NAMES)
    event = setting(task.event_col, "event_col")
    label = setting(task.label_col, "label_col")
    targets = ref.targets if ref.targets in columns else None
    if not event:
        event = (targets if targets and targets != duration else None) or _pick(columns, EVENT_NAMES)
    if not kind:
        kind = "survival" if duration and event else ""
    if kind != "survival":
        label = label or targets or _pick(columns, ("target", "label", "y", "outcome", "class"))
        if not kind:
            kind = "binary"
    id_cols = list(task.id_columns)
    if not id_cols and handle.tag("id_columns"):
        id_cols = [c.strip() for c in (handle.tag("id_columns") or "").split(",") if c.strip()]
    if not id_cols:
        found = _pick(columns, ID_NAMES)
        id_cols = [found] if found else []
    if kind == "survival":
        return TaskSpec(
            kind=kind,
            duration_col=duration or None,
            event_col=event or None,
            id_columns=tuple(id_cols),
            exclude_features=task.exclude_features,
        )
    return TaskSpec(
        kind=kind,
        label_col=label or None,
        id_columns=tuple(id_cols),
        exclude_features=task.exclude_features,
    )


def feature_columns(handle: ModelHandle, task: TaskSpec, columns: list[str]) -> list[str]:
    """The model's input columns: its signature when it has one, else every non-target column."""
    from pytest_release_audit.handle.resolve import signature_input_names

    names = signature_input_names(handle)
    if names:
        return names
    skip = set(task.target_columns) | set(task.id_columns) | set(task.exclude_features)
    return [c for c in columns if c not in skip]
