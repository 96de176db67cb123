# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The demo's clinical survival table: GBSG2 (shipped with lifelines) with synthetic identities.

GBSG2 (German Breast Cancer Study Group 2, 686 patients) gives real survival outcomes. The patient
ids, sites, diagnosis dates and notes are synthetic and seeded, so the table is reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES_V1 = ["age", "tumor_size"]
FEATURES_V2 = [
    "age",
    "hormone_therapy",
    "postmenopausal",
    "tumor_size",
    "tumor_grade",
    "positive_nodes",
    "progesterone_receptor",
    "estrogen_receptor",
]
FEATURES_V3 = ["age"]

NOTE_TEMPLATES = [
    "Follow-up visit. Tumour grade {grade}; {nodes} positive nodes. Tolerating therapy.",
    "Reviewed imaging; tumour size {size} mm. Plan unchanged.",
    "Post-operative review, wound healing well. Hormone therapy: {ht}.",
    "Multidisciplinary board: continue adjuvant treatment, reassess in 3 months.",
]


def curated_table(seed: int = 20241201) -> pd.DataFrame:
    """One row per patient: identity, site, diagnosis date, features, outcome and a scrubbed note."""
    from lifelines.datasets import load_gbsg2

    raw = load_gbsg2()
    rng = np.random.default_rng(seed)
    n = len(raw)
    start = np.datetime64("2018-01-01")
    days = rng.integers(0, 6 * 365 + 180, size=n)
    grade = raw["tgrade"].map({"I": 1, "II": 2, "III": 3}).astype(int)
    table = pd.DataFrame(
        {
            "patient_id": [f"P{100000 + i}" for i in rng.permutation(n)],
            "site": rng.choice(["site_A", "site_B", "site_C"], size=n, p=[0.45, 0.35, 0.20]),
            "diagnosis_date": pd.Series(start + days.astype("timedelta64[D]")).dt.strftime("%Y-%m-%d"),
            "age": raw["age"].astype(int),
            "age_band": pd.cut(raw["age"], [0, 45, 60, 120], labels=["<45", "45-60", ">60"]).astype(str),
            "menopausal_status": raw["menostat"].astype(str),
            "hormone_therapy": (raw["horTh"] == "yes").astype(int),
            "postmenopausal": (raw["menostat"] == "Post").astype(int),
            "tumor_size": raw["tsize"].astype(int),
            "tumor_grade": grade,
            "positive_nodes": raw["pnodes"].astype(int),
            "progesterone_receptor": raw["progrec"].astype(int),
            "estrogen_receptor": raw["estrec"].astype(int),
            "os_days": raw["time"].astype(int),
            "event": raw["cens"].astype(int),
        }
    )
    notes = []
    for i in range(n):
        template = NOTE_TEMPLATES[i % len(NOTE_TEMPLATES)]
        notes.append(
            template.format(
                grade=int(grade.iloc[i]),
                nodes=int(raw["pnodes"].iloc[i]),
                size=int(raw["tsize"].iloc[i]),
                ht="yes" if raw["horTh"].iloc[i] == "yes" else "no",
            )
        )
    table["clinical_note"] = notes
    return table


def patient_split(table: pd.DataFrame, eval_fraction: float = 0.3, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A pinned, patient-level split: no patient is in both parts."""
    rng = np.random.default_rng(seed)
    patients = np.array(sorted(table["patient_id"].unique()))
    chosen = set(rng.choice(patients, size=int(len(patients) * eval_fraction), replace=False))
    is_eval = table["patient_id"].isin(chosen)
    return table[~is_eval].reset_index(drop=True), table[is_eval].reset_index(drop=True)


def seed_pii(train: pd.DataFrame, evaluation: pd.DataFrame, seed: int = 99) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dirty variant: identifiers in the notes and patients shared across the split."""
    rng = np.random.default_rng(seed)
    train = train.copy()
    people = [("Maria", "Gonzalez"), ("James", "Whitfield"), ("Aisha", "Khan"), ("Robert", "Lindqvist")]
    for k, row in enumerate(rng.choice(len(train), size=40, replace=False)):
        first, last = people[k % len(people)]
        kind = k % 4
        if kind == 0:
            note = f"Seen by oncology. Patient {first} {last} reports fatigue."
        elif kind == 1:
            note = f"Send results to {first.lower()}.{last.lower()}@example.org before review."
        elif kind == 2:
            note = f"Call back on (617) 555-{1000 + k:04d} about scan results."
        else:
            note = f"Chart MRN: {4400000 + k * 37} updated after board review."
        train.loc[row, "clinical_note"] = note
    shared = train.sample(n=25, random_state=seed)
    evaluation = pd.concat([evaluation, shared], ignore_index=True)
    return train, evaluation
