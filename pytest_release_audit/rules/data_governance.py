# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The pii and data_license rules: what the data holds and under which licence it may be used.

Evidence never holds a raw data value: PII findings carry masked samples. Every value the scan
flags is registered with ``masking``, so it is masked in every output of the audit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import DataLicenseEvidence, LicenseRow, PiiDatasetScan, PiiEvidence
from pytest_release_audit.report.contracts import PiiFinding as FindingRecord
from pytest_release_audit.report.format import plural
from pytest_release_audit.rules.result import RuleResult, kept_on_error

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.scanners.pii import PiiEngine, PiiFinding, PiiScanResult

#: Dataset tags that claim a PII status; recorded as evidence, never trusted instead of the scan.
PII_CLAIM_TAGS = ("pii_status", "pii_scrubbed")
#: licence verdicts (``scanners.data_license.judge``) that block the release
BLOCKING_LICENCE_STATUSES = ("missing", "not_allowed", "restricted")


def _labels(datasets: list[LoadedDataset]) -> list[str]:
    """Dataset names, with the context added where two logged inputs share a name."""
    names = [d.name for d in datasets]
    return [f"{d.name} [{d.context}]" if names.count(d.name) > 1 else d.name for d in datasets]


def _metadata(handle: ModelHandle, datasets: list[LoadedDataset]) -> list[tuple[str, str]]:
    """Names and prose around the data that an output may show: (where, text)."""
    items: list[tuple[str, str]] = []
    for number, dataset in enumerate(datasets, 1):
        items.append((f"name of dataset #{number}", str(dataset.name)))
        items += [(f"a column name of dataset #{number}", str(c)) for c in dataset.df.columns]
    items += [("model description", handle.model_description or ""),
              ("version description", handle.description or "")]
    for scope, tags in (("version tag", handle.tags), ("model tag", handle.model_tags)):
        items += [(f"{scope} {key}", str(value)) for key, value in (tags or {}).items()
                  if not key.startswith(("mlflow.", "release_audit."))]
    if handle.run is not None:
        items.append(("run description", handle.run.tags.get("mlflow.note.content", "")))
        items.append(("run name", handle.run.run_name or ""))
        items += [(f"run tag {key}", str(value)) for key, value in (handle.run.tags or {}).items()
                  if not key.startswith(("mlflow.", "release_audit."))]
        items += [(f"run param {key}", str(value)) for key, value in (handle.run.params or {}).items()]
    return items


def _engine_facts(engine: PiiEngine, require_ner: bool = False) -> PiiEvidence:
    """What the analyzer can and cannot detect, and its score threshold (the evidence before any scan)."""
    return PiiEvidence(
        engine=engine.description,
        ner_model=f"{engine.ner_model} {engine.ner_version}".strip() if engine.ner_model else None,
        ner_choice=engine.ner_choice,
        require_ner=require_ner,
        detectable=tuple(engine.detectable),
        undetectable=tuple(engine.undetectable),
        ignored=tuple(engine.ignored),
        threshold=engine.threshold,
    )


def _dataset_row(dataset: LoadedDataset, result: PiiScanResult) -> PiiDatasetScan:
    """The scan of one dataset as evidence: counts and allowed findings, no values."""
    from pytest_release_audit.scanners.pii import rows_text

    return PiiDatasetScan(
        name=dataset.name,
        context=dataset.context,
        rows=dataset.n_rows,
        columns_scanned=len(result.columns_scanned),
        columns_skipped=dict(result.columns_skipped),
        findings=len(result.blocking),
        findings_not_blocking=len(result.findings) - len(result.blocking),
        allowed=tuple(f"{f.column}: {f.entity_type} ({rows_text(f.rows_affected)})" for f in result.allowed),
        values_scanned=result.values_scanned,
        values_analyzed=result.values_analyzed,
        ner_columns=tuple(result.ner_columns),
        seconds=round(result.seconds, 3),
    )


