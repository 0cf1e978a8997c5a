"""Monte Carlo runner: replications x designs, in parallel, streamed to disk in chunks.

Each replication is seeded from ``SeedSequence(root, spawn_key=(design_key, replication))`` with
named per-mechanism streams (:mod:`sim.rng`), so its numbers do not depend on ``jobs``, on how
many replications run, on chunking or on the back end. Under common random numbers (default)
all designs share ``design_key = 0``.

Work is cut into fixed chunks of :data:`CHUNK_SIZE` replications of one design. Each finished
chunk is written at once (``runs/``, ``series/``, ``sites/`` parts, then a ``chunks/`` marker;
atomic renames), so an interrupted run keeps what it finished; the consolidated ``runs.parquet``
and ``sites.parquet`` are written at the end, streamed from the parts (:mod:`sim.diskrun`).

Interruptions and failures (details in :mod:`sim.checkpoint`): SIGINT and SIGTERM mark the
manifest incomplete and raise :class:`~sim.checkpoint.Interrupted`; ``resume=True`` skips finished
chunks, so the final tables equal those of an uninterrupted run; a replication that raises is
recorded in the manifest (design, replication, seeds, error) and the run goes on.

With ``out_dir`` memory stays flat however many replications run: the returned ``series`` and
``sites`` hold only the first :data:`MEMORY_REPS` replications of each design (all are on disk).

This module holds the entry points (:func:`run_experiment`, :func:`check_out_dir`), the result
(:class:`ExperimentResult`) and the in-memory runner. The designs, chunk layout, plan and
manifest are in :mod:`sim.experiment_plan`, the execution of chunks (joblib, progress bar) in
:mod:`sim.experiment_exec`; their names are re-exported here, as are the replication functions
of :mod:`sim.replicate` and :mod:`sim.checkpoint` that callers import from this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.backends import DISTRIBUTED_BACKENDS
from sim.checkpoint import Interrupted, describe_failure
from sim.experiment_exec import IN_PROCESS_BACKENDS, iterate
from sim.experiment_plan import (
    CHUNK_SIZE,
    Design,
    Plan,
    chunks,
    machine,
    new_manifest,
    part_name,
)
from sim.replicate import FAULT_ENV, phase_labels, run_chunk, simulate, site_finals

__all__ = [
    "CHUNK_SIZE",
    "FAULT_ENV",
    "IN_PROCESS_BACKENDS",
    "MEMORY_REPS",
    "Design",
    "ExperimentResult",
    "Interrupted",
    "Plan",
    "check_out_dir",
    "chunks",
    "completed_counts",
    "describe_failure",
    "iterate",
    "machine",
    "new_manifest",
    "part_name",
    "phase_labels",
    "run_chunk",
    "run_experiment",
    "simulate",
    "site_finals",
]

MEMORY_REPS = 1000
"""With an ``out_dir``, replications per design whose series and sites are returned in memory."""
MAX_REPS = 10_000_000
ON_ERROR = ("record", "raise")


@dataclass
class ExperimentResult:
    """What an experiment produced (also on disk when ``out_dir`` was given).

    With ``out_dir``, ``series`` and ``sites`` hold the first :data:`MEMORY_REPS` replications of
    each design; ``runs`` and ``site_series`` are complete.
    """

    runs: pd.DataFrame
    series: pd.DataFrame
    sites: pd.DataFrame
    site_series: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Replications that raised (see :func:`sim.checkpoint.failure_record`); [] if none."""
        return list(self.manifest.get("failed_replications", []))


def _check_arguments(
    designs: Sequence[Design], reps: int, jobs: int, first: int, on_error: str, backend: str
) -> None:
    if not designs:
        raise ValueError("no designs to run")
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise ValueError(f"design names must be unique, got {names}")
    if not 1 <= reps <= MAX_REPS:
        raise ValueError(f"reps must be in [1, {MAX_REPS}], got {reps}")
    if jobs == 0 or jobs < -1:
        raise ValueError(f"jobs must be >= 1 (or -1 for all cores), got {jobs}")
    if jobs == 1 and backend in DISTRIBUTED_BACKENDS:
        raise ValueError(
            f"jobs=1 with the {backend} back end would run every replication in this process "
            "(joblib runs one job locally): use jobs >= 2, or -1 for the whole cluster"
        )
    if first < 0:
        raise ValueError(f"first_replication must be >= 0, got {first}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")


