# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Score a model in a worker process of its own: the auditor never unpickles model code.

``ModelWorker`` downloads nothing and loads nothing itself: ``handle.artifact`` downloads the
model's artifacts into a private directory and scans them (modelscan) first; the worker
(``handle.worker_entry``, spawned, never forked) loads that local copy with a minimal environment
(``isolation.worker_env``: no tracking credentials, no trail or signing keys) and no network. The
evaluation frame goes to the worker as a Parquet file and predictions come back as a ``.npy``
file read with ``allow_pickle=False``. A crash, a hang past the time limit or a wrong-shaped
output is one ``ModelLoadError`` line. A model that patches anything patches only its worker.

One worker per model version and process, kept for the session (``pool``), so the once-per-process
scoring cache of ``AuditContext.scores`` stays cheap.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.errors import ModelLoadError, describe_exception, mask_values
from pytest_release_audit.isolation import set_dumpable, worker_env

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from pytest_release_audit.handle.model import ModelHandle

#: Load plus one prediction may take this long before the worker is killed (policy
#: ``model_artifact.worker_timeout_s`` overrides it per audit).
DEFAULT_TIMEOUT_S = 600.0
_MAX_REPLY = 1 << 20


@dataclass(frozen=True)
class ModelOutput:
    """What a model returned for a frame, as plain numpy (never unpickled)."""

    values: np.ndarray
    columns: tuple[str, ...] | None  # a DataFrame's column names
    method: str  # predict_proba or predict
    kind: str  # the Python type the model returned (ndarray, DataFrame, Series, list)
    #: the estimator's ``classes_`` as text (``classes_[1]`` is what ``predict_proba[:, 1]`` is the
    #: probability of), when the worker found them; None otherwise
    classes: tuple[str, ...] | None = None
    flavor: str = ""


#: Class labels accepted from a worker: this many, this long (the model is untrusted).
_MAX_CLASSES = 1000
_MAX_LABEL = 100


def plain_classes(raw: Any) -> tuple[str, ...] | None:
    """A worker's ``classes`` as label texts (see ``metrics.multiclass.label_key``), or None when
    they are missing, too many, too long, not scalars, or repeat (the model is untrusted)."""
    from pytest_release_audit.metrics.multiclass import label_key

    if not isinstance(raw, list) or not 0 < len(raw) <= _MAX_CLASSES:
        return None
    if not all(isinstance(v, str | int | float | bool) and not (isinstance(v, str) and len(v) > _MAX_LABEL)
               for v in raw):
        return None
    labels = tuple(label_key(v) for v in raw)
    return labels if len(set(labels)) == len(labels) else None


