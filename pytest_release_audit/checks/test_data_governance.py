# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Built-in checks: pii, leakage, data_license.

Evidence never holds a raw data value: PII findings carry masked samples, leakage results masked
ids and row positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset

#: Dataset tags that claim a PII status; recorded as evidence, never trusted instead of the scan.
PII_CLAIM_TAGS = ("pii_status", "pii_scrubbed")


def _labels(datasets: list[LoadedDataset]) -> list[str]:
    """Dataset names, with the context added where two logged inputs share a name."""
    names = [d.name for d in datasets]
    return [f"{d.name} [{d.context}]" if names.count(d.name) > 1 else d.name for d in datasets]


def _metadata(audit_model, datasets) -> list[tuple[str, str]]:
    """Names and prose around the data that an output may show: (where, text)."""
    items: list[tuple[str, str]] = []
    for number, dataset in enumerate(datasets, 1):
        items.append((f"name of dataset #{number}", str(dataset.name)))
        items += [(f"a column name of dataset #{number}", str(c)) for c in dataset.df.columns]
    items += [("model description", audit_model.model_description or ""),
              ("version description", audit_model.description or "")]
    for scope, tags in (("version tag", audit_model.tags), ("model tag", audit_model.model_tags)):
        items += [(f"{scope} {key}", str(value)) for key, value in (tags or {}).items()
                  if not key.startswith(("mlflow.", "release_audit."))]
    if audit_model.run is not None:
        items.append(("run description", audit_model.run.tags.get("mlflow.note.content", "")))
        items.append(("run name", audit_model.run.run_name or ""))
    return items


@pytest.mark.compliance(
    "pii",
    title="PII scrubbed: training and evaluation data contain no PHI/PII (full presidio scan)",
    controls=["GDPR:Art.5(1)(c)", "GDPR:Art.25", "HIPAA:164.514(b)"],
)
def test_pii(audit_model, audit_datasets, audit_policy, audit_evidence):
    from pytest_release_audit.masking import register
    from pytest_release_audit.scanners.pii import (
        build_engine,
        masked_summary,
        rows_text,
        scan_dataframe,
        scan_metadata,
    )

    section = audit_policy.section("pii")
    engine = build_engine(section)
    audit_evidence.update(
        {
            "engine": engine.description,
            "detectable": list(engine.detectable),
            "undetectable": list(engine.undetectable),
            "ignored": list(engine.ignored),
            "threshold": engine.threshold,
        }
    )
    results = []
    datasets: list[dict[str, Any]] = []
    claims: dict[str, str] = {}
    for dataset, label in zip(audit_datasets, _labels(audit_datasets), strict=True):
        result = scan_dataframe(dataset.df, label, engine=engine, policy_section=section)
        results.append(result)
        claim = next((dataset.ref.tags[k] for k in PII_CLAIM_TAGS if dataset.ref.tags.get(k)), None)
        if claim is not None:
            claims[dataset.name] = str(claim)
        datasets.append(
            {
                "name": dataset.name,
                "context": dataset.context,
                "rows": dataset.n_rows,
                "columns_scanned": len(result.columns_scanned),
                "columns_skipped": dict(result.columns_skipped),
                "findings": len(result.blocking),
                "findings_not_blocking": len(result.findings) - len(result.blocking),
                "allowed": [f"{f.column}: {f.entity_type} ({rows_text(f.rows_affected)})" for f in result.allowed],
                "values_scanned": result.values_scanned,
                "values_analyzed": result.values_analyzed,
                "seconds": round(result.seconds, 3),
            }
        )
    data_flagged = {raw: masked for r in results for raw, masked in r.flagged.items()}
    meta_findings, meta_flagged = scan_metadata(_metadata(audit_model, audit_datasets), engine, data_flagged)
    for raw, masked in {**data_flagged, **meta_flagged}.items():
        register(raw, masked)  # masked in every output of this audit, wherever it appears
    audit_evidence["metadata_findings"] = [f.to_dict() for f in meta_findings]
    findings = [f for r in results for f in r.findings] + meta_findings
    blocking = [f for r in results for f in r.blocking] + meta_findings
    limit = max(int(section["max_findings"]), 0)
    audit_evidence["datasets"] = datasets
    audit_evidence["findings"] = [f.to_dict() for f in findings[:limit]]
    audit_evidence["findings_total"] = len(findings)
    audit_evidence["claims"] = claims
    audit_evidence["status"] = "pii_found" if blocking else "clean"

    scanned = sum(d["columns_scanned"] for d in datasets)
    skipped = sum(len(d["columns_skipped"]) for d in datasets)
    by_policy = sum(1 for d in datasets for reason in d["columns_skipped"].values() if "policy" in reason.lower())
    values = sum(r.values_scanned for r in results)
    person = f"PERSON by NER ({engine.ner_model})" if engine.ner_model else "PERSON by gazetteer only (no NER model)"
    audit_evidence.summary = (
        f"0 findings in {len(datasets)} datasets ({scanned} columns, {values:,} distinct values scanned in full, "
        f"{skipped} skipped: {skipped - by_policy} numeric that cannot hold identifiers, {by_policy} by policy; "
        f"{person})"
    )
    if meta_findings and not any(r.blocking for r in results):
        audit_evidence.summary = (
            f"PII in names or descriptions around the data: {masked_summary(meta_findings)}: rename the "
            "column or dataset, or edit the description or tag"
        )
    elif blocking:
        flagged = sorted({f.dataset for f in blocking if f.dataset != "metadata"})
        contradicted = [f"{name} is tagged {claims[name]!r}" for name in flagged if name in claims]
        note = f" ({'; '.join(contradicted)})" if contradicted else ""
        audit_evidence.summary = (
            f"PII found in {len(flagged)} of {len(datasets)} datasets: {masked_summary(blocking)}{note}"
        )
    assert not blocking, audit_evidence.summary


