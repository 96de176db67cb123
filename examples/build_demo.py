# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Build the demo MLflow registry the README's audit runs against (reproducible, idempotent).

    python examples/build_demo.py            # builds examples/mlflow.db (skips if already built)
    python examples/build_demo.py --force    # rebuild from scratch

What it makes, all under examples/:
- training-repo/   a git repository holding the training code (SPDX headers, bandit-clean); every
                   run records its commit. Branch ``experiment/quick-export`` adds a commit with a
                   file lacking headers and a shell-injection bug (for the code-dirty model).
- data/            the clinical survival table (GBSG2 from lifelines + synthetic identities), its
                   pinned patient-level split, the dirty split, and seed 001's breast cancer CSVs.
- mlflow.db, mlartifacts/   the registry:
    cl_unimodal_v1            v1 @production  Cox model on 2 covariates
    cl_unimodal_v2            v1 @candidate   Cox model on 8 covariates (beats v1)      -> READY
    cl_unimodal_v3_regressed  v1 @candidate   Cox model on age alone (worse than v1)    -> performance_gate
    cl_unimodal_v2_dirty      v1 @candidate   PII in notes, patients shared across split -> pii, leakage
    cl_unimodal_v2_badcode    v1 @candidate   trained at the dirty commit  -> ip_headers, security, dependencies
    breast_cancer_classifier  v1 @staging     seed 001 (audit with --audit-target=staging) -> READY
- signers/         one ``<role>.allowed_signers`` file per approving role, and .demo-keys/ the demo
                   approvers' SSH keys (generated; a real approver keeps the private key to herself).
                   Every approval in the registry is a statement signed with ``ssh-keygen -Y sign``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODE = HERE / "training_code"
ROOT_LICENSES = HERE.parent / "LICENSES"
SURVIVAL_MODELS = ("cl_unimodal_v1", "cl_unimodal_v2", "cl_unimodal_v3_regressed", "cl_unimodal_v2_dirty",
                   "cl_unimodal_v2_badcode")
