# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The task a model version performs, and which dataset columns are its label, targets, ids and features.

Decided from what MLflow recorded, first source that tells wins, and the source is named in the
``TaskSpec`` (``source``, ``label_source``):

1. the policy ``[task]`` and the ``task`` / ``label_col`` / ``duration_col`` / ``event_col`` tags;
2. survival columns (a duration and an event column that are not model inputs);
3. the model signature: a ``[-1, k]`` probability output is a classifier; its inputs are the features,
   and a dataset column that is not an input is the label;
4. autolog's ``estimator_class`` / ``estimator_name`` tags and the logged metric names (``r2``, ``rmse``
   regression; ``roc_auc``, ``log_loss``, ``accuracy`` classification; ``training_*`` too);
5. the signature's single output column (labels: a classifier; floats: a regressor, or scores when the
   label has two values);
6. the label's values (two: binary; few integers or strings: multiclass; many numbers: regression).

When the label cannot be told, ``TaskSpec.problem`` holds one line naming the candidates and the call
that fixes it; the model is then not scored (``LoadedDataset.X`` raises it) while data checks still run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_release_audit.data import DURATION_NAMES, EVENT_NAMES, ID_NAMES, LABEL_NAMES, TASK_TITLES, TaskSpec
from pytest_release_audit.handle.model import DatasetRef, ModelHandle
from pytest_release_audit.policy.sections import TaskPolicy
from pytest_release_audit.task_signals import (
    Signal,
    estimator_signal,
    label_summary,
    metric_signal,
    output_signal,
    set_tag_call,
    signature_output,
    tag_source,
    values_kind,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["feature_columns", "infer_task"]


def _normalize_kind(text: str) -> str:
    low = (text or "").lower()
    if "surviv" in low or "time-to-event" in low or "time_to_event" in low:
        return "survival"
    if "regress" in low:
        return "regression"
    if "multi" in low or "multinomial" in low:
        return "multiclass"
    if "binary" in low:
        return "binary"
    if "class" in low:
        return "classification"  # binary or multiclass: the label's values tell
    return ""


def _pick(df_columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in df_columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _shown(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _explicit(task: TaskPolicy, handle: ModelHandle, key: str) -> tuple[str, str]:
    """A policy ``[task]`` value, else the tag of the same name, with its source ("" when neither)."""
    value = str(getattr(task, "kind" if key == "task" else key) or "").strip()
    if value:
        return value, f"policy [task] {'kind' if key == 'task' else key}"
    tagged = (handle.tag(key) or "").strip()
    return (tagged, tag_source(handle, key)) if tagged else ("", "")


def _id_columns(task: TaskPolicy, handle: ModelHandle, columns: list[str]) -> list[str]:
    if task.id_columns:
        return list(task.id_columns)
    if handle.tag("id_columns"):
        return [c.strip() for c in (handle.tag("id_columns") or "").split(",") if c.strip()]
    found = _pick(columns, ID_NAMES)
    return [found] if found else []


def infer_task(
    handle: ModelHandle,
    task_policy: TaskPolicy | Mapping[str, Any],
    ref: DatasetRef,
    columns: list[str],
    frame: pd.DataFrame | None = None,
    uncovered: tuple[str, ...] = (),
) -> TaskSpec:
    """Task kind, label / duration / event and id columns of ``ref`` read as ``columns`` (``frame``: its values).

    ``task_policy`` is ``policy.task`` (a plain ``policy.section("task")`` is still accepted).
    Without ``frame`` the label's values are not read (kind from the other sources only).
    ``uncovered``: columns of a mapped file that the logged dataset does not describe (autolog logs
    X only); exactly one of them is the label, like a dataset's ``targets``.
    """
    task = task_policy if isinstance(task_policy, TaskPolicy) else TaskPolicy.model_validate(dict(task_policy))
    if frame is not None:
        columns = [str(c) for c in frame.columns]
    from pytest_release_audit.handle.resolve import signature_input_names

    inputs = signature_input_names(handle)
    ids = _id_columns(task, handle, columns)
    raw_kind, kind_source = _explicit(task, handle, "task")
    kind = _normalize_kind(raw_kind)
    if not kind:
        kind_source = ""
    # a survival model's duration / event columns are not its inputs (unless the policy or a tag says survival)
    pool = columns if kind == "survival" else [c for c in columns if c not in set(inputs)]
    duration: str | None = _explicit(task, handle, "duration_col")[0] or _pick(pool, DURATION_NAMES)
    event: str | None = _explicit(task, handle, "event_col")[0]
    targets = ref.targets if ref.targets in columns else None
    targets_source = "dataset targets"
    if targets is None and len(uncovered) == 1 and uncovered[0] in columns:
        targets = uncovered[0]
        targets_source = f"the one column of the mapped file the logged dataset does not cover ({targets})"
    if not event:
        event = (targets if targets and targets != duration else None) or _pick(pool, EVENT_NAMES)
    if not kind and duration and event:
        kind, kind_source = "survival", f"duration column {duration} and event column {event}"
    common: dict[str, Any] = {"id_columns": tuple(ids), "exclude_features": task.exclude_features}
    if kind == "survival":
        return TaskSpec(kind=kind, duration_col=duration or None, event_col=event or None, source=kind_source,
                        **common)
    label, label_source, problem = _label(handle, task, ref, columns, inputs, ids, targets, targets_source)
    values = frame[label] if frame is not None and label and label in frame.columns else None
    if kind in ("", "classification"):
        kind, kind_source = _decide_kind(handle, values, kind, kind_source, label)
        if not kind:  # what the registry records contradicts the label's values
            problem, kind_source = problem or kind_source, ""
    if kind == "survival":  # only logged metrics say so: the columns are unknown
        problem = _survival_columns_problem(handle, ref)
        return TaskSpec(kind=kind, source=kind_source, problem=problem, **common)
    if not problem and label and label in inputs:
        problem = (
            f"the label {label} ({label_source}) is an input of {handle.name} v{handle.version}'s signature: "
            "the model reads its own target; re-log it with signature=infer_signature(X, model.predict(X)) "
            "where X holds the features only"
        )
    return TaskSpec(kind=kind, label_col=label or None, source=kind_source, label_source=label_source,
                    problem=problem, **common)


def _label(handle: ModelHandle, task: TaskPolicy, ref: DatasetRef, columns: list[str], inputs: list[str],
           ids: list[str], targets: str | None, targets_source: str = "dataset targets") -> tuple[str, str, str]:
    """(label column, its source, problem): explicit, then the signature, then a conventional name."""
    label, source = _explicit(task, handle, "label_col")
    if label:
        return label, source, ""
    if targets:
        return targets, targets_source, ""
    output = signature_output(handle)
    if output is not None and output.name and output.name in columns and output.name not in inputs:
        return output.name, "model signature output name", ""
    skip = set(inputs) | set(ids) | set(task.exclude_features) | set(task.group_columns)
    candidates = [c for c in columns if c not in skip]
    where = f"dataset '{ref.name}' ({ref.context or 'no context'})"
    who = f"{handle.name} v{handle.version}"
    if inputs:
        if len(candidates) == 1:
            return candidates[0], "the only dataset column that is not a model input", ""
        conventional = _pick(candidates, LABEL_NAMES)
        if conventional:
            return conventional, f"conventional label name among the non-input columns {_shown(candidates)}", ""
        if not candidates:
            return "", "", (
                f"{where} holds only the inputs of {who}, no label column: log the frame with its label "
                "(mlflow.log_input(mlflow.data.from_pandas(df, source=PATH), context=...)), "
                f"or name it: {set_tag_call(handle, 'label_col', 'COLUMN')}"
            )
        return "", "", (
            f"cannot tell the label of {who} in {where}: {len(candidates)} columns are not model inputs "
            f"({_shown(candidates)}): set the tag {set_tag_call(handle, 'label_col', candidates[0])} "
            "(with the right column), or list the others in [task] exclude_features"
        )
    conventional = _pick(candidates, LABEL_NAMES)
    if conventional:
        return conventional, "conventional label name", ""
    return "", "", (
        f"cannot tell the label of {who} in {where}: the model has no signature and no column has a "
        f"conventional label name (columns: {_shown(candidates)}): log the model with "
        "signature=infer_signature(X, model.predict(X)), or set the tag "
        f"{set_tag_call(handle, 'label_col', candidates[0] if candidates else 'COLUMN')} (with the right column)"
    )


def _decide_kind(handle: ModelHandle, values: pd.Series | None, family: str, source: str,
                 label: str) -> tuple[str, str]:
    """The kind from the signature, autolog's estimator, metric names and the label's values."""
    spec = signature_output(handle)
    if spec is not None and spec.name and spec.name == label:
        spec = None  # from infer_signature(X, y): the label's dtype, not what the model outputs
    output = output_signal(spec, (handle.model_meta or {}).get("flavors") or ())
    by_values = values_kind(values)
    if not family and output is not None and output.family in ("binary", "multiclass"):
        return output.family, output.source
    if not family:
        run_metrics = handle.run.metrics if handle.run else {}
        told = estimator_signal(handle) or metric_signal(run_metrics)
        if told is not None:
            conflict = _contradiction(handle, told, values, by_values, label)
            if conflict:
                return "", conflict
            family, source = told.family, told.source
    if not family and output is not None:
        if output.family == "numbers":
            if by_values is not None and by_values.family == "binary":
                return "binary", f"{output.source} with {by_values.source}"
            return "regression", output.source
        family, source = output.family, output.source
        if by_values is not None and by_values.family == "regression":
            return "regression", f"{by_values.source} (the signature's {output.source.split('(', 1)[1]}"
    if family == "regression" or family == "survival":
        return family, source
    if family == "classification":
        return _classes(output, by_values, source)
    if by_values is not None:
        return by_values.family, by_values.source
    return "binary", "nothing recorded tells the task: binary assumed (set the tag task)"


def recorded_kind(handle: ModelHandle) -> tuple[str, str]:
    """(kind, source) from what the registry records without reading data ("" when it does not say).

    The signature's probability / label output, autolog's ``estimator_class`` and logged metric
    names, in that order; a plain number output alone is not enough (labels can be numbers too).
    ``classification`` is returned when the number of classes is not recorded.
    """
    output = output_signal(signature_output(handle), (handle.model_meta or {}).get("flavors") or ())
    if output is not None and output.family in ("binary", "multiclass"):
        return output.family, output.source
    told = estimator_signal(handle) or metric_signal(handle.run.metrics if handle.run else {})
    if told is not None:
        return told.family, told.source
    if output is not None and output.family == "classification":
        return output.family, output.source
    return "", ""


def recorded_task_title(handle: ModelHandle) -> str:
    """``recorded_kind`` as the model card shows it ("" when the registry does not say)."""
    kind, source = recorded_kind(handle)
    title = TASK_TITLES.get(kind, "Classification" if kind == "classification" else "")
    return f"{title} (inferred from {source})" if title else ""


def _contradiction(handle: ModelHandle, told: Signal, values: pd.Series | None, by_values: Signal | None,
                   label: str) -> str:
    """The line saying the run's metric names / estimator contradict the label's values ("" if they agree).

    Both are registry records the audited side writes; they name the task only where the data
    does not say otherwise. A regression claim over a two-valued label, or a classification claim
    over a label of many distinct numbers, would have the gate compare on metrics the task does not
    have: the audit stops and asks for the tag instead.
    """
    if values is None or by_values is None:
        return ""
    two_valued = label_summary(values)[0] == 2
    if (told.family == "regression" and two_valued) or (told.family == "classification"
                                                       and by_values.family == "regression"):
        return (f"{told.source}: {told.family}, but the label {label} has {by_values.source}: set the tag "
                f"{set_tag_call(handle, 'task', 'binary' if two_valued else 'regression')} (with the right task)")
    return ""


def _classes(output: Signal | None, by_values: Signal | None, source: str) -> tuple[str, str]:
    """Binary or multiclass for a classifier: its probability columns, else the label's values."""
    if output is not None and output.family in ("binary", "multiclass"):
        return output.family, f"{source}; {output.source}"
    if by_values is None:
        return "binary", f"{source}; label values not read: binary assumed"
    kind = "binary" if by_values.family == "binary" else "multiclass"
    return kind, f"{source}; {by_values.source}"


def _survival_columns_problem(handle: ModelHandle, ref: DatasetRef) -> str:
    return (
        f"the logged metrics say {handle.name} v{handle.version} is a survival model, but dataset '{ref.name}' "
        "has no column named like a duration and an event: set the tags "
        f"{set_tag_call(handle, 'duration_col', 'COLUMN')} and {set_tag_call(handle, 'event_col', 'COLUMN')}"
    )


def feature_columns(handle: ModelHandle, task: TaskSpec, columns: list[str]) -> list[str]:
    """The model's input columns: its signature when it has one, else every non-target, non-id column.

    Without a signature and without a known label there are none (``task.problem`` says why).
    """
    from pytest_release_audit.handle.resolve import signature_input_names

    names = signature_input_names(handle)
    if names:
        return names
    if task.kind != "survival" and not task.label_col:
        return []
    skip = set(task.target_columns) | set(task.id_columns) | set(task.exclude_features)
    return [c for c in columns if c not in skip]
