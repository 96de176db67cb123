# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Read a run's logged datasets from their sources (local path, file://, runs:/, mlflow-artifacts:)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pytest_release_audit.data import LoadedDataset
from pytest_release_audit.digests import DigestCheck, match_logged_digest, match_numpy_digest, numpy_spec
from pytest_release_audit.errors import DatasetUnavailable, describe_exception, redact
from pytest_release_audit.files import sha256_file, sha256_text
from pytest_release_audit.handle.model import DatasetRef, ModelHandle
from pytest_release_audit.policy.sections import TaskPolicy
from pytest_release_audit.task import feature_columns, infer_task

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
ARTIFACT_SCHEMES = ("runs", "mlflow-artifacts", "models", "s3", "gs", "wasbs", "abfss", "dbfs", "hdfs")


def _label(ref: DatasetRef) -> str:
    return f"dataset '{ref.name}' ({ref.context or 'no context'})"


def resolve_source(ref: DatasetRef, handle: ModelHandle, base_dirs: list[Path], workdir: Path,
                   allowed_roots: list[Path] | None = None) -> Path:
    """A local path holding the dataset; downloads run artifacts into ``workdir``."""
    source = (ref.source or "").strip()
    if not source:
        raise DatasetUnavailable(f"{_label(ref)} was logged without a source: log it with from_pandas(df, source=PATH)")
    parsed = urlparse(source)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        raise DatasetUnavailable(
            f"{_label(ref)} has an HTTP source ({redact(source)}): the audit fetches nothing from the internet; "
            "log the file as a run artifact (runs:/...) or a local path"
        )
    if scheme in ARTIFACT_SCHEMES:
        import mlflow

        from pytest_release_audit.network import check_artifact_uri

        refused = check_artifact_uri(source, handle.tracking_uri, f"{_label(ref)} source")
        if refused:
            raise DatasetUnavailable(refused)
        target = workdir / sha256_text(source)[:16]
        target.mkdir(parents=True, exist_ok=True)
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(target), tracking_uri=handle.tracking_uri
            )
        except Exception as exc:  # missing artifact, bad URI, unreachable store: same meaning here
            raise DatasetUnavailable(
                f"{_label(ref)} source {redact(source)} cannot be downloaded ({describe_exception(exc)}): "
                "check the run's artifacts"
            ) from None
        check_regular(Path(local), ref, None)
        return Path(local)
    if scheme == "file":
        path = Path(unquote(parsed.path))
    elif scheme and len(scheme) > 1:
        raise DatasetUnavailable(f"{_label(ref)} has an unsupported source scheme '{scheme}:' ({redact(source)})")
    else:
        path = Path(source)
    if not path.is_absolute():
        relative = path
        for base in base_dirs:
            if (base / relative).exists():
                path = base / relative
                break
        else:
            searched = ", ".join(dict.fromkeys(str(b) for b in base_dirs)) or "no directory"
            raise DatasetUnavailable(
                f"{_label(ref)} source {relative} (relative) is in none of the directories searched ({searched}): "
                "pass the training repository with --audit-source, run the audit where training ran, or map the "
                f"dataset to its file with --audit-data {ref.name}=PATH"
            )
    if not path.exists():
        raise DatasetUnavailable(
            f"{_label(ref)} source {path} does not exist: restore the file the run logged or re-run training"
        )
    check_regular(path, ref, allowed_roots)
    return path


def check_regular(path: Path, ref: DatasetRef, allowed_roots: list[Path] | None, max_bytes: int | None = None) -> None:
    """Only regular files (or a directory of them) under the allowed roots are read as data.

    A device (``/dev/zero`` hashes forever), a FIFO (blocks on open), a socket, or a file outside
    every allowed root (a registry pointing at ``/etc``) is one clear line instead.
    """
    import stat

    resolved = path.resolve()
    if allowed_roots is not None:
        roots = [r.resolve() for r in allowed_roots]
        if not any(resolved == r or r in resolved.parents for r in roots):
            shown = ", ".join(str(r) for r in roots[:4])
            raise DatasetUnavailable(
                f"{_label(ref)} source {path} is outside the directories the audit reads data from ({shown}): "
                "keep the data beside the project or the registry, or add the directory to "
                "[tool.release_audit.data_integrity] allowed_roots"
            )
    files = [resolved] if not resolved.is_dir() else sorted(p for p in resolved.rglob("*") if not p.is_dir())
    total = 0
    for file in files:
        mode = file.stat().st_mode  # a link to a regular file is read; to a device, refused below
        if not stat.S_ISREG(mode):
            kind = ("a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
                    else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "not a regular file")
            raise DatasetUnavailable(f"{_label(ref)} source {file} is {kind}: only regular files are read as data")
        total += file.stat().st_size
    if max_bytes is not None and total > max_bytes:
        raise DatasetUnavailable(
            f"{_label(ref)} source {path} is {total / 1e9:.1f} GB, above the policy's limit of "
            f"{max_bytes / 1e9:.1f} GB ([tool.release_audit.data_integrity] max_dataset_gb)"
        )


