# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Are the logged model's dependencies pinned?

MLflow writes ``requirements.txt``, ``conda.yaml`` and ``python_env.yaml`` next to every logged
model. A model whose environment says ``scikit-learn>=1.3`` reinstalls differently next month, so
each dependency must be pinned exactly: ``name==version`` (pip) or ``name=version`` /
``name==version`` (conda, where a single ``=`` with a full version is conda's pin).

MLflow itself writes ``pip<=X`` into ``conda.yaml`` and an unpinned ``wheel`` into
``python_env.yaml`` when wheel is not installed; the policy's ``dependencies.allow_unpinned``
(default: pip, setuptools, wheel) names packages whose looseness is accepted. They are still
reported.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError, RegistryUnavailable, redact

if TYPE_CHECKING:
    from pytest_release_audit.handle.model import ModelHandle

ENV_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")
_FULL_VERSION_RE = re.compile(r"^\d+(\.\d+){2,}([.+-]?[0-9A-Za-z.+_-]*)?$")  # 3.11.7, 1.2.3post1
_CONDA_SPEC_RE = re.compile(r"^\s*(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>.*)$")


@dataclass(frozen=True)
class Requirement:
    """One dependency line: where it came from and whether it is pinned."""

    name: str
    spec: str  # the line as written (comments/markers stripped)
    source: str  # "requirements.txt", "conda.yaml (pip)", "conda.yaml", "python_env.yaml (build)", ...
    pinned: bool
    reason: str = ""  # why it is not pinned

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": self.spec,
            "source": self.source,
            "pinned": self.pinned,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DependencyReport:
    """Pinned and unpinned dependencies across the model's environment files."""

    files: tuple[str, ...]  # environment files found
    requirements: tuple[Requirement, ...]
    allow_unpinned: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)  # unparsable files

    @property
    def pinned(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.pinned)

    @property
    def unpinned(self) -> tuple[Requirement, ...]:
        """Unpinned requirements that block (not covered by ``allow_unpinned``)."""
        allowed = {_canonical(n) for n in self.allow_unpinned}
        return tuple(r for r in self.requirements if not r.pinned and _canonical(r.name) not in allowed)

    @property
    def allowed_unpinned(self) -> tuple[Requirement, ...]:
        allowed = {_canonical(n) for n in self.allow_unpinned}
        return tuple(r for r in self.requirements if not r.pinned and _canonical(r.name) in allowed)

    @property
    def blocking(self) -> bool:
        return not self.files or bool(self.unpinned) or bool(self.errors)

    def problems(self, limit: int = 5) -> list[str]:
        out = []
        if not self.files:
            out.append(f"the model has none of {', '.join(ENV_FILES)}: log it with an MLflow flavor")
        if self.unpinned:
            # the same package usually appears in requirements.txt and conda.yaml's pip list
            grouped: dict[str, list[Requirement]] = {}
            for req in self.unpinned:
                grouped.setdefault(_canonical(req.name), []).append(req)
            total = len({_canonical(r.name) for r in self.requirements})
            shown = ", ".join(
                f"{reqs[0].spec} ({', '.join(r.source for r in reqs)})"
                for reqs in list(grouped.values())[:limit]
            )
            more = f" (+{len(grouped) - limit} more)" if len(grouped) > limit else ""
            noun = "dependency" if total == 1 else "dependencies"
            out.append(f"{len(grouped)} of {total} {noun} not pinned with ==: {shown}{more}")
        for err in self.errors:
            out.append(err)
        return out

    def summary(self) -> str:
        """One line for a passing check: distinct packages pinned, and the accepted exceptions."""
        names = {_canonical(r.name) for r in self.requirements}
        loose = {_canonical(r.name) for r in self.requirements if not r.pinned}
        allowed = sorted({r.name for r in self.allowed_unpinned})
        text = (
            f"{len(names - loose)} of {len(names)} dependencies pinned with == in "
            f"{', '.join(self.files) or 'no environment file'}"
        )
        return text + (f" (allowed unpinned by policy: {', '.join(allowed)})" if allowed else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "total": len(self.requirements),
            "pinned_count": len(self.pinned),
            "unpinned_count": len(self.unpinned),
            "unpinned": [r.to_dict() for r in self.unpinned],
            "allowed_unpinned": [r.to_dict() for r in self.allowed_unpinned],
            "allow_unpinned_policy": list(self.allow_unpinned),
            "errors": list(self.errors),
        }


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement_line(line: str, source: str) -> Requirement | None:
    """One pip requirement line -> Requirement; None for blanks, comments, options and ``-r``."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PkgRequirement

    # credentials in an index or VCS URL (https://user:token@host) never reach a report
    text = re.sub(r"://[^/@\s]+@", "://***@", re.split(r"\s+#", line, maxsplit=1)[0]).strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith(("-e ", "--editable")):
        return Requirement(text.split()[-1], text, source, False, "editable install")
    if text.startswith("-"):
        return None  # -r / -c / --index-url options: not a dependency themselves
    text = re.split(r"\s+--", text, maxsplit=1)[0]  # per-requirement options such as --hash=...
    try:
        req = PkgRequirement(text)
    except InvalidRequirement:
        if re.match(r"^[a-z+]+://", text) or text.startswith((".", "/")):
            if re.search(r"@[0-9a-f]{40}\b", text):  # a VCS URL at a full commit is pinned
                return Requirement(text, text, source, True)
            return Requirement(text, text, source, False, "path or URL without a version")
        return Requirement(text, text, source, False, "not a valid requirement")
    shown = str(req).split(";")[0].strip()
    if req.url:
        pinned = bool(re.search(r"@[0-9a-f]{40}\b", req.url)) or req.url.endswith((".whl", ".tar.gz", ".zip"))
        return Requirement(req.name, shown, source, pinned, "" if pinned else "URL without a fixed commit")
    exact = [s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if exact:
        return Requirement(req.name, shown, source, True)
    reason = f"range {req.specifier}" if str(req.specifier) else "no version"
    return Requirement(req.name, shown, source, False, reason)


def parse_requirements(text: str, source: str = "requirements.txt") -> list[Requirement]:
    """Every requirement in a pip requirements file (line continuations joined)."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        req = parse_requirement_line(line, source)
        if req is not None:
            out.append(req)
    return out


