# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The data_validation rule: the run's Great Expectations validation result, judged.

A result is a GX 1.x ``ExpectationSuiteValidationResult`` as JSON (``result.to_json_dict()`` or a
checkpoint's run result saved with ``mlflow.log_dict``), logged as a run artifact whose path
matches the policy's ``[data_validation] artifact`` globs. It must parse, be successful, and
describe the dataset the run logged: the batch's row count (``element_count`` of column
expectations, ``observed_value`` of table row-count expectations) equals the dataset's rows, and
GX's ``pandas_data_fingerprint``, when recorded, is compared with the one recomputed from the
frame. Which dataset a result describes: the one whose name or file name the result's asset,
batch id or batch identifiers name, else whose context (training / evaluation) its artifact path
names, else the training dataset.

Failed expectations are listed by type and column with their counts; observed values are shown
only for table-level expectations (row and column counts), never a data value.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import DataValidationEvidence, FailedExpectation, ValidationResultRow
from pytest_release_audit.rules.result import SHOWN, RuleResult

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.handle.model import DatasetRef, ModelHandle

MAX_RESULT_BYTES = 64 * 1024 * 1024
#: expectation types whose observed value is a count of rows or columns, never a data value
_COUNT_TYPES = ("expect_table_row_count_to_equal", "expect_table_row_count_to_be_between",
                "expect_table_column_count_to_equal", "expect_table_column_count_to_be_between",
                "expect_table_row_count_to_equal_other_table")
_ROW_TYPES = ("expect_table_row_count_to_equal", "expect_table_row_count_to_be_between")


class ResultFormatError(ValueError):
    """An artifact that is not a GX validation result (one line)."""


def matching_artifacts(artifacts: tuple[str, ...], patterns: tuple[str, ...] | list[str]) -> list[str]:
    """Run artifact paths matching the globs: a pattern without ``/`` matches the file name in any folder."""
    found = []
    for path in artifacts:
        name = PurePosixPath(path).name
        if any(fnmatch.fnmatchcase(path if "/" in p else name, p) for p in patterns):
            found.append(path)
    return sorted(found)


def parse_result(raw: bytes, artifact: str) -> dict[str, Any]:
    """The validation result in ``raw``; ``ResultFormatError`` naming the artifact when it is not one."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ResultFormatError(f"validation result {artifact} is JSON nested too deep to be a GX result") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ResultFormatError(f"validation result {artifact} is not valid JSON{where}: log "
                                "result.to_json_dict() of a GX 1.x validation run") from None
    inner: list[Any] | None = None
    if isinstance(doc, dict) and isinstance(doc.get("run_results"), dict):  # CheckpointResult.run_results dumped
        inner = [v for v in doc["run_results"].values() if isinstance(v, dict)]
    elif isinstance(doc, dict) and isinstance(doc.get("validation_results"), list):  # CheckpointResult.describe_dict()
        inner = [v for v in doc["validation_results"] if isinstance(v, dict)]
    if inner is not None:
        if len(inner) != 1:
            raise ResultFormatError(f"validation result {artifact} is a checkpoint result with {len(inner)} "
                                    "validations: log each validation's result as its own artifact")
        doc = inner[0]
    if isinstance(doc, dict) and "results" not in doc and isinstance(doc.get("expectations"), list):
        doc = _from_description(doc)  # ExpectationSuiteValidationResult.describe_dict()
    if not isinstance(doc, dict) or not isinstance(doc.get("success"), bool) \
            or not isinstance(doc.get("results"), list):
        raise ResultFormatError(f"validation result {artifact} is not a GX validation result (no boolean 'success' "
                                "and 'results' list): log result.to_json_dict() of a GX 1.x validation run")
    for item in doc["results"]:
        config = item.get("expectation_config") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("success"), bool) or not isinstance(config, dict):
            raise ResultFormatError(f"validation result {artifact} has an expectation result without 'success' "
                                    "and 'expectation_config': log result.to_json_dict() unchanged")
    return doc


def _from_description(doc: dict[str, Any]) -> dict[str, Any]:
    """GX's ``describe_dict()`` form (``expectations: [{expectation_type, kwargs, result}]``) in the JSON form."""
    results = []
    for item in doc["expectations"]:
        if not isinstance(item, dict):
            results.append(item)
            continue
        config = {"type": item.get("expectation_type"), "kwargs": _dict(item.get("kwargs"))}
        results.append({"success": item.get("success"), "expectation_config": config,
                        "result": _dict(item.get("result"))})
    return {"success": doc.get("success"), "results": results, "statistics": _dict(doc.get("statistics")),
            "meta": {}}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _column(kwargs: dict[str, Any]) -> str | None:
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            return str(kwargs[key]) if key == "column" else f"{kwargs.get('column_A')}, {kwargs.get('column_B')}"
    listed = kwargs.get("column_list")
    if isinstance(listed, list):
        return ", ".join(str(c) for c in listed[:5])
    return None