class _Spawned:
    """A worker started with ``subprocess`` (no zygote available)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.stdin = proc.stdin

    def exit_code(self, timeout_s: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()
        self.proc.wait()


class _Forked:
    """A worker forked by the zygote; the zygote is its parent and reports its exit code."""

    def __init__(self, pid: int, stdin: Any, zygote: Zygote) -> None:
        self.pid = pid
        self.stdin = stdin
        self.zygote = zygote

    def exit_code(self, timeout_s: float) -> int | None:
        return self.zygote.wait(self.pid, timeout_s)

    def kill(self) -> None:
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
                break
            except (ProcessLookupError, PermissionError):
                continue
        self.zygote.wait(self.pid, 2.0)


class Zygote:
    """A clean process that imports MLflow and the data libraries once and forks the model workers.

    Spawned (never forked from the auditor) with a worker's environment; it enters the network
    sandbox before it imports anything, so every worker forked from it inherits the sandbox, and
    it loads no model itself (``handle.worker_entry._Zygote``). Forking a worker from it costs
    milliseconds where spawning one costs the imports (seconds). When it cannot be started or has
    died (a model may kill it), workers are spawned one by one as before.
    """

    START_TIMEOUT_S = 180.0

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: Any = None
        self._home: Path | None = None
        self._lock = threading.Lock()
        self._broken = False

    def start(self) -> bool:
        """Start the zygote now (it imports while the audit resolves and downloads); idempotent."""
        with self._lock:
            return self._start_locked()

    def _start_locked(self) -> bool:
        import socket

        if self._broken:
            return False
        if self._proc is not None:
            return True
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._home = Path(tempfile.mkdtemp(prefix="release-audit-zygote-"))
        log = (self._home / "zygote.log").open("wb")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "pytest_release_audit.handle.worker_entry", "--zygote",
                 str(child.fileno())],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self._home,
                env=worker_env(str(self._home)), start_new_session=True, pass_fds=(child.fileno(),),
            )
        except OSError:
            parent.close()
            self._broken = True
            return False
        finally:
            child.close()
            log.close()
        set_dumpable(False)  # the zygote and its workers run as our user: they must not ptrace us
        parent.settimeout(self.START_TIMEOUT_S)
        self._sock = parent
        return True

    def _call(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any] | None:
        import socket

        with self._lock:
            if not self._start_locked():
                return None
            try:
                payload = json.dumps(message).encode("utf-8")
                if fds:
                    socket.send_fds(self._sock, [payload], fds)
                else:
                    self._sock.send(payload)
                data = self._sock.recv(65536)
                reply = json.loads(data) if data else None
            except (OSError, ValueError):
                reply = None
            if not isinstance(reply, dict):
                self._break_locked()
                return None
            return reply

    def fork(self, model_dir: Path, home: Path, requests_fd: int, proto_fd: int, log_fd: int) -> int | None:
        """The pid of a new worker for ``model_dir``, or None when the zygote is unavailable."""
        reply = self._call({"op": "fork", "model_dir": str(model_dir), "home": str(home)},
                           [requests_fd, proto_fd, log_fd])
        if not reply or not reply.get("ok"):
            return None
        return int(reply["pid"])

    def wait(self, pid: int, timeout_s: float) -> int | None:
        reply = self._call({"op": "wait", "pid": pid, "timeout": timeout_s})
        code = reply.get("code") if reply else None
        return int(code) if isinstance(code, int) else None

    def _break_locked(self) -> None:
        self._broken = True
        self._close_locked()

    def _close_locked(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()  # the zygote kills its workers and exits when the socket closes
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
                proc.wait()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def close(self) -> None:
        with self._lock:
            self._close_locked()
            self._broken = False


class ModelWorker:
    """One spawned process that holds one loaded model."""

    def __init__(self, label: str, model_dir: Path, timeout_s: float, zygote: Zygote | None = None) -> None:
        self.label = label
        self.zygote = zygote
        self.model_dir = model_dir
        self.timeout_s = timeout_s
        self.info: dict[str, Any] = {}
        self._home = Path(tempfile.mkdtemp(prefix="release-audit-worker-"))
        self._proc: _Spawned | _Forked | None = None
        self._proto: int | None = None
        self._lock = threading.Lock()
        self._calls = 0
        self.failure: str | None = None  # once a worker failed, it fails the same way without retrying

    # -- process ---------------------------------------------------------------------------------
    def _start(self) -> None:
        set_dumpable(False)  # the worker runs as our user: it must not ptrace the auditor
        if self.zygote is not None and self._fork():
            return
        read_fd, write_fd = os.pipe()
        log = (self._home / "worker.log").open("wb")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "pytest_release_audit.handle.worker_entry", str(self.model_dir)],
                stdin=subprocess.PIPE,
                stdout=write_fd,
                stderr=log,
                cwd=self._home,
                env=worker_env(str(self._home)),
                start_new_session=True,  # its own process group: a timeout kills what it spawned too
                close_fds=True,
            )
        finally:
            os.close(write_fd)
            log.close()
        self._proc = _Spawned(proc)
        self._proto = read_fd

    def _fork(self) -> bool:
        assert self.zygote is not None
        requests_read, requests_write = os.pipe()
        proto_read, proto_write = os.pipe()
        log_fd = os.open(self._home / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            pid = self.zygote.fork(self.model_dir, self._home, requests_read, proto_write, log_fd)
        finally:
            for fd in (requests_read, proto_write, log_fd):
                os.close(fd)
        if pid is None:
            os.close(requests_write)
            os.close(proto_read)
            return False
        self._proc = _Forked(pid, os.fdopen(requests_write, "wb"), self.zygote)
        self._proto = proto_read
        return True

    def _log_tail(self) -> str:
        try:
            text = (self._home / "worker.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return mask_values(lines[-1])[:300] if lines else ""

    def _fail(self, what: str) -> ModelLoadError:
        self.close()
        self.failure = f"model {self.label} {what}"
        return ModelLoadError(self.failure)

    def _request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        if self._proc is None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None and self._proto is not None
        try:
            self._proc.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker died: reading its reply says how
        deadline = time.monotonic() + timeout_s
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self._proto, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise self._fail(
                        f"did not answer within {timeout_s:g} s (load and predict run in a worker with a time "
                        "limit): fix the model, or raise [tool.release_audit.model_artifact] worker_timeout_s"
                    )
                chunk = os.read(self._proto, 65536)
                if not chunk:
                    code = self._proc.exit_code(5.0)
                    tail = self._log_tail()
                    why = ("exit code unknown" if code is None else
                           f"killed by signal {-code}" if code < 0 else f"exit code {code}")
                    raise self._fail(f"worker process ended ({why}){': ' + tail if tail else ''}: "
                                     "the model crashed while loading or scoring")
                buf += chunk
                if len(buf) > _MAX_REPLY:
                    raise self._fail("sent an oversized reply: the worker protocol was broken by the model")
        try:
            reply = json.loads(buf.split(b"\n", 1)[0])
        except ValueError:
            raise self._fail("sent an unreadable reply: the worker protocol was broken by the model") from None
        if not isinstance(reply, dict):
            raise self._fail("sent an unreadable reply: the worker protocol was broken by the model")
        return reply

    # -- API -------------------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        with self._lock:
            if self.info:
                return self.info
            if self.failure:
                raise ModelLoadError(self.failure)
            reply = self._request({"op": "load"}, self.timeout_s)
            if not reply.get("ok"):
                error = mask_values(str(reply.get("error") or "unknown error"))
                raise self._fail(f"cannot be loaded ({error[:300]}): check its artifacts and that its "
                                 "requirements are installed")
            self.info = {k: reply.get(k) for k in ("flavor", "methods", "isolation", "seconds")}
            self.info["classes"] = plain_classes(reply.get("classes"))
            return self.info

    def predict(self, frame: pd.DataFrame, method: str | None = None) -> ModelOutput:
        """The model's raw output for ``frame`` (``predict_proba`` when it has one, else ``predict``)."""
        import numpy as np

        info = self.load()
        methods = list(info.get("methods") or [])
        method = method or ("predict_proba" if "predict_proba" in methods else "predict")
        with self._lock:
            if self.failure:
                raise ModelLoadError(self.failure)
            self._calls += 1
            stem = self._home / f"call-{self._calls}"
            frame.to_parquet(f"{stem}.parquet")
            try:
                reply = self._request(
                    {"op": "predict", "input": f"{stem}.parquet", "output": f"{stem}.npy", "method": method},
                    self.timeout_s,
                )
                if not reply.get("ok"):
                    error = mask_values(str(reply.get("error")))[:300]
                    raise ModelLoadError(f"model {self.label} failed to predict ({error})")
                try:
                    values = np.load(f"{stem}.npy", allow_pickle=False)
                except (OSError, ValueError) as exc:
                    raise ModelLoadError(
                        f"model {self.label} returned output that is not a plain array ({describe_exception(exc)})"
                    ) from None
            finally:
                for suffix in (".parquet", ".npy"):
                    Path(f"{stem}{suffix}").unlink(missing_ok=True)
        columns = reply.get("columns")
        return ModelOutput(
            values=values,
            columns=tuple(str(c) for c in columns) if isinstance(columns, list) else None,
            method=method,
            kind=str(reply.get("kind") or "")[:40],
            classes=info.get("classes"),
            flavor=str(info.get("flavor") or "")[:40],
        )

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            if proc.exit_code(2.0) is None:
                proc.kill()
        if self._proto is not None:
            os.close(self._proto)
            self._proto = None
        shutil.rmtree(self._home, ignore_errors=True)


