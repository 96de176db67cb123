# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Static security scan of the training code with bandit, and its SARIF 2.1.0 rendering.

bandit runs in-process (``BanditManager``) with its default test set; the audited repository's own
bandit configuration is deliberately not read, so a committed ``skips`` list cannot switch tests
off: exclusions come from the audit policy only.

``# nosec`` comments are an accepted way to silence a reviewed finding, so they are counted, each
silenced finding is listed, and the policy can require a justification after the codes
(``# nosec B603 - argv is fixed``). To know exactly which findings a ``nosec`` silenced, the files
are scanned a second time with ``ignore_nosec`` when any ``nosec`` comment exists.
"""

from __future__ import annotations

import fnmatch
import io
import logging
import re
import tokenize
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import PolicyError

RANKS = ("LOW", "MEDIUM", "HIGH")
_RANK = {"UNDEFINED": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}
PYTHON_GLOBS = ("*.py", "*.pyw")
#: bandit's own pattern for a nosec comment (bandit/core/manager.py)
_NOSEC_RE = re.compile(r"#\s*nosec\b:?", re.IGNORECASE)
_CODE_RE = re.compile(r"^(B\d{3}|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$")
#: other tools' directives sharing the comment are not a justification
_DIRECTIVE_RE = re.compile(
    r"(noqa(:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*)?|type:\s*ignore(\[[^\]]*\])?|pragma:[^#]*|pylint:[^#]*)",
    re.IGNORECASE,
)
#: tests whose message quotes the secret they found (hardcoded passwords): masked in all outputs
_SECRET_TESTS = {"B105", "B106", "B107"}
#: GitHub ranks code-scanning alerts by this number (critical >= 9, high >= 7, medium >= 4)
_SECURITY_SEVERITY = {"HIGH": "8.0", "MEDIUM": "5.0", "LOW": "2.0", "UNDEFINED": "0.0"}
_SARIF_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class SecurityFinding:
    """One bandit finding, located by repository-relative path and 1-based line/column."""

    test_id: str
    test_name: str
    severity: str
    confidence: str
    cwe: int | None
    text: str
    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    more_info: str = ""
    blocking: bool = False
    nosec_line: int | None = None  # for a suppressed finding: the line of the nosec comment
    line_range: tuple[int, int] = (0, 0)  # the statement's first and last line (bandit's context)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        """``B602 subprocess ... shell=True at src/run.py:12`` for one-line messages."""
        return f"{self.test_id} {self.test_name.replace('_', ' ')} at {self.location}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_id": self.test_id,
            "test_name": self.test_name,
            "severity": self.severity,
            "confidence": self.confidence,
            "cwe": self.cwe,
            "text": self.text,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "blocking": self.blocking,
            "nosec_line": self.nosec_line,
            "more_info": self.more_info,
        }


@dataclass(frozen=True)
class NosecComment:
    """A ``# nosec`` comment: which tests it names (none = all) and the reason given, if any."""

    path: str
    line: int
    codes: tuple[str, ...]
    justification: str
    suppressed: tuple[str, ...] = ()  # test ids of the findings it silenced

    @property
    def justified(self) -> bool:
        return bool(re.search(r"[A-Za-z]{2,}", self.justification))

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "codes": list(self.codes),
            "blanket": not self.codes,
            "justification": self.justification,
            "justified": self.justified,
            "suppressed": list(self.suppressed),
        }


