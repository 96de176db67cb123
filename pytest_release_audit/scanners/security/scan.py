# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The security scan of a tree: which files, bandit with and without ``nosec``, the findings judged."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.scanners.security.bandit_run import run_bandit
from pytest_release_audit.scanners.security.findings import RANK, RANKS, NosecComment, SecurityFinding, SecurityResult
from pytest_release_audit.scanners.security.nosec import find_nosec, nosec_line_for

PYTHON_GLOBS = ("*.py", "*.pyw")


def _rank(value: str, key: str) -> str:
    upper = str(value).strip().upper()
    if upper not in RANKS:
        raise PolicyError(f"policy key 'security.{key}' must be LOW, MEDIUM or HIGH, got {value!r}")
    return upper


def is_excluded(relpath: str, patterns: Iterable[str]) -> bool:
    """Whether a repository-relative path matches an exclude glob (``tests/*``, ``tests/``, ``*_pb2.py``)."""
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern:
            continue
        if fnmatch.fnmatchcase(relpath, pattern) or fnmatch.fnmatchcase(relpath, pattern.rstrip("/") + "/*"):
            return True
    return False


def python_files(root: Path, files: Sequence[str] | None = None) -> list[str]:
    """Relative POSIX paths of the Python sources under ``root`` (from ``files`` when given)."""
    root = Path(root)
    if files is None:
        files = [
            p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink()
        ]
    names = [f for f in files if any(fnmatch.fnmatchcase(Path(f).name, g) for g in PYTHON_GLOBS)]
    return sorted(n for n in names if "/.git/" not in f"/{n}")


def scan_security(
    root: Path,
    files: Sequence[str] | None = None,
    *,
    severity: str = "HIGH",
    confidence: str = "MEDIUM",
    require_nosec_justification: bool = False,
    exclude: Sequence[str] = (),
) -> SecurityResult:
    """Run bandit over the Python files under ``root`` and judge the findings.

    ``files`` are root-relative paths (e.g. ``SourceTree.files``); without them the tree is walked.
    A finding blocks when its severity is at least ``severity`` and its confidence at least
    ``confidence``.
    """
    severity = _rank(severity, "severity")
    confidence = _rank(confidence, "confidence")
    root = Path(root).resolve()
    candidates = python_files(root, files)
    selected = [f for f in candidates if not is_excluded(f, exclude)]

    nosec = find_nosec(root, selected)
    active, skipped, metrics, version = run_bandit(root, selected, ignore_nosec=False)
    everything = run_bandit(root, selected, ignore_nosec=True)[0] if nosec else active

    def key(f: SecurityFinding) -> tuple[str, str, int, int]:
        return (f.path, f.test_id, f.line, f.column)

    active_keys = {key(f) for f in active}
    by_line = {(n.path, n.line): n for n in nosec}
    suppressed: list[SecurityFinding] = []
    silenced: dict[tuple[str, int], list[str]] = {}
    for finding in everything:
        if key(finding) in active_keys:
            continue
        comment_line = nosec_line_for(finding, by_line)
        suppressed.append(dataclasses.replace(finding, nosec_line=comment_line))
        if comment_line is not None:
            silenced.setdefault((finding.path, comment_line), []).append(finding.test_id)
    nosec_out = tuple(
        NosecComment(n.path, n.line, n.codes, n.justification, tuple(silenced.get((n.path, n.line), ())))
        for n in nosec
    )
    judged = tuple(
        dataclasses.replace(
            f,
            blocking=RANK.get(f.severity, 0) >= RANK[severity]
            and RANK.get(f.confidence, 0) >= RANK[confidence],
        )
        for f in active
    )
    return SecurityResult(
        files_scanned=len(selected) - len(skipped),
        findings=tuple(sorted(judged, key=lambda f: (-RANK.get(f.severity, 0), f.path, f.line))),
        suppressed=tuple(sorted(suppressed, key=lambda f: (f.path, f.line))),
        nosec=nosec_out,
        skipped=tuple(skipped),
        files_excluded=len(candidates) - len(selected),
        severity=severity,
        confidence=confidence,
        require_nosec_justification=require_nosec_justification,
        bandit_version=version,
        metrics=metrics,
    )


def scan_with_policy(root: Path, files: Sequence[str] | None, section: Mapping[str, Any]) -> SecurityResult:
    """``scan_security`` with the policy's ``security`` section."""
    return scan_security(
        root,
        files,
        severity=section.get("severity", "HIGH"),
        confidence=section.get("confidence", "MEDIUM"),
        require_nosec_justification=bool(section.get("require_nosec_justification", False)),
        exclude=tuple(section.get("exclude", ())),
    )
