# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The old import path of ``approvals.signed`` (signed approval statements)."""

from pytest_release_audit.approvals.signed import (
    DECISIONS,
    NAMESPACE,
    PRINCIPAL,
    SIGNERS_ENV,
    STATEMENT_TYPE,
    TAG_PREFIX,
    Statement,
    read_tag,
    sign,
    signers_file,
    tag_value,
    valid_time,
    verify,
)

__all__ = [
    "DECISIONS",
    "NAMESPACE",
    "PRINCIPAL",
    "SIGNERS_ENV",
    "STATEMENT_TYPE",
    "TAG_PREFIX",
    "Statement",
    "read_tag",
    "sign",
    "signers_file",
    "tag_value",
    "valid_time",
    "verify",
]
