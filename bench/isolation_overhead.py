# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Wall time of the demo audit with isolation (model worker + clean checks session) vs 0.1.0.

Runs ``pytest --audit-model=cl_unimodal_v2`` in ``examples/`` alternately with this tree and with
the 0.1.0 tree (commit REFERENCE, exported with ``git archive``; everything in one process),
against the same demo registry, and prints the medians and their ratio side by side.

    python3 bench/isolation_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "a03de88"  # 0.1.0: the model was unpickled and scored in the auditor's process


def export(commit: str, dest: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def audit_seconds(tree: Path, examples: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--audit-model=cl_unimodal_v2", "-p", "no:cacheprovider", "-q",
         f"--audit-out={out}"], cwd=examples, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if "READY FOR PRODUCTION" not in result.stdout:
        raise SystemExit(f"the audit with {tree} was not READY:\n{result.stdout[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    examples = ROOT / "examples"
    if not (examples / "mlflow.db").exists():
        subprocess.run([sys.executable, "examples/build_demo.py"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        reference = export(REFERENCE, Path(tmp) / "reference")
        times: dict[str, list[float]] = {"0.1.0 (in-process)": [], "isolated (this tree)": []}
        for _ in range(args.runs):
            times["0.1.0 (in-process)"].append(audit_seconds(reference, examples, Path(tmp) / "out-ref"))
            times["isolated (this tree)"].append(audit_seconds(ROOT, examples, Path(tmp) / "out-new"))
    medians = {k: statistics.median(v) for k, v in times.items()}
    for label, values in times.items():
        print(f"{label:<24} median {medians[label]:6.2f} s   runs {', '.join(f'{v:.2f}' for v in values)}")
    ratio = medians["isolated (this tree)"] / medians["0.1.0 (in-process)"]
    print(f"ratio isolated / in-process: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
