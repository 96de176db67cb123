# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""One pydantic model per policy section, with today's defaults.

Every model is frozen, strict (an int is accepted where a number is expected, nothing else is
coerced) and forbids unknown keys. Lists of strings are tuples, so a section cannot be changed
through its attributes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pytest_release_audit.retention import DEFAULT_YEARS

#: A TOML array of strings, held as a tuple.
StrList = Annotated[tuple[str, ...], Strict(False)]

TASK_KINDS: tuple[str, ...] = ("", "survival", "binary", "multiclass", "regression")


def shown(value: Any) -> str:
    """``repr(value)`` cut to one short line, for "got ..." in a message."""
    from pytest_release_audit.report.text import one_line  # late: report.build reads the policy

    return one_line(repr(value), 100)


def rule_error(detail: str, key: str = "") -> PydanticCustomError:
    """A semantic policy error: ``detail`` follows "policy key 'PATH'"; ``key`` extends PATH."""
    return PydanticCustomError("policy", "{detail}", {"detail": detail, "key": key})


def policy_keys(model: type[BaseModel]) -> dict[str, str]:
    """The keys a policy table of ``model`` accepts (a field's alias, else its name) -> field names."""
    return {field.alias or name: name for name, field in model.model_fields.items()}


class Section(BaseModel):
    """Base of every policy table: frozen, strict, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


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


class DataValidationPolicy(Section):
    """``[data_validation]``: the run's Great Expectations validation result (GX 1.x JSON artifact)."""

    # run artifact globs holding a validation result: without "/" a glob matches the file name in any folder
    artifact: StrList = ("validation*.json",)
    required: StrList = ()  # targets for which a validation result must be logged

    @field_validator("required")
    @classmethod
    def _known_targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in ("development", "staging", "production")]
        if unknown:
            raise rule_error(f"lists unknown targets {shown(unknown)}: use development, staging, production")
        return value


class ReadinessItem(Section):
    """``[operational_readiness.items.NAME]``: one item and what evidences it.

    ``path``: a file at the training commit (its age: the last commit that changed it); ``tag``: a
    version or run tag whose value is an ISO date (or ``artifact``: a run artifact path, dated by
    the run's start); ``max_age_days``: how old the evidence may be (0: any age).
    """

    description: str = ""
    path: StrList = ()
    tag: str = ""
    artifact: str = ""
    max_age_days: int = 0

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("max_age_days")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise rule_error(f"must be 0 (any age) or a number of days, got {value}")
        return value

    @model_validator(mode="after")
    def _evidenced_somehow(self) -> ReadinessItem:
        if not (self.path or self.tag.strip() or self.artifact.strip()):
            raise rule_error("names no evidence: set path (a file at the training commit), tag or artifact")
        if any(not p.strip() or p.startswith(("/", "-")) or ".." in p.split("/") for p in self.path):
            raise rule_error("path must be repository-relative, without '..' and not starting with '/' or '-', "
                             f"got {shown(self.path)}")
        return self


class OperationalReadinessPolicy(Section):
    """``[operational_readiness]``: monitoring, alerting, rollback, incident response, change management."""

    required: StrList = ("production",)  # targets for which every listed item must be evidenced
    items: dict[str, ReadinessItem] = Field(default_factory=dict)

    @field_validator("required")
    @classmethod
    def _known_targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in ("development", "staging", "production")]
        if unknown:
            raise rule_error(f"lists unknown targets {shown(unknown)}: use development, staging, production")
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


SERVING_PROTOCOLS: tuple[str, ...] = ("contract", "mlflow")


