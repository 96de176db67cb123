# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Ed25519 keys and the DSSE envelope (securesystemslib) that signs the bundle's statement.

DSSE signs the pre-authentication encoding ``DSSEv1 <len> <type> <len> <payload>``
(``securesystemslib.dsse.Envelope.pae``); Ed25519 signatures are deterministic, so the same key
and statement give the same envelope bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pytest_release_audit.bundle.archive import BundleError
from pytest_release_audit.bundle.manifest import ENVELOPE, PAYLOAD_TYPE, canonical_bytes

KEY_ENV = "RELEASE_AUDIT_BUNDLE_KEY"


def load_signing_key(path: str | None) -> Any:
    """The Ed25519 private key from ``--key PATH``, else ``RELEASE_AUDIT_BUNDLE_KEY`` (a path or PEM text)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    source = path or os.environ.get(KEY_ENV, "")
    where = f"--key {path}" if path else KEY_ENV
    if not source:
        raise BundleError(f"no signing key: pass --key PEM or set {KEY_ENV} (an Ed25519 private key, e.g. "
                          "'openssl genpkey -algorithm ed25519 -out bundle-key.pem')")
    try:
        text = source if source.lstrip().startswith("-----BEGIN") else Path(source).read_text(encoding="utf-8")
        key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"cannot read the signing key ({where}: {exc.__class__.__name__})") from None
    except (ValueError, TypeError):
        raise BundleError(f"the signing key ({where}) is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"the signing key ({where}) is not an Ed25519 key: create one with "
                          "'openssl genpkey -algorithm ed25519'")
    return key


def load_public_key(path: str) -> Any:
    """An Ed25519 public key from a PEM file (``--pubkey``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = Path(path).read_bytes()
        key = serialization.load_pem_public_key(data)
    except OSError as exc:
        raise BundleError(f"cannot read --pubkey {path} ({exc.__class__.__name__})") from None
    except (ValueError, TypeError):
        raise BundleError(f"--pubkey {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"--pubkey {path} is not an Ed25519 public key")
    return key


def public_pem(public_key: Any) -> bytes:
    """The SubjectPublicKeyInfo PEM of ``public_key``."""
    from cryptography.hazmat.primitives import serialization

    return bytes(public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def fingerprint(public_key: Any) -> str:
    """``SHA256:`` and the hex sha256 of the raw 32-byte public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def _sslib_key(public_key: Any) -> Any:
    from securesystemslib.signer import SSlibKey

    return SSlibKey.from_crypto(public_key)


def key_id(public_key: Any) -> str:
    """The DSSE ``keyid``: securesystemslib's default key id of the public key."""
    return str(_sslib_key(public_key).keyid)


def sign_envelope(payload: bytes, private_key: Any) -> bytes:
    """The DSSE envelope of ``payload`` signed with ``private_key``, as canonical JSON bytes."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(CryptoSigner(private_key))
    return canonical_bytes(envelope.to_dict())


def read_envelope(data: bytes) -> Any:
    """The DSSE envelope in ``data``; BundleError when it is not one."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import FormatError

    try:
        envelope = Envelope.from_dict(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, FormatError) as exc:
        raise BundleError(f"{ENVELOPE} is not a DSSE envelope ({exc.__class__.__name__})") from None
    if envelope.payload_type != PAYLOAD_TYPE:
        raise BundleError(f"{ENVELOPE}: payloadType is {envelope.payload_type!r}, expected {PAYLOAD_TYPE}")
    return envelope


def signature_verifies(envelope: Any, public_key: Any) -> bool:
    """Whether one of the envelope's signatures verifies with ``public_key`` over the PAE."""
    from securesystemslib.exceptions import VerificationError

    try:
        envelope.verify([_sslib_key(public_key)], 1)
    except (VerificationError, ValueError):
        return False
    return True
