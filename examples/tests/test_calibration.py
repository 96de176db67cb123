# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A user's own compliance check: it joins the built-in suite and lands in every report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from pytest_release_audit import Evidence, LoadedDataset, compliance

if TYPE_CHECKING:
    from pytest_release_audit.session import Scores


@compliance(
    "risk_monotonic",
    title="Predicted risk rises with tumour grade",
    controls=["SR 11-7 Conceptual Soundness"],
    severity="optional",
)
def test_risk_rises_with_grade(
    audit_evaluation_data: LoadedDataset, audit_scores: Scores, audit_evidence: Evidence
) -> None:
    data = audit_evaluation_data
    if data.task.kind != "survival" or "tumor_grade" not in data.df:
        pytest.skip("only for the cl_unimodal survival models")
    grades = data.df["tumor_grade"].to_numpy()
    means = {int(g): float(np.mean(audit_scores.candidate[grades == g])) for g in sorted(set(grades))}
    audit_evidence["mean_risk_by_grade"] = means
    audit_evidence.summary = "mean risk by grade " + ", ".join(f"{g}: {m:.2f}" for g, m in means.items())
    values = list(means.values())
    assert values == sorted(values), f"mean predicted risk is not increasing with grade: {means}"