class ServingPolicy(Section):
    """``[serving]``: the live endpoint the ``serving_contract`` check probes.

    ``protocol``: "contract" (seed 001's ``/health``, ``/model-info``, ``/predict``) or "mlflow"
    (``mlflow models serve``: ``/ping``, ``/version``, ``/invocations``). ``required``: the targets
    for which the model is served, so an endpoint must be given and verified. The bearer token, if
    the endpoint needs one, comes from the CI's environment (``RELEASE_AUDIT_ENDPOINT_TOKEN``) and is
    sent only to the endpoint the CI names in ``RELEASE_AUDIT_ENDPOINT``; it is never printed.
    """

    url: str = ""
    protocol: str = "contract"
    required: StrList = ()  # targets the model is served for: the endpoint must be verified
    probability_tolerance: float = 1e-6
    rows: int = 5  # evaluation rows sent and compared with the audited model's own scores
    timeout_s: float = 10.0

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if value not in SERVING_PROTOCOLS:
            raise rule_error(f"must be contract or mlflow, got {shown(value)}")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise rule_error(f"must be an http:// or https:// URL, got {shown(value)}")
        return value

    @field_validator("rows")
    @classmethod
    def _some_rows(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise rule_error(f"must be between 1 and 100, got {shown(value)}")
        return value


class LatencyPolicy(Section):
    """``[latency]``: prediction latency against the SLO (seed 002: p95 <= 2000 ms for production).

    Measured on the endpoint when one is given, else as the round trip from the auditor to the
    model's worker process, on evaluation rows; ``warmup`` requests are not counted and the whole
    measurement stops after ``max_seconds``.
    """

    p95_ms: float = 2000.0
    p99_ms: float | None = None
    min_throughput_rps: float | None = None  # single-row requests per second, when set
    requests: int = 50  # single-row requests measured
    batch_requests: int = 10
    batch_size: int = 256
    warmup: int = 3
    max_seconds: float = 60.0

    @field_validator("requests", "batch_requests", "batch_size", "warmup")
    @classmethod
    def _counts(cls, value: int) -> int:
        if not 0 <= value <= 100_000:
            raise rule_error(f"must be between 0 and 100000, got {shown(value)}")
        return value


class DriftPolicy(Section):
    """``[drift]``: each model input's distribution, training baseline vs evaluation (and production).

    A feature drifts when its population stability index reaches ``psi_alarm`` and the shift is
    significant at ``significance`` (PSI scaled by the sample sizes is chi-square under no drift,
    so a small sample's noise is not an alarm). The Kolmogorov-Smirnov test (numeric inputs) is
    reported; it blocks only with ``fail_on_ks``. ``production_data``: a recent production sample
    (CSV or Parquet path, rootdir-relative), besides a dataset the run logged with context
    ``production``.
    """

    psi_alarm: float = 0.2
    psi_warn: float = 0.1
    bins: int = 10
    significance: float = 0.01
    ks_alpha: float = 0.01
    fail_on_ks: bool = False
    max_categories: int = 20
    columns: StrList = ()  # () = the model's inputs
    production_data: str = ""

    @field_validator("bins", "max_categories")
    @classmethod
    def _bins(cls, value: int) -> int:
        if not 2 <= value <= 100:
            raise rule_error(f"must be between 2 and 100, got {shown(value)}")
        return value


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


#: Seed 002's retention minimums, in years: the policy may lengthen a period, never shorten it.
RETENTION_MINIMUM_YEARS = DEFAULT_YEARS


class RetentionPolicy(Section):
    """``[retention]``: how long the evidence of a release is kept, in whole years (seed 002).

    The policy is untrusted (it lives in the audited repository), so a period can be lengthened
    but not set below seed 002's minimums: a shorter period would let evidence be pruned early.
    """

    model_artifacts_years: int = RETENTION_MINIMUM_YEARS["model_artifacts"]
    audit_logs_years: int = RETENTION_MINIMUM_YEARS["audit_logs"]
    approval_records_years: int = RETENTION_MINIMUM_YEARS["approval_records"]

    @field_validator("model_artifacts_years", "audit_logs_years", "approval_records_years")
    @classmethod
    def _not_below_minimum(cls, value: int, info: Any) -> int:
        kind = str(info.field_name).removesuffix("_years")
        minimum = RETENTION_MINIMUM_YEARS[kind]
        if not minimum <= value <= 100:
            raise rule_error(f"must be between {minimum} (seed 002's minimum for {kind.replace('_', ' ')}) and "
                             f"100 years, got {shown(value)}: the policy can lengthen retention, not shorten it")
        return value

    def periods(self) -> dict[str, int]:
        """Kind of evidence -> years it is kept."""
        return {kind: getattr(self, f"{kind}_years") for kind in RETENTION_MINIMUM_YEARS}


def plain(value: Any) -> Any:
    """``value`` with tuples as lists and mappings as dicts, recursively (TOML-shaped data)."""
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value
