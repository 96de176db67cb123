# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Licence headers (real reuse), security (real bandit), pinned dependencies, reproducibility.

The trees are real git repositories built in tmp_path and exported with ``open_source_tree``, the
way the checks see them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord
from pytest_release_audit.policy import default_policy
from pytest_release_audit.scanners.dependencies import (
    check_environment_files,
    check_reproducibility,
    parse_conda_spec,
    parse_requirement_line,
)
from pytest_release_audit.scanners.licensing import expression_allowed, lint_licenses
from pytest_release_audit.scanners.security import parse_nosec, scan_security, scan_with_policy, to_sarif
from pytest_release_audit.scanners.source import SourceTree, close_source_tree, open_source_tree

# REUSE-IgnoreStart (headers of the test trees, not of this file)
HEADER = "# SPDX-FileCopyrightText: 2026 Example Corp\n# SPDX-License-Identifier: {lic}\n"
# REUSE-IgnoreEnd
APACHE_TEXT = (Path(__file__).resolve().parents[1] / "LICENSES" / "Apache-2.0.txt").read_text()
ALLOWED = default_policy().section("ip_headers")["allowed_licenses"]


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def header(lic: str = "Apache-2.0") -> str:
    return HEADER.format(lic=lic)


CLEAN = {
    "LICENSES/Apache-2.0.txt": APACHE_TEXT,
    "train.py": header() + "import random\n\nSEED = 7\nrandom.seed(SEED)\n",
    "src/util.py": header() + "def add(a, b):\n    return a + b\n",
    ".gitignore": header() + "build/\n",
}