ALL_MODELS = (*SURVIVAL_MODELS, "breast_cancer_classifier")
SEED = 20241201
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Scientist",
    "GIT_AUTHOR_EMAIL": "scientist@example.invalid",
    "GIT_COMMITTER_NAME": "Demo Scientist",
    "GIT_COMMITTER_EMAIL": "scientist@example.invalid",
    "GIT_AUTHOR_DATE": "2024-11-28T10:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-11-28T10:00:00+00:00",
}
DIRTY_SCRIPT = '''"""Quick cohort export used during an experiment (no licence header, unsafe shell call)."""
import subprocess
import sys


def export(cohort_name):
    subprocess.call("tar czf /tmp/" + cohort_name + ".tgz data/", shell=True)


if __name__ == "__main__":
    export(sys.argv[1])
'''


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted([Path(__file__), *CODE.iterdir()]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def build_training_repo(REPO: Path) -> tuple[str, str]:
    """The training code as its own git repo; returns (clean commit, dirty commit)."""

    def git_(*args: str) -> str:
        return git(*args, cwd=REPO)

    if REPO.exists():
        shutil.rmtree(REPO)
    REPO.mkdir()
    for path in CODE.iterdir():
        if path.is_file() and path.suffix in (".py", ".txt", ".md"):
            shutil.copy2(path, REPO / path.name)
    (REPO / "LICENSES").mkdir()
    shutil.copy2(ROOT_LICENSES / "Apache-2.0.txt", REPO / "LICENSES" / "Apache-2.0.txt")
    # REUSE-IgnoreStart
    (REPO / ".gitignore").write_text(
        "# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors\n"
        "# SPDX-License-Identifier: Apache-2.0\n__pycache__/\n", encoding="utf-8")
    # REUSE-IgnoreEnd
    git_("init", "-q", "-b", "main")
    git_("config", "user.name", GIT_ENV["GIT_AUTHOR_NAME"])
    git_("config", "user.email", GIT_ENV["GIT_AUTHOR_EMAIL"])
    git_("add", "-A")
    git_("commit", "-q", "-m", "Training code for cl_unimodal survival models")
    clean = git_("rev-parse", "HEAD")
    git_("checkout", "-q", "-b", "experiment/quick-export")
    (REPO / "scripts").mkdir()
    (REPO / "scripts" / "export_cohort.py").write_text(DIRTY_SCRIPT, encoding="utf-8")
    git_("add", "-A")
    git_("commit", "-q", "-m", "Quick cohort export script")
    dirty = git_("rev-parse", "HEAD")
    git_("checkout", "-q", "main")
    return clean, dirty


def requirements(extra_unpinned: bool = False) -> list[str]:
    packages = ("mlflow", "lifelines", "pandas", "numpy", "scikit-learn", "cloudpickle")
    pins = [f"{pkg}=={version(pkg)}" for pkg in packages]
    return pins + (["requests"] if extra_unpinned else [])


#: The demo approvers: role -> signer principal (as the role's allowed_signers file lists it).
APPROVERS = {"technical": "j.smith@example.org", "security": "m.chen@example.org",
             "business": "k.patel@example.org"}


def make_approvers(out: Path, people: dict[str, str]) -> dict[str, Path]:
    """One SSH key per approver and ``out/signers/<role>.allowed_signers``; returns role -> private key."""
    keys_dir, signers = out / ".demo-keys", out / "signers"
    keys_dir.mkdir(parents=True, exist_ok=True)
    signers.mkdir(parents=True, exist_ok=True)
    keys: dict[str, Path] = {}
    for role, principal in people.items():
        key = keys_dir / f"{role}_ed25519"
        if not key.is_file():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)],
                           check=True, capture_output=True)
        public = " ".join(key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
        (signers / f"{role}.allowed_signers").write_text(f'{principal} namespaces="release-audit" {public}\n',
                                                        encoding="utf-8")
        keys[role] = key
    return keys


def approve_all(client: object, name: str, version: str, keys: dict[str, Path], people: dict[str, str],
                comment: str) -> None:
    """Each role's signed approval of ``name`` ``version``."""
    from pytest_release_audit.approvals import record_approval

    for role, key in keys.items():
        record_approval(client, name, version, role=role, by=people[role], comment=comment, key=key)


def describe_survival_version(client: object, name: str, version: str, alias: str, features: list[str],
                              keys: dict[str, Path]) -> None:
    """Alias, description, model-card tags and the three production approvals of a cl_unimodal version."""
    client.set_registered_model_alias(name, alias, version)
    client.update_registered_model(name, description=(
        "Overall survival risk model for early breast cancer (GBSG2 cohort). "
        "Limitations: trained on a single German trial cohort (1984-1989); may not generalize to other "
        "populations or current treatment regimens."))
    for key, value in {"task": "Overall Survival Prediction", "modality": "Clinical Features Only",
                       "architecture": f"Cox proportional hazards ({len(features)} covariates, L2 0.01)",
                       "duration_col": "os_days", "event_col": "event"}.items():
        client.set_model_version_tag(name, version, key, value)
    approve_all(client, name, version, keys, APPROVERS, "demo approval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the demo is up to date")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to build into (default: examples/)")
    parser.add_argument("--models", default=",".join(ALL_MODELS), help="comma-separated subset of models to build")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(ALL_MODELS))
    if unknown:
        parser.error(f"unknown demo model(s): {', '.join(unknown)} (known: {', '.join(ALL_MODELS)})")
    return build(args.out.resolve(), models=models, force=args.force)


