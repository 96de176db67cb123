# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A security scan as a SARIF 2.1.0 log, with the fields GitHub code scanning requires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_release_audit.scanners.security.findings import NosecComment, SecurityFinding, SecurityResult

#: GitHub ranks code-scanning alerts by this number (critical >= 9, high >= 7, medium >= 4)
_SECURITY_SEVERITY = {"HIGH": "8.0", "MEDIUM": "5.0", "LOW": "2.0", "UNDEFINED": "0.0"}
_SARIF_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


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
        item = _sarif_result(finding, rule_index[finding.test_id])
        if suppressed:
            item["suppressions"] = [_suppression(finding, result.nosec)]
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


def _sarif_result(finding: SecurityFinding, rule_index: int) -> dict[str, Any]:
    """One SARIF result: the finding's rule, level, message and region."""
    region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line and finding.end_line >= finding.line:
        region["endLine"] = finding.end_line
    if finding.end_column and region.get("endLine", finding.line) == finding.line:
        region["endColumn"] = finding.end_column
    return {
        "ruleId": finding.test_id,
        "ruleIndex": rule_index,
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


def _suppression(finding: SecurityFinding, nosec: tuple[NosecComment, ...]) -> dict[str, Any]:
    """The ``inSource`` suppression of a finding a ``# nosec`` silenced, with its justification."""
    comment = next((n for n in nosec if n.path == finding.path and n.line == finding.nosec_line), None)
    suppression: dict[str, Any] = {"kind": "inSource"}
    if comment is not None and comment.justification:
        suppression["justification"] = comment.justification
    return suppression