def _id_columns(policy_ids: list[str], train: LoadedDataset, evaluation: LoadedDataset) -> tuple[list[str], str]:
    """The id columns for one pair and where they came from."""
    if policy_ids:
        return list(policy_ids), "policy leakage.id_columns"
    both = set(train.df.columns) & set(evaluation.df.columns)
    task_ids = [c for c in train.task.id_columns if c in both]
    if task_ids:
        return task_ids, "task id_columns"
    if "patient_id" in both:
        return ["patient_id"], "default patient_id"
    return [], ""


def _record_columns(train: LoadedDataset, evaluation: LoadedDataset, id_columns: list[str]) -> list[str]:
    """Every shared column but the identities: a duplicate *record*, not a duplicate feature value.

    Comparing only the model's inputs would flag any low-dimensional model (one covariate such as
    age repeats across patients by nature); an identical whole record under a new id is the copy
    that contaminates an evaluation.
    """
    excluded = set(id_columns) | set(train.task.exclude_features)
    return [c for c in train.df.columns if c in set(evaluation.df.columns) and c not in excluded]


@pytest.mark.compliance(
    "leakage",
    title="Leakage verified: no train/test contamination (patient ID audit)",
    controls=["SR11-7:data-quality", "SR11-7:outcomes-analysis", "EU-AI-Act:Art.10(3)"],
)
def test_leakage(request, audit_datasets, audit_policy, audit_evidence):
    from pytest_release_audit.errors import PolicyError
    from pytest_release_audit.scanners.leakage import find_duplicate_rows, find_id_overlap

    section = audit_policy.section("leakage")
    trainings = [d for d in audit_datasets if d.ref.is_training]
    evaluations = [d for d in audit_datasets if d.ref.is_evaluation]
    if not trainings or not evaluations:
        # the fixtures raise the audit's own error naming what is missing
        trainings = [request.getfixturevalue("training_data")]
        evaluations = [request.getfixturevalue("evaluation_data")]

    pairs: list[dict[str, Any]] = []
    problems: list[str] = []
    notes: list[str] = []
    unverified: list[str] = []
    for train in trainings:
        for evaluation in evaluations:
            pair: dict[str, Any] = {"training": train.name, "evaluation": evaluation.name}
            ids, source = _id_columns(section["id_columns"], train, evaluation)
            for col in ids:
                for ds in (train, evaluation):
                    if col not in ds.df.columns:
                        raise PolicyError(
                            f"policy key 'leakage.id_columns' names {col!r}, which dataset {ds.name} "
                            f"({ds.context}) does not have: fix leakage.id_columns"
                        )
            if ids:
                overlap = find_id_overlap(train.df, evaluation.df, ids)
                pair["id_columns"] = ids
                pair["id_columns_from"] = source
                pair["id_overlap"] = [c.to_dict() for c in overlap.columns]
                for col in overlap.columns:
                    if col.shared_ids:
                        problems.append(
                            f"{col.shared_ids} {col.column} values in both {train.name} and {evaluation.name} "
                            f"({col.eval_rows} of {evaluation.n_rows} evaluation rows; e.g. "
                            f"{', '.join(col.masked_sample[:3])})"
                        )
            else:
                pair["id_columns"] = []
                pair["id_overlap"] = "no id column found: set leakage.id_columns (patient overlap not checked)"
                unverified.append(f"{train.name}/{evaluation.name}")
            if section["check_duplicate_rows"]:
                features = _record_columns(train, evaluation, ids)
                if features:
                    dupes = find_duplicate_rows(train.df, evaluation.df, features)
                    pair["duplicate_rows"] = dupes.to_dict()
                    if dupes.found and dupes.natural:
                        notes.append(
                            f"{dupes.eval_rows} of {dupes.eval_total} rows of {evaluation.name} equal a "
                            f"{train.name} record, but records also repeat within the splits "
                            f"({dupes.train_internal_duplicates} in training, {dupes.eval_internal_duplicates} "
                            "in evaluation): a property of the data, reported, not blocking"
                        )
                    elif dupes.found:
                        problems.append(
                            f"{dupes.eval_rows} of {dupes.eval_total} rows of {evaluation.name} duplicate a "
                            f"{train.name} record on all {len(features)} non-id columns"
                        )
                else:
                    pair["duplicate_rows"] = "no shared non-id columns to compare"
            else:
                pair["duplicate_rows"] = "disabled by policy (leakage.check_duplicate_rows = false)"
            pairs.append(pair)

    checked_any = any(p["id_columns"] for p in pairs) or any(isinstance(p.get("duplicate_rows"), dict) for p in pairs)
    audit_evidence["pairs"] = pairs
    audit_evidence["status"] = "leakage" if problems else ("clean" if checked_any else "not_verified")
    shared = sum(c["shared_ids"] for p in pairs for c in (p["id_overlap"] if isinstance(p["id_overlap"], list) else []))
    patients = sum(c["eval_ids"] for p in pairs for c in (p["id_overlap"] if isinstance(p["id_overlap"], list) else []))
    if not problems and not unverified:
        audit_evidence["statement"] = "Leakage Verified: patient ID audit"
    note = f"; no id column in {', '.join(unverified)}: patient overlap not checked" if unverified else ""
    duplicates = "; ".join(notes) if notes else "no duplicate records"
    audit_evidence["notes"] = notes
    audit_evidence.summary = (
        f"{shared} of {patients} evaluation ids also in training; {duplicates} across "
        f"{len(pairs)} train/evaluation pair(s){note}"
    )
    if problems:
        audit_evidence.summary = "Train/evaluation leakage: " + "; ".join(problems)
    elif not checked_any:
        audit_evidence.summary = "leakage not verifiable: no id column found and leakage.check_duplicate_rows is false"
    assert checked_any and not problems, audit_evidence.summary


