# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Paired bootstrap over patients: one seeded resample matrix, both models scored on each resample.

Protocol (reproducible outside this package)::

    idx = numpy.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n), dtype=numpy.int32)

Row ``b`` of ``idx`` is resample ``b``; the candidate and the baseline are both scored on exactly
those rows, so the CI of their difference reflects the paired design (a hard resample is hard for
both). Each resample is turned into integer weights (how often each row was drawn) and a *scorer*
evaluates whole chunks of resamples at once (see ``metrics.survival`` / ``classification`` /
``regression``): ``scorer.prepare(scores)`` once per model, ``scorer.evaluate(plans, weights)``
per chunk. The matrix is never held whole: its rows are drawn block by block from the same
stream (``index_chunks``: identical rows), sized so one block's arrays stay within
``CHUNK_CELLS``, and blocks are scored on every core (threads; each block fills its own rows).
Intervals are percentile intervals (``numpy.percentile``, linear interpolation) over the
resamples where the metric is defined (e.g. a resample without an event has no C-index).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: name -> (label, direction). Direction "higher": larger is better; "lower": smaller is better.
METRICS: dict[str, tuple[str, str]] = {
    "c_index": ("C-index", "higher"),
    "roc_auc": ("ROC AUC", "higher"),
    "accuracy": ("Accuracy", "higher"),
    "precision": ("Precision", "higher"),
    "recall": ("Recall", "higher"),
    "f1": ("F1", "higher"),
    "rmse": ("RMSE", "lower"),
    "mae": ("MAE", "lower"),
    "mse": ("MSE", "lower"),
    "r2": ("R²", "higher"),
    "roc_auc_ovr_macro": ("ROC AUC (macro OvR)", "higher"),
    "roc_auc_ovr_weighted": ("ROC AUC (weighted OvR)", "higher"),
    "log_loss": ("Log loss", "lower"),
    "f1_macro": ("Macro F1", "higher"),
    "f1_weighted": ("Weighted F1", "higher"),
}

#: Below this many defined resamples an interval is not reported (None) rather than made up.
MIN_VALID_RESAMPLES = 20


class Scorer(Protocol):
    """What the bootstrap needs from a task's metrics."""

    metrics: tuple[str, ...]

    def prepare(self, scores: Any) -> Any: ...

    def evaluate(self, plans: list[Any], weights: Any) -> list[dict[str, Any]]: ...


def metric_label(name: str) -> str:
    """Human label of a metric (``c_index`` -> ``C-index``)."""
    return METRICS.get(name, (name, "higher"))[0]


def metric_direction(name: str) -> str:
    """``higher`` or ``lower``: which way is better."""
    return METRICS.get(name, (name, "higher"))[1]


def draw_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """The resample matrix ``(n_bootstrap, n)`` of row indices, drawn once from ``seed``."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n), dtype=np.int32)


def index_chunks(n: int, n_bootstrap: int, seed: int, step: int) -> Iterator[np.ndarray]:
    """``draw_indices(n, n_bootstrap, seed)`` row block by row block, never the whole matrix.

    numpy draws bounded 32-bit integers one after the other from the generator's stream (its
    32-bit buffer lives in the generator, not in the call), so consecutive draws of ``step`` rows
    are exactly the rows of one big draw: ``tests/test_bootstrap.py`` checks it on this numpy.
    Memory: ``step x n`` indices at a time instead of ``n_bootstrap x n`` (4 GB at a million rows).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, n_bootstrap, step):
        yield rng.integers(0, n, size=(min(step, n_bootstrap - start), n), dtype=np.int32)


def weights_from_indices(indices: Any, n: int) -> np.ndarray:
    """Integer weights ``(m, n)``: how often each row appears in each resample row of ``indices``.

    Counted row by row, so the only temporary is one row of int64 counts (one flat ``bincount``
    of the block would hold two int64 arrays of the block's size).
    """
    import numpy as np

    idx = np.atleast_2d(np.asarray(indices))
    out = np.empty((idx.shape[0], n), dtype=np.int32)
    for row in range(idx.shape[0]):
        out[row] = np.bincount(idx[row], minlength=n)
    return out


def percentile_interval(values: Any, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of the finite ``values``; None with fewer than MIN_VALID_RESAMPLES."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size < MIN_VALID_RESAMPLES:
        return None
    tail = round((1.0 - confidence) * 50.0, 10)  # 0.95 -> 2.5 exactly, not 2.500000000000002
    lo, hi = np.percentile(arr, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _plain_ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_plain(ci[0]), _plain(ci[1])]


@dataclass(frozen=True)
class MetricEstimate:
    """One metric for the candidate (and baseline), with percentile CIs and the paired difference."""

    name: str
    candidate: float | None
    candidate_ci: tuple[float, float] | None
    baseline: float | None = None
    baseline_ci: tuple[float, float] | None = None
    delta: float | None = None
    delta_ci: tuple[float, float] | None = None
    n_valid: int = 0  # resamples where the metric (and the delta) was defined

    @property
    def label(self) -> str:
        return metric_label(self.name)

    @property
    def direction(self) -> str:
        return metric_direction(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "direction": self.direction,
            "candidate": _plain(self.candidate),
            "candidate_ci": _plain_ci(self.candidate_ci),
            "baseline": _plain(self.baseline),
            "baseline_ci": _plain_ci(self.baseline_ci),
            "delta": _plain(self.delta),
            "delta_ci": _plain_ci(self.delta_ci),
            "n_valid": int(self.n_valid),
        }


@dataclass(frozen=True)
class BootstrapResult:
    """Estimates per metric plus the raw resample values (arrays, not part of ``to_dict``)."""

    estimates: tuple[MetricEstimate, ...]
    n: int
    n_bootstrap: int
    seed: int
    confidence: float
    samples: dict[str, tuple[Any, Any]] = field(default_factory=dict, repr=False, compare=False)

    def get(self, name: str) -> MetricEstimate:
        for est in self.estimates:
            if est.name == name:
                return est
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": [e.to_dict() for e in self.estimates],
            "n": int(self.n),
            "n_bootstrap": int(self.n_bootstrap),
            "seed": int(self.seed),
            "confidence": float(self.confidence),
        }