@dataclass(frozen=True)
class SecurityResult:
    """bandit's verdict on a tree under one policy."""

    files_scanned: int
    findings: tuple[SecurityFinding, ...]  # active findings (not silenced), all severities
    suppressed: tuple[SecurityFinding, ...] = ()  # findings silenced by a nosec comment
    nosec: tuple[NosecComment, ...] = ()
    skipped: tuple[str, ...] = ()  # "path: reason" for files bandit could not parse
    files_excluded: int = 0
    severity: str = "HIGH"
    confidence: str = "MEDIUM"
    require_nosec_justification: bool = False
    bandit_version: str = ""
    metrics: dict[str, int] = field(default_factory=dict)  # bandit's totals (loc, nosec, ...)

    @property
    def blocking_findings(self) -> tuple[SecurityFinding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def unjustified_nosec(self) -> tuple[NosecComment, ...]:
        return tuple(n for n in self.nosec if not n.justified)

    @property
    def blocking(self) -> bool:
        return bool(self.blocking_findings) or (
            self.require_nosec_justification and bool(self.unjustified_nosec)
        )

    def counts(self) -> dict[str, int]:
        """Active findings per severity."""
        out = {rank: 0 for rank in RANKS}
        for finding in self.findings:
            out[finding.severity] = out.get(finding.severity, 0) + 1
        return out

    def problems(self, limit: int = 3) -> list[str]:
        """One human line per blocking reason, with numbers."""
        out = []
        blocking = self.blocking_findings
        if blocking:
            by_sev: dict[str, int] = {}
            for f in blocking:
                by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
            counts = ", ".join(
                f"{n} {sev}" for sev, n in sorted(by_sev.items(), key=lambda kv: -_RANK[kv[0]])
            )
            shown = "; ".join(f.describe() for f in blocking[:limit])
            more = f" (+{len(blocking) - limit} more)" if len(blocking) > limit else ""
            noun = "finding" if len(blocking) == 1 else "findings"
            out.append(
                f"{counts}-severity {noun} (policy blocks {self.severity}+ severity at "
                f"{self.confidence}+ confidence): {shown}{more}"
            )
        if self.require_nosec_justification and self.unjustified_nosec:
            bad = self.unjustified_nosec
            shown = ", ".join(n.location for n in bad[:limit])
            more = f" (+{len(bad) - limit} more)" if len(bad) > limit else ""
            out.append(
                f"{len(bad)} '# nosec' without a justification (policy requires one, e.g. "
                f"'# nosec B603 - argv is fixed'): {shown}{more}"
            )
        return out

    def summary(self) -> str:
        counts = self.counts()
        sev = ", ".join(f"{counts[r]} {r}" for r in reversed(RANKS))
        parts = [
            f"{len(self.blocking_findings)} blocking findings in {self.files_scanned} Python files ({sev})"
        ]
        parts.append(f"{len(self.nosec)} nosec comments silencing {len(self.suppressed)} findings")
        if self.skipped:
            parts.append(f"{len(self.skipped)} files not parsable")
        return "; ".join(parts)

    def to_dict(self, limit: int = 50) -> dict[str, Any]:
        return {
            "files_scanned": self.files_scanned,
            "files_excluded": self.files_excluded,
            "thresholds": {"severity": self.severity, "confidence": self.confidence},
            "require_nosec_justification": self.require_nosec_justification,
            "counts": self.counts(),
            "blocking_count": len(self.blocking_findings),
            "findings_count": len(self.findings),
            "findings": [f.to_dict() for f in self.findings[:limit]],
            "suppressed_count": len(self.suppressed),
            "suppressed": [f.to_dict() for f in self.suppressed[:limit]],
            "nosec_count": len(self.nosec),
            "nosec_unjustified_count": len(self.unjustified_nosec),
            "nosec": [n.to_dict() for n in self.nosec[:limit]],
            "skipped": list(self.skipped[:limit]),
            "bandit_version": self.bandit_version,
            "bandit_metrics": dict(self.metrics),
        }


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

    nosec = _find_nosec(root, selected)
    active, skipped, metrics, version = _run_bandit(root, selected, ignore_nosec=False)
    everything = _run_bandit(root, selected, ignore_nosec=True)[0] if nosec else active

    def key(f: SecurityFinding) -> tuple[str, str, int, int]:
        return (f.path, f.test_id, f.line, f.column)

    active_keys = {key(f) for f in active}
    by_line = {(n.path, n.line): n for n in nosec}
    suppressed: list[SecurityFinding] = []
    silenced: dict[tuple[str, int], list[str]] = {}
    for finding in everything:
        if key(finding) in active_keys:
            continue
        comment_line = _nosec_line_for(finding, by_line)
        suppressed.append(_replace(finding, nosec_line=comment_line))
        if comment_line is not None:
            silenced.setdefault((finding.path, comment_line), []).append(finding.test_id)
    nosec_out = tuple(
        NosecComment(n.path, n.line, n.codes, n.justification, tuple(silenced.get((n.path, n.line), ())))
        for n in nosec
    )
    judged = tuple(
        _replace(
            f,
            blocking=_RANK.get(f.severity, 0) >= _RANK[severity]
            and _RANK.get(f.confidence, 0) >= _RANK[confidence],
        )
        for f in active
    )
    return SecurityResult(
        files_scanned=len(selected) - len(skipped),
        findings=tuple(sorted(judged, key=lambda f: (-_RANK.get(f.severity, 0), f.path, f.line))),
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


def _replace(finding: SecurityFinding, **changes: Any) -> SecurityFinding:
    import dataclasses

    return dataclasses.replace(finding, **changes)


def _nosec_line_for(finding: SecurityFinding, by_line: Mapping[tuple[str, int], NosecComment]) -> int | None:
    # bandit honours a nosec on the finding's line or anywhere in its statement's line range
    first, last = finding.line_range if finding.line_range != (0, 0) else (finding.line, finding.line)
    for line in [finding.line, *range(first, last + 1)]:
        if (finding.path, line) in by_line:
            return line
    return None


def _run_bandit(
    root: Path, files: Sequence[str], *, ignore_nosec: bool
) -> tuple[list[SecurityFinding], list[str], dict[str, int], str]:
    """bandit over ``files``: (findings, skipped "path: reason", total metrics, bandit version)."""
    stevedore = logging.getLogger("stevedore")
    stevedore_level = stevedore.level
    with warnings.catch_warnings():
        # On import, stevedore (bandit's plugin loader) warns about its own deprecated argument and
        # logs an ERROR for bandit's optional "sarif" formatter (extra not installed; we write
        # SARIF ourselves). Neither concerns the scan.
        warnings.simplefilter("ignore", DeprecationWarning)
        stevedore.setLevel(logging.CRITICAL)
        try:
            import bandit
            from bandit.core import config as b_config
            from bandit.core import docs_utils
            from bandit.core import manager as b_manager
        finally:
            stevedore.setLevel(stevedore_level)

    if not files:
        return [], [], {}, bandit.__version__
    # bandit draws a progress bar over 50 files when its logger is at INFO (e.g. pytest
    # --log-level=INFO) and warns once per word of a nosec justification ("Test in comment: argv
    # is not a test name"); the audit's output is the report, and skipped files come back below
    log = logging.getLogger("bandit")
    previous = log.level
    log.setLevel(max(logging.ERROR, log.getEffectiveLevel()))
    try:
        mgr = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True, ignore_nosec=ignore_nosec)
        mgr.discover_files([str(root / f) for f in files], recursive=False)
        mgr.run_tests()
    finally:
        log.setLevel(previous)
    findings = []
    for issue in mgr.get_issue_list():
        data = issue.as_dict(with_code=False)
        rel = _relative(str(data["filename"]), root)
        line_range = data.get("line_range") or [data["line_number"]]
        end_col = int(data.get("end_col_offset") or 0)
        col = max(int(data.get("col_offset") or 0), 0) + 1
        end_line = int(max(line_range))
        text = str(data["issue_text"])
        if data["test_id"] in _SECRET_TESTS:
            text = re.sub(r"'[^']*'", "'***'", text)
        findings.append(
            SecurityFinding(
                test_id=str(data["test_id"]),
                test_name=str(data["test_name"]),
                severity=str(data["issue_severity"]).upper(),
                confidence=str(data["issue_confidence"]).upper(),
                cwe=(data.get("issue_cwe") or {}).get("id"),
                text=text,
                path=rel,
                line=int(data["line_number"]),
                column=col,
                end_line=end_line,
                end_column=end_col + 1 if end_col > 0 and end_line == int(data["line_number"]) else None,
                more_info=docs_utils.get_url(data["test_id"]),
                line_range=(int(min(line_range)), end_line),
            )
        )
    skipped = [f"{_relative(str(name), root)}: {reason}" for name, reason in mgr.get_skipped()]
    totals = mgr.metrics.data.get("_totals", {})
    metrics = {k: int(totals.get(k, 0)) for k in ("loc", "nosec", "skipped_tests")}
    return findings, skipped, metrics, bandit.__version__


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def _find_nosec(root: Path, files: Sequence[str]) -> list[NosecComment]:
    """Every ``# nosec`` comment in ``files``, read from Python comment tokens as bandit does."""
    out = []
    for rel in files:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue  # bandit reports unreadable files as skipped
        try:
            for tok in tokenize.tokenize(io.BytesIO(data).readline):
                if tok.type == tokenize.COMMENT and _NOSEC_RE.search(tok.string):
                    codes, justification = parse_nosec(tok.string)
                    out.append(NosecComment(rel, tok.start[0], codes, justification))
        except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
            continue  # a file bandit cannot parse is reported as skipped by bandit itself
    return out


def parse_nosec(comment: str) -> tuple[tuple[str, ...], str]:
    """Split a nosec comment into the test ids/names it names and the justification around them.

    ``# nosec B603 B607 - argv is fixed`` -> ``(("B603", "B607"), "argv is fixed")``;
    ``# argv is fixed  # nosec: B603`` -> ``(("B603",), "argv is fixed")``; ``# nosec`` -> ``((), "")``.
    """
    match = _NOSEC_RE.search(comment)
    if not match:
        return (), ""
    before = comment[: match.start()]
    after = comment[match.end() :]
    codes: list[str] = []
    rest = after
    while True:
        token = re.match(r"[\s,/;]*([A-Za-z0-9_]+)", rest)
        if not token or not _CODE_RE.match(token.group(1)):
            break
        codes.append(token.group(1))
        rest = rest[token.end() :]
    # a trailing "# other tool" directive after the justification is not part of it
    reason_after = rest.split("#", 1)[0]
    reason_before = _DIRECTIVE_RE.sub(" ", before.replace("#", " "))
    parts = [p.strip(" \t-–—:;,()[]") for p in (reason_after, reason_before)]
    return tuple(codes), " ".join(p for p in parts if p).strip()


# --- SARIF 2.1.0 --------------------------------------------------------------------------------


def to_sarif(
    result: SecurityResult,
    repo_root: str | Path,
    *,
    commit: str | None = None,
    repository_uri: str | None = None,
) -> dict[str, Any]:
    """The scan as a SARIF 2.1.0 log with the fields GitHub code scanning requires.

    Locations are repository-relative URIs under ``%SRCROOT%`` (``repo_root``); findings silenced by
    ``# nosec`` are included with an ``inSource`` suppression, which code-scanning UIs show as
    dismissed rather than dropping silently.
    """
    root_uri = Path(repo_root).resolve().as_uri().rstrip("/") + "/"
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results = []
    for finding, suppressed in [(f, False) for f in result.findings] + [(f, True) for f in result.suppressed]:
        if finding.test_id not in rule_index:
            rule_index[finding.test_id] = len(rules)
            rules.append(_sarif_rule(finding))
        region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line and finding.end_line >= finding.line:
            region["endLine"] = finding.end_line
        if finding.end_column and region.get("endLine", finding.line) == finding.line:
            region["endColumn"] = finding.end_column
        item: dict[str, Any] = {
            "ruleId": finding.test_id,
            "ruleIndex": rule_index[finding.test_id],
            "level": _SARIF_LEVEL.get(finding.severity, "warning"),
            "message": {
                "text": f"{finding.text} (severity {finding.severity}, confidence {finding.confidence})"
            },
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                        "region": region,
                    }
                }
            ],
            "properties": {
                "issue_severity": finding.severity,
                "issue_confidence": finding.confidence,
                "blocking": finding.blocking,
            },
        }
        if suppressed:
            comment = next(
                (n for n in result.nosec if n.path == finding.path and n.line == finding.nosec_line), None
            )
            suppression: dict[str, Any] = {"kind": "inSource"}
            if comment is not None and comment.justification:
                suppression["justification"] = comment.justification
            item["suppressions"] = [suppression]
        results.append(item)

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "Bandit",
                "informationUri": "https://bandit.readthedocs.io/",
                "version": result.bandit_version,
                "semanticVersion": result.bandit_version,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "message": {"text": f"not scanned: {entry}"},
                    }
                    for entry in result.skipped
                ],
            }
        ],
        "results": results,
        "properties": {
            "thresholds": {"severity": result.severity, "confidence": result.confidence},
            "files_scanned": result.files_scanned,
            "nosec_count": len(result.nosec),
        },
    }
    if commit:
        run["versionControlProvenance"] = [
            {"repositoryUri": repository_uri or root_uri, "revisionId": commit}
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _sarif_rule(finding: SecurityFinding) -> dict[str, Any]:
    title = finding.test_name.replace("_", " ")
    tags = ["security"]
    if finding.cwe:
        tags.append(f"external/cwe/cwe-{finding.cwe}")
    cwe = f" (CWE-{finding.cwe})" if finding.cwe else ""
    help_text = (
        f"bandit {finding.test_id} {finding.test_name}{cwe}. See {finding.more_info or 'bandit docs'}."
    )
    rule: dict[str, Any] = {
        "id": finding.test_id,
        "name": finding.test_name,
        "shortDescription": {"text": f"{finding.test_id}: {title}"},
        "fullDescription": {"text": finding.text},
        "help": {"text": help_text, "markdown": f"[{finding.test_id} {title}]({finding.more_info}){cwe}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL.get(finding.severity, "warning")},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY.get(finding.severity, "5.0"),
            "precision": {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}.get(finding.confidence, "medium"),
        },
    }
    if finding.more_info:
        rule["helpUri"] = finding.more_info
    return rule