def build(out: Path, *, models: list[str] | tuple[str, ...] = ALL_MODELS, force: bool = False) -> int:
    """Build the demo registry (the chosen models) into ``out``."""
    REPO, DATA, DB, ARTIFACTS, STAMP = (out / "training-repo", out / "data", out / "mlflow.db",
                                        out / "mlartifacts", out / ".demo-build")
    out.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint() + ":" + ",".join(models)
    if (not force and DB.is_file() and STAMP.is_file() and STAMP.read_text().strip() == stamp
            and (out / "signers").is_dir()):
        print(f"demo registry already built at {DB} (use --force to rebuild)")
        return 0
    started = time.perf_counter()
    for path in (DB, ARTIFACTS, DATA, STAMP):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for key, value in {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                       "GIT_PYTHON_REFRESH": "quiet", "MLFLOW_LOGGING_LEVEL": "WARNING"}.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")
    clean_commit, dirty_commit = build_training_repo(REPO)
    sys.path.insert(0, str(REPO))
    import logging

    import mlflow
    import train_breast_cancer
    import train_survival
    from clinical_data import FEATURES_V1, FEATURES_V2, FEATURES_V3, curated_table, patient_split, seed_pii
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)

    uri = f"sqlite:///{DB}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    keys = make_approvers(out, APPROVERS)
    for name in ("cl_unimodal", "breast_cancer"):
        client.create_experiment(name, artifact_location=(ARTIFACTS / name).as_uri())

    # data: raw curated table -> pinned split (and the dirty variant)
    table = curated_table(SEED)
    paths = {"raw": DATA / "mm_curated_q225.csv", "train": DATA / "mm_fusion_v1_train.csv",
             "eval": DATA / "mm_fusion_v1_eval.csv"}
    train_survival.write_csv(table, paths["raw"])
    train_df, eval_df = patient_split(table)
    train_df = train_survival.write_csv(train_df, paths["train"])
    eval_df = train_survival.write_csv(eval_df, paths["eval"])
    dirty_paths = {"raw": paths["raw"], "train": DATA / "dirty" / "mm_fusion_v1_train.csv",
                   "eval": DATA / "dirty" / "mm_fusion_v1_eval.csv"}
    dirty_train, dirty_eval = seed_pii(train_df, eval_df)
    dirty_train = train_survival.write_csv(dirty_train, dirty_paths["train"])
    dirty_eval = train_survival.write_csv(dirty_eval, dirty_paths["eval"])

    def run_tags(commit: str, description: str) -> dict[str, str]:
        return {"mlflow.source.git.commit": commit, "mlflow.source.git.repoURL": str(REPO),
                "mlflow.source.git.branch": "main", "mlflow.source.name": "train_survival.py",
                "mlflow.note.content": description}

    mlflow.set_experiment("cl_unimodal")
    survival = [
        ("cl_unimodal_v1", FEATURES_V1, train_df, eval_df, paths, clean_commit, False, "production"),
        ("cl_unimodal_v2", FEATURES_V2, train_df, eval_df, paths, clean_commit, False, "candidate"),
        ("cl_unimodal_v3_regressed", FEATURES_V3, train_df, eval_df, paths, clean_commit, False, "candidate"),
        ("cl_unimodal_v2_dirty", FEATURES_V2, dirty_train, dirty_eval, dirty_paths, clean_commit, False, "candidate"),
        ("cl_unimodal_v2_badcode", FEATURES_V2, train_df, eval_df, paths, dirty_commit, True, "candidate"),
    ]
    code_path = REPO / "survival_model.py"
    for name, features, tr, ev, pth, commit, unpinned, alias in survival:
        if name not in models:
            continue
        version_ = train_survival.train_and_log(
            model_name=name, features=features, train=tr, evaluation=ev, paths=pth,
            raw_name="mm_curated_q225", split_name="mm_fusion_v1",
            run_tags=run_tags(commit, f"Cox PH survival model {name}"),
            pip_requirements=requirements(extra_unpinned=unpinned), code_path=code_path, seed=SEED,
        )
        describe_survival_version(client, name, version_, alias, features, keys)

    if "breast_cancer_classifier" not in models:
        return _done(client, DB, STAMP, stamp, started)
    mlflow.set_experiment("breast_cancer")
    bc_paths = train_breast_cancer.prepare(DATA)
    bc_version = train_breast_cancer.train_and_log(
        bc_paths, {**run_tags(clean_commit, "seed 001 breast cancer classifier"),
                   "mlflow.source.name": "train_breast_cancer.py"},
        requirements(), out / ".demo-tmp")
    shutil.rmtree(out / ".demo-tmp", ignore_errors=True)
    client.set_registered_model_alias("breast_cancer_classifier", "staging", bc_version)
    client.update_registered_model("breast_cancer_classifier", description=(
        "Educational demo (seed 001). Not intended for clinical diagnosis or any patient-facing use."))
    for key, value in {"task": "binary classification", "modality": "Tabular (30 FNA image features)",
                       "architecture": "StandardScaler + LogisticRegression"}.items():
        client.set_model_version_tag("breast_cancer_classifier", bc_version, key, value)
    approve_all(client, "breast_cancer_classifier", bc_version, {r: keys[r] for r in ("technical", "security")},
                APPROVERS, "demo approval")

    return _done(client, DB, STAMP, stamp, started)


def _done(client: object, DB: Path, STAMP: Path, stamp: str, started: float) -> int:
    STAMP.write_text(stamp + "\n", encoding="utf-8")
    took = time.perf_counter() - started
    print(f"built demo registry {DB} in {took:.1f}s")
    for model in client.search_registered_models():
        aliases = ", ".join(f"@{a}=v{v}" for a, v in sorted(model.aliases.items()))
        print(f"  {model.name:<28} {aliases}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
