# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""DVC's pipeline files at the training commit: the stage graph and the md5 of every output.

Read with PyYAML from the commit's objects (``git cat-file blob COMMIT:dvc.lock``), never from the
working tree and without DVC itself. The formats, as DVC 3 writes them (``tests/test_dvc_lineage.py``
runs real ``dvc add`` / ``dvc stage add`` / ``dvc repro`` and reads what they wrote):

- ``dvc.yaml``: ``stages: {NAME: {cmd, deps: [path], outs: [path | {path: {...}}], wdir}}``
- ``dvc.lock``: ``schema: '2.0'``, ``stages: {NAME: {cmd, deps: [{path, hash: md5, md5, size}], outs: [...]}}``
  (paths relative to the stage's working directory: the dvc.yaml's directory joined with ``wdir``)
- ``FILE.dvc`` (``dvc add``): ``outs: [{md5, size, hash: md5, path}]``, the path relative to the .dvc file

A file's md5 is the plain md5 of its bytes (``hash: md5``, DVC 3). An entry without ``hash`` was
written by DVC 2, which hashed text files with CRLF turned into LF (``md5-dos2unix``). A directory
output's md5 ends in ``.dir`` and names a listing kept in the DVC cache, not in git: a file inside one
cannot be verified from the commit alone.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.scanners.source import SourceCommit

#: md5 of a file as DVC 3 records it / as DVC 2 did for text files
MD5 = "md5"
MD5_DOS2UNIX = "md5-dos2unix"
_CHUNK = 1 << 20


class DvcFormatError(ValueError):
    """A DVC file at the commit cannot be read (one line naming the file and the fix)."""


@dataclass(frozen=True)
class DvcEntry:
    """One dependency or output of a stage: its repository-relative path and recorded md5."""

    path: str
    md5: str | None = None
    size: int | None = None
    hash: str = MD5

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "md5": self.md5, "size": self.size, "hash": self.hash}


@dataclass(frozen=True)
class DvcStage:
    """A stage of ``dvc.lock`` (``kind="stage"``) or a file tracked by a ``.dvc`` file (``kind="tracked"``)."""

    name: str
    file: str
    kind: str = "stage"
    cmd: str | None = None
    deps: tuple[DvcEntry, ...] = ()
    outs: tuple[DvcEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "kind": self.kind, "cmd": self.cmd,
                "deps": [d.to_dict() for d in self.deps], "outs": [o.to_dict() for o in self.outs]}


@dataclass(frozen=True)
class DvcPipeline:
    """Every DVC stage and tracked file at one commit, in graph order (producers before consumers)."""

    commit: str
    files: tuple[str, ...]
    stages: tuple[DvcStage, ...]
    notes: tuple[str, ...] = field(default=())

    def outputs(self) -> list[tuple[DvcStage, DvcEntry]]:
        return [(stage, out) for stage in self.stages for out in stage.outs]

    def order(self) -> list[str]:
        """The stages in graph order: ``data/raw.csv.dvc`` (tracked) -> ``split`` -> ``train``."""
        return [stage.name for stage in self.stages]

    def text(self) -> str:
        """The graph on one line: ``data/raw.csv -> split -> train`` (tracked files by their path)."""
        names = [", ".join(o.path for o in s.outs) if s.kind == "tracked" else s.name for s in self.stages]
        return " -> ".join(names)

    def edges(self) -> list[dict[str, str]]:
        """``{"from", "to"}`` for every dependency path -> stage and stage -> output path."""
        out: list[dict[str, str]] = []
        for stage in self.stages:
            if stage.kind == "stage":
                out.extend({"from": dep.path, "to": stage.name} for dep in stage.deps)
            out.extend({"from": stage.name, "to": o.path} for o in stage.outs)
        return out


def _load_yaml(raw: bytes, path: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise DvcFormatError(f"{path} at the training commit is not valid YAML{at}: "
                             "fix it and re-run dvc repro") from None


def _entry(item: Any, base: str, file: str) -> DvcEntry:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"].strip():
        raise DvcFormatError(f"{file} at the training commit has an entry without a path ({_shown(item)}): "
                             "regenerate it with dvc repro / dvc add")
    md5 = item.get("md5")
    size = item.get("size")
    return DvcEntry(
        path=_join(base, item["path"]),
        md5=str(md5).lower() if isinstance(md5, str) and md5 else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        hash=MD5 if item.get("hash") == MD5 else MD5_DOS2UNIX,
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path)) if base not in ("", ".") else posixpath.normpath(path)


