# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Load and validate the audit policy.

The policy is ``[tool.release_audit]`` in the rootdir's ``pyproject.toml`` or a TOML file given by
``--audit-policy`` (top-level keys, or a ``[tool.release_audit]`` table). Every key is validated
against ``SCHEMA``: unknown keys and wrong types are rejected with the key path in the message.
``[models.NAME]`` tables override any section for one registered model (NAME may be a glob).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import fnmatch
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import PolicyError

BUILTIN_CHECKS: tuple[str, ...] = (
    "lineage",
    "data_integrity",
    "pii",
    "leakage",
    "data_license",
    "ip_headers",
    "security",
    "dependencies",
    "reproducibility",
    "performance_gate",
    "bias",
    "evaluation_artifacts",
    "signature",
    "model_card",
    "approvals",
    "model_artifact",
)
TARGETS: tuple[str, ...] = ("development", "staging", "production")

# A schema leaf is (type or tuple of types, default). A nested dict is a table. A table whose
# schema is ``{"*": leaf}`` is a free-form mapping whose values all match ``leaf``.
STR_LIST = (list, str)  # list of str (element type checked separately)
SCHEMA: dict[str, Any] = {
    "target": (str, "production"),
    "baseline": (str, "production"),
    "actor": (str, ""),
    "audit_log": (str, "audit-reports/audit_log.jsonl"),
    "trail_key": (str, ""),  # Ed25519 PEM private key signing trail records (RELEASE_AUDIT_TRAIL_KEY wins)
    # Your own check ids that must run and pass, in addition to every built-in check.
    "required_checks": (STR_LIST, []),
    # Checks that only record (staging and development only: production relaxes through waivers).
    "optional_checks": (STR_LIST, []),
    "audit": {
        "checks_timeout_s": ((int, float), 3600.0),  # the built-in suite's child session
    },
    "model_artifact": {
        "worker_timeout_s": ((int, float), 600.0),  # load + one prediction in the model worker
        "require_signature": (bool, False),  # OpenSSF model-signing, verified offline
        "public_key": (str, ""),  # PEM public key (key mode)
        "certificate_chain": (STR_LIST, []),  # PEM certificates (certificate mode)
        "signature_file": (str, "model.sig"),  # inside the model's artifact directory
    },
    "task": {
        "kind": (str, ""),  # survival | binary | regression; "" = from model tags, else inferred
        "duration_col": (str, ""),
        "event_col": (str, ""),
        "label_col": (str, ""),
        "id_columns": (STR_LIST, []),
        "exclude_features": (STR_LIST, []),
    },
    "data_integrity": {
        "require_full_digest": (bool, False),  # require a data_sha256 tag on every dataset
        "allowed_roots": (STR_LIST, []),  # more directories data may be read from (rootdir-relative)
        "max_dataset_gb": ((int, float), 200.0),  # a larger dataset is refused, not read
    },
    "evaluation_artifacts": {
        "required": (STR_LIST, []),
        "require_metrics": (bool, True),
    },
    "signature": {
        "require_input_example": (bool, True),
    },
    "pii": {
        "ner_model": (str, ""),  # installed spaCy model name or path; "" = offline pattern engine
        "threshold": ((int, float), 0.5),
        "entities": (STR_LIST, []),  # entity types that block; [] = every detectable type
        "ignore_entities": (STR_LIST, ["DATE_TIME", "URL"]),
        "skip_columns": {"*": (str, "")},  # column -> reason
        "allow": {"*": (STR_LIST, [])},  # column -> allowed entity types
        "patterns": {"*": (str, "")},  # ENTITY_NAME -> regex (e.g. a national id)
        "max_findings": (int, 20),
    },
    "leakage": {
        "id_columns": (STR_LIST, []),  # [] = patient_id when present
        "check_duplicate_rows": (bool, True),
    },
    "data_license": {
        "tag_keys": (STR_LIST, ["license", "data_license", "usage"]),
        "allowed": {"*": (STR_LIST, [])},  # target -> allowed licence values
    },
    "ip_headers": {
        "allowed_licenses": (
            STR_LIST,
            [
                "Apache-2.0",
                "MIT",
                "BSD-2-Clause",
                "BSD-3-Clause",
                "ISC",
                "CC0-1.0",
                "CC-BY-4.0",
                "LicenseRef-Internal",
                "LicenseRef-Internal-Only",
                "LicenseRef-Proprietary",
            ],
        ),
    },
    "security": {
        "severity": (str, "MEDIUM"),  # findings at or above this severity block ...
        "confidence": (str, "MEDIUM"),  # ... when at or above this confidence
        "require_nosec_justification": (bool, False),
        "exclude": (STR_LIST, []),
    },
    "dependencies": {
        # MLflow itself writes `pip<=X` (conda.yaml) and a bare `wheel` (python_env.yaml)
        "allow_unpinned": (STR_LIST, ["pip", "setuptools", "wheel"]),
    },
    "reproducibility": {
        "seed_params": (STR_LIST, ["seed", "random_state", "random_seed"]),
        "required_params": (STR_LIST, []),
    },
    "performance": {
        "metric": (str, ""),  # "" = c_index (survival), roc_auc (binary), rmse (regression)
        "min_delta": ((int, float), 0.0),
        "require_significant": (bool, False),
        "min_value": {"*": ((int, float), 0.0)},  # metric -> absolute floor
        "first_release": (bool, False),
        "n_bootstrap": (int, 1000),
        "seed": (int, 20241201),
        "confidence": ((int, float), 0.95),
        "metric_tolerance": ((int, float), 0.005),
    },
    "bias": {
        "columns": (STR_LIST, []),
        "min_n": (int, 30),
        "floor": ((int, float), None),  # None: the metric's default (metrics.subgroups.DEFAULT_LIMITS)
        "max_gap": ((int, float), None),
        "calibration_bins": (int, 10),
        # Per bin, when Hosmer-Lemeshow rejects. None: 0.15 for probabilities; survival risk scores
        # (arbitrary scale) are judged only when the policy sets a limit.
        "max_calibration_error": ((int, float), None),
    },
    "model_card": {
        "template": (str, ""),
        "output_dir": (str, "docs/model_cards"),
        "limitations": (STR_LIST, []),
        "task": (str, ""),
        "modality": (str, ""),
        "architecture": (str, ""),
        "license": (str, ""),
    },
    "approvals": {
        "required": {"*": (STR_LIST, [])},  # target -> roles
        "tier_roles": {"*": (STR_LIST, [])},  # risk tier -> extra roles
        "risk": {"*": ((int, float), 0)},  # factor -> score 0..10 (overrides tags)
        # role -> allowed_signers file (ssh-keygen format); RELEASE_AUDIT_SIGNERS_DIR from the CI wins
        "signers": {"*": (str, "")},
    },
    "promotion": {
        "alias": (str, "production-candidate"),
    },
    "notify": {
        "timeout_s": ((int, float), 5.0),
        "retries": (int, 2),
    },
}
WAIVER_KEYS = {"id": str, "reason": str, "approver": str, "expires": (str, dt.date)}
#: Targets whose built-in checks a policy may relax (optional_checks); production only by waiver.
RELAXABLE_TARGETS = ("development", "staging")

