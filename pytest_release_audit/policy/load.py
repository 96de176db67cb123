# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Read the policy from TOML and validate it into a ``Policy``.

The policy is ``[tool.release_audit]`` in the rootdir's ``pyproject.toml`` or a TOML file given by
``--audit-policy`` (top-level keys, or a ``[tool.release_audit]`` table). ``[[waivers]]`` and
``[models.NAME]`` tables are validated here; every other key by ``PolicySettings``.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_release_audit.errors import PolicyError
from pytest_release_audit.files import sha256_text
from pytest_release_audit.policy.core import Policy, merge, settings_from
from pytest_release_audit.policy.messages import policy_error
from pytest_release_audit.policy.sections import shown
from pytest_release_audit.policy.settings import Waiver


def validate(raw: dict[str, Any], source: str = "policy") -> Policy:
    """Validate a raw policy mapping (already parsed from TOML)."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the policy must be a TOML table")
    raw = dict(raw)
    waivers = _parse_waivers(raw.pop("waivers", []), source)
    models = raw.pop("models", {})
    settings = settings_from(raw)
    if not isinstance(models, dict):
        raise PolicyError("policy key 'models' must be a table of [models.NAME] tables")
    base = Policy().with_settings(settings)
    for name, override in models.items():
        if not isinstance(name, str) or not isinstance(override, dict):
            raise PolicyError(f"policy key {shown(f'models.{name}')} must be a table named by a model name or glob, "
                              f"got {shown(override)}")
        settings_from(merge(base.data, override), prefix=f"models.{name}")
    return base.model_copy(update={"waivers": waivers, "source": source, "models": copy.deepcopy(models)})


def _parse_waivers(raw: Any, where: str) -> tuple[Waiver, ...]:
    if not isinstance(raw, list):
        raise PolicyError(f"policy key 'waivers' must be an array of tables ([[waivers]]) in {where}")
    waivers = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise PolicyError(f"policy key 'waivers[{i}]' must be a table with id, reason, approver, expires")
        try:
            waivers.append(Waiver.model_validate(item))
        except ValidationError as exc:
            raise policy_error(exc, Waiver, item, prefix=f"waivers[{i}]") from None
    return tuple(waivers)


def default_policy() -> Policy:
    """The documented default policy (every built-in check required, production target)."""
    return Policy()


def load_policy(path: str | Path | None, rootdir: str | Path) -> Policy:
    """Load the policy from ``path`` or ``rootdir/pyproject.toml``; default when neither has one."""
    if path:
        file = Path(path)
        if not file.is_absolute():
            file = Path(rootdir) / file
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError(f"policy file {file} does not exist: fix --audit-policy") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(
                f"policy file {file} cannot be read ({exc.__class__.__name__}): fix its permissions or encoding"
            ) from None
        raw = _parse_toml(text, str(file))
        if "tool" in raw and isinstance(raw["tool"], dict) and "release_audit" in raw["tool"]:
            raw = raw["tool"]["release_audit"]
        return validate(raw, source=str(file)).model_copy(update={"sha256": sha256_text(text)})
    pyproject = Path(rootdir) / "pyproject.toml"
    if not pyproject.is_file():
        return default_policy()
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{pyproject} cannot be read ({exc.__class__.__name__})") from None
    raw = _parse_toml(text, str(pyproject))
    section = raw.get("tool", {}).get("release_audit") if isinstance(raw.get("tool"), dict) else None
    if section is None:
        return default_policy()
    policy = validate(section, source=f"{pyproject} [tool.release_audit]")
    return policy.model_copy(update={"sha256": sha256_text(text)})


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {where} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: "x = [[[[...]]]]" exhausts the stack
        raise PolicyError(f"policy file {where} is nested too deeply to be a policy") from None
