# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Export the training code at the commit recorded on the model's source run.

The code checks (``ip_headers``, ``security``) audit the code that trained the model, not whatever
is checked out today. The run's ``mlflow.source.git.commit`` tag names the commit; we export it
with ``git archive`` into a scratch directory. Nothing here writes to the user's repository: the
git commands used (``rev-parse``, ``ls-tree``, ``archive``, ``cat-file``) only read objects, so the
working tree, the index and the refs stay as they were.

``git archive`` honours ``export-ignore`` attributes committed in ``.gitattributes``, which would let
a file escape the audit. The export is therefore compared with ``git ls-tree`` and any tracked file
the archive left out is written from its blob (``git cat-file --batch``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec B404 - git runs with a fixed list argv, never through a shell
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pytest_release_audit.errors import SourceTreeError
from pytest_release_audit.handle.model import GIT_COMMIT_TAG, GIT_DIRTY_TAG, GIT_REPO_TAG

if TYPE_CHECKING:
    from pytest_release_audit.handle.model import ModelHandle

#: A commit as MLflow records it: a full (or abbreviated) SHA-1 or SHA-256 object name. Anything
#: else is refused before it reaches git's command line (a tag value starting with ``-`` would be
#: read as an option).
_COMMIT_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")
#: Environment variables that would point git at another repository, index or work tree than the
#: one we name (they are set, for example, while a git hook runs pytest).
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
_TRUE = ("true", "1", "yes")
GIT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SourceTree:
    """The training code exported at one commit.

    ``files`` are the repository-relative POSIX paths of every regular file in the commit (symlinks
    and submodules are not code we can scan and are counted in ``skipped``).
    """

    repo: str
    commit: str
    path: Path
    files: tuple[str, ...]
    how: str = "git archive"
    skipped: tuple[str, ...] = ()  # symlinks / submodules not exported, with the reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "commit": self.commit,
            "files_total": len(self.files),
            "how": self.how,
            "skipped": list(self.skipped),
        }


