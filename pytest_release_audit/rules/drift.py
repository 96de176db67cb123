# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The drift rule: the model's inputs look the same in the evaluation (and production) data as in training.

The baseline is the training data the run logged; each other sample (the evaluation dataset, and a
production sample when there is one) is compared feature by feature (``metrics.drift``). A feature
drifts when its PSI reaches the alarm and the shift is significant after a Bonferroni correction
over the features compared; the check fails on any drifted feature. The evidence holds aggregates
only (PSI, p-values, means, shares of missing values).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import DatasetUnavailable
from pytest_release_audit.report.contracts import DriftComparison, DriftEvidence, DriftRow
from pytest_release_audit.report.format import plural
from pytest_release_audit.rules.result import SHOWN, RuleResult

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.metrics.drift import FeatureDrift

#: MLflow input contexts read as a recent production sample.
PRODUCTION_CONTEXTS = ("production", "prod", "serving", "inference")


def _status(drift: FeatureDrift, section: dict[str, Any], n_features: int) -> str:
    """``drift`` (blocks), ``shift`` (PSI at the warning level and significant), ``KS differs`` or ``stable``.

    Both tests are Bonferroni-corrected over the ``n_features`` compared: with 30 features, an
    uncorrected 1% test would flag one in four stable models.
    """
    n = max(1, n_features)
    significant = drift.psi_p_value < section["significance"] / n
    ks = drift.ks_p_value is not None and drift.ks_p_value < section["ks_alpha"] / n
    if drift.psi >= section["psi_alarm"] and significant:
        return "drift"
    if section["fail_on_ks"] and ks:
        return "drift (KS)"
    if drift.psi >= section["psi_warn"] and significant:
        return "shift"
    if ks:
        return "KS differs"
    return "stable"


def _features(section: dict[str, Any], evaluation: LoadedDataset, training: pd.DataFrame) -> tuple[list[str], str]:
    """The columns compared and where that list came from."""
    inputs = [c for c in evaluation.feature_columns if c in training.columns]
    # The policy is untrusted: its columns are compared besides the model's inputs, never instead of them.
    named = [c for c in section["columns"] if c not in inputs]
    if named:
        return inputs + named, ("the model's inputs and " if inputs else "") + "policy [drift] columns"
    return inputs, "the model's inputs"


def _missing(features: list[str], frame: pd.DataFrame, what: str) -> str:
    absent = [f for f in features if f not in frame.columns]
    if not absent:
        return ""
    shown = ", ".join(absent[:SHOWN]) + (f" (+{len(absent) - SHOWN} more)" if len(absent) > SHOWN else "")
    return f"{what} lacks {len(absent)} compared feature{'s' if len(absent) > 1 else ''}: {shown}"


def read_production_sample(path_text: str, rootdir: Path, allowed_roots: list[Path]) -> pd.DataFrame:
    """The policy's ``[drift] production_data`` file, read under the same rules as a logged dataset."""
    from pytest_release_audit.datasets import check_regular, read_frame
    from pytest_release_audit.handle.model import DatasetRef

    path = Path(path_text)
    if not path.is_absolute():
        path = rootdir / path
    ref = DatasetRef(name="production sample", digest="", source_type="local", source=str(path),
                     context="production")
    if not path.exists():
        raise DatasetUnavailable(
            f"policy key 'drift.production_data' names {path_text}, which does not exist: fix the path or remove "
            "the key"
        )
    check_regular(path, ref, [rootdir, *allowed_roots])
    return read_frame(path, ref)


def _compare(sample: str, name: str, reference: pd.DataFrame, other: pd.DataFrame, features: list[str],
             section: dict[str, Any]) -> DriftComparison:
    from pytest_release_audit.metrics.drift import as_row, frame_drift

    drifts = frame_drift(reference, other, features, section["bins"], section["max_categories"])
    rows = tuple(DriftRow.from_dict({**as_row(d), "status": _status(d, section, len(features))}) for d in drifts)
    ranked = sorted(zip(drifts, rows, strict=True), key=lambda pair: -pair[0].psi)
    drifted = tuple(r.feature for _d, r in ranked if r.status.startswith("drift"))
    return DriftComparison(sample=sample, dataset=name, rows=len(other), reference_rows=len(reference),
                           drifted=drifted, features=tuple(r for _d, r in ranked))


