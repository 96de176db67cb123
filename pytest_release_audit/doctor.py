# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""What a training run must record for each built-in check, and ``release-audit doctor``.

``ROWS`` is the one list: the README's table "What your training run must record" is rendered
from it (``readme_table``; ``tests/test_readme.py`` checks the README is current) and
``release-audit doctor NAME[@ALIAS|/VERSION]`` probes one model version against it, printing
✓ (recorded), ✗ (missing: the MLflow call to add) or – (not applicable / checked only by the
audit) per row. The doctor reads registry metadata only: it never loads or unpickles a model
and reads no dataset (a dataset file is only ``stat``-ed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import TaskSpec
    from pytest_release_audit.handle.model import DatasetRef, ModelHandle
    from pytest_release_audit.policy import Policy

OK, MISSING, NA = "✓", "✗", "–"
_ASCII = {OK: "ok", MISSING: "NO", NA: "-"}


@dataclass
class Facts:
    """What the doctor knows about one version: handle, policy, registry client, where files are."""

    handle: ModelHandle
    policy: Policy
    client: Any
    base_dirs: list[Path]
    target: str = "production"
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> tuple[DatasetRef, ...]:
        return self.handle.run.inputs if self.handle.run else ()

    @property
    def evaluation(self) -> DatasetRef | None:
        return next((d for d in self.inputs if d.is_evaluation), None)

    @property
    def task(self) -> TaskSpec | None:
        if "task" not in self.cache:
            from pytest_release_audit.task import infer_task

            ref = self.evaluation or next(iter(self.inputs), None)
            self.cache["task"] = infer_task(self.handle, self.policy.task_for_data(), ref, schema_columns(ref)) \
                if ref is not None else None
        task: TaskSpec | None = self.cache["task"]
        return task


Probe = Callable[[Facts], tuple[str, str]]


@dataclass(frozen=True)
class Row:
    """One fact a check reads: what, the call that records it (``{name}``/``{version}`` filled in), without it."""

    checks: str
    reads: str
    call: str
    without: str
    probe: Probe


def schema_columns(ref: DatasetRef | None) -> list[str]:
    """Column names MLflow recorded in a dataset's schema (no data read)."""
    schema = (ref.schema if ref is not None else None) or {}
    spec = schema.get("mlflow_colspec") if isinstance(schema, dict) else None
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            spec = None
    return [str(c["name"]) for c in spec or [] if isinstance(c, dict) and c.get("name")]


# -- probes ----------------------------------------------------------------------------------
def _datasets(context: str) -> Probe:
    def probe(facts: Facts) -> tuple[str, str]:
        found = [d.name for d in facts.inputs if (d.is_training if context == "training" else d.is_evaluation)]
        return (OK, ", ".join(found)) if found else (MISSING, f"no dataset logged with context='{context}'")
    return probe


def _file_state(ref: DatasetRef, base_dirs: list[Path]) -> str:
    """"" when the logged source is a file the audit can read (stat only), else why not."""
    source = (ref.source or "").strip()
    if ref.source_type == "code" or source.startswith("{") or not source:
        return "recorded without a file (source type code: autolog or from_pandas without source=)"
    parsed = urlparse(source)
    scheme = parsed.scheme.lower()
    if scheme in ("runs", "mlflow-artifacts", "models", "s3", "gs", "wasbs", "abfss", "dbfs", "hdfs"):
        return ""  # an artifact the audit downloads
    if scheme in ("http", "https"):
        return f"HTTP source {source[:60]}: the audit fetches nothing from the internet"
    path = Path(unquote(parsed.path)) if scheme == "file" else Path(source)
    candidates = [path] if path.is_absolute() else [b / path for b in base_dirs]
    if any(c.is_file() for c in candidates):
        return ""
    return f"{source} not found (looked in {', '.join(str(c.parent) for c in candidates[:3])})"


def _files(facts: Facts) -> tuple[str, str]:
    if not facts.inputs:
        return NA, "no datasets logged"
    problems = [f"{d.name}: {why}" for d in facts.inputs if (why := _file_state(d, facts.base_dirs))]
    if problems:
        return MISSING, "; ".join(problems[:3])
    return OK, f"{len(facts.inputs)} dataset file(s) found"


def _tagged(keys: tuple[str, ...], label: str) -> Probe:
    def probe(facts: Facts) -> tuple[str, str]:
        if not facts.inputs:
            return NA, "no datasets logged"
        lacking = [d.name for d in facts.inputs if not any(str(d.tags.get(k, "")).strip() for k in keys)]
        if lacking:
            return MISSING, f"no {label} tag on {', '.join(lacking[:5])}"
        return OK, f"{len(facts.inputs)} dataset(s) tagged"
    return probe


def _license(facts: Facts) -> tuple[str, str]:
    return _tagged(tuple(facts.policy.section("data_license")["tag_keys"]), "licence")(facts)


def _ids(facts: Facts) -> tuple[str, str]:
    task = facts.task
    policy_ids = list(facts.policy.section("leakage")["id_columns"])
    if policy_ids:
        return OK, f"policy leakage.id_columns: {', '.join(policy_ids)}"
    if task is not None and task.id_columns:
        return OK, f"id column {', '.join(task.id_columns)}"
    return MISSING, "no id column recorded: patient overlap is not checked (only duplicate records)"


def _task(facts: Facts) -> tuple[str, str]:
    task = facts.task
    if task is None:
        return MISSING, "no dataset logged: task and label cannot be inferred"
    if task.kind == "survival":
        if task.duration_col and task.event_col:
            return OK, f"survival: duration {task.duration_col}, event {task.event_col}"
        return MISSING, "survival task without duration/event columns"
    if task.label_col:
        return OK, f"{task.kind}: label {task.label_col}"
    return MISSING, f"{task.kind or 'unknown task'}: no label column found"


def _commit(facts: Facts) -> tuple[str, str]:
    commit = facts.handle.run.git_commit if facts.handle.run else None
    return (OK, f"commit {commit[:12]}") if commit else (MISSING, "the run has no mlflow.source.git.commit tag")


def _seed(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.scanners.dependencies import check_reproducibility

    if facts.handle.run is None:
        return MISSING, "no source run"
    section = facts.policy.section("reproducibility")
    report = check_reproducibility(facts.handle.run, section["seed_params"], section["required_params"])
    if report.seed is None:
        near = f" ({', '.join(report.seed_candidates)} is not an integer)" if report.seed_candidates else ""
        return MISSING, f"no integer {' / '.join(section['seed_params'])} param{near}"
    if report.missing_params:
        return MISSING, f"required params missing: {', '.join(report.missing_params)}"
    return OK, f"{report.seed[0]}={report.seed[1]}"


def _requirements(facts: Facts) -> tuple[str, str]:
    import tempfile

    from pytest_release_audit.errors import AuditError
    from pytest_release_audit.scanners.dependencies import check_environment_files, download_environment_files

    with tempfile.TemporaryDirectory(prefix="release-audit-doctor-") as tmp:
        try:  # the environment files only (text), never the model
            folder = download_environment_files(facts.handle, Path(tmp))
        except AuditError as exc:
            return MISSING, str(exc)[:200]
        report = check_environment_files(folder, facts.policy.section("dependencies")["allow_unpinned"])
    if not report.files:
        return MISSING, "no requirements.txt / conda.yaml / python_env.yaml with the model"
    if report.unpinned:
        return MISSING, f"not pinned with ==: {', '.join(r.name for r in report.unpinned[:5])}"
    return OK, f"{len(report.pinned)} pinned in {', '.join(report.files)}"


def _baseline(facts: Facts) -> tuple[str, str]:
    if facts.policy.section("performance").get("first_release"):
        return NA, "policy performance.first_release = true"
    wanted = str(facts.policy.get("baseline") or "production").strip()
    name, alias = facts.handle.name, wanted
    if "@" in wanted:  # models:/NAME@ALIAS or NAME@ALIAS
        name, alias = wanted.removeprefix("models:/").split("@", 1)
    elif "/" in wanted or ":" in wanted:
        return NA, f"baseline {wanted} (a version URI: resolved by the audit)"
    try:
        version = facts.client.get_model_version_by_alias(name, alias).version
    except Exception:  # MlflowException: no such model or alias
        return MISSING, f"{name} has no alias '{alias}'"
    return OK, f"{name}@{alias} is v{version}"


def _metrics(facts: Facts) -> tuple[str, str]:
    run = facts.handle.run
    metrics = sorted(run.metrics) if run else []
    required = list(facts.policy.section("evaluation_artifacts")["required"])
    artifacts = set(run.artifacts) if run else set()
    missing = [a for a in required if a not in artifacts and not any(p.endswith("/" + a) for p in artifacts)]
    if not metrics:
        return MISSING, "the run logged no metrics"
    if missing:
        return MISSING, f"required artifacts missing: {', '.join(missing)}"
    artifacts_note = f", {len(required)} required artifact(s)" if required else ""
    return OK, f"{len(metrics)} metric(s) ({', '.join(metrics[:4])}){artifacts_note}"


def _subgroups(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.metrics.subgroups import pick_columns

    columns = schema_columns(facts.evaluation)
    if not columns:
        return MISSING, "no evaluation dataset schema to find subgroup columns in"
    used, missing = pick_columns(list(facts.policy.section("bias")["columns"]), columns)
    if missing:
        return MISSING, f"bias columns not in the evaluation data: {', '.join(missing)}"
    if not used:
        return MISSING, "no subgroup column (policy [bias] columns, or age_band, sex, ...)"
    return OK, ", ".join(used)


def _signature(facts: Facts) -> tuple[str, str]:
    meta = facts.handle.model_meta or {}
    lacking = [what for what in ("signature", "input_example") if not meta.get(what)]
    if lacking:
        return MISSING, f"logged without {' and '.join(w.replace('_', ' ') for w in lacking)}"
    inputs = (meta.get("signature") or {}).get("inputs") or []
    return OK, f"{len(inputs)} input(s), input example saved"


def _endpoint(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.rules.serving import choose_endpoint

    section = facts.policy.section("serving")
    choice = choose_endpoint(None, section, facts.target)
    if choice.given:
        return OK, f"endpoint {choice.url.split('@')[-1]} ({section['protocol']} protocol), named by {choice.named_by}"
    if choice.required:
        return MISSING, f"{choice.required_by}, but no endpoint is configured"
    return NA, "no endpoint: serving_contract not applicable, latency timed on the model worker"


def _production_sample(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.rules.drift import PRODUCTION_CONTEXTS

    if facts.policy.section("drift")["production_data"]:
        return OK, "policy [drift] production_data"
    logged = [d.name for d in facts.inputs if (d.context or "").lower() in PRODUCTION_CONTEXTS]
    if logged:
        return OK, ", ".join(logged)
    return NA, "no production sample: evaluation vs training only"


def _card(facts: Facts) -> tuple[str, str]:
    training = any(d.is_training for d in facts.inputs)
    inferred = facts.task.kind if facts.task else ""
    task = facts.handle.tag("task") or facts.policy.section("model_card").get("task") or inferred
    if not training:
        return MISSING, "no training dataset for the card's Training Data section"
    return (OK, f"task {task}") if task else (MISSING, "no task recorded")


def _validation(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.rules.data_validation import matching_artifacts

    section = facts.policy.section("data_validation")
    run = facts.handle.run
    found = matching_artifacts(run.artifacts if run else (), section["artifact"])
    if found:
        return OK, ", ".join(found[:3])
    if facts.target in section["required"]:
        return MISSING, f"no artifact matching {', '.join(section['artifact'])} (required for {facts.target})"
    return NA, "no validation result logged; not required by the policy"


def _readiness(facts: Facts) -> tuple[str, str]:
    section = facts.policy.section("operational_readiness")
    if not section["items"]:
        return NA, "policy [operational_readiness] lists no items"
    return NA, f"{len(section['items'])} item(s) checked by the audit at the training commit and on the version"


def _approvals(facts: Facts) -> tuple[str, str]:
    from pytest_release_audit.approvals import evaluate_approvals

    status = evaluate_approvals(facts.handle, facts.policy, facts.target, client=facts.client)
    if status.ok:
        return OK, f"{len(status.present)}/{len(status.required)} for {facts.target}"
    return MISSING, f"missing for {facts.target}: {', '.join(status.missing) or 'see release-audit approvals'}"


def _by_audit(what: str) -> Probe:
    return lambda facts: (NA, what)


# -- the table -------------------------------------------------------------------------------
_LOG_INPUT = 'mlflow.log_input(mlflow.data.from_pandas(df, source="data/{context}.csv", name="{context}.csv"), ' \
             'context="{context}")'

ROWS: tuple[Row, ...] = (
    Row("lineage, performance_gate, pii, leakage", "a dataset logged with context `training`",
        _LOG_INPUT.format(context="training"),
        "BLOCKED: `the run logged no training dataset`; the data checks cannot run", _datasets("training")),
    Row("lineage, performance_gate, bias, signature", "a dataset logged with context `evaluation` (the held-out "
        "split both models are scored on)", _LOG_INPUT.format(context="evaluation"),
        "BLOCKED: `the run logged no evaluation dataset`; nothing can be scored", _datasets("evaluation")),
    Row("data_integrity, pii, leakage", "each dataset's file source (a path, relative ones under the rootdir or "
        "`--audit-source`, or a run artifact), re-read in full",
        'mlflow.data.from_pandas(df, source="data/train.csv")',
        "BLOCKED: a dataset recorded without a file (autolog, source type `code`) or a missing file cannot be "
        "re-read or scanned", _files),
    Row("data_integrity", "tag `data_sha256` on each logged input: the file's full sha256",
        'mlflow.log_input(dataset, context=..., tags={"data_sha256": hashlib.sha256(open(path, "rb").read())'
        '.hexdigest()})',
        "a note: only MLflow's digest (first 10,000 rows) is compared, later edits go unnoticed",
        _tagged(("data_sha256", "sha256", "file_sha256"), "data_sha256")),
    Row("data_license", "tag `license` (or `data_license`, `usage`) on each logged input",
        'mlflow.log_input(dataset, context=..., tags={"license": "Internal-Only"})',
        "BLOCKED: the dataset's licence is unknown", _license),
    Row("leakage", "an id column: `patient_id`, policy `[leakage] id_columns` or version tag `id_columns`",
        'MlflowClient().set_model_version_tag("{name}", "{version}", "id_columns", "patient_id")',
        "a note: patient overlap is not checked, only duplicate records", _ids),
    Row("performance_gate, bias, model_card", "task and label: policy `[task]` or version tags `task` and "
        "`label_col` (or `duration_col` / `event_col`), else the signature, logged metric names, autolog's "
        "`estimator_class` and the label's values",
        'MlflowClient().set_model_version_tag("{name}", "{version}", "label_col", "target")',
        "inferred (the source is named in the evidence); when nothing tells: BLOCKED, naming the tag to set",
        _task),
    Row("ip_headers, security, reproducibility", "run tag `mlflow.source.git.commit`: the training code is "
        "audited at that commit (SPDX headers, `LICENSES/<id>.txt`, bandit)",
        "run the training script inside its git repository (MLflow sets the tag); add licence texts there "
        "with `reuse download Apache-2.0`",
        "BLOCKED: the code cannot be exported at the run's commit", _commit),
    Row("reproducibility", "an integer param `seed` (or `random_state`, `random_seed`)",
        'mlflow.log_params({"seed": 42})', "BLOCKED: no fixed seed recorded", _seed),
    Row("dependencies", "the model's `requirements.txt` / `conda.yaml` / `python_env.yaml`, every package "
        "pinned with `==`", 'mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn==1.5.2"])',
        "BLOCKED: unpinned packages named", _requirements),
    Row("performance_gate", "the baseline: alias `production` of the same model (or policy `baseline`)",
        'MlflowClient().set_registered_model_alias("{name}", "production", PRODUCTION_VERSION)',
        "BLOCKED, unless the policy says `[performance] first_release = true`", _baseline),
    Row("evaluation_artifacts", "metrics logged by the run (and the artifacts policy `[evaluation_artifacts] "
        "required` lists, e.g. `run_manifest.json`)", 'mlflow.log_metric("roc_auc", auc); '
        'mlflow.log_artifact("run_manifest.json")', "BLOCKED: `logged no metrics` / the missing artifacts named",
        _metrics),
    Row("bias", "subgroup columns in the evaluation data: policy `[bias] columns`, else `age_band`, `sex`, ...",
        '[tool.release_audit.bias] columns = ["age_band"] (columns of the logged evaluation file)',
        "BLOCKED: `no subgroup columns`", _subgroups),
    Row("signature", "the model's signature and input example",
        'mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)), '
        'input_example=X.head(3))', "BLOCKED: `logged without a signature` / `without an input example`", _signature),
    Row("serving_contract, latency", "the live serving endpoint: `--audit-endpoint`, `RELEASE_AUDIT_ENDPOINT` "
        "(CI) or policy `[serving] url` (`protocol = \"mlflow\"` for `mlflow models serve`)",
        "--audit-endpoint=http://HOST:PORT", "serving_contract not applicable (unless `[serving] required` lists "
        "the target: BLOCKED); latency timed on the model worker", _endpoint),
    Row("drift", "a recent production sample: a dataset logged with context `production`, or policy `[drift] "
        "production_data` (training vs evaluation is always compared)",
        'mlflow.log_input(mlflow.data.from_pandas(recent, source="data/production_sample.csv"), context="production")',
        "a note: drift is measured between training and evaluation data only", _production_sample),
    Row("model_card", "name, version, task, training dataset and lineage; policy `[model_card]` limitations",
        'MlflowClient().set_model_version_tag("{name}", "{version}", "task", "binary classification")',
        "BLOCKED: the empty card section named", _card),
    Row("data_validation", "a Great Expectations validation result of the logged dataset, logged as a run artifact "
        "(policy `[data_validation] artifact`, default `validation*.json`)",
        'mlflow.log_dict(validation_definition.run(...).to_json_dict(), "validation_result.json")',
        "BLOCKED when the result failed or describes other data; when missing, only if policy "
        "`[data_validation] required` lists the target", _validation),
    Row("operational_readiness", "each item of policy `[operational_readiness.items]`: a file at the training "
        "commit, or a tag / artifact on the version, recent enough",
        'MlflowClient().set_model_version_tag("{name}", "{version}", "rollback_tested_at", "2026-11-30")',
        "BLOCKED for the `required` targets (default production): the missing or stale items named", _readiness),
    Row("approvals", "signed approval tags on this version for each required role",
        "release-audit approve {name}/{version} --role technical --by you@example.org --key ~/.ssh/id_ed25519",
        "BLOCKED: `missing approvals for production`", _approvals),
    Row("model_artifact", "the model's files, scanned with modelscan before anything loads them",
        'mlflow.<flavor>.log_model(...) (no pickle operators that run code on load)',
        "BLOCKED: CRITICAL/HIGH findings; the model is never loaded",
        _by_audit("scanned by the audit (modelscan), not by doctor")),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def fill(call: str, name: str, version: str | int) -> str:
    """``call`` with ``{name}`` and ``{version}`` replaced (the other braces are Python literals)."""
    return call.replace("{name}", str(name)).replace("{version}", str(version))


def readme_table() -> str:
    """The README's "What your training run must record" table, from ``ROWS``."""
    lines = ["| check | what it reads | the MLflow call that records it | without it |", "| --- | --- | --- | --- |"]
    for row in ROWS:
        call = fill(row.call, "NAME", "VERSION")
        call = call if call.startswith(("run ", "[")) else f"`{call}`"
        lines.append(f"| {_cell(row.checks)} | {_cell(row.reads)} | {_cell(call)} | {_cell(row.without)} |")
    return "\n".join(lines) + "\n"


# -- the command -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    row: Row
    mark: str
    detail: str


def examine(facts: Facts) -> list[Finding]:
    """Every row probed against one version (a probe that errors is a ✗ saying why)."""
    from pytest_release_audit.errors import describe_exception

    findings = []
    for row in ROWS:
        try:
            mark, detail = row.probe(facts)
        except Exception as exc:  # a probe reads untrusted registry data: one line, never a traceback
            mark, detail = MISSING, f"could not be checked ({describe_exception(exc)})"
        findings.append(Finding(row, mark, detail))
    return findings


def render(facts: Facts, findings: list[Finding], out: TextIO) -> None:
    """Plain text, one line per row and the call to add under each ✗ (ASCII marks if the stream needs them)."""
    from pytest_release_audit.report.text import clean, one_line

    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        (OK + MISSING + NA).encode(encoding)
        marks = {m: m for m in _ASCII}
    except (UnicodeEncodeError, LookupError):
        marks = _ASCII
    handle = facts.handle
    run = f"run {handle.run_id}" if handle.run_id else "no source run"
    print(f"{clean(handle.name)} v{handle.version}: {run}, target {facts.target}", file=out)
    for f in findings:
        print(f"  {marks[f.mark]:<2} {f.row.checks:<42} {one_line(clean(f.detail), 160)}", file=out)
        if f.mark == MISSING:
            print(f"       add: {fill(f.row.call, handle.name, handle.version)}", file=out)
    counts = {m: sum(f.mark == m for f in findings) for m in (OK, MISSING, NA)}
    print(f"{counts[OK]} recorded, {counts[MISSING]} missing, {counts[NA]} not applicable or checked only by "
          "the audit" + ("" if counts[MISSING] else ": the run records what the audit reads"), file=out)
