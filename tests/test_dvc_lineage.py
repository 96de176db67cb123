# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Lineage from DVC: real ``dvc add`` / ``dvc stage add`` / ``dvc repro`` write the files the audit parses.

The training repository holds a raw file tracked with ``dvc add``, a ``split`` stage writing the
training and evaluation CSVs and a ``train`` stage; the run logs the split's outputs. A clean run
passes with the graph in the evidence, the report and the card; a run that logged a file other than
the one dvc.lock records fails lineage with one line naming the dataset, the out and both md5s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from faults.factory import BIN_FEATURES, SEED, SPDX, Trainer, World, binary_frame, empty_store, git, new_world

DVC = os.environ.get("RELEASE_AUDIT_DVC") or shutil.which("dvc")
needs_dvc = pytest.mark.skipif(DVC is None, reason="dvc is not installed (pip install dvc, in the test extra)")

SPLIT_PY = SPDX + '''"""Split data/raw.csv into data/train.csv and data/eval.csv (the DVC stage 'split')."""

import csv

with open("data/raw.csv", newline="", encoding="utf-8") as fh:
    rows = list(csv.reader(fh))
head, body = rows[0], rows[1:]
for name, part in (("data/train.csv", body[:300]), ("data/eval.csv", body[300:])):
    with open(name, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\\n")
        writer.writerow(head)
        writer.writerows(part)
'''