@pytest.mark.compliance(
    "data_license",
    title="Every dataset carries a licence / usage tag allowed for the target",
    controls=["GDPR:Art.5(1)(b)", "GDPR:Art.6", "SR11-7:data-quality"],
)
def test_data_license(audit_model, audit_policy, audit_target, audit_evidence):
    from pytest_release_audit.scanners.data_license import judge

    section = audit_policy.section("data_license")
    keys = list(section["tag_keys"])
    allowed = list(section["allowed"].get(audit_target, []))
    refs = list(audit_model.run.inputs) if audit_model.run is not None else []
    rows: list[dict[str, Any]] = []
    problems = [] if refs else ["the model's run logged no datasets (mlflow.log_input): no licence to verify"]
    for ref in refs:
        key = next((k for k in keys if str(ref.tags.get(k, "")).strip()), None)
        value = str(ref.tags[key]).strip() if key else None
        status, reason = ("missing", f"no licence tag ({' / '.join(keys)})") if value is None else judge(
            value, audit_target, allowed)
        rows.append({"name": ref.name, "context": ref.context, "tag_key": key, "license": value, "status": status,
                     "reason": reason})
        if status in ("missing", "not_allowed", "restricted"):
            problems.append(f"{ref.name} ({ref.context}): {value!r} {reason}" if value else f"{ref.name}: {reason}")
    audit_evidence.update({"target": audit_target, "tag_keys": keys, "allowed": allowed or None, "datasets": rows})
    licences = sorted({r["license"] for r in rows if r["license"]})
    basis = "allowed by the policy" if allowed else "permissive for internal use by the built-in list"
    tagged = ", ".join(licences) or "-"
    audit_evidence.summary = f"{len(rows)} datasets tagged {tagged} ({basis}, target {audit_target})"
    if problems:
        audit_evidence.summary = "Data licence: " + "; ".join(problems)
    assert not problems, audit_evidence.summary
