# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""PII that reaches the outputs by the side roads: names, subgroup levels, descriptions, tags.

A real registry (the fault factory's standard MLflow logging) holds a model whose training data
uses e-mail addresses as the levels of its bias column, one of whose columns is named with an
e-mail address, and whose description, version description and a tag carry a phone number and an
e-mail address. The audit (a subprocess, as CI runs it) must be BLOCKED by ``pii``, and no output
file (reports, JUnit, SARIF, model card, trail) and no terminal byte may hold any of those strings;
their masked forms are there instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

NAME = "masking_clf"
LEVELS = ("north.ward@clinic-example.org", "south.ward@clinic-example.org")
COLUMN = "owner-jane.roe@clinic-example.org"
PHONE = "+44 20 7946 0958"
MAIL = "dr.house@clinic-example.org"
SECRETS = (*LEVELS, COLUMN.removeprefix("owner-"), "7946 0958", MAIL)
FEATURES = ["x1", "x2", "x3"]


def _frames() -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=(n, len(FEATURES))).round(6)
    label = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1])))).astype(int)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame.insert(0, "patient_id", [f"H{i:05d}" for i in range(n)])
    frame.insert(1, "site", rng.choice(list(LEVELS), size=n))
    frame[COLUMN] = rng.integers(0, 5, size=n)
    frame["label"] = label
    return frame.iloc[:250].reset_index(drop=True), frame.iloc[250:].reset_index(drop=True)


@pytest.fixture(scope="module")
def masked_audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from faults.factory import Trainer, empty_store, new_world, policy_text, subprocess_audit, write_csv

    root = tmp_path_factory.mktemp("masking")
    world = new_world(root / "registry", empty_store(root / "template.db"))
    train, evaluation = _frames()
    paths = (world.data / "train.csv", world.data / "eval.csv")
    train, evaluation = write_csv(train, paths[0]), write_csv(evaluation, paths[1])

    def fit(df: Any) -> tuple[Any, Any, list[str], str]:
        import mlflow.sklearn
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(random_state=0, max_iter=500).fit(df[FEATURES], df["label"])
        return model, mlflow.sklearn, FEATURES, "binary classification"

    version = Trainer(world).run(NAME, (train, paths[0]), (evaluation, paths[1]), "label", fit)
    client = world.client()
    client.update_registered_model(NAME, description=f"Call the ward on {PHONE} (phone). Limitations: synthetic data.")
    client.update_model_version(NAME, version, description=f"Questions to {MAIL}")
    client.set_model_version_tag(NAME, version, "owner", MAIL)
    project = root / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(policy_text(signers=world.root / "signers"), encoding="utf-8")
    return subprocess_audit(project, world.uri, NAME, columns=200)


def test_pii_in_names_and_descriptions_blocks(masked_audit: dict[str, Any]) -> None:
    report = masked_audit["report"]
    assert masked_audit["done"].returncode != 0
    assert report["status"] == "BLOCKED" and "pii" in report["blocking"]
    pii = next(c for c in report["checks"] if c["id"] == "pii")
    where = {f["column"] for f in pii["evidence"]["metadata_findings"]}
    assert {"a column name of dataset #1", "model description", "version description", "version tag owner"} <= where


def test_no_output_holds_a_flagged_string(masked_audit: dict[str, Any]) -> None:
    done = masked_audit["done"]
    outputs = {"terminal": done.stdout + done.stderr}
    for path in [*masked_audit["out"].rglob("*"), *(masked_audit["project"] / "audit-reports").rglob("*")]:
        if path.is_file() and path.suffix != ".png":
            outputs[str(path.relative_to(masked_audit["project"]))] = path.read_bytes()
    assert {"out/audit_report.json", "out/audit_report.md", "out/audit_report.html", "out/junit-audit.xml",
            "out/model_card.md", "audit-reports/audit_log.jsonl"} <= set(outputs)
    for where, data in outputs.items():
        for secret in SECRETS:
            for form in {secret, json.dumps(secret)[1:-1], secret.replace("@", "&#64;")}:
                assert form.encode() not in data, f"{where} holds {secret!r}"


def test_masked_forms_stay_readable(masked_audit: dict[str, Any]) -> None:
    report = masked_audit["report"]
    bias = next(c for c in report["checks"] if c["id"] == "bias")
    levels = json.dumps(bias["evidence"])
    assert "n***@***.org" in levels and "s***@***.org" in levels  # the subgroups are still told apart
    html = (masked_audit["out"] / "audit_report.html").read_text("utf-8")
    assert "n***@***.org" in html and "s***@***.org" in html