DEFAULT_APPROVALS = {
    "development": ["technical"],
    "staging": ["technical", "security"],
    "production": ["technical", "security", "business"],
}
# Seed 002: a critical-risk release also needs an executive; high risk already needs business,
# which production requires anyway.
DEFAULT_TIER_ROLES = {"critical": ["executive"]}


@dataclass(frozen=True)
class Waiver:
    """A signed-off exception for one check, valid until ``expires`` (a UTC timestamp)."""

    id: str
    reason: str
    approver: str
    expires: dt.datetime  # timezone-aware, UTC

    def active(self, now: dt.datetime | None = None) -> bool:
        return (now or dt.datetime.now(dt.UTC)) <= self.expires

    @property
    def expires_text(self) -> str:
        return self.expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires_text,
        }


@dataclass(frozen=True)
class Policy:
    """A validated policy with defaults filled in."""

    data: dict[str, Any]
    waivers: tuple[Waiver, ...] = ()
    source: str = "default policy"
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    sha256: str = ""  # of the policy file's bytes ("" for the built-in default policy)

    def section(self, name: str) -> dict[str, Any]:
        """A copy of one section (e.g. ``"pii"``), defaults filled in."""
        return copy.deepcopy(self.data[name])

    def get(self, key: str) -> Any:
        return copy.deepcopy(self.data[key])

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
            merged = _merge(merged, table)
        return dataclasses.replace(self, data=merged)

    def required_checks(self, target: str) -> tuple[str, ...]:
        """Every check id that must run and pass for ``target``: the built-ins plus the policy's own."""
        ids = list(BUILTIN_CHECKS) + [c for c in self.data["required_checks"] if c not in BUILTIN_CHECKS]
        return tuple(c for c in ids if self.is_required(c, "required", target))

    def is_required(self, check_id: str, severity: str, target: str) -> bool:
        """Whether a failing ``check_id`` blocks a release to ``target``.

        For production nothing can be made optional (only a waiver relaxes a check). For staging
        and development ``optional_checks`` relaxes any check, and each relaxation is listed in
        the report (``relaxations``).
        """
        if target in RELAXABLE_TARGETS and check_id in self.data["optional_checks"]:
            return False
        return check_id in BUILTIN_CHECKS or check_id in self.data["required_checks"] or severity == "required"

    def relaxations(self, target: str) -> list[str]:
        """The policy's relaxations that apply to ``target`` (and those it refuses, for production)."""
        optional = list(self.data["optional_checks"])
        if not optional:
            return []
        if target in RELAXABLE_TARGETS:
            return [f"optional for {target}: {c}" for c in optional]
        return [f"not applied for production: optional_checks {', '.join(optional)} (only a waiver relaxes a "
                "check for production)"]

    def deviations(self) -> list[str]:
        """Each setting that differs from the built-in defaults, as ``key = value (default ...)``."""
        out: list[str] = []
        _diff("", self.data, default_policy().data, out)
        return out

    def waiver_for(self, check_id: str) -> Waiver | None:
        """The waiver recorded for a check, active or not (the caller checks expiry)."""
        for waiver in self.waivers:
            if waiver.id == check_id:
                return waiver
        return None

    def approvals_required(self, target: str) -> list[str]:
        configured = self.data["approvals"]["required"]
        roles = list(configured.get(target, DEFAULT_APPROVALS.get(target, [])))
        if target == "production" and not roles:
            raise PolicyError(
                "policy key 'approvals.required.production' is empty: a production release needs at least one "
                "signed approval (the policy cannot waive them all); name the roles, e.g. [\"technical\"]"
            )
        return roles

    def tier_roles(self, tier: str) -> list[str]:
        configured = self.data["approvals"]["tier_roles"] or DEFAULT_TIER_ROLES
        return list(configured.get(tier, []))

    def known_roles(self) -> list[str]:
        """Every role the policy names: required for a target or a risk tier, or given signers."""
        approvals = self.data["approvals"]
        roles: dict[str, None] = {}
        for target in TARGETS:
            for role in self.approvals_required(target):
                roles.setdefault(role.strip().lower(), None)
        for tier_roles in (approvals["tier_roles"] or DEFAULT_TIER_ROLES).values():
            for role in tier_roles:
                roles.setdefault(role.strip().lower(), None)
        for role in approvals.get("signers") or {}:
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


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _type_name(expected: Any) -> str:
    if expected is STR_LIST:
        return "a list of strings"
    types = expected if isinstance(expected, tuple) else (expected,)
    names = {str: "a string", bool: "true/false", int: "an integer", float: "a number"}
    names[dt.date] = "a date"
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_leaf(path: str, value: Any, expected: Any) -> Any:
    if expected is STR_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"policy key {path!r} must be a list of strings, got {value!r}")
        return list(value)
    types = expected if isinstance(expected, tuple) else (expected,)
    # bool is an int in Python; a policy that says `threshold = true` is a mistake.
    if isinstance(value, bool) and bool not in types:
        raise PolicyError(f"policy key {path!r} must be {_type_name(expected)}, got {value!r}")
    if not isinstance(value, types):
        raise PolicyError(f"policy key {path!r} must be {_type_name(expected)}, got {value!r}")
    return value


