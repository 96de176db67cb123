# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The Spark engine for the data checks, on real Spark in local mode and a real MLflow store.

One SparkSession (local[1]) writes the datasets as directories of Parquet parts and logs them with
``mlflow.data.from_spark(df, path=...)`` (and one with ``from_pandas(df, source=DIR)``, one Delta
table whose log is written by hand, version pinned); it is stopped before any audit runs. Each
audit then runs in a subprocess that starts its own session. The same registry is audited with
``[engine] data = "pandas"`` and ``"spark"``: findings, digests and verdicts are identical.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]

pyspark = pytest.importorskip("pyspark")

FEATURES = ["a", "b", "c"]
DATA_CHECKS = "lineage,data_integrity,pii,leakage,signature"
PLANTED_EMAIL = "jane.roe.1987@example.org"
PLANTED_PHONE = "+1 415-555-0143"
BASE_POLICY = """[tool.release_audit]
target = "production"
[tool.release_audit.pii]
ner_model = ""
"""


def _policy(engine: str, extra: str = "") -> str:
    spark = ('[tool.release_audit.engine]\ndata = "spark"\nmaster = "local[1]"\n'
             # C1 only and the serial GC: a short-lived local JVM starts and warms up in half the time
             'conf = { "spark.driver.memory" = "1g", "spark.driver.extraJavaOptions" = '
             '"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" }\n' if engine == "spark" else "")
    return BASE_POLICY + spark + extra


def _frames(n_train: int = 360, n_eval: int = 140, seed: int = 3, dirty: bool = False) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = n_train + n_eval
    df = pd.DataFrame(rng.normal(size=(n, 3)).round(5), columns=FEATURES)
    df["y"] = (df.a - df.b + rng.normal(scale=0.5, size=n) > 0).astype("int64")
    df["patient_id"] = [f"P{100000 + i}" for i in range(n)]
    df["visit_date"] = [f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}" for i in range(n)]
    templates = ["stable, follow up in {} weeks", "reviewed imaging, no change after {} days",
                 "dose adjusted, recheck in {} weeks"]
    df["notes"] = [templates[i % 3].format(i % 9 + 1) for i in range(n)]
    train, evaluation = df.iloc[:n_train].reset_index(drop=True), df.iloc[n_train:].reset_index(drop=True)
    if dirty:
        train.loc[17, "notes"] = f"called patient at {PLANTED_PHONE}, mail {PLANTED_EMAIL}"
        train.loc[250, "notes"] = f"resent results to {PLANTED_EMAIL}"
        evaluation.loc[:11, "patient_id"] = train.loc[:11, "patient_id"].to_numpy()  # 12 patients in both
        evaluation.loc[30, "notes"] = f"patient asked for a call back on {PLANTED_PHONE}"  # the scored frame
    return train, evaluation


def parts_sha256(directory: Path) -> str:
    """sha256 over the sorted sha256 of each Parquet part (written here independently of the plugin)."""
    digests = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.rglob("*.parquet")
                     if not any(x.startswith(("_", ".")) for x in p.relative_to(directory).parts))
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


