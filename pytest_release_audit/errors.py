# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""User-facing error types.

Every error an audit can meet in its inputs (options, policy, registry, datasets, source tree)
is one of these, with a one-line message that names the input and the fix. The plugin turns
them into a BLOCKED verdict and a single terminal line, never a traceback wall.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class: an audit input is wrong or unavailable. ``str(exc)`` is one line."""


class AuditConfigError(AuditError):
    """A command-line option or ini value is invalid."""


class PolicyError(AuditConfigError):
    """The policy file is unreadable, not TOML, or does not match the schema."""


class HandleNotFound(AuditError):
    """The model, alias or version asked for does not exist in the registry."""


class RegistryUnavailable(AuditError):
    """The tracking / registry store cannot be reached or read."""


class DatasetUnavailable(AuditError):
    """A logged dataset's source cannot be found, read or parsed."""


class SourceTreeError(AuditError):
    """The training code cannot be checked out at the run's commit."""


class ModelLoadError(AuditError):
    """The registered model cannot be loaded or fails to predict."""
