"""Designs of ``ccsim compare --from-sweep DIR --points 3,12``: points of a sweep folder.

Each design is the scenario one point of the sweep ran (the sweep's base scenario, the sweep
file's ``set`` overrides and the point's parameter values), built by the sweep's own code
(:func:`sim.sweep.read.point_scenario`). A design is named ``point <index>`` (short, so the
tables and figures stay readable); :attr:`SweepDesigns.legend` says what each point is. Under
the sweep's root seed and common random numbers, replication r of each design equals
replication r of that point in the sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SweepDesigns", "design_name", "parse_points", "sweep_designs"]


@dataclass
class SweepDesigns:
    """Points of a sweep as designs to compare."""

    designs: list[Any]
    """:class:`sim.experiment_plan.Design` per point, in the order asked."""
    seed: int
    """The sweep's root seed (the default root seed of the comparison)."""
    name: str
    """The sweep's name (from its file)."""
    legend: list[str] = field(default_factory=list)
    """Lines saying where the designs come from and each point's values."""


def design_name(point: int) -> str:
    """The design name of a sweep point: ``point 3``."""
    return f"point {point}"


def parse_points(text: str) -> list[int]:
    """``--points``: comma-separated whole numbers ``"3,12"`` -> ``[3, 12]``.

    Raises:
        ValueError: text that is not a list of whole numbers >= 0, fewer than two points, or
            a point given more than once (one line each).
    """
    words = [w.strip() for w in str(text).split(",")]
    if not all(w.isascii() and w.isdigit() for w in words):
        raise ValueError(
            f"--points {text!r}: give the sweep's point indices as whole numbers separated by "
            "commas, e.g. --points 3,12"
        )
    points = [int(w) for w in words]
    if len(points) < 2:
        raise ValueError(f"--points {text}: give at least two points to compare, e.g. 3,12")
    if repeated := sorted({p for p in points if points.count(p) > 1}):
        raise ValueError(
            f"--points {text}: point(s) {', '.join(map(str, repeated))} given more than once"
        )
    return points


def _sweep_manifest(folder: Path) -> dict[str, Any]:
    """The sweep's manifest, after checking ``folder`` is a sweep (or sensitivity) folder.

    Raises:
        ValueError: not a folder, or no sweep manifest.json and design.parquet in it.
    """
    from sim.sweep.folder import folder_kind

    hint = "give the --out folder of ccsim sweep or ccsim sensitivity"
    if not folder.is_dir():
        raise ValueError(f"--from-sweep {folder}: no such folder; {hint}")
    if folder_kind(folder) != "sweep" or not (folder / "design.parquet").is_file():
        raise ValueError(
            f"--from-sweep {folder}: not a sweep folder (no sweep manifest.json and "
            f"design.parquet); {hint}"
        )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest.get("spec"), dict):
        raise ValueError(f"--from-sweep {folder}: its manifest.json holds no sweep spec; {hint}")
    return manifest


def _value_text(value: Any) -> str:
    """A parameter value as the legend shows it (full precision, as ``--set`` takes it)."""
    return value if isinstance(value, str) else repr(value)


def sweep_designs(folder: Path, points: list[int]) -> SweepDesigns:
    """The designs of ``points`` of the sweep in ``folder``, with the sweep's seed and a legend.

    Args:
        folder: the results folder of ``ccsim sweep`` or ``ccsim sensitivity``.
        points: point indices (``point`` column of the sweep's runs), unique.

    Returns:
        The :class:`SweepDesigns` (designs named ``point <index>`` in the order given).

    Raises:
        ValueError: not a sweep folder, or points the sweep does not have (one line).
        ScenarioError: the sweep's base scenario can no longer be read.
    """
    import pandas as pd

    from sim.experiment_plan import Design
    from sim.sweep.read import point_scenario

    folder = Path(folder)
    manifest = _sweep_manifest(folder)
    spec = manifest["spec"]
    known = set(pd.read_parquet(folder / "design.parquet", columns=["point"])["point"])
    if unknown := [p for p in points if p not in known]:
        raise ValueError(
            f"--points: the sweep in {folder} has no point(s) {', '.join(map(str, unknown))} "
            f"(its points are {min(known)}..{max(known)})"
        )
    legend = [
        f"Designs are points of the sweep {spec['name']} ({folder}): its base scenario "
        f"{Path(str(spec['base'])).name}"
        + (f" with set {', '.join(spec.get('overrides') or [])}" if spec.get("overrides") else "")
        + " and each point's values:"
    ]
    designs = []
    for p in points:
        scenario, values = point_scenario(folder, p)
        designs.append(Design(design_name(p), scenario))
        shown = ", ".join(f"{k}={_value_text(v)}" for k, v in values.items())
        legend.append(f"{design_name(p)}: {shown}")
    return SweepDesigns(designs, int(spec["seed"]), str(spec["name"]), legend)
