# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: the demo audit at 10k / 100k / 1M rows, each next to its floor, in one run.

For each size it builds a registry shaped like the demo (``examples/build_demo.py``: the GBSG2
cohort resampled to N patients with jittered covariates and durations, unique patient ids,
diagnosis dates, free-text notes ~50% distinct; a 70/30 patient split; cl_unimodal_v1 @production
on 2 covariates and cl_unimodal_v2 @candidate on 8, trained and logged by the demo's own training
code, with the demo's approvals and policy), then times in fresh processes, side by side:

* the **floor**: importing the plugin and MLflow, loading both models from the registry and
  reading every dataset the candidate's run logged (the raw table, the training and the
  evaluation split, as the audit reads them): what any audit of these models must pay;
* the **audit**: ``pytest --audit-model=cl_unimodal_v2`` in that directory (every check, the
  reports, the trail).

It prints wall seconds, the peak resident memory of the largest process (``ru_maxrss`` of the
waited-for processes), both ratios to the floor, and the verdict (READY expected at every size).

    python bench/scale.py                    # 10k, 100k, 1M rows
    python bench/scale.py --sizes 10000,100000 --keep /tmp/scale   # a second run reuses the registries
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print(json.dumps({"seconds": time.perf_counter() - t, "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "rc": done.returncode, "tail": done.stdout[-3000:]}))
"""

FLOOR = r"""
import json, mlflow, pandas as pd, pytest_release_audit.plugin  # noqa: F401
from mlflow import MlflowClient
uri = "sqlite:///mlflow.db"
mlflow.set_tracking_uri(uri); mlflow.set_registry_uri(uri)
client = MlflowClient(uri, uri)
for name, alias in (("cl_unimodal_v2", "candidate"), ("cl_unimodal_v1", "production")):
    mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
run = client.get_run(client.get_model_version_by_alias("cl_unimodal_v2", "candidate").run_id)
frames = [pd.read_csv(json.loads(i.dataset.source)["uri"], float_precision="round_trip")
          for i in run.inputs.dataset_inputs]  # every dataset the run logged: raw table, train, eval
"""


def scaled_table(rows: int, seed: int):
    """The demo's curated table resampled to ``rows`` patients (notes ~50% distinct)."""
    import numpy as np
    from clinical_data import curated_table  # type: ignore[import-not-found]  # examples/, on sys.path

    base = curated_table(seed)
    rng = np.random.default_rng(seed)
    table = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
    table["patient_id"] = [f"P{i:09d}" for i in rng.permutation(rows)]
    days = rng.integers(0, 6 * 365 + 180, rows)
    table["diagnosis_date"] = (np.datetime64("2018-01-01") + days.astype("timedelta64[D]")).astype(str)
    table["age"] = (table["age"] + rng.integers(-2, 3, rows)).clip(21, 90)
    table["tumor_size"] = (table["tumor_size"] + rng.integers(-3, 4, rows)).clip(3, 120)
    table["os_days"] = (table["os_days"] + rng.integers(-30, 31, rows)).clip(8, None)
    visit = rng.integers(0, max(1, rows // 2), rows)  # about half the notes distinct
    table["clinical_note"] = table["clinical_note"] + [f" Review {v}." for v in visit]
    return table


def build(out: Path, rows: int) -> None:
    """A demo-shaped registry of ``rows`` patients in ``out`` (models cl_unimodal_v1 and _v2)."""
    import warnings

    sys.path.insert(0, str(EXAMPLES))
    import build_demo as demo  # type: ignore[import-not-found]  # examples/, on sys.path

    out.mkdir(parents=True, exist_ok=True)
    for key, value in {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                       "GIT_PYTHON_REFRESH": "quiet", "MLFLOW_LOGGING_LEVEL": "WARNING"}.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")
    repo = out / "training-repo"
    clean_commit, _ = demo.build_training_repo(repo)
    sys.path.insert(0, str(repo))
    import logging

    import mlflow
    import train_survival  # type: ignore[import-not-found]  # examples/, on sys.path
    from clinical_data import FEATURES_V1, FEATURES_V2, patient_split
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    uri = f"sqlite:///{out / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    keys = demo.make_approvers(out, demo.APPROVERS)
    client.create_experiment("cl_unimodal", artifact_location=(out / "mlartifacts" / "cl_unimodal").as_uri())
    data = out / "data"
    paths = {"raw": data / "mm_curated_q225.csv", "train": data / "mm_fusion_v1_train.csv",
             "eval": data / "mm_fusion_v1_eval.csv"}
    table = scaled_table(rows, demo.SEED)
    train_survival.write_csv(table, paths["raw"])
    train_df, eval_df = patient_split(table)
    train_df = train_survival.write_csv(train_df, paths["train"])
    eval_df = train_survival.write_csv(eval_df, paths["eval"])
    mlflow.set_experiment("cl_unimodal")
    tags = {"mlflow.source.git.commit": clean_commit, "mlflow.source.git.repoURL": str(repo),
            "mlflow.source.git.branch": "main", "mlflow.source.name": "train_survival.py"}
    for name, features, alias in (("cl_unimodal_v1", FEATURES_V1, "production"),
                                  ("cl_unimodal_v2", FEATURES_V2, "candidate")):
        version = train_survival.train_and_log(
            model_name=name, features=features, train=train_df, evaluation=eval_df, paths=paths,
            raw_name="mm_curated_q225", split_name="mm_fusion_v1",
            run_tags={**tags, "mlflow.note.content": f"Cox PH survival model {name}"},
            pip_requirements=demo.requirements(), code_path=repo / "survival_model.py", seed=demo.SEED,
        )
        demo.describe_survival_version(client, name, version, alias, features, keys)
    shutil.copy(EXAMPLES / "pyproject.toml", out / "pyproject.toml")
    shutil.copytree(EXAMPLES / "tests", out / "tests", dirs_exist_ok=True)


def measure(cwd: Path, *command: str) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(cwd), *command], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(tail: str) -> str:
    for word in ("READY", "BLOCKED", "NOT READY"):
        if f"Status: {word}" in tail or f"VERDICT: {word}" in tail:
            return word
    for line in tail.splitlines():
        if line.startswith("Status:"):
            return line.removeprefix("Status:").strip()
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--keep", type=Path, default=None, help="build under this directory and keep it")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    top = args.keep or Path(tempfile.mkdtemp(prefix="release-audit-scale-"))
    print(f"{os.cpu_count()} cores; registries under {top}")
    print(f"{'rows':>10}{'build s':>9}{'floor s':>9}{'audit s':>9}{'ratio':>7}"
          f"{'floor MB':>10}{'audit MB':>10}{'ratio':>7}  verdict")
    ok = True
    for rows in sizes:
        out = top / f"rows-{rows}"
        started = time.perf_counter()
        kept = args.keep is not None and (out / "mlflow.db").exists() and (out / "pyproject.toml").exists()
        if not kept:  # else built by an earlier --keep run: audited again as is
            done = subprocess.run([sys.executable, __file__, "--build-only", str(out), str(rows)],
                                  capture_output=True, text=True)
            if done.returncode:
                print(f"{rows:>10,}  build failed:\n{done.stderr[-2000:]}")
                return 1
        built = time.perf_counter() - started
        floor = measure(out, sys.executable, "-c", FLOOR)
        audit = measure(out, sys.executable, "-m", "pytest", "--audit-model=cl_unimodal_v2", "-p", "no:cacheprovider")
        word = verdict(audit["tail"])
        ok &= floor["rc"] == 0 and word.startswith("READY")
        print(f"{rows:>10,}{built:>9.1f}{floor['seconds']:>9.1f}{audit['seconds']:>9.1f}"
              f"{audit['seconds'] / floor['seconds']:>6.1f}x{floor['rss_kb'] / 1024:>10,.0f}"
              f"{audit['rss_kb'] / 1024:>10,.0f}{audit['rss_kb'] / floor['rss_kb']:>6.1f}x  {word}", flush=True)
        if not word.startswith("READY"):
            print(audit["tail"][-1500:])
    if args.keep is None:
        shutil.rmtree(top, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--build-only":
        build(Path(sys.argv[2]), int(sys.argv[3]))
        raise SystemExit(0)
    raise SystemExit(main())
