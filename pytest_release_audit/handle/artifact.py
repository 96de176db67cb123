# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A model's artifacts, downloaded by the auditor and scanned before any process loads them.

``inspect(handle)`` downloads the version's model directory into a private temporary directory
(the auditor holds the registry credentials; the model worker never does), runs ProtectAI's
modelscan over every file (unsafe pickle operators such as ``posix.system`` are CRITICAL) and,
when the policy requires signed models, verifies OpenSSF ``model-signing`` signatures offline.
The result is cached per model version and process. ``safe_model_dir(handle)`` returns the
directory only when nothing blocks; otherwise the model is never loaded.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError, describe_exception

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle

BLOCKING_SEVERITIES = ("CRITICAL", "HIGH")


@dataclass(frozen=True)
class ArtifactFinding:
    """One unsafe operator modelscan found in one file."""

    severity: str
    module: str
    operator: str
    file: str

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "module": self.module, "operator": self.operator, "file": self.file}

    def __str__(self) -> str:
        return f"{self.severity} {self.module}.{self.operator} in {self.file}"


@dataclass(frozen=True)
class ArtifactReport:
    """What was found in one model version's artifacts."""

    label: str
    files: tuple[str, ...] = ()
    scanned: tuple[str, ...] = ()
    not_scannable: tuple[str, ...] = ()  # files modelscan has no scanner for (loaded only in the worker)
    findings: tuple[ArtifactFinding, ...] = ()
    errors: tuple[str, ...] = ()
    signature: dict[str, Any] | None = None
    digest: str = ""  # sha256 over (path, sha256) of every file
    local_dir: str = ""
    problem: str = ""  # why it cannot be inspected at all (download failed)
    tool: str = ""

    @property
    def blocking(self) -> tuple[ArtifactFinding, ...]:
        return tuple(f for f in self.findings if f.severity in BLOCKING_SEVERITIES)

    @property
    def refused(self) -> str:
        """Why the model must not be loaded ('' when it may)."""
        if self.problem:
            return self.problem
        if self.errors:
            first = self.errors[0]
            hint = (": modelscan fails on joblib dumps of fitted estimators (joblib writes numpy arrays into "
                    "the pickle stream), so the model is not loaded; save the estimator with pickle or "
                    "cloudpickle (mlflow.sklearn.log_model does), or skops"
                    if first.split(":", 1)[0].strip().lower().endswith((".joblib", ".jbl")) else
                    ": the model is not loaded unscanned; save it in a format modelscan reads (pickle, "
                    "cloudpickle, skops, safetensors, ONNX) or report the modelscan error")
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"modelscan could not scan its artifacts ({first}){more}{hint}"
        if self.blocking:
            shown = "; ".join(str(f) for f in self.blocking[:3])
            more = f" (+{len(self.blocking) - 3} more)" if len(self.blocking) > 3 else ""
            return f"its artifacts hold unsafe operators: {shown}{more}"
        if self.signature is not None and self.signature.get("verified") is False:
            return f"its signature does not verify ({self.signature.get('reason')})"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.label,
            "files": len(self.files),
            "scanned": list(self.scanned),
            "not_scannable": list(self.not_scannable),
            "findings": [f.to_dict() for f in self.findings],
            "errors": list(self.errors),
            "signature": self.signature,
            "digest": self.digest,
            "problem": self.problem,
            "tool": self.tool,
        }


_CACHE: dict[tuple[str, str, str], ArtifactReport] = {}
_LOCK = threading.Lock()
#: Signature requirements for this process, set by the audit from its policy (``configure``).
_SIGNING: dict[str, Any] = {}


def configure_signing(section: dict[str, Any], base_dir: Path) -> None:
    """Require signed models when the policy says so (``[model_artifact] require_signature``)."""
    candidate = _SIGNING.get("candidate")
    _SIGNING.clear()
    if candidate is not None:
        _SIGNING["candidate"] = candidate
    if section.get("require_signature"):
        key = section.get("public_key") or ""
        chain = list(section.get("certificate_chain") or [])
        _SIGNING.update({
            "public_key": str(base_dir / key) if key and not Path(key).is_absolute() else key,
            "certificate_chain": [str(base_dir / c) if not Path(c).is_absolute() else c for c in chain],
            "signature_file": section.get("signature_file") or "model.sig",
        })


def set_candidate(handle: ModelHandle) -> None:
    """The audited version: a signature the policy requires is required of it (see ``inspect``)."""
    _SIGNING["candidate"] = (handle.tracking_uri, handle.name, str(handle.version))


