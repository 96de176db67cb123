# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""presidio on many values across all cores: chunks of values analysed in worker processes.

The serial path and the pool run the same function (``analyze_chunk``) on the same chunks, and
results are put back by position, so findings and their order are identical (checked in
``tests/test_pii_prefilter.py``). Each worker builds its own engine from the policy section the
audit's engine was built from (``spawn``: nothing of the parent's state, threads or locks is
inherited). The pool is worth its start-up (a few seconds to import presidio and load the
pipeline) only for many values: below ``POOL_MIN_VALUES`` the scan stays serial. A pool that
cannot start or loses a worker falls back to the serial path; the answer never depends on it.

``RELEASE_AUDIT_PII_WORKERS`` (set by whoever runs CI) caps the workers; 0 or 1 means serial.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: Values per chunk a worker analyses at once.
CHUNK = 2_000
#: Fewer values than this to analyse: no pool.
POOL_MIN_VALUES = 8_000
WORKERS_ENV = "RELEASE_AUDIT_PII_WORKERS"

Task = tuple[bool, tuple[str, ...], list[str], tuple[str, ...]]  # (use NER, entities, values, context)
Found = list[list[tuple[str, int, int, float, str]]]  # per value: (entity, start, end, score, detector)

_ENGINE: Any = None


def workers() -> int:
    """How many worker processes to use (1: serial)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if raw:
        try:
            return max(1, min(int(raw), cores))
        except ValueError:
            return 1
    return max(1, cores)


def _init(section: Mapping[str, Any] | None) -> None:
    global _ENGINE
    from pytest_release_audit.scanners.pii.engine import build_engine

    _ENGINE = build_engine(section)


def _in_worker(task: Task) -> Found:
    return analyze_chunk(_ENGINE, task)


def analyze_chunk(engine: Any, task: Task) -> Found:
    """presidio's results, above the engine's threshold, for one chunk of values."""
    from presidio_analyzer import BatchAnalyzerEngine

    from pytest_release_audit.scanners.pii.analyze import BATCH_SIZE, hits_of
    from pytest_release_audit.scanners.pii.entities import LANGUAGE

    use_ner, entities, values, context = task
    batch = BatchAnalyzerEngine(analyzer_engine=engine.ner_analyzer if use_ner else engine.analyzer)
    results = batch.analyze_iterator(
        values, language=LANGUAGE, batch_size=BATCH_SIZE, entities=list(entities), context=list(context),
        score_threshold=engine.threshold,
    )
    out: Found = []
    for found in results:
        kept = [r for r in found if r.score >= engine.threshold]
        out.append([(h.entity, h.start, h.end, h.score, h.detector) for h in hits_of(kept, engine)])
    return out


def chunks(use_ner: bool, entities: Sequence[str], values: list[str], context: Sequence[str]) -> list[Task]:
    return [(use_ner, tuple(entities), values[i : i + CHUNK], tuple(context)) for i in range(0, len(values), CHUNK)]


def run(engine: Any, tasks: list[Task], progress: Callable[[int], None] | None = None) -> list[Found]:
    """Each task's results, in order: across worker processes when there are enough values, else here."""
    total = sum(len(t[2]) for t in tasks)
    count = min(workers(), len(tasks))
    if count > 1 and total >= POOL_MIN_VALUES and engine.section is not None:
        pooled = _pooled(engine, tasks, count)
        if pooled is not None:
            return pooled
    return [analyze_chunk(engine, t) for t in tasks]


_POOL: list[Any] = []  # [(key, executor)]: one pool per process, kept for the next column


def _executor(section: Mapping[str, Any], count: int) -> Any:
    import atexit
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    key = (repr(sorted(section.items())), count)
    if _POOL and _POOL[0][0] == key:
        return _POOL[0][1]
    shutdown()
    executor = ProcessPoolExecutor(
        max_workers=count, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=(dict(section),)
    )
    if not _POOL:
        atexit.register(shutdown)
    _POOL.append((key, executor))
    return executor


def shutdown() -> None:
    """Stop the worker processes (at exit, or before a pool for another policy)."""
    while _POOL:
        _POOL.pop()[1].shutdown(wait=True, cancel_futures=True)


def _pooled(engine: Any, tasks: list[Task], count: int) -> list[Found] | None:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return list(_executor(engine.section, count).map(_in_worker, tasks))
    except (BrokenProcessPool, OSError, RuntimeError):
        shutdown()
        return None  # the serial path gives the same answer
