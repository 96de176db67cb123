# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Every hook spec is called, with a real implementation: the examples of docs/extending.md, run as written."""

from __future__ import annotations

import json
import re
import textwrap
import tomllib
from pathlib import Path

import pytest

from pytest_release_audit import hookspecs

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parent.parent / "docs" / "extending.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def doc_blocks() -> dict[str, str]:
    """The doc's code blocks: Python ones by the file their first line names, others by language."""
    blocks: dict[str, str] = {}
    for lang, body in FENCE.findall(DOC.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        if lang == "python" and first.startswith("# file: "):
            blocks[first.removeprefix("# file: ").strip()] = rest
        else:
            blocks[lang] = body
    return blocks


def install_extension(root: Path, monkeypatch: pytest.MonkeyPatch, modules: dict[str, str],
                      entry_points: dict[str, str]) -> None:
    """An installed distribution (``site/``, on PYTHONPATH) declaring ``entry_points`` as extensions."""
    site = root / "site"
    dist = site / "catalog_registry-1.0.dist-info"
    dist.mkdir(parents=True)
    for name, code in modules.items():
        (site / name).write_text(code, encoding="utf-8")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: catalog-registry\nVersion: 1.0\n", encoding="utf-8")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[pytest_release_audit]\n{lines}", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(site))


def test_every_hook_spec_is_documented_and_tested():
    specs = sorted(n for n in vars(hookspecs) if n.startswith("pytest_release_audit_"))
    doc = DOC.read_text(encoding="utf-8")
    this = Path(__file__).read_text(encoding="utf-8")
    for name in specs:
        assert f"`{name}" in doc or name.replace("pytest_release_audit_", "") in doc, name
        assert f"def {name}(" in doc + this, name


def test_extension_resolves_the_model_and_adds_lineage(audit, monkeypatch):
    blocks = doc_blocks()
    entry_points = tomllib.loads(blocks["toml"])["project"]["entry-points"]["pytest_release_audit"]
    install_extension(audit.pytester.path, monkeypatch, {"catalog_registry.py": blocks["catalog_registry.py"]},
                      entry_points)
    policy = audit.pytester.path / "pyproject.toml"
    # [models.PATTERN] tables match the spec as given: the catalogue name selects the survival policy.
    policy.write_text(policy.read_text(encoding="utf-8").replace('"cl_unimodal_*"', '"catalog:*"'), encoding="utf-8")

    result = audit.run("catalog:survival", subprocess=True)

    report = audit.report()
    lineage = next(c for c in report["checks"] if c["id"] == "lineage")
    assert "warehouse.cohort_2024" in [s["name"] for s in lineage["evidence"]["chain"] if s["role"] == "Raw"]
    assert (report["model"]["name"], report["status"]) == ("cl_unimodal_v2", "READY"), report["blocking"]
    assert result.ret == 0


def test_extension_reports_an_unknown_model_in_one_line(audit, monkeypatch):
    blocks = doc_blocks()
    install_extension(audit.pytester.path, monkeypatch, {"catalog_registry.py": blocks["catalog_registry.py"]},
                      {"catalog": "catalog_registry"})
    result = audit.run("catalog:cardiology", subprocess=True)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*catalog has no product 'cardiology' (products: survival)*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_conftest_cannot_choose_the_audited_model(audit):
    """The audited repository's conftest offers a READY model for a BLOCKED one: never asked."""
    audit.pytester.makeconftest(
        """
        from pathlib import Path

        from pytest_release_audit.handle.resolve import resolve_handle
        from pytest_release_audit.handle.spec import ModelSpec


        def pytest_release_audit_resolve_handle(config, spec, tracking_uri):
            Path("forged").write_text(spec)
            return resolve_handle(ModelSpec(name="cl_unimodal_v2", alias="candidate"), tracking_uri)
        """
    )
    result = audit.run("cl_unimodal_v3_regressed")
    report = audit.report()
    assert not (audit.pytester.path / "forged").exists()
    assert report["model"]["name"] == "cl_unimodal_v3_regressed"
    assert report["status"] != "READY" and result.ret != 0