def inspect(handle: ModelHandle) -> ArtifactReport:
    """Download (once per process) and scan the artifacts of ``handle``'s model.

    A signature the policy requires is required of the candidate; any other model's (the
    baseline's) is verified when present (a production model whose signature no longer verifies
    is refused) and noted when absent.
    """
    key = (handle.tracking_uri, handle.name, str(handle.version))
    with _LOCK:
        report = _CACHE.get(key)
        if report is None:
            report = _CACHE[key] = _inspect(handle, _SIGNING.get("candidate") not in (None, key))
        return report


def safe_model_dir(handle: ModelHandle) -> Path:
    """The local model directory, or ModelLoadError when the model must not be loaded."""
    report = inspect(handle)
    if report.refused:
        raise ModelLoadError(
            f"model {report.label} was not loaded: {report.refused} (see the model_artifact check)"
        )
    return Path(report.local_dir)


def _download(handle: ModelHandle, dest: Path) -> Path:
    import mlflow
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import using_store
    from pytest_release_audit.network import check_artifact_uri

    with using_store(handle.tracking_uri):
        location = MlflowClient(handle.tracking_uri, handle.tracking_uri).get_model_version_download_uri(
            handle.name, str(handle.version))
        refused = check_artifact_uri(location, handle.tracking_uri, "the model's artifact location")
        if refused:
            raise ModelLoadError(refused)
        local = mlflow.artifacts.download_artifacts(artifact_uri=handle.uri, dst_path=str(dest))
    return Path(local)


def download_model(handle: ModelHandle, dest: Path) -> Path:
    """The model's artifacts as stored in the registry, downloaded below ``dest`` (bytes only, never loaded)."""
    return _download(handle, dest)


def _digest_of_sums(sums: dict[str, str]) -> str:
    from pytest_release_audit.approvals import is_load_dropping

    digest = hashlib.sha256()
    for name in sorted(sums):
        if not is_load_dropping(name):
            digest.update(f"{name}\0{sums[name]}\n".encode())
    return digest.hexdigest()


def content_digest(local: Path) -> str:
    """sha256 over (path, sha256) of every model file under ``local``, minus what loading writes."""
    from pytest_release_audit.files import sha256_file

    files = sorted(p for p in local.rglob("*") if p.is_file() and not p.is_symlink())
    return _digest_of_sums({str(p.relative_to(local)): sha256_file(p) for p in files})


def artifact_digest(handle: ModelHandle) -> str:
    """The content digest of ``handle``'s model artifacts (the audit's download when it has one)."""
    key = (handle.tracking_uri, handle.name, str(handle.version))
    with _LOCK:
        report = _CACHE.get(key)
    if report is not None and report.digest:
        return report.digest
    dest = Path(tempfile.mkdtemp(prefix="release-audit-model-"))
    try:
        return content_digest(_download(handle, dest))
    except ModelLoadError:
        raise
    except Exception as exc:  # any download failure
        raise ModelLoadError(f"the artifacts of {handle.name} v{handle.version} cannot be downloaded "
                             f"({describe_exception(exc)})") from None
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def _inspect(handle: ModelHandle, baseline: bool) -> ArtifactReport:
    from pytest_release_audit.files import sha256_file

    label = f"{handle.name} v{handle.version}"
    dest = Path(tempfile.mkdtemp(prefix="release-audit-model-"))
    try:
        local = _download(handle, dest)
    except ModelLoadError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        return ArtifactReport(label=label, problem=str(exc))
    except Exception as exc:  # any download failure: the model cannot be audited
        shutil.rmtree(dest, ignore_errors=True)
        return ArtifactReport(label=label, problem=f"its artifacts cannot be downloaded ({describe_exception(exc)})")
    files = sorted(p for p in local.rglob("*") if p.is_file() and not p.is_symlink())
    links = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_symlink())
    if links:
        return ArtifactReport(label=label, local_dir=str(local),
                              problem=f"its artifacts contain symbolic links ({', '.join(links[:3])})")
    if not (local / "MLmodel").is_file():
        return ArtifactReport(label=label, local_dir=str(local),
                              problem="its artifacts have no MLmodel file (deleted, or not an MLflow model): "
                                      "re-log the model with mlflow.<flavor>.log_model")
    rel = [str(p.relative_to(local)) for p in files]
    sums = {name: sha256_file(path) for name, path in zip(rel, files, strict=True)}
    scanned, not_scannable, findings, errors, tool = _modelscan(local)
    signature = _verify_signature(local, required=not baseline) if _SIGNING.get("signature_file") else None
    return ArtifactReport(
        label=label,
        files=tuple(rel),
        scanned=scanned,
        not_scannable=not_scannable,
        findings=findings,
        errors=errors,
        signature=signature,
        digest=_digest_of_sums(sums),
        local_dir=str(local),
        tool=tool,
    )


