# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The lineage, data_integrity, evaluation_artifacts and signature rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_release_audit.data import LoadedDataset
from pytest_release_audit.digests import (
    FILE_DIGEST_TAGS,
    FRAME_DIGEST_TAG,
    frame_sha256,
)
from pytest_release_audit.handle.model import DatasetRef, ModelHandle
from pytest_release_audit.report.contracts import (
    ChainNode,
    DataIntegrityEvidence,
    DatasetFacts,
    EvaluationArtifactsEvidence,
    IntegrityDataset,
    LineageEvidence,
    SignatureEvidence,
)
from pytest_release_audit.report.format import plural
from pytest_release_audit.rules.result import RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.scanners.source import SourceCommit

#: Why a file that was not edited may still not reproduce the logged MLflow digest, and the fix.
DIGEST_CAUSE = (
    "if the file was not edited, the index is why (a train_test_split frame's shuffled index is in MLflow's "
    "digest, not in a CSV written with index=False): log from_pandas(df.reset_index(drop=True), source=PATH) "
    "or tag the file's sha256 (mlflow.log_input(..., tags={'data_sha256': ...}))"
)
DATE_HINTS = ("date", "_dt", "time_of", "admission", "diagnos")
UPSTREAM_TAGS = ("derived_from", "upstream", "source_dataset")
#: the note that says a dataset was read by the Spark engine (the only note the engines do not share)
SPARK_NOTE = "read by Spark ([engine] data = \"spark\")"
#: the lineage summary's stages, in order
STAGES = ("Raw", "Pinned Split", "Training Run", "Final Artifact")


def _short(digest: str | None) -> str:
    return (digest or "")[:12] + ("…" if digest and len(digest) > 12 else "")


def _date_range(data: LoadedDataset) -> list[str] | None:
    import pandas as pd

    for col in data.df.columns:
        name = str(col).lower()
        if not any(h in name for h in DATE_HINTS) or name in (data.task.duration_col or "",):
            continue
        series = data.df[col]
        if pd.api.types.is_numeric_dtype(series):
            continue
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
        if parsed.notna().mean() < 0.8:
            continue
        return [parsed.min().date().isoformat(), parsed.max().date().isoformat()]
    return None


def recorded_facts(ref: DatasetRef) -> dict[str, Any]:
    """What the registry records of one logged dataset (no data read): name, source, tags, digest."""
    tags = ref.tags
    return {
        "name": ref.name,
        "context": ref.context,
        "source": ref.source,
        "data_product": tags.get("data_product"),
        "license": tags.get("license") or tags.get("data_license") or tags.get("usage"),
        "pii_status": tags.get("pii_status") or tags.get("pii_scrubbed"),
        "derived_from": next((tags[t] for t in UPSTREAM_TAGS if tags.get(t)), None),
        "digest": ref.digest,
    }


def dataset_facts(data: LoadedDataset) -> dict[str, Any]:
    """Plain facts about one dataset for lineage evidence and the model card (no data values)."""
    if data.spark is not None:  # counted on the executors (engines.spark)
        patients, dates = data.spark.engine.facts(data)
    else:
        ids = data.ids
        patients, dates = (int(ids.nunique()) if ids is not None else None), _date_range(data)
    return {
        **recorded_facts(data.ref),
        "rows": data.n_rows,
        "columns": len(data.df.columns),
        "patients": patients,
        "date_range": dates,
        "file_sha256": data.file_sha256,
    }


