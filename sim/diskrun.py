"""The on-disk half of :func:`sim.experiment.run_experiment`: chunks, resume, clean stops.

Order of writes for each finished chunk: its Parquet parts (``runs/``, ``series/``, ``sites/``,
``site_series/``), then its marker in ``chunks/``; each file via a temporary name and a rename.
At the end the parts are streamed into ``runs.parquet``, ``sites.parquet`` and
``site_series.parquet``, the manifest is marked complete, and the parts (except ``series/``) and
markers are removed. A crash at any point leaves either a finished chunk (marker present) or one
that will run again, and never a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from joblib.externals.loky.process_executor import TerminatedWorkerError

from sim import checkpoint as ckpt
from sim.checkpoint import Interrupted
from sim.consolidate import finish_tables, read_series
from sim.experiment import ExperimentResult, Plan, completed_counts, iterate, part_name
from sim.results import (
    LOCK_NAME,
    OutputError,
    RunError,
    check_free_space,
    check_not_locked,
    check_out_usable,
    check_writable,
    clean_temp_files,
    folder_lock,
    remove_outputs,
    write_json,
    write_parquet,
)

Unit = tuple[int, int, int]


class _WriteError(Exception):
    """Internal: a write into the results folder failed with ``OSError`` ``cause``."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(f"{path}: {cause.strerror or cause}")
        self.cause = cause


def run_to_disk(
    plan: Plan, out: Path, resume: bool, overwrite: bool, memory_reps: int
) -> ExperimentResult:
    """Run ``plan`` into ``out`` (see :func:`sim.experiment.run_experiment` for the contract)."""
    check_writable(out)
    with folder_lock(out):
        try:
            return _locked_run(plan, out, resume, overwrite, memory_reps)
        finally:  # the lock is the open file; its name is only clutter once the run ends
            (out / LOCK_NAME).unlink(missing_ok=True)


def check_plan(plan: Plan, out: Path, resume: bool, overwrite: bool) -> None:
    """Everything :func:`run_to_disk` checks before work starts, changing nothing (no folder
    created, no lock taken); see :func:`sim.experiment.check_out_dir`.

    Raises:
        OutputError: ``out`` cannot take ``plan``.
    """
    check_out_usable(out)
    check_not_locked(out)  # a folder being written is refused as such, not as unfinished
    previous = ckpt.check_folder(out, plan.manifest, resume, overwrite)
    if previous is not None and previous.get("complete"):
        return  # nothing left to run
    names = [part_name(d, lo) for d, lo, _ in plan.todo]
    done = ckpt.finished_units(out, plan.todo, names) if resume else {}
    check_free_space(out, _estimate(plan, [u for u in plan.todo if u not in done]))


def _locked_run(
    plan: Plan, out: Path, resume: bool, overwrite: bool, memory_reps: int
) -> ExperimentResult:
    """:func:`run_to_disk` while holding the folder lock."""
    previous = ckpt.check_folder(out, plan.manifest, resume, overwrite)
    if previous is not None and previous.get("complete"):
        return _load(out, plan, previous, memory_reps)
    clean_temp_files(out)
    names = [part_name(d, lo) for d, lo, _ in plan.todo]
    done = ckpt.finished_units(out, plan.todo, names) if resume else {}
    remaining = [u for u in plan.todo if u not in done]
    check_free_space(out, _estimate(plan, remaining))  # before clearing: a refusal loses nothing
    if previous is None:
        ckpt.clear_folder(out)
    else:  # the run keeps its birth record: when it started, from which commit
        remove_outputs(out, ())  # a CSV export of the unfinished run would describe old data
        plan.manifest["created"] = previous.get("created")
        plan.manifest["git"] = previous.get("git", plan.manifest.get("git"))
        now = datetime.now(UTC).isoformat(timespec="seconds")
        plan.manifest["resumed"] = [*previous.get("resumed", []), now]
    try:
        write_json(plan.manifest, out / "manifest.json")
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from exc
    with ckpt.stop_signals():
        return _run_units(plan, out, done, remaining, memory_reps)


def _run_units(
    plan: Plan, out: Path, done: dict[Unit, dict[str, Any]], remaining: list[Unit], keep: int
) -> ExperimentResult:
    total = len(plan.designs) * plan.reps
    try:
        for unit, tables in iterate(plan, remaining, initial=_reps(done)):
            done[unit] = _write_chunk(out, plan, unit, tables)
        return _finish(out, plan, done, keep)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        _stop(out, plan, done, "interrupted")
        raise Interrupted(
            signum,
            f"interrupted by {signal.Signals(signum).name}; {_reps(done)} of {total} "
            f"replications are saved in {out}; add --resume to the same command to finish",
        ) from None
    except TerminatedWorkerError as exc:
        _stop(out, plan, done, "worker_died")
        raise RunError(
            f"a worker process died (killed, or out of memory?); {_reps(done)} of {total} "
            f"replications are saved in {out}; add --resume to the same command to finish"
        ) from exc
    except _WriteError as exc:
        _stop(out, plan, done, "write_failed")
        raise RunError(
            f"cannot write {exc}; {_reps(done)} of {total} replications are saved in {out}; "
            "free some space (or fix the folder) and add --resume to the same command"
        ) from exc.cause
    except Exception:
        _stop(out, plan, done, "error")
        raise