def _describe(comparison: DriftComparison, section: dict[str, Any]) -> str:
    rows = comparison.features
    if not rows:
        return f"{comparison.sample}: no features compared"
    top = rows[0]
    if comparison.drifted:
        worst = [r for r in rows if r.feature in comparison.drifted][:SHOWN]
        shown = ", ".join(f"{r.feature} PSI {r.psi:.2f}" for r in worst)
        more = len(comparison.drifted) - len(worst)
        features = plural(len(rows), "feature")
        return (f"{comparison.sample} vs training: {len(comparison.drifted)} of {features} drifted "
                f"({shown}{f', +{more} more' if more > 0 else ''}; alarm PSI {section['psi_alarm']:g})")
    noise = ""
    if top.psi is not None and top.psi >= section["psi_alarm"]:
        p = f", p = {top.psi_p_value:.2g}" if top.psi_p_value is not None else ""
        noise = f": above the alarm but within sampling noise at {comparison.rows:,} rows{p}"
    return (f"{comparison.sample} vs training: {plural(len(rows), 'feature')} stable, largest PSI {top.psi or 0:.2f} "
            f"({top.feature}{noise})")


def assess_drift(training: LoadedDataset, evaluation: LoadedDataset, production: list[LoadedDataset],
                 section: dict[str, Any], production_frame: tuple[str, pd.DataFrame] | None = None) -> RuleResult:
    """Training baseline vs the evaluation data and each production sample; fails on any drifted feature."""
    reference = training.df
    features, source = _features(section, evaluation, reference)
    thresholds = {"psi_alarm": section["psi_alarm"], "psi_warn": section["psi_warn"],
                  "significance": section["significance"], "ks_alpha": section["ks_alpha"],
                  "fail_on_ks": section["fail_on_ks"]}
    baseline = f"training dataset {training.name} ({len(reference):,} rows; features: {source})"
    samples: list[tuple[str, str, pd.DataFrame]] = [("evaluation", evaluation.name, evaluation.df)]
    samples += [("production", d.name, d.df) for d in production]
    if production_frame is not None:
        samples.append(("production", production_frame[0], production_frame[1]))
    problems = [p for p in (_missing(features, reference, f"training dataset {training.name}"),) if p]
    problems += [p for s, n, f in samples if (p := _missing(features, f, f"{s} dataset {n}"))]
    where = (", ".join(sorted({n for s, n, _f in samples if s == "production"})) or
             "none: log one with mlflow.log_input(dataset, context='production') or set [drift] production_data")
    evidence = DriftEvidence(baseline=baseline, thresholds=thresholds, production=where)
    if problems:
        message = "drift cannot be measured: " + "; ".join(problems) + ": log the same columns in every split"
        return RuleResult.failure(message, evidence)
    if not features and not section["columns"] and evaluation.task.problem:  # which columns are inputs is unknown
        return RuleResult.failure(f"drift cannot be measured: {evaluation.task.problem}", evidence)
    if not features:
        message = ("drift cannot be measured: no feature is both a model input and a training column: log the "
                   "frame the model reads, or name the columns in [tool.release_audit.drift] columns")
        return RuleResult.failure(message, evidence)
    comparisons = tuple(_compare(s, n, reference, f, features, section) for s, n, f in samples)
    evidence = DriftEvidence(baseline=baseline, thresholds=thresholds, comparisons=comparisons, production=where)
    parts = [_describe(c, section) for c in comparisons]
    drifted = [c for c in comparisons if c.drifted]
    if not any(c.sample == "production" for c in comparisons):
        parts.append("no production sample")
    summary = "; ".join(parts)
    if drifted:
        message = ("Drift: " + "; ".join(_describe(c, section) for c in drifted) +
                   ": not the population the model was trained on: check the split and the data pipeline, or "
                   "retrain on current data")
        return RuleResult(evidence=evidence, summary=message, passed=False, message=message)
    return RuleResult(evidence=evidence, summary=summary, passed=True)
