# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Lineage from DVC: the files the run logged are the outputs ``dvc.lock`` records at the training commit.

Each logged dataset's file is matched to a DVC output (by its path in the training repository, a
path suffix, a unique file name, else by content) and its md5 is compared with the recorded one.
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.contracts import DvcLineage, DvcMatch, DvcPath, DvcStageRecord

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.scanners.dvc import DvcEntry, DvcPipeline, DvcStage
    from pytest_release_audit.scanners.source import SourceCommit


def _locate(
    data: LoadedDataset, outs: list[tuple[DvcStage, DvcEntry]], repo: Path
) -> tuple[DvcStage, DvcEntry, str] | None:
    """The DVC output a dataset's file should be, and how it was found (None: no path matches)."""
    path = data.local_path
    if path is None:
        return None
    by_path = {out.path: (stage, out) for stage, out in outs}
    try:
        rel = path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        rel = None
    if rel is not None and rel in by_path:
        return (*by_path[rel], "path")
    source = (data.ref.source or "").removeprefix("file://")
    if source and not source.startswith("/") and "://" not in source:
        norm = posixpath.normpath(source)
        if norm in by_path:
            return (*by_path[norm], "path")
    parts = PurePosixPath(path.as_posix()).parts

    def common_tail(out: DvcEntry) -> int:
        theirs = PurePosixPath(out.path).parts
        n = 0
        while n < min(len(parts), len(theirs)) and parts[-1 - n] == theirs[-1 - n]:
            n += 1
        return n

    tails = [(common_tail(o), s, o) for s, o in outs]
    best = max((n for n, _, _ in tails), default=0)
    if best:
        top = [(s, o) for n, s, o in tails if n == best]
        if len(top) == 1:
            stage, out = top[0]
            whole = best == len(PurePosixPath(out.path).parts)
            return stage, out, ("path suffix" if whole else "file name")
    return None


def _inside_dir(data: LoadedDataset, outs: list[tuple[DvcStage, DvcEntry]], repo: Path) -> DvcEntry | None:
    if data.local_path is None:
        return None
    try:
        rel = data.local_path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None
    return next((o for _, o in outs if o.is_dir and rel.startswith(o.path.rstrip("/") + "/")), None)


