# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Sample AuditResults for the renderer tests, built straight from report/model.py.

The evidence has the shapes the built-in checks record (performance_gate metrics with confidence
intervals, pii findings with masked samples, bias subgroups, the lineage chain), plus hostile
values (markup, template syntax, pipes, ANSI escapes, newlines, URLs) that must stay inert.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

EVIL = '<script>alert("x")</script> {{ 7*7 }} | pipe & "quote" \x1b[31mred\x1b[0m\nsecond line'
EVIL_URL = "https://evil.example/steal.js"


def write_png(path: Path, width: int = 160, height: int = 90) -> Path:
    """A small real PNG (a gradient), written without any imaging library."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


LINEAGE_CHAIN = [
    {
        "kind": "dataset",
        "name": "clinical_raw",
        "role": "raw source",
        "digest": "9f2c41d0a7e3",
        "source": "data/raw.csv",
    },
    {
        "kind": "dataset",
        "name": "clinical_train",
        "role": "curated training split",
        "digest": "c0ffee12ab34",
        "source": EVIL_URL,
        "context": "training",
    },
    {
        "kind": "run",
        "name": "train-cl-unimodal-v2",
        "role": "training run",
        "id": "4b1d5c9e0f6a4c7e8d2b1a3f5e7c9d0b",
        "git_commit": "3e1a9c2",
    },
    {"kind": "model", "name": "cl_unimodal_v2", "role": "candidate", "uri": "models:/cl_unimodal_v2/2"},
]

PERF_EVIDENCE = {
    "metrics": [
        {
            "name": "c_index",
            "label": "C-index",
            "candidate": 0.7134,
            "candidate_ci": [0.6871, 0.7390],
            "baseline": 0.6912,
            "baseline_ci": [0.6640, 0.7181],
            "delta": 0.0222,
            "delta_ci": [0.0051, 0.0398],
            "logged": 0.7131,
            "logged_key": "test_c_index",
            "gate": True,
            "gate_metric": True,
        },
        {
            "name": "ibs",
            "label": "Integrated Brier score",
            "candidate": 0.1612,
            "candidate_ci": [0.1490, 0.1745],
            "baseline": 0.1688,
            "baseline_ci": [0.1551, 0.1822],
            "delta": -0.0076,
            "delta_ci": [-0.0150, -0.0004],
            "logged": None,
            "logged_key": None,
            "gate": None,
            "gate_metric": False,
        },
    ],
    "hazard_ratio": {
        "value": 1.84,
        "ci": [1.42, 2.39],
        "p": 0.00021,
        "significant": True,
    },
    "n": 412,
    "events": 131,
    "n_bootstrap": 1000,
    "confidence": 0.95,
}

PII_EVIDENCE = {
    "datasets_scanned": 2,
    "columns_scanned": 12,
    "findings": [
        {
            "dataset": "clinical_train",
            "column": "notes",
            "entity_type": "EMAIL_ADDRESS",
            "rows_affected": 14,
            "masked_sample": "j***@e******.com",
        },
        {
            "dataset": "clinical_train",
            "column": "contact",
            "entity_type": "PHONE_NUMBER",
            "rows_affected": 3,
            "masked_sample": "***-***-0199",
        },
    ],
}

BIAS_EVIDENCE = {
    "metric": "c_index",
    "max_gap": 0.05,
    "subgroups": [
        {
            "column": "sex",
            "value": "female",
            "n": 198,
            "metric_value": 0.721,
            "ci": [0.68, 0.76],
            "status": "ok",
        },
        {
            "column": "sex",
            "value": "male",
            "n": 214,
            "metric_value": 0.705,
            "ci": [0.67, 0.74],
            "status": "ok",
        },
        {
            "column": "age_band",
            "value": "80+",
            "n": 23,
            "metric_value": 0.61,
            "ci": [0.48, 0.74],
            "status": "fail",
        },
    ],
}


def sample_result(out_dir: Path, *, evil_model: bool = False) -> AuditResult:
    """A BLOCKED audit with every outcome, a never-ran required check and a setup error."""
    write_png(out_dir / "plots" / "performance_gate.png")
    write_png(out_dir / "plots" / "bias.png", 120, 60)
    (out_dir / "security.sarif").write_text('{"version": "2.1.0", "runs": []}', encoding="utf-8")
    name = "evil<b>model</b>{{ x }}|\x1b[1m" if evil_model else "cl_unimodal_v2"
    checks = (
        CheckResult(
            "lineage",
            "Model version -> run -> datasets chain is present",
            "passed",
            True,
            ("EU-AI-Act:Art.10", "SR11-7:model-inventory"),
            "4 links: 2 datasets -> run train-cl-unimodal-v2 -> cl_unimodal_v2 v2",
            {"chain": LINEAGE_CHAIN, "complete": True},
            "checks/test_lineage.py::test_lineage",
            0.41,
        ),
        CheckResult(
            "pii",
            "Training data contains no PII/PHI",
            "failed",
            True,
            ("GDPR:Art.5(1)(c)", "HIPAA:164.514(b)"),
            "PII found: 2 columns in clinical_train (EMAIL_ADDRESS in notes: 14 rows)",
            PII_EVIDENCE,
            "checks/test_pii.py::test_pii",
            1.23456,
        ),
        CheckResult(
            "performance_gate",
            "Candidate is non-inferior to production",
            "passed",
            True,
            ("SR11-7:outcomes-analysis",),
            "C-index 0.713 vs 0.691 (+0.022, CI [0.005, 0.040])",
            PERF_EVIDENCE,
            "checks/test_performance.py::test_performance_gate",
            2.5,
            artifacts=("plots/performance_gate.png",),
        ),
        CheckResult(
            "bias",
            "No subgroup falls behind",
            "failed",
            False,
            ("EU-AI-Act:Art.10(2)(f)",),
            "age_band=80+ C-index 0.610 is 0.103 below overall (max gap 0.05)",
            BIAS_EVIDENCE,
            "checks/test_bias.py::test_bias",
            0.3,
            artifacts=("plots/bias.png", "../outside.png"),
        ),
        CheckResult(
            "security",
            "No high-severity findings in training code",
            "error",
            True,
            ("OWASP:ML06",),
            "bandit crashed: SyntaxError in train.py line 3",
            {"tool": "bandit 1.9.4"},
            "checks/test_security.py::test_security",
            0.2,
            artifacts=("security.sarif",),
        ),
        CheckResult(
            "ip_headers",
            "Every source file has licence headers",
            "waived",
            True,
            ("REUSE:3.3",),
            "WAIVED by alice until 2099-01-01: vendored code (was: 3 files without headers)",
            {"missing": ["vendor/a.py", "vendor/b.py", "vendor/c.py"]},
            None,
            0.05,
            waiver={
                "id": "ip_headers",
                "reason": "vendored code",
                "approver": "alice",
                "expires": "2099-01-01",
                "active": True,
            },
        ),
        CheckResult(
            "reproducibility",
            "Run can be reproduced",
            "skipped",
            True,
            (),
            "no conda env logged",
            {},
            "checks/test_repro.py::test_reproducibility",
            0.0,
            waiver={
                "id": "reproducibility",
                "reason": "legacy run",
                "approver": "bob",
                "expires": "2020-01-01",
                "active": False,
            },
        ),
        CheckResult(
            "dependencies",
            "Dependencies are pinned",
            "skipped",
            False,
            (),
            "no requirements file",
            {},
            None,
            0.0,
        ),
        CheckResult(
            "calibration" + ("<i>" if evil_model else ""),
            EVIL,
            "failed",
            True,
            (EVIL,),
            EVIL,
            {"note": EVIL, "source": EVIL_URL, "nested": {"deep": [EVIL, 1, None]}},
            None,
            0.1,
        ),
    )
    blocking = tuple(c.id for c in checks if c.required and c.outcome not in ("passed", "waived")) + (
        "approvals",
    )
    return AuditResult(
        status="BLOCKED",
        model=ModelRef(name, "2", "candidate", "4b1d5c9e0f6a4c7e8d2b1a3f5e7c9d0b", f"models:/{name}/2"),
        baseline=ModelRef("cl_unimodal_v1", "1", "production", "0aa1", "models:/cl_unimodal_v1/1"),
        target="production",
        started_at="2026-11-23T10:00:00+00:00",
        finished_at="2026-11-23T10:01:07+00:00",
        tool_version="0.1.0",
        checks=checks,
        blocking=blocking,
        environment={
            "python": "3.11.7",
            "mlflow": "3.17.2",
            "tracking_uri": "sqlite:///mlflow.db",
            "policy": "pyproject.toml [tool.release_audit]",
        },
        audit_id="a1b2c3d4",
        errors=("baseline cl_unimodal_v1: run 0aa1 has no logged evaluation dataset " + EVIL,),
    )


def ready_result() -> AuditResult:
    """A READY audit: two required checks passed, one waived."""
    checks = (
        CheckResult(
            "lineage",
            "Lineage chain is present",
            "passed",
            True,
            ("EU-AI-Act:Art.10",),
            "4 links",
            {"chain": LINEAGE_CHAIN},
            "checks/test_lineage.py::test_lineage",
            0.3333333,
        ),
        CheckResult(
            "performance_gate",
            "Candidate is non-inferior",
            "passed",
            True,
            (),
            "C-index 0.713 vs 0.691",
            PERF_EVIDENCE,
            None,
            0.1 + 0.2,
        ),
        CheckResult(
            "ip_headers",
            "Licence headers",
            "waived",
            True,
            (),
            "WAIVED by alice until 2099-01-01: x",
            {},
            None,
            0.0,
            waiver={
                "id": "ip_headers",
                "reason": "x",
                "approver": "alice",
                "expires": "2099-01-01",
                "active": True,
            },
        ),
    )
    return AuditResult(
        status="READY",
        model=ModelRef("cl_unimodal_v2", "2", "candidate", "4b1d", "models:/cl_unimodal_v2/2"),
        baseline=None,
        target="staging",
        started_at="2026-11-23T10:00:00+00:00",
        finished_at="2026-11-23T10:00:09+00:00",
        tool_version="0.1.0",
        checks=checks,
        blocking=(),
        audit_id="ready01",
    )