def _facts(doc: dict[str, Any]) -> dict[str, Any]:
    """The batch a result describes: asset, batch ids, row counts, fingerprint (no data values)."""
    meta = _dict(doc.get("meta"))
    active = _dict(meta.get("active_batch_definition"))
    markers = _dict(meta.get("batch_markers"))
    identifiers = _dict(active.get("batch_identifiers"))
    rows: set[int] = set()
    batch_ids: set[str] = set()
    for item in doc["results"]:
        config = item["expectation_config"]
        kwargs = _dict(config.get("kwargs"))
        if isinstance(kwargs.get("batch_id"), str):
            batch_ids.add(kwargs["batch_id"])
        result = _dict(item.get("result"))
        if (count := _number(result.get("element_count"))) is not None:
            rows.add(count)
        if config.get("type") in _ROW_TYPES and (count := _number(result.get("observed_value"))) is not None:
            rows.add(count)
    names = {str(v) for v in (active.get("data_asset_name"), *batch_ids) if v}
    names |= {PurePosixPath(str(v)).name for v in identifiers.values() if isinstance(v, str) and not v.startswith("<")}
    return {
        "asset": active.get("data_asset_name") if isinstance(active.get("data_asset_name"), str) else None,
        "batch_ids": sorted(batch_ids),
        "names": names,
        "rows": sorted(rows),
        "fingerprint": markers.get("pandas_data_fingerprint") if isinstance(markers.get("pandas_data_fingerprint"),
                                                                              str) else None,
        "suite": doc.get("suite_name") if isinstance(doc.get("suite_name"), str) else None,
        "gx_version": meta.get("great_expectations_version") if isinstance(meta.get("great_expectations_version"),
                                                                             str) else None,
        "validation_time": meta.get("validation_time") if isinstance(meta.get("validation_time"), str) else None,
    }


def _failed(doc: dict[str, Any], artifact: str) -> list[dict[str, Any]]:
    out = []
    for item in doc["results"]:
        if item["success"]:
            continue
        config = item["expectation_config"]
        kind = str(config.get("type") or config.get("expectation_type") or "?")
        kwargs = _dict(config.get("kwargs"))
        result = _dict(item.get("result"))
        exception = _dict(item.get("exception_info"))
        observed = result.get("observed_value")
        shown = None
        if "observed_value" in result:
            shown = str(observed) if kind in _COUNT_TYPES and _number(observed) is not None else "masked"
        unexpected = result.get("unexpected_percent")
        out.append({
            "artifact": artifact, "type": kind, "column": _column(kwargs), "observed": shown,
            "unexpected_count": _number(result.get("unexpected_count")),
            "unexpected_percent": float(unexpected) if isinstance(unexpected, int | float)
            and not isinstance(unexpected, bool) else None,
            "element_count": _number(result.get("element_count")),
            "raised_exception": bool(exception.get("raised_exception")),
        })
    return out


def frame_fingerprint(data: LoadedDataset) -> str | None:
    """GX's ``pandas_data_fingerprint`` of the audited frame (md5 of pandas' row hashes, index included)."""
    import pandas as pd

    try:
        values = pd.util.hash_pandas_object(data.df, index=True).values
    except TypeError:
        return None
    return hashlib.md5(values.tobytes(), usedforsecurity=False).hexdigest()