#: Cells (resamples x the scorer's work per resample) one pass may hold, shared by the workers:
#: ~32 MB per int64 array (a survival pass holds about five).
CHUNK_CELLS = 1 << 22


def chunk_rows_for(n: int, work: int | None = None, preferred: int | None = None) -> int:
    """Resamples per vectorised pass: ``preferred`` (the scorer's ``block_rows``), else 16-32
    (measured fastest for numpy at n = 1,000 and 20,000 here); fewer when one resample's arrays
    (``work`` cells, default ``n``) would not fit ``CHUNK_CELLS``."""
    rows = preferred or max(16, min(32, (1 << 19) // max(n, 1)))
    return max(1, min(rows, CHUNK_CELLS // _workers() // max(work or n, 1)))


def _workers() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def paired_bootstrap(
    scorer: Scorer,
    candidate: Any,
    baseline: Any | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    indices: Any | None = None,
    chunk_rows: int | None = None,
) -> BootstrapResult:
    """Point estimates, percentile CIs and paired-difference CIs for every metric of ``scorer``.

    ``candidate`` / ``baseline`` are score arrays aligned with the scorer's rows: one value per row,
    or one row of an ``(n, k)`` matrix per row (multi-class probabilities). ``indices``
    overrides the resample matrix (default: ``draw_indices(n, n_bootstrap, seed)``).
    """
    import numpy as np

    def rows_of(scores: Any) -> Any:
        arr = np.asarray(scores, dtype=float)
        return arr if arr.ndim == 2 and arr.shape[1] > 1 else arr.reshape(-1)

    cand = rows_of(candidate)
    n = cand.shape[0]
    models = [cand]
    if baseline is not None:
        base = rows_of(baseline)
        if base.shape[0] != n or base.ndim != cand.ndim:
            raise ValueError(
                f"baseline scores {base.shape} and candidate scores {cand.shape} differ in length or shape"
            )
        models.append(base)
    plans = [scorer.prepare(m) for m in models]
    point = scorer.evaluate(plans, np.ones((1, n), dtype=np.int32))
    work = scorer.work_per_resample(plans) if hasattr(scorer, "work_per_resample") else n
    step = chunk_rows or chunk_rows_for(n, work, getattr(scorer, "block_rows", None))
    if indices is None:
        rows, blocks = n_bootstrap, index_chunks(n, n_bootstrap, seed, step)
    else:
        idx = np.atleast_2d(np.asarray(indices))
        rows, blocks = idx.shape[0], (idx[s : s + step] for s in range(0, idx.shape[0], step))
    samples = {name: [np.empty(rows) for _ in models] for name in scorer.metrics}

    by_indices = getattr(scorer, "evaluate_indices", None)

    def score(block: Any) -> list[dict[str, Any]]:
        if by_indices is not None:  # the scorer counts the draws itself (survival's compiled kernels)
            return by_indices(plans, block)
        return scorer.evaluate(plans, weights_from_indices(block, n))

    def keep(start: int, size: int, values: list[dict[str, Any]]) -> None:
        for m, per_model in enumerate(values):
            for name in scorer.metrics:
                samples[name][m][start : start + size] = per_model[name]

    # Blocks are drawn in order (one RNG stream) and scored on threads (numpy's take / cumsum /
    # bincount release the GIL); each block's values land in its own rows: the order of finishing
    # does not matter. At most one block per worker is held beyond the one being drawn.
    workers = _workers() if rows > step else 1
    start = 0
    if workers == 1:
        for block in blocks:
            keep(start, block.shape[0], score(block))
            start += block.shape[0]
    else:
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[Any] = deque()
            for block in blocks:
                pending.append((start, block.shape[0], pool.submit(score, block)))
                start += block.shape[0]
                while len(pending) > workers:
                    first, size, future = pending.popleft()
                    keep(first, size, future.result())
            for first, size, future in pending:
                keep(first, size, future.result())
    estimates = []
    for name in scorer.metrics:
        c_samples = samples[name][0]
        c_point = _plain(point[0][name][0])
        if baseline is None:
            estimates.append(
                MetricEstimate(
                    name=name,
                    candidate=c_point,
                    candidate_ci=percentile_interval(c_samples, confidence),
                    n_valid=int(np.isfinite(c_samples).sum()),
                )
            )
            continue
        b_samples = samples[name][1]
        b_point = _plain(point[1][name][0])
        diff = c_samples - b_samples
        estimates.append(
            MetricEstimate(
                name=name,
                candidate=c_point,
                candidate_ci=percentile_interval(c_samples, confidence),
                baseline=b_point,
                baseline_ci=percentile_interval(b_samples, confidence),
                delta=None if c_point is None or b_point is None else c_point - b_point,
                delta_ci=percentile_interval(diff, confidence),
                n_valid=int(np.isfinite(diff).sum()),
            )
        )
    return BootstrapResult(
        estimates=tuple(estimates),
        n=n,
        n_bootstrap=rows,
        seed=seed,
        confidence=confidence,
        samples={name: (arrs[0], arrs[1] if len(arrs) > 1 else None) for name, arrs in samples.items()},
    )
