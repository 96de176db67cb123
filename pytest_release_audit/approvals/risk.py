# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Release risk: six factors scored 0..10, weighted into a score and a tier (seed 002)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import AuditConfigError, PolicyError

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle
    from pytest_release_audit.policy import Policy

#: Seed 002's weights (they sum to 1, so the score is on the factors' 0..10 scale).
RISK_WEIGHTS: dict[str, float] = {
    "model_complexity": 0.2,
    "data_sensitivity": 0.25,
    "deployment_scope": 0.15,
    "change_magnitude": 0.2,
    "testing_coverage": 0.1,
    "rollback_capability": 0.1,
}
UNKNOWN_FACTOR = 5.0
TIERS: tuple[tuple[float, str], ...] = ((3.0, "low"), (5.0, "medium"), (7.0, "high"))
_SENSITIVITY = {"public": 2.0, "internal": 4.0, "confidential": 7.0, "restricted": 9.0}
_SCOPE = {"development": 2.0, "staging": 4.0, "production": 6.0}
_STRATEGY = {"blue_green": 3.0, "canary": 4.0, "rolling": 6.0}


@dataclass(frozen=True)
class RiskAssessment:
    """The weighted risk score, its tier and where each factor's value came from."""

    score: float
    tier: str
    factors: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Score, tier and each factor's value, weight and source (plain JSON)."""
        return asdict(self)


def _as_score(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 10.0 else None


def _derive(factor: str, handle: ModelHandle, target: str) -> tuple[float, str] | None:
    """Seed 002's tables applied to facts on the handle; None when nothing is known."""
    if factor == "deployment_scope":
        return _SCOPE.get(target, UNKNOWN_FACTOR), f"target {target}"
    if factor == "change_magnitude":
        strategy = (handle.tag("deployment_strategy") or "").strip().lower().replace("-", "_")
        if (handle.tag("is_new_model") or "").strip().lower() in ("1", "true", "yes"):
            return 9.0, "tag is_new_model=true"
        if strategy in _STRATEGY:
            return _STRATEGY[strategy], f"tag deployment_strategy={strategy}"
        return None
    if factor == "data_sensitivity":
        cls = (handle.tag("data_classification") or "").strip().lower()
        if cls:
            return _SENSITIVITY.get(cls, UNKNOWN_FACTOR), f"tag data_classification={cls}"
        return None
    if factor == "testing_coverage":
        raw = handle.tag("test_coverage")
        if raw is None:
            return None
        try:
            cov = float(raw)
        except ValueError:
            return None
        score = 2.0 if cov >= 0.9 else 4.0 if cov >= 0.8 else 6.0 if cov >= 0.7 else 8.0
        return score, f"tag test_coverage={cov:g}"
    if factor == "rollback_capability":
        raw = handle.tag("rollback_enabled")
        if raw is None:
            return None
        if raw.strip().lower() not in ("1", "true", "yes"):
            return 9.0, "tag rollback_enabled=false"
        try:
            minutes = float(handle.tag("rollback_time_minutes") or 60)
        except ValueError:
            minutes = 60.0
        score = 2.0 if minutes <= 5 else 4.0 if minutes <= 15 else 6.0
        return score, f"rollback enabled, {minutes:g} min"
    return None


def tier_for(score: float) -> str:
    """Seed 002's tiers: low <= 3 < medium <= 5 < high <= 7 < critical."""
    for limit, tier in TIERS:
        if score <= limit:
            return tier
    return "critical"


def assess_risk(handle: ModelHandle, policy: Policy, target: str) -> RiskAssessment:
    """Score the release risk of ``handle`` for ``target`` (see the module docstring)."""
    configured = policy.section("approvals").get("risk", {})
    unknown = sorted(set(configured) - set(RISK_WEIGHTS))
    if unknown:
        raise PolicyError(
            f"policy key 'approvals.risk.{unknown[0]}' is not a risk factor (known: {', '.join(RISK_WEIGHTS)})"
        )
    factors: dict[str, dict[str, Any]] = {}
    score = 0.0
    for factor, weight in RISK_WEIGHTS.items():
        if factor in configured:
            value = _as_score(configured[factor])
            if value is None:
                raise PolicyError(
                    f"policy key 'approvals.risk.{factor}' must be a number from 0 to 10, got {configured[factor]!r}"
                )
            source = "policy"
        elif handle.tag(f"risk.{factor}") is not None:
            raw = handle.tag(f"risk.{factor}")
            value = _as_score(raw)
            if value is None:
                raise AuditConfigError(
                    f"tag risk.{factor}={raw!r} on {handle.name} v{handle.version} must be a number from 0 "
                    "to 10: fix the tag or set approvals.risk in the policy"
                )
            source = f"tag risk.{factor}"
        else:
            derived = _derive(factor, handle, target)
            if derived is not None:
                value, source = derived[0], f"derived: {derived[1]}"
            else:
                value, source = UNKNOWN_FACTOR, "default (unknown: midpoint)"
        factors[factor] = {"value": value, "weight": weight, "source": source}
        score += value * weight
    score = round(score, 2)
    return RiskAssessment(score=score, tier=tier_for(score), factors=factors)