def export(tmp_path: Path, files: dict[str, str]) -> SourceTree:
    """Commit ``files`` to a fresh repo and export that commit as the checks would."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "code")
    commit = git(repo, "rev-parse", "HEAD")
    run = RunRecord("r1", "0", "FINISHED", None, {}, {}, {"mlflow.source.git.commit": commit}, (), ())
    handle = ModelHandle(name="m", version="1", tracking_uri="", registry_uri="", run=run)
    return open_source_tree(handle, repo, tmp_path / "work")


@pytest.fixture
def tree_factory(tmp_path):
    trees: list[SourceTree] = []

    def make(files: dict[str, str]) -> SourceTree:
        tree = export(tmp_path / f"t{len(trees)}", files)
        trees.append(tree)
        return tree

    yield make
    for tree in trees:
        close_source_tree(tree)


# --- ip_headers: reuse ----------------------------------------------------------------------------


def test_licensing_passes_on_clean_export(tree_factory):
    tree = tree_factory(CLEAN)
    report = lint_licenses(tree.path, ALLOWED)
    assert report.compliant, report.problems()
    assert report.files_total == 3
    assert report.used_licenses == ("Apache-2.0",)
    assert report.to_dict()["missing_headers_count"] == 0


def test_licensing_blocked_when_file_lacks_header(tree_factory):
    tree = tree_factory({**CLEAN, "src/nohdr.py": "print('hi')\n"})
    report = lint_licenses(tree.path, ALLOWED)
    assert not report.compliant
    assert report.missing_headers == ("src/nohdr.py",)  # relative, not the temp export path
    first = report.problems()[0]
    assert first.startswith("1 of 4 files lack licence/copyright headers: src/nohdr.py (add them with: reuse annotate")


def test_licensing_blocked_on_disallowed_licence_even_with_its_text(tree_factory):
    files = {
        **CLEAN,
        "gpl.py": header("GPL-3.0-only") + "X = 1\n",
        "LICENSES/GPL-3.0-only.txt": "GNU GENERAL PUBLIC LICENSE Version 3\n",
    }
    report = lint_licenses(tree_factory(files).path, ALLOWED)
    assert report.reuse_compliant  # reuse itself is satisfied ...
    assert not report.compliant  # ... but the policy is not
    assert report.disallowed == ("GPL-3.0-only",)
    assert report.disallowed_files == ("gpl.py (GPL-3.0-only)",)


def test_licensing_allows_an_or_expression_with_one_allowed_branch(tree_factory):
    files = {
        **CLEAN,
        "dual.py": header("Apache-2.0 OR GPL-3.0-only") + "X = 1\n",
        "LICENSES/GPL-3.0-only.txt": "GNU GENERAL PUBLIC LICENSE Version 3\n",
    }
    report = lint_licenses(tree_factory(files).path, ALLOWED)
    assert report.compliant, report.problems()


def test_licensing_blocked_when_licence_text_missing(tree_factory):
    files = {**CLEAN, "internal.py": header("LicenseRef-Internal") + "X = 1\n"}
    report = lint_licenses(tree_factory(files).path, ALLOWED)
    assert not report.compliant
    assert report.missing_licenses == ("LicenseRef-Internal",)
    assert not report.disallowed  # allowed by policy; only its text is missing
    wanted = "licence text missing from LICENSES/: LicenseRef-Internal"
    line = next(p for p in report.problems() if p.startswith(wanted))
    assert "LICENSES/LicenseRef-Internal.txt" in line  # names the file to add


# REUSE-IgnoreStart (test data)
def test_licensing_header_text_inside_a_string_is_not_a_licence(tree_factory):
    writer = header() + 'HEADER = "# SPDX-License-Identifier: GPL-3.0-only\\n"\n'
    files = {
        **CLEAN,
        "writer.py": writer,
        "bad.py": "# SPDX-FileCopyrightText: 2026 X\n# SPDX-License-Identifier: Apache 2\n",
    }
    report = lint_licenses(tree_factory(files).path, ALLOWED)
    assert not report.disallowed  # the literal in writer.py is not a licence of writer.py
    assert report.missing_headers == ("bad.py",)  # an unparsable tag is no licence information
    assert [e.split(" ")[0] for e in report.invalid_expressions] == ["bad.py", "writer.py"]


# REUSE-IgnoreEnd


def test_licensing_empty_allow_list_means_no_allow_list(tree_factory):
    files = {
        **CLEAN,
        "gpl.py": header("GPL-3.0-only") + "X = 1\n",
        "LICENSES/GPL-3.0-only.txt": "GNU GENERAL PUBLIC LICENSE Version 3\n",
    }
    assert lint_licenses(tree_factory(files).path, []).compliant


def test_licensing_export_inside_ignored_dir_of_another_repo_is_still_linted(tmp_path):
    # reuse would otherwise see the export as ignored files of the enclosing repo and lint nothing
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    (outer / ".gitignore").write_text("scratch/\n")
    inner = outer / "scratch" / "export"
    inner.mkdir(parents=True)
    (inner / "a.py").write_text("print(1)\n")
    (inner / "b.py").write_text(header() + "print(2)\n")
    report = lint_licenses(inner, ALLOWED)
    assert report.files_total == 2
    assert report.missing_headers == ("a.py",)


def test_spdx_expression_evaluation():
    allowed = {"mit", "apache-2.0"}
    assert expression_allowed("MIT OR GPL-3.0-only", allowed) == (True, set())
    assert expression_allowed("MIT AND GPL-3.0-only", allowed) == (False, {"GPL-3.0-only"})
    assert expression_allowed("(Apache-2.0 WITH LLVM-exception)", allowed)[0]
    assert not expression_allowed("MIT OR", allowed)[0]
    assert not expression_allowed("GPL-2.0-or-later WITH Classpath-exception-2.0", allowed)[0]


# --- security: bandit -----------------------------------------------------------------------------

SHELL_BUG = header() + (
    "import subprocess  # nosec B404 - only used below\n"
    "import sys\n"
    "\n"
    "\n"
    "def export(name):\n"
    "    subprocess.call('tar czf /tmp/' + name + '.tgz data/', shell=True)\n"
    "\n"
    "\n"
    "export(sys.argv[1])\n"
)


def test_security_passes_on_clean_code(tree_factory):
    tree = tree_factory(CLEAN)
    result = scan_security(tree.path, tree.files)
    assert not result.blocking
    assert result.files_scanned == 2
    assert result.summary().startswith("0 blocking findings in 2 Python files")


def test_security_blocked_on_high_severity_finding(tree_factory):
    tree = tree_factory({**CLEAN, "src/export.py": SHELL_BUG})
    result = scan_with_policy(tree.path, tree.files, default_policy().section("security"))
    assert result.blocking
    (finding,) = result.blocking_findings
    assert (finding.test_id, finding.severity, finding.path, finding.line) == (
        "B602",
        "HIGH",
        "src/export.py",
        8,
    )
    assert finding.cwe == 78
    assert result.problems()[0].startswith("1 HIGH-severity finding")
    assert "B602 subprocess popen with shell equals true at src/export.py:8" in result.problems()[0]


def test_security_thresholds_come_from_policy(tree_factory):
    code = header() + "import subprocess\n\nsubprocess.run(['ls'], check=False)\n"
    tree = tree_factory({**CLEAN, "low.py": code})
    assert not scan_security(tree.path, tree.files).blocking  # only LOW findings
    strict = scan_security(tree.path, tree.files, severity="LOW", confidence="LOW")
    assert strict.blocking and {f.test_id for f in strict.blocking_findings} == {"B404", "B603", "B607"}


def test_security_exclude_globs_skip_files(tree_factory):
    tree = tree_factory({**CLEAN, "scripts/export.py": SHELL_BUG})
    result = scan_security(tree.path, tree.files, exclude=["scripts/"])
    assert not result.blocking and result.files_excluded == 1


def test_security_invalid_policy_level_is_a_policy_error(tree_factory):
    tree = tree_factory(CLEAN)
    with pytest.raises(PolicyError, match="security.severity"):
        scan_security(tree.path, tree.files, severity="CRITICAL")


def test_nosec_counted_and_linked_to_what_it_silenced(tree_factory):
    code = header() + (
        "import subprocess  # nosec B404 - argv below is fixed\n"
        "import sys\n"
        "\n"
        "subprocess.call(sys.argv[1], shell=True)  # nosec\n"
    )
    tree = tree_factory({**CLEAN, "run.py": code})
    result = scan_security(tree.path, tree.files)
    assert not result.blocking  # silenced, and justification not required by default
    assert len(result.nosec) == 2
    by_line = {n.line: n for n in result.nosec}
    assert by_line[3].codes == ("B404",) and by_line[3].justified and by_line[3].suppressed == ("B404",)
    assert by_line[6].codes == () and not by_line[6].justified and by_line[6].suppressed == ("B602",)
    assert {(f.test_id, f.nosec_line) for f in result.suppressed} == {("B404", 3), ("B602", 6)}
    assert result.to_dict()["nosec_unjustified_count"] == 1


def test_nosec_without_justification_blocks_when_policy_requires_one(tree_factory):
    code = header() + "import subprocess  # nosec B404\n"
    tree = tree_factory({**CLEAN, "run.py": code})
    result = scan_security(tree.path, tree.files, require_nosec_justification=True)
    assert result.blocking and not result.blocking_findings
    assert "1 '# nosec' without a justification" in result.problems()[0]
    assert "run.py:3" in result.problems()[0]


def test_parse_nosec_splits_codes_from_reason():
    assert parse_nosec("# nosec B603 B607 - argv is fixed") == (("B603", "B607"), "argv is fixed")
    assert parse_nosec("# argv is fixed  # nosec: B603") == (("B603",), "argv is fixed")
    assert parse_nosec("# noqa: S603  # nosec B603") == (("B603",), "")
    assert parse_nosec("# nosec B404/B603") == (("B404", "B603"), "")
    assert parse_nosec("# nosec") == ((), "")


def test_hardcoded_password_is_masked(tree_factory):
    tree = tree_factory({**CLEAN, "cfg.py": header() + 'password = "hunter2-secret"\n'})
    result = scan_security(tree.path, tree.files, severity="LOW", confidence="LOW")
    dumped = json.dumps(result.to_dict()) + json.dumps(to_sarif(result, tree.path))
    assert "B105" in dumped and "hunter2" not in dumped


def test_unparsable_file_is_reported_not_hidden(tree_factory):
    tree = tree_factory({**CLEAN, "broken.py": header() + "def f(:\n"})
    result = scan_security(tree.path, tree.files)
    assert result.skipped == ("broken.py: syntax error while parsing AST from file",)
    assert "1 files not parsable" in result.summary()


def test_sarif_has_github_required_fields(tree_factory):
    code = SHELL_BUG + "subprocess.call(sys.argv[2], shell=True)  # nosec B602 - reviewed\n"
    tree = tree_factory({**CLEAN, "src/export.py": code})
    result = scan_security(tree.path, tree.files)
    sarif = json.loads(json.dumps(to_sarif(result, "/srv/repo", commit=tree.commit)))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Bandit" and driver["version"]
    for rule in driver["rules"]:
        assert rule["id"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert "security-severity" in rule["properties"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(run["results"]) == 3  # B602 active, B404 and second B602 suppressed
    for res in run["results"]:
        assert res["message"]["text"] and res["ruleId"] == rule_ids[res["ruleIndex"]]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "src/export.py"  # repo-relative, not the export
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    active = [r for r in run["results"] if "suppressions" not in r]
    assert [(r["ruleId"], r["level"]) for r in active] == [("B602", "error")]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert {s["suppressions"][0]["kind"] for s in suppressed} == {"inSource"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/repo/"
    assert run["versionControlProvenance"][0]["revisionId"] == tree.commit


# --- dependencies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        ("numpy==1.26.4", True),
        ("scikit-learn[extra]==1.4.2 ; python_version >= '3.9'", True),
        ("x==1 --hash=sha256:abc", True),
        ("numpy>=1.26", False),
        ("numpy", False),
        ("numpy==1.*", False),
        ("y @ git+https://example.invalid/y.git@main", False),
        ("y @ git+https://example.invalid/y.git@" + "a" * 40, True),
        ("-e .", False),
    ],
)
def test_requirement_pinning(line, pinned):
    req = parse_requirement_line(line, "requirements.txt")
    assert req is not None and req.pinned is pinned


@pytest.mark.parametrize("line", ["", "# comment", "-r other.txt", "--index-url https://example.invalid"])
def test_requirement_lines_that_are_not_dependencies(line):
    assert parse_requirement_line(line, "requirements.txt") is None


def test_requirement_url_credentials_are_masked():
    req = parse_requirement_line("y @ git+https://user:tok3n@example.invalid/y.git@main", "r")
    assert "tok3n" not in req.spec and "***" in req.spec


@pytest.mark.parametrize(
    ("spec", "pinned"),
    [
        ("python=3.11.7", True),
        ("python=3.11", False),
        ("conda-forge::numpy==1.26", True),
        ("numpy=1.26.4=py311_0", True),
        ("numpy=1.26.*", False),
        ("pip<=23.2.1", False),
        ("numpy", False),
    ],
)
def test_conda_spec_pinning(spec, pinned):
    assert parse_conda_spec(spec).pinned is pinned


MLFLOW_CONDA = """channels:
- conda-forge
dependencies:
- python=3.11.7
- pip<=23.2.1
- pip:
  - mlflow==3.17.2
  - scikit-learn==1.9.1
