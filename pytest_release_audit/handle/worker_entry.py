# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model worker: loads one model from a local directory and scores frames for the auditor.

Run as ``python -P -m pytest_release_audit.handle.worker_entry MODEL_DIR`` by
``handle.worker.ModelWorker``, never imported by the auditor. Whatever the model's pickled code
does (patch modules, raise, sleep, open sockets), it does it here: this process holds no
credential and no key, and has no network where the kernel allows a namespace.

Protocol: one JSON object per line on stdin (requests) and on the file descriptor that was
standard output at start (replies); the model's own prints go to standard error (the log).

* ``{"op": "load"}`` -> ``{"ok": true, "flavor": ..., "methods": [...], "isolation": ..., "classes": [...] | null}``
  (``classes``: the estimator's ``classes_``, as plain JSON scalars, when the model has them)
* ``{"op": "predict", "input": PARQUET, "output": NPY, "method": "predict_proba"|"predict"}`` ->
  ``{"ok": true, "shape": [...], "dtype": ..., "columns": [...] | null, "kind": ...}``

Replies with ``"ok": false`` carry ``error`` (exception class and message).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from pytest_release_audit.isolation import die_with_parent, enter_network_sandbox, set_dumpable


def _reply(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message, default=str) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


#: At most this many class labels, of at most this many characters each, are reported.
MAX_CLASSES = 1000
MAX_LABEL_CHARS = 100


def _plain_label(value: Any) -> Any:
    """A class label as a JSON scalar (numpy scalars unwrapped, text cut), or raise ``TypeError``."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        value = item()
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_LABEL_CHARS]
    raise TypeError(type(value).__name__)


def _classes_of(model: Any) -> list[Any] | None:
    """The ``classes_`` of an sklearn estimator, or of one a pyfunc wraps (its python model or an
    attribute of it), as plain JSON scalars; None when there are none or they are not plain labels."""
    candidates = [model]
    unwrap = getattr(model, "unwrap_python_model", None)
    try:
        inner = unwrap() if callable(unwrap) else None
    except Exception:  # noqa: BLE001 - a flavor without a python model
        inner = None
    if inner is None:
        inner = getattr(getattr(model, "_model_impl", None), "sklearn_model", None)
    if inner is not None:
        candidates.append(inner)
        attributes = getattr(inner, "__dict__", {})
        candidates.extend(v for v in list(attributes.values())[:50] if hasattr(type(v), "fit"))
    for candidate in candidates:
        try:
            raw = getattr(candidate, "classes_", None)
            if raw is None:
                continue
            values = list(raw)[: MAX_CLASSES + 1]
            if len(values) > MAX_CLASSES or not values:
                return None
            return [_plain_label(v) for v in values]
        except Exception:  # noqa: BLE001 - an odd classes_ is reported as none
            return None
    return None


def _error(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:500]}"}


class _Scorer:
    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        self.model: Any = None
        self.flavor = ""

    def load(self) -> dict[str, Any]:
        started = time.monotonic()
        import yaml

        with open(os.path.join(self.model_dir, "MLmodel"), encoding="utf-8") as fh:
            flavors = (yaml.safe_load(fh) or {}).get("flavors") or {}
        if "sklearn" in flavors:
            import mlflow.sklearn

            self.model, self.flavor = mlflow.sklearn.load_model(self.model_dir), "sklearn"
        else:
            import mlflow.pyfunc

            self.model, self.flavor = mlflow.pyfunc.load_model(self.model_dir), "pyfunc"
        methods = [m for m in ("predict_proba", "predict") if callable(getattr(self.model, m, None))]
        return {"ok": True, "flavor": self.flavor, "methods": methods, "classes": _classes_of(self.model),
                "seconds": round(time.monotonic() - started, 3)}

    def predict(self, request: dict[str, Any]) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        frame = pd.read_parquet(request["input"])
        method = request.get("method") or "predict"
        raw = getattr(self.model, method)(frame)
        columns = None
        kind = type(raw).__name__
        if isinstance(raw, pd.DataFrame):
            columns = [str(c) for c in raw.columns]
            raw = raw.to_numpy()
        elif isinstance(raw, pd.Series):
            raw = raw.to_numpy()
        values = np.asarray(raw)
        if values.dtype == object or values.dtype.kind not in "biufUS":
            # Object arrays cannot cross without pickle; the auditor never unpickles model output.
            try:
                values = values.astype(float)
            except (TypeError, ValueError):
                values = values.astype(str)
        np.save(request["output"], values, allow_pickle=False)
        return {"ok": True, "shape": list(values.shape), "dtype": str(values.dtype), "columns": columns, "kind": kind}


def serve(model_dir: str, requests: Any, proto: int, isolation: str) -> int:
    """Answer the auditor's requests (one JSON object per line of ``requests``) for one model."""
    scorer = _Scorer(model_dir)
    for line in requests:
        try:
            request = json.loads(line)
        except ValueError:
            _reply(proto, {"ok": False, "error": "malformed request"})
            continue
        op = request.get("op")
        try:
            if op == "load":
                reply = scorer.load()
                reply["isolation"] = isolation
            elif op == "predict":
                reply = scorer.predict(request)
            elif op == "exit":
                return 0
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except BaseException as exc:  # noqa: BLE001 - whatever the model raises is reported, not raised
            if isinstance(exc, KeyboardInterrupt):
                raise
            reply = _error(exc)
        _reply(proto, reply)
    return 0


def main(argv: list[str]) -> int:
    """A worker spawned on its own: ``worker_entry MODEL_DIR`` (the fallback when no zygote runs)."""
    proto = os.dup(1)
    os.dup2(2, 1)  # the model's prints go to the log, never into the protocol
    isolation = enter_network_sandbox()
    return serve(argv[0], sys.stdin, proto, isolation)


#: What every worker needs before it loads a model; the zygote imports it once for all of them.
_PRELOAD = ("yaml", "numpy", "pandas", "pyarrow.parquet", "mlflow.pyfunc", "mlflow.sklearn")


class _Zygote:
    """Imports the libraries once, then forks one worker per model on the auditor's request.

    Started clean (``python -P -m ... --zygote FD``) with a worker's environment; it enters the
    network sandbox before importing anything (one thread), so every fork inherits it, and it is
    not dumpable, so a model in one fork cannot ptrace it to tamper with the next fork. It never
    loads a model itself. Requests come over the socket ``FD`` (a socketpair with the auditor):
    ``{"op": "fork", "model_dir": ..., "home": ...}`` with three file descriptors attached (the
    worker's request pipe, reply pipe and log), answered with ``{"pid": ...}``; and
    ``{"op": "wait", "pid": ..., "timeout": ...}``, answered with the worker's exit code.
    """

    def __init__(self, sock_fd: int) -> None:
        import socket

        self.sock = socket.socket(fileno=sock_fd)
        die_with_parent()
        self.isolation = enter_network_sandbox()
        set_dumpable(False)
        self.codes: dict[int, int] = {}
        self.children: set[int] = set()
        for name in _PRELOAD:
            try:
                __import__(name)
            except ImportError:  # a worker reports what it misses when it needs it
                pass
        sys.stdout.flush()
        sys.stderr.flush()

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.codes[pid] = os.waitstatus_to_exitcode(status)

    def _send(self, message: dict[str, Any]) -> None:
        self.sock.send(json.dumps(message).encode("utf-8"))

    def _fork(self, request: dict[str, Any], fds: list[int]) -> None:
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            self._send({"ok": False, "error": "a fork request needs three file descriptors"})
            return
        requests_fd, proto, log = fds
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                self.sock.close()
                os.setsid()  # its own process group: a timeout kills what it spawned too
                die_with_parent()
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.close(log)
                home = str(request["home"])
                os.chdir(home)
                os.environ["HOME"] = os.environ["TMPDIR"] = home
                import tempfile

                tempfile.tempdir = None
                with os.fdopen(requests_fd, "r", encoding="utf-8") as requests:
                    code = serve(str(request["model_dir"]), requests, proto, self.isolation)
            except BaseException:  # noqa: BLE001 - a worker never returns into the zygote's loop
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.children.add(pid)
        self._send({"ok": True, "pid": pid})

    def _wait(self, request: dict[str, Any]) -> None:
        pid = int(request.get("pid") or 0)
        deadline = time.monotonic() + float(request.get("timeout") or 5.0)
        self._reap()
        while pid in self.children and time.monotonic() < deadline:
            time.sleep(0.02)
            self._reap()
        self._send({"ok": True, "code": self.codes.pop(pid, None)})

    def run(self) -> int:
        import socket

        while True:  # one request per message (SOCK_SEQPACKET)
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 8)
            except OSError:
                break
            if not data:
                break
            self._reap()
            try:
                request = json.loads(data)
                if not isinstance(request, dict):
                    raise ValueError("a request is a JSON object")
                op = request.get("op")
                if op == "fork":
                    fds, forked = [], fds
                    self._fork(request, forked)
                elif op == "wait":
                    self._wait(request)
                else:
                    self._send({"ok": False, "error": f"unknown op {op!r}"})
            except (ValueError, KeyError, TypeError, OSError) as exc:
                self._send({"ok": False, "error": _error(exc)["error"]})
            for fd in fds:
                os.close(fd)
        # The auditor is gone: so are its workers.
        import signal

        for pid in list(self.children):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        sys.exit(_Zygote(int(sys.argv[2])).run())
    sys.exit(main(sys.argv[1:]))
