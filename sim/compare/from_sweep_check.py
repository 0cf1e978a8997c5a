"""Does each point of ``ccsim compare --from-sweep`` still run as the sweep ran it?

The sweep's manifest records its base scenario by path, not its contents. When that file (or
one it extends, or the model's code) has changed since the sweep ran, the point's values on
today's base are another scenario: replication r no longer equals the sweep's row, although
the designs are still called the sweep's points. :func:`check_points` runs one replication of
each point the way the sweep ran it (the bare model under the sweep's seed, design key 0) and
compares its metrics with the sweep's saved row, so the comparison says so instead of
passing off new designs as the sweep's. It costs one replication per point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["check_points", "sweep_rows"]


def sweep_rows(folder: Path, points: list[int]) -> pd.DataFrame:
    """The sweep's saved runs of ``points`` (``runs/part-*.parquet``, docs/sweeps.md), one row
    per run, sorted by point and replication; empty when none is saved.

    Raises:
        OSError, ValueError: a part cannot be read.
    """
    parts = sorted((Path(folder) / "runs").glob("part-*.parquet"))
    where = [("point", "in", [int(p) for p in points])]
    frames = [pd.read_parquet(p, filters=where) for p in parts]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["point", "replication"])
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values(["point", "replication"], ignore_index=True)


def _same(a: Any, b: Any) -> bool:
    """Equal values, missing equal to missing (a censored T50 is NaN in both)."""
    if pd.api.types.is_scalar(a) and pd.api.types.is_scalar(b) and pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


def _first_difference(design: Any, row: pd.Series, seed: int) -> tuple[str, Any, Any] | None:
    """Run the sweep's replication of ``row`` for ``design``'s scenario as the sweep ran it;
    the first metric that differs from ``row`` (name, now, in the sweep) or ``None``."""
    from sim.metrics import run_metrics
    from sim.model import CommunityModel

    model = CommunityModel(
        scenario=design.scenario,
        replication=int(row["replication"]),
        root_seed=seed,
        make_agents=False,
    )
    metrics = run_metrics(model.run())
    for key, value in metrics.items():
        if key in row.index and key not in ("replication", "seed") and not _same(value, row[key]):
            return key, value, row[key]
    return None


def _number(value: Any) -> str:
    """A metric value, short: 6 significant digits for numbers."""
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def check_points(folder: Path, designs: dict[int, Any], sweep: Any) -> list[str]:
    """Check that each point runs as the sweep ran it; the caution lines for the legend.

    Args:
        folder: the sweep's results folder.
        designs: the :class:`sim.experiment_plan.Design` of each point, by point index.
        sweep: the :class:`sim.compare.from_sweep.SweepDesigns` (its ``seed`` and ``base``).

    Returns:
        ``[]`` when every point reproduces its saved run exactly; else a line starting
        ``Caution:`` naming the points that differ (the first differing metric of each, now
        and in the sweep) and why, or saying the runs could not be read, and one starting
        ``Note:`` naming the points the sweep saved no run of (an unfinished sweep).
    """
    try:
        rows = sweep_rows(folder, list(designs))
    except (OSError, ValueError) as exc:  # a broken part: say so, do not stop the comparison
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return [f"Caution: the sweep's runs could not be read ({first}), so these points' runs "
                "are not checked against the sweep's."]  # fmt: skip
    differ, unsaved = [], []
    for point, design in designs.items():
        saved = rows[rows["point"] == point]
        if saved.empty:
            unsaved.append(design.name)
            continue
        row = saved.iloc[0]
        try:
            found = _first_difference(design, row, sweep.seed)
        except Exception:  # the comparison records a raising run as a failure
            continue  # (with its traceback under --debug); the check has nothing to say
        if found:
            key, now, then = found
            differ.append(
                f"{design.name} (replication {int(row['replication'])}: {key} = {_number(now)} "
                f"now, {_number(then)} in the sweep)"
            )
    lines = []
    if differ:
        lines.append(
            f"Caution: these designs do not run as the sweep ran its points: {'; '.join(differ)}. "
            f"The sweep's base scenario {sweep.base} (or a file it extends, or the model's code) "
            "has changed since the sweep ran, so each design is the point's values on the base "
            "scenario as it is now, and its runs are not the sweep's."
        )
    if unsaved:
        lines.append(
            f"Note: the sweep has saved no run of {', '.join(unsaved)} (it is unfinished), so "
            "the runs here are new, not checked against the sweep's."
        )
    return lines
