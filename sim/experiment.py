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
"""

from __future__ import annotations

import os
import platform
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim.checkpoint import Interrupted, describe_failure
from sim.replicate import (
    FAULT_ENV,
    caller_objects_frozen,
    phase_labels,
    run_chunk,
    run_chunk_unit,
    simulate,
    site_finals,
)
from sim.results import versions
from sim.scenario import Scenario

__all__ = [
    "CHUNK_SIZE",
    "FAULT_ENV",
    "MEMORY_REPS",
    "Design",
    "ExperimentResult",
    "Interrupted",
    "check_out_dir",
    "chunks",
    "describe_failure",
    "part_name",
    "phase_labels",
    "run_chunk",
    "run_experiment",
    "simulate",
    "site_finals",
]

CHUNK_SIZE = 25
MEMORY_REPS = 1000
"""With an ``out_dir``, replications per design whose series and sites are returned in memory."""
MAX_REPS = 10_000_000
ON_ERROR = ("record", "raise")


@dataclass
class Design:
    """A named scenario taking part in an experiment."""

    name: str
    scenario: Scenario


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


IN_PROCESS_BACKENDS = ("threading", "sequential")
"""joblib back ends that run chunks in the caller's process (no worker processes)."""


def chunks(
    n_designs: int, reps: int, size: int = CHUNK_SIZE, first: int = 0
) -> list[tuple[int, int, int]]:
    """Work units ``(design_index, first_rep, stop_rep)``: fixed boundaries, so resume works.

    Replications ``first .. first + reps - 1`` of each design, cut every ``size`` from ``first``.
    """
    stop = first + reps
    return [
        (d, lo, min(lo + size, stop)) for d in range(n_designs) for lo in range(first, stop, size)
    ]


def part_name(design_index: int, first_rep: int) -> str:
    """File name of one chunk's parts, e.g. ``part-d000-r000025.parquet``."""
    return f"part-d{design_index:03d}-r{first_rep:06d}.parquet"


def machine() -> dict[str, Any]:
    """Cores and CPU model of this machine (for the manifest and benchmarks)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "platform": platform.platform()}


@dataclass
class Plan:
    """One experiment's settings and manifest, shared by the in-memory and on-disk runners."""

    designs: Sequence[Design]
    reps: int
    first: int
    root_seed: int
    jobs: int
    crn: bool
    backend: str
    on_error: str
    progress: bool
    on_chunk: Callable[[int], None] | None
    manifest: dict[str, Any]
    todo: list[tuple[int, int, int]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


def _execute(
    plan: Plan, todo: list[tuple[int, int, int]]
) -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
    args = [
        (plan.designs[d].scenario, plan.designs[d].name, d, lo, hi, plan.root_seed, plan.crn)
        for d, lo, hi in todo
    ]
    if plan.jobs == 1 or len(todo) <= 1:
        with caller_objects_frozen():
            for a in args:
                yield run_chunk_unit(*a, on_error=plan.on_error)
        return
    n_jobs = min(plan.jobs if plan.jobs > 0 else (os.cpu_count() or 1), len(todo))
    parallel = Parallel(n_jobs=n_jobs, backend=plan.backend, return_as="generator_unordered")
    worker = plan.backend not in IN_PROCESS_BACKENDS  # own worker processes: freeze their gc
    yield from parallel(
        delayed(run_chunk_unit)(*a, on_error=plan.on_error, worker=worker) for a in args
    )


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


def new_manifest(
    designs: Sequence[Design],
    reps: int,
    root_seed: int,
    crn: bool,
    first: int,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of a new run: everything needed to re-run it (status ``running``)."""
    from sim.results import code_fingerprint, git_state  # local: asked once per experiment

    return {
        "tool": "ccsim",
        "command": list(settings.get("command", ())),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "root_seed": root_seed,
        "replications": reps,
        "first_replication": first,
        "chunk_size": CHUNK_SIZE,
        "crn": crn,
        "jobs": settings.get("jobs"),
        "backend": settings.get("backend"),
        "designs": [
            {
                "name": d.name,
                "design_index": i,
                "design_key": 0 if crn else i,
                "scenario": d.scenario.model_dump(mode="json"),
            }
            for i, d in enumerate(designs)
        ],
        "versions": versions(),
        "machine": machine(),
        "git": git_state(),
        "code": code_fingerprint(),
        **settings.get("extra", {}),
        "status": "running",
        "complete": False,
    }


def _check_arguments(
    designs: Sequence[Design], reps: int, jobs: int, first: int, on_error: str
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
        jobs: worker processes (>= 1; -1 = all cores).
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
        ValueError: on no designs, duplicate names, ``reps`` out of range, bad ``jobs``,
            ``first_replication`` or ``on_error``.
        sim.results.OutputError: ``out_dir`` cannot take this run (checked before any work).
        sim.results.RunError: a write failed or a worker died part-way (the run can resume).
        sim.checkpoint.Interrupted: SIGINT or SIGTERM arrived (the run can resume).
    """
    _check_arguments(designs, reps, jobs, first_replication, on_error)
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
    _check_arguments(designs, reps, 1, first_replication, "record")
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
