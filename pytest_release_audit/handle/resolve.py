# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Resolve a ModelHandle from an MLflow tracking / registry store.

Every failure is an AuditError with one line naming the input and what exists instead.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import AuditError, HandleNotFound, RegistryUnavailable, redact
from pytest_release_audit.errors import describe_exception as _describe
from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord
from pytest_release_audit.handle.spec import ModelSpec, parse_model_spec

#: Environment MLflow reads; set (unless the user set them) before mlflow is imported so an
#: unreachable server fails in seconds, not after minutes of retries, and nothing phones home.
#: MLflow's own defaults (7 retries, backoff 2, 120 s timeout) wait minutes on a dead server.
#: Worst case here, a server that accepts and never answers: (1 + retries) x timeout = 20 s; a
#: closed port fails at once (urllib3 does not back off before the first retry). Measured in
#: tests/test_remote_server.py; docs/remote-registry.md explains how to override them.
AUDIT_ENV_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "GIT_PYTHON_REFRESH": "quiet",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def prepare_environment() -> None:
    """Apply AUDIT_ENV_DEFAULTS without overriding what the user set."""
    for key, value in AUDIT_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)


def normalize_tracking_uri(uri: str | None, rootdir: Path) -> str:
    """The tracking URI to use: option, else MLFLOW_TRACKING_URI, else ``rootdir/mlflow.db``.

    Relative SQLite paths and plain paths are made absolute against ``rootdir`` so the audit
    reads the same store wherever pytest was started from.
    """
    uri = (uri or os.environ.get("MLFLOW_TRACKING_URI") or "").strip()
    if not uri:
        return f"sqlite:///{(Path(rootdir) / 'mlflow.db').resolve()}"
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :]
        if path and not path.startswith("/") and not path.startswith(":memory:"):
            return f"sqlite:///{(Path(rootdir) / path).resolve()}"
        return uri
    if uri.startswith("file:"):
        return uri
    if "://" not in uri:  # a directory of an old file store
        return Path(rootdir, uri).resolve().as_uri()
    return uri


def _check_sqlite_exists(uri: str) -> None:
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri[len("sqlite:///") :])
    if not path.is_file():
        file_store = path.parent / "mlruns"
        hint = (
            f"; {file_store} looks like a file store: pass --audit-tracking-uri={file_store.as_uri()}"
            if (file_store / "0" / "meta.yaml").is_file() or (file_store / "models").is_dir()
            else ""
        )
        raise RegistryUnavailable(
            f"no MLflow store at {path}: point the audit at your registry with --audit-tracking-uri=URI "
            f"(or set MLFLOW_TRACKING_URI){hint}"
        )
    with path.open("rb") as fh:
        header = fh.read(16)
    if header and header != b"SQLite format 3\x00":
        raise RegistryUnavailable(
            f"MLflow store {path} is not an SQLite database (corrupt or wrong file): restore it "
            "or point --audit-tracking-uri at the right store"
        )


def open_client(tracking_uri: str) -> Any:
    """An MlflowClient for ``tracking_uri`` after a cheap probe; RegistryUnavailable if unusable."""
    prepare_environment()
    _check_sqlite_exists(tracking_uri)
    try:
        with warnings.catch_warnings():
            # MLflow's own import-time deprecation warnings are not the user's to act on.
            warnings.simplefilter("ignore")
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
            client.search_registered_models(max_results=1)
    except AuditError:
        raise
    except Exception as exc:  # any driver / HTTP / schema error means the same to the user
        where = redact(tracking_uri)
        raise RegistryUnavailable(
            f"cannot read the MLflow registry at {where} ({_describe(exc)}): check the URI, that "
            "the server is up and reachable, or pass --audit-tracking-uri"
        ) from None
    return client


def _is_not_found(exc: BaseException) -> bool:
    code = str(getattr(exc, "error_code", ""))
    return "RESOURCE_DOES_NOT_EXIST" in code or "NOT_FOUND" in code or "not found" in str(exc).lower()


