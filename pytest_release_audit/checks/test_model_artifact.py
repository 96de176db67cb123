# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``model_artifact`` check: the model files are safe to load, and load in a sandboxed worker.

Every file of the candidate's and the baseline's artifacts is scanned with modelscan before any
process loads them (``handle.artifact``); a CRITICAL or HIGH finding (an unsafe pickle operator
such as ``posix.system``) blocks, and that model is never loaded. When the policy requires signed
models the OpenSSF model-signing signature is verified offline. Then the candidate is loaded in
its worker process (no credentials, no network) and the isolation it got is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_release_audit.errors import ModelLoadError
from pytest_release_audit.handle.artifact import inspect
from pytest_release_audit.handle.worker import pool

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle


@pytest.mark.compliance(
    "model_artifact",
    title="Model artifacts hold no unsafe code and load only in a sandboxed worker",
    controls=["EU-AI-Act:Art.15(5)-cybersecurity", "OWASP-ML:ML06-supply-chain", "NIST-SSDF:PS.2"],
)
def test_model_artifact(audit_model: ModelHandle, audit_baseline: ModelHandle | None, audit_evidence: Evidence) -> None:
    reports = [inspect(h) for h in (audit_model, audit_baseline) if h is not None]
    audit_evidence["models"] = [r.to_dict() for r in reports]
    problems = [f"{r.label} was not loaded: {r.refused}" for r in reports if r.refused]
    if not problems:
        try:
            audit_evidence["worker"] = pool().get(audit_model).load()
        except ModelLoadError as exc:
            problems.append(str(exc))
    files = sum(len(r.files) for r in reports)
    scanned = sum(len(r.scanned) for r in reports)
    signed = [r.label for r in reports if r.signature and r.signature.get("verified")]
    isolation = (audit_evidence.get("worker") or {}).get("isolation") or "not loaded"
    audit_evidence.summary = (
        f"{files} files of {len(reports)} model(s), {scanned} serialized files scanned by modelscan, 0 unsafe "
        f"operators; {'signatures verified: ' + ', '.join(signed) if signed else 'no signature required'}; "
        f"loaded in a worker with {isolation}"
    )
    if problems:
        audit_evidence.summary = "; ".join(problems)
    assert not problems, audit_evidence.summary
