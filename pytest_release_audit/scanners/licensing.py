# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Licence and copyright headers with ``reuse lint --json``.

reuse's Python API is declared unstable between releases; its ``lint --json`` output is the stable
interface, so we run the CLI in a subprocess and read that. On top of reuse's own verdict
(every file has copyright and licensing information, every licence used has its text in
``LICENSES/``, no invalid or unused licences) we apply the policy's allow-list: each file's SPDX
expression, parsed with license-expression's SPDX index, must be satisfiable with allowed licences
(``MIT OR GPL-3.0-only`` passes when MIT is allowed; ``MIT AND GPL-3.0-only`` needs both).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess  # nosec B404 - reuse runs with a fixed list argv, never through a shell
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from license_expression import (
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
    get_spdx_licensing,
)

from pytest_release_audit.errors import AuditConfigError, AuditError

REUSE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class LicenseReport:
    """What ``reuse lint`` found in one tree, plus the policy allow-list verdict.

    Every path is relative to the scanned root (POSIX separators).
    """

    files_total: int
    reuse_compliant: bool
    missing_copyright: tuple[str, ...] = ()
    missing_licensing: tuple[str, ...] = ()
    bad_licenses: tuple[str, ...] = ()  # identifiers that are neither SPDX nor LicenseRef-
    missing_licenses: tuple[str, ...] = ()  # used, but no text in LICENSES/
    unused_licenses: tuple[str, ...] = ()  # texts in LICENSES/ no file uses
    deprecated_licenses: tuple[str, ...] = ()
    licenses_without_extension: tuple[str, ...] = ()
    read_errors: tuple[str, ...] = ()
    used_licenses: tuple[str, ...] = ()
    disallowed: tuple[str, ...] = ()  # licence ids that make some file's expression unacceptable
    disallowed_files: tuple[str, ...] = ()  # "path (expression)" for those files
    allowed: tuple[str, ...] = ()  # the allow-list applied; () = no allow-list
    invalid_expressions: tuple[str, ...] = ()  # "path (tag)" reuse could not parse: ignored, listed
    reuse_version: str = ""

    @property
    def missing_headers(self) -> tuple[str, ...]:
        """Files lacking copyright or licensing information (or both)."""
        return tuple(sorted(set(self.missing_copyright) | set(self.missing_licensing)))

    @property
    def compliant(self) -> bool:
        """reuse-compliant and every file's licence allowed by the policy."""
        return self.reuse_compliant and not self.disallowed_files

    def problems(self, limit: int = 5) -> list[str]:
        """One human line per kind of problem, with counts and at most ``limit`` examples each."""
        out = []
        if self.missing_headers:
            out.append(
                f"{len(self.missing_headers)} of {self.files_total} files lack licence/copyright headers: "
                f"{_sample(self.missing_headers, limit)} (add them with: reuse annotate --copyright "
                "'YOUR ORG' --license LICENCE-ID FILE..., and commit)"
            )
        if self.disallowed:
            out.append(
                f"licence(s) not in the allowed list: {', '.join(self.disallowed)} "
                f"({len(self.disallowed_files)} files: {_sample(self.disallowed_files, limit)})"
            )
        if self.missing_licenses:
            out.append(f"licence text missing from LICENSES/: {', '.join(self.missing_licenses)} "
                       f"({_licence_text_fix(self.missing_licenses)})")
        if self.bad_licenses:
            out.append(f"unknown licence identifiers: {', '.join(self.bad_licenses)}")
        if self.unused_licenses:
            out.append(f"unused licence texts in LICENSES/: {_sample(self.unused_licenses, limit)}")
        if self.deprecated_licenses:
            out.append(f"deprecated licence identifiers: {', '.join(self.deprecated_licenses)}")
        if self.licenses_without_extension:
            out.append(f"licence files without extension: {_sample(self.licenses_without_extension, limit)}")
        if self.read_errors:
            out.append(f"{len(self.read_errors)} files unreadable: {_sample(self.read_errors, limit)}")
        if not out and not self.reuse_compliant:
            out.append("reuse lint reports the tree as not compliant")
        return out

    def to_dict(self, limit: int = 50) -> dict[str, Any]:
        """Plain JSON; file lists capped at ``limit`` entries (their full length is in ``*_count``)."""
        missing = self.missing_headers
        return {
            "files_total": self.files_total,
            "compliant": self.compliant,
            "reuse_compliant": self.reuse_compliant,
            "missing_headers_count": len(missing),
            "missing_headers": list(missing[:limit]),
            "missing_copyright_count": len(self.missing_copyright),
            "missing_licensing_count": len(self.missing_licensing),
            "used_licenses": list(self.used_licenses),
            "allowed_licenses": list(self.allowed),
            "disallowed": list(self.disallowed),
            "disallowed_files_count": len(self.disallowed_files),
            "disallowed_files": list(self.disallowed_files[:limit]),
            "missing_licenses": list(self.missing_licenses),
            "bad_licenses": list(self.bad_licenses),
            "unused_licenses": list(self.unused_licenses),
            "deprecated_licenses": list(self.deprecated_licenses),
            "licenses_without_extension": list(self.licenses_without_extension),
            "read_errors": list(self.read_errors[:limit]),
            "invalid_expressions": list(self.invalid_expressions[:limit]),
            "reuse_version": self.reuse_version,
        }


