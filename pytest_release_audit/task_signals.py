# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What MLflow recorded about a model's task: its signature's output, logged metric names, autolog tags,
and the label's values.

Each reader returns a *family* ("classification" / "regression" / "survival") or a kind, with the
words that name where it came from; ``task.infer_task`` decides in which order they count.
What MLflow 3 writes (checked on 3.17, sklearn 1.9):

* ``infer_signature(X, model.predict(X))``: a classifier's output is a ``[-1]`` tensor of its label
  dtype (``int64``, ``object`` for strings); a regressor's is ``float64``; ``predict_proba`` gives a
  ``float64 [-1, k]`` tensor. ``infer_signature(X, y)`` with a named Series gives one named column
  (``{"type": "long", "name": "species"}``): the label's name and dtype, not the model's output.
* ``mlflow.sklearn.autolog()``: run tags ``estimator_name`` / ``estimator_class`` (the full class path),
  metrics ``training_accuracy_score``, ``training_f1_score``, ``training_log_loss``, ``training_roc_auc``
  (classifiers) or ``training_r2_score``, ``training_root_mean_squared_error``,
  ``training_mean_absolute_error`` (regressors), and ``training_score`` (both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.handle.model import ModelHandle

#: Most distinct integer values a label may hold and still be read as classes.
MAX_CLASSES = 20

_FLOATS = ("float", "double", "float16", "float32", "float64")
_LABEL_TYPES = ("long", "integer", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "bool", "boolean", "string", "str", "object", "binary")

_REGRESSION_METRICS = frozenset({
    "r2", "r2_score", "rmse", "mse", "mae", "mape", "rmsle", "msle", "root_mean_squared_error",
    "mean_squared_error", "mean_absolute_error", "median_absolute_error", "mean_absolute_percentage_error",
    "explained_variance", "explained_variance_score", "max_error", "mean_squared_log_error",
    "root_mean_squared_log_error",
})
_CLASSIFICATION_METRICS = frozenset({
    "roc_auc", "auc", "auroc", "log_loss", "logloss", "accuracy", "accuracy_score", "f1", "f1_score",
    "precision", "precision_score", "recall", "recall_score", "balanced_accuracy", "balanced_accuracy_score",
    "average_precision", "pr_auc", "brier_score", "brier_score_loss", "matthews_corrcoef", "mcc",
    "cohen_kappa", "cohen_kappa_score", "cross_entropy", "true_positives", "false_positives",
    "true_negatives", "false_negatives", "roc_auc_ovr", "roc_auc_ovo", "f1_macro", "f1_weighted",
    "precision_macro", "recall_macro", "example_count_per_class",
})
_SURVIVAL_METRICS = frozenset({"c_index", "cindex", "concordance", "concordance_index", "harrell_c",
                               "uno_c", "integrated_brier_score", "ibs", "td_auc"})
#: Prefixes / suffixes naming the split a metric was computed on.
_SPLIT = re.compile(r"^(training|train|test|testing|eval|evaluation|val|valid|validation|holdout|cv|mean|best)_|"
                    r"_(training|train|test|eval|evaluation|val|valid|validation|holdout|mean|std)$")
#: A per-class metric: ``f1_class_0``, ``precision_setosa``, ``recall_1``.
_PER_CLASS = re.compile(r"^(precision|recall|f1|f1_score|roc_auc|auc|accuracy)_[a-z0-9_]+$")
_SKLEARN_CLASS = re.compile(r"^sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class Signal:
    """One piece of evidence about the task: a family (or a kind) and the words naming its source."""

    family: str  # "classification" | "regression" | "survival" | "binary" | "multiclass"
    source: str


@dataclass(frozen=True)
class OutputSpec:
    """The model signature's output, read for the task.

    ``shape``: "probabilities" (k float columns), "labels" (one int / bool / string column) or
    "numbers" (one float column); ``name``: the single output column's name, when it has one.
    """

    shape: str
    dtype: str
    n_columns: int = 1
    name: str | None = None

    def describe(self) -> str:
        if self.shape == "probabilities":
            return f"{self.dtype} [-1, {self.n_columns}]: class probabilities"
        return self.dtype + (f" column {self.name}" if self.name else "")


def signature_output(handle: ModelHandle) -> OutputSpec | None:
    """The model signature's output as one of three shapes, or None (no signature, or unreadable)."""
    signature = (handle.model_meta or {}).get("signature") or {}
    outputs = signature.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, dict) for o in outputs):
        return None
    if len(outputs) == 1 and outputs[0].get("type") == "tensor":
        spec = outputs[0].get("tensor-spec") or {}
        dtype = str(spec.get("dtype") or "").lower()
        shape = list(spec.get("shape") or [])
        width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else 1
        if len(shape) > 2:
            return None
        if width >= 2:
            return OutputSpec("probabilities", dtype, width) if dtype in _FLOATS else None
        return _single(dtype, None)
    types = [str(o.get("type") or "").lower() for o in outputs]
    if len(outputs) >= 2:
        return OutputSpec("probabilities", types[0], len(outputs)) if all(t in _FLOATS for t in types) else None
    name = outputs[0].get("name")
    return _single(types[0], str(name) if name else None)


