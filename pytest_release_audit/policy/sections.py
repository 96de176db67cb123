# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""One pydantic model per policy section, with today's defaults.

Every model is frozen, strict (an int is accepted where a number is expected, nothing else is
coerced) and forbids unknown keys. Lists of strings are tuples, so a section cannot be changed
through its attributes. The serving and release-evidence sections live in ``operations``
and are re-exported here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pytest_release_audit.policy.base import Section, StrList, plain, policy_keys, rule_error, shown
from pytest_release_audit.policy.operations import (
    RETENTION_MINIMUM_YEARS,
    SERVING_PROTOCOLS,
    DataValidationPolicy,
    DriftPolicy,
    LatencyPolicy,
    OperationalReadinessPolicy,
    ReadinessItem,
    RetentionPolicy,
    ServingPolicy,
)

TASK_KINDS: tuple[str, ...] = ("", "survival", "binary", "multiclass", "regression")


class AuditPolicy(Section):
    """``[audit]``: the built-in suite's child session."""

    checks_timeout_s: float = 3600.0


class ModelArtifactPolicy(Section):
    """``[model_artifact]``: the model worker and OpenSSF model-signing (verified offline)."""

    worker_timeout_s: float = 600.0  # load + one prediction in the model worker
    require_signature: bool = False
    public_key: str = ""  # PEM public key (key mode)
    certificate_chain: StrList = ()  # PEM certificates (certificate mode)
    signature_file: str = "model.sig"  # inside the model's artifact directory


class TaskPolicy(Section):
    """``[task]``: the task kind and its columns ("" = from model tags, else inferred)."""

    kind: str = ""
    duration_col: str = ""
    event_col: str = ""
    label_col: str = ""
    id_columns: StrList = ()
    exclude_features: StrList = ()
    # Columns that are never the label: the [bias] columns (``Policy.task_for_data`` adds them).
    group_columns: StrList = ()

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in TASK_KINDS:
            raise rule_error(f"must be survival, binary, multiclass or regression, got {shown(value)}")
        return value


class LineagePolicy(Section):
    """``[lineage]``: DVC at the training commit ("auto": verified when the commit has DVC files)."""

    dvc: str = "auto"  # "required": a commit without dvc.lock / .dvc files fails lineage

    @field_validator("dvc")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value not in ("auto", "required"):
            raise rule_error(f"must be 'auto' or 'required', got {shown(value)}")
        return value


class DataIntegrityPolicy(Section):
    """``[data_integrity]``: dataset digests, readable roots and the size limit."""

    require_full_digest: bool = False  # require a data_sha256 tag on every dataset
    allowed_roots: StrList = ()  # more directories data may be read from (rootdir-relative)
    max_dataset_gb: float = 200.0  # a larger dataset is refused, not read


class DatasetMapping(Section):
    """``[datasets."NAME"]``: the file(s) holding a logged dataset recorded without one (autolog).

    ``path`` is a rootdir-relative or absolute path, or a list of them (autolog logs its train and
    eval frames under one name). A file is used only if it reproduces the logged MLflow digest and
    row count; it is read under the same rules as a logged source (regular files, allowed roots).
    """

    path: StrList

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple) and (not value or any(not isinstance(v, str) or not v.strip()
                                                                  for v in value)):
            raise rule_error("must be a non-empty path or list of non-empty paths")
        return value


class EnginePolicy(Section):
    """``[engine]``: where the data checks run.

    ``data = "pandas"`` (default) reads every dataset into this process. ``data = "spark"`` reads
    datasets whose MLflow source is a Spark source, a Delta table or a directory of Parquet parts
    with Spark, and runs data_integrity, pii, leakage and lineage on the executors; only the
    evaluation frame the models score is brought to the driver (at most ``max_driver_rows`` rows).
    ``master`` and ``conf`` configure the SparkSession; the environment wins over them:
    ``SPARK_MASTER`` (the master URL) and ``RELEASE_AUDIT_SPARK_CONF_<KEY>`` with the key's dots
    written as ``__`` (``RELEASE_AUDIT_SPARK_CONF_spark__executor__memory=4g``).
    """

    data: str = "pandas"
    master: str = "local[2]"
    conf: dict[str, str] = Field(default_factory=dict)  # Spark configuration key -> value
    max_driver_rows: int = 5_000_000

    @field_validator("data")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ("pandas", "spark"):
            raise rule_error(f"must be pandas or spark, got {shown(value)}")
        return value

    @field_validator("master")
    @classmethod
    def _master_given(cls, value: str) -> str:
        if not value.strip():
            raise rule_error("must be a Spark master URL (local[2], yarn, k8s://https://HOST:PORT, spark://HOST:PORT)")
        return value

    @field_validator("max_driver_rows")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise rule_error(f"must be a positive number of rows, got {shown(value)}")
        return value


class EvaluationArtifactsPolicy(Section):
    """``[evaluation_artifacts]``: artifacts and metrics the evaluation must log."""

    required: StrList = ()
    require_metrics: bool = True


class SignaturePolicy(Section):
    """``[signature]``: the MLflow model signature."""

    require_input_example: bool = True


