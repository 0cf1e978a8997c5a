"""Running chunks on local worker processes with the command's own process working too.

With ``--jobs N`` on the default (``loky``) back end, :func:`run_shared` starts ``N - 1`` loky
worker processes and runs chunks in the calling process as well, so ``N`` processes compute
(experiments: :mod:`sim.experiment_exec`; sweeps: :mod:`sim.sweep`).
The caller's process is already warm: it starts on the first chunk at once, while a fresh
worker spends ~1 s importing numpy, pandas, Mesa and the model before its first chunk
(measured: ``python -X importtime -c "import sim.replicate"``, docs/performance.md). With
joblib's ``Parallel`` every one of the ``N`` processes paid that start, and the caller sat idle;
on 2 cores a 400-replication ``baseline`` run from a fresh process took 5.69 s against 5.17 s
with the caller working (medians of 5; same chunks, same results; docs/performance.md).

Scheduling: each worker holds one chunk at a time; a finished chunk's callback (in loky's
manager thread) hands that worker the next one at once, and the caller takes the next one
whenever it is free, all from the front of the list, so with no chunk queued behind a running
one they finish within one call of each other (the last calls of an experiment are small
pieces of chunks for that reason: :func:`sim.experiment_exec.split_tail`). Chunks are
deterministic (their seeds depend only on design, replication and root seed), so which process
runs a chunk never changes its results: ``runs.parquet`` is byte-identical to a sequential run
(tests/test_backends.py).

A chunk a worker has finished is handed on when this process next looks, i.e. between its own
chunks. When SIGINT or SIGTERM stops the run (:class:`sim.checkpoint.Interrupted`, raised here
while this process computes or waits), the chunks the workers have already finished are still
handed on, so the caller saves them, before the stop goes on: only chunks in progress are lost,
and ``--resume`` runs them again. (A signal that lands while the caller itself is writing a
result closes this generator instead; then a finished chunk not yet handed on is run again.)

Stopping: an exception in the caller (SIGINT or SIGTERM raise
:class:`sim.checkpoint.Interrupted` in the main thread, whether it is computing a chunk or
waiting for the pool), a chunk that raises, or closing the generator early, all end in
``shutdown(kill_workers=True)``: queued chunks are dropped and the workers are killed, as
joblib does when it aborts. Worker processes are started with SIGINT ignored
(:mod:`sim.worker_start`).

Library: loky's process pool (the one joblib itself uses, vendored in joblib as
``joblib.externals.loky``), so no new dependency; kept for the session's next run as joblib
keeps its own.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib.externals.loky.process_executor import ProcessPoolExecutor

from sim.worker_start import sigint_ignored_by_new_workers

__all__ = ["IDLE_WORKER_TIMEOUT_S", "processes_for", "run_shared", "shutdown_pools"]

IDLE_WORKER_TIMEOUT_S = 300
"""Seconds an idle worker stays alive for the next run of the session (joblib's default)."""


def processes_for(jobs: int, chunks: int) -> int:
    """Processes a run of ``chunks`` chunks uses for ``--jobs`` ``jobs`` (-1 = all cores): never
    more than there are chunks; 1 means run them in this process."""
    return min(jobs if jobs > 0 else (os.cpu_count() or 1), chunks)


def run_shared(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    processes: int,
    own: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """Run ``fn(*call)`` for every call on ``processes`` processes (this one and
    ``processes - 1`` loky workers); yield each result as it finishes (in no fixed order).

    Args:
        fn: a module-level (picklable) function, e.g. :func:`sim.replicate.run_chunk_unit`.
        calls: positional arguments, one tuple per chunk.
        processes: processes that compute, >= 2 (this one included).
        own, worker: keyword arguments added to the calls run here / on a worker (e.g.
            ``worker=True`` for :func:`~sim.replicate.run_chunk_unit`).

    Raises:
        ValueError: ``processes`` < 2.
        Whatever a chunk raises, loky's ``TerminatedWorkerError`` if a worker dies, and
        :class:`sim.checkpoint.Interrupted` on SIGINT/SIGTERM; the workers are killed first.
    """
    from sim.replicate import caller_objects_frozen  # here: importing this module stays light

    if processes < 2:
        raise ValueError(f"run_shared needs at least 2 processes, got {processes}")
    workers = processes - 1
    feed = _Feed(_pool(workers), fn, calls, worker or {})
    finished = False
    try:
        with sigint_ignored_by_new_workers():  # the first submits start the workers
            feed.start(workers)
            if feed.todo and not feed.running:  # the kept pool broke while idle (worker killed)
                _POOLS.pop(workers, None)
                feed.pool = _pool(workers)
                feed.start(workers)
        with caller_objects_frozen():
            try:
                while True:
                    done, waiting = feed.collect()
                    for future in done:
                        yield future.result()
                    call = feed.take_next()
                    if call is not None:  # this process's share: the next chunk nobody took
                        yield fn(*call, **(own or {}))
                    elif waiting:
                        cf.wait(waiting, return_when=cf.FIRST_COMPLETED)
                    elif not done:
                        break
            except KeyboardInterrupt:  # sim.checkpoint.Interrupted (SIGINT, SIGTERM) too
                yield from feed.finished_results()  # finished work is kept, then we stop
                raise
        finished = True
    finally:
        feed.stop()
        if not finished:  # interrupted, a chunk raised, or the caller stopped early
            _POOLS.pop(workers, None)
            feed.pool.shutdown(wait=True, kill_workers=True)


class _Feed:
    """The chunks not yet taken and the pool's running futures, shared by this process's loop
    and the callbacks loky runs in its manager thread (one lock guards both)."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        fn: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        kwargs: dict[str, Any],
    ) -> None:
        self.pool, self.fn, self.kwargs = pool, fn, kwargs
        self.todo = deque(calls)
        self.running: set[cf.Future] = set()
        self.stopping = False
        self.lock = threading.RLock()

    def start(self, workers: int) -> None:
        """One chunk for each worker; each finished chunk then brings the next."""
        for _ in range(workers):
            self.submit_next()

    def submit_next(self, _done: cf.Future | None = None) -> None:
        """Give the pool the chunk at the front of the list (also each finished chunk's
        callback, run in loky's manager thread, so a worker never waits for this process)."""
        with self.lock:
            if self.stopping or not self.todo:
                return
            call = self.todo.popleft()
            try:
                future = self.pool.submit(self.fn, *call, **self.kwargs)
            except RuntimeError:  # a broken or shut-down pool: the failed chunk's error says why
                self.todo.appendleft(call)
                return
            self.running.add(future)
        future.add_done_callback(self.submit_next)

    def collect(self) -> tuple[set[cf.Future], set[cf.Future]]:
        """The pool's finished futures (removed) and those still running."""
        with self.lock:
            done = {f for f in self.running if f.done()}
            self.running.difference_update(done)
            return done, set(self.running)

    def finished_results(self) -> Iterator[Any]:
        """After a stop: the results of chunks the workers have already finished (no more
        chunks are handed out). Chunks that raised are skipped: the run is stopping anyway."""
        self.stop()
        done, _ = self.collect()
        for future in done:
            if not future.cancelled() and future.exception() is None:
                yield future.result()

    def take_next(self) -> tuple[Any, ...] | None:
        """The next chunk of the list (removed), or None when every chunk is taken."""
        with self.lock:
            return self.todo.popleft() if self.todo else None

    def stop(self) -> None:
        """No more submissions, from here or from the callbacks."""
        with self.lock:
            self.stopping = True


_POOLS: dict[int, ProcessPoolExecutor] = {}
"""This process's pools by worker count, kept for the session's next run (their idle workers
exit after :data:`IDLE_WORKER_TIMEOUT_S` and are started again when needed)."""


def _pool(workers: int) -> ProcessPoolExecutor:
    """A loky pool of ``workers`` processes, reused between runs of this session.

    Not loky's global reusable executor: joblib's ``Parallel`` (calibration's bootstrap) swaps
    that one for its own kind, which a plain pool cannot stand in for.
    """
    if workers not in _POOLS:
        _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, timeout=IDLE_WORKER_TIMEOUT_S)
    return _POOLS[workers]


def shutdown_pools() -> None:
    """Stop the workers this process keeps between runs, and their threads (waits; idle
    workers exit at once). For a notebook or script that wants its cores and memory back
    before the idle timeout, and for code that must run with no background threads."""
    for workers in list(_POOLS):
        _POOLS.pop(workers).shutdown(wait=True)
