# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Issue 14's acceptance tests: models logged the way MLflow users log them get the right verdict.

One row per case: the registered model (``builders.CASE_MODELS``; ``+suffix`` names a variant),
extra pytest arguments (``{dataset}`` / ``{test}`` are the files the user wrote, from
``usage.facts``), the expected verdict, the exact set of checks that must not pass, and for each
of them regular expressions its message (the check's ``summary`` in ``audit_report.json``) must
match. ``TERMINAL`` holds patterns that must match exactly one terminal line. Every failing
message must also name the MLflow call, tag or option that fixes it (``FIX``), and none may be a
raw scikit-learn feature-name error. What each case records is in ``README.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest
from faults.factory import assert_no_traceback

from .builders import Usage

pytestmark = pytest.mark.slow

#: A message names what fixes it: an MLflow call, a tag, an audit option or a policy key.
FIX = (r"mlflow\.|log_input|log_param|log_model|infer_signature|set_model_version_tag|from_pandas|"
       r"set_registered_model_alias|--audit-|\[tool\.release_audit|\[datasets|tags=|data_sha256|reset_index|to_csv")
#: A check that cannot run because of another check's finding points at it.
POINTER = r"without a file|see ERROR \d|--audit-data|data_integrity"
#: The one line about autolog's file-less datasets, naming both ways out.
NO_FILE_LINE = r"recorded without a file.*(log_input|from_pandas).*(--audit-data|\[datasets)"
#: scikit-learn's own errors when the label or an id column is fed to the model as a feature.
RAW_SKLEARN = r"feature names|Feature names|X has \d+ features"
TERMINAL = "terminal"
NOT_PASSED = ("failed", "error", "skipped")


class Case(NamedTuple):
    case: str
    extra_args: tuple[str, ...]
    expected_verdict: str
    expected_failing_checks: frozenset[str]
    message_patterns: dict[str, tuple[str, ...]]

    @property
    def model(self) -> str:
        return self.case.split("+")[0]


def case(name: str, verdict: str, failing: dict[str, tuple[str, ...]] | None = None, *args: str,
         terminal: tuple[str, ...] = ()) -> Case:
    patterns = dict(failing or {})
    if terminal:
        patterns[TERMINAL] = terminal
    return Case(name, args, verdict, frozenset(failing or ()), patterns)


AUDIT_DATA = ("--audit-data=dataset={dataset}", "--audit-data=test={test}")
EVALUATION_MISSING = (r"evaluation", r"log_input")
LABELS_ONLY = (r"label", r"predict_proba|probabilit")
LABEL_UNKNOWN = (r"set_model_version_tag\(.*label_col|infer_signature",)

CASES = [
    # autolog records its training frame without a file and no evaluation data at all
    case("autolog_bare", "BLOCKED", {
        "lineage": EVALUATION_MISSING,
        "data_integrity": (NO_FILE_LINE,),
        "pii": (POINTER,),
        "leakage": (POINTER,),
        "data_license": (r"\bdataset\b", r"licen[cs]e", r"log_input|tags="),
        "performance_gate": (POINTER + "|" + EVALUATION_MISSING[0],),
        "bias": (POINTER + "|" + EVALUATION_MISSING[0],),
        "signature": (POINTER + "|" + EVALUATION_MISSING[0],),
        "latency": (POINTER + "|" + EVALUATION_MISSING[0],),
        "drift": (POINTER + "|" + EVALUATION_MISSING[0],),
    }, terminal=(NO_FILE_LINE,)),
    # autolog + the test frame logged from memory (from_pandas without source): both file-less
    case("autolog_classifier", "BLOCKED", {
        "data_integrity": (NO_FILE_LINE,),
        "pii": (POINTER,),
        "leakage": (POINTER,),
        "data_license": (r"\bdataset\b", r"licen[cs]e", r"log_input|tags="),
        "performance_gate": (POINTER,),
        "bias": (POINTER,),
        "signature": (POINTER,),
        "latency": (POINTER,),
        "drift": (POINTER,),
    }, terminal=(NO_FILE_LINE,)),
    # ... mapped to the files the user wrote (df.to_csv(path), index included): read and accepted;
    # only the licence autolog cannot record is missing
    case("autolog_classifier+audit-data", "BLOCKED", {
        "data_license": (r"\bdataset\b", r"licen[cs]e", r"log_input|tags="),
    }, *AUDIT_DATA),
    # autolog's defaults beside the README's files: its file-less frames are set aside, and only the
    # input example autolog does not log by default is missing
    case("autolog_with_files", "BLOCKED", {"signature": (r"input_example=", r"log_input_examples=True")}),
    case("plain_log_model", "READY"),
    case("elasticnet_wine", "READY"),
    case("multiclass_iris", "READY"),
    case("regressor_diabetes", "READY"),
    case("pyfunc_proba_n", "READY"),
    case("pyfunc_proba_n1", "READY"),
    case("pyfunc_proba_n2", "READY"),
    case("pyfunc_proba_nk", "READY"),
    case("pyfunc_proba_frame", "READY"),
    case("pyfunc_labels", "BLOCKED", {"performance_gate": LABELS_ONLY, "bias": (r"label",)}),
    # train_test_split frames logged as they are, no data_sha256
    case("split_index_false", "BLOCKED", {"data_integrity": (r"index", r"reset_index|to_csv|index=True")}),
    case("split_index_true", "READY"),
    case("odd_label_no_signature", "BLOCKED", {
        "signature": (r"infer_signature",),
        "performance_gate": LABEL_UNKNOWN,
        "bias": (LABEL_UNKNOWN[0] + "|" + POINTER,),
        "latency": LABEL_UNKNOWN,
        "drift": LABEL_UNKNOWN,
    }),
]


def _report(out: Path) -> dict | None:
    found = [p for p in (out / "audit_report.json", out / "partial" / "audit_report.json") if p.is_file()]
    if not found:
        return None
    return json.loads(max(found, key=lambda p: p.stat().st_mtime_ns).read_text(encoding="utf-8"))


def _matches(patterns: tuple[str, ...], text: str) -> bool:
    """Each pattern matches ``text``; a pattern with ``|`` at top level matches if any branch does."""
    return all(re.search(p, text, re.DOTALL) for p in patterns)


@pytest.mark.parametrize("row", CASES, ids=[c.case for c in CASES])
def test_usage(row: Case, usage: Usage, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one check per terminal line
    usage.project(pytester.path)
    files = {k: str(v) for k, v in usage.facts.get(row.model, {}).items()}
    extra = [arg.format(**files) for arg in row.extra_args]
    # A subprocess, as in CI: in-process runs share this worker's imports with the registry builder
    # and every earlier case (pytester restores sys.modules, not what those imports changed).
    result = pytester.runpytest_subprocess(f"--audit-model={row.model}", f"--audit-tracking-uri={usage.uri}",
                                           "--audit-out=out", "-p", "no:cacheprovider", *extra, timeout=600)
    terminal = result.stdout.lines + result.stderr.lines
    report = _report(pytester.path / "out")
    assert report is not None, "no audit_report.json; terminal:\n" + "\n".join(terminal[-40:])

    problems: list[str] = []
    checks = {c["id"]: c for c in report["checks"]}
    failing = {cid for cid, c in checks.items() if c["outcome"] in NOT_PASSED}
    if report["status"] != row.expected_verdict:
        problems.append(f"verdict {report['status']}, expected {row.expected_verdict}")
    if failing != row.expected_failing_checks:
        problems.append(f"failing {sorted(failing)}, expected {sorted(row.expected_failing_checks)}")
    blocking = {b if isinstance(b, str) else b.get("id") for b in report["blocking"]}
    if row.expected_verdict == "READY" and (blocking or report["errors"]):
        problems.append(f"READY expected but blocking={sorted(blocking)} errors={report['errors']}")
    for cid in sorted(failing | set(row.message_patterns) - {TERMINAL}):
        message = checks.get(cid, {}).get("summary", "")
        shown = f"{cid} ({checks.get(cid, {}).get('outcome', 'absent')}): {message}"
        if cid in row.message_patterns and not _matches(row.message_patterns[cid], message):
            problems.append(f"{shown}  -- does not match {row.message_patterns[cid]}")
        if cid in failing and not re.search(FIX, message):
            problems.append(f"{shown}  -- names no MLflow call, tag or option that fixes it")
        if re.search(RAW_SKLEARN, message):
            problems.append(f"{shown}  -- a raw scikit-learn error")
    for pattern in row.message_patterns.get(TERMINAL, ()):
        lines = [line for line in terminal if re.search(pattern, line)]
        if len(lines) != 1:
            problems.append(f"{len(lines)} terminal lines match {pattern!r}, expected exactly 1: {lines[:5]}")
    if row.expected_verdict == "READY" and result.ret != 0:
        problems.append(f"exit code {result.ret} for a READY verdict")
    if row.expected_verdict == "BLOCKED" and result.ret == 0:
        problems.append("exit code 0 for a BLOCKED verdict")
    assert not problems, f"{row.case}:\n  " + "\n  ".join(problems)
    assert_no_traceback(result)