def _claims(datasets: list[LoadedDataset]) -> dict[str, str]:
    """The PII status each dataset's tags claim, by dataset name."""
    claims: dict[str, str] = {}
    for dataset in datasets:
        claim = next((dataset.ref.tags[k] for k in PII_CLAIM_TAGS if dataset.ref.tags.get(k)), None)
        if claim is not None:
            claims[dataset.name] = str(claim)
    return claims


def _pii_summary(
    engine: PiiEngine, rows: list[PiiDatasetScan], results: list[PiiScanResult],
    meta_findings: list[PiiFinding], claims: dict[str, str],
) -> str:
    """Clean: what was scanned and skipped; else where PII was found (masked) and what contradicts it."""
    from pytest_release_audit.scanners.pii import masked_summary

    blocking = [f for r in results for f in r.blocking] + meta_findings
    if meta_findings and not any(r.blocking for r in results):
        return (
            f"PII in names or descriptions around the data: {masked_summary(meta_findings)}: rename the "
            "column or dataset, or edit the description or tag"
        )
    if blocking:
        flagged = sorted({f.dataset for f in blocking if f.dataset != "metadata"})
        contradicted = [f"{name} is tagged {claims[name]!r}" for name in flagged if name in claims]
        note = f" ({'; '.join(contradicted)})" if contradicted else ""
        return f"PII found in {len(flagged)} of {len(rows)} datasets: {masked_summary(blocking)}{note}"
    scanned = sum(d.columns_scanned or 0 for d in rows)
    skipped = sum(len(d.columns_skipped) for d in rows)
    by_policy = sum(1 for d in rows for reason in d.columns_skipped.values() if "policy" in reason.lower())
    values = sum(r.values_scanned for r in results)
    ner_columns = sum(len(d.ner_columns) for d in rows)
    sees = (f"{engine.short}, NER read {plural(ner_columns, 'free-text column')}" if engine.ner_model else
            f"{engine.short}: names outside the list and places are not detectable")
    return (
        f"0 findings in {len(rows)} datasets ({scanned} columns, {values:,} distinct values scanned in full, "
        f"{skipped} skipped: {skipped - by_policy} numeric that cannot hold identifiers, {by_policy} by policy; "
        f"{sees})"
    )


def assess_pii(
    handle: ModelHandle, datasets: list[LoadedDataset], section: dict[str, Any], *, sink: Evidence | None = None
) -> RuleResult:
    """A full presidio scan of every dataset and of the names and prose around them.

    When a scan raises, the engine's facts are recorded into ``sink`` (the check's evidence) first.
    """
    from pytest_release_audit.masking import register
    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe, scan_metadata

    engine = build_engine(section)
    require_ner = bool(section.get("require_ner"))
    with kept_on_error(sink, _engine_facts(engine, require_ner)):
        items = _metadata(handle, datasets)
        # The Spark engine scans on the executors; a raw value never comes back, only where a flagged
        # value occurs in these texts (the driver's own strings) and its mask.
        texts = sorted({t for _, t in items if isinstance(t, str) and t.strip()})
        results = []
        spark_flagged: dict[str, str] = {}
        for dataset, label in zip(datasets, _labels(datasets), strict=True):
            if dataset.spark is not None:
                result, in_texts = dataset.spark.engine.scan_pii(dataset, label, engine, section, texts)
                spark_flagged.update(in_texts)
            else:
                result = scan_dataframe(dataset.df, label, engine=engine, policy_section=section)
            results.append(result)
        rows = [_dataset_row(dataset, result) for dataset, result in zip(datasets, results, strict=True)]
        data_flagged = {raw: masked for r in results for raw, masked in r.flagged.items()}
        data_flagged.update({raw: masked for raw, masked in spark_flagged.items() if raw not in data_flagged})
        meta_findings, meta_flagged = scan_metadata(items, engine, data_flagged)
    for raw, masked in {**data_flagged, **meta_flagged}.items():
        register(raw, masked)  # masked in every output of this audit, wherever it appears
    findings = [f for r in results for f in r.findings] + meta_findings
    blocking = [f for r in results for f in r.blocking] + meta_findings
    claims = _claims(datasets)
    summary = _pii_summary(engine, rows, results, meta_findings, claims)
    no_ner = require_ner and engine.ner_model is None
    evidence = replace(
        _engine_facts(engine, require_ner),
        metadata_findings=tuple(FindingRecord.of(f.to_dict()) for f in meta_findings),
        datasets=tuple(rows),
        findings=tuple(FindingRecord.of(f.to_dict()) for f in findings[: max(int(section["max_findings"]), 0)]),
        findings_total=len(findings),
        claims=claims,
        status="pii_found" if blocking else "clean",
    )
    if no_ner:
        from pytest_release_audit.scanners.pii.engine import ner_install_line

        found = f"{len(blocking)} findings" if blocking else "no findings"
        summary = (f"NER required (pii.require_ner) but no spaCy pipeline is loadable ({found} by {engine.short}: "
                   f"names outside the list and places are not detectable): {ner_install_line()}")
    return RuleResult(evidence=evidence, summary=summary, passed=not (blocking or no_ner), message=summary)


