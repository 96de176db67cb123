# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""PNG evidence plots (matplotlib's object API on an Agg canvas: no pyplot, no display, no state).

Each function takes arrays / results and a path, writes one PNG and returns the path. Plots carry
counts and metric values only, never row-level identifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.metrics.subgroups import Subgroup
    from pytest_release_audit.metrics.survival_cox import CalibrationBin

_DPI = 110


def _label(text: object) -> str:
    """A model / column / value name fit for a plot: fonts have no glyph for escape codes, and
    matplotlib's warning about the missing glyph would put the raw escape on the terminal. ``$`` is
    escaped: a name like ``$\\frac{$`` must print as text, not be parsed (and fail) as mathtext.
    What the pii check flagged (a patient's name as a subgroup level) is masked (``masking``)."""
    from pytest_release_audit.masking import process_masker
    from pytest_release_audit.report.text import clean

    return clean(process_masker().text(str(text)), multiline=True).replace("$", r"\$")


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # No date in the metadata: the same inputs give the same file.
    fig.savefig(out, format="png", metadata={"Software": None})
    return out


def km_risk_groups(
    path: str | Path,
    durations: Any,
    events: Any,
    risks: Mapping[str, Any],
) -> Path:
    """Kaplan-Meier curves of high vs low predicted risk (median split), one panel per model.

    ``risks`` maps a panel title (``"candidate cl_unimodal v2"``) to that model's risk scores.
    """
    import numpy as np
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    from pytest_release_audit.metrics.survival_cox import risk_groups

    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float) != 0
    fig = _figure(5.2 * max(len(risks), 1), 4.2)
    axes = fig.subplots(1, max(len(risks), 1), squeeze=False)[0]
    for ax, (title, risk) in zip(axes, risks.items(), strict=False):
        high = risk_groups(risk)
        for mask, label, color in ((~high, "low risk", "#1f77b4"), (high, "high risk", "#d62728")):
            if not mask.any():
                continue
            kmf = KaplanMeierFitter(label=f"{label} (n={int(mask.sum())}, events={int(e[mask].sum())})")
            kmf.fit(t[mask], e[mask])
            kmf.plot_survival_function(ax=ax, ci_show=True, color=color)
        if high.any() and (~high).any():
            p = logrank_test(t[high], t[~high], e[high], e[~high]).p_value
            title = f"{title}\nlog-rank p = {p:.2g}"
        ax.set_title(_label(title), fontsize=10)
        ax.set_xlabel("time")
        ax.set_ylabel("survival probability")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def roc_curves(path: str | Path, y: Any, scores: Mapping[str, Any]) -> Path:
    """ROC curves of each model's scores (binary tasks)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.asarray(y)
    fig = _figure(5.2, 4.6)
    ax = fig.subplots()
    for title, s in scores.items():
        fpr, tpr, _ = roc_curve(labels, s)
        ax.plot(fpr, tpr, label=_label(f"{title} (AUC {roc_auc_score(labels, s):.3f})"))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC on the evaluation data", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def forest(
    path: str | Path,
    subgroups: Sequence[Subgroup],
    metric_label: str,
    overall: float | None = None,
    floor: float | None = None,
) -> Path:
    """Forest plot: each subgroup's metric with its CI; insufficient-data rows greyed out."""
    rows = list(subgroups)
    fig = _figure(6.4, 1.2 + 0.32 * max(len(rows), 1))
    ax = fig.subplots()
    ys = list(range(len(rows), 0, -1))
    names = []
    for y, sub in zip(ys, rows, strict=True):
        names.append(_label(f"{sub.column}={sub.value} (n={sub.n})"))
        if sub.metric_value is None:
            ax.text(
                0.5,
                y,
                "insufficient data",
                va="center",
                ha="center",
                fontsize=8,
                color="grey",
                transform=ax.get_yaxis_transform(),
            )
            continue
        color = {"ok": "#1f77b4", "below_floor": "#d62728"}.get(sub.status, "#999999")
        if sub.ci is not None:
            ax.plot([sub.ci[0], sub.ci[1]], [y, y], color=color, linewidth=1.6)
        ax.plot([sub.metric_value], [y], marker="s", color=color, markersize=5)
    if overall is not None:
        ax.axvline(overall, color="black", linestyle="--", linewidth=0.8, label=f"overall {overall:.3f}")
    if floor:
        ax.axvline(floor, color="#d62728", linestyle=":", linewidth=0.8, label=f"floor {floor:g}")
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_ylim(0.3, len(rows) + 0.7)
    ax.set_xlabel(metric_label)
    ax.set_title(f"{metric_label} by subgroup (grey: insufficient data)", fontsize=10)
    if overall is not None or floor:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def calibration(path: str | Path, bins: Sequence[CalibrationBin], what: str = "event rate") -> Path:
    """Predicted vs observed per risk bin, with the identity line."""
    fig = _figure(4.8, 4.4)
    ax = fig.subplots()
    pred = [b.predicted for b in bins]
    obs = [b.observed for b in bins]
    top = max([*pred, *obs, 0.05]) * 1.05
    ax.plot([0, top], [0, top], linestyle=":", color="grey")
    ax.plot(pred, obs, marker="o", linestyle="none", color="#1f77b4")  # bins are not a path
    for b in bins:
        ax.annotate(
            str(b.bin), (b.predicted, b.observed), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel(f"predicted {what}")
    ax.set_ylabel(f"observed {what}")
    ax.set_title(f"Calibration: {len(bins)} bins of predicted risk (labels: bin, 1 = lowest)", fontsize=9)
    return _save(fig, path)


def latency_histogram(single_ms: Sequence[float], batch_ms: Sequence[float], batch_size: int, slo_ms: float,
                      path: str | Path) -> Path | None:
    """Histogram of single-row (and batch) prediction latencies, p95 and the SLO marked; None without data."""
    import numpy as np

    series = [("single row", list(single_ms))]
    if batch_ms:
        series.append((f"batch of {batch_size} rows", list(batch_ms)))
    if not single_ms:
        return None
    fig = _figure(5.2 * len(series), 3.8)
    axes = fig.subplots(1, len(series), squeeze=False)[0]
    for ax, (title, values) in zip(axes, series, strict=True):
        arr = np.asarray(values, dtype=float)
        ax.hist(arr, bins=min(30, max(5, len(arr) // 2)), color="#1f77b4", alpha=0.85)
        p95 = float(np.percentile(arr, 95))
        ax.axvline(p95, color="#ff7f0e", linestyle="--", label=f"p95 {p95:,.1f} ms")
        if title == "single row" and slo_ms <= max(float(arr.max()) * 1.5, p95 * 2):
            ax.axvline(slo_ms, color="#d62728", label=f"SLO {slo_ms:g} ms")
        ax.set_title(f"{title} (n={len(arr)})", fontsize=10)
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("requests")
        ax.legend(fontsize=8)
    return _save(fig, path)
