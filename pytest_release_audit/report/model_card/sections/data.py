# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Overview, Training Data and Lineage: what the model is and what it was made from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pytest_release_audit.handle.model import EVALUATION_CONTEXTS, TRAINING_CONTEXTS
from pytest_release_audit.report.contracts import (
    DataIntegrityEvidence,
    DatasetFacts,
    IntegrityDataset,
    LineageEvidence,
    PerformanceEvidence,
    PiiEvidence,
    evidence_of,
)
from pytest_release_audit.report.format import as_number, count
from pytest_release_audit.report.model_card.common import INFERRED_TASKS, NOT_RECORDED, NOT_RUN, not_run_text, text_of

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.report.model import AuditResult, CheckResult


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def context(self) -> str | None: ...


N = TypeVar("N", bound=_Named)


def _match(records: Sequence[N], name: str, context: str | None) -> N | None:
    """The record about dataset ``name`` logged with ``context`` (a record without context matches any)."""
    return next((r for r in records if r.name == name and r.context in (None, context)), None)


def overview(handle: ModelHandle | None, result: AuditResult | None, policy: Mapping[str, Any]) -> list[dict]:
    """The Overview rows: name, version, task, modality, architecture (policy, then tags)."""
    ref = handle.ref if handle is not None else (result.model if result is not None else None)
    name = ref.name if ref else ""
    version = ref.version if ref else ""
    if version and ref is not None and ref.alias:
        version = f"{version} (@{ref.alias})"

    def pick(key: str, *tag_keys: str) -> str:
        found = text_of(policy.get(key))
        if not found and handle is not None:
            found = next((tag for tag in (text_of(handle.tag(k)) for k in tag_keys) if tag), "")
        return found or NOT_RECORDED

    task = pick("task", "task")
    if task == NOT_RECORDED and result is not None:
        # Nothing recorded: the kind the audit inferred from the data, labelled as inferred.
        gate = evidence_of(result.check("performance_gate"), PerformanceEvidence)
        if gate is not None and gate.task in INFERRED_TASKS:
            task = INFERRED_TASKS[gate.task]
            if gate.task_source:  # the MLflow record the audit read it from (task.infer_task)
                task = task.replace("(inferred from the data)", f"(inferred from {gate.task_source})")
    if task == NOT_RECORDED and handle is not None:
        from pytest_release_audit.task import recorded_task_title

        task = recorded_task_title(handle) or NOT_RECORDED  # autolog's estimator_class, metric names
    return [
        {"field": "Model Name", "value": name or NOT_RECORDED},
        {"field": "Version", "value": version or NOT_RECORDED},
        {"field": "Task", "value": task},
        {"field": "Modality", "value": pick("modality", "modality")},
        # mlflow autolog records the estimator class as a run tag: an honest architecture fallback.
        {"field": "Architecture", "value": pick("architecture", "architecture", "estimator_class")},
    ]


def _pii_status(name: str, context: str | None, pii: CheckResult | None, claim: str) -> str:
    claim_note = f" (claimed: {claim})" if claim else ""
    evidence = evidence_of(pii, PiiEvidence)
    if pii is None or evidence is None:
        return f"{NOT_RUN}{claim_note}"
    if not evidence.datasets and not evidence.status:
        ran = evidence.ran is not False
        return f"❌ scan error{claim_note}" if ran and pii.outcome == "error" else f"{NOT_RUN}{claim_note}"
    scan = _match(evidence.datasets, name, context)
    if scan is None:
        return f"❌ scan error{claim_note}" if pii.outcome == "error" else f"⚠️ not scanned{claim_note}"
    if scan.findings is None:
        return f"⚠️ scanned, findings not recorded{claim_note}"
    if scan.findings == 0:
        return f"✅ No PII found{claim_note}"
    return f"❌ PII found ({scan.findings} findings){claim_note}"


def _date_range(dates: Sequence[str] | None) -> str:
    if dates is None or len(dates) != 2 or not all(dates):
        return NOT_RECORDED
    # Timestamps from pandas (2018-01-03T00:00:00) read better as dates.
    start, end = (str(d).split("T")[0] for d in dates)
    return f"{start} – {end}"


def _role(context: str | None) -> str:
    lowered = (context or "").lower()
    if lowered in EVALUATION_CONTEXTS:
        return "evaluation"
    return "training" if lowered in TRAINING_CONTEXTS else "other"


@dataclass(frozen=True)
class _Dataset:
    name: str
    context: str | None
    tags: Mapping[str, str]


def _datasets(handle: ModelHandle | None, lineage: LineageEvidence, integrity: DataIntegrityEvidence) -> list[_Dataset]:
    """What the run logged (handle), plus datasets only the lineage / integrity evidence names."""
    found = [_Dataset(r.name, r.context, dict(r.tags)) for r in (handle.run.inputs if handle and handle.run else ())]
    known = {(d.name, d.context) for d in found}
    named: list[DatasetFacts | IntegrityDataset] = [*lineage.datasets, *integrity.datasets]
    for item in named:
        if item.name and (item.name, item.context) not in known and (item.name, None) not in known:
            found.append(_Dataset(item.name, item.context, {}))
            known.add((item.name, item.context))
    return found