def _single(dtype: str, name: str | None) -> OutputSpec | None:
    if dtype in _FLOATS:
        return OutputSpec("numbers", dtype, 1, name)
    if dtype in _LABEL_TYPES or dtype.startswith(("int", "uint", "<u", "str")):
        return OutputSpec("labels", dtype, 1, name)
    return None


def output_signal(output: OutputSpec | None, flavors: Iterable[str]) -> Signal | None:
    """The family the signature's output says (None for a float column: numbers are read later)."""
    if output is None:
        return None
    flavor = next((f for f in sorted(flavors) if f != "python_function"), "python_function")
    source = f"model signature output ({output.describe()}, {flavor} flavor)"
    if output.shape == "probabilities":
        return Signal("binary" if output.n_columns == 2 else "multiclass", source)
    if output.shape == "labels":
        return Signal("classification", source)
    return Signal("numbers", source)


def _metric_stem(key: str) -> str:
    stem = key.lower().strip()
    for _ in range(2):
        stem = _SPLIT.sub("", stem)
    return stem


def metric_signal(metric_names: Iterable[str]) -> Signal | None:
    """The family logged metric names agree on (None: none known, or they disagree)."""
    found: dict[str, list[str]] = {"regression": [], "classification": [], "survival": []}
    for key in sorted(metric_names):
        stem = _metric_stem(key)
        if stem in _REGRESSION_METRICS:
            found["regression"].append(key)
        elif stem in _CLASSIFICATION_METRICS or _PER_CLASS.match(stem):
            found["classification"].append(key)
        elif stem in _SURVIVAL_METRICS:
            found["survival"].append(key)
    families = [f for f, keys in found.items() if keys]
    if len(families) != 1:
        return None
    keys = found[families[0]]
    shown = ", ".join(keys[:3]) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")
    return Signal(families[0], f"logged metric{'s' if len(keys) > 1 else ''} {shown}")


def estimator_signal(handle: ModelHandle) -> Signal | None:
    """The family of autolog's ``estimator_class`` (scikit-learn's own mixins) or ``estimator_name``."""
    for key in ("estimator_class", "estimator_name"):
        value = (handle.tag(key) or "").strip()
        if not value:
            continue
        family = _sklearn_family(value) if _SKLEARN_CLASS.match(value) else None
        base = value.rsplit(".", 1)[-1]
        if family is None and re.search(r"(Classifier|SVC|NB|Classification)$", base):
            family = "classification"
        elif family is None and re.search(r"(Regressor|SVR)$", base):
            family = "regression"
        if family:
            return Signal(family, f"autolog {key} {value}")
    return None


def _sklearn_family(path: str) -> str | None:
    """``classification`` / ``regression`` for a scikit-learn class path, by its mixin (only sklearn is imported)."""
    import importlib

    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)  # a module of the installed sklearn package only
        cls = getattr(module, class_name)
        from sklearn.base import ClassifierMixin, RegressorMixin
    except Exception:  # no such module / class in this sklearn: the name is read instead
        return None
    if not isinstance(cls, type):
        return None
    if issubclass(cls, ClassifierMixin):
        return "classification"
    if issubclass(cls, RegressorMixin):
        return "regression"
    return None


def label_summary(values: pd.Series) -> tuple[int, bool, bool]:
    """(distinct non-null values, numeric, integer-like) of a label column."""
    import pandas as pd

    present = values.dropna()
    distinct = int(present.nunique())
    numeric = bool(pd.api.types.is_numeric_dtype(present)) and not pd.api.types.is_bool_dtype(present)
    integer_like = False
    if numeric and distinct:
        as_float = present.astype(float)
        integer_like = bool((as_float == as_float.round()).all())
    return distinct, numeric, integer_like


def values_kind(values: pd.Series | None) -> Signal | None:
    """The kind a label's values suggest: 2 values binary, few classes multiclass, many numbers regression."""
    if values is None:
        return None
    distinct, numeric, integer_like = label_summary(values)
    if distinct == 0:
        return None
    if distinct <= 2:
        return Signal("binary", f"label values: {distinct} class{'es' if distinct != 1 else ''}")
    if not numeric:
        return Signal("multiclass", f"label values: {distinct} classes")
    if integer_like and distinct <= MAX_CLASSES:
        return Signal("multiclass", f"label values: {distinct} integer classes")
    return Signal("regression", f"label values: {distinct} distinct numbers")


def tag_source(handle: ModelHandle, key: str) -> str:
    """Where ``handle.tag(key)`` found its value: the version, its run, or the registered model."""
    if key in handle.tags:
        return f"version tag {key}"
    if handle.run and key in handle.run.tags:
        return f"run tag {key}"
    return f"registered model tag {key}"


def quote(value: Any) -> str:
    """``value`` as a Python string literal for a call the user pastes (JSON quoting: no injection)."""
    import json

    return json.dumps(str(value), ensure_ascii=False)


def set_tag_call(handle: ModelHandle, key: str, value: str) -> str:
    """The exact call that records ``key`` on the audited version."""
    return (f"MlflowClient().set_model_version_tag({quote(handle.name)}, {quote(handle.version)}, "
            f"{quote(key)}, {quote(value)})")
