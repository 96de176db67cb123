# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""One network policy: credentials go to the configured tracking server, and nowhere else.

MLflow sends ``MLFLOW_TRACKING_USERNAME`` / ``PASSWORD`` / ``TOKEN`` to any ``mlflow-artifacts``
or ``http(s)`` URI it is asked to read. Such URIs come from the registry (a run's artifact
location, a model version's source, a dataset's source), which is untrusted input: a source of
``mlflow-artifacts://attacker:8080/...`` would make the audit hand the CI's credentials to that
host. ``check_artifact_uri`` refuses every URI that names a host other than the tracking
server's, before any request is made.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: Schemes whose requests carry the tracking server's credentials.
_CREDENTIALED = ("mlflow-artifacts", "http", "https")


def _host(uri: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(uri)
        return ((parts.hostname or "").lower(), parts.port)
    except ValueError:
        return None


def foreign_host(uri: str, tracking_uri: str) -> str | None:
    """The host ``uri`` would send the tracking credentials to, when it is not the tracking server."""
    scheme = urlsplit(uri).scheme.lower() if isinstance(uri, str) else ""
    if scheme not in _CREDENTIALED:
        return None
    target = _host(uri)
    if target is None:
        return "an unparsable host"
    if scheme == "mlflow-artifacts" and not target[0]:
        return None  # mlflow-artifacts:/path: served by the tracking server itself
    tracking = urlsplit(tracking_uri)
    if tracking.scheme.lower() not in ("http", "https"):
        return f"{target[0]}:{target[1] or ''}".rstrip(":")  # a database store: no server to send to
    home = _host(tracking_uri)
    default = {"http": 80, "https": 443}
    home_port = home[1] if home and home[1] else default.get(tracking.scheme.lower())
    port = target[1] or default.get("https" if scheme == "https" else "http")
    if home is None or target[0] != home[0] or (scheme != "mlflow-artifacts" and port != home_port) or (
            scheme == "mlflow-artifacts" and target[1] is not None and target[1] != home_port):
        return f"{target[0]}{':' + str(target[1]) if target[1] else ''}"
    return None


def check_artifact_uri(uri: str, tracking_uri: str, what: str) -> str | None:
    """One line naming the refusal when ``uri`` would leak credentials to another host, else None."""
    host = foreign_host(uri, tracking_uri)
    if host is None:
        return None
    return (f"{what} is at {host}, not on the tracking server: the audit sends the registry's credentials only "
            "to the configured tracking server, so it was not read (log it to the tracking server's artifact store)")
