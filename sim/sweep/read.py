"""Reading a sweep folder back: :func:`read_sweep` (one row per run) and
:func:`read_sweep_series` (one row per run and month, when the sweep kept series), which say
when the sweep is unfinished.

A sweep stopped by Ctrl-C, SIGTERM or a failed write keeps its finished parts; reading them
gives fewer rows than the design holds, and an analysis of those rows would describe only the
points that happened to finish. :func:`read_sweep` therefore warns
(:class:`IncompleteSweepWarning`) with how many runs and points are missing and the command that
finishes the folder, unless the caller says a partial table is wanted (``allow_incomplete``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep.commandline import resume_command


class IncompleteSweepWarning(UserWarning):
    """:func:`read_sweep` read a folder whose sweep has runs missing (interrupted, unfinished)."""


def read_sweep(
    out_dir: Path, columns: Sequence[str] | None = None, allow_incomplete: bool = False
) -> pd.DataFrame:
    """All finished parts of a sweep as one DataFrame, sorted by point and replication.

    Args:
        out_dir: the sweep's results folder.
        columns: read only these columns (plus ``point`` and ``replication``), to keep memory
            small for large sweeps.
        allow_incomplete: read an unfinished sweep without a warning (the table then lacks
            the runs not yet made).

    Returns:
        One row per run (empty when the folder holds no part).

    Warns:
        IncompleteSweepWarning: the folder's manifest promises more runs than its parts hold
            (for example after Ctrl-C); the message says how many runs and points are missing
            and the command that finishes the sweep (the same command with ``--resume``).
    """
    parts = sorted((Path(out_dir) / "runs").glob("part-*.parquet"))
    frame = pd.DataFrame()
    if parts:
        cols = None if columns is None else list(dict.fromkeys(["point", "replication", *columns]))
        frame = pd.concat([pd.read_parquet(p, columns=cols) for p in parts], ignore_index=True)
        frame = frame.sort_values(["point", "replication"], ignore_index=True)
    if not allow_incomplete and (message := missing_runs(Path(out_dir), frame)):
        warnings.warn(message, IncompleteSweepWarning, stacklevel=2)
    return frame


def read_sweep_series(
    out_dir: Path,
    columns: Sequence[str] | str | None = None,
    points: Sequence[int] | None = None,
    allow_incomplete: bool = False,
) -> pd.DataFrame:
    """The monthly series of a sweep run with ``series = true``, as one DataFrame.

    One row per (point, replication, month), sorted so: ``point``, then the columns of ``ccsim
    run``'s ``series/part-*.parquet`` (docs/outputs.md) without ``design`` and
    ``design_index``. Only the series of saved runs are read (a series part whose runs part
    was never written, because the sweep stopped between the two, is left out), so every
    (point, replication) appears once. The point's parameter values are in
    ``design.parquet`` (join on ``point``).

    Args:
        out_dir: the sweep's results folder.
        columns: read only these columns (plus ``point``, ``replication`` and ``month``); one
            name may be given as a string.
        points: read only these points (default: all).
        allow_incomplete: read an unfinished sweep without a warning.

    Returns:
        The series rows (empty when no part is saved yet).

    Raises:
        ValueError: ``out_dir`` is not a sweep folder, its sweep kept no series (its file has
            no ``series = true``), a column is not a series column, or a point is not in the
            design.

    Warns:
        IncompleteSweepWarning: as :func:`read_sweep`, when runs are missing (reading all
            points; ``points`` reads what is there without checking).
    """
    out_dir = Path(out_dir)
    cols, points = _series_request(out_dir, columns, points)
    parts = sorted((out_dir / "series").glob("part-*.parquet"))
    parts = [p for p in parts if (out_dir / "runs" / p.name).is_file()]
    where = None if points is None else [("point", "in", points)]
    frames = [pd.read_parquet(p, columns=cols, filters=where) for p in parts]
    frame = pd.DataFrame()
    if frames:
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.sort_values(["point", "replication", "month"], ignore_index=True)
    if not allow_incomplete and points is None:
        runs = frame[["point", "replication"]].drop_duplicates() if len(frame) else frame
        if message := missing_runs(out_dir, runs):
            warnings.warn(message, IncompleteSweepWarning, stacklevel=2)
    return frame


def _series_request(
    out_dir: Path, columns: Sequence[str] | str | None, points: Sequence[int] | None
) -> tuple[list[str] | None, list[int] | None]:
    """Check :func:`read_sweep_series`'s arguments against the folder; returns the columns to
    read (``point``, ``replication``, ``month`` first; ``None``: all) and the points as ints.

    Raises:
        ValueError: see :func:`read_sweep_series`.
    """
    from sim.outputs_columns import SERIES_IDS
    from sim.series import SERIES_COLUMNS

    if not out_dir.is_dir():
        raise ValueError(f"{out_dir}: no such folder")
    manifest = _manifest(out_dir)
    spec = manifest.get("spec")
    if manifest.get("tool") not in ("ccsim sweep", "ccsim sensitivity") or not isinstance(
        spec, dict
    ):
        raise ValueError(f"{out_dir}: not a sweep folder (no manifest.json of ccsim sweep)")
    if not spec.get("series"):
        raise ValueError(
            f"{out_dir}: this sweep kept no monthly series; add series = true to the sweep "
            "file and run it into another --out (or --overwrite)"
        )
    cols = None
    if columns is not None:
        wanted = [columns] if isinstance(columns, str) else [str(c) for c in columns]
        names = ["point", *(c.name for c in SERIES_IDS), *SERIES_COLUMNS]
        valid = [c for c in dict.fromkeys(names) if c not in ("design", "design_index")]
        if unknown := [c for c in wanted if c not in valid]:
            raise ValueError(
                f"columns: no series column {', '.join(map(repr, unknown))}; the series "
                f"columns are: {', '.join(valid)}"
            )
        cols = list(dict.fromkeys(["point", "replication", "month", *wanted]))
    if points is None:
        return cols, None
    wanted_points = [int(p) for p in points]
    n = len(pd.read_parquet(out_dir / "design.parquet", columns=["point"]))
    if bad := [p for p in wanted_points if not 0 <= p < n]:
        shown = ", ".join(map(str, bad[:10])) + (
            f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        )
        raise ValueError(f"points: no point {shown} (the design has 0..{n - 1})")
    return cols, wanted_points


def missing_runs(out_dir: Path, frame: pd.DataFrame) -> str:
    """What ``frame`` (the folder's runs) lacks against the folder's manifest, or ``""``.

    Returns:
        e.g. ``"results/s: unfinished sweep: 60 of 160 runs are missing (15 of 40 points lack
        some or all of their 4 replications); finish it with: ccsim sweep s.toml --out
        results/s --resume"``; ``""`` when every run is there or there is no sweep manifest.
    """
    manifest = _manifest(out_dir)
    try:
        points, reps = int(manifest["points"]), int(manifest["spec"]["replications"])
    except (KeyError, TypeError, ValueError):
        return ""  # not a sweep's manifest (or none): nothing to compare with
    total = points * reps
    done = len(frame)
    if done >= total:
        return ""
    full = int((frame.groupby("point").size() >= reps).sum()) if done else 0
    return (
        f"{out_dir}: unfinished sweep: {total - done} of {total} runs are missing "
        f"({points - full} of {points} points lack some or all of their {reps} replications); "
        f"finish it with: {resume_command(out_dir, manifest)}"
    )


def _manifest(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _point_row(out_dir: Path, point: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sweep's recorded spec (manifest ``spec``) and the values point ``point`` ran with
    (``design.parquet``: its levers and uncertainties; dummies left out: the model never reads
    them).

    Raises:
        ValueError: no sweep manifest, or no such point.
    """
    out_dir = Path(out_dir)
    spec = _manifest(out_dir).get("spec")
    if not isinstance(spec, dict):
        raise ValueError(f"{out_dir}: no sweep manifest.json with its spec")
    design = pd.read_parquet(out_dir / "design.parquet")
    row = design[design["point"] == point]
    if row.empty:
        raise ValueError(f"{out_dir}: no point {point} (the design has 0..{len(design) - 1})")
    values = {}  # the levers, then (a sweep with uncertainties) the point's state of the world
    for param in [*spec["parameters"], *(spec.get("uncertainties") or [])]:
        if not param.get("dummy"):
            value = row[param["key"]].iloc[0]  # the column's own dtype (a row would upcast ints)
            values[param["key"]] = value.item() if hasattr(value, "item") else value
    return spec, values


