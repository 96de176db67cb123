# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Without --audit-model the plugin costs nothing: no heavy imports, compliance tests skipped."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("mlflow", "pandas", "presidio_analyzer", "spacy", "lifelines", "sklearn", "matplotlib")


def test_plain_run_imports_nothing_heavy(pytester):
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_ordinary():
            assert True

        def test_zz_report_modules():
            heavy = [m for m in {heavy!r} if m in sys.modules]
            print("HEAVY:", heavy)
            assert heavy == []
        """.replace("{heavy!r}", repr(HEAVY))
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*HEAVY: []*"])


def test_pytest_version_imports_nothing_heavy():
    code = (
        "import sys, pytest\n"
        "rc = pytest.main(['--version'])\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_compliance_tests_are_skipped_without_an_audit(pytester):
    pytester.makepyfile(
        test_check="""
        import pytest

        @pytest.mark.compliance("calibration")
        def test_calibration(audit_model):
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*runs only with --audit-model*"])
    assert not (pytester.path / "audit-reports").exists()


def test_marker_and_options_are_documented(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.compliance(id, title=*"])
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--audit-model=NAME*", "*--audit-baseline=ALIAS*", "*--audit-only*",
                                 "*audit_model (string)*Default value for --audit-model*"])