def parse_conda_spec(spec: str, source: str = "conda.yaml") -> Requirement:
    """A conda match spec (``python=3.11.7``, ``conda-forge::numpy==1.26.4``, ``pip<=24``)."""
    match = _CONDA_SPEC_RE.match(spec)
    if not match:
        return Requirement(spec, spec, source, False, "not a conda package spec")
    name, rest = match.group("name"), match.group("spec").strip()
    if not rest:
        return Requirement(name, spec, source, False, "no version")
    if rest.startswith("=="):  # conda's exact match
        version = rest[2:].strip()
        if version and not re.search(r"[*<>!,|\s]", version):
            return Requirement(name, spec, source, True)
        return Requirement(name, spec, source, False, f"range {rest}")
    if rest.startswith("="):  # name=version[=build]: a prefix match, exact once the version is X.Y.Z
        version = rest[1:].split("=", 1)[0].strip()
    elif re.match(r"^\d", rest):  # "numpy 1.26.4 py311_0"
        version = rest.split()[0]
    else:
        return Requirement(name, spec, source, False, f"range {rest}")
    if "*" not in version and not re.search(r"[<>!,|]", version) and _FULL_VERSION_RE.fullmatch(version):
        return Requirement(name, spec, source, True)
    return Requirement(name, spec, source, False, f"{version} is not an exact X.Y.Z version")