class Store:
    """A real SQLite MLflow store with models whose datasets are Parquet directories."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(self.uri, self.uri)

    def _write(self, spark: Any, frame: Any, path: Path, parts: int) -> Any:
        spark.createDataFrame(frame).repartition(parts).sortWithinPartitions("patient_id").write.mode(
            "overwrite").parquet(str(path))
        return spark.read.parquet(str(path))

    def model(self, spark: Any, name: str, *, dirty: bool = False) -> None:
        import mlflow
        from mlflow.models import infer_signature
        from sklearn.linear_model import LogisticRegression

        train, evaluation = _frames(dirty=dirty)
        folder = self.root / name
        folder.mkdir()
        with mlflow.start_run(experiment_id=self.experiment):
            splits = ((train, "train", "training", 3), (evaluation, "eval", "evaluation", 2))
            for frame, split, context, parts in splits:
                path = folder / split
                sdf = self._write(spark, frame, path, parts)
                tags = {"data_sha256": parts_sha256(path), "license": "Internal-Only"}
                dataset = mlflow.data.from_spark(sdf, path=str(path), name=f"{name}_{split}")
                mlflow.log_input(dataset, context=context, tags=tags)
            model = LogisticRegression().fit(train[FEATURES], train["y"])
            mlflow.log_metric("accuracy", float(model.score(evaluation[FEATURES], evaluation["y"])))
            mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                     signature=infer_signature(train[FEATURES], train["y"]),
                                     input_example=train[FEATURES].head(3))

    def delta(self, spark: Any, name: str) -> None:
        """A Delta table whose log is written here (no delta-spark): v0 adds a first extract (with PII),
        v1 removes it and adds the training parts, v2 appends an edit (with PII). The run logged v1
        (MLflow drops a version 0 from the source)."""
        import mlflow
        from mlflow.data.delta_dataset_source import DeltaDatasetSource
        from mlflow.data.spark_dataset import SparkDataset
        from mlflow.models import infer_signature
        from sklearn.linear_model import LogisticRegression

        train, evaluation = _frames(seed=9)
        folder = self.root / name
        table = folder / "train_delta"
        self._write(spark, train, table, 2)
        for junk in table.glob("*"):
            if junk.name.startswith(("_", ".")) or junk.suffix == ".crc":
                junk.unlink()
        v1 = sorted(p.name for p in table.glob("*.parquet"))
        (table / "_delta_log").mkdir()

        def add(part: str) -> dict[str, Any]:
            return {"add": {"path": part, "size": (table / part).stat().st_size, "partitionValues": {},
                            "dataChange": True, "modificationTime": 0}}

        def extra_part(rows: Any, part: str) -> str:
            spark.createDataFrame(rows).coalesce(1).write.mode("overwrite").parquet(str(folder / "tmp"))
            next((folder / "tmp").glob("*.parquet")).rename(table / part)
            return part

        meta = {"metaData": {"id": "t", "format": {"provider": "parquet", "options": {}}, "schemaString": "{}",
                             "partitionColumns": [], "configuration": {}}}
        first = extra_part(train.head(30).assign(notes=f"raw extract, contact {PLANTED_EMAIL}"), "part-v0.parquet")
        commits = [
            [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}, meta, add(first)],
            [{"remove": {"path": first, "dataChange": True}}, *[add(p) for p in v1]],
            [add(extra_part(train.head(40).assign(notes=f"late edit, contact {PLANTED_EMAIL}"),
                            "part-v2.parquet"))],
        ]
        for number, actions in enumerate(commits):
            (table / "_delta_log" / f"{number:020d}.json").write_text("\n".join(json.dumps(a) for a in actions))
        with mlflow.start_run(experiment_id=self.experiment):
            sdf = spark.read.parquet(*[str(table / p) for p in v1])
            source = DeltaDatasetSource(path=str(table), delta_table_version=1)
            dataset = SparkDataset(df=sdf, source=source, name=f"{name}_train")
            v0_digest = hashlib.sha256("\n".join(sorted(hashlib.sha256((table / p).read_bytes()).hexdigest()
                                                         for p in v1)).encode()).hexdigest()
            mlflow.log_input(dataset, context="training", tags={"license": "Internal-Only", "data_sha256": v0_digest})
            eval_path = folder / "eval"
            self._write(spark, evaluation, eval_path, 2)
            import pandas as pd

            # from_pandas on a Parquet directory: MLflow's pandas digest, recomputed from the first rows
            mlflow.log_input(mlflow.data.from_pandas(pd.read_parquet(eval_path), source=str(eval_path),
                                                     name=f"{name}_eval"),
                             context="evaluation", tags={"license": "Internal-Only",
                                                         "data_sha256": parts_sha256(eval_path)})
            model = LogisticRegression().fit(train[FEATURES], train["y"])
            mlflow.log_metric("accuracy", 0.5)
            mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                     signature=infer_signature(train[FEATURES], train["y"]),
                                     input_example=train[FEATURES].head(3))

    @property
    def experiment(self) -> str:
        return str(self.client().get_experiment_by_name("spark").experiment_id)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The registry, built with one local SparkSession that is stopped before the audits run."""
    import mlflow
    from pyspark.sql import SparkSession

    from pytest_release_audit.handle.resolve import prepare_environment, using_store

    prepare_environment()
    built = Store(tmp_path_factory.mktemp("spark"))
    spark = (SparkSession.builder.master("local[1]").appName("release-audit-tests")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC").getOrCreate())
    try:
        with using_store(built.uri), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built.client().create_experiment("spark", artifact_location=(built.root / "artifacts").as_uri())
            mlflow.set_experiment("spark")
            built.model(spark, "sp_dirty", dirty=True)
            built.delta(spark, "sp_delta")
    finally:
        spark.stop()
    return built


TIMINGS: dict[str, float] = {}


def audit(pytester: pytest.Pytester, store: Store, model: str, engine: str, *args: str,
          extra: str = "", env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    pytester.makefile(".toml", pyproject=_policy(engine, extra))
    out = pytester.path / f"out-{engine}"
    for key, value in (env or {}).items():
        pytester._monkeypatch.setenv(key, value)
    pytester._monkeypatch.setenv("COLUMNS", "250")
    started = time.perf_counter()
    result = pytester.runpytest_subprocess(
        f"--audit-model={model}", f"--audit-tracking-uri={store.uri}", "-p", "no:cacheprovider",
        f"--audit-out={out}", f"--audit-checks={DATA_CHECKS}", *args, timeout=400)
    TIMINGS[f"{model}/{engine}"] = time.perf_counter() - started
    print(f"audit {model} engine {engine}: {TIMINGS[f'{model}/{engine}']:.1f} s")  # noqa: T201 - README figures
    from conftest import newest_report

    report = json.loads(newest_report(out).read_text(encoding="utf-8"))
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str(), result.stdout.str()[-4000:]
    return result, report, {c["id"]: c for c in report["checks"]}, text  # type: ignore[return-value]


def _comparable(check: dict[str, Any]) -> Any:
    """A check's outcome, summary and evidence without timings and the one note naming the engine."""
    from pytest_release_audit.rules.lineage import SPARK_NOTE

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("seconds", "duration_s", "duration")}
        if isinstance(value, list):
            return [clean(v) for v in value if not (isinstance(v, str) and v.startswith(SPARK_NOTE))]
        return value

    return {"outcome": check["outcome"], "summary": check.get("summary"), "evidence": clean(check.get("evidence"))}


@pytest.mark.parametrize("model", ["sp_dirty", "sp_delta"])
def test_parity_pandas_and_spark(pytester: pytest.Pytester, store: Store, model: str) -> None:
    """The same registry through both engines: identical findings, digests and verdicts."""
    _, pandas_report, pandas_checks, _ = audit(pytester, store, model, "pandas")
    _, spark_report, spark_checks, _ = audit(pytester, store, model, "spark")
    assert pandas_report["status"] == spark_report["status"]
    for check in DATA_CHECKS.split(","):
        assert _comparable(pandas_checks[check]) == _comparable(spark_checks[check]), check
    integrity = spark_checks["data_integrity"]["evidence"]["datasets"]
    assert any(n.startswith("read by Spark") for d in integrity for n in d["notes"])
    if model == "sp_dirty":
        assert spark_checks["pii"]["outcome"] == "failed" and spark_checks["leakage"]["outcome"] == "failed"
        overlap = spark_checks["leakage"]["evidence"]["pairs"][0]["id_overlap"][0]
        assert overlap["shared_ids"] == 12 and overlap["eval_rows"] == 12
        found = {f["entity_type"]: f for f in spark_checks["pii"]["evidence"]["findings"]}
        assert found["EMAIL_ADDRESS"]["rows_affected"] == 2 and len(found["EMAIL_ADDRESS"]["row_indices"]) == 2
        assert found["PHONE_NUMBER"]["rows_affected"] == 1
        per_dataset = {d["name"]: d["findings"] for d in spark_checks["pii"]["evidence"]["datasets"]}
        assert per_dataset == {"sp_dirty_train": 2, "sp_dirty_eval": 1}
        assert PLANTED_EMAIL not in found["EMAIL_ADDRESS"]["masked_sample"]
        # the raw values appear in no output of either audit
        for out in (pytester.path / "out-spark", pytester.path / "out-pandas"):
            for file in out.rglob("*"):
                if file.is_file():
                    data = file.read_bytes()
                    assert PLANTED_EMAIL.encode() not in data and PLANTED_PHONE.encode() not in data, file
    if model == "sp_delta":  # version 1 read: not v0's extract nor v2's edit (both with PII)
        failed = {c: spark_checks[c]["summary"] for c in DATA_CHECKS.split(",")
                  if spark_checks[c]["outcome"] != "passed"}
        assert not failed, failed
        rows = {d["name"]: d for d in integrity}
        assert rows["sp_delta_train"]["rows"] == 360
        pinned = [d for d in rows["sp_delta_train"]["digests"] if d["kind"] == "delta_version"]
        assert [(d["logged"], d["recomputed"], d["match"]) for d in pinned] == [("1", "1", True)]
        full = [d for ds in integrity for d in ds["digests"] if d["kind"] == "file_sha256"]
        assert len(full) == 2 and all(d["match"] for d in full)  # the tags the test computed on its own
        mlflow_digest = [d for d in rows["sp_delta_eval"]["digests"] if d["kind"] == "mlflow_digest"]
        assert mlflow_digest and mlflow_digest[0]["match"] is True  # from the first rows on Spark


def test_driver_row_limit_blocks_with_one_line(pytester: pytest.Pytester, store: Store) -> None:
    result, report, checks, text = audit(pytester, store, "sp_delta", "spark",
                                         extra="max_driver_rows = 100\n")
    assert report["status"] == "BLOCKED"
    lines = [line for line in text.splitlines() if "max_driver_rows" in line]
    assert lines and "has 140 rows, above [engine] max_driver_rows = 100" in lines[0]
    assert checks["signature"]["outcome"] != "passed"


def test_spark_unavailable_blocks_with_one_line(pytester: pytest.Pytester, store: Store, tmp_path: Path) -> None:
    result, report, checks, text = audit(pytester, store, "sp_delta", "spark",
                                         env={"JAVA_HOME": str(tmp_path / "no-java")})
    assert report["status"] == "BLOCKED"
    assert all(checks[c]["outcome"] != "passed" for c in ("data_integrity", "pii", "leakage"))
    lines = [line for line in text.splitlines() if "no bin/java" in line]
    assert lines and "default-jre-headless" in lines[0], text[-3000:]


def test_session_settings_environment_wins() -> None:
    from pytest_release_audit.engines.spark import session_settings

    master, conf = session_settings({"master": "local[2]", "conf": {"spark.executor.memory": "1g"}},
                                    {"SPARK_MASTER": "yarn", "RELEASE_AUDIT_SPARK_CONF_spark__executor__memory": "4g",
                                     "RELEASE_AUDIT_SPARK_CONF_spark__sql__shuffle__partitions": "64"})
    assert master == "yarn"
    assert conf == {"spark.executor.memory": "4g", "spark.sql.shuffle.partitions": "64"}
    assert session_settings({"master": "k8s://https://api:6443", "conf": {}}, {}) == ("k8s://https://api:6443", {})