def lineage_chain(
    handle: ModelHandle, datasets: list[DatasetRef], extra_edges: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The recorded chain raw -> split -> run -> model and the problems that break it.

    ``datasets`` are the run's logged inputs: the chain is what the registry records (whether
    each file still matches is ``data_integrity``'s question).
    """
    problems: list[str] = []
    run = handle.run
    chain: list[dict[str, Any]] = []
    if run is None:
        return chain, [f"{handle.name} v{handle.version} has no source run"]
    upstream: list[str] = []
    for data in datasets:
        for tag in UPSTREAM_TAGS:
            value = data.tags.get(tag)
            if value and value not in upstream:
                upstream.append(value)
    for edge in extra_edges:
        name = str(edge.get("from") or "")
        if name and name not in upstream:
            upstream.append(name)
    raw_inputs = [d for d in datasets if (d.context or "").lower() in ("raw", "source", "upstream")]
    for data in raw_inputs:
        if data.name not in upstream:
            upstream.append(data.name)
    for name in upstream:
        logged = next((d for d in raw_inputs if d.name == name), None)
        chain.append({"kind": "dataset", "name": name, "role": "Raw",
                      "digest": logged.digest if logged else None, "verified": logged is not None})
    training = [d for d in datasets if d.is_training]
    evaluation = [d for d in datasets if d.is_evaluation]
    for data in training + evaluation:
        chain.append({"kind": "dataset", "name": data.name, "role": "Pinned Split", "context": data.context,
                      "digest": data.digest, "verified": True})
    chain.append({"kind": "run", "name": run.run_name or run.run_id, "id": run.run_id, "role": "Training Run",
                  "status": run.status, "git_commit": run.git_commit, "verified": True})
    chain.append({"kind": "model", "name": f"{handle.name} v{handle.version}", "role": "Final Artifact",
                  "uri": handle.uri, "source": handle.source, "verified": True})
    if not training:
        problems.append("the run logged no training dataset (mlflow.log_input(..., context='training'))")
    if not evaluation:
        problems.append("the run logged no evaluation dataset (mlflow.log_input(..., context='evaluation'))")
    for data in datasets:
        if not data.source:
            problems.append(f"dataset '{data.name}' has no recorded source")
        if not data.context:
            problems.append(f"dataset '{data.name}' was logged without a context (training / evaluation)")
    if run.status != "FINISHED":
        problems.append(f"source run {run.run_id} is {run.status}, not FINISHED: training did not complete")
    return chain, problems


def integrity_findings(
    handle: ModelHandle, datasets: list[LoadedDataset], section: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Recompute each dataset's digests and compare with what the run logged."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    run_tags = handle.run.tags if handle.run else {}
    for data in datasets:
        label = f"dataset '{data.name}' ({data.context or 'no context'})"
        compared: list[dict[str, Any]] = []
        notes: list[str] = []
        if data.n_rows == 0:
            problems.append(f"{label} is empty: 0 rows in {data.local_path}")
        logged_file = next((data.ref.tags[t] for t in FILE_DIGEST_TAGS if data.ref.tags.get(t)), None)
        file_ok = None
        if logged_file:
            file_ok = logged_file.strip().lower() == (data.file_sha256 or "")
            compared.append({"kind": "file_sha256", "logged": logged_file, "recomputed": data.file_sha256,
                             "match": file_ok, "covers": "every byte of the source file"})
            if not file_ok:
                problems.append(
                    f"{label} changed since training: sha256 of "
                    f"{data.local_path.name if data.local_path else 'source'} "
                    f"is {_short(data.file_sha256)} but the run logged {_short(logged_file)}"
                )
        _table_digests(data, compared, notes)
        if data.table is not None and data.table.kind == "delta" and data.table.logged_version is None \
                and not logged_file:
            problems.append(f"{label}: the run pinned neither the Delta version nor the content (read the latest, "
                            f"version {data.table.version}, which may hold rows added after training): log "
                            "from_spark(df, path=..., version=N) or tags={'data_sha256': ...}")
        logged_frame = data.ref.tags.get(FRAME_DIGEST_TAG)
        if logged_frame and data.spark is not None:
            notes.append("frame_sha256 not recomputed on the Spark engine (it hashes the whole frame in one "
                         "place); the part digests cover every byte")
        elif logged_frame:
            now = frame_sha256(data.df)
            ok = logged_frame.strip().lower() == now
            compared.append({"kind": "frame_sha256", "logged": logged_frame, "recomputed": now, "match": ok,
                             "covers": "every cell of the frame"})
            if not ok:
                problems.append(f"{label} content changed since training: frame sha256 {_short(now)} "
                                f"!= logged {_short(logged_frame)}")
        check = data.digest_check
        if check is None:  # a dataset built by a plugin or a test, not read by ``datasets``
            from pytest_release_audit.datasets import check_digest

            check = check_digest(data.ref, data.df)
        if check.kind == "spark_plan":
            notes.append(f"MLflow digest {data.ref.digest} hashes the Spark query plan (semanticHash), not the "
                         "rows: not a content digest, so not compared; the part digests are")
            _no_full_digest(data, label, logged_file, logged_frame, section, notes, problems)
            rows.append({"name": data.name, "context": data.context, "source": data.ref.source,
                         "rows": data.n_rows, "digests": compared, "notes": notes})
            continue
        compared.append({"kind": "mlflow_digest", "logged": data.ref.digest, "recomputed": check.recomputed,
                         "match": check.match,
                         "covers": ("first 10,000 array elements and the shapes (MLflow, from_numpy)"
                                    if check.kind == "numpy" else
                                    "first 10,000 rows with their index, row count, column names (MLflow)"),
                         "variant": check.variant})
        if data.mapped_by:
            notes.append(f"read from {data.local_path} as mapped by {data.mapped_by}: accepted because it "
                         "reproduces the logged MLflow digest and row count")
        if check.match and check.variant != "as read":
            notes.append(f"MLflow digest reproduced with variant '{check.variant}'")
        if check.match and check.uncovered:
            notes.append(f"columns not covered by the logged digest (the logged dataset holds only "
                         f"{len(check.columns)} columns): {', '.join(check.uncovered[:8])}")
        if not check.match:
            if file_ok:
                notes.append("MLflow's digest is not reproducible from the file (it covers the frame's index and "
                              "dtypes as logged); the full sha256 matches")
            elif logged_file:  # the full sha256 already proves the change
                problems.append(f"{label} changed since training: MLflow digest {check.recomputed} != logged "
                                f"{data.ref.digest}")
            else:
                problems.append(
                    f"{label} changed since training, or its MLflow digest cannot be reproduced "
                    f"(recomputed {check.recomputed} != logged {data.ref.digest}): {DIGEST_CAUSE}"
                )
                notes.append(DIGEST_CAUSE)
        _no_full_digest(data, label, logged_file, logged_frame, section, notes, problems)
        rows.append({"name": data.name, "context": data.context, "source": data.ref.source, "rows": data.n_rows,
                     "digests": compared, "notes": notes})
    run_digest = next((run_tags[t] for t in FILE_DIGEST_TAGS if run_tags.get(t)), None)
    if run_digest:
        files = {d.file_sha256 for d in datasets}
        ok = run_digest.strip().lower() in files
        rows.append({"name": "(run tag data_sha256)", "context": None, "source": None, "rows": None,
                     "digests": [{"kind": "run data_sha256", "logged": run_digest, "recomputed": None,
                                  "match": ok, "covers": "the source file of one logged dataset"}], "notes": []})
        if not ok:
            problems.append(
                f"run tag data_sha256 {_short(run_digest)} matches none of the {len(datasets)} logged datasets' files: "
                "the data changed since training or the tag names a file the run did not log"
            )
    return rows, problems


def _no_full_digest(data: LoadedDataset, label: str, logged_file: str | None, logged_frame: str | None,
                    section: dict[str, Any], notes: list[str], problems: list[str]) -> None:
    """The note (and, when the policy requires one, the problem) of a dataset without a full digest."""
    if logged_file or logged_frame:
        return
    what = ("edits are detectable only against the part digests recomputed now"
            if data.ref.digest and data.digest_check is not None and data.digest_check.kind == "spark_plan"
            else "edits after row 10,000 are not detectable")
    note = f"no full-content digest logged (data_sha256): {what}"
    notes.append(note)
    if section.get("require_full_digest"):
        problems.append(f"{label}: {note}; log tags={{'data_sha256': ...}} with the input")


def _table_digests(data: LoadedDataset, compared: list[dict[str, Any]], notes: list[str]) -> None:
    """A Parquet directory's part digests (in the notes) and a Delta table's pinned version."""
    table = data.table
    if table is None:
        return
    shown = ", ".join(f"{name} {_short(digest)}" for name, digest in data.parts[:4])
    more = f", … {len(data.parts) - 4} more" if len(data.parts) > 4 else ""
    notes.append(f"{plural(len(data.parts), 'Parquet part')} hashed (sha256 of each part's bytes; data_sha256 = "
                 f"sha256 over the sorted part digests {_short(data.file_sha256)}): {shown}{more}")
    if data.spark is not None:
        notes.append(f"{SPARK_NOTE} (data_integrity, pii, leakage and lineage facts computed on the executors)")
    if table.kind == "delta":
        if table.logged_version is not None:
            compared.append({"kind": "delta_version", "logged": str(table.logged_version),
                             "recomputed": str(table.version), "match": table.logged_version == table.version,
                             "covers": f"the {plural(len(table.parts), 'file')} of Delta version {table.version} "
                                       "(replayed from _delta_log)"})
        notes.extend(table.notes)


def artifact_findings(handle: ModelHandle, section: dict[str, Any]) -> tuple[EvaluationArtifactsEvidence, list[str]]:
    """Required evidence artifacts and metrics present on the source run."""
    run = handle.run
    artifacts = list(run.artifacts) if run else []
    metrics = sorted(run.metrics) if run else []
    names = {a.rsplit("/", 1)[-1] for a in artifacts} | set(artifacts)
    required = list(section.get("required") or [])
    missing = [r for r in required if r not in names]
    problems = []
    if missing:
        problems.append(f"run {handle.run_id} lacks required evidence artifacts: {', '.join(missing)}")
    if section.get("require_metrics", True) and not metrics:
        problems.append(f"run {handle.run_id} logged no metrics: log evaluation metrics with mlflow.log_metric")
    facts = EvaluationArtifactsEvidence(
        required=tuple(required), missing=tuple(missing), artifacts=tuple(artifacts[:200]), metrics=tuple(metrics)
    )
    return facts, problems


def signature_findings(
    handle: ModelHandle, evaluation: LoadedDataset, section: dict[str, Any]
) -> tuple[SignatureEvidence, list[str]]:
    """Signature and input example present; the evaluation data has every input column."""
    meta = handle.model_meta or {}
    problems: list[str] = []
    signature = meta.get("signature") or {}
    inputs = [c for c in (signature.get("inputs") or []) if isinstance(c, dict)]
    if meta.get("error"):
        problems.append(str(meta["error"]))
    elif not signature:
        problems.append(f"{handle.name} v{handle.version} was logged without a signature: pass "
                        "signature=infer_signature(X, y) or input_example= to log_model")
    if section.get("require_input_example", True) and not meta.get("input_example") and not meta.get("error"):
        problems.append(f"{handle.name} v{handle.version} was logged without an input example: pass "
                        "input_example=X.head(3) to log_model, or mlflow.sklearn.autolog(log_input_examples=True)")
    names = [str(c["name"]) for c in inputs if c.get("name")]
    missing = [n for n in names if n not in evaluation.df.columns]
    if missing:
        problems.append(f"evaluation dataset '{evaluation.name}' lacks model inputs: {', '.join(missing[:10])}")
    facts = SignatureEvidence.of({
        "inputs": [{"name": c.get("name"), "type": c.get("type"), "required": c.get("required", True)} for c in inputs],
        "outputs": signature.get("outputs"),
        "input_example": meta.get("input_example"),
        "flavors": meta.get("flavors"),
    })
    return facts, problems


def assess_lineage(
    handle: ModelHandle,
    datasets: list[LoadedDataset] | None,
    extra: list[list[dict[str, Any]] | None],
    *,
    source: SourceCommit | SourceTreeError | None = None,
    section: dict[str, Any] | None = None,
) -> RuleResult:
    """The chain data -> run -> model, with the edges plugins add (``pytest_release_audit_lineage``).

    ``datasets`` is None when the logged datasets have no file to read (autolog): the
    chain is judged on what the registry records and the facts read from data are left out.
    ``source`` is the training commit: when it holds DVC files (dvc.lock, .dvc), every logged file
    must be the output they record (``rules.dvc_lineage``).
    """
    from pytest_release_audit.rules.dvc_lineage import assess_dvc

    edges = [edge for group in extra if group for edge in group]
    refs = [d.ref for d in datasets] if datasets is not None else list(handle.run.inputs if handle.run else ())
    chain, problems = lineage_chain(handle, refs, edges)
    stages = [names for role in STAGES if (names := [s["name"] for s in chain if s["role"] == role])]
    facts = [dataset_facts(d) for d in datasets] if datasets is not None else [recorded_facts(r) for r in refs]
    summary = " -> ".join(" + ".join(names) for names in stages)
    if datasets is None:
        summary += " (the datasets have no file: rows, patients and dates not read; see data_integrity)"
    dvc = None
    if source is not None:
        dvc, dvc_problems, clause = assess_dvc(source, datasets, section or {})
        problems = [*problems, *dvc_problems]
        if clause:
            summary += f"; {clause}"
    return RuleResult(
        evidence=LineageEvidence(
            chain=tuple(ChainNode.of(node) for node in chain),
            datasets=tuple(DatasetFacts.of(f) for f in facts),
            dvc=dvc,
        ),
        summary=summary,
        passed=not problems,
        message="; ".join(problems),
    )


def assess_integrity(handle: ModelHandle, datasets: list[LoadedDataset], section: dict[str, Any]) -> RuleResult:
    """Every logged dataset's digests recomputed and compared with what the run logged."""
    rows, problems = integrity_findings(handle, datasets, section)
    compared = sum(len(r["digests"]) for r in rows)
    return RuleResult(
        evidence=DataIntegrityEvidence(datasets=tuple(IntegrityDataset.of(row) for row in rows)),
        summary=f"{len(rows)} datasets, {compared} digests recomputed and matching",
        passed=not problems,
        message="; ".join(problems),
    )


def assess_artifacts(handle: ModelHandle, section: dict[str, Any]) -> RuleResult:
    """The evaluation evidence (artifacts, metrics) the policy requires on the source run."""
    facts, problems = artifact_findings(handle, section)
    required = ", ".join(facts.required) or "none required by the policy"
    return RuleResult(
        evidence=facts,
        summary=(
            f"{plural(len(facts.required), 'required artifact')} present ({required}), "
            f"{plural(len(facts.metrics), 'metric')} logged"
        ),
        passed=not problems,
        message="; ".join(problems),
    )


def assess_signature(handle: ModelHandle, evaluation: LoadedDataset, section: dict[str, Any]) -> RuleResult:
    """A signature and input example on the model, every input present in the evaluation data."""
    facts, problems = signature_findings(handle, evaluation, section)
    return RuleResult(
        evidence=facts,
        summary=f"{len(facts.inputs)} typed inputs, input example saved",
        passed=not problems,
        message="; ".join(problems),
    )