def parse_conda_yaml(text: str) -> list[Requirement]:
    """Conda packages and the nested ``pip:`` list of a conda environment file."""
    import yaml

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("conda.yaml is not a mapping")
    out: list[Requirement] = []
    for dep in data.get("dependencies") or []:
        if isinstance(dep, str):
            out.append(parse_conda_spec(dep))
        elif isinstance(dep, dict):
            for line in dep.get("pip") or []:
                req = parse_requirement_line(str(line), "conda.yaml (pip)")
                if req is not None:
                    out.append(req)
    return out


def parse_python_env(text: str) -> list[Requirement]:
    """``python`` version, ``build_dependencies`` and ``dependencies`` of MLflow's python_env.yaml."""
    import yaml

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("python_env.yaml is not a mapping")
    out: list[Requirement] = []
    python = str(data.get("python", "")).strip()
    if python:
        pinned = bool(_FULL_VERSION_RE.fullmatch(python))
        out.append(
            Requirement(
                "python", f"python {python}", "python_env.yaml", pinned, "" if pinned else "not X.Y.Z"
            )
        )
    else:
        out.append(Requirement("python", "python (missing)", "python_env.yaml", False, "no python version"))
    for key, source in (
        ("build_dependencies", "python_env.yaml (build)"),
        ("dependencies", "python_env.yaml"),
    ):
        for line in data.get(key) or []:
            req = parse_requirement_line(str(line), source)
            if req is not None:
                out.append(req)
    return out


def check_environment_files(model_dir: Path, allow_unpinned: Iterable[str] = ()) -> DependencyReport:
    """Parse whichever of requirements.txt / conda.yaml / python_env.yaml exist in ``model_dir``."""
    import yaml

    model_dir = Path(model_dir)
    found: list[str] = []
    reqs: list[Requirement] = []
    errors: list[str] = []
    for name in ENV_FILES:
        path = model_dir / name
        if not path.is_file():
            continue
        found.append(name)
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            if name == "requirements.txt":
                reqs.extend(parse_requirements(text))
            elif name == "conda.yaml":
                reqs.extend(parse_conda_yaml(text))
            else:
                reqs.extend(parse_python_env(text))
        except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:  # reported, not ignored
            errors.append(f"{name} cannot be parsed ({exc.__class__.__name__}): fix the logged model")
    return DependencyReport(
        files=tuple(found),
        requirements=tuple(reqs),
        allow_unpinned=tuple(allow_unpinned),
        errors=tuple(errors),
    )