def point_scenario(out_dir: Path, point: int) -> tuple[Any, dict[str, Any]]:
    """The scenario one point of a sweep folder ran, as the sweep built it.

    The sweep's base scenario with the file's ``set`` overrides
    (:func:`sim.sweep.spec.base_data`), then the point's values of ``design.parquet``, as
    :func:`sim.sweep.run_point` applies them. Run under the sweep's root seed, replication r
    of this scenario equals the sweep's row (point, r) (common random numbers).

    Args:
        out_dir: the sweep's (or sensitivity analysis's) results folder.
        point: the design point (``point`` column).

    Returns:
        ``(scenario, values)``: the validated :class:`sim.scenario.Scenario` and the point's
        values by dotted key (dummies left out), in the sweep file's order.

    Raises:
        ValueError: no sweep manifest, or no such point.
        ScenarioError: the base scenario can no longer be read (moved, changed to invalid).
    """
    from sim.sweep.spec import SweepSpec, base_data, point_scenario_from

    spec, values = _point_row(out_dir, point)
    overrides = [str(item) for item in spec.get("overrides") or []]
    data = base_data(SweepSpec(str(spec["name"]), str(spec["base"]), [], overrides=overrides))
    return point_scenario_from(data, values), values


def point_command(out_dir: Path, point: int, replication: int | None = None) -> str:
    """The ``ccsim run`` command that re-creates one point of a sweep folder exactly.

    The command runs the sweep's base scenario with its ``set`` overrides and the point's
    parameter values as ``--set`` (dummies left out: the model never reads them), under the
    sweep's root seed; replication r of that run uses the seeds of replication r of every
    sweep point (common random numbers), so its metrics equal the sweep's row.

    Args:
        out_dir: the sweep's (or sensitivity analysis's) results folder.
        point: the design point (``point`` column).
        replication: one replication alone (``--reps 1 --replication K``); default all of the
            sweep's replications.

    Returns:
        A shell command line (arguments quoted), without ``--out``.

    Raises:
        ValueError: no manifest, or no such point or replication.
    """
    import shlex

    spec, values = _point_row(out_dir, point)
    reps = int(spec["replications"])
    if replication is not None and not 0 <= replication < reps:
        raise ValueError(f"replication {replication}: the sweep ran 0..{reps - 1}")
    args = ["ccsim", "run", str(spec["base"])]
    for item in spec.get("overrides") or []:
        args += ["--set", item]
    for key, value in values.items():
        text = value if isinstance(value, str) else repr(value)
        args += ["--set", f"{key}={text}"]
    args += ["--seed", str(spec["seed"])]
    args += (
        ["--reps", str(reps)]
        if replication is None
        else ["--reps", "1", "--replication", str(replication)]
    )
    return shlex.join(args)
