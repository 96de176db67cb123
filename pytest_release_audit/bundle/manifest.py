# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""``MANIFEST.json`` and the in-toto Statement v1 that carries its digest.

The manifest lists every file of the bundle (path, sha256, size) except itself and the signed
envelope. The Statement (``in_toto_attestation.v1``) names the model artifact files as subjects
(``model/...`` with their sha256) and holds the audit summary and the manifest's sha256 as its
predicate. It travels as the payload of a DSSE envelope (``attestation.dsse.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_release_audit.bundle.archive import BundleError
from pytest_release_audit.files import sha256_file

SCHEMA_VERSION = 1
MANIFEST = "MANIFEST.json"
ENVELOPE = "attestation.dsse.json"
PUBLIC_KEY = "signing-key.pub.pem"
#: Files outside the manifest: the manifest itself and the envelope that signs its digest.
UNLISTED = (MANIFEST, ENVELOPE)
MODEL_DIR = "model/"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://pytest-release-audit.dev/evidence-bundle/v1"


def canonical_bytes(data: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8, a final newline: one text for one value."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def file_entries(root: Path) -> list[dict[str, Any]]:
    """(path, sha256, size) of every file under ``root``, sorted by path, minus ``UNLISTED``."""
    entries = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if rel not in UNLISTED:
            entries.append({"path": rel, "sha256": sha256_file(file), "size": file.stat().st_size})
    return entries


def _integral(value: Any) -> Any:
    """Protobuf's Struct holds every number as a double: give whole numbers back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def statement_payload(subjects: list[dict[str, Any]], predicate: dict[str, Any]) -> bytes:
    """The in-toto Statement v1 as canonical JSON bytes (built and validated by in-toto-attestation)."""
    from google.protobuf import json_format
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    descriptors = [ResourceDescriptor(name=s["name"], digest={"sha256": s["sha256"]}).pb for s in subjects]
    statement = Statement(descriptors, PREDICATE_TYPE, predicate)
    try:
        statement.validate()
    except ValueError as exc:
        raise BundleError(f"the bundle's in-toto statement is invalid ({exc})") from None
    return canonical_bytes(_integral(json_format.MessageToDict(statement.pb)))


def parse_statement(payload: bytes) -> dict[str, Any]:
    """The statement of an envelope's payload as plain JSON; BundleError when it is not a valid one."""
    from google.protobuf import json_format
    from in_toto_attestation.v1.statement import Statement

    try:
        data = json.loads(payload.decode("utf-8"))
        message = json_format.ParseDict(data, Statement([], "", {}).pb.__class__())
        Statement.copy_from_pb(message).validate()
    except (UnicodeDecodeError, ValueError, json_format.ParseError) as exc:
        raise BundleError(f"{ENVELOPE}: the payload is not an in-toto Statement v1 ({exc})") from None
    if not isinstance(data, dict) or data.get("predicateType") != PREDICATE_TYPE:
        raise BundleError(f"{ENVELOPE}: the statement's predicateType is not {PREDICATE_TYPE}")
    return data
