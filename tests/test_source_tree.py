# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""open_source_tree on real git repositories: the right commit, nothing of the user's touched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_release_audit.errors import SourceTreeError
from pytest_release_audit.handle.model import ModelHandle, RunRecord
from pytest_release_audit.scanners.source import close_source_tree, open_source_tree

# REUSE-IgnoreStart (the header of the test trees, not of this file)
HEADER = "# SPDX-FileCopyrightText: 2026 Example\n# SPDX-License-Identifier: Apache-2.0\n"
# REUSE-IgnoreEnd
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(path: Path, files: dict[str, str]) -> str:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return commit_files(path, files)


def commit_files(repo: Path, files: dict[str, str], message: str = "change") -> str:
    for rel, text in files.items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def handle_for(commit: str | None, **tags: str) -> ModelHandle:
    all_tags = dict(tags)
    if commit is not None:
        all_tags["mlflow.source.git.commit"] = commit
    run = RunRecord(
        run_id="run123",
        experiment_id="0",
        status="FINISHED",
        start_time=None,
        params={},
        metrics={},
        tags=all_tags,
        artifacts=(),
        inputs=(),
    )
    return ModelHandle(name="m", version="1", tracking_uri="", registry_uri="", run=run)


def snapshot(repo: Path) -> dict[str, object]:
    """Everything an export must not change: status, index bytes, and every file's mtime."""
    files = {
        str(p.relative_to(repo)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    index = repo / ".git" / "index"
    index_state = (index.stat().st_mtime_ns, index.read_bytes())
    return {
        # --no-optional-locks: status itself must not refresh (rewrite) the index we compare
        "status": git(repo, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"),
        "index": index_state,
        "head": git(repo, "rev-parse", "HEAD"),
        "refs": git(repo, "for-each-ref"),
        "files": files,
    }


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repo with two commits; returns (path, first commit, second commit)."""
    path = tmp_path / "repo"
    first = make_repo(path, {"src/train.py": HEADER + "SEED = 1\n", "README.md": "# demo\n"})
    second = commit_files(path, {"src/train.py": HEADER + "SEED = 2\n", "src/new.py": HEADER})
    return path, first, second


def test_exports_the_recorded_commit_not_the_checkout(repo, tmp_path):
    path, first, _second = repo
    tree = open_source_tree(handle_for(first), path, tmp_path / "work")
    try:
        assert tree.commit == first
        assert tree.files == ("README.md", "src/train.py")
        assert (tree.path / "src/train.py").read_text() == HEADER + "SEED = 1\n"
        assert not (tree.path / "src/new.py").exists()
        assert tree.how == "git archive"
        assert tree.to_dict()["files_total"] == 2
    finally:
        close_source_tree(tree)
    assert not tree.path.exists()


def test_working_tree_and_index_untouched(repo, tmp_path):
    path, first, _second = repo
    # a user mid-work: a staged change, an unstaged change and an untracked file
    (path / "src/train.py").write_text(HEADER + "SEED = 3\n")
    git(path, "add", "src/train.py")
    (path / "src/train.py").write_text(HEADER + "SEED = 4\n")
    (path / "notes.txt").write_text("scratch\n")
    before = snapshot(path)
    assert before["status"]  # the repo really is dirty, so an accidental reset would show

    tree = open_source_tree(handle_for(first), path, tmp_path / "work")
    close_source_tree(tree)

    assert snapshot(path) == before


def test_abbreviated_commit_resolves_to_full_sha(repo, tmp_path):
    path, first, _ = repo
    tree = open_source_tree(handle_for(first[:10]), path, tmp_path / "work")
    close_source_tree(tree)
    assert tree.commit == first


def test_subdirectory_of_repo_exports_whole_commit(repo, tmp_path):
    path, _, second = repo
    tree = open_source_tree(handle_for(second), path / "src", tmp_path / "work")
    close_source_tree(tree)
    assert "README.md" in tree.files and "src/new.py" in tree.files


def test_error_when_run_has_no_commit_tag(repo, tmp_path):
    path, _, _ = repo
    with pytest.raises(SourceTreeError, match=r"no 'mlflow\.source\.git\.commit' tag.*mlflow\.set_tag"):
        open_source_tree(handle_for(None), path, tmp_path / "work")


def test_error_when_commit_missing_names_repo_and_commit(repo, tmp_path):
    path, _, _ = repo
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(SourceTreeError) as info:
        open_source_tree(handle_for(missing), path, tmp_path / "work")
    message = str(info.value)
    assert missing in message and str(path) in message
    assert "fetch it" in message and "--audit-source" in message
    assert "\n" not in message
    work = tmp_path / "work"
    assert not work.exists() or not any(work.iterdir())  # nothing half-exported left behind


def test_error_when_dirty_marker_set(repo, tmp_path):
    path, first, _ = repo
    with pytest.raises(SourceTreeError, match="uncommitted changes"):
        open_source_tree(handle_for(first, **{"mlflow.source.git.dirty": "true"}), path, tmp_path / "work")


def test_dirty_marker_false_is_fine(repo, tmp_path):
    path, first, _ = repo
    tree = open_source_tree(handle_for(first, **{"mlflow.source.git.dirty": "false"}), path, tmp_path / "w")
    assert tree.commit == first and tree.files, "an explicit 'false' marker exports the commit as usual"
    close_source_tree(tree)


def test_error_when_source_is_not_a_git_repo(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceTreeError, match="is not a git repository.*--audit-source"):
        open_source_tree(handle_for("a" * 40), plain, tmp_path / "work")


def test_error_when_commit_tag_is_not_a_hash(repo, tmp_path):
    path, _, _ = repo
    with pytest.raises(SourceTreeError, match="is not a commit hash"):
        open_source_tree(handle_for("--output=/tmp/x"), path, tmp_path / "work")


def test_fallback_repo_used_when_primary_lacks_commit(repo, tmp_path):
    path, first, _ = repo
    other = tmp_path / "other"
    make_repo(other, {"x.py": HEADER})
    tree = open_source_tree(handle_for(first), other, tmp_path / "work", fallback_repos=[path])
    close_source_tree(tree)
    assert tree.repo == str(path.resolve())


def test_export_ignore_cannot_hide_a_file(tmp_path):
    path = tmp_path / "repo"
    commit = make_repo(
        path,
        {".gitattributes": "src/hidden.py export-ignore\n", "src/hidden.py": "import os\n", "a.py": HEADER},
    )
    tree = open_source_tree(handle_for(commit), path, tmp_path / "work")
    try:
        assert "src/hidden.py" in tree.files
        assert (tree.path / "src/hidden.py").read_text() == "import os\n"
        assert "restored" in tree.how
    finally:
        close_source_tree(tree)


def test_symlink_out_of_tree_is_not_followed(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    (path / "escape").symlink_to("/etc/passwd")
    commit = make_repo(path, {"a.py": HEADER})
    tree = open_source_tree(handle_for(commit), path, tmp_path / "work")
    try:
        assert tree.files == ("a.py",)
        assert "escape (symlink)" in tree.skipped
        assert not (tree.path / "escape").exists()
    finally:
        close_source_tree(tree)


def test_git_location_env_vars_do_not_redirect(repo, tmp_path, monkeypatch):
    path, first, _ = repo
    decoy = tmp_path / "decoy"
    make_repo(decoy, {"d.py": HEADER})
    # as when pytest runs from a git hook of another repository
    monkeypatch.setenv("GIT_DIR", str(decoy / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(decoy / ".git" / "index"))
    tree = open_source_tree(handle_for(first), path, tmp_path / "work")
    close_source_tree(tree)
    assert tree.files == ("README.md", "src/train.py")
