# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The regulator's package: a signed, reproducible evidence bundle of one audited model version.

``build`` collects the evidence (model files, training code at the commit, run log, dataset
digests and optionally the data, the audit's report set, approvals and their signatures, the
trail records) and writes ``MANIFEST.json`` plus a DSSE-signed in-toto Statement over it;
``archive`` writes the byte-identical ``.tar.gz`` and reads one as hostile input; ``verify``
checks a bundle offline; ``retention`` (``bundle_retain_until``) says until when it must be kept.
"""

from pytest_release_audit.bundle.archive import BundleError, extract_checked, member_problem, write_archive
from pytest_release_audit.bundle.build import BundleRequest, BundleSummary, build_bundle
from pytest_release_audit.bundle.manifest import ENVELOPE, MANIFEST, PREDICATE_TYPE, PUBLIC_KEY
from pytest_release_audit.bundle.sign import KEY_ENV, fingerprint, load_public_key, load_signing_key
from pytest_release_audit.bundle.verify import BundleVerification, bundle_retain_until, verify_bundle

__all__ = [
    "ENVELOPE",
    "KEY_ENV",
    "MANIFEST",
    "PREDICATE_TYPE",
    "PUBLIC_KEY",
    "BundleError",
    "BundleRequest",
    "BundleSummary",
    "BundleVerification",
    "build_bundle",
    "bundle_retain_until",
    "extract_checked",
    "fingerprint",
    "load_public_key",
    "load_signing_key",
    "member_problem",
    "verify_bundle",
    "write_archive",
]