def _licence_row(ref: Any, keys: list[str], target: str, allowed: list[str]) -> LicenseRow:
    """One dataset's licence tag and how it is judged for ``target``."""
    from pytest_release_audit.scanners.data_license import judge

    key = next((k for k in keys if str(ref.tags.get(k, "")).strip()), None)
    value = str(ref.tags[key]).strip() if key else None
    status, reason = ("missing", f"no licence tag ({' / '.join(keys)})") if value is None else judge(
        value, target, allowed)
    return LicenseRow(name=ref.name, context=ref.context, tag_key=key, license=value, status=status, reason=reason)


def _licence_problems(rows: list[LicenseRow], keys: list[str]) -> list[str]:
    """One line per refused licence, one for all the datasets without a tag (with the call that adds it)."""
    problems = [f"{r.name} ({r.context}): {r.license!r} {r.reason}"
                for r in rows if r.license and r.status in BLOCKING_LICENCE_STATUSES]
    untagged = [r for r in rows if not r.license and r.status in BLOCKING_LICENCE_STATUSES]
    if untagged:
        names = ", ".join(f"{r.name} ({r.context or 'no context'})" for r in untagged)
        key = keys[0] if keys else "license"
        problems.append(
            f"{names}: {untagged[0].reason}; log {'it' if len(untagged) == 1 else 'each'} with its licence: "
            f"mlflow.log_input(dataset, context=..., tags={{{key!r}: '<SPDX id>'}})"
        )
    return problems


def assess_data_license(handle: ModelHandle, section: dict[str, Any], target: str) -> RuleResult:
    """Every dataset the run logged carries a licence / usage tag allowed for ``target``."""
    keys = list(section["tag_keys"])
    allowed = list(section["allowed"].get(target, []))
    refs = list(handle.run.inputs) if handle.run is not None else []
    rows = [_licence_row(ref, keys, target, allowed) for ref in refs]
    problems = [] if refs else ["the model's run logged no datasets (mlflow.log_input): no licence to verify"]
    problems += _licence_problems(rows, keys)
    licences = sorted({r.license for r in rows if r.license})
    basis = "allowed by the policy" if allowed else "permissive for internal use by the built-in list"
    summary = f"{len(rows)} datasets tagged {', '.join(licences) or '-'} ({basis}, target {target})"
    if problems:
        summary = "Data licence: " + "; ".join(problems)
    return RuleResult(
        evidence=DataLicenseEvidence(
            target=target, tag_keys=tuple(keys), allowed=tuple(allowed) or None, datasets=tuple(rows)
        ),
        summary=summary,
        passed=not problems,
        message=summary,
    )
