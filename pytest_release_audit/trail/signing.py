# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Ed25519 signatures over trail records: keys from PEM or OpenSSH text, sign, check."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from pytest_release_audit.trail.records import TrailError

KEY_ENV = "RELEASE_AUDIT_TRAIL_KEY"


def load_private_key(source: str) -> Any:
    """An Ed25519 private key from PEM text or a PEM file path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = source if source.lstrip().startswith("-----BEGIN") else Path(source).read_text(encoding="utf-8")
    key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TrailError(f"{KEY_ENV} is not an Ed25519 private key: create one with "
                         "'ssh-keygen -t ed25519 -m PKCS8' or cryptography")
    return key


def load_public_key(source: str) -> Any:
    """An Ed25519 public key from PEM text, an OpenSSH ``ssh-ed25519`` line, or a file holding one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = source
    if not (source.lstrip().startswith("-----BEGIN") or source.startswith("ssh-ed25519 ")):
        text = Path(source).read_text(encoding="utf-8")
    data = text.strip().encode("utf-8")
    key = (serialization.load_ssh_public_key(data) if data.startswith(b"ssh-ed25519")
           else serialization.load_pem_public_key(data))
    if not isinstance(key, Ed25519PublicKey):
        raise TrailError("the trail's public key is not an Ed25519 key")
    return key


def key_id(public_key: Any) -> str:
    """``ed25519:`` and the first 16 hex digits of the sha256 of the raw public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def sign_record(record: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """``record`` with ``signature``: Ed25519 over the bytes of its ``hash``."""
    value = base64.b64encode(private_key.sign(record["hash"].encode("ascii"))).decode("ascii")
    return {**record, "signature": {"alg": "ed25519", "key": key_id(private_key.public_key()), "value": value}}


def signature_problem(record: dict[str, Any], public_key: Any) -> str:
    """'' when ``record``'s signature verifies with ``public_key``; else why not."""
    from cryptography.exceptions import InvalidSignature

    sig = record.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        return "not signed, but the trail is verified with a public key"
    try:
        public_key.verify(base64.b64decode(sig["value"], validate=True), str(record["hash"]).encode("ascii"))
    except (InvalidSignature, ValueError):
        return f"signature does not verify with key {key_id(public_key)} (forged or re-hashed)"
    return ""