def download_environment_files(handle: ModelHandle, dest: Path, names: Sequence[str] = ENV_FILES) -> Path:
    """Download the model version's environment files (only those, not the model) into ``dest``.

    The version's storage location is resolved through the registry the handle came from (never
    the process-wide default URIs), which works for MLflow 3 logged models (``models:/m-...``) and
    for MLflow 2 run artifacts alike.
    """
    import mlflow.artifacts
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        client = MlflowClient(tracking_uri=handle.tracking_uri, registry_uri=handle.registry_uri or None)
        root = client.get_model_version_download_uri(handle.name, str(handle.version))
        present = {
            Path(a.path).name
            for a in mlflow.artifacts.list_artifacts(artifact_uri=root, tracking_uri=handle.tracking_uri)
            if not a.is_dir
        }
    except MlflowException as exc:
        raise RegistryUnavailable(
            f"cannot list the files of {handle.uri} in {redact(handle.tracking_uri)}: {_first_line(exc)}"
        ) from None
    for name in names:
        if name not in present:
            continue
        try:
            with _no_progress_bar():
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{root.rstrip('/')}/{name}",
                    dst_path=str(dest),
                    tracking_uri=handle.tracking_uri,
                )
        except (MlflowException, OSError) as exc:
            raise ModelLoadError(f"cannot download {name} of {handle.uri}: {_first_line(exc)}") from None
    return dest


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """MLflow draws a tqdm bar per downloaded file on stderr; three tiny files need none."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    previous = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


# --- reproducibility: can the run be repeated? ---------------------------------------------------

DATA_DIGEST_TAG = "data_sha256"


@dataclass(frozen=True)
class ReproducibilityReport:
    """Seed, data digest and commit recorded on the source run, and what is missing."""

    seed: tuple[str, str] | None  # (param name, value)
    seed_candidates: tuple[str, ...]  # params that look like a seed but hold no integer (e.g. "None")
    data_digests: tuple[str, ...]  # where a data digest was found: "run tag data_sha256", "train digest"
    commit: str | None
    dirty: bool
    missing_params: tuple[str, ...]
    seed_params: tuple[str, ...]

    @property
    def problems(self) -> list[str]:
        out = []
        if self.seed is None:
            names = ", ".join(self.seed_params)
            if self.seed_candidates:
                out.append(
                    f"seed param {', '.join(self.seed_candidates)} is not a fixed integer: log e.g. "
                    f"mlflow.log_param('seed', 42)"
                )
            else:
                out.append(f"no random seed param logged (looked for {names}): log one with mlflow.log_param")
        if not self.data_digests:
            out.append(
                f"no data digest: log the datasets with mlflow.log_input or set a '{DATA_DIGEST_TAG}' tag"
            )
        if not self.commit:
            out.append("no git commit: run training from a git checkout ('mlflow.source.git.commit' tag)")
        elif self.dirty:
            out.append(f"commit {self.commit[:12]} was dirty at training time (uncommitted changes)")
        if self.missing_params:
            out.append(f"required params not logged: {', '.join(self.missing_params)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed_param": self.seed[0] if self.seed else None,
            "seed": self.seed[1] if self.seed else None,
            "seed_params_policy": list(self.seed_params),
            "data_digests": list(self.data_digests),
            "git_commit": self.commit,
            "dirty": self.dirty,
            "missing_params": list(self.missing_params),
        }


def check_reproducibility(
    run: Any, seed_params: Sequence[str], required_params: Sequence[str] = ()
) -> ReproducibilityReport:
    """Judge a ``RunRecord``: a fixed integer seed, a data digest, the git commit, required params.

    A seed param matches by name, case-insensitively, also as the last part of a dotted, prefixed
    or scikit-learn nested name (``model.random_state``, ``logisticregression__random_state``, as
    autolog logs a ``make_pipeline`` model's steps); its value must be an integer (sklearn autolog records
    ``random_state=None`` for an unseeded model).
    """
    from pytest_release_audit.handle.model import GIT_DIRTY_TAG

    params = {str(k): str(v) for k, v in (run.params or {}).items()}
    wanted = [s.lower() for s in seed_params]
    seed = None
    candidates = []
    for name in sorted(params):
        lower = name.lower()
        if not any(lower == w or lower.endswith(("." + w, "/" + w, "__" + w)) for w in wanted):
            continue
        if re.fullmatch(r"\s*-?\d+\s*", params[name]):
            seed = (name, params[name].strip())
            break
        candidates.append(f"{name}={params[name][:20]}")
    digests = []
    if run.tags.get(DATA_DIGEST_TAG):
        digests.append(f"run tag {DATA_DIGEST_TAG}")
    for ds in run.inputs:
        label = ds.context or ds.name
        if ds.tags.get(DATA_DIGEST_TAG):
            digests.append(f"{label}: {DATA_DIGEST_TAG} tag")
        elif ds.digest:
            digests.append(f"{label}: dataset digest")
    commit = run.git_commit
    dirty = str(run.tags.get(GIT_DIRTY_TAG, "")).strip().lower() in ("true", "1", "yes")
    missing = tuple(p for p in required_params if p not in params)
    return ReproducibilityReport(
        seed=seed,
        seed_candidates=tuple(candidates) if seed is None else (),
        data_digests=tuple(digests),
        commit=commit,
        dirty=dirty,
        missing_params=missing,
        seed_params=tuple(seed_params),
    )
