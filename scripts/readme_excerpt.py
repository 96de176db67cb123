# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Keep the README's terminal excerpt the real output of the demo command.

    python3 scripts/readme_excerpt.py           # run the demo audit in examples/, rewrite the excerpt
    python3 scripts/readme_excerpt.py --check   # exit 1 when the README's excerpt is out of date
    python3 scripts/readme_excerpt.py --table   # rewrite only "What your training run must record"

The demo registry must be built first (``python3 examples/build_demo.py``). The excerpt is the
audit report block (banner to the ``generated`` lines) at 100 columns. ``normalise`` masks what
changes between two builds of the same demo (MLflow run ids, the training repository's commit) so
``tests/test_readme.py`` can compare a fresh run with the README.
"""

from __future__ import annotations

import os
import re
import subprocess  # nosec B404: runs pytest on the demo project, a fixed argv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START = "<!-- excerpt: real output of the demo command, rewritten by scripts/readme_excerpt.py -->"
END = "<!-- end of excerpt -->"
COLUMNS = "100"
#: The demo audit, as the README's Quickstart runs it (from examples/).
COMMAND = ("-m", "pytest", "--audit-model=cl_unimodal_v2")

TABLE_START = ("<!-- doctor table: generated from pytest_release_audit/doctor.py (ROWS); tests/test_readme.py "
               "keeps it current -->")
TABLE_END = "<!-- end of doctor table -->"

_BANNER = re.compile(r"^=+ AUDIT REPORT: ")
_LAST = re.compile(r"^-+ generated trail: ")


def run_demo(project: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """The terminal output of the demo audit run in ``project`` (at ``COLUMNS`` columns)."""
    environ = {**os.environ, **(env or {}), "COLUMNS": COLUMNS}
    environ.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(  # nosec B603: sys.executable and a fixed argv
        [sys.executable, *COMMAND, *extra], cwd=project, env=environ, capture_output=True, text=True,
        timeout=600, check=False,
    )
    return done.stdout


def extract(stdout: str) -> str:
    """The report block: from the ``AUDIT REPORT`` banner to the ``generated trail`` line."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if _BANNER.match(line)), None)
    if start is None:
        raise SystemExit("the demo audit printed no AUDIT REPORT banner:\n" + stdout[-2000:])
    end = next((i for i in range(start, len(lines)) if _LAST.match(lines[i])), len(lines) - 1)
    return "\n".join(line.rstrip() for line in lines[start:end + 1]) + "\n"


def normalise(excerpt: str) -> str:
    """``excerpt`` with run ids and commits masked, the ``generated`` lines' paths dropped, and the
    latency check's figures (timings differ on every run, and so does their wrapping) left out."""
    text = re.sub(r"\b[0-9a-f]{32}\b", "<run id>", excerpt)
    text = re.sub(r"\b[0-9a-f]{12}\b", "<commit>", text)
    out: list[str] = []
    in_latency = False
    for line in text.splitlines():
        if re.match(r"^ +[A-Z]+ +latency +", line):
            out.append(line.split("latency", 1)[0] + "latency <timings>")
            in_latency = True
            continue
        if in_latency and line.startswith(" " * 20):
            continue
        in_latency = False
        out.append("-- generated --" if re.match(r"^-+ generated ", line) else line)
    return "\n".join(out) + "\n"


def readme_excerpt(readme: str | None = None) -> str:
    """The excerpt the README holds now (between ``START`` and ``END``, without the fence)."""
    text = README.read_text(encoding="utf-8") if readme is None else readme
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no excerpt markers ({START} ... {END})")
    block = text.split(START, 1)[1].split(END, 1)[0].strip("\n")
    return "\n".join(line for line in block.splitlines() if not line.startswith("```")) + "\n"


def rewrite(excerpt: str) -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n```\n{excerpt}```\n{END}{tail}", encoding="utf-8")


def between(text: str, start: str, end: str) -> str:
    """What ``text`` holds between the marker lines ``start`` and ``end``."""
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no markers {start} ... {end}")
    return text.split(start, 1)[1].split(end, 1)[0].lstrip("\n")


def rewrite_table() -> None:
    from pytest_release_audit.doctor import readme_table

    text = README.read_text(encoding="utf-8")
    old = between(text, TABLE_START, TABLE_END)
    README.write_text(text.replace(f"{TABLE_START}\n{old}{TABLE_END}", f"{TABLE_START}\n{readme_table()}{TABLE_END}"),
                      encoding="utf-8")


def main(argv: list[str]) -> int:
    if "--table" in argv:
        rewrite_table()
        print("README.md doctor table rewritten")
        return 0
    excerpt = extract(run_demo(ROOT / "examples"))
    if "--check" in argv:
        if normalise(excerpt) != normalise(readme_excerpt()):
            print("README.md's excerpt is out of date: run python3 scripts/readme_excerpt.py")
            return 1
        return 0
    rewrite(excerpt)
    print(f"README.md excerpt rewritten ({len(excerpt.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
