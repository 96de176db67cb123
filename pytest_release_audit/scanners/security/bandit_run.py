# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""bandit in-process over a list of files, with its default test set and its noise kept out of the audit."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from pytest_release_audit.scanners.security.findings import SecurityFinding

#: tests whose message quotes the secret they found (hardcoded passwords): masked in all outputs
_SECRET_TESTS = {"B105", "B106", "B107"}


def run_bandit(
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