def training_data(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    """The Training Data table (patients, dates, PII status), evaluation / upstream data, data products."""
    pii_check = checks.get("pii")
    lineage = evidence_of(checks.get("lineage"), LineageEvidence) or LineageEvidence()
    integrity = evidence_of(checks.get("data_integrity"), DataIntegrityEvidence) or DataIntegrityEvidence()
    pii = evidence_of(pii_check, PiiEvidence) or PiiEvidence()
    datasets = _datasets(handle, lineage, integrity)
    # The table lists the datasets the model was fitted on; when none is logged with a training
    # context, every non-evaluation dataset is shown rather than none.
    has_training = any(_role(ds.context) == "training" for ds in datasets)
    rows: list[dict[str, str]] = []
    evaluation: list[str] = []
    upstream: list[str] = []
    products: dict[str, list[str]] = {}
    for ds in datasets:
        facts = _match(lineage.datasets, ds.name, ds.context)
        checked = _match(integrity.datasets, ds.name, ds.context)
        scan = _match(pii.datasets, ds.name, ds.context)
        product = text_of(facts.data_product if facts else None) or text_of(ds.tags.get("data_product"))
        if product and ds.name not in products.setdefault(product, []):
            products[product].append(ds.name)
        n_rows = next((r for r in (facts and facts.rows, checked and checked.rows, scan and scan.rows)
                       if as_number(r) is not None), None)  # fmt: skip
        rows_count = count(n_rows) if n_rows is not None else None
        role = _role(ds.context)
        if role == "evaluation" or (role == "other" and has_training):
            detail = f"{rows_count} rows" if rows_count else "rows not recorded"
            (evaluation if role == "evaluation" else upstream).append(
                f"{ds.name} ({ds.context or 'no context'}, {detail})"
            )
            continue
        patients = facts.patients if facts else None
        patients_text = count(patients) if as_number(patients) is not None else (
            NOT_RECORDED + (f" ({rows_count} rows)" if rows_count else ""))  # fmt: skip
        claim = text_of(pii.claims.get(ds.name)) or text_of(facts.pii_status if facts else None) or text_of(
            ds.tags.get("pii_status"))  # fmt: skip
        rows.append(
            {
                "dataset": ds.name,
                "patients": patients_text,
                "date_range": _date_range(facts.date_range if facts else None),
                "pii_status": _pii_status(ds.name, ds.context, pii_check, claim),
            }
        )
    note = None if rows else "Not recorded: the training run logged no training dataset (mlflow.log_input)"
    return {
        "rows": rows,
        "note": note,
        "evaluation": evaluation,
        "upstream": upstream,
        "data_products": [f"{product} (used by {', '.join(names)})" for product, names in products.items()],
    }


def _dvc_text(evidence: LineageEvidence) -> str | None:
    """One line for the DVC pipeline the lineage check read at the training commit, or None."""
    dvc = evidence.dvc
    if dvc is None or not dvc.graph:
        return None
    matched = sum(1 for m in dvc.datasets if m.match)
    commit = text_of(dvc.commit or "")[:12]
    stages = "; ".join(
        f"{text_of(s.name)}: {', '.join(text_of(d.path) for d in s.deps) or '-'} → "
        f"{', '.join(text_of(o.path) for o in s.outs)}" for s in dvc.stages if s.kind == "stage").replace(" -> ", " → ")
    graph = text_of(dvc.graph).replace(" -> ", " → ")
    return (f"DVC pipeline at {commit}: {graph} ({stages or 'no stages'}); {matched} of "
            f"{len(dvc.datasets)} logged files match the md5 dvc.lock records ({text_of(dvc.status)})")


def lineage(handle: ModelHandle | None, checks: Mapping[str, CheckResult]) -> dict[str, Any]:
    """The chain raw -> split -> run -> model: verified by the lineage check, else as the registry records it."""
    check = checks.get("lineage")
    evidence = evidence_of(check, LineageEvidence) or LineageEvidence()
    nodes = []
    for node in evidence.chain:
        role = text_of(node.role) or text_of(node.kind) or "step"
        context = text_of(node.context)
        if context and context.lower() not in TRAINING_CONTEXTS:
            role += f", {context}"
        if node.verified is False:
            role += ", unverified"
        nodes.append({"name": text_of(node.name) or text_of(node.id) or NOT_RECORDED, "role": role})
    if nodes and check is not None:
        summary = text_of(check.summary)
        if check.outcome == "passed":
            note = "Verified by the lineage check" + (f": {summary}" if summary else "")
        else:
            note = f"⚠️ Lineage check {check.outcome}" + (f": {summary}" if summary else "")
        return {"nodes": nodes, "note": note, "verified": check.outcome == "passed", "dvc": _dvc_text(evidence)}
    # No verified chain: the chain as the registry records it, marked unverified.
    if handle is not None:
        run = handle.run
        if run is not None:
            training = [d for d in run.inputs if not d.is_evaluation] or list(run.inputs)
            for ref in training:
                nodes.append({"name": ref.name, "role": f"Dataset, {ref.context or 'no context'}"})
            nodes.append({"name": run.run_name or run.run_id, "role": "Training Run"})
        nodes.append({"name": f"{handle.name} v{handle.version}", "role": "Final Artifact"})
    note = f"Chain as recorded in the registry, not verified; {not_run_text('lineage', check)}"
    return {"nodes": nodes, "note": note, "verified": False, "dvc": None}
