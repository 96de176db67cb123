# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""User-facing error types.

Every error an audit can meet in its inputs (options, policy, registry, datasets, source tree)
is one of these, with a one-line message that names the input and the fix. The plugin turns
them into a BLOCKED verdict and a single terminal line, never a traceback wall.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit


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


class DatasetNotRecorded(DatasetUnavailable):
    """A logged dataset has no file to read (autolog, ``from_numpy``: source type ``code``)."""


class TaskUndetermined(AuditError):
    """What a model predicts, or which column is its label, cannot be told from what MLflow recorded."""


class SourceTreeError(AuditError):
    """The training code cannot be checked out at the run's commit."""


class ModelLoadError(AuditError):
    """The registered model cannot be loaded or fails to predict."""


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@]+@")
_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#]*)\?[^\s#]*")
_SECRET_PAIR = re.compile(r"(?i)\b(token|access_token|api[_-]?key|apikey|password|passwd|secret|signature|"
                          r"x-amz-signature|sig|authorization)\s*([=:])\s*(bearer\s+|basic\s+)?[^\s&,;'\"]+")
#: Quoted literals in exception texts: data values (a cell that failed to parse, a bad label).
_QUOTED = re.compile(r"(['\"])(?:(?!\1).){1,200}\1")


def redact(text: str) -> str:
    """``text`` with URI credentials, query strings and ``key=secret`` pairs removed.

    The one redactor: every exception text or URI that reaches an output passes through it.
    """
    text = _USERINFO.sub(r"\1", str(text))
    text = _QUERY.sub(r"\1?…", text)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}…", text)


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` only: Slack-style webhook URLs carry their secret in the path."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else "<invalid URL>"


def _http_cause(text: str) -> str | None:
    """The cause of an HTTP failure in words, from the text MLflow / urllib3 put in the exception."""
    timeout = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "?")
    if "Read timed out" in text:
        return f"no answer within {timeout} s"
    if "Connection refused" in text:
        return "connection refused"
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "host name not found"
    if "ConnectTimeoutError" in text:
        return f"no connection within {timeout} s"
    if "SSLError" in text or "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS error (set MLFLOW_TRACKING_SERVER_CERT_PATH for a private CA)"
    code = re.search(r"error code (\d{3}) != 200", text)
    if code:
        return {
            "401": "HTTP 401: not authenticated (set MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)",
            "403": "HTTP 403: permission denied for these credentials",
        }.get(code.group(1), f"HTTP {code.group(1)}")
    return None


def mask_values(text: str) -> str:
    """``text`` redacted, with every quoted literal (a data value, in an exception text) masked."""
    return _QUOTED.sub(lambda m: f"{m.group(1)}…{m.group(1)}", redact(" ".join(str(text).split())))


def describe_exception(exc: BaseException) -> str:
    """One short line for an exception: credentials removed (``redact``), quoted values masked,
    HTTP causes in words.

    Exception texts from data and models quote values (``could not convert string to float:
    'jane@example.org'``); a quoted literal is replaced by ``'…'`` so no data value reaches a report.
    """
    cause = _http_cause(redact(" ".join(str(exc).split())))  # before masking: the cause is often quoted
    if cause:
        return cause
    text = mask_values(str(exc))
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
