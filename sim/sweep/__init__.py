"""Designs over parameter spaces: sweep files, samplers, and a chunked, streaming runner.

A sweep file (TOML, e.g. ``scenarios/sweeps/budget_x_soft.toml``) names a base scenario,
the parameters to vary and a design::

    name = "budget_x_soft"
    base = "baseline"                 # scenario file (relative to this file) or library name
    set = ["sites.n_sites=10"]        # optional fixed overrides
    design = "grid"                   # grid | lhs | sobol | morris
    samples = 64                      # lhs: points; sobol: N (N*(d+2) points); morris: trajectories
    replications = 4                  # runs per point
    seed = 1
    outcomes = ["gap_auc"]            # optional: metric columns to keep (default: all)
    series = true                     # optional: also keep every run's monthly series

    [parameters."programme.budget_per_site_month"]
    levels = [500, 1500, 4500]        # grid
    [parameters."programme.tactics.soft"]
    range = [0.0, 1.0]                # lhs / sobol / morris (grid: with `steps`)
    [parameters.dummy]
    range = [0.0, 1.0]
    dummy = true                      # a column the model never reads (index exactly 0)

Every key, the outputs and resuming are described in ``docs/sweeps.md``. With
``[uncertainties."<key>"]`` ranges and ``scenarios = N`` the parameters are levers, and every
lever point (a policy) runs in the same N states of the world (:mod:`sim.sweep.uncertainty`;
robustness: :mod:`sim.sweep.robustness`).

The seam of SALib is kept: the samplers of :mod:`sim.sweep.samplers` return plain ``(n_points,
n_params)`` arrays and the analysers of :mod:`sim.sweep.sensitivity` take arrays, so any design can
feed any analysis. Parsing the file lives in :mod:`sim.sweep.spec`.

Replication ``r`` of every point uses the seed of replication ``r`` (common random numbers
across points), so a point's mean is a deterministic function of its parameters and the
parameter a model never reads has exactly no effect. Results stream to
``runs/part-NNNNNNN.parquet`` one part at a time (run metrics and the point's parameter values),
so memory stays flat however many runs. A part holds up to :data:`RUNS_PER_CHUNK` runs: several
points, or, for a point with more replications than that, a slice of its replications
(``runs/part-NNNNNNN-rNNNNNNNN.parquet``). With ``series = true`` in the sweep file the monthly
series of the same runs go to ``series/`` parts of the same names, each written just before
its runs part (:mod:`sim.sweep.points` runs the points). An interrupted sweep (SIGINT, SIGTERM,
a failed write) keeps its finished parts and resumes by skipping them.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError
from tqdm.auto import tqdm

from sim.backends import DISTRIBUTED_BACKENDS
from sim.checkpoint import Interrupted, stop_signals
from sim.results import RunError, check_writable, remove_outputs, write_parquet
from sim.shared_pool import processes_for, run_shared
from sim.sweep.folder import (
    finish_folder,
    note_series,
    part_path,
    prepare_folder,
    refuse_foreign,
    series_part,
)
from sim.sweep.points import metric_names, run_point, run_sweep_chunk
from sim.sweep.read import (
    IncompleteSweepWarning,
    point_command,
    point_scenario,
    read_sweep,
    read_sweep_series,
)
from sim.sweep.spec import (
    DESIGNS,
    Parameter,
    SweepError,
    SweepSpec,
    base_data,
    load_sweep,
    make_design,
)
from sim.worker_start import sigint_ignored_by_new_workers

__all__ = [
    "DESIGNS",
    "IncompleteSweepWarning",
    "Parameter",
    "SweepError",
    "SweepInterrupted",
    "SweepSpec",
    "load_sweep",
    "make_design",
    "metric_names",
    "point_command",
    "point_scenario",
    "read_sweep",
    "read_sweep_series",
    "run_point",
    "run_sweep",
    "run_sweep_chunk",
]

RUNS_PER_CHUNK = 200  # a part holds at most this many runs (points x replications) ...
MIN_CHUNKS = 16  # ... and parts are no larger than 1/16 of the points, so processes share the load

Unit = tuple[int, int]
"""One part of a sweep: (first point, first replication)."""


# --------------------------------------------------------------------------- running


def default_chunk_points(n_points: int, replications: int) -> int:
    """Points per part: the smaller of ``RUNS_PER_CHUNK // replications`` and
    ``n_points / MIN_CHUNKS`` (rounded up), and at least 1. So a sweep is split into at most
    :data:`MIN_CHUNKS` parts of about equal size (processes share the load), more when a part
    would hold over :data:`RUNS_PER_CHUNK` runs; one point per part at the least. Depends only
    on the sweep, so resume finds the same parts."""
    by_runs = max(1, RUNS_PER_CHUNK // replications)
    return max(1, min(by_runs, -(-n_points // MIN_CHUNKS)))


def default_chunk_reps(replications: int) -> int:
    """Replications per part: all of a point's, unless they exceed :data:`RUNS_PER_CHUNK`;
    then a point is saved in parts of that many runs, so an interruption loses little."""
    return min(replications, RUNS_PER_CHUNK)


def _units(n_points: int, reps: int, chunking: tuple[int, int]) -> list[Unit]:
    points, per = chunking
    return [(s, r) for s in range(0, n_points, points) for r in range(0, reps, per)]


def _unit_runs(unit: Unit, n_points: int, reps: int, chunking: tuple[int, int]) -> int:
    (s, r), (points, per) = unit, chunking
    return min(points, n_points - s) * min(per, reps - r)


def _unit_path(out_dir: Path, unit: Unit, reps: int, chunking: tuple[int, int]) -> Path:
    return part_path(out_dir, unit[0], None if chunking[1] >= reps else unit[1])


def run_sweep(
    spec: SweepSpec,
    out_dir: Path,
    jobs: int = 1,
    chunk_points: int | None = None,
    progress: bool = True,
    backend: str = "loky",
    command: dict[str, Any] | None = None,
) -> Path:
    """Run every point of the sweep, streaming results to ``out_dir/runs/part-*.parquet``.

    Writes ``design.parquet`` (the sample: ``point`` and one column per parameter) and
    ``manifest.json`` first; a folder holding the same sweep (same fingerprint) resumes by
    skipping finished parts, a different one is refused. A part holds ``chunk_points`` points
    with all their replications, or, when a point has more than :data:`RUNS_PER_CHUNK`
    replications, that many replications of one point. SIGINT and SIGTERM stop the sweep
    cleanly: finished parts stay, and running it again finishes it.

    It takes no folder lock itself: ``ccsim sweep`` and ``ccsim sensitivity`` call it inside
    :func:`sim.sweep.folder.locked_folder` (the lock of ``ccsim run``), which keeps a second
    writer out; do the same where other processes may write to ``out_dir``.

    Args:
        spec: the sweep.
        out_dir: results folder (created; the user's own files in it are left alone).
        jobs: processes that compute (on loky: this one and ``jobs - 1`` workers; >= 1, -1 =
            all cores).
        chunk_points: points per part (default: :func:`default_chunk_points`).
        progress: tqdm progress bar of runs.
        backend: joblib back end.
        command: the command line that ran the sweep (``command``, ``file``, ``method``,
            ``samples``, ``outcomes``), kept in the manifest as ``cli`` for ``ccsim rerun``.

    Returns:
        ``out_dir``.

    Raises:
        SweepError: ``out_dir`` holds results of a different sweep, or a ``ccsim run`` result.
        OutputError: ``out_dir`` cannot be created or written to.
        RunError: a part could not be written, or a worker died (finished parts are kept).
        Interrupted: SIGINT or SIGTERM (finished parts are kept).
    """
    out_dir = Path(out_dir)
    design = make_design(spec)
    chunking = _ready_folder(spec, design, out_dir, chunk_points, command)
    data = base_data(spec)
    todo, saved, total = _todo(out_dir, len(design), spec.replications, chunking)
    if saved:  # a rerun of the same sweep in its folder: say what is reused
        _note_saved(out_dir, saved, total)
    if spec.series and saved < total:
        note_series(total - saved, len(todo), data)
    _write_parts(
        spec, data, design, todo, chunking, out_dir, (saved, total), jobs, backend, progress
    )
    finish_folder(out_dir, command)
    return out_dir


def _note_saved(out_dir: Path, saved: int, total: int) -> None:
    """Say on stderr that runs of this sweep are already in ``out_dir`` and are kept."""
    if saved < total:
        what = (
            f"{saved} of {total} runs are already in {out_dir}: running the other {total - saved}"
        )
    else:
        what = f"all {total} runs are already in {out_dir}: reporting them without running"
    print(f"note: {what} (--overwrite runs them all again)", file=sys.stderr)


def _ready_folder(
    spec: SweepSpec,
    design: np.ndarray,
    out_dir: Path,
    chunk_points: int | None,
    command: dict[str, Any] | None,
) -> tuple[int, int]:
    """Check ``out_dir`` and write the sweep's design and manifest; the chunking to use."""
    n_points, reps = len(design), spec.replications
    chunking = (
        chunk_points or default_chunk_points(n_points, reps),
        default_chunk_reps(reps),
    )
    refuse_foreign(out_dir)
    check_writable(out_dir)
    return prepare_folder(spec, design, out_dir, chunking, command, chunk_points is not None)


def _todo(
    out_dir: Path, n_points: int, reps: int, chunking: tuple[int, int]
) -> tuple[list[Unit], int, int]:
    """The parts not yet saved, the runs saved and the runs in all (stale exports removed)."""
    units = _units(n_points, reps, chunking)
    todo = [u for u in units if not _unit_path(out_dir, u, reps, chunking).exists()]
    total = n_points * reps
    saved = total - sum(_unit_runs(u, n_points, reps, chunking) for u in todo)
    if todo:  # a CSV export of the parts saved so far would no longer describe the sweep
        remove_outputs(out_dir, ())
    return todo, saved, total


def _write_parts(
    spec: SweepSpec,
    data: dict[str, Any],
    design: np.ndarray,
    todo: list[Unit],
    chunking: tuple[int, int],
    out_dir: Path,
    counts: tuple[int, int],
    jobs: int,
    backend: str,
    progress: bool,
) -> None:
    """Run the parts in ``todo`` and write each as it arrives; ``counts``: runs saved, total."""
    saved, total = counts
    reps = spec.replications
    bar = tqdm(
        total=total, initial=saved, unit="run", disable=not progress, desc=f"sweep {spec.name}"
    )
    args = (spec.columns, reps, spec.seed, spec.outcomes, spec.series)
    try:
        with (
            stop_signals(),
            closing(_execute(data, design, todo, chunking, args, jobs, backend)) as results,
        ):
            for unit, frame, series in results:
                path = _unit_path(out_dir, unit, reps, chunking)
                # the series first: a runs part on disk means its series are there too
                for table, dest in ((series, series_part(path)), (frame, path)):
                    if table is not None:
                        _write(table, dest, f"{saved} of {total} runs are saved in {out_dir}")
                saved += len(frame)
                bar.update(len(frame))
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        raise interrupted(signum, saved, total, out_dir) from None
    except TerminatedWorkerError as exc:
        raise RunError(
            f"a worker process died (killed, or out of memory?); {saved} of {total} runs are "
            f"saved in {out_dir}; run the same command again to finish"
        ) from exc
    finally:
        bar.close()


def _write(frame: pd.DataFrame, path: Path, saved: str) -> None:
    """Write one part; a failed write is one :class:`RunError` line saying what is saved."""
    try:
        write_parquet(frame, path)
    except OSError as exc:
        raise RunError(
            f"cannot write {path} ({exc.strerror or exc}); {saved}; free some space (or fix the "
            "folder) and run the same command again"
        ) from exc


class SweepInterrupted(Interrupted):
    """A sweep stopped by SIGINT or SIGTERM; the message says how many runs are saved where."""


def interrupted(signum: int, saved: int, total: int, out_dir: Path) -> SweepInterrupted:
    """The one-line :class:`SweepInterrupted` of a stopped sweep (exit code 128 + signum)."""
    return SweepInterrupted(
        signum,
        f"interrupted by {signal.Signals(signum).name}; {saved} of {total} runs are saved in "
        f"{out_dir}; run the same command again to finish",
    )


def _execute(
    data: dict[str, Any],
    design: np.ndarray,
    todo: list[Unit],
    chunking: tuple[int, int],
    args: tuple[Any, ...],
    jobs: int,
    backend: str,
) -> Iterator[tuple[Unit, pd.DataFrame, pd.DataFrame | None]]:
    params, reps = args[0], args[1]
    step, per = chunking
    calls = [(data, params, design[s : s + step], s, r, min(per, reps - r), args) for s, r in todo]
    processes = processes_for(jobs, len(calls))
    if backend in DISTRIBUTED_BACKENDS:  # joblib runs n_jobs=1 here, whatever the back end
        processes = max(processes, 2)
    if processes <= 1:  # --jobs 1, one part, or --jobs -1 on a one-core machine
        for call in calls:
            yield _run_unit(*call)
        return
    if backend == "loky":  # local processes: this one works too while the workers start
        yield from run_shared(_run_unit, calls, processes)
        return
    parallel = Parallel(n_jobs=processes, backend=backend, return_as="generator_unordered")
    with warnings.catch_warnings():  # stopping early cancels queued parts on purpose
        warnings.filterwarnings("ignore", "tasks which were still being processed")
        with sigint_ignored_by_new_workers():  # the call dispatches parts, starts workers
            results = parallel(delayed(_run_unit)(*call) for call in calls)
        yield from results


def _run_unit(
    data: dict[str, Any],
    params: Sequence[Parameter],
    design: np.ndarray,
    first_point: int,
    first_rep: int,
    n_reps: int,
    args: tuple[Any, ...],
) -> tuple[Unit, pd.DataFrame, pd.DataFrame | None]:
    """One part: its runs and, when the sweep keeps them, its monthly series (else ``None``)."""
    _, _, seed, outcomes, series = args
    _, runs, kept = run_sweep_chunk(data, params, design, first_point, n_reps, seed, outcomes,
                                    first_rep, series)  # fmt: skip
    return (first_point, first_rep), runs, kept
