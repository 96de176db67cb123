# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model_artifact rule: the model files are safe to load, and load in a sandboxed worker.

Every file of the candidate's and the baseline's artifacts is scanned with modelscan before any
process loads them (``handle.artifact``); a CRITICAL or HIGH finding (an unsafe pickle operator
such as ``posix.system``) blocks, and that model is never loaded. When the policy requires signed
models the OpenSSF model-signing signature is verified offline. Then the candidate is loaded in
its worker process (no credentials, no network) and the isolation it got is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_release_audit.errors import ModelLoadError
from pytest_release_audit.handle.artifact import inspect
from pytest_release_audit.handle.worker import pool
from pytest_release_audit.report.contracts import ArtifactScan, ModelArtifactEvidence, WorkerLoad
from pytest_release_audit.rules.result import RuleResult, kept_on_error

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.artifact import ArtifactReport
    from pytest_release_audit.handle.model import ModelHandle


def _summary(reports: list[ArtifactReport], worker: WorkerLoad | None) -> str:
    """Files and models scanned, signatures verified, the worker's isolation."""
    files = sum(len(r.files) for r in reports)
    scanned = sum(len(r.scanned) for r in reports)
    signed = [r.label for r in reports if r.signature and r.signature.get("verified")]
    isolation = (worker.isolation if worker else "") or "not loaded"
    return (
        f"{files} files of {len(reports)} model(s), {scanned} serialized files scanned by modelscan, 0 unsafe "
        f"operators; {'signatures verified: ' + ', '.join(signed) if signed else 'no signature required'}; "
        f"loaded in a worker with {isolation}"
    )


def assess_artifact(
    candidate: ModelHandle, baseline: ModelHandle | None, *, sink: Evidence | None = None
) -> RuleResult:
    """Scan both models' files; load the candidate in its worker only when nothing unsafe was found.

    When loading raises, the scans are recorded into ``sink`` (the check's evidence) first.
    """
    reports = [inspect(h) for h in (candidate, baseline) if h is not None]
    models = tuple(ArtifactScan.of(r.to_dict()) for r in reports)
    problems = [f"{r.label} was not loaded: {r.refused}" for r in reports if r.refused]
    worker = None
    if not problems:
        try:
            with kept_on_error(sink, ModelArtifactEvidence(models=models)):
                info = pool().get(candidate).load()
                # classes_ come from the model (untrusted, could hold values): not evidence here
                worker = WorkerLoad.of({k: info[k] for k in ("flavor", "methods", "isolation", "seconds") if k in info})
        except ModelLoadError as exc:
            problems.append(str(exc))
    evidence = ModelArtifactEvidence(models=models, worker=worker)
    summary = "; ".join(problems) if problems else _summary(reports, worker)
    return RuleResult(evidence=evidence, summary=summary, passed=not problems, message=summary)