def _reps(done: dict[Unit, dict[str, Any]]) -> int:
    return sum(hi - lo for _, lo, hi in done)


def _estimate(plan: Plan, remaining: list[Unit]) -> float:
    reps = [sum(hi - lo for d, lo, hi in remaining if d == i) for i in range(len(plan.designs))]
    scns = [d.scenario for d in plan.designs]
    horizons = [s.time.horizon for s in scns]
    sites = [s.sites.n_sites + s.control.n_sites for s in scns]
    return ckpt.estimate_bytes(horizons, sites, reps)


def _write_chunk(out: Path, plan: Plan, unit: Unit, tables: dict[str, Any]) -> dict[str, Any]:
    """Write one chunk's parts, then its marker; return the marker."""
    d, lo, hi = unit
    name = part_name(d, lo)
    written = []
    path = out / "runs" / name
    try:
        for kind in ("runs", "series", "sites", "site_series"):
            path = out / kind / name
            if tables[kind].empty:
                path.unlink(missing_ok=True)  # from an earlier attempt at this chunk
                continue
            write_parquet(tables[kind], path)
            written.append(kind)
        marker = {
            "design": plan.designs[d].name,
            "design_index": d,
            "first": lo,
            "stop": hi,
            "ok": len(tables["runs"]),
            "parts": written,
            "failed": tables["failures"],
        }
        path = ckpt.marker_path(out, name)
        write_json(marker, path)
    except OSError as exc:
        raise _WriteError(path, exc) from exc
    return marker


def _stop(out: Path, plan: Plan, done: dict[Unit, dict[str, Any]], status: str) -> None:
    """Record in the manifest that the run stopped early (best effort: the disk may be full)."""
    if plan.manifest.get("complete"):  # stopped while tidying up after completing: nothing lost
        return
    # a signal can land after a chunk's marker is written but before it is counted: count what
    # is on disk, so the manifest agrees with the markers that --resume will trust
    names = [part_name(d, lo) for d, lo, _ in plan.todo]
    with contextlib.suppress(OSError):
        done.update(ckpt.finished_units(out, plan.todo, names))
        clean_temp_files(out)  # a write cut short by the signal leaves no temporary file
    plan.manifest.update(
        status=status,
        complete=False,
        wall_time_s=round(time.perf_counter() - plan.started, 3),
        completed_replications=_counts(plan, done),
        failed_replications=_failures(plan, done),
    )
    with contextlib.suppress(OSError):  # if it fails, the manifest on disk says complete = false
        write_json(plan.manifest, out / "manifest.json")


def _counts(plan: Plan, done: dict[Unit, dict[str, Any]]) -> dict[str, int]:
    counts = {d.name: 0 for d in plan.designs}
    for (d, _, _), marker in done.items():
        counts[plan.designs[d].name] += int(marker.get("ok", 0))
    return counts


def _failures(plan: Plan, done: dict[Unit, dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for unit in plan.todo if unit in done for f in done[unit].get("failed", [])]


def _finish(out: Path, plan: Plan, done: dict[Unit, dict[str, Any]], keep: int) -> ExperimentResult:
    """Consolidate the parts, mark the manifest complete, remove the parts; return the result."""
    names = [part_name(d, lo) for d, lo, _ in plan.todo]
    try:
        tables = finish_tables(out, names, [lo for _, lo, _ in plan.todo], plan.first + keep)
        plan.manifest.update(
            status="complete",
            complete=True,
            wall_time_s=round(time.perf_counter() - plan.started, 3),
            completed_replications=completed_counts(plan, tables["runs"]),
            failed_replications=_failures(plan, done),
        )
        write_json(plan.manifest, out / "manifest.json")
    except OSError as exc:
        raise _WriteError(out, exc) from exc
    for kind in ("runs", "sites", "site_series", "chunks"):  # consolidated: only for resume
        shutil.rmtree(out / kind, ignore_errors=True)
    return ExperimentResult(
        tables["runs"], tables["series"], tables["sites"], tables["site_series"], plan.manifest, out
    )


def _read(path: Path, max_replication: int | None = None) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    if max_replication is None:
        return pd.read_parquet(path)
    return pq.read_table(path, filters=[("replication", "<", max_replication)]).to_pandas()


def _load(out: Path, plan: Plan, manifest: dict[str, Any], keep: int) -> ExperimentResult:
    """The result of a run that is already complete, read back from ``out``."""
    limit = plan.first + keep
    return ExperimentResult(
        _read(out / "runs.parquet"),
        read_series(out, max_replication=limit),
        _read(out / "sites.parquet", limit),
        _read(out / "site_series.parquet"),
        manifest,
        out,
    )
