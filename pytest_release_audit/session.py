# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""AuditContext: one audit's options, policy and lazily resolved inputs, one per process.

Every process that runs checks (the only process, or each xdist worker) has one, kept in
``config.stash``. Expensive inputs (handle, baseline, datasets, predictions) are computed once per
process and shared by every check. A failure is cached and re-raised, so each check that needs
the input errors with the same one-line message.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditConfigError, AuditError, DatasetUnavailable
from pytest_release_audit.files import utc_now
from pytest_release_audit.policy import TARGETS, Policy, load_policy

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    import numpy as np
    import pytest

    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.handle.spec import ModelSpec


#: Inputs after whose loading the garbage collector stops tracking what is loaded (``gc.freeze``).
FROZEN_INPUTS = frozenset({"scores"})


@dataclass(frozen=True)
class AuditOptions:
    """The audit's command-line / ini settings, as given."""

    model: str
    baseline: str | None
    target: str | None
    tracking_uri: str | None
    policy: str | None
    source: str | None
    out: str | None
    promote: bool
    notify: str | None
    only: bool
    checks: str | None = None  # --audit-checks: a comma-separated subset of the built-in checks
    data: tuple[str, ...] = ()  # --audit-data NAME=PATH (repeatable): files for datasets logged without one
    endpoint: str | None = None  # --audit-endpoint URL: the live serving endpoint

    @property
    def selected_checks(self) -> frozenset[str] | None:
        """The built-in checks ``--audit-checks`` selected (None: all of them)."""
        if not self.checks:
            return None
        return frozenset(c.strip() for c in self.checks.split(",") if c.strip())


@dataclass(frozen=True)
class Scores:
    """Predictions on the evaluation dataset, aligned with its rows (the ``audit_scores`` fixture).

    ``candidate`` / ``baseline``: one float per row (binary: the positive-class probability;
    regression: the prediction; survival: a risk score), or for a multiclass task an ``(n, k)``
    probability matrix whose columns are ``classes`` (the baseline's columns are put in the same
    order). ``baseline`` is None when there is no baseline or it could not be scored
    (``baseline_error`` says why).

    ``classes``: the class labels (text) of the matrix columns (multiclass), or the (negative,
    positive) classes of a binary classifier when known. ``output_rule`` / ``baseline_output_rule``:
    how each model's output was read (``"predict_proba column 1 = P(class 1)"``).
    ``label_only`` / ``baseline_label_only``: the model returned class labels, not probabilities;
    ``output_note`` / ``baseline_output_note`` say so in one line (ROC AUC from labels is a
    single-threshold value).
    """

    candidate: np.ndarray
    baseline: np.ndarray | None
    baseline_error: str | None
    classes: tuple[str, ...] | None = None
    output_rule: str = ""
    baseline_output_rule: str | None = None
    label_only: bool = False
    baseline_label_only: bool = False
    output_note: str = ""
    baseline_output_note: str = ""


class _Failed:
    def __init__(self, error: AuditError) -> None:
        self.error = error


#: Name prefix of a report set being written (``finish.recover_sets`` removes dead ones).
STAGING_PREFIX = ".release-audit-new-"


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "model"


