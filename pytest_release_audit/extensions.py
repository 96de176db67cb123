# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Release-audit extensions: installed plugins trusted to change what is audited.

An extension is a module an installed distribution declares in the entry point group
``pytest_release_audit``. Both the user's session and the clean checks child (``suite``, which
loads no other plugin) register every extension, so its hooks run wherever the audit resolves
the model or runs the built-in checks. ``pytest_release_audit_resolve_handle`` is only ever
asked of extensions: a ``conftest.py`` or a ``-p`` module of the audited repository cannot
choose the model under audit.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import pytest

from pytest_release_audit.errors import AuditConfigError, describe_exception

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle

#: The entry point group an installed distribution lists its release-audit extension in.
ENTRY_POINT_GROUP = "pytest_release_audit"
_extensions_key: pytest.StashKey[tuple[object, ...]] = pytest.StashKey()


def load_extensions(config: pytest.Config) -> tuple[object, ...]:
    """Register every installed extension with pytest (once) and remember them as trusted."""
    if _extensions_key in config.stash:
        return config.stash[_extensions_key]
    loaded: list[object] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = entry.load()
        except Exception as exc:  # an installed extension that cannot import is the CI's to fix
            raise pytest.UsageError(
                f"release-audit extension {entry.name!r} ({entry.value}) cannot be loaded "
                f"({describe_exception(exc)}): fix or uninstall it"
            ) from None
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, f"release_audit_extension_{entry.name}")
        loaded.append(module)
    config.stash[_extensions_key] = tuple(loaded)
    return config.stash[_extensions_key]


def resolve_by_extension(config: pytest.Config, spec: str, tracking_uri: str) -> ModelHandle | None:
    """The handle an extension resolved ``spec`` to, or None (the MLflow resolver then runs)."""
    from pytest_release_audit.handle.model import ModelHandle

    trusted = load_extensions(config)
    others = [p for p in config.pluginmanager.get_plugins() if all(p is not t for t in trusted)]
    hook = config.pluginmanager.subset_hook_caller("pytest_release_audit_resolve_handle", remove_plugins=others)
    handle = hook(config=config, spec=spec, tracking_uri=tracking_uri)
    if handle is not None and not isinstance(handle, ModelHandle):
        raise AuditConfigError(
            f"a release-audit extension resolved --audit-model {spec!r} to a {type(handle).__name__}, not a "
            "ModelHandle: fix its pytest_release_audit_resolve_handle"
        )
    return handle