def dvc_matches(
    pipeline: DvcPipeline, datasets: list[LoadedDataset], repo: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each logged dataset compared with its DVC output, and the problems (one line each)."""
    from pytest_release_audit.scanners.dvc import MD5, file_md5

    produced = {out.path for _, out in pipeline.outputs()}
    # a stage's dependency that no stage produces (data committed to git, read by a stage) is recorded too
    inputs = [(s, d) for s in pipeline.stages if s.kind == "stage" for d in s.deps
              if d.path not in produced and d.md5]
    deps = {id(d) for _, d in inputs}
    outs = pipeline.outputs() + list({d.path: (s, d) for s, d in inputs}.values())
    commit = pipeline.commit[:12]
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    md5_cache: dict[tuple[str, str], str] = {}

    def md5_of(path: Path, kind: str) -> str:
        key = (str(path), kind)
        if key not in md5_cache:
            md5_cache[key] = file_md5(path, kind)
        return md5_cache[key]

    for data in datasets:
        label = f"dataset '{data.name}' ({data.context or 'no context'})"
        row: dict[str, Any] = {"dataset": data.name, "context": data.context,
                               "file": data.local_path.name if data.local_path else None, "md5": None,
                               "stage": None, "out": None, "recorded_md5": None, "how": None, "match": None}
        if data.local_path is None or not data.local_path.is_file():
            row["reason"] = "no file to hash"
            rows.append(row)
            problems.append(f"{label} has no file to compare with the DVC outputs at {commit}")
            continue
        row["md5"] = md5_of(data.local_path, MD5)
        found = _locate(data, outs, repo)
        if found is None:
            folder = _inside_dir(data, outs, repo)
            if folder is not None:
                row.update(out=folder.path, recorded_md5=folder.md5, how="inside a directory output",
                           reason="a directory output's file list is in the DVC cache, not in git")
                problems.append(f"{label} is inside the DVC directory output {folder.path} at {commit}: its per-file "
                                "md5s are not in git, so the file cannot be verified; track the file itself "
                                "(an out per file in dvc.yaml)")
                rows.append(row)
                continue
            local = data.local_path
            by_content = [(s, o) for s, o in outs if o.md5 and not o.is_dir and o.md5 == md5_of(local, o.hash)]
            if by_content:
                stage, out = by_content[0]
                row.update(stage=stage.name, out=out.path, recorded_md5=out.md5, how="content", match=True)
                if id(out) in deps:
                    row["role"] = "dep"
                rows.append(row)
                continue
            row.update(match=False, reason="no DVC output has this path or content")
            problems.append(
                f"{label} is not a DVC output at {commit}: its file {row['file']} (md5 {row['md5']}) matches no "
                f"path or md5 among the {len(outs)} outputs of {', '.join(pipeline.files)}; log the file dvc.lock "
                "records, or add it to the pipeline"
            )
            rows.append(row)
            continue
        stage, out, how = found
        where = f"dvc.lock stage '{stage.name}'" if stage.kind == "stage" else stage.file
        role = "dep" if id(out) in deps else "out"
        row.update(stage=stage.name, out=out.path, recorded_md5=out.md5, how=how)
        if role == "dep":
            row["role"] = "dep"
        if out.md5 is None:
            row.update(match=False, reason="no md5 recorded")
            problems.append(f"{label}: {where} out {out.path} records no md5 at {commit}: run dvc repro "
                            "(or dvc commit) and commit dvc.lock")
        elif out.is_dir:
            row.update(match=False, reason="a directory output")
            problems.append(f"{label} maps to the DVC directory output {out.path} ({where}) at {commit}: log "
                            "the files inside it, each tracked as its own out")
        else:
            actual = md5_of(data.local_path, out.hash)
            row["md5"] = actual
            row["match"] = actual == out.md5
            if out.hash != MD5:
                row["reason"] = "DVC 2 md5 (text files hashed with CRLF as LF)"
            if not row["match"]:
                problems.append(
                    f"{label} is not the DVC version at {commit}: md5 of {row['file']} is {actual} but {where} "
                    f"{role} {out.path} records {out.md5}"
                )
        rows.append(row)
    return rows, problems


def _stage_record(stage: DvcStage) -> DvcStageRecord:
    def paths(entries: tuple[DvcEntry, ...]) -> tuple[DvcPath, ...]:
        return tuple(DvcPath(path=redact(e.path), md5=e.md5, size=e.size, hash=e.hash) for e in entries)

    from pytest_release_audit.errors import redact

    # a stage's command may carry a URI with credentials or a key=secret pair: redacted like every URI
    return DvcStageRecord(name=stage.name, file=stage.file, kind=stage.kind,
                          cmd=redact(stage.cmd) if stage.cmd else None, deps=paths(stage.deps), outs=paths(stage.outs))


def assess_dvc(
    source: SourceCommit | SourceTreeError | None,
    datasets: list[LoadedDataset] | None,
    section: dict[str, Any],
) -> tuple[DvcLineage, list[str], str]:
    """The DVC part of ``lineage``: evidence, problems and the summary's clause ("" when not applicable)."""
    from pytest_release_audit.errors import SourceTreeError
    from pytest_release_audit.scanners.dvc import DvcFormatError, read_pipeline

    required = section.get("dvc") == "required"
    if source is None or isinstance(source, SourceTreeError):
        why = str(source) if source is not None else "no training repository"
        status = f"not read: the training commit cannot be found ({why})"
        problems = [f"policy [lineage] dvc = 'required' but the DVC files cannot be read: {why}"] if required else []
        return DvcLineage(status=status), problems, ""
    try:
        pipeline = read_pipeline(source)
    except DvcFormatError as exc:
        return DvcLineage(status="not read: " + str(exc), commit=source.commit), [str(exc)], ""
    if pipeline is None:
        status = f"not applicable: no dvc.yaml, dvc.lock or .dvc file at {source.commit[:12]}"
        problems = ([f"policy [lineage] dvc = 'required' but commit {source.commit[:12]} has no dvc.lock or .dvc "
                     "file: version the data with DVC (dvc add / dvc repro) and commit the files"] if required else [])
        return DvcLineage(status=status, commit=source.commit), problems, ""
    notes = list(pipeline.notes)
    problems = []
    rows: list[dict[str, Any]] = []
    if datasets is None:
        notes.append("the datasets were recorded without a file: their content cannot be compared with dvc.lock")
        if required:
            problems.append("policy [lineage] dvc = 'required' but the logged datasets have no file to compare "
                            "with dvc.lock")
    else:
        rows, problems = dvc_matches(pipeline, datasets, Path(source.repo))
    if not any(s.kind == "stage" for s in pipeline.stages) and not any(s.outs for s in pipeline.stages):
        notes.append("no DVC output is recorded")
    verified = sum(1 for r in rows if r.get("match"))
    evidence = DvcLineage(
        status="verified" if not problems else "mismatch",
        commit=pipeline.commit,
        files=pipeline.files,
        graph=pipeline.text(),
        stages=tuple(_stage_record(s) for s in pipeline.stages),
        edges=tuple(pipeline.edges()),
        datasets=tuple(DvcMatch.of(r) for r in rows),
        notes=tuple(notes),
    )
    clause = f"DVC {pipeline.text()}: {verified} of {len(rows)} logged files match the md5s it records"
    return evidence, problems, clause