def _list(value: Any, key: str, file: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DvcFormatError(f"{file} at the training commit: '{key}' is not a list: regenerate it with dvc repro")
    return value


def _wdirs(yaml_doc: Any) -> dict[str, str]:
    """Stage name -> its ``wdir`` in dvc.yaml (foreach/matrix stages by their base name)."""
    stages = yaml_doc.get("stages") if isinstance(yaml_doc, dict) else None
    out: dict[str, str] = {}
    for name, body in (stages or {}).items() if isinstance(stages, dict) else ():
        if isinstance(body, dict):
            inner = body.get("do") if isinstance(body.get("do"), dict) else body
            wdir = inner.get("wdir") if isinstance(inner, dict) else None
            out[str(name)] = wdir if isinstance(wdir, str) and wdir else "."
    return out


def _lock_stages(commit: SourceCommit, lock: str, notes: list[str]) -> list[DvcStage]:
    raw = commit.show(lock)
    if raw is None:  # listed by ls-tree, so present; a race with a rewritten history
        raise DvcFormatError(f"{lock} cannot be read at the training commit")
    doc = _load_yaml(raw, lock)
    if not isinstance(doc, dict) or not isinstance(doc.get("stages", {}), dict):
        raise DvcFormatError(f"{lock} at the training commit has no 'stages' mapping: regenerate it with dvc repro")
    if str(doc.get("schema", "")) not in ("2.0",):
        raise DvcFormatError(f"{lock} at the training commit has schema {_shown(doc.get('schema'))}, not '2.0' "
                             "(DVC 2.x and 3.x): regenerate it with a current dvc repro")
    folder = posixpath.dirname(lock)
    yaml_path = posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"
    yaml_raw = commit.show(yaml_path)
    wdirs: dict[str, str] = {}
    declared: list[str] = []
    if yaml_raw is None:
        notes.append(f"{lock} has no {yaml_path} beside it at the commit: stages read from the lock alone")
    else:
        yaml_doc = _load_yaml(yaml_raw, yaml_path)
        wdirs = _wdirs(yaml_doc)
        declared = list(wdirs)
    stages: list[DvcStage] = []
    for name, body in (doc.get("stages") or {}).items():
        if not isinstance(body, dict):
            raise DvcFormatError(f"{lock} at the training commit: stage '{name}' is not a mapping")
        wdir = wdirs.get(str(name), wdirs.get(str(name).split("@", 1)[0], "."))
        base = _join(folder or ".", wdir)
        stages.append(DvcStage(
            name=str(name), file=lock, cmd=body.get("cmd") if isinstance(body.get("cmd"), str) else None,
            deps=tuple(_entry(d, base, lock) for d in _list(body.get("deps"), "deps", lock)),
            outs=tuple(_entry(o, base, lock) for o in _list(body.get("outs"), "outs", lock)),
        ))
    locked = {s.name.split("@", 1)[0] for s in stages}
    for name in declared:
        if name not in locked:
            notes.append(f"stage '{name}' of {yaml_path} is not in {lock}: it was never run (dvc repro)")
    return stages


def _tracked(commit: SourceCommit, path: str) -> DvcStage:
    raw = commit.show(path)
    if raw is None:
        raise DvcFormatError(f"{path} cannot be read at the training commit")
    doc = _load_yaml(raw, path)
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{path} at the training commit is not a DVC file (no 'outs'): "
                             "regenerate it with dvc add")
    base = posixpath.dirname(path) or "."
    outs = tuple(_entry(o, base, path) for o in _list(doc.get("outs"), "outs", path))
    deps = tuple(_entry(d, base, path) for d in _list(doc.get("deps"), "deps", path) if isinstance(d, dict)
                 and isinstance(d.get("path"), str) and "://" not in d["path"])
    if not outs:
        raise DvcFormatError(f"{path} at the training commit records no outs: regenerate it with dvc add")
    return DvcStage(name=path, file=path, kind="tracked", deps=deps, outs=outs)


def _graph_order(stages: list[DvcStage]) -> list[DvcStage]:
    """Producers before consumers (a stable topological sort; cycles keep their file order)."""
    producer: dict[str, str] = {o.path: s.name for s in stages for o in s.outs}

    def inputs(stage: DvcStage) -> set[str]:
        found = set()
        for dep in stage.deps:
            for out, name in producer.items():
                if name != stage.name and (dep.path == out or dep.path.startswith(out + "/")):
                    found.add(name)
        return found

    needs = {s.name: inputs(s) for s in stages}
    done: list[DvcStage] = []
    placed: set[str] = set()
    pending = list(stages)
    while pending:
        ready = [s for s in pending if needs[s.name] <= placed] or pending[:1]
        for stage in ready:
            done.append(stage)
            placed.add(stage.name)
            pending.remove(stage)
    return done


def read_pipeline(commit: SourceCommit, files: Iterable[str] | None = None) -> DvcPipeline | None:
    """The DVC pipeline at ``commit``, or None when the commit has no ``dvc.lock``, ``dvc.yaml`` nor ``.dvc`` file.

    Raises ``DvcFormatError`` (one line) for a file DVC could not have written.
    """
    tree = list(files) if files is not None else list(commit.files())
    locks = sorted(p for p in tree if posixpath.basename(p) == "dvc.lock")
    yamls = sorted(p for p in tree if posixpath.basename(p) == "dvc.yaml")
    tracked = sorted(p for p in tree if p.endswith(".dvc") and not p.startswith(".dvc/")
                     and posixpath.basename(p) != ".dvc")
    if not (locks or yamls or tracked):
        return None
    notes: list[str] = []
    stages: list[DvcStage] = [_tracked(commit, p) for p in tracked]
    for lock in locks:
        stages.extend(_lock_stages(commit, lock, notes))
    for yaml_path in yamls:
        lock = posixpath.join(posixpath.dirname(yaml_path), "dvc.lock") if posixpath.dirname(yaml_path) else "dvc.lock"
        if lock not in locks:
            notes.append(f"{yaml_path} has no {lock} at the commit: its outputs' md5s were never recorded "
                         "(run dvc repro and commit dvc.lock)")
    return DvcPipeline(commit=commit.commit, files=tuple(tracked + yamls + locks),
                       stages=tuple(_graph_order(stages)), notes=tuple(notes))


def file_md5(path: Path, kind: str = MD5) -> str:
    """The md5 DVC records for the file at ``path`` (``md5``: its bytes; ``md5-dos2unix``: DVC 2's text rule)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        head = fh.read(8000)
        text = kind == MD5_DOS2UNIX and b"\x00" not in head
        fh.seek(0)
        pending = b""
        while chunk := fh.read(_CHUNK):
            if text:
                chunk = pending + chunk
                pending = b"\r" if chunk.endswith(b"\r") else b""
                chunk = chunk[:-1] if pending else chunk
                chunk = chunk.replace(b"\r\n", b"\n")
            digest.update(chunk)
        if pending:
            digest.update(pending)
    return digest.hexdigest()
