# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Registry anchors of the trail: the last record's SEQ:HASH as model and version tags."""

from __future__ import annotations

from typing import Any

ANCHOR_VERSION_TAG = "release_audit.trail_record"
ANCHOR_MODEL_TAG = "release_audit.trail_head"


def anchor_value(record: dict[str, Any]) -> str:
    """``SEQ:HASH`` of ``record``."""
    return f"{record['seq']}:{record['hash']}"


def anchor_record(client: Any, record: dict[str, Any]) -> None:
    """Tag the audited version and its registered model with this record's SEQ:HASH."""
    model = record.get("model") or {}
    name, version = model.get("name"), model.get("version")
    if not name or not version or version == "unresolved":
        return
    value = anchor_value(record)
    client.set_model_version_tag(name, str(version), ANCHOR_VERSION_TAG, value)
    client.set_registered_model_tag(name, ANCHOR_MODEL_TAG, value)


def check_anchors(records: tuple[dict[str, Any], ...], client: Any) -> list[str]:
    """Where the registry's anchors disagree with the trail (the file was rewritten or cut)."""
    last_by_version: dict[tuple[str, str], dict[str, Any]] = {}
    last_by_model: dict[str, dict[str, Any]] = {}
    for record in records:
        model = record.get("model") or {}
        name, version = model.get("name"), model.get("version")
        if name and version and version != "unresolved":
            last_by_version[(name, str(version))] = record
            last_by_model[name] = record
    problems = []
    for name, record in sorted(last_by_model.items()):
        try:
            tags = dict(client.get_registered_model(name).tags or {})
        except Exception as exc:  # noqa: BLE001 - a model deleted since: named, not fatal
            problems.append(f"model {name}: cannot read its anchor ({exc.__class__.__name__})")
            continue
        anchored = tags.get(ANCHOR_MODEL_TAG)
        if anchored is not None and anchored != anchor_value(record):
            seq = anchored.split(":", 1)[0]
            problems.append(f"model {name}: the registry anchors record {seq} ({anchored[:24]}...), the trail's last "
                            f"record for it is {record['seq']}: records were cut or rewritten")
    for (name, version), record in sorted(last_by_version.items()):
        try:
            tags = dict(client.get_model_version(name, version).tags or {})
        except Exception:  # noqa: BLE001 - a deleted version has no anchor to compare
            tags = {}
        anchored = tags.get(ANCHOR_VERSION_TAG)
        if anchored is not None and anchored != anchor_value(record):
            problems.append(f"{name} v{version}: the registry anchors {anchored[:24]}..., the trail holds "
                            f"{anchor_value(record)[:24]}...: the record was rewritten")
    return problems