def _names_hint(client: Any, name: str) -> str:
    try:
        names = sorted(m.name for m in client.search_registered_models(max_results=200))
    except Exception:  # the hint is a courtesy; the error it decorates is what matters
        return ""
    if not names:
        return " (the registry has no registered models)"
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return f" (did you mean {', '.join(close)}? registered: {', '.join(names[:10])})"
    more = "" if len(names) <= 10 else f", ... {len(names) - 10} more"
    return f" (registered models: {', '.join(names[:10])}{more})"


def resolve_handle(spec: str | ModelSpec, tracking_uri: str, *, default_alias: str = "candidate") -> ModelHandle:
    """Resolve a spec to a ModelHandle with its source run, datasets and artifact listing."""
    model_spec = parse_model_spec(spec) if isinstance(spec, str) else spec
    client = open_client(tracking_uri)
    return _resolve_with_client(client, model_spec, tracking_uri, default_alias=default_alias)


def pin_of(handle: ModelHandle) -> dict[str, str | None]:
    """The exact version of a resolved handle, for a second process to resolve the same one."""
    return {"name": handle.name, "version": str(handle.version), "alias": handle.requested_alias,
            "run_id": handle.run_id}


def _resolve_with_client(client: Any, spec: ModelSpec, tracking_uri: str, *, default_alias: str) -> ModelHandle:
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_registered_model(spec.name)
    except MlflowException as exc:
        if _is_not_found(exc):
            raise HandleNotFound(
                f"model '{spec.name}' is not in the registry at {redact(tracking_uri)}"
                f"{_names_hint(client, spec.name)}"
            ) from None
        raise RegistryUnavailable(f"cannot read model '{spec.name}': {_describe(exc)}") from None
    aliases: dict[str, Any] = dict(getattr(registered, "aliases", {}) or {})
    alias = spec.alias
    version = spec.version
    if alias is None and version is None:
        if default_alias in aliases:
            alias = default_alias
        else:
            versions = _all_versions(client, spec.name)
            if not versions:
                raise HandleNotFound(f"model '{spec.name}' has no versions: register one first")
            version = str(max(int(v.version) for v in versions))
    if alias is not None and alias not in aliases:
        existing = ", ".join(f"@{a} (v{v})" for a, v in sorted(aliases.items())) or "none"
        raise HandleNotFound(
            f"model '{spec.name}' has no alias '{alias}' (aliases: {existing}): set it with "
            f"MlflowClient().set_registered_model_alias or pass NAME/VERSION"
        )
    try:
        if alias is not None:
            mv = client.get_model_version_by_alias(spec.name, alias)
        else:
            mv = client.get_model_version(spec.name, str(version))
    except MlflowException as exc:
        if not _is_not_found(exc):
            raise RegistryUnavailable(f"cannot read '{spec}': {_describe(exc)}") from None
        if alias is not None:
            existing = ", ".join(f"@{a} (v{v})" for a, v in sorted(aliases.items())) or "none"
            raise HandleNotFound(
                f"model '{spec.name}' has no alias '{alias}' (aliases: {existing}): set it with "
                f"MlflowClient().set_registered_model_alias or pass NAME/VERSION"
            ) from None
        versions = sorted(int(v.version) for v in _all_versions(client, spec.name))
        raise HandleNotFound(
            f"model '{spec.name}' has no version {version} (versions: "
            f"{', '.join(map(str, versions)) or 'none'})"
        ) from None
    run = _read_run(client, spec.name, mv)
    return ModelHandle(
        name=spec.name,
        version=str(mv.version),
        tracking_uri=tracking_uri,
        registry_uri=tracking_uri,
        aliases=tuple(sorted(getattr(mv, "aliases", []) or [])),
        requested_alias=alias,
        tags=dict(mv.tags or {}),
        description=mv.description or "",
        source=mv.source or "",
        run=run,
        model_tags=dict(registered.tags or {}),
        model_description=registered.description or "",
        created_at=getattr(mv, "creation_timestamp", None),
        model_meta=_read_model_meta(mv, tracking_uri),
    )


