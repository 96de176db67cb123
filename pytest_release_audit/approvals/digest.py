# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The version digest: sha256 over the registry facts of a model version an approval is bound to."""

from __future__ import annotations

import json
from typing import Any

from pytest_release_audit.errors import RegistryUnavailable, describe_exception
from pytest_release_audit.files import sha256_text

#: Files MLflow or Python write into a local artifact store when a version is *loaded*: MLflow
#: drops ``registered_model_meta`` (name and version of the loader) into the model directory on
#: every ``models:/NAME/VERSION`` download from a local store, and importing ``code_paths`` can
#: leave ``__pycache__``. They are not model content; counting them would void every approval
#: the first time an audit loads the model.
LOAD_DROPPINGS = ("registered_model_meta",)


def is_load_dropping(path: str) -> bool:
    """True for a file that merely loading a model writes into its directory (not model content)."""
    parts = path.replace("\\", "/").split("/")
    return parts[-1] in LOAD_DROPPINGS or "__pycache__" in parts or parts[-1].endswith(".pyc")


def _list_tree(list_fn: Any, path: str | None, depth: int = 0) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    if depth > 8:
        return out
    for entry in list_fn(path):
        if is_load_dropping(entry.path):
            continue
        if entry.is_dir:
            out.extend(_list_tree(list_fn, entry.path, depth + 1))
        else:
            out.append((entry.path, int(entry.file_size or 0)))
    return out


def _model_artifacts(client: Any, source: str, run_id: str | None) -> list[tuple[str, int]] | None:
    """(path, size) of the version's model files; None when MLflow cannot list that source kind."""
    if source.startswith("models:/m-"):
        model_id = source[len("models:/") :].split("/", 1)[0]
        return sorted(_list_tree(lambda p: client.list_logged_model_artifacts(model_id, p), None))
    if source.startswith("runs:/"):
        rest = source[len("runs:/") :]
        src_run, _, sub = rest.partition("/")
        return sorted(_list_tree(lambda p: client.list_artifacts(src_run or run_id, p), sub or None))
    return None


def version_facts(client: Any, name: str, version: str | int) -> dict[str, Any]:
    """The registry facts the version digest covers (plain JSON)."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, str(version))
        datasets: list[list[str | None]] = []
        if mv.run_id:
            run = client.get_run(mv.run_id)
            for di in run.inputs.dataset_inputs if run.inputs else []:
                tags = {t.key: t.value for t in (di.tags or [])}
                datasets.append([di.dataset.name, di.dataset.digest, tags.get("mlflow.data.context")])
        artifacts = _model_artifacts(client, mv.source or "", mv.run_id)
    except MlflowException as exc:
        raise RegistryUnavailable(
            f"cannot read {name}/{version} to compute its digest ({describe_exception(exc)}): check the name, "
            "version and tracking URI"
        ) from None
    return {
        "name": name,
        "version": str(mv.version),
        "created": mv.creation_timestamp,
        "run_id": mv.run_id,
        "source": mv.source,
        "datasets": sorted(datasets, key=lambda d: [str(x) for x in d]),
        "artifacts": [list(a) for a in artifacts] if artifacts is not None else None,
    }


def digest_of(facts: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``facts``."""
    return sha256_text(json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def version_digest(client: Any, name: str, version: str | int) -> str:
    """sha256 identifying the content of ``name`` version ``version`` (see the module docstring)."""
    return digest_of(version_facts(client, name, version))