def git_env() -> dict[str, str]:
    """The environment for git subprocesses: no repository overrides, no prompts, stable messages."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def _git(
    args: Sequence[str], *, cwd: Path, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` (list argv, no shell) and return the completed process."""
    try:
        proc = subprocess.run(  # nosec B603 B607 - fixed argv, git from PATH, no shell
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=git_env(),
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise SourceTreeError("git is not on PATH: install git to audit the training code") from None
    except subprocess.TimeoutExpired:
        raise SourceTreeError(
            f"git {args[0]} in {cwd} took longer than {GIT_TIMEOUT_S:.0f}s: check the repository"
        ) from None
    if check and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = err[-1] if err else f"exit code {proc.returncode}"
        raise SourceTreeError(f"git {args[0]} failed in {cwd}: {reason}")
    return proc


def git_dir(repo: Path) -> tuple[Path | None, str]:
    """``(absolute git directory, "")`` for a repository, else ``(None, why not)``."""
    if not repo.is_dir():
        return None, "no such directory"
    proc = _git(["rev-parse", "--absolute-git-dir"], cwd=repo, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        # e.g. "fatal: detected dubious ownership in repository" needs a different fix than a plain
        # directory; keep git's first line
        return None, (err[0].removeprefix("fatal: ") if err else f"git exit code {proc.returncode}")
    return Path(proc.stdout.decode("utf-8", "replace").strip()), ""


def resolve_commit(gitdir: Path, commit: str) -> str | None:
    """The full object name of ``commit`` if that commit exists in ``gitdir``, else None."""
    proc = _git(
        [f"--git-dir={gitdir}", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        cwd=gitdir,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("ascii", "replace").strip() or None


def repo_fallbacks(handle: ModelHandle) -> list[Path]:
    """The run's ``mlflow.source.git.repoURL`` as a local directory, when it is one.

    MLflow records the remote URL (``git@host:org/repo``), which we cannot read offline, or a local
    path for a repository that has no remote. Only the local case helps find the commit.
    """
    url = handle.run.tags.get(GIT_REPO_TAG, "") if handle.run else ""
    if not url:
        return []
    parsed = urlparse(url)
    if parsed.scheme == "file":
        candidate = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        candidate = Path(url)
    else:
        return []
    return [candidate] if candidate.is_dir() else []


def open_source_tree(
    handle: ModelHandle,
    repo: str | Path,
    workdir: Path,
    *,
    fallback_repos: Iterable[Path] = (),
) -> SourceTree:
    """Export the code at the source run's git commit from ``repo`` into ``workdir``.

    ``fallback_repos`` are tried, in order, when ``repo`` is not a git repository or lacks the
    commit. Raises ``SourceTreeError`` (one line) when the run has no commit tag, was trained from
    uncommitted code, or the commit cannot be found. The user's working tree and index are never
    touched: only object-reading git commands run.
    """
    found = locate_commit(handle, repo, fallback_repos=fallback_repos)
    return _export(Path(found.repo), found.gitdir, found.commit, Path(workdir))


def locate_commit(handle: ModelHandle, repo: str | Path, *, fallback_repos: Iterable[Path] = ()) -> SourceCommit:
    """The repository holding the source run's git commit (``repo``, then ``fallback_repos``), nothing exported.

    Raises ``SourceTreeError`` (one line) for the same reasons as ``open_source_tree``.
    """
    commit = _run_commit(handle)
    primary = Path(repo).expanduser().resolve()
    candidates: list[Path] = [primary]
    for extra in fallback_repos:
        path = Path(extra).expanduser().resolve()
        if path not in candidates:
            candidates.append(path)

    searched: list[str] = []
    why_not = ""
    for candidate in candidates:
        gitdir, reason = git_dir(candidate)
        if gitdir is None:
            why_not = why_not or reason
            continue
        searched.append(str(candidate))
        full = resolve_commit(gitdir, commit)
        if full is not None:
            return SourceCommit(repo=str(candidate), gitdir=gitdir, commit=full)

    run_id = handle.run.run_id if handle.run else "?"
    if not searched:
        problem = (
            "is not a git repository"
            if why_not.startswith("not a git repository") or why_not == "no such directory"
            else f"cannot be read by git ({why_not})"
        )
        if why_not == "no such directory":
            problem = "does not exist"
        raise SourceTreeError(
            f"--audit-source {primary} {problem}: pass --audit-source=PATH of a clone of the training code"
        )
    raise SourceTreeError(
        f"commit {commit} (run {run_id}) is not in {', '.join(searched)}: fetch it "
        f"(git fetch --all) or pass --audit-source=PATH of a clone that has it"
    )


@dataclass(frozen=True)
class SourceCommit:
    """The training commit in its repository, read object by object (``git show COMMIT:path``).

    Nothing reads the working tree: a file is what the commit holds, its age is the commit date of
    the last change to it at or before the commit.
    """

    repo: str
    gitdir: Path
    commit: str

    def files(self) -> tuple[str, ...]:
        """Every regular file path of the commit (repository-relative, POSIX)."""
        return tuple(path for mode, kind, _obj, path in _ls_tree(self.gitdir, self.commit)
                     if kind == "blob" and mode != "120000")

    def show(self, path: str) -> bytes | None:
        """The bytes of ``path`` at the commit, or None when the commit has no such file."""
        clean = str(PurePosixPath(path))
        if clean.startswith(("-", "/")) or ".." in PurePosixPath(clean).parts:
            return None
        proc = _git([f"--git-dir={self.gitdir}", "cat-file", "blob", f"{self.commit}:{clean}"],
                    cwd=self.gitdir, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def last_change(self, path: str) -> str | None:
        """The ISO commit date of the last commit at or before this one that changed ``path``, else None."""
        clean = str(PurePosixPath(path))
        if clean.startswith("-"):
            return None
        proc = _git([f"--git-dir={self.gitdir}", "log", "-1", "--format=%cI", self.commit, "--", clean],
                    cwd=self.gitdir, check=False)
        text = proc.stdout.decode("ascii", "replace").strip()
        return text or None


def _run_commit(handle: ModelHandle) -> str:
    """The source run's recorded commit, refused (one line) when missing, dirty or not a hash."""
    run = handle.run
    if run is None:
        raise SourceTreeError(
            f"model {handle.name} v{handle.version} has no source run: register it from a run "
            f"(mlflow.<flavor>.log_model inside mlflow.start_run) so its commit is known"
        )
    commit = (run.git_commit or "").strip()
    if not commit:
        raise SourceTreeError(
            f"run {run.run_id} has no '{GIT_COMMIT_TAG}' tag: train from a git checkout (MLflow sets "
            f"it for scripts run from one) or log it with mlflow.set_tag('{GIT_COMMIT_TAG}', <sha>)"
        )
    if run.tags.get(GIT_DIRTY_TAG, "").strip().lower() in _TRUE:
        raise SourceTreeError(
            f"run {run.run_id} has '{GIT_DIRTY_TAG}=true': the code had uncommitted changes when the "
            f"model trained, so commit {commit[:12]} is not the code that ran; commit and retrain"
        )
    if not _COMMIT_RE.fullmatch(commit):
        raise SourceTreeError(
            f"run {run.run_id} tag '{GIT_COMMIT_TAG}' is not a commit hash ({len(commit)} characters): "
            f"log the full sha from `git rev-parse HEAD`"
        )
    return commit


def close_source_tree(tree: SourceTree) -> None:
    """Remove an export made by ``open_source_tree`` (idempotent)."""
    shutil.rmtree(tree.path, ignore_errors=True)


def _ls_tree(gitdir: Path, commit: str) -> list[tuple[str, str, str, str]]:
    """``(mode, type, object, path)`` of every entry in the commit, recursively."""
    out = _git([f"--git-dir={gitdir}", "ls-tree", "-r", "-z", "--full-tree", commit], cwd=gitdir).stdout
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, obj = meta.decode("ascii").split(" ")
        entries.append((mode, kind, obj, path.decode("utf-8", "surrogateescape")))
    return entries


def _export(repo: Path, gitdir: Path, commit: str, workdir: Path) -> SourceTree:
    workdir.mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix=f"source-{commit[:12]}-", dir=workdir))
    try:
        entries = _ls_tree(gitdir, commit)
        archive = dest.with_suffix(".tar")
        with archive.open("wb") as fh:
            try:
                proc = subprocess.run(  # nosec B603 B607 - fixed argv, git from PATH, no shell
                    ["git", f"--git-dir={gitdir}", "archive", "--format=tar", commit],
                    cwd=gitdir,
                    stdout=fh,
                    stderr=subprocess.PIPE,
                    env=git_env(),
                    timeout=GIT_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SourceTreeError(
                    f"git archive of {commit[:12]} in {repo} took longer than {GIT_TIMEOUT_S:.0f}s"
                ) from None
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SourceTreeError(
                f"git archive of {commit[:12]} failed in {repo}: {reason[-1] if reason else proc.returncode}"
            )
        with tarfile.open(archive) as tar:
            # every member passes tarfile's "data" filter (no absolute paths, no escaping links)
            tar.extractall(dest, filter=_safe_member)  # noqa: S202  # nosec B202
        archive.unlink()

        files: list[str] = []
        skipped: list[str] = []
        missing: list[tuple[str, str]] = []
        for mode, kind, obj, path in entries:
            if kind == "commit":
                skipped.append(f"{path} (submodule)")
            elif mode == "120000":
                skipped.append(f"{path} (symlink)")
            elif kind == "blob":
                files.append(path)
                if not (dest / path).is_file():
                    missing.append((obj, path))
        how = "git archive"
        if missing:
            _write_blobs(gitdir, dest, missing)
            how = f"git archive + {len(missing)} export-ignore file(s) restored from git objects"
        return SourceTree(
            repo=str(repo),
            commit=commit,
            path=dest,
            files=tuple(sorted(files)),
            how=how,
            skipped=tuple(sorted(skipped)),
        )
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        dest.with_suffix(".tar").unlink(missing_ok=True)
        raise


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """A tarfile filter: the ``data`` filter, dropping (not failing on) members it refuses.

    A committed symlink to ``/etc/passwd`` is not code and must not land outside the export; a
    regular file the filter refused would be restored from its blob by the ls-tree comparison.
    """
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def _write_blobs(gitdir: Path, dest: Path, blobs: list[tuple[str, str]]) -> None:
    """Write the given blobs (object, relpath) under ``dest`` with one ``git cat-file --batch``."""
    request = "".join(f"{obj}\n" for obj, _ in blobs).encode("ascii")
    out = _git([f"--git-dir={gitdir}", "cat-file", "--batch"], cwd=gitdir, input=request).stdout
    pos = 0
    root = dest.resolve()
    for obj, rel in blobs:
        header_end = out.index(b"\n", pos)
        name, kind, size = out[pos:header_end].decode("ascii").split(" ")
        if name != obj or kind != "blob":
            raise SourceTreeError(f"git cat-file returned {kind} {name} for {rel}: the repository is corrupt")
        start = header_end + 1
        body = out[start : start + int(size)]
        pos = start + int(size) + 1  # content is followed by a newline
        target = (root / PurePosixPath(rel)).resolve()
        if root not in target.parents:
            continue  # a path escaping the export (cannot come from git, but never write outside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
