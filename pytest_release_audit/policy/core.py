# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``Policy``: the validated settings plus waivers, per-model overrides and where they came from."""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

from pydantic import Field, ValidationError

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.policy.messages import policy_error
from pytest_release_audit.policy.sections import plain, policy_keys
from pytest_release_audit.policy.settings import BUILTIN_CHECKS, TARGETS, PolicySettings, Waiver

#: Each top-level policy key -> its ``PolicySettings`` field.
SETTINGS_KEYS = policy_keys(PolicySettings)
#: Targets whose built-in checks a policy may relax (optional_checks); production only by waiver.
RELAXABLE_TARGETS = ("development", "staging")

DEFAULT_APPROVALS: dict[str, tuple[str, ...]] = {
    "development": ("technical",),
    "staging": ("technical", "security"),
    "production": ("technical", "security", "business"),
}
# Seed 002: a critical-risk release also needs an executive; high risk already needs business,
# which production requires anyway.
DEFAULT_TIER_ROLES: dict[str, tuple[str, ...]] = {"critical": ("executive",)}


def settings_from(raw: dict[str, Any], prefix: str = "") -> PolicySettings:
    """``raw`` (TOML-shaped) validated as ``PolicySettings``; errors named under ``prefix``."""
    try:
        return PolicySettings.model_validate(raw)
    except ValidationError as exc:
        raise policy_error(exc, PolicySettings, raw, prefix) from None


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` applied: tables merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Policy(PolicySettings):
    """A validated policy with defaults filled in: sections are typed attributes (``policy.pii``)."""

    waivers: tuple[Waiver, ...] = ()
    source: str = "default policy"
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)  # pattern -> validated override table
    sha256: str = ""  # of the policy file's bytes ("" for the built-in default policy)

    @property
    def data(self) -> dict[str, Any]:
        """The settings as plain TOML-shaped data (lists, dicts), defaults filled in."""
        return {key: plain(getattr(self, name)) for key, name in SETTINGS_KEYS.items()}

    def section(self, name: str) -> dict[str, Any]:
        """A fresh plain copy of one section (e.g. ``"pii"``); kept for compatibility: prefer ``policy.pii``."""
        section = plain(getattr(self, SETTINGS_KEYS[name]))
        if not isinstance(section, dict):
            raise KeyError(name)
        return section

    def task_for_data(self) -> dict[str, Any]:
        """``[task]`` as the data readers use it: the ``[bias]`` columns are never the label."""
        task = self.section("task")
        bias = self.section("bias")
        task["group_columns"] = [*task.get("group_columns", ()), *bias.get("columns", ())]
        return task

    def get(self, key: str) -> Any:
        """A plain copy of one top-level key; kept for compatibility: prefer ``policy.target``."""
        return plain(getattr(self, SETTINGS_KEYS[key]))

    def controls_for(self, check_id: str) -> tuple[str, ...]:
        """The organisation's own control ids ``[controls]`` maps to ``check_id`` (() when none)."""
        return self.controls.get(check_id, ())

    def for_model(self, name: str) -> Policy:
        """This policy with the ``[models.PATTERN]`` overrides that match ``name`` applied.

        A pattern is a model name or a glob (``[models."cl_unimodal_*"]``); globs apply first, in
        the order written, and an exact name last, so the most specific table wins.
        """
        globs = [k for k in self.models if k != name and fnmatch.fnmatchcase(name, k)]
        tables = [self.models[k] for k in globs] + ([self.models[name]] if name in self.models else [])
        if not tables:
            return self
        merged = self.data
        for table in tables:
            merged = merge(merged, table)
        return self.with_settings(settings_from(merged, prefix=f"models.{name}"))

    def with_settings(self, settings: PolicySettings) -> Policy:
        """This policy (waivers, models, source) with every setting taken from ``settings``."""
        return self.model_copy(update={name: getattr(settings, name) for name in PolicySettings.model_fields})

    def required_checks(self, target: str) -> tuple[str, ...]:
        """Every check id that must run and pass for ``target``: the built-ins plus the policy's own."""
        ids = list(BUILTIN_CHECKS) + [c for c in self.required_check_ids if c not in BUILTIN_CHECKS]
        return tuple(c for c in ids if self.is_required(c, "required", target))

    def is_required(self, check_id: str, severity: str, target: str) -> bool:
        """Whether a failing ``check_id`` blocks a release to ``target``.

        For production nothing can be made optional (only a waiver relaxes a check). For staging
        and development ``optional_checks`` relaxes any check, and each relaxation is listed in
        the report (``relaxations``).
        """
        if target in RELAXABLE_TARGETS and check_id in self.optional_checks:
            return False
        return check_id in BUILTIN_CHECKS or check_id in self.required_check_ids or severity == "required"

    def relaxations(self, target: str) -> list[str]:
        """The policy's relaxations that apply to ``target`` (and those it refuses, for production)."""
        optional = list(self.optional_checks)
        if not optional:
            return []
        if target in RELAXABLE_TARGETS:
            return [f"optional for {target}: {c}" for c in optional]
        return [f"not applied for production: optional_checks {', '.join(optional)} (only a waiver relaxes a "
                "check for production)"]

    def deviations(self) -> list[str]:
        """Each setting that differs from the built-in defaults, as ``key = value (default ...)``."""
        out: list[str] = []
        _diff("", self.data, Policy().data, out)
        return out

    def waiver_for(self, check_id: str) -> Waiver | None:
        """The waiver recorded for a check, active or not (the caller checks expiry)."""
        return next((waiver for waiver in self.waivers if waiver.id == check_id), None)

    def approvals_required(self, target: str) -> list[str]:
        """The roles that must approve a release to ``target``; production always needs one."""
        roles = list(self.approvals.required.get(target, DEFAULT_APPROVALS.get(target, ())))
        if target == "production" and not roles:
            raise PolicyError(
                "policy key 'approvals.required.production' is empty: a production release needs at least one "
                "signed approval (the policy cannot waive them all); name the roles, e.g. [\"technical\"]"
            )
        return roles

    def tier_roles(self, tier: str) -> list[str]:
        """The extra roles a release of risk ``tier`` needs."""
        return list((self.approvals.tier_roles or DEFAULT_TIER_ROLES).get(tier, ()))

    def known_roles(self) -> list[str]:
        """Every role the policy names: required for a target or a risk tier, or given signers."""
        roles: dict[str, None] = {}
        named = [role for target in TARGETS for role in self.approvals_required(target)]
        named += [role for tier in (self.approvals.tier_roles or DEFAULT_TIER_ROLES).values() for role in tier]
        named += list(self.approvals.signers)
        for role in named:
            roles.setdefault(role.strip().lower(), None)
        return [r for r in roles if r]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _diff(path: str, data: dict[str, Any], default: dict[str, Any], out: list[str]) -> None:
    for key, value in data.items():
        sub = f"{path}.{key}" if path else key
        base = default.get(key)
        if isinstance(value, dict) and isinstance(base, dict) and base:
            _diff(sub, value, base, out)
        elif value != base:
            out.append(f"{sub} = {_short(value)} (default {_short(base)})")
