# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Read a run's logged datasets from their sources (local path, file://, runs:/, mlflow-artifacts:)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pytest_release_audit.data import LoadedDataset
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
        for base in base_dirs:
            if (base / path).exists():
                path = base / path
                break
        else:
            path = base_dirs[0] / path if base_dirs else path
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
) -> LoadedDataset:
    """Resolve, hash and read one logged dataset."""
    path = resolve_source(ref, handle, base_dirs, workdir, allowed_roots)
    if max_bytes is not None:
        check_regular(path, ref, None, max_bytes)
    try:
        sha = sha256_file(path)
    except PermissionError:
        raise DatasetUnavailable(
            f"{_label(ref)}: cannot read {path} (permission denied): fix its permissions"
        ) from None
    df = read_frame(path, ref)
    columns = [str(c) for c in df.columns]
    task = infer_task(handle, task_policy, ref, columns, frame=df)
    return LoadedDataset(
        ref=ref,
        df=df,
        task=task,
        local_path=path,
        file_sha256=sha,
        feature_columns=feature_columns(handle, task, columns),
    )
