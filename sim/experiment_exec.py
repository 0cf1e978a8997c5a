"""Executing an experiment's chunks: in the caller's process or on a joblib back end.

:func:`iterate` runs the chunks of a :class:`~sim.experiment_plan.Plan` (one
:func:`sim.replicate.run_chunk_unit` call each), yielding every finished chunk as it arrives,
with a tqdm progress bar and the plan's ``on_chunk`` calls. With ``jobs=1`` (or one chunk) the
chunks run in order in this process with the caller's objects frozen for the garbage collector;
on the default ``loky`` back end this process and ``jobs - 1`` loky workers share them
(:mod:`sim.shared_pool`); on the others joblib runs them (``threading``, dask, ray...),
unordered, its worker processes started with SIGINT ignored (:mod:`sim.worker_start`). Used
by :mod:`sim.experiment` and :mod:`sim.diskrun`; re-exported by :mod:`sim.experiment`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import closing
from typing import Any

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim.backends import DISTRIBUTED_BACKENDS
from sim.experiment_plan import Plan
from sim.replicate import caller_objects_frozen, chunk_tables, run_chunk_unit, run_part
from sim.shared_pool import processes_for, run_shared
from sim.worker_start import sigint_ignored_by_new_workers

__all__ = ["IN_PROCESS_BACKENDS", "PIECE_REPS", "iterate", "split_tail"]

Unit = tuple[int, int, int]

IN_PROCESS_BACKENDS = ("threading", "sequential")
"""joblib back ends that run chunks in the caller's process (no worker processes)."""

PIECE_REPS = 5
"""Replications per piece of the chunks :func:`split_tail` cuts (a fifth of a chunk)."""


def split_tail(
    todo: list[Unit], processes: int, piece: int = PIECE_REPS
) -> list[tuple[Unit, Unit | None]]:
    """The calls that run ``todo`` on ``processes`` local processes, in the order they are taken.

    The first chunks run whole; the last ``processes`` chunks are cut into pieces of ``piece``
    replications, so that the processes, which each take the next call as they finish, end
    within one piece of each other instead of one chunk (with ``baseline``'s 25-replication
    chunks, ~80 ms instead of up to ~0.4 s of a core idle at the end; docs/performance.md).
    Only the work is cut: a cut chunk is still written as one part, with one marker.

    Returns:
        One ``(chunk, piece)`` per call: ``piece`` is ``None`` for a whole chunk, or the
        ``(design_index, first, stop)`` replications of ``chunk`` that the call runs.
    """
    cut = max(len(todo) - processes, 0)
    calls: list[tuple[Unit, Unit | None]] = [(unit, None) for unit in todo[:cut]]
    for d, lo, hi in todo[cut:]:
        calls += [((d, lo, hi), (d, p, min(p + piece, hi))) for p in range(lo, hi, piece)]
    return calls


def _execute(
    plan: Plan, todo: list[tuple[int, int, int]]
) -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
    args = [
        (plan.designs[d].scenario, plan.designs[d].name, d, lo, hi, plan.root_seed, plan.crn)
        for d, lo, hi in todo
    ]
    n_jobs = processes_for(plan.jobs, len(todo))
    if plan.backend in DISTRIBUTED_BACKENDS:  # joblib runs n_jobs=1 here, whatever the back end
        n_jobs = max(n_jobs, 2)
    if n_jobs <= 1:  # --jobs 1, one chunk, or --jobs -1 on a one-core machine
        with caller_objects_frozen():
            for a in args:
                yield run_chunk_unit(*a, on_error=plan.on_error)
        return
    if plan.backend == "loky":  # local processes: this one works too while the workers start
        yield from _shared(plan, todo, args, n_jobs)
        return
    parallel = Parallel(n_jobs=n_jobs, backend=plan.backend, return_as="generator_unordered")
    worker = plan.backend not in IN_PROCESS_BACKENDS  # own worker processes: freeze their gc
    with sigint_ignored_by_new_workers():  # the call dispatches the first chunks, starts workers
        results = parallel(
            delayed(run_chunk_unit)(*a, on_error=plan.on_error, worker=worker) for a in args
        )
    yield from results


def _shared(
    plan: Plan, todo: list[Unit], args: list[tuple[Any, ...]], processes: int
) -> Iterator[tuple[Unit, dict[str, Any]]]:
    """The loky path: whole chunks and the tail's pieces (:func:`split_tail`) on this process
    and ``processes - 1`` workers (:func:`sim.shared_pool.run_shared`); a cut chunk is yielded
    once all its pieces are in, as the same tables the whole chunk gives
    (:func:`sim.replicate.chunk_tables`)."""
    args_of = dict(zip(todo, args, strict=True))
    calls, owner, left = [], {}, {}
    for unit, piece in split_tail(todo, processes):
        a = args_of[unit]
        if piece is None:
            calls.append((False, *a))
            continue
        calls.append((True, *a[:3], piece[1], piece[2], *a[5:]))
        owner[piece] = unit
        left[unit] = left.get(unit, 0) + 1
    own = {"on_error": plan.on_error}
    pieces: dict[Unit, dict[int, dict[str, Any]]] = {}
    for key, result in run_shared(run_part, calls, processes, own, {**own, "worker": True}):
        if key not in owner:  # a whole chunk
            yield key, result
            continue
        unit = owner[key]
        pieces.setdefault(unit, {})[key[1]] = result
        left[unit] -= 1
        if left[unit] == 0:
            got = pieces.pop(unit)
            yield unit, chunk_tables([got[lo] for lo in sorted(got)])


def iterate(
    plan: Plan, todo: list[tuple[int, int, int]], initial: int = 0
) -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
    """Run ``todo``, yielding each finished chunk, with a progress bar and ``on_chunk`` calls.

    Closing the generator (or an exception in the caller's loop) stops the workers.
    """
    n = len(plan.designs)
    bar = tqdm(
        total=n * plan.reps,
        initial=initial,
        unit="rep",
        disable=not plan.progress,
        desc=f"{n} design(s) x {plan.reps} reps",
    )
    try:
        with warnings.catch_warnings(), closing(_execute(plan, todo)) as results:
            # stopping early cancels queued chunks on purpose; joblib need not warn about it
            warnings.filterwarnings("ignore", "tasks which were still being processed")
            for unit, tables in results:
                yield unit, tables
                bar.update(unit[2] - unit[1])
                if plan.on_chunk is not None:
                    plan.on_chunk(unit[2] - unit[1])
    finally:
        bar.close()
