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

    [parameters."programme.budget_per_site_month"]
    levels = [500, 1500, 4500]        # grid
    [parameters."programme.tactics.soft"]
    range = [0.0, 1.0]                # lhs / sobol / morris (grid: with `steps`)
    [parameters.dummy]
    range = [0.0, 1.0]
    dummy = true                      # a column the model never reads (noise floor)

The seam of SALib is kept: the samplers of :mod:`sim.sweep.samplers` return plain ``(n_points,
n_params)`` arrays and the analysers of :mod:`sim.sweep.sensitivity` take arrays, so any design can
feed any analysis. Parsing the file lives in :mod:`sim.sweep.spec`.

Replication ``r`` of every point uses the seed of replication ``r`` (common random numbers
across points), so a point's mean is a deterministic function of its parameters and the
parameter a model never reads has exactly no effect. Results stream to
``runs/part-NNNNNNN.parquet`` one chunk of points at a time (run metrics and the point's
parameter values only, never series), so memory stays flat however many runs; an interrupted
sweep resumes by skipping finished parts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim.loader import apply_override, build_scenario
from sim.metrics import run_metrics
from sim.model import CommunityModel
from sim.results import versions, write_json, write_parquet
from sim.sweep.spec import (
    DESIGNS,
    Parameter,
    SweepError,
    SweepSpec,
    base_data,
    load_sweep,
    make_design,
    point_values,
)

__all__ = [
    "DESIGNS",
    "Parameter",
    "SweepError",
    "SweepSpec",
    "load_sweep",
    "make_design",
    "read_sweep",
    "run_sweep",
]

RUNS_PER_CHUNK = 200  # default chunk: about this many runs (points x replications) per part
MIN_CHUNKS = 16  # ... but at least this many parts, so up to ~8 workers stay busy


# --------------------------------------------------------------------------- running


@functools.cache
def metric_names() -> tuple[str, ...]:
    """Names of the columns a sweep run can keep or analyse: the run metrics, the restricted
    times and ``window_months`` (the same for every scenario; read off one tiny run)."""
    from sim.loader import load_scenario

    tiny = ["sites.n_sites=2", "sites.mean_size=4", "time.programme_months=3"]
    tiny += ["time.followup_months=1", "programme.recruitment.window_months=1"]
    data = json.loads(load_scenario(None, tiny).model_dump_json())
    row = run_point(data, [], np.zeros(0), 1, 0)[0]
    return tuple(sorted(k for k in row if k != "replication"))