class AuditContext:
    """Inputs of one audit on one process."""

    def __init__(self, options: AuditOptions, rootdir: Path, invocation_dir: Path, *, child: bool = False) -> None:
        self.options = options
        #: True in the checks child (``suite``): it writes artifacts where its parent said.
        self.child = child
        self.rootdir = rootdir
        self.invocation_dir = invocation_dir
        self.started_at = utc_now()
        from pytest_release_audit.masking import Masker

        self.masker = Masker()  # filled from the checks session's pii findings (``masking``)
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        #: Where the checks child publishes the evaluation scores (``suite.publish_scores``): the
        #: user's session reads them there instead of loading the models a second time.
        self.exchange_dir: Path | None = None
        #: Asked first to resolve ``--audit-model`` (spec, tracking URI) -> handle or None: the
        #: installed extensions (``extensions.resolve_by_extension``), set by the plugin.
        self.resolver: Callable[[str, str], ModelHandle | None] | None = None

    # -- cheap, no heavy imports --------------------------------------------------------------
    @functools.cached_property
    def spec(self) -> ModelSpec:
        from pytest_release_audit.handle.spec import parse_model_spec

        return parse_model_spec(self.options.model)

    @functools.cached_property
    def base_policy(self) -> Policy:
        return load_policy(self.options.policy, self.rootdir)

    @functools.cached_property
    def policy(self) -> Policy:
        return self.base_policy.for_model(self.spec.name)

    @functools.cached_property
    def target(self) -> str:
        target = self.options.target or self.policy.get("target")
        if target not in TARGETS:
            raise AuditConfigError(f"--audit-target {target!r} is not one of {', '.join(TARGETS)}")
        return target

    @functools.cached_property
    def tracking_uri(self) -> str:
        from pytest_release_audit.handle.resolve import normalize_tracking_uri

        return normalize_tracking_uri(self.options.tracking_uri, self.rootdir)

    def validate(self) -> None:
        """Parse everything that needs no registry; raises AuditError on a bad option or policy."""
        _ = self.spec, self.policy, self.target, self.tracking_uri
        selected = self.options.selected_checks
        if selected is not None:
            from pytest_release_audit.policy import BUILTIN_CHECKS

            unknown = sorted(selected - set(BUILTIN_CHECKS))
            if unknown or not selected:
                raise AuditConfigError(f"--audit-checks names unknown checks ({', '.join(unknown) or 'none'}): "
                                       f"use ids from {', '.join(BUILTIN_CHECKS)}")
        _ = self.data_mappings

    @functools.cached_property
    def data_mappings(self) -> dict[str, list[tuple[Path, str]]]:
        """Logged dataset name -> ``(file, origin)`` from ``--audit-data NAME=PATH`` (relative to the
        invocation directory) then the policy's ``[datasets."NAME"] path`` (relative to the rootdir)."""
        mappings: dict[str, list[tuple[Path, str]]] = {}
        for item in self.options.data:
            name, sep, raw = str(item).partition("=")
            if not sep or not name.strip() or not raw.strip():
                raise AuditConfigError(f"--audit-data {item!r} is not NAME=PATH: give the logged dataset's name and "
                                       "its file, e.g. --audit-data dataset=data/train.csv")
            path = Path(raw.strip()).expanduser()
            path = path if path.is_absolute() else self.invocation_dir / path
            mappings.setdefault(name.strip(), []).append((path, "--audit-data"))
        for name, mapping in self.policy.datasets.items():
            for raw in mapping.path:
                path = Path(raw).expanduser()
                path = path if path.is_absolute() else self.rootdir / path
                mappings.setdefault(name, []).append((path, f"policy [datasets.{name}]"))
        return mappings

    # -- cached, possibly failing inputs ------------------------------------------------------
    def _cached(self, key: str, compute: Any) -> Any:
        # One lock per input: the checks child prefetches the scores in a thread while checks run.
        with self._locks_lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                try:
                    self._cache[key] = compute()
                except AuditError as exc:
                    self._cache[key] = _Failed(exc)
                if key in FROZEN_INPUTS:
                    # The loaded frames live for the whole session: moved out of the collector's
                    # generations, later full collections stop traversing their millions of cells.
                    import gc

                    gc.freeze()
            value = self._cache[key]
        if isinstance(value, _Failed):
            raise value.error.__class__(str(value.error))
        return value

    @property
    def handle(self) -> ModelHandle:
        def compute() -> ModelHandle:
            self.validate()
            from pytest_release_audit.handle import artifact, worker
            from pytest_release_audit.handle.resolve import resolve_handle

            section = self.policy.section("model_artifact")
            worker.pool().timeout_s = float(section["worker_timeout_s"])
            artifact.configure_signing(section, self.rootdir)
            handle = self.resolver(self.options.model, self.tracking_uri) if self.resolver else None
            if handle is None:
                handle = resolve_handle(self.spec, self.tracking_uri)
            artifact.set_candidate(handle)
            return handle

        return self._cached("handle", compute)

    def try_handle(self) -> tuple[ModelHandle | None, str | None]:
        try:
            return self.handle, None
        except AuditError as exc:
            return None, str(exc)

    @property
    def baseline(self) -> tuple[ModelHandle | None, str]:
        def compute() -> tuple[ModelHandle | None, str]:
            from pytest_release_audit.handle.resolve import resolve_baseline

            wanted = self.options.baseline or self.policy.get("baseline")
            return resolve_baseline(self.handle, wanted, self.tracking_uri)

        return self._cached("baseline", compute)

    @property
    def out_dir(self) -> Path:
        """The report set's directory: ``--audit-out``, else ``audit-reports/<model>-<version>-<target>``."""
        if self.options.out:
            path = Path(self.options.out)
            return path if path.is_absolute() else self.invocation_dir / path
        handle, _ = self.try_handle()
        version = handle.version if handle else "unresolved"
        name = _safe_name(handle.name if handle else self.options.model.split("@")[0])
        try:
            target = self.target
        except AuditError:
            target = "invalid-target"
        return self.rootdir / "audit-reports" / f"{name}-{version}-{target}"

    @property
    def sets_dir(self) -> Path:
        """The directory that holds report sets (known before the model version is)."""
        if self.options.out:
            path = Path(self.options.out)
            return (path if path.is_absolute() else self.invocation_dir / path).parent
        return self.rootdir / "audit-reports"

    @property
    def artifacts_dir(self) -> Path:
        """Where checks write plots and SARIF: the new report set, swapped in whole at the end.

        In the checks child it is the directory its parent named; in the user's session a new
        directory beside the report sets (``.release-audit-new-<pid>-*``), created on first use,
        so the previous set stays intact until the swap.
        """
        if self.child:
            return Path(str(self.options.out))
        if "artifacts_dir" not in self._cache:
            import tempfile

            self.sets_dir.mkdir(parents=True, exist_ok=True)
            self._cache["artifacts_dir"] = Path(
                tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.sets_dir)
            )
        return self._cache["artifacts_dir"]

    def forget_artifacts(self) -> None:
        """The new set was swapped in: it is the report directory now, not ours to remove."""
        self._cache.pop("artifacts_dir", None)

    def discard_artifacts(self) -> None:
        """Remove an unused new report set (the audit wrote nothing, or was not release evidence)."""
        staged = self._cache.pop("artifacts_dir", None)
        if staged is not None and not self.child:
            import shutil

            shutil.rmtree(staged, ignore_errors=True)

    @property
    def workdir(self) -> Path:
        if "workdir" not in self._cache:
            import tempfile

            self._cache["workdir"] = Path(tempfile.mkdtemp(prefix="release-audit-"))
        return self._cache["workdir"]

    @property
    def datasets(self) -> list[LoadedDataset]:
        """Every dataset the run logged, read and verified, in the order it logged them."""
        loaded = [self._dataset(i) for i in range(len(self._dataset_readers))]
        self._freeze_once("datasets")
        return loaded

    def _freeze_once(self, what: str) -> None:
        """``gc.freeze()`` once ``what`` is loaded: the frames live for the whole session, and later
        full collections stop traversing their millions of cells."""
        if self._cache.get(f"frozen:{what}"):
            return
        self._cache[f"frozen:{what}"] = True
        import gc

        gc.freeze()

    def _dataset(self, i: int) -> LoadedDataset:
        """The ``i``-th logged dataset, read once (your tests may need only the evaluation data: the
        others are then never read in your process; the checks' process reads and verifies all)."""
        return self._cached(f"dataset:{i}", self._dataset_readers[i])

    @property
    def _dataset_readers(self) -> list[Any]:
        """One reader per logged dataset, after the checks that concern them all (mappings, files)."""
        def compute() -> list[Any]:
            from pytest_release_audit.datasets import check_mappings, read_logged_dataset, read_mapped_dataset

            handle = self.handle
            mappings = self.data_mappings
            check_mappings(handle, mappings)
            bases = self.data_dirs
            task_policy = self.policy.task_for_data()
            integrity = self.policy.section("data_integrity")
            roots = [*bases, *(self.rootdir / r for r in integrity["allowed_roots"])]
            max_bytes = int(float(integrity["max_dataset_gb"]) * 1e9)

            def reader(ref: Any) -> Any:
                if ref.name in mappings:
                    return lambda: read_mapped_dataset(ref, mappings[ref.name], handle, task_policy, roots, max_bytes)
                return lambda: read_logged_dataset(ref, handle, task_policy, bases, self.workdir / "datasets",
                                                   roots, max_bytes, self.data_engine)

            return [reader(ref) for ref in handle.run.inputs] if handle.run else []

        return self._cached("dataset_readers", compute)

    @property
    def data_engine(self) -> Any:
        """The Spark engine when the policy says ``[engine] data = "spark"``, else None (pandas)."""
        section = self.policy.section("engine")
        if section["data"] != "spark":
            return None
        from pytest_release_audit.engines.spark import SparkEngine

        return self._cached("data_engine", lambda: SparkEngine(section))

    @property
    def data_dirs(self) -> list[Path]:
        """Where relative dataset sources are looked up, in order: ``--audit-source``, the rootdir,
        the invocation directory, the working directory, the local MLflow store's directory."""
        bases: list[Path] = []
        if self.options.source:
            source = Path(self.options.source)
            bases.append(source if source.is_absolute() else self.invocation_dir / source)
        bases += [self.rootdir, self.invocation_dir, Path.cwd()]
        store = store_directory(self.tracking_uri)
        if store is not None:
            bases.append(store)  # data kept beside a local MLflow store (the usual layout)
        return list(dict.fromkeys(bases))

    def dataset_for(self, contexts: tuple[str, ...], label: str) -> LoadedDataset:
        """The first logged dataset with one of ``contexts``, read. In your process the others are not
        read for it; the checks' process reads every dataset first, in the order the run logged
        them (reading the largest first keeps its peak memory 5% lower: 1,543 against 1,634 MB at
        a million rows)."""
        readers = self._dataset_readers  # the checks that concern every dataset come first
        if self.child:
            self.datasets  # noqa: B018  (reads and caches them all; an unreadable one errors here)
        refs = list(self.handle.run.inputs) if self.handle.run else []
        for i, ref in enumerate(refs[: len(readers)]):
            if (ref.context or "").lower() in contexts:
                found = self._dataset(i)
                self._freeze_once(f"dataset:{i}")
                return found
        logged = ", ".join(f"{r.name} ({r.context or 'no context'})" for r in refs) or "none"
        raise DatasetUnavailable(
            f"run {self.handle.run_id} logged no {label} dataset (logged: {logged}): log one with "
            f"mlflow.log_input(..., context='{contexts[0]}')"
        )

    @property
    def scores(self) -> Scores:
        def compute() -> Scores:
            from pytest_release_audit.handle.model import EVALUATION_CONTEXTS

            if self.exchange_dir is not None and not self.child:
                from pytest_release_audit.suite import read_scores

                return read_scores(self.exchange_dir, float(self.policy.section("audit")["checks_timeout_s"]))

            data = self.dataset_for(EVALUATION_CONTEXTS, "evaluation")
            from pytest_release_audit.scoring import score_dataset

            return score_dataset(data, self.handle, self.baseline)

        return self._cached("scores", compute)

    def cleanup(self) -> None:
        self.discard_artifacts()
        engine = self._cache.pop("data_engine", None)
        if engine is not None and hasattr(engine, "stop"):
            engine.stop()
        workdir = self._cache.pop("workdir", None)
        if workdir is not None:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)

    @property
    def actor(self) -> str:
        try:
            configured = self.policy.get("actor")
        except AuditError:  # an invalid policy is the audit's error already; the trail still records it
            configured = None
        return (
            os.environ.get("RELEASE_AUDIT_ACTOR")
            or configured
            or os.environ.get("GITLAB_USER_LOGIN")
            or os.environ.get("GITHUB_ACTOR")
            or os.environ.get("USER")
            or "unknown"
        )


