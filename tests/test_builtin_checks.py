# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The built-in checks' markers name real framework clauses; the old fixture names still work, warned."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import pytest_release_audit.checks as checks_package
from pytest_release_audit.rules.controls import CONTROLS

FRAMEWORKS = ("SR 11-7 ", "EU AI Act ", "GDPR Art. ", "HIPAA ", "21 CFR ", "ISO/IEC ", "NIST SSDF ", "REUSE ",
              "FDA GMLP ", "OWASP ML")


def _compliance_marks() -> Iterator[pytest.Mark]:
    for path in sorted(Path(checks_package.__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"pytest_release_audit.checks.{path.stem}")
        for name, function in vars(module).items():
            if name.startswith("test_") and callable(function):
                yield from (m for m in getattr(function, "pytestmark", []) if m.name == "compliance")


def test_every_builtin_check_takes_its_controls_from_the_one_table():
    marks = {mark.args[0]: mark for mark in _compliance_marks()}
    assert set(marks) == set(CONTROLS)
    for check_id, mark in marks.items():
        assert mark.kwargs["controls"] == list(CONTROLS[check_id]), check_id


def test_controls_are_framework_clauses_not_planning_ids():
    for check_id, controls in CONTROLS.items():
        assert controls, check_id
        for control in controls:
            assert not re.search(r"seed-\d|:", control), (check_id, control)
            assert control.startswith(FRAMEWORKS), (check_id, control)
            assert control == control.strip() and "  " not in control, (check_id, control)


OLD_NAMES = {
    "training_data": "audit_training_data",
    "evaluation_data": "audit_evaluation_data",
    "evaluation_scores": "audit_scores",
    "source_tree": "audit_source_tree",
}


def test_old_fixture_names_are_deprecated_aliases(pytester: pytest.Pytester):
    pytester.makeconftest(
        "import pytest\n"
        + "".join(
            f"@pytest.fixture(scope='session')\ndef {new}():\n    return {new!r}\n\n" for new in OLD_NAMES.values()
        )
    )
    pytester.makepyfile(
        test_old=f"def test_old({', '.join(OLD_NAMES)}):\n"
        f"    assert ({', '.join(OLD_NAMES)}) == {tuple(OLD_NAMES.values())!r}\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "always")
    result.assert_outcomes(passed=1)
    for old, new in OLD_NAMES.items():
        result.stdout.fnmatch_lines([f"*the fixture '{old}' is deprecated and will be removed*use '{new}'*"])
    # The category is PytestDeprecationWarning: turned into an error, the old names fail the test's setup.
    strict = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestDeprecationWarning")
    strict.assert_outcomes(errors=1)
    strict.stdout.fnmatch_lines(["*PytestDeprecationWarning: the fixture 'training_data' is deprecated*"])
