# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Static security scan of the training code with bandit, and its SARIF 2.1.0 rendering.

bandit runs in-process (``BanditManager``) with its default test set; the audited repository's own
bandit configuration is deliberately not read, so a committed ``skips`` list cannot switch tests
off: exclusions come from the audit policy only.

``# nosec`` comments are an accepted way to silence a reviewed finding, so they are counted, each
silenced finding is listed, and the policy can require a justification after the codes
(``# nosec B603 - argv is fixed``). To know exactly which findings a ``nosec`` silenced, the files
are scanned a second time with ``ignore_nosec`` when any ``nosec`` comment exists.
Modules: ``findings`` (findings, nosec comments, the result), ``scan`` (file selection, judging),
``bandit_run`` (bandit in-process), ``nosec`` (reading ``# nosec`` comments), ``sarif``.
"""

from pytest_release_audit.scanners.security.findings import (
    RANK,
    RANKS,
    NosecComment,
    SecurityFinding,
    SecurityResult,
)
from pytest_release_audit.scanners.security.nosec import parse_nosec
from pytest_release_audit.scanners.security.sarif import SARIF_SCHEMA, to_sarif
from pytest_release_audit.scanners.security.scan import (
    PYTHON_GLOBS,
    is_excluded,
    python_files,
    scan_security,
    scan_with_policy,
)

__all__ = [
    "PYTHON_GLOBS",
    "RANK",
    "RANKS",
    "SARIF_SCHEMA",
    "NosecComment",
    "SecurityFinding",
    "SecurityResult",
    "is_excluded",
    "parse_nosec",
    "python_files",
    "scan_security",
    "scan_with_policy",
    "to_sarif",
]
