# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The README says what the code does: its generated parts are current, its commands are CI's.

The doctor table and the terminal excerpt are rewritten by ``scripts/readme_excerpt.py``; these
tests fail when either is stale, and when ``.ci/run`` no longer runs the README's test command.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from conftest import EXAMPLES, ROOT, copy_signers

README = ROOT / "README.md"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_excerpt", ROOT / "scripts" / "readme_excerpt.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands(after: str) -> list[str]:
    """The shell lines of the first ``bash`` block after the line ``after``."""
    text = README.read_text(encoding="utf-8").split(after, 1)[1]
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None, f"no bash block after {after!r}"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_doctor_table_is_current() -> None:
    from pytest_release_audit.doctor import readme_table

    script = _script()
    shown = script.between(README.read_text(encoding="utf-8"), script.TABLE_START, script.TABLE_END)
    assert shown == readme_table(), "README table stale: run python3 scripts/readme_excerpt.py --table"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    (command,) = _commands("Run the test suite:")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci, f".ci/run does not run the README's test command {command!r}"


def test_the_quickstart_leaves_the_shell_where_it_started() -> None:
    """Pasted one after the other from the repository root, the second command runs there too."""
    (demo,) = _commands("Run the demo audit")
    assert "(cd examples && " in demo and not re.search(r"(^|&& )cd ", demo), demo
    assert demo.startswith("python3 -m pip install -e . && python3 examples/build_demo.py && ")


def test_normalise_masks_what_changes_between_builds() -> None:
    script = _script()
    one = "   run 44109240b08047a58cb4ca762b952536   baseline\n   PASS  ip_headers  6 files at 3e37be3f5f4f\n"
    two = "   run b1d953f900d341899c77f51a13856812   baseline\n   PASS  ip_headers  6 files at 4ddcee12f99f\n"
    assert script.normalise(one) == script.normalise(two)
    assert script.normalise(one) != script.normalise(one.replace("6 files", "7 files"))


@pytest.mark.slow
def test_the_terminal_excerpt_is_real_output(demo_registry: Path, tmp_path: Path) -> None:
    """The demo command's output today equals the README's excerpt (run ids and commits masked)."""
    script = _script()
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "tests", project / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(EXAMPLES / "pyproject.toml", project / "pyproject.toml")
    copy_signers(demo_registry, project)
    stdout = script.run_demo(project, f"--audit-tracking-uri=sqlite:///{demo_registry / 'mlflow.db'}",
                             "-p", "no:cacheprovider")
    fresh = script.normalise(script.extract(stdout))
    shown = script.normalise(script.readme_excerpt())
    assert fresh == shown, "README excerpt stale: run python3 scripts/readme_excerpt.py\n" + fresh