def _rows_of(ref: DatasetRef, loaded: dict[str, LoadedDataset]) -> int | None:
    if ref.name in loaded:
        return loaded[ref.name].n_rows
    profile = ref.profile or {}
    return _number(profile.get("num_rows"))


def _dataset_for(facts: dict[str, Any], artifact: str, refs: list[DatasetRef],
                 loaded: dict[str, LoadedDataset]) -> DatasetRef | None:
    names = {n.lower() for n in facts["names"]}
    for ref in refs:
        local = loaded[ref.name].local_path if ref.name in loaded else None
        file_name = local.name if local is not None else None
        if ref.name.lower() in names or (file_name and file_name.lower() in names):
            return ref
    lowered = artifact.lower()
    for ref in refs:
        if ref.context and ref.context.lower() in lowered:
            return ref
    return next((r for r in refs if r.is_training), refs[0] if refs else None)


def judge_result(doc: dict[str, Any], artifact: str, refs: list[DatasetRef],
                 loaded: dict[str, LoadedDataset]) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """One parsed result: its row for the evidence, its failed expectations, its problems."""
    facts = _facts(doc)
    failed = _failed(doc, artifact)
    ref = _dataset_for(facts, artifact, refs, loaded)
    stats = _dict(doc.get("statistics"))
    row: dict[str, Any] = {
        "artifact": artifact, "suite": facts["suite"], "success": doc["success"],
        "evaluated": _number(stats.get("evaluated_expectations")) or len(doc["results"]),
        "failed": len(failed), "dataset": ref.name if ref else None, "context": ref.context if ref else None,
        "asset": facts["asset"], "batch_ids": tuple(facts["batch_ids"]), "result_rows": tuple(facts["rows"]),
        "dataset_rows": None, "fingerprint": None, "gx_version": facts["gx_version"],
        "validation_time": facts["validation_time"],
    }
    problems: list[str] = []
    label = f"validation result {artifact}" + (f" (suite '{facts['suite']}')" if facts["suite"] else "")
    if not doc["success"] or failed:
        listed = "; ".join(
            f"{f['type']}" + (f" on {f['column']}" if f["column"] else "")
            + (f" ({f['unexpected_count']} unexpected of {f['element_count']})" if f["unexpected_count"] is not None
               and f["element_count"] is not None else "")
            + (" (raised an exception)" if f["raised_exception"] else "")
            for f in failed[:SHOWN])
        more = f"; +{len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
        problems.append(f"{label} failed {len(failed)} of {row['evaluated']} expectations: {listed or 'none listed'}"
                        f"{more}")
    if ref is None:
        problems.append(f"{label}: the run logged no dataset to compare it with")
        return row, failed, problems
    rows = _rows_of(ref, loaded)
    row["dataset_rows"] = rows
    if not facts["rows"]:
        problems.append(f"{label} records no row count for its batch (no column or row-count expectation): it "
                        f"cannot be tied to dataset '{ref.name}'; add expect_table_row_count_to_equal")
    elif rows is None:
        problems.append(f"{label}: dataset '{ref.name}' has no row count to compare with (no file, no profile)")
    elif any(n != rows for n in facts["rows"]):
        counts = ", ".join(str(n) for n in facts["rows"])
        problems.append(f"{label} describes a batch of {counts} rows but dataset '{ref.name}' ({ref.context}) has "
                        f"{rows}: it validated other data; validate the logged dataset and log that result")
    if facts["fingerprint"] and ref.name in loaded:
        mine = frame_fingerprint(loaded[ref.name])
        row["fingerprint"] = "match" if mine == facts["fingerprint"] else "differs (dtypes as read may differ)"
    return row, failed, problems


#: The default glob (``[data_validation] artifact``'s default), applied whatever the policy lists.
DEFAULT_PATTERNS: tuple[str, ...] = ("validation*.json",)
#: JSON artifacts outside the globs inspected for a GX result (MLflow's own model files excluded).
MAX_OTHER_JSON = 200
_MLFLOW_OWN_JSON = ("input_example.json", "serving_input_example.json", "registered_model_meta",
                    "estimator.html", "metric_info.json")