def _all_versions(client: Any, name: str) -> list[Any]:
    return list(client.search_model_versions(f"name='{name}'", max_results=1000))


def _read_run(client: Any, name: str, mv: Any) -> RunRecord:
    from mlflow.exceptions import MlflowException

    if not mv.run_id:
        raise HandleNotFound(
            f"model '{name}' v{mv.version} has no source run (registered from {mv.source or 'an unknown source'}): "
            "register it from an MLflow run so its data and code can be audited"
        )
    try:
        run = client.get_run(mv.run_id)
    except MlflowException as exc:
        if _is_not_found(exc):
            raise HandleNotFound(
                f"model '{name}' v{mv.version} names source run {mv.run_id}, which is not in the tracking store "
                "(deleted or another store): point --audit-tracking-uri at the store that has it"
            ) from None
        raise RegistryUnavailable(f"cannot read run {mv.run_id}: {_describe(exc)}") from None
    if getattr(run.info, "lifecycle_stage", "active") == "deleted":
        raise HandleNotFound(f"model '{name}' v{mv.version}: its source run {mv.run_id} is deleted")
    inputs, set_aside = split_superseded(
        tuple(_dataset_ref(di) for di in (run.inputs.dataset_inputs if run.inputs else [])))
    from pytest_release_audit.network import check_artifact_uri

    store = f"run {mv.run_id}'s artifact store"
    refused = check_artifact_uri(run.info.artifact_uri or "", client.tracking_uri or "", store)
    if refused:
        raise RegistryUnavailable(refused)
    return RunRecord(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        status=run.info.status,
        start_time=run.info.start_time,
        params=dict(run.data.params),
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        tags=dict(run.data.tags),
        artifacts=tuple(_list_artifacts(client, run.info.run_id)),
        inputs=inputs,
        artifact_uri=run.info.artifact_uri or "",
        set_aside=set_aside,
    )


def split_superseded(refs: tuple[DatasetRef, ...]) -> tuple[tuple[DatasetRef, ...], tuple[DatasetRef, ...]]:
    """(datasets audited, datasets set aside).

    ``mlflow.sklearn.autolog()`` records the frames passed to ``fit`` / ``score`` as datasets without
    a file (source type ``code``, contexts ``train`` / ``eval``), beside the files a user logs with
    ``log_input``. A file-less dataset whose role (training, evaluation) a logged file also fills
    adds nothing a check could read, so it is set aside (and named in the lineage evidence); one whose
    role no file fills is kept, and the audit asks for its file.
    """
    from pytest_release_audit.datasets import recorded_without_file

    def role(ref: DatasetRef) -> str:
        return "training" if ref.is_training else "evaluation" if ref.is_evaluation else ""

    filled = {role(r) for r in refs if not recorded_without_file(r) and role(r)}
    set_aside = tuple(r for r in refs if recorded_without_file(r) and role(r) in filled)
    return tuple(r for r in refs if r not in set_aside), set_aside


def _list_artifacts(client: Any, run_id: str, path: str | None = None, depth: int = 0) -> list[str]:
    out: list[str] = []
    if depth > 6:
        return out
    try:
        entries = client.list_artifacts(run_id, path)
    except Exception as exc:  # an unreadable artifact store is reported, not hidden
        raise RegistryUnavailable(f"cannot list artifacts of run {run_id}: {_describe(exc)}") from None
    for entry in entries:
        if entry.is_dir:
            out.extend(_list_artifacts(client, run_id, entry.path, depth + 1))
        else:
            out.append(entry.path)
    return out


