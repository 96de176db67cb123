# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The serving audit in one command: start the example service, audit the version it serves, stop it.

``python3 examples/serving/audit_served.py`` (after ``python3 examples/build_demo.py``) starts
``app.py`` on a free loopback port against the demo registry, waits until ``/health`` says the model
is loaded, runs ``pytest --audit-model=breast_cancer_classifier@staging --audit-endpoint=URL`` in
``examples/`` and exits with pytest's exit code. Extra arguments go to pytest.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited ({proc.returncode}): run python3 examples/build_demo.py first")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as reply:  # noqa: S310 - loopback
                if json.load(reply).get("model_loaded"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the service at {url} did not become healthy within {timeout_s:g} s")


def main() -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = subprocess.Popen([sys.executable, str(HERE / "app.py"), "--port", str(port)])
    try:
        wait_healthy(url, service)
        print(f"serving models:/breast_cancer_classifier@staging at {url}", flush=True)
        return subprocess.call([sys.executable, "-m", "pytest", "--audit-model=breast_cancer_classifier@staging",
                                f"--audit-endpoint={url}", *sys.argv[1:]], cwd=EXAMPLES)
    finally:
        service.terminate()
        service.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