def _results_among(artifacts: list[str], download: Any) -> list[tuple[str, dict[str, Any]]]:
    """The artifacts among ``artifacts`` that parse as a GX validation result (others are not ours)."""
    found = []
    for artifact in artifacts:
        if PurePosixPath(artifact).name in _MLFLOW_OWN_JSON:
            continue
        try:
            path = Path(download(artifact))
            if path.stat().st_size > MAX_RESULT_BYTES:
                continue
            found.append((artifact, parse_result(path.read_bytes(), artifact)))
        except (ResultFormatError, OSError, RecursionError):
            continue
    return found


def assess_data_validation(
    handle: ModelHandle,
    datasets: list[LoadedDataset] | None,
    section: dict[str, Any],
    target: str,
    download: Any,
) -> RuleResult:
    """Every validation result the run logged, judged; absence fails only where the policy requires one.

    ``download(artifact_path) -> Path`` fetches one run artifact (the check passes MLflow's).
    """
    run = handle.run
    patterns = tuple(section.get("artifact") or ())
    required = target in tuple(section.get("required") or ())
    every = run.artifacts if run else ()
    # The policy is untrusted: its globs add places to look, they cannot hide a result. The default
    # glob always applies, and any other JSON artifact that parses as a GX result is judged too.
    named = matching_artifacts(every, tuple(dict.fromkeys(patterns + DEFAULT_PATTERNS)))
    others = [a for a in matching_artifacts(every, ("*.json",)) if a not in named][:MAX_OTHER_JSON]
    found_elsewhere = _results_among(others, download)
    artifacts = sorted(named + [a for a, _doc in found_elsewhere])
    parsed_elsewhere = dict(found_elsewhere)
    base: dict[str, Any] = {"target": target, "required": required, "patterns": patterns}
    if not artifacts:
        if required:
            return RuleResult.failure(
                f"policy [data_validation] requires a Great Expectations validation result for {target}, but run "
                f"{handle.run_id} logged no artifact matching {', '.join(patterns)}: run the suite on the logged "
                "dataset and mlflow.log_dict(result.to_json_dict(), 'validation_result.json')",
                DataValidationEvidence(applicable=True, **base))
        return RuleResult(
            evidence=DataValidationEvidence(applicable=False, **base),
            summary=(f"not applicable: the run logged no validation result ({', '.join(patterns)}) and the policy "
                     f"does not require one for {target}"))
    refs = list(run.inputs) if run else []
    loaded = {d.name: d for d in datasets or ()}
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    problems: list[str] = []
    for artifact in artifacts:
        if artifact in parsed_elsewhere:
            row, row_failed, row_problems = judge_result(parsed_elsewhere[artifact], artifact, refs, loaded)
            rows.append(row)
            failed.extend(row_failed)
            problems.extend(row_problems)
            continue
        try:
            path = Path(download(artifact))
            if path.stat().st_size > MAX_RESULT_BYTES:
                raise ResultFormatError(f"validation result {artifact} is larger than "
                                        f"{MAX_RESULT_BYTES // (1024 * 1024)} MB: log the result, not the data")
            doc = parse_result(path.read_bytes(), artifact)
        except ResultFormatError as exc:
            problems.append(str(exc))
            rows.append({"artifact": artifact, "success": False, "error": str(exc)})
            continue
        row, row_failed, row_problems = judge_result(doc, artifact, refs, loaded)
        rows.append(row)
        failed.extend(row_failed)
        problems.extend(row_problems)
    evidence = DataValidationEvidence(
        applicable=True, **base,
        results=tuple(ValidationResultRow.of(r) for r in rows),
        failed=tuple(FailedExpectation.of(f) for f in failed[:200]),
    )
    evaluated = sum(r.get("evaluated") or 0 for r in rows)
    described = ", ".join(f"{r['dataset']} ({r['dataset_rows']} rows)" for r in rows if r.get("dataset"))
    return RuleResult(
        evidence=evidence,
        summary=f"{len(rows)} GX validation result(s), {evaluated} expectations met; batch row counts match "
                f"{described or 'the logged datasets'}",
        passed=not problems,
        message="; ".join(problems),
    )
