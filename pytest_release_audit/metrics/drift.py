# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Feature drift between a reference sample (the training data) and another (evaluation, production).

Per feature: the population stability index (PSI) over bins fixed on the reference (deciles for a
numeric feature, the most frequent values plus "other" for a categorical one, a bin of its own for
missing values), its p-value under "no drift" and, for numeric features, the two-sample
Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``).

PSI is the symmetric Kullback-Leibler divergence of the two binned distributions: the size of a
shift. Whether the shift is more than sampling noise is Pearson's chi-square test of homogeneity on
the same bins, with fewer bins when the smaller sample is small (at least ``MIN_PER_BIN`` rows per
bin): a PSI above the alarm on 40 rows is told apart from one on 40,000.

Only aggregates leave this module (PSI, p-values, means, shares of missing values): never a data
value, so a categorical feature's levels are not named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Share given to an empty bin, so that the logarithm stays finite (the value Evidently and most
#: PSI implementations use).
EPSILON = 1e-4
#: Rows of the smaller sample per numeric bin (the chi-square test's rule of thumb is 5 expected).
MIN_PER_BIN = 10


@dataclass(frozen=True)
class FeatureDrift:
    """One feature compared between the reference and another sample."""

    feature: str
    kind: str  # "numeric" | "categorical"
    bins: int
    psi: float
    psi_p_value: float
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    reference_mean: float | None = None
    other_mean: float | None = None
    reference_missing: float = 0.0
    other_missing: float = 0.0
    n_reference: int = 0
    n_other: int = 0


def _is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _numeric_bins(reference: np.ndarray, other: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``reference`` and ``other`` in the reference's quantile bins (open at both ends)."""
    import numpy as np

    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1)
    other_counts = np.bincount(np.searchsorted(edges, other, side="right"), minlength=len(edges) + 1)
    return ref_counts, other_counts


def _categorical_bins(reference: pd.Series, other: pd.Series, max_categories: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the reference's most frequent levels, then of every other level together."""
    import numpy as np

    ref_keys = reference.astype(str)
    other_keys = other.astype(str)
    top = ref_keys.value_counts().index[:max_categories]
    ref_vc, other_vc = ref_keys.value_counts(), other_keys.value_counts()
    ref_counts = [int(ref_vc.get(k, 0)) for k in top]
    other_counts = [int(other_vc.get(k, 0)) for k in top]
    ref_counts.append(int(len(ref_keys) - sum(ref_counts)))
    other_counts.append(int(len(other_keys) - sum(other_counts)))
    return np.asarray(ref_counts), np.asarray(other_counts)


def psi(ref_counts: np.ndarray, other_counts: np.ndarray) -> tuple[float, float, int]:
    """PSI of two count vectors over the same bins, the p-value of "same distribution", and the bins used.

    The p-value is Pearson's chi-square test of homogeneity on the two rows of counts
    (``scipy.stats.chi2_contingency``), which stays calibrated on small samples where the
    chi-square approximation of PSI itself (empty bins, clipped shares) does not.
    """
    import numpy as np
    from scipy.stats import chi2_contingency

    used = (ref_counts + other_counts) > 0
    ref_counts, other_counts = ref_counts[used], other_counts[used]
    n_ref, n_other = int(ref_counts.sum()), int(other_counts.sum())
    if n_ref == 0 or n_other == 0 or len(ref_counts) < 2:
        return 0.0, 1.0, int(len(ref_counts))
    expected = np.clip(ref_counts / n_ref, EPSILON, None)
    actual = np.clip(other_counts / n_other, EPSILON, None)
    value = float(np.sum((actual - expected) * np.log(actual / expected)))
    test = chi2_contingency(np.vstack([ref_counts, other_counts]), correction=False)
    return value, float(test.pvalue), int(len(ref_counts))


def _missing_bin(ref_missing: int, other_missing: int) -> tuple[list[int], list[int]]:
    return ([ref_missing], [other_missing]) if ref_missing or other_missing else ([], [])


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def feature_drift(name: str, reference: pd.Series, other: pd.Series, bins: int = 10,
                  max_categories: int = 20) -> FeatureDrift:
    """``reference`` vs ``other`` for one feature (missing values are a bin of their own)."""
    import numpy as np
    from scipy.stats import ks_2samp

    ref_na, other_na = reference.isna(), other.isna()
    n_ref, n_other = len(reference), len(other)
    extra_ref, extra_other = _missing_bin(int(ref_na.sum()), int(other_na.sum()))
    ref_values, other_values = reference[~ref_na], other[~other_na]
    ks_stat = ks_p = ref_mean = other_mean = None
    bins = max(2, min(bins, min(len(ref_values), len(other_values)) // MIN_PER_BIN))
    numeric = _is_numeric(reference) and _is_numeric(other) and ref_values.nunique() > bins
    if numeric:
        ref_arr = ref_values.to_numpy(dtype=float)
        other_arr = other_values.to_numpy(dtype=float)
        ref_counts, other_counts = _numeric_bins(ref_arr, other_arr, bins)
        if len(ref_arr) and len(other_arr):
            test = ks_2samp(ref_arr, other_arr)
            ks_stat, ks_p = float(test.statistic), float(test.pvalue)
        ref_mean, other_mean = _mean(ref_arr), _mean(other_arr)
    else:
        ref_counts, other_counts = _categorical_bins(ref_values, other_values, max_categories)
        if _is_numeric(reference) and _is_numeric(other):
            ref_mean = _mean(ref_values.to_numpy(dtype=float))
            other_mean = _mean(other_values.to_numpy(dtype=float))
    ref_all = np.concatenate([ref_counts, np.asarray(extra_ref, dtype=int)])
    other_all = np.concatenate([other_counts, np.asarray(extra_other, dtype=int)])
    value, p_value, used = psi(ref_all, other_all)
    return FeatureDrift(
        feature=name,
        kind="numeric" if numeric else "categorical",
        bins=used,
        psi=value,
        psi_p_value=p_value,
        ks_statistic=ks_stat,
        ks_p_value=ks_p,
        reference_mean=ref_mean,
        other_mean=other_mean,
        reference_missing=float(ref_na.mean()) if n_ref else 0.0,
        other_missing=float(other_na.mean()) if n_other else 0.0,
        n_reference=n_ref,
        n_other=n_other,
    )


def frame_drift(reference: pd.DataFrame, other: pd.DataFrame, features: list[str], bins: int = 10,
                max_categories: int = 20) -> list[FeatureDrift]:
    """``feature_drift`` for each of ``features`` (columns of both frames), in the given order."""
    return [feature_drift(f, reference[f], other[f], bins, max_categories) for f in features]


def as_row(drift: FeatureDrift, places: int = 4) -> dict[str, Any]:
    """The comparison as a plain-JSON row (rounded for people; the exact values are recomputable)."""

    def r(x: float | None) -> float | None:
        return None if x is None else float(f"{x:.{places}g}")

    return {
        "feature": drift.feature,
        "kind": drift.kind,
        "bins": drift.bins,
        "psi": r(drift.psi),
        "psi_p_value": r(drift.psi_p_value),
        "ks_statistic": r(drift.ks_statistic),
        "ks_p_value": r(drift.ks_p_value),
        "reference_mean": r(drift.reference_mean),
        "other_mean": r(drift.other_mean),
        "reference_missing": r(drift.reference_missing),
        "other_missing": r(drift.other_missing),
    }