def _dataset_ref(dataset_input: Any) -> DatasetRef:
    ds = dataset_input.dataset
    tags = {t.key: t.value for t in (dataset_input.tags or [])}
    context = tags.pop("mlflow.data.context", None)
    source = ds.source or ""
    details: dict[str, Any] = {}
    try:
        parsed = json.loads(source)
        if isinstance(parsed, dict):
            details = parsed
            source = str(parsed.get("uri") or parsed.get("url") or parsed.get("path") or source)
    except (TypeError, ValueError):
        pass
    schema = _maybe_json(getattr(ds, "schema", None))
    profile = _maybe_json(getattr(ds, "profile", None))
    targets = None
    if isinstance(profile, dict):
        targets = profile.get("targets")
    targets = tags.get("targets", targets)
    return DatasetRef(
        name=ds.name,
        digest=ds.digest,
        source_type=ds.source_type or "",
        source=source,
        context=context,
        tags=tags,
        targets=targets,
        schema=schema if isinstance(schema, dict) else None,
        profile=profile if isinstance(profile, dict) else None,
        source_details=details,
    )


def _maybe_json(text: Any) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


@contextlib.contextmanager
def using_store(uri: str) -> Iterator[None]:
    """Point MLflow's global tracking/registry URI at ``uri`` for a block, then restore it.

    MLflow's fluent APIs (``get_model_info``, ``pyfunc.load_model``) read process-wide state and
    ``set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` to the environment; an audit must
    leave the user's process as it found it. An experiment chosen earlier with
    ``mlflow.set_experiment`` belongs to the previous store, so it is cleared inside the block.
    """
    import mlflow
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    saved_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI",
                                                 "MLFLOW_EXPERIMENT_ID")}
    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri, fluent._active_experiment_id)
    try:
        fluent._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        yield
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri, fluent._active_experiment_id = saved
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _read_model_meta(mv: Any, tracking_uri: str) -> dict[str, Any]:
    """Flavors, signature and input example info from the version's MLmodel file (plain JSON)."""
    import mlflow

    try:
        with using_store(tracking_uri):
            info = mlflow.models.get_model_info(f"models:/{mv.name}/{mv.version}")
    except Exception as exc:  # missing/corrupt MLmodel: recorded; the signature check fails on it
        return {"error": f"cannot read the model's MLmodel file: {_describe(exc)}"}
    signature = None
    if info.signature is not None:
        signature = info.signature.to_dict()
        for key in ("inputs", "outputs", "params"):
            if isinstance(signature.get(key), str):
                signature[key] = _maybe_json(signature[key])
    return {
        "flavors": sorted(info.flavors or {}),
        "signature": signature,
        "input_example": dict(info.saved_input_example_info or {}) or None,
        "mlflow_version": info.mlflow_version,
        "model_uuid": info.model_uuid,
        "created": info.utc_time_created,
        "model_uri": info.model_uri,
    }


def signature_input_names(handle: ModelHandle) -> list[str]:
    """Column names of the model signature's inputs ([] when there is no column signature)."""
    signature = (handle.model_meta or {}).get("signature") or {}
    inputs = signature.get("inputs") or []
    return [col["name"] for col in inputs if isinstance(col, dict) and col.get("name")]


def resolve_baseline(
    candidate: ModelHandle, baseline: str, tracking_uri: str
) -> tuple[ModelHandle | None, str]:
    """Resolve the baseline: an alias of the same model, a ``models:/`` URI or NAME@ALIAS.

    Returns (handle, "") or (None, reason). A missing baseline is not an exception: the
    performance gate decides what it means (fail unless first release).
    """
    baseline = (baseline or "").strip()
    if not baseline:
        return None, "no baseline configured"
    if baseline.startswith("models:/") or "@" in baseline or "/" in baseline:
        spec = parse_model_spec(baseline)
    else:
        spec = ModelSpec(name=candidate.name, alias=baseline)
    try:
        handle = resolve_handle(spec, tracking_uri)
    except HandleNotFound as exc:
        return None, f"baseline {spec} not found: {exc}"
    if handle.name == candidate.name and handle.version == candidate.version:
        return None, (
            f"baseline {spec} is the audited version itself (v{candidate.version}): nothing to compare against"
        )
    return handle, ""