def _validate_table(
    path: str, raw: Any, schema: dict[str, Any], *, fill: bool = True
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError(f"policy key {path!r} must be a table, got {raw!r}")
    if set(schema) == {"*"}:
        leaf = schema["*"]
        return {str(k): _check_leaf(f"{path}.{k}", v, leaf[0]) for k, v in raw.items()}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        sub = f"{path}.{key}" if path else key
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise PolicyError(f"unknown policy key {sub!r} (known keys here: {known})")
        spec = schema[key]
        if isinstance(spec, dict):
            out[key] = _validate_table(sub, value, spec, fill=fill)
        else:
            out[key] = _check_leaf(sub, value, spec[0])
    if fill:
        for key, spec in schema.items():
            if key in out:
                continue
            out[key] = (
                _validate_table(f"{path}.{key}" if path else key, {}, spec)
                if isinstance(spec, dict)
                else copy.deepcopy(spec[1])
            )
    return out


def _parse_waivers(raw: Any, where: str) -> tuple[Waiver, ...]:
    if not isinstance(raw, list):
        raise PolicyError(f"policy key 'waivers' must be an array of tables ([[waivers]]) in {where}")
    waivers = []
    for i, item in enumerate(raw):
        path = f"waivers[{i}]"
        if not isinstance(item, dict):
            raise PolicyError(f"policy key '{path}' must be a table with id, reason, approver, expires")
        for key in item:
            if key not in WAIVER_KEYS:
                raise PolicyError(
                    f"unknown policy key {path + '.' + str(key)!r} (known keys here: approver, expires, id, reason)"
                )
        for key, typ in WAIVER_KEYS.items():
            if key not in item:
                raise PolicyError(f"policy key '{path}.{key}' is missing: a waiver needs {key}")
            if not isinstance(item[key], typ) or (isinstance(item[key], str) and not item[key].strip()):
                raise PolicyError(f"policy key '{path}.{key}' must be a non-empty string, got {item[key]!r}")
        expires = _parse_expiry(item["expires"], path)
        waivers.append(
            Waiver(id=item["id"], reason=item["reason"], approver=item["approver"], expires=expires)
        )
    return tuple(waivers)


def _parse_expiry(value: Any, path: str) -> dt.datetime:
    """A waiver's expiry: a full timestamp with a timezone, converted to UTC."""
    hint = (f"policy key '{path}.expires' must be a timestamp with a timezone like 2026-12-31T23:59:59Z, "
            f"got {value!r}")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise PolicyError(hint) from None
        if len(value.isoformat()) <= 10:
            raise PolicyError(hint)
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(hint)
    return value.astimezone(dt.UTC)


def validate(raw: dict[str, Any], source: str = "policy") -> Policy:
    """Validate a raw policy mapping (already parsed from TOML)."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the policy must be a TOML table")
    raw = dict(raw)
    waivers = _parse_waivers(raw.pop("waivers", []), source)
    models_raw = raw.pop("models", {})
    data = _validate_table("", raw, SCHEMA)
    if data["target"] not in TARGETS:
        raise PolicyError(f"policy key 'target' must be one of {', '.join(TARGETS)}, got {data['target']!r}")
    if not isinstance(models_raw, dict):
        raise PolicyError("policy key 'models' must be a table of [models.NAME] tables")
    models = {}
    for name, override in models_raw.items():
        models[name] = _validate_table(f"models.{name}", override, SCHEMA, fill=False)
    if data["task"]["kind"] not in ("", "survival", "binary", "regression"):
        raise PolicyError(
            f"policy key 'task.kind' must be survival, binary or regression, got {data['task']['kind']!r}"
        )
    for check_id in data["required_checks"]:
        if not check_id.strip():
            raise PolicyError("policy key 'required_checks' contains an empty check id")
    return Policy(data=data, waivers=waivers, source=source, models=models)


def default_policy() -> Policy:
    """The documented default policy (every built-in check required, production target)."""
    return validate({}, source="default policy")


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
        return dataclasses.replace(validate(raw, source=str(file)), sha256=_sha256(text))
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
    return dataclasses.replace(validate(section, source=f"{pyproject} [tool.release_audit]"), sha256=_sha256(text))


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {where} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: "x = [[[[...]]]]" exhausts the stack
        raise PolicyError(f"policy file {where} is nested too deeply to be a policy") from None
