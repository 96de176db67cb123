# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``model_card`` check: the release's model card can be generated and is complete.

See ``pytest_release_audit.rules.model_card``: the provisional card comes from the handle and the
policy only; the final card, with every check's outcome, is rendered at session end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_release_audit import compliance
from pytest_release_audit.rules.controls import CONTROLS
from pytest_release_audit.rules.model_card import assess_model_card

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.data import LoadedDataset
    from pytest_release_audit.evidence import Evidence
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy


@compliance("model_card", title="Model card is generated and complete", controls=CONTROLS["model_card"])
def test_model_card(
    audit_model: ModelHandle,
    audit_policy: Policy,
    audit_out: Path,
    audit_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """The card renders with every required section filled and no placeholder left."""

    def evaluation() -> LoadedDataset:
        data: LoadedDataset = request.getfixturevalue("audit_evaluation_data")
        return data

    section = audit_policy.section("model_card")
    result = assess_model_card(audit_model, section, audit_out, request.config.rootpath, evaluation)
    result.record(audit_evidence)
    assert result.passed, result.message