class PiiPolicy(Section):
    """``[pii]``: the PII scan.

    ``ner_model``: "auto" = the first installed official English spaCy pipeline (en_core_web_lg,
    _md, _sm, _trf), else patterns + name list; "" = patterns + name list; else an installed
    pipeline's package name or a saved pipeline's path. ``require_ner``: fail without one.
    """

    ner_model: str = "auto"
    require_ner: bool = False
    threshold: float = 0.5
    entities: StrList = ()  # entity types that block; () = every detectable type
    ignore_entities: StrList = ("DATE_TIME", "URL")
    skip_columns: dict[str, str] = Field(default_factory=dict)  # column -> reason
    allow: dict[str, StrList] = Field(default_factory=dict)  # column -> allowed entity types
    patterns: dict[str, str] = Field(default_factory=dict)  # ENTITY_NAME -> regex
    max_findings: int = 20


class LeakagePolicy(Section):
    """``[leakage]``: identifier overlap and duplicate rows between splits."""

    id_columns: StrList = ()  # () = patient_id when present
    check_duplicate_rows: bool = True


class DataLicensePolicy(Section):
    """``[data_license]``: dataset licence tags and the per-target allow-lists."""

    tag_keys: StrList = ("license", "data_license", "usage")
    allowed: dict[str, StrList] = Field(default_factory=dict)  # target -> allowed licence values


class IpHeadersPolicy(Section):
    """``[ip_headers]``: the SPDX licences source files may carry."""

    allowed_licenses: StrList = (
        "Apache-2.0",
        "MIT",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "CC0-1.0",
        "CC-BY-4.0",
        "LicenseRef-Internal",
        "LicenseRef-Internal-Only",
        "LicenseRef-Proprietary",
    )


class SecurityPolicy(Section):
    """``[security]``: findings at or above ``severity`` and ``confidence`` block."""

    severity: str = "MEDIUM"
    confidence: str = "MEDIUM"
    require_nosec_justification: bool = False
    exclude: StrList = ()


class DependenciesPolicy(Section):
    """``[dependencies]``: requirements allowed without a pin."""

    # MLflow itself writes `pip<=X` (conda.yaml) and a bare `wheel` (python_env.yaml)
    allow_unpinned: StrList = ("pip", "setuptools", "wheel")


class ReproducibilityPolicy(Section):
    """``[reproducibility]``: the run parameters that make training repeatable."""

    seed_params: StrList = ("seed", "random_state", "random_seed")
    required_params: StrList = ()


class PerformancePolicy(Section):
    """``[performance]``: the gate against the baseline ("" metric = the task's default)."""

    metric: str = ""  # c_index (survival), roc_auc (binary), rmse (regression)
    min_delta: float = 0.0
    require_significant: bool = False
    min_value: dict[str, float] = Field(default_factory=dict)  # metric -> absolute floor
    first_release: bool = False
    n_bootstrap: int = 1000
    seed: int = 20241201
    confidence: float = 0.95
    metric_tolerance: float = 0.005


class BiasPolicy(Section):
    """``[bias]``: subgroup performance (None limits: the metric's defaults)."""

    columns: StrList = ()
    min_n: int = 30
    floor: float | None = None  # None: metrics.subgroups.DEFAULT_LIMITS
    max_gap: float | None = None
    calibration_bins: int = 10
    # Per bin, when Hosmer-Lemeshow rejects. None: 0.15 for probabilities; survival risk scores
    # (arbitrary scale) are judged only when the policy sets a limit.
    max_calibration_error: float | None = None


class ModelCardPolicy(Section):
    """``[model_card]``: the generated model card."""

    template: str = ""
    output_dir: str = "docs/model_cards"
    limitations: StrList = ()
    task: str = ""
    modality: str = ""
    architecture: str = ""
    license: str = ""


class ApprovalsPolicy(Section):
    """``[approvals]``: the roles each target and risk tier needs, and their signers."""

    required: dict[str, StrList] = Field(default_factory=dict)  # target -> roles
    tier_roles: dict[str, StrList] = Field(default_factory=dict)  # risk tier -> extra roles
    risk: dict[str, float] = Field(default_factory=dict)  # factor -> score 0..10 (overrides tags)
    # role -> allowed_signers file (ssh-keygen format); RELEASE_AUDIT_SIGNERS_DIR from the CI wins
    signers: dict[str, str] = Field(default_factory=dict)


class PromotionPolicy(Section):
    """``[promotion]``: the alias a READY version gets."""

    alias: str = "production-candidate"


class NotifyPolicy(Section):
    """``[notify]``: webhook delivery."""

    timeout_s: float = 5.0
    retries: int = 2


#: Re-exported: the sections of ``operations`` and the helpers of ``base`` are importable from here.
REEXPORTED = (
    RETENTION_MINIMUM_YEARS,
    SERVING_PROTOCOLS,
    DataValidationPolicy,
    DriftPolicy,
    LatencyPolicy,
    OperationalReadinessPolicy,
    ReadinessItem,
    RetentionPolicy,
    Section,
    ServingPolicy,
    StrList,
    plain,
    policy_keys,
    rule_error,
    shown,
)
