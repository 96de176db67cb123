# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Process isolation: the environment the CI gave us, and what a spawned process may inherit.

The plugin module imports this one when pytest loads it from its entry point, before any
``conftest.py`` of the audited repository is imported. ``TRUSTED_ENV`` is the environment as the
CI definition set it then; a conftest that later edits ``os.environ`` (a tracking URI, a
``PYTEST_ADDOPTS``) does not reach the processes the audit spawns.

Two kinds of process are spawned:

* the **checks child** (``child_env``): a clean pytest session that runs the built-in checks. It
  is the auditor, trusted, and keeps the registry credentials;
* a **model worker** (``worker_env``): loads and scores one model, whose pickled code is
  untrusted. It gets a minimal environment (no credentials, no keys) and, where the kernel
  allows it, a network namespace of its own with no interface up (``enter_network_sandbox``).
"""

from __future__ import annotations

import ctypes
import os
from types import MappingProxyType

#: The environment at plugin import, before any conftest ran (read only).
TRUSTED_ENV: MappingProxyType[str, str] = MappingProxyType(dict(os.environ))

#: Variables a model worker may inherit: locale, paths Python needs, numeric library tuning
#: (OPENBLAS_CORETYPE is set on some machines because older OpenBLAS builds miscompute without it).
_WORKER_KEEP = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "LD_LIBRARY_PATH", "SYSTEMROOT",
)
#: Variables the checks child must not inherit: they would bring the audited repository's
#: options or plugins into the clean session.
_CHILD_DROP = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_CURRENT_TEST",
               "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def worker_env(home: str) -> dict[str, str]:
    """The whole environment of a model worker: nothing secret, bytecode never written."""
    env = {k: TRUSTED_ENV[k] for k in _WORKER_KEEP if k in TRUSTED_ENV}
    env.update({
        "HOME": home,
        "TMPDIR": home,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GIT_PYTHON_REFRESH": "quiet",
    })
    return env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of the checks child: the CI's, without pytest options, plus ``extra``."""
    env = {k: v for k, v in TRUSTED_ENV.items() if k not in _CHILD_DROP and not k.startswith("RELEASE_AUDIT_CHILD")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(extra)
    return env


def enter_network_sandbox() -> str:
    """Move this process into new user and network namespaces; returns how it is isolated.

    Must run while the process has one thread (before numpy starts its thread pool). In the new
    network namespace no interface is up: ``connect`` fails with "Network is unreachable". In the
    new user namespace the process holds no capability over the initial one, so it cannot join
    the host's network namespace again even when the CI runs as root.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
            return "network namespace (no interface up)"
        return f"no network namespace (unshare refused: {os.strerror(ctypes.get_errno())})"
    except (OSError, AttributeError) as exc:  # not Linux, or no libc symbol
        return f"no network namespace ({exc.__class__.__name__})"


def set_dumpable(flag: bool) -> None:
    """Allow or forbid other processes of the same user to ptrace this one (Linux only).

    While untrusted model code runs in a worker of the same user, the auditor is not dumpable:
    without Yama's ptrace restriction the worker could otherwise write into the auditor's memory.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 1 if flag else 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        return


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux ``PR_SET_PDEATHSIG``).

    The checks session and the zygote call it first thing: an audit killed by its CI job must not
    leave them running the suite for an hour with nobody to read the result.
    """
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


#: Environment variables whose values are secrets (by name): masked in every output of the audit.
_SECRET_NAME = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "PRIVATE", "CREDENTIAL", "API_KEY", "ACCESS_KEY",
                "AUTH")
#: Variables that may name a key file: the file's lines are secrets too.
_KEY_FILE_VARS = ("RELEASE_AUDIT_BUNDLE_KEY", "RELEASE_AUDIT_TRAIL_KEY")
#: Shorter values are not masked (they would garble ordinary words).
_MIN_SECRET = 8


def _is_secret_name(name: str) -> bool:
    upper = name.upper()
    return name in _KEY_FILE_VARS or any(part in upper for part in _SECRET_NAME) or upper.endswith("_KEY")


def secret_values() -> dict[str, str]:
    """raw secret -> what is shown instead, from the CI's environment (``TRUSTED_ENV``).

    Code of the audited repository (a project compliance test, a conftest) runs in the audit's
    session and can read the environment; whatever it puts into its evidence is rendered, so
    every output masks these values (a PEM key line by line as well as whole), and the contents of
    a key file that ``RELEASE_AUDIT_BUNDLE_KEY`` / ``RELEASE_AUDIT_TRAIL_KEY`` names.
    """
    out: dict[str, str] = {}

    def add(raw: str, name: str) -> None:
        for piece in [raw, *raw.splitlines()]:
            piece = piece.strip()
            if len(piece) >= _MIN_SECRET and not piece.startswith("-----"):
                out.setdefault(piece, f"[redacted {name}]")

    for name, value in TRUSTED_ENV.items():
        if not value or not _is_secret_name(name):
            continue
        add(value, name)
        if name in _KEY_FILE_VARS and not value.lstrip().startswith("-----BEGIN"):
            try:
                with open(value, encoding="utf-8") as fh:  # noqa: PTH123 - a path from the CI's environment
                    add(fh.read(65536), name)
            except (OSError, UnicodeDecodeError, ValueError):
                pass
    return out