def _sample(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _licence_text_fix(missing: Sequence[str]) -> str:
    """How to add the missing licence texts: ``reuse download`` for SPDX ids, by hand for LicenseRef-."""
    spdx = [m for m in missing if not m.startswith("LicenseRef-")]
    own = [m for m in missing if m.startswith("LicenseRef-")]
    parts = []
    if spdx:
        files = ", ".join(f"LICENSES/{m}.txt" for m in spdx)
        parts.append(f"add {files}: run 'reuse download {' '.join(spdx)}' at the root of the training code's "
                     "repository, then commit it")
    if own:
        files = ", ".join(f"LICENSES/{m}.txt" for m in own)
        parts.append(f"write your licence text to {files}, then commit it")
    return "; ".join(parts)


def reuse_command() -> list[str]:
    """argv prefix that runs reuse: this interpreter's module when installed, else ``reuse`` on PATH."""
    if importlib.util.find_spec("reuse") is not None:
        return [sys.executable, "-m", "reuse"]
    exe = shutil.which("reuse")
    if exe:
        return [exe]
    raise AuditConfigError("reuse is not installed: pip install reuse (needed for the ip_headers check)")


def run_reuse_lint(root: Path, *, timeout: float = REUSE_TIMEOUT_S) -> dict[str, Any]:
    """``reuse lint --json`` on ``root`` as parsed JSON.

    ``GIT_CEILING_DIRECTORIES`` stops git discovery at ``root``: an export that happens to sit
    inside another repository (say under an ignored ``.tmp/``) would otherwise be linted as that
    repository's ignored files, i.e. not at all.
    """
    root = Path(root).resolve()
    env = dict(os.environ)
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    env["GIT_CEILING_DIRECTORIES"] = str(root.parent)
    argv = [*reuse_command(), "--root", str(root), "lint", "--json"]
    try:
        proc = subprocess.run(  # nosec B603 - fixed argv (interpreter or reuse), no shell
            argv, cwd=root, capture_output=True, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AuditError(f"reuse lint on {root} took longer than {timeout:.0f}s") from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = err[-1] if err else f"exit code {proc.returncode}, no JSON output"
        raise AuditError(f"reuse lint failed on {root}: {reason}") from None
    if not isinstance(data, dict) or "summary" not in data or "non_compliant" not in data:
        raise AuditError(f"reuse lint on {root} returned JSON without summary/non_compliant: upgrade reuse")
    return data


def lint_licenses(
    root: Path, allowed: Sequence[str] | None = None, *, timeout: float = REUSE_TIMEOUT_S
) -> LicenseReport:
    """Run reuse on ``root`` and apply the licence allow-list (empty or None: no allow-list)."""
    return parse_reuse_lint(run_reuse_lint(root, timeout=timeout), root, allowed)


def parse_reuse_lint(data: dict[str, Any], root: Path, allowed: Sequence[str] | None = None) -> LicenseReport:
    """Turn ``reuse lint --json`` output into a ``LicenseReport`` (pure)."""
    root = Path(root).resolve()
    nc = data.get("non_compliant", {})
    summary = data.get("summary", {})

    def rel_list(key: str) -> tuple[str, ...]:
        value = nc.get(key) or []
        if isinstance(value, dict):  # older reuse: {licence: [files]}
            value = list(value)
        return tuple(sorted({_relative(str(v), root) for v in value}))

    allowed_t = tuple(allowed or ())
    bad_ids: set[str] = set()
    bad_files: list[str] = []
    invalid: list[str] = []
    allowed_set = {_norm(a) for a in allowed_t}
    for file in data.get("files", []):
        for expr in file.get("spdx_expressions", []):
            value = str(expr.get("value", ""))
            if expr.get("is_valid") is False:
                # reuse ignores an unparsable tag (a file with nothing else lacks licensing info and
                # is reported as such), e.g. a header written inside a string literal: so do we
                invalid.append(f"{_relative(str(file.get('path', '')), root)} ({value[:40]})")
                continue
            if allowed_t:
                ok, offending = expression_allowed(value, allowed_set)
                if not ok:
                    bad_ids.update(offending or {value})
                    bad_files.append(f"{_relative(str(file.get('path', '')), root)} ({value})")
    return LicenseReport(
        files_total=int(summary.get("files_total", len(data.get("files", [])))),
        reuse_compliant=bool(summary.get("compliant", False)),
        missing_copyright=rel_list("missing_copyright_info"),
        missing_licensing=rel_list("missing_licensing_info"),
        bad_licenses=tuple(sorted(str(v) for v in nc.get("bad_licenses") or [])),
        missing_licenses=tuple(sorted(str(v) for v in nc.get("missing_licenses") or [])),
        unused_licenses=rel_list("unused_licenses"),
        deprecated_licenses=tuple(sorted(str(v) for v in nc.get("deprecated_licenses") or [])),
        licenses_without_extension=rel_list("licenses_without_extension"),
        read_errors=rel_list("read_errors"),
        used_licenses=tuple(summary.get("used_licenses") or ()),
        disallowed=tuple(sorted(bad_ids)),
        disallowed_files=tuple(sorted(set(bad_files))),
        allowed=allowed_t,
        invalid_expressions=tuple(sorted(set(invalid))),
        reuse_version=str(data.get("reuse_tool_version", "")),
    )


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(root).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


# --- SPDX license expressions: "satisfiable with the allowed licences" ---


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@functools.cache
def _norm(license_id: str) -> str:
    """The licence id as SPDX spells it (``GPL-2.0`` -> ``gpl-2.0-only``), lower-cased: ids match case-insensitively."""
    text = license_id.strip()
    try:
        parsed = _licensing().parse(text, validate=False, strict=False)
    except ExpressionError:
        return text.lower()
    return (parsed.key if isinstance(parsed, LicenseSymbol) else text).lower()


def expression_allowed(expression: str, allowed: set[str]) -> tuple[bool, set[str]]:
    """Whether an SPDX expression can be satisfied with ``allowed`` (lower-cased ids).

    Returns ``(ok, offending ids)``. ``OR`` needs one allowed branch, ``AND`` all; ``X WITH exception``
    is judged by ``X`` (an exception only adds permissions). An unparsable expression is not ok.
    """
    try:
        node = _licensing().parse(expression, validate=False, strict=False)
        if node is not None:  # None: empty
            return _evaluate(node, {_norm(a) for a in allowed})
    except (ExpressionError, RecursionError):  # a header nested beyond the stack is not an expression either
        pass
    return False, {expression}


def _evaluate(node: Any, allowed: set[str]) -> tuple[bool, set[str]]:
    if isinstance(node, LicenseWithExceptionSymbol):
        node = node.license_symbol
    if isinstance(node, LicenseSymbol):
        ident = node.key.lower()
        # "LicenseRef-X+" is "X or later": its base id is enough (SPDX ids arrive as "-or-later")
        ok = ident in allowed or (ident.endswith("+") and ident[:-1] in allowed)
        return ok, (set() if ok else {node.key})
    results = [_evaluate(arg, allowed) for arg in node.args]
    bad = set().union(*(offending for _, offending in results))
    if isinstance(node, _licensing().AND):
        return all(ok for ok, _ in results), bad
    if any(ok for ok, _ in results):  # OR
        return True, set()
    return False, bad
