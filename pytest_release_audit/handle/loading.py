# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn what a model returned (in its worker) into scores, and say which rule read them.

A model logged the usual MLflow ways returns one of: a vector ``(n,)`` or a column ``(n, 1)``
(a probability, a risk score, a regression value, or class labels); sklearn's ``predict_proba``
``(n, 2)`` (binary) or ``(n, k)`` (multi-class); a pandas Series; or a DataFrame with named
columns (one per class, or a ``probability`` / ``score`` column, or a ``prediction`` / ``label``
column). ``interpret_output`` reads each of them by the task kind and returns ``ModelScores``:

* binary: one score per row, the probability of the positive class, which is the larger of the
  sorted classes (sklearn's ``classes_[1]``, see ``metrics.classification.binary_labels``);
* multiclass: an ``(n, k)`` probability matrix whose columns are ``classes`` (the estimator's
  ``classes_`` when the worker found them, else the evaluation labels in sorted order);
* regression / survival: one value per row.

Outputs that are class labels rather than probabilities are detected (``label_only``) and named
(``LABEL_ONLY``): threshold metrics stay valid, rank metrics (ROC AUC) do not. A shape no rule
reads is one ``ModelLoadError`` line naming the shape and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.handle.worker import ModelOutput

#: Column names read as the score of a one-score-per-row DataFrame (lower case), in this order.
SCORE_COLUMNS = ("probability_positive_class", "positive_probability", "probability", "proba", "prob",
                 "predicted_probability", "score", "scores", "y_score", "risk", "risk_score")
#: Column names read as a prediction (a label for a classifier, the value for a regressor).
PREDICTION_COLUMNS = ("prediction", "predictions", "predicted", "predicted_label", "predicted_class", "label",
                      "class", "y_pred", "yhat", "output")
#: What a label-only output is called in evidence and messages (``{labels}``: the values seen).
LABEL_ONLY = ("model returns class labels ({labels}), not probabilities: ROC AUC from labels is a "
              "single-threshold value; {fix}")


@dataclass(frozen=True)
class ModelScores:
    """A model's scores on a frame and how its output was read.

    ``values`` is ``(n,)`` (binary, regression, survival) or ``(n, k)`` (multiclass; columns are
    ``classes``). ``rule`` says how the output was read (``"predict_proba column 1 = P(class 1)"``).
    ``label_only``: the model returned class labels, not probabilities (``note`` says so).
    """

    values: Any
    rule: str
    classes: tuple[str, ...] | None = None
    label_only: bool = False
    note: str = ""


def predict_scores(handle: ModelHandle, X: Any) -> np.ndarray:
    """Scores for ``X`` as a float array with one value per row; no NaN or inf allowed.

    The model is loaded and run in its worker process (``handle.worker``); for a classifier with
    ``predict_proba`` the positive-class probability is the score.
    """
    return predict_output(handle, X).values


def predict_output(handle: ModelHandle, X: Any, kind: str | None = None,
                   labels: tuple[str, ...] | None = None) -> ModelScores:
    """``X`` scored by ``handle``'s worker and read for a ``kind`` task (``labels``: the evaluation
    labels as ``metrics.multiclass.label_key`` texts, sorted, when there are labels)."""
    from pytest_release_audit.handle.worker import pool

    output = pool().get(handle).predict(X)
    return interpret_output(f"model {handle.name} v{handle.version}", output, len(X), kind, labels)


def scores_from_output(label: str, output: ModelOutput, n_rows: int) -> np.ndarray:
    """The scores in ``output`` read without a task kind (``interpret_output``)."""
    return interpret_output(label, output, n_rows).values


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _fix(output: ModelOutput) -> str:
    if output.flavor == "pyfunc":
        return "return predict_proba from the pyfunc's predict"
    return "log a classifier with predict_proba (e.g. SVC(probability=True))"


def _shown(values: list[str]) -> str:
    return "/".join(values[:6]) + ("/..." if len(values) > 6 else "")


def _class_list(output: ModelOutput, labels: tuple[str, ...] | None, k: int | None = None
                ) -> tuple[tuple[str, ...] | None, str]:
    """(the classes the output's columns stand for, where they came from)."""
    if output.classes and (k is None or len(output.classes) == k):
        return output.classes, "classes_"
    if labels and (k is None or len(labels) == k):
        return labels, "the evaluation labels in sorted order (the model exposes no classes_)"
    return None, ""


def _positive(output: ModelOutput, labels: tuple[str, ...] | None) -> str:
    """The class the audit's truth encodes as 1: the larger of the two evaluation labels.

    ``metrics.classification.binary_labels`` makes the larger sorted label positive, so the score
    read must be that class's probability; the order a model lists its ``classes_`` in (model
    code, untrusted) never changes which class that is.
    """
    if labels and len(labels) == 2:
        return labels[-1]
    classes, _ = _class_list(output, labels, 2)
    return _sorted_classes(classes)[-1] if classes else "1"


def _sorted_classes(classes: tuple[str, ...]) -> list[str]:
    """``classes`` in the order ``np.unique`` gives their values (numbers numerically, else as text)."""
    try:
        return sorted(classes, key=float)
    except ValueError:
        return sorted(classes)


def _pick_column(label: str, output: ModelOutput, raw: Any, kind: str | None,
                 labels: tuple[str, ...] | None) -> tuple[Any, str, tuple[str, ...] | None]:
    """(values, rule, classes) read from a DataFrame's named columns."""
    from pytest_release_audit.metrics.multiclass import label_key

    columns = list(output.columns or ())
    if len(columns) == 1:
        return raw[:, 0], f"DataFrame column '{columns[0]}'", None
    keys = [label_key(c) for c in columns]
    classes, source = _class_list(output, labels)
    if kind in ("binary", "multiclass", None) and classes and set(classes) <= set(keys) and len(classes) >= 2:
        order = [keys.index(c) for c in classes]
        if kind == "multiclass" or (kind is None and len(classes) > 2):
            return raw[:, order], f"DataFrame columns = classes [{', '.join(classes)}] ({source})", classes
        if len(classes) == 2:
            positive = _positive(output, labels)
            if positive not in keys:
                raise ModelLoadError(
                    f"{label} returned DataFrame columns {_shown(columns)} for the classes [{', '.join(classes)}], "
                    f"none of them the evaluation data's positive class {positive}: name the columns by class"
                )
            return raw[:, keys.index(positive)], f"DataFrame column '{columns[keys.index(positive)]}' = P(class " \
                f"{positive})", classes
    lower = [c.lower() for c in columns]
    wanted = PREDICTION_COLUMNS + SCORE_COLUMNS if kind == "regression" else SCORE_COLUMNS + PREDICTION_COLUMNS
    if kind != "multiclass":
        for name in wanted:
            if name in lower:
                at = lower.index(name)
                return raw[:, at], f"DataFrame column '{columns[at]}'", None
    else:
        for name in PREDICTION_COLUMNS:
            if name in lower:
                at = lower.index(name)
                return raw[:, at], f"DataFrame column '{columns[at]}'", None
    shown = ", ".join(repr(c[:40]) for c in columns[:8]) + (" ..." if len(columns) > 8 else "")
    per_class = f" or one column per class ({', '.join(classes[:10])})" if classes else " or one column per class"
    raise ModelLoadError(
        f"{label} returned a DataFrame with columns [{shown}]: expected one column, a 'probability' / 'score' "
        f"column{per_class}"
    )


def _as_float(label: str, values: Any) -> Any:
    import numpy as np

    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ModelLoadError(f"{label} returned non-numeric predictions") from None


def _label_keys(values: Any) -> list[str]:
    import numpy as np

    from pytest_release_audit.metrics.multiclass import label_key

    return [label_key(v) for v in np.unique(np.asarray(values).reshape(-1))[:1001]]


def _classifier_vector(label: str, output: ModelOutput, values: Any, rule: str, kind: str,
                       labels: tuple[str, ...] | None) -> ModelScores:
    """One value per row of a classifier: a probability / score, or class labels."""
    import numpy as np

    from pytest_release_audit.metrics.multiclass import label_key

    text = values.dtype.kind in "US"
    seen = _label_keys(values)
    classes, _source = _class_list(output, labels, None if kind == "multiclass" else 2)
    is_labels = text or set(seen) <= {"0", "1"} or (bool(classes) and set(seen) <= set(classes or ()))
    if kind == "multiclass":
        if not is_labels or not classes or not set(seen) <= set(classes):
            raise ModelLoadError(
                f"{label} returned one value per row {_shape(values.shape)} for a multi-class task: expected the "
                f"(n, k) predict_proba matrix, one column per class{'' if not classes else ' ' + str(list(classes))}"
            )
        keys = np.asarray([label_key(v) for v in values.reshape(-1)], dtype=object)
        onehot = np.stack([(keys == c).astype(float) for c in classes], axis=1)
        note = LABEL_ONLY.format(labels=_shown(seen), fix=_fix(output))
        return ModelScores(onehot, f"{rule}: class labels, one-hot over classes [{', '.join(classes)}]",
                           classes, True, note)
    if not is_labels:
        return ModelScores(_as_float(label, values).reshape(-1), rule, classes)
    if text or not set(seen) <= {"0", "1"}:
        positive = _positive(output, labels) if classes else (sorted(seen)[-1] if len(seen) == 2 else "")
        if not positive or not set(seen) <= set(classes or seen):
            raise ModelLoadError(f"{label} returned text predictions ({_shown(seen)}) that are not the task's two "
                                 "classes: return the positive-class probability")
        keys = np.asarray([label_key(v) for v in values.reshape(-1)], dtype=object)
        scores = (keys == positive).astype(float)
        rule = f"{rule}: class labels, 1 = class {positive}"
    else:
        scores = _as_float(label, values).reshape(-1)
        rule = f"{rule}: class labels 0/1"
    return ModelScores(scores, rule, classes, True, LABEL_ONLY.format(labels=_shown(seen), fix=_fix(output)))


def _probabilities(label: str, raw: Any) -> Any:
    """``raw`` as floats when each row is a probability distribution, else one line saying it is not."""
    import numpy as np

    values = _as_float(label, raw)
    finite = values[np.isfinite(values).all(axis=1)]
    if finite.size and (finite.min() < -1e-6 or finite.max() > 1 + 1e-6
                        or not np.allclose(finite.sum(axis=1), 1.0, atol=1e-4)):
        n, k = values.shape
        raise ModelLoadError(f"{label} returned a ({n}, {k}) matrix whose rows are not probabilities "
                             "(each row must sum to 1): return predict_proba")
    return values


def _matrix(label: str, output: ModelOutput, raw: Any, kind: str | None, labels: tuple[str, ...] | None,
            n_rows: int) -> ModelScores:
    """An ``(n, k)`` array: predict_proba of a binary or multi-class classifier."""
    k = raw.shape[1]
    what = output.method if output.method == "predict_proba" else f"{output.method} matrix"
    if kind in ("binary", None) and k == 2:
        if output.classes and len(output.classes) == 2 and list(output.classes) != _sorted_classes(output.classes):
            # sklearn sorts classes_ and predict_proba's column 1 is classes_[1]; a model listing them
            # the other way round would have its columns read by one convention or the other.
            raise ModelLoadError(
                f"{label}'s {what} lists its classes as [{', '.join(output.classes)}], not sorted: which column "
                "is the positive class's probability cannot be told; return predict_proba with classes_ sorted, "
                "or a DataFrame with one column per class"
            )
        values = _as_float(label, raw)[:, 1]
        return ModelScores(values, f"{what} column 1 = P(class {_positive(output, labels)})",
                           _class_list(output, labels, 2)[0])
    if kind == "multiclass":
        classes, source = _class_list(output, labels, k)
        if classes is None:
            known = (f"the model's classes_ has {len(output.classes)}" if output.classes else
                     f"the evaluation data has {len(labels or ())} labels")
            raise ModelLoadError(
                f"{label} returned a ({n_rows}, {k}) matrix but {known}: expected one column per class"
            )
        values = _probabilities(label, raw)
        return ModelScores(values, f"({n_rows}, {k}) {what}, columns = {source} [{', '.join(classes)}]", classes)
    expected = {"binary": f"({n_rows},) scores or the ({n_rows}, 2) predict_proba of a binary classifier "
                          f"(for {k} classes set [tool.release_audit.task] kind = \"multiclass\")",
                None: f"({n_rows},) or ({n_rows}, 2)"}.get(kind, f"one value per row ({n_rows},)")
    raise ModelLoadError(f"{label} returned a ({n_rows}, {k}) matrix; a {kind or 'scoring'} task expects {expected}")


def interpret_output(label: str, output: ModelOutput, n_rows: int, kind: str | None = None,
                     labels: tuple[str, ...] | None = None) -> ModelScores:
    """The scores in ``output`` for a ``kind`` task (None: read as before kinds mattered), or one
    ``ModelLoadError`` line naming the shape and what was expected."""
    import numpy as np

    raw = np.asarray(output.values)
    if raw.ndim == 0 or raw.ndim > 2 or raw.shape[0] != n_rows:
        raise ModelLoadError(
            f"{label} returned output of shape {_shape(raw.shape)} for {n_rows} rows: expected ({n_rows},) "
            f"or ({n_rows}, k)"
        )
    what = f"{output.method} output"
    if output.columns is not None and raw.ndim == 2 and not (raw.shape[1] == 2 and output.method == "predict_proba"):
        if len(output.columns) != raw.shape[1]:
            raise ModelLoadError(f"{label} returned {raw.shape[1]} columns but named {len(output.columns)}")
        picked, rule, classes = _pick_column(label, output, raw, kind, labels)
        result = (ModelScores(_probabilities(label, picked), rule, classes) if picked.ndim == 2
                  else _vector(label, output, picked, rule, kind, labels))
    elif raw.ndim == 2 and raw.shape[1] != 1:
        result = _matrix(label, output, raw, kind, labels, n_rows)
    else:
        rule = f"{what}, one value per row" if raw.ndim == 1 else f"{what}, the single column of ({n_rows}, 1)"
        result = _vector(label, output, raw.reshape(-1), rule, kind, labels)
    values = np.asarray(result.values, dtype=float)
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise ModelLoadError(f"{label} returned {bad} NaN/inf scores out of {values.size}")
    return ModelScores(values, result.rule, result.classes, result.label_only, result.note)


def _vector(label: str, output: ModelOutput, values: Any, rule: str, kind: str | None,
            labels: tuple[str, ...] | None) -> ModelScores:
    if kind in ("binary", "multiclass"):
        return _classifier_vector(label, output, values, rule, kind, labels)
    return ModelScores(_as_float(label, values).reshape(-1), rule)