def read_frame(path: Path, ref: DatasetRef) -> pd.DataFrame:
    """Read CSV or Parquet exactly (round-trip float precision), with one-line errors."""
    import pandas as pd

    name = path.name.lower()
    try:
        if path.is_dir() or name.endswith(PARQUET_SUFFIXES):
            return pd.read_parquet(path)
        if name.endswith(CSV_SUFFIXES):
            sep = "\t" if ".tsv" in name else ","
            return pd.read_csv(path, sep=sep, float_precision="round_trip")
    except PermissionError:
        raise DatasetUnavailable(
            f"{_label(ref)}: cannot read {path} (permission denied): fix its permissions"
        ) from None
    except UnicodeDecodeError as exc:
        raise DatasetUnavailable(
            f"{_label(ref)}: {path} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}): re-export it as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise DatasetUnavailable(f"{_label(ref)}: {path} is empty (no header, no rows)") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise DatasetUnavailable(f"{_label(ref)}: {path} cannot be parsed ({describe_exception(exc)})") from None
    except Exception as exc:  # e.g. pyarrow errors on a corrupt parquet file
        raise DatasetUnavailable(f"{_label(ref)}: {path} cannot be read ({describe_exception(exc)})") from None
    raise DatasetUnavailable(
        f"{_label(ref)}: {path.name} is neither CSV nor Parquet: log the data as .csv or .parquet"
    )


def read_logged_dataset(
    ref: DatasetRef,
    handle: ModelHandle,
    task_policy: TaskPolicy | Mapping[str, Any],
    base_dirs: list[Path],
    workdir: Path,
    allowed_roots: list[Path] | None = None,
    max_bytes: int | None = None,
    engine: Any = None,
) -> LoadedDataset:
    """Resolve, hash and read one logged dataset.

    A directory of Parquet parts or a Delta table (``engines.sources``) is read part by part; with
    ``engine`` (``engines.spark.SparkEngine``, policy ``[engine] data = "spark"``) Spark reads it.
    """
    from pytest_release_audit.engines.sources import table_source

    path = resolve_source(ref, handle, base_dirs, workdir, allowed_roots)
    if max_bytes is not None:
        check_regular(path, ref, None, max_bytes)
    table = table_source(path, _label(ref), ref.source_details)
    if table is not None:
        if engine is not None:
            return engine.load(ref, table, handle, task_policy)
        return _loaded_table(ref, table, handle, task_policy)
    sha = _sha256(path, ref)
    df = read_frame(path, ref)
    return _loaded(ref, df, check_digest(ref, df), path, sha, handle, task_policy)


def plan_digest_check(ref: DatasetRef, rows: int) -> DigestCheck:
    """A Spark dataset's MLflow digest: a hash of the query plan, which no engine recomputes from data."""
    return DigestCheck(logged=ref.digest, variant=None, recomputed="", rows=rows, kind="spark_plan",
                       notes=("MLflow's digest of a Spark dataset hashes the query plan (semanticHash), not the rows",))


def _loaded_table(ref: DatasetRef, table: Any, handle: ModelHandle,
                  task_policy: TaskPolicy | Mapping[str, Any]) -> LoadedDataset:
    """A Parquet directory or Delta version read with pandas, its parts hashed one by one."""
    import dataclasses

    from pytest_release_audit.engines.sources import parts_digest, plan_digest, read_parts_pandas, sha256_part

    label = _label(ref)
    try:
        parts = tuple((table.relative(p), sha256_part(p)) for p in table.parts)
    except PermissionError:
        raise DatasetUnavailable(f"{label}: cannot read a part of {table.root} (permission denied): fix its "
                                 "permissions") from None
    df = read_parts_pandas(table, label)
    check = plan_digest_check(ref, len(df)) if plan_digest(ref.source_type) else check_digest(ref, df)
    loaded = _loaded(ref, df, check, table.root, parts_digest([d for _, d in parts]), handle, task_policy)
    return dataclasses.replace(loaded, table=table, parts=parts)


def _sha256(path: Path, ref: DatasetRef) -> str:
    try:
        return sha256_file(path)
    except PermissionError:
        raise DatasetUnavailable(
            f"{_label(ref)}: cannot read {path} (permission denied): fix its permissions"
        ) from None


def _loaded(ref: DatasetRef, df: pd.DataFrame, check: DigestCheck, path: Path, sha: str, handle: ModelHandle,
            task_policy: TaskPolicy | Mapping[str, Any], mapped_by: str = "") -> LoadedDataset:
    """The dataset as the audit uses it: a CSV's index column (the variant that matched says the
    file kept a frame's index) is the index, not a feature."""
    if check.match and check.index_column and check.index_column in df.columns:
        df = df.drop(columns=[check.index_column])
    columns = [str(c) for c in df.columns]
    candidates = tuple(c for c in check.uncovered if c in columns) if check.match else ()
    if check.kind == "numpy" and check.match:
        candidates = tuple(c for c in columns if c not in check.columns)
    task = infer_task(handle, task_policy, ref, columns, frame=df, uncovered=candidates)
    return LoadedDataset(
        ref=ref,
        df=df,
        task=task,
        local_path=path,
        file_sha256=sha,
        feature_columns=feature_columns(handle, task, columns),
        digest_check=check,
        label_candidates=candidates,
        mapped_by=mapped_by,
    )


# -- datasets logged without a file (autolog, from_numpy) and files mapped to them ------------------
def recorded_without_file(ref: DatasetRef) -> bool:
    """True for a dataset MLflow recorded without a readable file: source type ``code`` (what
    ``mlflow.sklearn.autolog(log_datasets=True)`` and ``from_numpy`` without ``source=`` log: the
    source is the run's tags as JSON), or a source that is JSON rather than a path or URI."""
    source = (ref.source or "").strip()
    return ref.source_type.strip().lower() == "code" or source.startswith("{")


def not_recorded_message(refs: list[DatasetRef]) -> str:
    """One line for every dataset recorded without a file, with the two ways out."""
    names = ", ".join(f"'{r.name}' ({r.context or 'no context'})" for r in refs)
    first = refs[0].name
    return (
        f"{plural_word(len(refs), 'dataset')} {names} {'was' if len(refs) == 1 else 'were'} recorded without a "
        f"file (source type {refs[0].source_type or 'code'}: autolog, from_numpy), so no check can read "
        f"{'it' if len(refs) == 1 else 'them'}: log the files with mlflow.log_input(mlflow.data.from_pandas(df, "
        f"source=PATH), context='training'), or map each to its file with --audit-data {first}=PATH or policy "
        f"[tool.release_audit.datasets.\"{first}\"] path = \"PATH\" (used only if it reproduces the logged digest)"
    )


def plural_word(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def schema_columns(ref: DatasetRef) -> list[str] | None:
    """The column names of a ``from_pandas`` dataset's logged schema, or None."""
    spec = (ref.schema or {}).get("mlflow_colspec")
    if not isinstance(spec, list):
        return None
    names = [str(c["name"]) for c in spec if isinstance(c, dict) and c.get("name") is not None]
    return names or None


def logged_rows(ref: DatasetRef) -> int | None:
    """The row count the run logged in the dataset's profile (pandas ``num_rows``, numpy shape)."""
    profile = ref.profile or {}
    for value in (profile.get("num_rows"), (profile.get("features_shape") or [None])[0]):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def check_digest(ref: DatasetRef, df: pd.DataFrame) -> DigestCheck:
    """MLflow's digest of ``df`` under the variants MLflow may have hashed, against ``ref.digest``."""
    spec = numpy_spec(ref.schema, ref.profile)
    if spec is not None:
        return match_numpy_digest(df, ref.digest, spec)
    return match_logged_digest(df, ref.digest, schema_columns(ref))


def read_mapped_dataset(
    ref: DatasetRef,
    candidates: list[tuple[Path, str]],
    handle: ModelHandle,
    task_policy: TaskPolicy | Mapping[str, Any],
    allowed_roots: list[Path] | None = None,
    max_bytes: int | None = None,
) -> LoadedDataset:
    """The file a mapping (``--audit-data NAME=PATH``, policy ``[datasets.NAME] path``) names for
    ``ref``, accepted only if it reproduces the logged MLflow digest and row count.

    ``candidates`` are ``(path, origin)``; the first that matches is used (one NAME may be logged
    twice, e.g. autolog's ``dataset`` for ``train`` and ``eval``). The mapping is untrusted: it
    only says where to look, the digest decides.
    """
    rows = logged_rows(ref)
    failures: list[tuple[bool, str]] = []
    for path, origin in candidates:
        if not path.exists():
            raise DatasetUnavailable(f"{origin} maps {_label(ref)} to {path}, which does not exist: fix the path")
        check_regular(path, ref, allowed_roots, max_bytes)
        df = read_frame(path, ref)
        check = check_digest(ref, df)
        if check.match and (rows is None or rows == len(df)):
            return _loaded(ref, df, check, path, _sha256(path, ref), handle, task_policy, mapped_by=origin)
        failures.append((rows is None or rows == len(df), _mismatch(path, df, check, rows)))
    logged_cols = schema_columns(ref)
    described = f"{rows if rows is not None else '?'} rows" + (
        f" x {len(logged_cols)} columns ({_names(logged_cols, 4)})" if logged_cols else "")
    # A file with the logged row count is the one meant (autolog logs train and eval under one name).
    shown = [text for same_rows, text in failures if same_rows] or [text for _, text in failures]
    raise DatasetUnavailable(
        f"{_label(ref)}: no mapped file reproduces what the run logged (MLflow digest {ref.digest}, {described}); "
        "map the file holding exactly the frame given to training (from train_test_split: X_train.to_csv(path) "
        "keeps its index) or log it with mlflow.log_input(mlflow.data.from_pandas(df, source=PATH)): "
        + "; ".join(shown)
    )


def _names(columns: list[str] | tuple[str, ...], limit: int = 6) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (f", … {len(columns) - limit} more" if len(columns) > limit else "")


def _mismatch(path: Path, df: pd.DataFrame, check: DigestCheck, rows: int | None) -> str:
    cols = [str(c) for c in df.columns]
    head = f"{path.name} has {len(df)} rows x {len(cols)} columns ({_names(cols, 5)})"
    if rows is not None and rows != len(df):
        return f"{head}, not {rows} rows"
    if not check.tried:
        return f"{head}: its columns cannot form the logged arrays"
    return f"{head}, digest {check.recomputed} ({len(check.tried)} variants tried)"


def check_mappings(handle: ModelHandle, mappings: Mapping[str, list[tuple[Path, str]]]) -> None:
    """Raise the one-line error when the run logged no datasets, a mapping names a dataset the run
    did not log or one it logged with a file, or a dataset has neither a file nor a mapping."""
    from pytest_release_audit.errors import DatasetNotRecorded

    if handle.run is None or not handle.run.inputs:
        raise DatasetUnavailable(
            f"run {handle.run_id} of {handle.name} v{handle.version} logged no datasets: log them with "
            "mlflow.log_input(mlflow.data.from_pandas(df, source=PATH, name=...), context='training')"
        )
    logged = {ref.name for ref in handle.run.inputs}
    unknown = sorted(set(mappings) - logged)
    if unknown:
        origin = mappings[unknown[0]][0][1]
        raise DatasetUnavailable(
            f"{origin} maps dataset '{unknown[0]}', which run {handle.run_id} did not log (logged: "
            f"{', '.join(sorted(logged))}): use the name the run logged"
        )
    filed = sorted({r.name for r in handle.run.inputs if r.name in mappings and not recorded_without_file(r)})
    if filed:
        # A mapping stands in for a file the run never recorded; it never replaces one it did.
        origin = mappings[filed[0]][0][1]
        raise DatasetUnavailable(
            f"{origin} maps dataset '{filed[0]}', which run {handle.run_id} logged with a file: "
            "mappings are only for datasets recorded without a file; remove the mapping"
        )
    without = [r for r in handle.run.inputs if r.name not in mappings and recorded_without_file(r)]
    if without:
        raise DatasetNotRecorded(not_recorded_message(without))
