# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Wall time of the demo audit with isolation (model worker + clean checks session) vs 0.1.0.

Runs ``pytest --audit-model=cl_unimodal_v2`` in ``examples/`` alternately with this tree and with
the 0.1.0 tree (commit REFERENCE, exported with ``git archive``; everything in one process),
against the same demo registry, and prints the medians and their ratio side by side. Both run
every check; 0.1.0's approvals check fails because it cannot read signed approvals.

    python3 bench/isolation_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
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


def reference_project(examples: Path, dest: Path) -> Path:
    """The demo project for 0.1.0: its policy without the keys 0.1.0 does not know.

    0.1.0 reads only unsigned approval tags, so its ``approvals`` check fails on today's signed
    demo registry; every other check passes and the audit does all of its work (the timing is of
    the whole audit, not of the verdict).
    """
    dest.mkdir(parents=True)
    policy = (examples / "pyproject.toml").read_text(encoding="utf-8")
    start = policy.index("[tool.release_audit.approvals.signers]")
    end = policy.index("\n[", start + 1)
    (dest / "pyproject.toml").write_text(policy[:start] + policy[end + 1:], encoding="utf-8")
    shutil.copytree(examples / "tests", dest / "tests")
    return dest


def audit_seconds(tree: Path, project: Path, out: Path, uri: str, *, reference: bool) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--audit-model=cl_unimodal_v2", "-p", "no:cacheprovider", "-q",
         f"--audit-out={out}", f"--audit-tracking-uri={uri}"], cwd=project, env=env, capture_output=True,
        text=True)
    seconds = time.perf_counter() - started
    report = out / "audit_report.json"
    checks = json.loads(report.read_text(encoding="utf-8"))["checks"] if report.is_file() else []
    not_passed = sorted(c["id"] for c in checks if c["outcome"] != "passed")
    expected = ["approvals"] if reference else []
    if len(checks) < 15 or not_passed != expected:
        raise SystemExit(f"the audit with {tree} did not run as expected ({not_passed}):\n{result.stdout[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    examples = ROOT / "examples"
    if not (examples / "mlflow.db").exists():
        subprocess.run([sys.executable, "examples/build_demo.py"], cwd=ROOT, check=True)
    uri = f"sqlite:///{examples / 'mlflow.db'}"
    with tempfile.TemporaryDirectory() as tmp:
        reference = export(REFERENCE, Path(tmp) / "reference")
        project = reference_project(examples, Path(tmp) / "reference-project")
        times: dict[str, list[float]] = {"0.1.0 (in-process)": [], "isolated (this tree)": []}
        for _ in range(args.runs):
            times["0.1.0 (in-process)"].append(
                audit_seconds(reference, project, Path(tmp) / "out-ref", uri, reference=True))
            times["isolated (this tree)"].append(
                audit_seconds(ROOT, examples, Path(tmp) / "out-new", uri, reference=False))
    medians = {k: statistics.median(v) for k, v in times.items()}
    for label, values in times.items():
        print(f"{label:<24} median {medians[label]:6.2f} s   runs {', '.join(f'{v:.2f}' for v in values)}")
    ratio = medians["isolated (this tree)"] / medians["0.1.0 (in-process)"]
    print(f"ratio isolated / in-process: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