def run_point(
    data: dict[str, Any],
    params: Sequence[Parameter],
    row: np.ndarray,
    replications: int,
    seed: int,
    outcomes: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Run one design point for ``replications`` replications (CRN: replication r, seed).

    Returns:
        One dict per replication: ``replication``, the point's parameter values, the run
        metrics (or only ``outcomes``), ``window_months`` and restricted times
        ``t50_restricted_months`` / ``t90_restricted_months`` (censored -> window).
    """
    values = point_values(params, row)
    for p in params:
        if not p.dummy:
            data = apply_override(data, p.key, values[p.key])
    scn = build_scenario(data, "sweep point")
    window = scn.time.programme_months + scn.time.followup_months
    rows = []
    for rep in range(replications):
        model = CommunityModel(scenario=scn, replication=rep, root_seed=seed, make_agents=False)
        metrics = run_metrics(model.run())
        for level in ("t50", "t90"):
            t, cens = metrics[f"{level}_months"], metrics[f"{level}_censored"]
            metrics[f"{level}_restricted_months"] = float(window) if cens else float(t)
        metrics["window_months"] = window
        if outcomes is not None:
            if unknown := [k for k in outcomes if k not in metrics]:
                valid = ", ".join(sorted(metrics))
                raise SweepError(f"unknown outcome(s) {unknown} in the sweep file; valid: {valid}")
            metrics = {k: metrics[k] for k in outcomes}
        rows.append({"replication": rep, **values, **metrics})
    return rows


def run_sweep_chunk(
    data: dict[str, Any],
    params: Sequence[Parameter],
    design: np.ndarray,
    first_point: int,
    replications: int,
    seed: int,
    outcomes: Sequence[str] | None = None,
) -> tuple[int, pd.DataFrame]:
    """Run the points ``first_point ...`` of ``design`` (a slice); picklable for joblib."""
    rows = []
    for i, row in enumerate(design):
        for r in run_point(data, params, row, replications, seed, outcomes):
            rows.append({"point": first_point + i, **r})
    return first_point, pd.DataFrame(rows)


def default_chunk_points(n_points: int, replications: int) -> int:
    """Points per part: about :data:`RUNS_PER_CHUNK` runs, but at least :data:`MIN_CHUNKS`
    parts so that workers share the load (depends only on the sweep, so resume works)."""
    by_runs = max(1, RUNS_PER_CHUNK // replications)
    return max(1, min(by_runs, -(-n_points // MIN_CHUNKS)))


def _part(out_dir: Path, first_point: int) -> Path:
    return out_dir / "runs" / f"part-{first_point:07d}.parquet"


def _chunk_starts(n_points: int, chunk_points: int) -> list[int]:
    return list(range(0, n_points, chunk_points))


def run_sweep(
    spec: SweepSpec,
    out_dir: Path,
    jobs: int = 1,
    chunk_points: int | None = None,
    progress: bool = True,
    backend: str = "loky",
) -> Path:
    """Run every point of the sweep, streaming results to ``out_dir/runs/part-*.parquet``.

    Writes ``design.parquet`` (the sample: ``point`` and one column per parameter) and
    ``manifest.json`` first; a folder holding the same sweep (same fingerprint) resumes by
    skipping finished parts, a different one is refused.

    Args:
        spec: the sweep.
        out_dir: results folder.
        jobs: worker processes (>= 1, or -1 for all cores).
        chunk_points: points per part (default: :func:`default_chunk_points`).
        progress: tqdm progress bar of runs.
        backend: joblib back end.

    Returns:
        ``out_dir``.

    Raises:
        SweepError: if ``out_dir`` holds results of a different sweep.
    """
    out_dir = Path(out_dir)
    design = make_design(spec)
    chunk_points = chunk_points or default_chunk_points(len(design), spec.replications)
    _prepare(spec, design, out_dir, chunk_points)
    data = base_data(spec)
    todo = [s for s in _chunk_starts(len(design), chunk_points) if not _part(out_dir, s).exists()]
    total = sum(min(chunk_points, len(design) - s) for s in todo) * spec.replications
    bar = tqdm(total=total, unit="run", disable=not progress, desc=f"sweep {spec.name}")
    args = (spec.parameters, spec.replications, spec.seed, spec.outcomes)
    try:
        for first, frame in _execute(data, design, todo, chunk_points, args, jobs, backend):
            write_parquet(frame, _part(out_dir, first))
            bar.update(len(frame))
    finally:
        bar.close()
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["complete"] = True
    write_json(manifest, out_dir / "manifest.json")
    return out_dir


def _execute(
    data: dict[str, Any],
    design: np.ndarray,
    todo: list[int],
    chunk_points: int,
    args: tuple[Any, ...],
    jobs: int,
    backend: str,
) -> Iterator[tuple[int, pd.DataFrame]]:
    params, reps, seed, outcomes = args
    step = chunk_points
    if jobs == 1 or len(todo) <= 1:
        for s in todo:
            yield run_sweep_chunk(data, params, design[s : s + step], s, reps, seed, outcomes)
        return
    parallel = Parallel(n_jobs=jobs, backend=backend, return_as="generator_unordered")
    yield from parallel(
        delayed(run_sweep_chunk)(data, params, design[s : s + step], s, reps, seed, outcomes)
        for s in todo
    )


def _prepare(spec: SweepSpec, design: np.ndarray, out_dir: Path, chunk_points: int) -> None:
    """Write or check ``manifest.json`` and ``design.parquet``."""
    manifest_path = out_dir / "manifest.json"
    fingerprint = spec.fingerprint()
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fingerprint or old.get("chunk_points") != chunk_points:
            raise SweepError(
                f"{out_dir}: holds results of a different sweep (or chunking); "
                "use another --out or --overwrite"
            )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    # the values that were run: integer keys rounded, text levels as text (not the raw sample)
    frame = pd.DataFrame([point_values(spec.parameters, row) for row in design], columns=spec.names)
    frame.insert(0, "point", np.arange(len(design)))
    write_parquet(frame, out_dir / "design.parquet")
    write_json(
        {
            "tool": "ccsim sweep",
            "spec": asdict(spec),
            "fingerprint": fingerprint,
            "points": len(design),
            "runs": len(design) * spec.replications,
            "chunk_points": chunk_points,
            "versions": versions(),
            "complete": False,
        },
        manifest_path,
    )


def read_sweep(out_dir: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """All finished parts of a sweep as one DataFrame, sorted by point and replication.

    Args:
        out_dir: the sweep's results folder.
        columns: read only these columns (plus ``point`` and ``replication``), to keep memory
            small for large sweeps.
    """
    parts = sorted((Path(out_dir) / "runs").glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    cols = None if columns is None else list(dict.fromkeys(["point", "replication", *columns]))
    frame = pd.concat([pd.read_parquet(p, columns=cols) for p in parts], ignore_index=True)
    return frame.sort_values(["point", "replication"], ignore_index=True)