def test_conftest_hooks_extend_the_card_ship_the_reports_and_notify(audit):
    blocks = doc_blocks()
    audit.pytester.makeconftest(blocks["conftest.py"])
    (audit.pytester.path / "tests" / "test_inventory.py").write_text(blocks["tests/test_inventory.py"],
                                                                           encoding="utf-8")
    result = audit.run("cl_unimodal_v2", "--audit-notify=https://hooks.example.invalid/T0/s3cr3t")

    root = audit.pytester.path
    report = audit.report()
    assert report["status"] == "READY", report["blocking"]
    assert result.ret == 0
    inventory = next(c for c in report["checks"] if c["id"] == "inventory_entry")
    assert inventory["outcome"] == "passed" and inventory["evidence"]["description_words"] > 5
    assert "## Intended Use" in (audit.out_dir / "model_card.md").read_text(encoding="utf-8")
    shipped = json.loads((root / "shipped.json").read_text(encoding="utf-8"))
    assert shipped["status"] == "READY"
    assert {"json", "markdown", "html", "junit", "model_card"} <= set(shipped["kinds"])
    assert json.loads((root / "notified.json").read_text(encoding="utf-8")) == {
        "status": "READY", "model": "cl_unimodal_v2 v1 (@candidate)"}
    assert "notification" not in result.stdout.str()  # the custom notifier delivered it


BUGGY_LINEAGE = textwrap.dedent(
    """
    def pytest_release_audit_lineage(handle):
        upstream = {}
        return [upstream["cohort"]]
    """
)


@pytest.mark.parametrize("tb", ["long", "line", "no"])
def test_a_bug_in_a_builtin_check_shows_its_traceback_as_tb_asks(audit, monkeypatch, tb):
    install_extension(audit.pytester.path, monkeypatch, {"buggy_lineage.py": BUGGY_LINEAGE},
                      {"buggy": "buggy_lineage"})
    result = audit.run("cl_unimodal_v2", "--audit-checks=lineage", f"--tb={tb}", subprocess=True)
    out = result.stdout.str()
    assert result.ret != 0
    if tb == "no":
        assert "unexpected errors in built-in checks" not in out
        return
    result.stdout.fnmatch_lines(["*release-audit: unexpected errors in built-in checks*", "*lineage*"])
    assert "KeyError: '…'" in out and "KeyError: 'cohort'" not in out  # an exception text may quote data
    if tb == "long":
        assert 'return [upstream["cohort"]]' in out and "buggy_lineage.py" in out
    else:
        result.stdout.fnmatch_lines(["[[]lineage[]] KeyError: '…'"])
        assert 'return [upstream["cohort"]]' not in out


USER_CHECKS = """
    import pytest

    from pytest_release_audit import compliance
    from pytest_release_audit.errors import DatasetUnavailable


    @compliance("expected_assert")
    def test_expected_assert(audit_model):
        assert audit_model.version == "99", "version 99 required"


    @compliance("expected_fail")
    def test_expected_fail(audit_model):
        pytest.fail("the approval form is missing", pytrace=False)


    @compliance("expected_input")
    def test_expected_input(audit_model):
        raise DatasetUnavailable("no cohort dataset")


    @compliance("a_bug")
    def test_a_bug(audit_model):
        facts = {}
        return facts["missing_key"]
    """


def test_expected_failures_are_one_line_and_a_bug_keeps_its_traceback(audit):
    (audit.pytester.path / "tests" / "test_user_checks.py").write_text(textwrap.dedent(USER_CHECKS), encoding="utf-8")
    result = audit.run("cl_unimodal_v2", "--audit-checks=lineage", "--tb=long", "-p", "no:randomly")
    out = result.stdout.str()
    assert 'return facts["missing_key"]' in out and "KeyError: 'missing_key'" in out
    assert "[expected_input] could not run: an audit input is unusable" in out
    result.stdout.fnmatch_lines(["*the approval form is missing*"])
    for quiet in ('pytest.fail("the approval form', 'raise DatasetUnavailable("no cohort'):
        assert quiet not in out, quiet
    outcomes = audit.outcomes()
    assert {k: outcomes[k] for k in ("expected_assert", "expected_fail", "expected_input", "a_bug")} == {
        "expected_assert": "failed", "expected_fail": "failed", "expected_input": "failed", "a_bug": "failed"}
    messages = {c["id"]: c.get("summary") or c.get("message") for c in audit.report()["checks"]}
    assert "version 99 required" in json.dumps(messages)
