# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The audit trail: an append-only, hash-chained JSONL log with one record per audit.

Design
------
* One JSON object per line, written as canonical JSON (``sort_keys``, ``(",", ":")`` separators,
  ``ensure_ascii=False``, UTF-8) followed by ``\\n``.
* Each record carries ``seq`` (1-based position), ``prev_hash`` (the previous record's ``hash``,
  64 zeros for the first) and ``hash`` = sha256 of the canonical JSON of the record without
  ``hash``. Editing a record breaks its own hash; deleting, inserting or reordering records breaks
  the next record's ``prev_hash`` (and ``seq``).
* Appends happen under ``filelock.FileLock(PATH + ".lock")``: the last record is read inside the
  lock, the new line is written with one ``O_APPEND`` write, flushed and ``fsync``-ed. Earlier
  bytes are never rewritten. Concurrent audits (xdist controllers, parallel CI jobs on one volume)
  therefore neither lose nor interleave records.
* A hash chain alone cannot notice that its *last* records were cut off (the remaining prefix is a
  valid chain). So every append also replaces a small sidecar ``PATH.head`` (atomically:
  temporary file, fsync, ``os.replace``) holding the last ``seq`` and ``hash``.
  ``verify_trail`` reports the log as broken when it holds fewer records than the head names, or
  when the record at the head's position has another hash. A head that lags the log (a crash
  between the two writes) or a missing head is a warning, not a break: the chain itself is intact.
  The sidecar detects accidents and naive truncation.
* Every line must be exactly the canonical JSON of its record: a duplicate key, a re-formatted
  line or a non-canonical number is a break, whatever the hash says (``parse_line``).
* When the CI provides an Ed25519 key (``RELEASE_AUDIT_TRAIL_KEY``: a PEM file or its text, or the
  policy's ``trail_key``), each record carries ``signature`` = Ed25519 over its ``hash``; verified
  with the public key (``verify_trail(..., public_key=...)``), a forged or re-hashed record fails.
* The registry anchors the chain: after each append the audited version gets the tag
  ``release_audit.trail_record`` and the registered model ``release_audit.trail_head``, both
  ``SEQ:HASH`` (``anchor_record``). Rewriting the file alone is then detected (``check_anchors``).
* A failed append (a full disk) is rolled back to the previous length: the tool never leaves the
  trail broken.

What it cannot detect: someone who holds the trail key *and* can write the registry's tags can
write a consistent forged history.

Modules: ``records`` (canonical JSON, hashes, the line parser, ``build_record``), ``signing``
(Ed25519 keys and signatures), ``append`` (locking, appending, the head sidecar), ``verify``
(``verify_trail``, ``find_record``), ``sets`` (the report sets records name, interrupted
sets), ``anchors`` (registry tags).
"""

from pytest_release_audit.trail.anchors import (
    ANCHOR_MODEL_TAG,
    ANCHOR_VERSION_TAG,
    anchor_record,
    anchor_value,
    check_anchors,
)
from pytest_release_audit.trail.append import LOCK_TIMEOUT_S, append_record, head_path
from pytest_release_audit.trail.records import (
    GENESIS_HASH,
    TRAIL_VERSION,
    TrailError,
    build_record,
    canonical_json,
    file_digests,
    parse_line,
    record_hash,
)
from pytest_release_audit.trail.sets import last_records, pending_set, report_problems, set_matches
from pytest_release_audit.trail.signing import (
    KEY_ENV,
    key_id,
    load_private_key,
    load_public_key,
    sign_record,
    signature_problem,
)
from pytest_release_audit.trail.verify import TrailVerification, find_record, verify_trail

__all__ = [
    "ANCHOR_MODEL_TAG",
    "ANCHOR_VERSION_TAG",
    "GENESIS_HASH",
    "KEY_ENV",
    "LOCK_TIMEOUT_S",
    "TRAIL_VERSION",
    "TrailError",
    "TrailVerification",
    "anchor_record",
    "anchor_value",
    "append_record",
    "build_record",
    "canonical_json",
    "check_anchors",
    "file_digests",
    "find_record",
    "head_path",
    "key_id",
    "last_records",
    "load_private_key",
    "load_public_key",
    "parse_line",
    "pending_set",
    "record_hash",
    "report_problems",
    "set_matches",
    "sign_record",
    "signature_problem",
    "verify_trail",
]
