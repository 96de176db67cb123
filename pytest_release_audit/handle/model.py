# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""ModelHandle: immutable facts about one registered model version, read once from the registry.

A handle is the ``audit_model`` / ``audit_baseline`` fixture. Everything on it was read when the
handle was resolved; only the model itself is loaded lazily, on the first ``predict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.report.model import ModelRef

#: MLflow's run tag for the git commit of the code that ran.
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_REPO_TAG = "mlflow.source.git.repoURL"
GIT_DIRTY_TAG = "mlflow.source.git.dirty"  # our builder's / user's marker for uncommitted changes

#: Dataset contexts that count as training data and as held-out evaluation data.
TRAINING_CONTEXTS = ("training", "train")
EVALUATION_CONTEXTS = ("evaluation", "eval", "test", "validation")


@dataclass(frozen=True)
class DatasetRef:
    """One dataset logged as an input of the source run (``mlflow.log_input``)."""

    name: str
    digest: str
    source_type: str
    source: str  # URI or path as logged (already unwrapped from MLflow's JSON source)
    context: str | None
    tags: dict[str, str] = field(default_factory=dict)  # input tags + dataset-level tags
    targets: str | None = None
    schema: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    #: MLflow's source as logged when it is a JSON object (Spark: path / table_name, Delta: version)
    source_details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_training(self) -> bool:
        return (self.context or "").lower() in TRAINING_CONTEXTS

    @property
    def is_evaluation(self) -> bool:
        return (self.context or "").lower() in EVALUATION_CONTEXTS

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
            "context": self.context,
            "tags": dict(self.tags),
            "targets": self.targets,
        }


@dataclass(frozen=True)
class RunRecord:
    """The MLflow run that produced a model version."""

    run_id: str
    experiment_id: str
    status: str
    start_time: int | None
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: tuple[str, ...]  # every artifact path, recursively, relative to the run root
    inputs: tuple[DatasetRef, ...]
    artifact_uri: str = ""
    # datasets recorded without a file (autolog's frames) whose role a logged file already fills
    set_aside: tuple[DatasetRef, ...] = ()

    @property
    def git_commit(self) -> str | None:
        return self.tags.get(GIT_COMMIT_TAG) or None

    @property
    def run_name(self) -> str | None:
        return self.tags.get("mlflow.runName")

    @property
    def evaluation_inputs(self) -> tuple[DatasetRef, ...]:
        return tuple(d for d in self.inputs if d.is_evaluation)


@dataclass(frozen=True)
class ModelHandle:
    """One registered model version and its source run.

    ``predict(X)`` loads the model in a worker process of its own on first use (the auditor never
    unpickles model code, see ``handle.worker``) and returns a 1-D numpy array of scores (for a
    classifier with ``predict_proba``, the positive-class
    probability; for survival, a risk score where higher means earlier events).
    """

    name: str
    version: str
    tracking_uri: str
    registry_uri: str
    aliases: tuple[str, ...] = ()
    requested_alias: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source: str = ""  # the version's storage location (e.g. models:/m-.. or runs:/../model)
    run: RunRecord | None = None
    model_tags: dict[str, str] = field(default_factory=dict)  # registered-model-level tags
    model_description: str = ""
    created_at: int | None = None
    model_meta: dict[str, Any] = field(default_factory=dict)  # flavors, signature, input example

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    @property
    def ref(self) -> ModelRef:
        """This version as the reports name it."""
        from pytest_release_audit.report.model import ModelRef  # reports depend on handles, not back

        return ModelRef(
            name=self.name,
            version=str(self.version),
            alias=self.requested_alias,
            run_id=self.run_id,
            uri=self.uri,
        )

    def tag(self, key: str, default: str | None = None) -> str | None:
        """A version tag, else a run tag, else a registered-model tag."""
        if key in self.tags:
            return self.tags[key]
        if self.run and key in self.run.tags:
            return self.run.tags[key]
        return self.model_tags.get(key, default)

    def predict(self, X: Any) -> Any:
        """Scores for ``X`` (a pandas DataFrame) as a 1-D float numpy array, from the model's worker."""
        from pytest_release_audit.handle.loading import predict_scores

        return predict_scores(self, X)