def dvc(*args: str, cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(cwd.parent / "dvc-site")}
    assert DVC is not None
    done = subprocess.run([DVC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def dvc_repository(repo: Path) -> str:
    """raw.csv (dvc add) -> split -> train in ``repo`` (a git repository), run and committed; the commit."""
    dvc("init", "-q", cwd=repo)
    (repo / "data").mkdir(exist_ok=True)
    binary_frame(500, SEED).to_csv(repo / "data" / "raw.csv", index=False)
    dvc("add", "-q", "data/raw.csv", cwd=repo)
    (repo / "split.py").write_text(SPLIT_PY, encoding="utf-8")
    dvc("stage", "add", "-q", "-n", "split", "-d", "split.py", "-d", "data/raw.csv", "-o", "data/train.csv",
        "-o", "data/eval.csv", "python3 split.py", cwd=repo)
    dvc("stage", "add", "-q", "-n", "train", "-d", "data/train.csv", "-o", "model.txt",
        "python3 -c \"print(sum(1 for _ in open('data/train.csv')))\" > model.txt", cwd=repo)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "DVC pipeline raw -> split -> train", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def log_split(world: World, name: str, train_path: Path | None = None) -> str:
    """A classifier trained on the split's outputs, logged from the repository's data/ folder."""
    import mlflow.sklearn
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    train_path = train_path or world.repo / "data" / "train.csv"
    eval_path = world.repo / "data" / "eval.csv"
    train = pd.read_csv(train_path, float_precision="round_trip")
    evaluation = pd.read_csv(eval_path, float_precision="round_trip")

    def fit(df: Any) -> tuple[Any, Any, list[str], str]:
        clf = LogisticRegression(random_state=SEED, max_iter=500).fit(df[BIN_FEATURES], df["label"])
        return clf, mlflow.sklearn, BIN_FEATURES, "binary classification"

    return Trainer(world).run(name, (train, train_path), (evaluation, eval_path), "label", fit, approve=False)


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one check per terminal line: a failure line is not wrapped


@pytest.fixture(scope="module")
def dvc_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One registry: ``dvc_clean`` logged the DVC outputs, ``dvc_changed`` a training file edited after dvc repro."""
    root = tmp_path_factory.mktemp("dvc-world")
    world = new_world(root, empty_store(root / "template.db"))
    world.commit = dvc_repository(world.repo)
    log_split(world, "dvc_clean")
    lines = (world.repo / "data" / "train.csv").read_text(encoding="utf-8").split("\n")
    lines[5] = lines[5].replace("north", "south") if "north" in lines[5] else lines[5].replace("south", "north")
    changed = world.data / "dvc_changed" / "train.csv"  # a copy edited after dvc repro: not the DVC version
    changed.parent.mkdir(parents=True)
    changed.write_text("\n".join(lines), encoding="utf-8")
    log_split(world, "dvc_changed", changed)
    world.facts["changed_md5"] = hashlib.md5(changed.read_bytes(), usedforsecurity=False).hexdigest()
    return world


def audit(pytester: pytest.Pytester, world: World, model: str, *checks: str, policy: str = "") -> Any:
    from faults.factory import policy_text

    pytester.makefile(".toml", pyproject=policy_text(policy))
    (pytester.path / "tests").mkdir(exist_ok=True)
    out = pytester.path / "out"
    result = pytester.runpytest(f"--audit-model={model}", f"--audit-tracking-uri={world.uri}", f"--audit-out={out}",
                                f"--audit-source={world.repo}", "-p", "no:cacheprovider",
                                f"--audit-checks={','.join(checks or ('lineage',))}")
    report = json.loads((out / "partial" / "audit_report.json").read_text(encoding="utf-8"))
    return result, report, {c["id"]: c for c in report["checks"]}


@needs_dvc
def test_dvc_md5_is_the_plain_md5_of_the_file(dvc_world: World) -> None:
    """What real dvc wrote: every out's md5 is hashlib.md5 of the file's bytes (the rule the audit relies on)."""
    import yaml

    lock = yaml.safe_load((dvc_world.repo / "dvc.lock").read_text(encoding="utf-8"))
    outs = [o for stage in lock["stages"].values() for o in stage["outs"]]
    outs += yaml.safe_load((dvc_world.repo / "data" / "raw.csv.dvc").read_text(encoding="utf-8"))["outs"]
    assert len(outs) == 4
    for out in outs:
        path = dvc_world.repo / ("data" if out["path"] == "raw.csv" else "") / out["path"]
        assert out["hash"] == "md5"
        assert out["md5"] == hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest(), out["path"]


@needs_dvc
def test_pipeline_graph_read_from_the_commit_not_the_working_tree(dvc_world: World, tmp_path: Path) -> None:
    from pytest_release_audit.scanners.dvc import read_pipeline
    from pytest_release_audit.scanners.source import SourceCommit, git_dir

    gitdir, _ = git_dir(dvc_world.repo)
    assert gitdir is not None
    (dvc_world.repo / "dvc.lock").write_text("not: [valid", encoding="utf-8")  # the working tree lies
    try:
        pipeline = read_pipeline(SourceCommit(str(dvc_world.repo), gitdir, dvc_world.commit))
    finally:
        git("checkout", "--", "dvc.lock", cwd=dvc_world.repo)
    assert pipeline is not None
    assert pipeline.text() == "data/raw.csv -> split -> train"
    assert {"from": "data/raw.csv", "to": "split"} in pipeline.edges()
    assert {"from": "split", "to": "data/train.csv"} in pipeline.edges()
    assert pipeline.notes == ()


@needs_dvc
@pytest.mark.slow
def test_logged_files_that_are_the_dvc_outputs_pass(pytester: pytest.Pytester, dvc_world: World) -> None:
    result, report, checks = audit(pytester, dvc_world, "dvc_clean", "lineage", "model_card")
    lineage = checks["lineage"]
    assert lineage["outcome"] == "passed", lineage
    dvc_facts = lineage["evidence"]["dvc"]
    assert dvc_facts["status"] == "verified"
    assert dvc_facts["graph"] == "data/raw.csv -> split -> train"
    assert [(m["dataset"], m["out"], m["match"]) for m in dvc_facts["datasets"]] == [
        ("dvc_clean_train", "data/train.csv", True), ("dvc_clean_eval", "data/eval.csv", True)]
    assert "DVC data/raw.csv -> split -> train: 2 of 2 logged files match the md5s it records" in lineage["summary"]
    card = (pytester.path / "out" / "partial" / "model_card.md").read_text(encoding="utf-8")
    assert (f"DVC pipeline at {dvc_world.commit[:12]}: data/raw.csv → split → train (split: data/raw.csv, "
            "split.py → data/eval.csv, data/train.csv; train: data/train.csv → model.txt); 2 of 2 logged files "
            "match") in card
    markdown = (pytester.path / "out" / "partial" / "audit_report.md").read_text(encoding="utf-8")
    assert "DVC data/raw.csv -&gt; split -&gt; train: 2 of 2 logged files match the md5s it records" in markdown
    html = (pytester.path / "out" / "partial" / "audit_report.html").read_text(encoding="utf-8")
    assert "DVC pipeline at the training commit" in html and "split: data/raw.csv, split.py -&gt; data/eval.csv" in html


@needs_dvc
@pytest.mark.slow
def test_a_logged_file_that_is_not_the_dvc_version_fails_naming_it(pytester: pytest.Pytester,
                                                                   dvc_world: World) -> None:
    import yaml

    result, report, checks = audit(pytester, dvc_world, "dvc_changed")
    lineage = checks["lineage"]
    assert lineage["outcome"] == "failed"
    lock = yaml.safe_load((dvc_world.repo / "dvc.lock").read_text(encoding="utf-8"))
    recorded = next(o["md5"] for o in lock["stages"]["split"]["outs"] if o["path"] == "data/train.csv")
    expected = (f"dataset 'dvc_changed_train' (training) is not the DVC version at {dvc_world.commit[:12]}: md5 of "
                f"train.csv is {dvc_world.facts['changed_md5']} but dvc.lock stage 'split' out data/train.csv "
                f"records {recorded}")
    assert lineage["summary"] == expected
    assert [line for line in result.stdout.lines if expected in line], result.stdout.str()
    assert report["status"].startswith("BLOCKED")


@needs_dvc
@pytest.mark.slow
def test_malformed_dvc_lock_and_required_dvc_fail_in_one_line(pytester: pytest.Pytester, dvc_world: World,
                                                              tmp_path: Path) -> None:
    """A dvc.lock DVC could not have written, committed, fails lineage; so does policy dvc='required' without DVC."""
    from pytest_release_audit.rules.dvc_lineage import assess_dvc
    from pytest_release_audit.scanners.source import SourceCommit, git_dir

    repo = tmp_path / "broken"
    shutil.copytree(dvc_world.repo, repo)
    (repo / "dvc.lock").write_text("schema: '2.0'\nstages:\n  split:\n    outs: [{md5: abc}]\n", encoding="utf-8")
    git("commit", "-q", "-am", "hand-edited lock", cwd=repo)
    gitdir, _ = git_dir(repo)
    assert gitdir is not None
    broken = SourceCommit(str(repo), gitdir, git("rev-parse", "HEAD", cwd=repo))
    evidence, problems, _ = assess_dvc(broken, [], {"dvc": "auto"})
    assert problems == ["dvc.lock at the training commit has an entry without a path ({'md5': 'abc'}): "
                        "regenerate it with dvc repro / dvc add"]
    plain = tmp_path / "plain"
    plain.mkdir()
    git("init", "-q", cwd=plain)
    (plain / "train.py").write_text(SPDX, encoding="utf-8")
    git("add", "-A", cwd=plain)
    git("-c", "user.name=a", "-c", "user.email=a@example.org", "commit", "-q", "-m", "x", cwd=plain)
    gitdir, _ = git_dir(plain)
    assert gitdir is not None
    no_dvc = SourceCommit(str(plain), gitdir, git("rev-parse", "HEAD", cwd=plain))
    assert assess_dvc(no_dvc, [], {"dvc": "auto"})[1] == []
    assert "has no dvc.lock or .dvc file" in assess_dvc(no_dvc, [], {"dvc": "required"})[1][0]
    assert evidence.status.startswith("not read")


def loaded(path: Path, name: str, context: str) -> Any:
    """The dataset as the audit reads it (a LoadedDataset of the file, logged under ``name``)."""
    import pandas as pd

    from pytest_release_audit.data import LoadedDataset, TaskSpec
    from pytest_release_audit.handle.model import DatasetRef

    ref = DatasetRef(name=name, digest="", source_type="local", source=str(path), context=context)
    return LoadedDataset(ref=ref, df=pd.read_csv(path), task=TaskSpec(kind="binary", label_col="label"),
                         local_path=path)


@needs_dvc
def test_git_tracked_stage_inputs_and_directory_outputs(tmp_path: Path) -> None:
    """A file committed to git that a stage reads is checked against the dep md5 dvc.lock records; a file
    inside a directory output cannot be verified from git and fails saying so."""
    from pytest_release_audit.rules.dvc_lineage import assess_dvc
    from pytest_release_audit.scanners.source import SourceCommit, git_dir

    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "data").mkdir()
    binary_frame(60, 3).to_csv(repo / "data" / "labels.csv", index=False)  # in git, not in DVC
    dvc("stage", "add", "-q", "-n", "prep", "-d", "data/labels.csv", "-o", "data/features",
        "mkdir -p data/features && cp data/labels.csv data/features/part-0.csv && echo --token=s3cr3t >/dev/null",
        cwd=repo)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "prep", cwd=repo)
    gitdir, _ = git_dir(repo)
    assert gitdir is not None
    source = SourceCommit(str(repo), gitdir, git("rev-parse", "HEAD", cwd=repo))
    labels = loaded(repo / "data" / "labels.csv", "labels", "raw")
    evidence, problems, clause = assess_dvc(source, [labels], {"dvc": "auto"})
    assert problems == [] and evidence.datasets[0].role == "dep" and evidence.datasets[0].match is True
    assert clause == "DVC prep: 1 of 1 logged files match the md5s it records"
    stage = next(s for s in evidence.stages if s.name == "prep")
    assert stage.cmd is not None and "--token=…" in stage.cmd and "s3cr3t" not in str(evidence.to_dict())
    part = loaded(repo / "data" / "features" / "part-0.csv", "features", "training")
    _, problems, _ = assess_dvc(source, [part], {"dvc": "auto"})
    assert problems == [f"dataset 'features' (training) is inside the DVC directory output data/features at "
                        f"{source.commit[:12]}: its per-file md5s are not in git, so the file cannot be verified; "
                        "track the file itself (an out per file in dvc.yaml)"]
    edited = tmp_path / "labels.csv"
    edited.write_bytes((repo / "data" / "labels.csv").read_bytes().replace(b"north", b"south", 1))
    _, problems, _ = assess_dvc(source, [loaded(edited, "labels", "raw")], {"dvc": "auto"})
    assert problems and " but dvc.lock stage 'prep' dep data/labels.csv records " in problems[0]