def _modelscan(
    local: Path,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[ArtifactFinding, ...], tuple[str, ...], str]:
    from modelscan._version import __version__
    from modelscan.modelscan import ModelScan
    from modelscan.settings import DEFAULT_SETTINGS

    logging.getLogger("modelscan").setLevel(logging.CRITICAL)  # its findings come back as data
    result = ModelScan(settings=DEFAULT_SETTINGS).scan(str(local))
    summary = result.get("summary") or {}
    scanned = tuple(sorted(summary.get("scanned", {}).get("scanned_files") or []))
    skipped = tuple(sorted(s.get("source", "") for s in summary.get("skipped", {}).get("skipped_files") or []))
    findings = tuple(
        ArtifactFinding(severity=str(i.get("severity", "")).upper(), module=str(i.get("module", "")),
                        operator=str(i.get("operator", "")), file=str(i.get("source", "")))
        for i in result.get("issues") or []
    )
    errors: list[str] = []
    extra: list[ArtifactFinding] = []
    for e in result.get("errors") or []:
        source = str(e.get("source", ""))
        if source.endswith(".npy"):
            # modelscan's numpy scanner does not run on every numpy release: read the header ourselves.
            verdict = _npy_header(local, source)
            if verdict == "plain":
                scanned += (source,)
                continue
            if verdict == "object":
                extra.append(ArtifactFinding("HIGH", "numpy", "object array (needs pickle)", source))
                continue
        errors.append(f"{source}: {' '.join(str(e.get('description', e)).split())[:200]}")
    return scanned, skipped, findings + tuple(extra), tuple(errors), f"modelscan {__version__}"


def _npy_header(local: Path, source: str) -> str:
    """``plain`` (numbers only), ``object`` (loading needs pickle) or ``unreadable`` for a .npy file.

    ``source`` is a path relative to ``local``, or ``ARCHIVE:MEMBER`` for a file inside a zip
    (skops and ``.npz`` files).
    """
    import zipfile

    import numpy as np

    archive, _, member = source.partition(":")
    try:
        if member:
            with zipfile.ZipFile(local / archive) as zf, zf.open(member) as fh:
                return _npy_kind(fh, np)
        with (local / source).open("rb") as fh:
            return _npy_kind(fh, np)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return "unreadable"


def _npy_kind(fh: Any, np: Any) -> str:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    return "object" if dtype.hasobject else "plain"


#: Files MLflow itself writes into a model directory when the version is registered (after any
#: signature was made); every other file must be covered by the signature.
MLFLOW_WRITTEN = ("registered_model_meta",)


def _verify_signature(local: Path, *, required: bool) -> dict[str, Any]:
    sig_name = str(_SIGNING["signature_file"])
    sig = local / sig_name
    out: dict[str, Any] = {"signature_file": sig_name, "verified": False}
    if not sig.is_file():
        if not required:
            return {"signature_file": sig_name, "verified": None, "reason": "baseline not signed (noted)"}
        out["reason"] = (f"no {sig_name} in the model's artifacts: sign the model directory with "
                         "'model_signing sign key' and log the signature beside MLmodel")
        return out
    try:
        from model_signing import hashing, verifying

        config = verifying.Config()
        if _SIGNING.get("public_key"):
            config = config.use_elliptic_key_verifier(public_key=_SIGNING["public_key"])
            out["mode"] = "key"
        elif _SIGNING.get("certificate_chain"):
            config = config.use_certificate_verifier(certificate_chain=_SIGNING["certificate_chain"])
            out["mode"] = "certificate"
        else:
            out["reason"] = ("the policy requires signed models but names no public_key or certificate_chain "
                             "in [tool.release_audit.model_artifact]")
            return out
        config.set_hashing_config(hashing.Config().set_ignored_paths(paths=[sig_name, *MLFLOW_WRITTEN],
                                                                     ignore_git_paths=True))
        config.verify(local, sig)
    except Exception as exc:  # any verification failure is a refusal, with its reason
        out["reason"] = describe_exception(exc)
        return out
    out["verified"] = True
    return out
