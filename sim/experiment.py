"""Monte Carlo runner: replications x designs, in parallel, streamed to disk in chunks.

Each replication is seeded from ``SeedSequence(root, spawn_key=(design_key, replication))`` with
named per-mechanism streams (:mod:`sim.rng`), so its numbers do not depend on ``jobs``, on how
many replications run, on chunking or on the back end. Under common random numbers (default)
all designs share ``design_key = 0``.

Work is cut into fixed chunks of :data:`CHUNK_SIZE` replications of one design. Each finished
chunk is written at once (``runs/``, ``series/``, ``sites/`` parts; atomic renames), so an
interrupted run keeps what it finished; the consolidated ``runs.parquet`` and ``sites.parquet``
are written at the end.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim.metrics import run_metrics, site_classes
from sim.model import CommunityModel
from sim.results import read_series, versions, write_json, write_parquet
from sim.rng import seed_label
from sim.scenario import Scenario
from sim.series import SERIES_COLUMNS

CHUNK_SIZE = 25


@dataclass
class Design:
    """A named scenario taking part in an experiment."""

    name: str
    scenario: Scenario


@dataclass
class ExperimentResult:
    """What an experiment produced (also on disk when ``out_dir`` was given)."""

    runs: pd.DataFrame
    series: pd.DataFrame
    sites: pd.DataFrame
    site_series: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None


def phase_labels(scn: Scenario) -> np.ndarray:
    """Phase of each month: ``baseline``, ``programme`` or ``followup`` (shape ``(horizon,)``)."""
    t = scn.time
    return np.array(
        ["baseline"] * t.baseline_months
        + ["programme"] * t.programme_months
        + ["followup"] * t.followup_months
    )


def simulate(
    scenario: Scenario,
    replication: int = 0,
    root_seed: int = 0,
    design_key: int = 0,
    record_sites: bool = False,
) -> CommunityModel:
    """Run one replication to the horizon and return the finished model."""
    model = CommunityModel(
        scenario=scenario,
        replication=replication,
        root_seed=root_seed,
        design_key=design_key,
        record_sites=record_sites,
    )
    return model.run()


def site_finals(model: CommunityModel) -> dict[str, np.ndarray]:
    """Per-site final state of one run (columns of ``sites.parquet``), shape ``(n_sites,)``."""
    s, rec = model.sites, model.recorder
    cls = site_classes(model)
    return {
        "site": np.arange(model.n_sites),
        "arm": np.where(s.arm == 1, "programme", "control"),
        "size": s.size,
        "peripheral": s.peripheral,
        "readiness": s.readiness,
        "leadership": s.leadership,
        "fit": s.fit,
        "join_month": s.join_month,
        "dropped": s.dropped,
        "adherence_start": s.adherence_start,
        "adherence_programme_end": rec.site_adherence_programme_end,
        "adherence_final": model.site_adherence,
        "reported_final": s.reported_adherence,
        "gap_closed": cls["gap_closed"],
        "site_class": np.where(s.arm == 1, cls["class"], "control"),
        "conflict_final": s.conflict,
        "belonging_final": s.belonging,
        "routinisation_final": s.routinisation,
        "base_event_rate": s.base_event_rate,
        "events_total": rec.site_events,
        "expected_events_total": rec.site_expected,
    }


def run_chunk(
    scenario: Scenario,
    design: str,
    design_index: int,
    replications: Sequence[int],
    root_seed: int,
    crn: bool = True,
) -> dict[str, pd.DataFrame]:
    """Run some replications of one design; return small tables, never model objects.

    Returns:
        ``{"runs", "series", "sites", "site_series"}`` DataFrames; ``site_series`` is non-empty
        only for the chunk that holds replication 0.
    """
    key = 0 if crn else design_index
    phases = phase_labels(scenario)
    months = np.arange(scenario.time.horizon)
    runs, series, sites, site_series = [], [], [], []
    for rep in replications:
        model = simulate(scenario, rep, root_seed, key, record_sites=(rep == 0))
        ident = {"design": design, "design_index": design_index, "replication": rep}
        runs.append({**ident, "seed": seed_label(root_seed, rep, key), **run_metrics(model)})
        frame = pd.DataFrame(model.recorder.data, columns=list(SERIES_COLUMNS))
        frame.insert(0, "phase", phases)
        frame.insert(0, "month_in_programme", months - model.programme_start)
        frame.insert(0, "month", months)
        for k, v in reversed(ident.items()):
            frame.insert(0, k, v)
        series.append(frame)
        site_df = pd.DataFrame(site_finals(model))
        for k, v in reversed(ident.items()):
            site_df.insert(0, k, v)
        sites.append(site_df)
        if model.recorder.site_series is not None:
            traj = model.recorder.site_series
            ss = pd.DataFrame(
                {
                    "design": design,
                    "replication": rep,
                    "month": np.repeat(months, model.n_sites),
                    "site": np.tile(np.arange(model.n_sites), months.size),
                    "adherence": traj.ravel(),
                    "peripheral": np.tile(model.sites.peripheral, months.size),
                    "arm": np.tile(
                        np.where(model.sites.arm == 1, "programme", "control"), months.size
                    ),
                }
            )
            site_series.append(ss)
    return {
        "runs": pd.DataFrame(runs),
        "series": pd.concat(series, ignore_index=True),
        "sites": pd.concat(sites, ignore_index=True),
        "site_series": (
            pd.concat(site_series, ignore_index=True) if site_series else pd.DataFrame()
        ),
    }


def chunks(n_designs: int, reps: int, size: int = CHUNK_SIZE) -> list[tuple[int, int, int]]:
    """Work units ``(design_index, first_rep, stop_rep)``: fixed boundaries, so resume works."""
    return [(d, lo, min(lo + size, reps)) for d in range(n_designs) for lo in range(0, reps, size)]


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


def _execute(
    designs: Sequence[Design],
    todo: list[tuple[int, int, int]],
    root_seed: int,
    jobs: int,
    crn: bool,
    backend: str,
) -> Iterator[tuple[tuple[int, int, int], dict[str, pd.DataFrame]]]:
    if jobs == 1 or len(todo) <= 1:
        for d, lo, hi in todo:
            yield run_chunk_unit(designs[d].scenario, designs[d].name, d, lo, hi, root_seed, crn)
        return
    parallel = Parallel(n_jobs=jobs, backend=backend, return_as="generator_unordered")
    yield from parallel(
        delayed(run_chunk_unit)(designs[d].scenario, designs[d].name, d, lo, hi, root_seed, crn)
        for d, lo, hi in todo
    )


def run_chunk_unit(
    scenario: Scenario, design: str, d: int, lo: int, hi: int, root_seed: int, crn: bool
) -> tuple[tuple[int, int, int], dict[str, pd.DataFrame]]:
    """Picklable wrapper for the parallel back ends: one chunk, tagged with its unit."""
    return (d, lo, hi), run_chunk(scenario, design, d, range(lo, hi), root_seed, crn)


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
) -> ExperimentResult:
    """Run ``reps`` replications of every design and (optionally) write the results folder.

    Args:
        designs: the designs; names must be unique.
        reps: replications per design (>= 1).
        root_seed: root of every seed (>= 0).
        jobs: worker processes (>= 1; -1 = all cores).
        out_dir: results folder; ``None`` keeps everything in memory only.
        crn: common random numbers across designs (paired); False = independent streams.
        progress: show a tqdm progress bar (replications done / total).
        backend: joblib back end (``loky`` by default; ``sequential``, ``threading``...).
        command: the command line, for the manifest.
        on_chunk: called with the number of replications after each finished chunk.

    Returns:
        The experiment's tables and manifest, sorted by design index and replication.

    Raises:
        ValueError: on no designs, duplicate names, ``reps < 1`` or ``jobs == 0``.
    """
    if not designs:
        raise ValueError("no designs to run")
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise ValueError(f"design names must be unique, got {names}")
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if jobs == 0:
        raise ValueError("jobs must be >= 1 (or -1 for all cores), got 0")
    started = time.perf_counter()
    manifest: dict[str, Any] = {
        "tool": "ccsim",
        "command": list(command),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "root_seed": root_seed,
        "replications": reps,
        "crn": crn,
        "jobs": jobs,
        "backend": backend,
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
        "complete": False,
    }
    from sim.results import git_state  # local: git is only asked once per experiment

    manifest["git"] = git_state()
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(manifest, out_dir / "manifest.json")
    todo = chunks(len(designs), reps)
    collected: dict[str, list[pd.DataFrame]] = {
        "runs": [],
        "series": [],
        "sites": [],
        "site_series": [],
    }
    bar = tqdm(
        total=len(designs) * reps,
        unit="rep",
        disable=not progress,
        desc=f"{len(designs)} design(s) x {reps} reps",
    )
    try:
        for (d, lo, hi), tables in _execute(designs, todo, root_seed, jobs, crn, backend):
            if out_dir is not None:
                name = part_name(d, lo)
                for kind in ("runs", "series", "sites"):
                    write_parquet(tables[kind], out_dir / kind / name)
            for kind, frame in tables.items():
                if kind != "series" or out_dir is None:
                    collected[kind].append(frame)
            bar.update(hi - lo)
            if on_chunk is not None:
                on_chunk(hi - lo)
    finally:
        bar.close()
    runs = _sorted(collected["runs"], ["design_index", "replication"])
    sites = _sorted(collected["sites"], ["design_index", "replication", "site"])
    site_series = _sorted(collected["site_series"], ["design", "month", "site"])
    series = (
        read_series(out_dir)
        if out_dir is not None
        else _sorted(collected["series"], ["design_index", "replication", "month"])
    )
    manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
    manifest["complete"] = True
    manifest["completed_replications"] = {d.name: reps for d in designs}
    if out_dir is not None:
        write_parquet(runs, out_dir / "runs.parquet")
        write_parquet(sites, out_dir / "sites.parquet")
        if not site_series.empty:
            write_parquet(site_series, out_dir / "site_series.parquet")
        write_json(manifest, out_dir / "manifest.json")
        for kind in ("runs", "sites"):  # consolidated above; the parts were for resume only
            shutil.rmtree(out_dir / kind, ignore_errors=True)
    return ExperimentResult(runs, series, sites, site_series, manifest, out_dir)


def _sorted(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).sort_values(keys, ignore_index=True)