class WorkerPool:
    """The workers of this process, one per model version; closed at exit."""

    def __init__(self) -> None:
        self._workers: dict[tuple[str, str, str], ModelWorker] = {}
        self._creating: dict[tuple[str, str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.timeout_s = DEFAULT_TIMEOUT_S
        self.zygote = Zygote()

    def warm(self) -> None:
        """Start the zygote early, so its imports overlap the audit's own start."""
        self.zygote.start()

    def get(self, handle: ModelHandle) -> ModelWorker:
        from pytest_release_audit.handle.artifact import safe_model_dir

        key = (handle.tracking_uri, handle.name, str(handle.version))
        with self._lock:
            worker = self._workers.get(key)
            if worker is not None:
                return worker
            key_lock = self._creating.setdefault(key, threading.Lock())
        with key_lock:  # one download and scan per version; other versions go on meanwhile
            with self._lock:
                worker = self._workers.get(key)
            if worker is None:
                model_dir = safe_model_dir(handle)  # downloaded and scanned; raises when unsafe
                worker = ModelWorker(f"{handle.name} v{handle.version}", model_dir, self.timeout_s, self.zygote)
                with self._lock:
                    self._workers[key] = worker
            return worker

    def preload(self, handle: ModelHandle) -> None:
        """Download, scan and load ``handle`` now; a failure is raised again by its first ``predict``."""
        try:
            self.get(handle).load()
        except Exception:  # noqa: BLE001 - reported where the model is used
            return

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.close()
        self.zygote.close()
        set_dumpable(True)


_POOL = WorkerPool()
atexit.register(_POOL.close)


def pool() -> WorkerPool:
    """This process's worker pool."""
    return _POOL