def store_directory(tracking_uri: str) -> Path | None:
    """The directory holding a local MLflow store (SQLite file or ./mlruns), else None."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri[len("sqlite:///"):]).resolve().parent
    if tracking_uri.startswith("file://"):
        return Path(tracking_uri[len("file://"):]).resolve().parent
    if "://" not in tracking_uri:
        return Path(tracking_uri).resolve().parent
    return None


def get_options(config: pytest.Config) -> AuditOptions | None:
    """The audit options, or None when no ``--audit-model`` was given (the plugin stays inert)."""
    model = _opt(config, "audit_model")
    if not model:
        return None
    return AuditOptions(
        model=model,
        baseline=_opt(config, "audit_baseline"),
        target=_opt(config, "audit_target"),
        tracking_uri=_opt(config, "audit_tracking_uri"),
        policy=_opt(config, "audit_policy"),
        source=_opt(config, "audit_source"),
        out=_opt(config, "audit_out"),
        promote=bool(_opt(config, "audit_promote")),
        notify=_opt(config, "audit_notify"),
        only=bool(_opt(config, "audit_only")),
        checks=_opt(config, "audit_checks"),
        data=tuple(_opt(config, "audit_data") or ()),
        endpoint=_opt(config, "audit_endpoint"),
    )


def _opt(config: pytest.Config, dest: str) -> Any:
    """Command line first, then the ini twin (as ``_pytest/logging.py`` does)."""
    value = config.getoption(dest, default=None)
    if value is None or value is False:
        ini = config.getini(dest)
        if isinstance(ini, str):
            ini = ini.strip() or None
        value = ini if ini not in (None, False, []) else value
    return value
