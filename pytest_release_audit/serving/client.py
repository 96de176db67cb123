# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""A small JSON-over-HTTP client for the serving endpoint (the standard library's ``http.client``).

Redirects are not followed (a redirect could carry the credentials elsewhere), replies are read
up to ``MAX_REPLY_BYTES``, and the credentials (a bearer token from the environment, or user
information in the URL) never appear in what ``Endpoint.shown`` or an error message prints.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from pytest_release_audit.errors import AuditError, redact

#: Replies larger than this are refused (a hostile endpoint cannot fill the auditor's memory).
MAX_REPLY_BYTES = 4 * 1024 * 1024


class EndpointError(AuditError):
    """The endpoint could not be reached or answered with something that is not HTTP."""


@dataclass(frozen=True)
class Reply:
    """One HTTP reply: status, body (bytes) and the round trip measured by the auditor."""

    status: int
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: JSON nested too deep
            return None


class Endpoint:
    """The base URL of a serving endpoint, with its credentials kept out of every output."""

    def __init__(self, url: str, timeout_s: float = 10.0, token: str | None = None) -> None:
        bad = EndpointError(
            f"serving endpoint {redact(url)!r} is not an http:// or https:// URL with a host and a port in 1-65535: "
            "pass --audit-endpoint=http://HOST:PORT or set [tool.release_audit.serving] url"
        )
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # "Port out of range", "Invalid IPv6 URL"
            raise bad from None
        if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
            raise bad
        if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= 600):
            raise EndpointError(f"serving timeout {timeout_s!r} s is not in (0, 600]: set "
                                "[tool.release_audit.serving] timeout_s")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = port
        self.base_path = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self._headers = {"Accept": "application/json", "User-Agent": "pytest-release-audit"}
        if parts.username is not None:
            user = unquote(parts.username)
            password = unquote(parts.password or "")
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = "Basic " + pair
        if token:
            self._headers["Authorization"] = "Bearer " + token
        shown_port = f":{self.port}" if self.port else ""
        self.shown = f"{self.scheme}://{self.host}{shown_port}{self.base_path}"

    @property
    def authenticated(self) -> bool:
        return "Authorization" in self._headers

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)

    def request(self, method: str, path: str, payload: Any = None) -> Reply:
        """One request; ``EndpointError`` (one line, no credentials) when there is no HTTP reply."""
        body = None if payload is None else json.dumps(payload, allow_nan=False).encode("utf-8")
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn = self._connection()
        started = time.perf_counter()
        try:
            conn.request(method, self.base_path + path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read(MAX_REPLY_BYTES + 1)
        except TimeoutError:
            raise EndpointError(
                f"serving endpoint {self.shown} did not answer {method} {path} within {self.timeout_s:g} s: "
                "check that the server is up, or raise [tool.release_audit.serving] timeout_s"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            cause = redact(" ".join(str(exc).split()))[:200] or exc.__class__.__name__
            raise EndpointError(
                f"serving endpoint {self.shown} cannot be reached ({method} {path}: {cause}): start the server or "
                "fix --audit-endpoint / [tool.release_audit.serving] url"
            ) from None
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000.0
        if len(data) > MAX_REPLY_BYTES:
            raise EndpointError(
                f"serving endpoint {self.shown} sent more than {MAX_REPLY_BYTES // (1024 * 1024)} MiB for "
                f"{method} {path}: not a prediction reply"
            )
        return Reply(status=response.status, body=data, elapsed_ms=elapsed)