name: mlflow-env
"""
MLFLOW_PYENV = """python: 3.11.7
build_dependencies:
- pip==23.2.1
- setuptools==65.5.0
- wheel
dependencies:
- -r requirements.txt
"""


def write_env(path: Path, requirements: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "requirements.txt").write_text(requirements)
    (path / "conda.yaml").write_text(MLFLOW_CONDA)
    (path / "python_env.yaml").write_text(MLFLOW_PYENV)
    return path


def test_dependencies_pass_with_mlflow_defaults(tmp_path):
    model = write_env(tmp_path, "mlflow==3.17.2\nscikit-learn==1.9.1\n")
    report = check_environment_files(model, default_policy().section("dependencies")["allow_unpinned"])
    assert not report.blocking, report.problems()
    assert {r.name for r in report.allowed_unpinned} == {"pip", "wheel"}  # what MLflow itself writes
    assert report.files == ("requirements.txt", "conda.yaml", "python_env.yaml")
    assert report.summary() == (
        "4 of 6 dependencies pinned with == in requirements.txt, conda.yaml, python_env.yaml "
        "(allowed unpinned by policy: pip, wheel)"
    )


def test_dependencies_blocked_on_unpinned_requirement(tmp_path):
    model = write_env(tmp_path, "mlflow==3.17.2\nrequests\npandas>=2\n")
    report = check_environment_files(model, ["pip", "setuptools", "wheel"])
    assert report.blocking
    assert [r.name for r in report.unpinned] == ["requests", "pandas"]
    # 8 distinct packages: mlflow, requests, pandas, python, pip, scikit-learn, setuptools, wheel
    assert report.problems()[0] == (
        "2 of 8 dependencies not pinned with ==: requests (requirements.txt), pandas>=2 (requirements.txt)"
    )


def test_dependencies_strict_policy_blocks_mlflow_build_tools(tmp_path):
    report = check_environment_files(write_env(tmp_path, "mlflow==3.17.2\n"), [])
    assert {r.name for r in report.unpinned} == {"pip", "wheel"}


def test_dependencies_blocked_without_environment_files(tmp_path):
    report = check_environment_files(tmp_path, [])
    assert report.blocking and "none of requirements.txt" in report.problems()[0]


def test_dependencies_unparsable_yaml_is_reported(tmp_path):
    (tmp_path / "conda.yaml").write_text("dependencies: [unclosed\n")
    report = check_environment_files(tmp_path, [])
    assert report.blocking and "conda.yaml cannot be parsed" in report.problems()[0]


# --- reproducibility -------------------------------------------------------------------------------


def run_with(params=None, tags=None, inputs=()) -> RunRecord:
    return RunRecord("r1", "0", "FINISHED", None, dict(params or {}), {}, dict(tags or {}), (), tuple(inputs))


COMMIT = {"mlflow.source.git.commit": "a" * 40}
TRAIN = DatasetRef(name="train", digest="abc123", source_type="local", source="/d.csv", context="training")
SEEDS = ["seed", "random_state", "random_seed"]


def test_reproducibility_passes_with_seed_digest_and_commit():
    report = check_reproducibility(run_with({"random_state": "42"}, COMMIT, [TRAIN]), SEEDS)
    assert report.problems == []
    assert report.to_dict()["seed"] == "42" and report.data_digests == ("training: dataset digest",)


def test_reproducibility_reads_a_pipeline_step_seed_as_autolog_logs_it():
    # mlflow.sklearn.autolog on make_pipeline(StandardScaler(), LogisticRegression(random_state=7))
    params = {"logisticregression__random_state": "7", "steps": "[...]", "standardscaler__copy": "True"}
    report = check_reproducibility(run_with(params, COMMIT, [TRAIN]), SEEDS)
    assert report.problems == [] and report.seed == ("logisticregression__random_state", "7")
    unseeded = check_reproducibility(run_with({"logisticregression__random_state": "None"}, COMMIT, [TRAIN]), SEEDS)
    assert "logisticregression__random_state=None is not a fixed integer" in "; ".join(unseeded.problems)


def test_reproducibility_accepts_a_data_sha256_tag_instead_of_inputs():
    report = check_reproducibility(run_with({"seed": "1"}, {**COMMIT, "data_sha256": "f" * 64}), SEEDS)
    assert report.problems == []


def test_reproducibility_blocked_when_seed_is_none():
    # sklearn autolog records random_state=None for an unseeded estimator
    report = check_reproducibility(run_with({"model.random_state": "None"}, COMMIT, [TRAIN]), SEEDS)
    assert report.problems == [
        "seed param model.random_state=None is not a fixed integer: log e.g. mlflow.log_param('seed', 42)"
    ]


def test_reproducibility_lists_everything_missing():
    report = check_reproducibility(run_with({"lr": "0.1"}), SEEDS, ["n_estimators"])
    text = "; ".join(report.problems)
    assert "no random seed param" in text and "no data digest" in text
    assert "no git commit" in text and "required params not logged: n_estimators" in text


def test_reproducibility_blocked_on_dirty_marker():
    tags = {**COMMIT, "mlflow.source.git.dirty": "true"}
    report = check_reproducibility(run_with({"seed": "1"}, tags, [TRAIN]), SEEDS)
    assert report.problems == [f"commit {'a' * 12} was dirty at training time (uncommitted changes)"]


class _Constant:
    """A minimal pyfunc model (defined at module level so MLflow can pickle it)."""

    def predict(self, context, model_input, params=None):
        return [0.0] * len(model_input)


@pytest.mark.slow
def test_environment_files_downloaded_from_a_real_registry(tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.pyfunc import PythonModel

    from pytest_release_audit.scanners.dependencies import download_environment_files

    class Model(_Constant, PythonModel):
        pass

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # nothing may fall back to ./mlflow.db or ./mlruns
    from pytest_release_audit.handle.resolve import using_store

    with using_store(uri):  # process-wide URIs set for the block and restored, whatever ran before
        exp = mlflow.create_experiment("deps", artifact_location=(tmp_path / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=exp):
            mlflow.pyfunc.log_model(
                name="model",
                python_model=Model(),
                pip_requirements=["numpy==1.26.4", "requests"],
                registered_model_name="deps_demo",
            )
    version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version("deps_demo", "1")
    handle = ModelHandle(
        name="deps_demo", version="1", tracking_uri=uri, registry_uri=uri, source=version.source
    )

    model_dir = download_environment_files(handle, tmp_path / "env")
    report = check_environment_files(model_dir, ["pip", "setuptools", "wheel"])

    assert report.files == ("requirements.txt", "conda.yaml", "python_env.yaml")
    assert {r.name for r in report.unpinned} == {"requests"}
    assert not list(cwd.iterdir())
