# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit result: plain, frozen data, built on the controller, rendered by the renderers.

``AuditResult.to_dict()`` is exactly ``audit_report.json`` (schema_version 1, see DESIGN.md).
Extensions to the DESIGN schema (additive): ``audit_id``, ``errors`` (session-level problems such
as an unresolvable model), per-check ``waiver`` and ``artifacts`` (paths of files a check wrote,
relative to the output directory).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

Outcome = Literal["passed", "failed", "error", "skipped", "waived"]
Status = Literal["READY", "BLOCKED"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "skipped", "waived")


@dataclass(frozen=True)
class OutcomeStyle:
    """How one outcome is shown, the same in every output (terminal, Markdown, HTML, card, JUnit,
    CLI): a word for terminals and logs, a label for prose, an icon for Markdown and a colour
    (a terminal colour name, also the HTML badge class)."""

    word: str
    label: str
    icon: str
    colour: str


#: The outcome vocabulary. ``not_run`` is a check the policy requires that has no result.
OUTCOME_STYLES: dict[str, OutcomeStyle] = {
    "passed": OutcomeStyle("PASS", "Passed", "✅", "green"),
    "failed": OutcomeStyle("FAIL", "Failed", "❌", "red"),
    "error": OutcomeStyle("ERROR", "Error", "⛔", "red"),
    "skipped": OutcomeStyle("SKIP", "Skipped", "⚠️", "yellow"),
    "waived": OutcomeStyle("WAIVED", "Waived", "⚠️", "yellow"),
    "not_run": OutcomeStyle("NOT RUN", "Did not run", "⛔", "red"),
}
#: An optional check that did not pass: recorded, never blocking.
OPTIONAL_STYLE_COLOUR = "yellow"


def outcome_style(outcome: str, *, required: bool = True) -> OutcomeStyle:
    """The style of ``outcome`` (an unknown one is shown as an error); an optional check that did
    not pass is yellow and labelled "(optional)"."""
    style = OUTCOME_STYLES.get(outcome, OutcomeStyle(outcome.upper() or "?", outcome.capitalize() or "Unknown",
                                                     "⛔", "red"))
    if not required and outcome not in ("passed", "waived"):
        return OutcomeStyle(style.word, f"{style.label} (optional)", "⚠️", OPTIONAL_STYLE_COLOUR)
    return style


@dataclass(frozen=True)
class ModelRef:
    """Which model version an audit looked at."""

    name: str
    version: str
    alias: str | None = None
    run_id: str | None = None
    uri: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelRef:
        kwargs: dict[str, Any] = {f.name: data.get(f.name) for f in dataclasses.fields(cls)}
        return cls(**kwargs)

    @property
    def label(self) -> str:
        """``name v3 (@candidate)`` for humans."""
        if self.version == "unresolved":
            return f"{self.name} (unresolved)"
        alias = f" (@{self.alias})" if self.alias else ""
        return f"{self.name} v{self.version}{alias}"


@dataclass(frozen=True)
class CheckResult:
    """One compliance check's outcome and its evidence (plain JSON values only)."""

    id: str
    title: str
    outcome: str
    required: bool
    controls: tuple[str, ...] = ()
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    nodeid: str | None = None
    duration_s: float = 0.0
    waiver: dict[str, Any] | None = None
    artifacts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when this check does not block a release."""
        return self.outcome in ("passed", "waived") or not self.required

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["controls"] = list(self.controls)
        data["artifacts"] = list(self.artifacts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        kwargs = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        kwargs["controls"] = tuple(kwargs.get("controls", ()))
        kwargs["artifacts"] = tuple(kwargs.get("artifacts", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class AuditResult:
    """The whole audit. ``status`` is READY only if nothing is in ``blocking`` and no ``errors``."""

    status: str
    model: ModelRef | None
    baseline: ModelRef | None
    target: str
    started_at: str
    finished_at: str
    tool_version: str
    checks: tuple[CheckResult, ...]
    blocking: tuple[str, ...]
    environment: dict[str, Any] = field(default_factory=dict)
    audit_id: str = ""
    errors: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION
    #: The policy file, its sha256, and each deviation from the built-in defaults.
    policy: dict[str, Any] = field(default_factory=dict)
    #: The auditing code: plugin version, sha256 of its installed files, and what else the user's
    #: session loaded (conftest files, third-party plugins).
    integrity: dict[str, Any] = field(default_factory=dict)
    #: Why this run is not release evidence (``-k``, ``--setup-only``, ...), or None for a full run.
    partial: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "READY"

    @property
    def why_blocked(self) -> str:
        """One phrase for every output: the partial-run reason, else the blocking checks."""
        if self.ready:
            return ""
        if self.partial:
            return f"partial run: {self.partial}"
        return ", ".join(self.blocking) or "setup errors"

    def check(self, check_id: str) -> CheckResult | None:
        """The result of one check by id, or None when it did not run."""
        for check in self.checks:
            if check.id == check_id:
                return check
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "audit_id": self.audit_id,
            "status": self.status,
            "model": self.model.to_dict() if self.model else None,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "target": self.target,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "tool_version": self.tool_version,
            "checks": [c.to_dict() for c in self.checks],
            "blocking": list(self.blocking),
            "errors": list(self.errors),
            "partial": self.partial,
            "policy": dict(self.policy),
            "integrity": dict(self.integrity),
            "environment": dict(self.environment),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditResult:
        return cls(
            schema_version=data.get("schema_version", SCHEMA_VERSION),
            audit_id=data.get("audit_id", ""),
            status=data["status"],
            model=ModelRef.from_dict(data["model"]) if data.get("model") else None,
            baseline=ModelRef.from_dict(data["baseline"]) if data.get("baseline") else None,
            target=data.get("target", "production"),
            started_at=data.get("started_at", ""),
            finished_at=data.get("finished_at", ""),
            tool_version=data.get("tool_version", ""),
            checks=tuple(CheckResult.from_dict(c) for c in data.get("checks", [])),
            blocking=tuple(data.get("blocking", [])),
            errors=tuple(data.get("errors", [])),
            environment=dict(data.get("environment", {})),
            policy=dict(data.get("policy") or {}),
            integrity=dict(data.get("integrity") or {}),
            partial=data.get("partial"),
        )