def run_experiment(
    designs: Sequence[Design],
    reps: int,
    root_seed: int = 0,
    jobs: int = 1,
    out_dir: Path | None = None,
    crn: bool = True,
    progress: bool = True,
    backend: str = "loky",
    command: Sequence[str] = (),
    on_chunk: Callable[[int], None] | None = None,
    *,
    first_replication: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    on_error: str = "record",
    memory_reps: int = MEMORY_REPS,
    extra: dict[str, Any] | None = None,
) -> ExperimentResult:
    """Run ``reps`` replications of every design and (optionally) write the results folder.

    Args:
        designs: the designs; names must be unique.
        reps: replications per design, in [1, 10 000 000].
        root_seed: root of every seed (>= 0).
        jobs: processes that compute (on loky: this one and ``jobs - 1`` workers,
            :mod:`sim.shared_pool`; >= 1, -1 = all cores).
        out_dir: results folder; ``None`` keeps everything in memory only.
        crn: common random numbers across designs (paired); False = independent streams.
        progress: show a tqdm progress bar (replications done / total).
        backend: joblib back end (``loky`` by default; ``sequential``, ``threading``...).
        command: the command line, for the manifest.
        on_chunk: called with the number of replications after each finished chunk.
        first_replication: index of the first replication (>= 0); replications
            ``first_replication .. first_replication + reps - 1`` run, so one replication of a
            big run can be reproduced alone.
        resume: finish the run recorded in ``out_dir``, skipping finished chunks; refused when
            the recorded run differs in experiment, ``reps``, package versions or model code
            (the manifest's ``code`` fingerprint); the manifest keeps the run's ``created`` and
            ``git`` entries.
        overwrite: replace what ``out_dir`` holds (else a different experiment, or an
            unfinished run of this one, is refused); only ccsim's own outputs are deleted
            (:func:`sim.results.remove_outputs`), other files stay.
        on_error: ``"record"`` (a replication that raises is listed in the manifest and the run
            goes on) or ``"raise"`` (stop at the first failure, with its traceback).
        memory_reps: with ``out_dir``, replications per design whose series and sites are
            returned in memory (>= 0).
        extra: more manifest entries (e.g. how the command line named the scenarios).

    Returns:
        The experiment's tables and manifest, sorted by design index and replication;
        ``result.failures`` lists replications that raised.

    Raises:
        ValueError: on no designs, duplicate names, ``reps`` out of range, bad ``jobs`` (also
            ``jobs=1`` with a distributed back end), ``first_replication`` or ``on_error``.
        sim.results.OutputError: ``out_dir`` cannot take this run (checked before any work).
        sim.results.RunError: a write failed or a worker died part-way (the run can resume).
        sim.checkpoint.Interrupted: SIGINT or SIGTERM arrived (the run can resume).
    """
    _check_arguments(designs, reps, jobs, first_replication, on_error, backend)
    settings = {"command": command, "jobs": jobs, "backend": backend, "extra": extra or {}}
    plan = Plan(
        designs=designs,
        reps=reps,
        first=first_replication,
        root_seed=root_seed,
        jobs=jobs,
        crn=crn,
        backend=backend,
        on_error=on_error,
        progress=progress,
        on_chunk=on_chunk,
        manifest=new_manifest(designs, reps, root_seed, crn, first_replication, settings),
        todo=chunks(len(designs), reps, first=first_replication),
    )
    if out_dir is None:
        return _in_memory(plan)
    from sim.diskrun import run_to_disk  # local: sim.diskrun imports this module

    return run_to_disk(plan, Path(out_dir), resume, overwrite, max(memory_reps, 0))


def check_out_dir(
    designs: Sequence[Design],
    reps: int,
    out_dir: Path,
    root_seed: int = 0,
    crn: bool = True,
    *,
    first_replication: int = 0,
    resume: bool = False,
    overwrite: bool = False,
) -> None:
    """Refuse now, changing nothing, what :func:`run_experiment` would refuse about ``out_dir``.

    For commands that start something costly before the run (a dask or ray cluster): call it
    first with the same arguments, so an unusable ``--out`` costs nothing. It checks that
    ``out_dir`` is or can become a writable folder, that it may take this run (a different
    experiment, an unfinished run without ``resume``, nothing to resume, other versions or
    model code on ``resume``: :func:`sim.checkpoint.check_folder`) and the free disk space.
    ``run_experiment`` checks all this again, holding the folder's lock.

    Raises:
        ValueError: on bad arguments, as :func:`run_experiment`.
        sim.results.OutputError: ``out_dir`` cannot take this run.
    """
    _check_arguments(designs, reps, 1, first_replication, "record", "sequential")
    plan = Plan(
        designs=designs,
        reps=reps,
        first=first_replication,
        root_seed=root_seed,
        jobs=1,
        crn=crn,
        backend="loky",
        on_error="record",
        progress=False,
        on_chunk=None,
        manifest=new_manifest(designs, reps, root_seed, crn, first_replication, {}),
        todo=chunks(len(designs), reps, first=first_replication),
    )
    from sim.diskrun import check_plan  # local: sim.diskrun imports this module

    check_plan(plan, Path(out_dir), resume, overwrite)


def _in_memory(plan: Plan) -> ExperimentResult:
    collected: dict[str, list[pd.DataFrame]] = {
        "runs": [],
        "series": [],
        "sites": [],
        "site_series": [],
    }
    failures: list[dict[str, Any]] = []
    for _unit, tables in iterate(plan, plan.todo):
        failures.extend(tables.pop("failures"))
        for kind, frame in tables.items():
            collected[kind].append(frame)
    failures.sort(key=lambda f: (f["design_index"], f["replication"]))
    runs = _sorted(collected["runs"], ["design_index", "replication"])
    plan.manifest.update(
        status="complete",
        complete=True,
        wall_time_s=round(time.perf_counter() - plan.started, 3),
        completed_replications=completed_counts(plan, runs),
        failed_replications=failures,
    )
    return ExperimentResult(
        runs,
        _sorted(collected["series"], ["design_index", "replication", "month"]),
        _sorted(collected["sites"], ["design_index", "replication", "site"]),
        _sorted(collected["site_series"], ["design", "month", "site"]),
        plan.manifest,
        None,
    )


def completed_counts(plan: Plan, runs: pd.DataFrame) -> dict[str, int]:
    """Replications with results, per design name (failed ones are not counted)."""
    counts = runs["design"].value_counts() if "design" in runs else pd.Series(dtype=int)
    return {d.name: int(counts.get(d.name, 0)) for d in plan.designs}


def _sorted(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).sort_values(keys, ignore_index=True)
