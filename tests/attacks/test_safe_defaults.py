# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Defaults that used to pass real faults: the policy's silence must never mean "anything goes"."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_release_audit.metrics.subgroups import DEFAULT_CALIBRATION_LIMIT, DEFAULT_LIMITS, miscalibrated_bins
from pytest_release_audit.metrics.survival_cox import CalibrationBin
from pytest_release_audit.policy import BUILTIN_CHECKS, PolicyError, default_policy, validate
from pytest_release_audit.scanners.data_license import judge
from pytest_release_audit.scanners.security import scan_with_policy

RISKY_CODE = '''\
# SPDX-FileCopyrightText: 2026 example
# SPDX-License-Identifier: Apache-2.0
import pickle
from urllib.request import urlopen


def load(url, user_input):
    eval(user_input)
    return pickle.loads(urlopen(url).read())
'''


def test_medium_severity_findings_block_by_default(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(RISKY_CODE, encoding="utf-8")
    result = scan_with_policy(tmp_path, ["train.py"], default_policy().section("security"))
    assert {f.test_id for f in result.blocking_findings} >= {"B307", "B301", "B310"}


@pytest.mark.parametrize("tag", ["Research-Only (no commercial or clinical use)", "CC-BY-NC-4.0",
                                 "non-commercial", "Not for clinical use", "academic use only"])
def test_restricted_data_never_passes_for_production(tag: str) -> None:
    assert judge(tag, "production", [])[0] == "restricted"
    assert judge(tag, "production", [tag])[0] == "restricted"  # even when the policy lists it


@pytest.mark.parametrize("tag", ["Internal-Only", "CC-BY-4.0", "CC0-1.0", "MIT OR Apache-2.0"])
def test_permissive_data_passes_without_an_allow_list(tag: str) -> None:
    assert judge(tag, "production", [])[0] == "permissive"


@pytest.mark.parametrize("tag", ["GPL-3.0-only", "Some vendor terms", "CC-BY-4.0 AND GPL-3.0-only"])
def test_unknown_data_licence_fails_closed(tag: str) -> None:
    assert judge(tag, "production", [])[0] == "not_allowed"


def test_bias_and_calibration_have_real_default_limits() -> None:
    assert DEFAULT_LIMITS["roc_auc"] == (0.5, 0.2) and DEFAULT_LIMITS["c_index"] == (0.5, 0.2)
    assert DEFAULT_CALIBRATION_LIMIT == 0.15
    good = [CalibrationBin(bin=i, n=100, predicted=0.1 * i, observed=0.1 * i + 0.01) for i in range(1, 10)]
    off = CalibrationBin(bin=10, n=200, predicted=0.2, observed=0.6)
    assert miscalibrated_bins([*good, off], "binary", 0.15) == [off]
    # the same error in a bin of 8 patients is within noise: the model as a whole is not rejected
    noisy = CalibrationBin(bin=10, n=8, predicted=0.2, observed=0.4)
    assert miscalibrated_bins([*good, noisy], "binary", 0.15) == []


def test_every_builtin_check_is_required_for_production_whatever_the_policy_says() -> None:
    policy = validate({"required_checks": [], "optional_checks": list(BUILTIN_CHECKS)})
    assert policy.required_checks("production") == BUILTIN_CHECKS
    assert policy.required_checks("staging") == ()
    assert policy.relaxations("staging") and "not applied for production" in policy.relaxations("production")[0]


@pytest.mark.parametrize("expires", ["2026-12-31", "2026-12-31T23:59:59", "soon"])
def test_waiver_expiry_needs_a_timestamp_with_a_timezone(expires: str) -> None:
    with pytest.raises(PolicyError, match="timestamp with a timezone"):
        validate({"waivers": [{"id": "pii", "reason": "r", "approver": "a", "expires": expires}]})


def test_waiver_expiry_is_compared_in_utc() -> None:
    import datetime as dt

    policy = validate({"waivers": [{"id": "pii", "reason": "r", "approver": "a",
                                    "expires": "2026-06-01T01:00:00+02:00"}]})
    waiver = policy.waiver_for("pii")
    assert waiver is not None and waiver.expires_text == "2026-05-31T23:00:00Z"
    assert waiver.active(dt.datetime(2026, 5, 31, 22, 59, tzinfo=dt.UTC))
    assert not waiver.active(dt.datetime(2026, 5, 31, 23, 1, tzinfo=dt.UTC))
