"""Designs of ``ccsim compare --from-sweep DIR --points 3,12``: points of a sweep folder.

Each design is the scenario one point of the sweep ran (the sweep's base scenario, the sweep
file's ``set`` overrides and the point's parameter values), built by the sweep's own code
(:func:`sim.sweep.read.point_scenario`). A design is named ``point <index>`` (short, so the
tables and figures stay readable); :attr:`SweepDesigns.legend` says what each point is. Under
the sweep's root seed and common random numbers, replication r of each design equals
replication r of that point in the sweep; :func:`sim.compare.from_sweep_check.check_points`
checks this for one replication of each point before anything runs, and the legend says when
it no longer holds (the base scenario has changed since the sweep).

The folder is checked before it is used: a folder that is not a sweep's, a manifest.json or
design.parquet that cannot be read or lacks what the points need (a hand-edited manifest) and
points the sweep lacks are each one line (:class:`ValueError`), never a ``KeyError``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SweepDesigns", "design_name", "parse_points", "sweep_designs"]

HINT = "give the --out folder of ccsim sweep or ccsim sensitivity"
SHOWN = 10
"""Points named in an error about points before the rest are only counted."""


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
    """Lines saying where the designs come from and each point's values, then
    :attr:`cautions`."""
    base: str = ""
    """The sweep's base scenario (the absolute path its manifest records)."""
    overrides: list[str] = field(default_factory=list)
    """The sweep file's ``set`` (``key=value`` each)."""
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each design's point values by dotted key (dummies left out), by design name."""
    cautions: list[str] = field(default_factory=list)
    """What the check against the sweep's runs found (also in :attr:`legend`): lines starting
    ``Caution:`` (points that no longer run as the sweep ran them) or ``Note:`` (points the
    sweep saved no run of); [] when every point runs as the sweep ran it."""

    def run_command(self, design: str, replication: int, root_seed: int) -> str:
        """The ``ccsim run`` command that runs one replication of one point alone, under
        common random numbers (design key 0, the streams of replication ``replication`` of
        every CRN design), with its traceback (``--debug``).

        It reproduces replication ``replication`` of ``design`` in a CRN comparison under
        ``root_seed``, and the CRN re-run of ``--independent``, which ``ccsim rerun`` of the
        comparison's manifest (independent streams) cannot.

        Args:
            design: a design name, ``point <index>``.
            replication: the replication (>= 0).
            root_seed: the comparison's root seed.

        Returns:
            A shell command line (arguments quoted), writing to ``results/repro-point_<index>-
            crn-r<replication>``.

        Raises:
            KeyError: ``design`` is not one of the designs.
        """
        words = ["ccsim", "--debug", "run", self.base]
        for item in self.overrides:
            words += ["--set", item]
        for key, value in self.values[design].items():
            words += ["--set", f"{key}={_value_text(value)}"]
        out = f"results/repro-{design.replace(' ', '_')}-crn-r{replication}"
        words += ["--reps", "1", "--replication", str(replication), "--seed", str(root_seed)]
        return shlex.join([*words, "--jobs", "1", "--out", out, "--overwrite", "--no-figures"])


def design_name(point: int) -> str:
    """The design name of a sweep point: ``point 3``."""
    return f"point {point}"


def _listed(numbers: list[int]) -> str:
    """``1, 2, 3`` for a few numbers; the first :data:`SHOWN` and a count for many."""
    shown = ", ".join(map(str, numbers[:SHOWN]))
    return shown if len(numbers) <= SHOWN else f"{shown}, ... ({len(numbers)} in all)"


def parse_points(text: str) -> list[int]:
    """``--points``: comma-separated whole numbers ``"3,12"`` -> ``[3, 12]``.

    Raises:
        ValueError: text that is not a list of whole numbers >= 0, fewer than two points, or
            a point given more than once (one line each, however long the list).
    """
    words = [w.strip() for w in str(text).split(",")]
    shown = text if len(text) <= 60 else f"{text[:57]}..."
    if not all(w.isascii() and w.isdigit() for w in words):
        raise ValueError(
            f"--points {shown!r}: give the sweep's point indices as whole numbers separated by "
            "commas, e.g. --points 3,12"
        )
    points = [int(w) for w in words]
    if len(points) < 2:
        raise ValueError(f"--points {shown}: give at least two points to compare, e.g. 3,12")
    if repeated := sorted({p for p in points if points.count(p) > 1}):
        raise ValueError(f"--points {shown}: point(s) {_listed(repeated)} given more than once")
    return points


def _first_line(exc: BaseException) -> str:
    """An exception's message, first line only (pyarrow's run over several)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _sweep_manifest(folder: Path) -> dict[str, Any]:
    """The sweep's manifest, after checking ``folder`` is a sweep (or sensitivity) folder.

    Raises:
        ValueError: not a folder, no manifest.json, one that cannot be read or is not a
            sweep's (e.g. a ``ccsim run`` or ``ccsim compare`` result), or no design.parquet.
    """
    from sim.sweep.folder import SWEEP_TOOLS

    if folder.is_file():
        raise ValueError(f"--from-sweep {folder}: is a file, not a folder; {HINT}")
    if not folder.is_dir():
        raise ValueError(f"--from-sweep {folder}: no such folder; {HINT}")
    path = folder / "manifest.json"
    if not path.is_file():
        raise ValueError(f"--from-sweep {folder}: not a sweep folder (no manifest.json); {HINT}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(
            f"--from-sweep {folder}: its manifest.json cannot be read ({_first_line(exc)}); "
            "a sweep folder's manifest is needed to rebuild its points"
        ) from None
    tool = manifest.get("tool") if isinstance(manifest, dict) else None
    if tool not in SWEEP_TOOLS:
        what = (
            f"a {_run_kind(folder, manifest)} result"
            if tool == "ccsim"
            else "no sweep manifest.json"
        )
        raise ValueError(f"--from-sweep {folder}: not a sweep folder (it holds {what}); {HINT}")
    if not (folder / "design.parquet").is_file():
        raise ValueError(f"--from-sweep {folder}: not a sweep folder (no design.parquet); {HINT}")
    return manifest


def _run_kind(folder: Path, manifest: dict[str, Any]) -> str:
    """``ccsim compare`` (a folder with its comparison.parquet), ``ccsim rerun`` or ``ccsim
    run``: what wrote a run's manifest."""
    if (folder / "comparison.parquet").is_file():
        return "ccsim compare"
    return "ccsim rerun" if manifest.get("rerun_of") else "ccsim run"


def _checked_spec(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``spec``, after checking it holds what rebuilding a point needs.

    Raises:
        ValueError: no spec, or a missing or malformed ``name``, ``base``, ``seed``,
            ``overrides`` or ``parameters`` (a hand-edited manifest), one line naming it.
    """
    spec = manifest.get("spec")
    bad = f"--from-sweep {folder}: its manifest.json is not a sweep's as ccsim writes it"
    if not isinstance(spec, dict):
        raise ValueError(f"{bad} (no 'spec')")
    name, seed = spec.get("name"), spec.get("seed")
    if not isinstance(name, str) or not name.strip() or any(c in name for c in "/\\\0"):
        raise ValueError(f"{bad} (spec.name = {name!r}: text without / or \\)")
    if not isinstance(spec.get("base"), str) or not spec["base"]:
        raise ValueError(f"{bad} (spec.base = {spec.get('base')!r}: the base scenario's path)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{bad} (spec.seed = {seed!r}: a whole number >= 0)")
    overrides = spec.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ValueError(f"{bad} (spec.overrides = {overrides!r}: a list of key=value texts)")
    params = spec.get("parameters")
    if not isinstance(params, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in params
    ):
        raise ValueError(f"{bad} (spec.parameters: a list of tables with a 'key')")
    return spec


def _design_points(folder: Path, spec: dict[str, Any]) -> set[int]:
    """The points of ``design.parquet``, after checking it holds every parameter's column.

    Raises:
        ValueError: design.parquet cannot be read, or lacks ``point`` or a parameter's column.
    """
    import pandas as pd

    try:
        design = pd.read_parquet(folder / "design.parquet")
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(
            f"--from-sweep {folder}: its design.parquet cannot be read ({_first_line(exc)})"
        ) from None
    keys = [str(p["key"]) for p in spec["parameters"] if not p.get("dummy")]
    if missing := [k for k in ["point", *keys] if k not in design.columns]:
        raise ValueError(
            f"--from-sweep {folder}: its design.parquet has no column {', '.join(missing)} "
            "(the manifest's parameters and design.parquet do not belong together)"
        )
    return {int(p) for p in design["point"]}


def _whole(value: Any) -> Any:
    """An integer parameter's value as the sweep ran it: ``3``, not the ``3.0`` a row of
    ``design.parquet`` read across float columns gives (the scenario is the same either way)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _value_text(value: Any) -> str:
    """A parameter value as the legend shows it (full precision, as ``--set`` takes it)."""
    return value if isinstance(value, str) else repr(value)


def _policies_and_states(folder: Path, points: list[int]) -> dict[int, tuple[int, int]]:
    """``{point: (policy, state)}`` for a sweep with uncertainties (its design.parquet has
    ``policy`` and ``state``; :mod:`sim.sweep.uncertainty`), else ``{}``."""
    import pandas as pd
    import pyarrow.parquet as pq

    path = folder / "design.parquet"
    if not {"policy", "state"} <= set(pq.read_schema(path).names):
        return {}
    design = pd.read_parquet(path, columns=["point", "policy", "state"])
    design = design[design["point"].isin(points)]
    return {int(r.point): (int(r.policy), int(r.state)) for r in design.itertuples()}


def _header(folder: Path, spec: dict[str, Any]) -> str:
    """The legend's first line: which sweep, its base scenario and ``set``."""
    overrides = spec.get("overrides") or []
    return (
        f"Designs are points of the sweep {spec['name']} ({folder}): its base scenario "
        f"{Path(str(spec['base'])).name}"
        + (f" with set {', '.join(overrides)}" if overrides else "")
        + " and each point's values:"
    )


def sweep_designs(folder: Path, points: list[int], check: bool = True) -> SweepDesigns:
    """The designs of ``points`` of the sweep in ``folder``, with the sweep's seed and a legend.

    Args:
        folder: the results folder of ``ccsim sweep`` or ``ccsim sensitivity``.
        points: point indices (``point`` column of the sweep's runs), unique.
        check: run one replication of each point the sweep saved a run of (the bare model,
            about as long as one replication) and compare it with the sweep's row
            (:func:`sim.compare.from_sweep_check.check_points`); what differs goes into the
            legend and :attr:`SweepDesigns.cautions`.

    Returns:
        The :class:`SweepDesigns` (designs named ``point <index>`` in the order given).

    Raises:
        ValueError: not a sweep folder, an unreadable or hand-broken manifest.json or
            design.parquet, points the sweep does not have, or a point that cannot be rebuilt
            (its base scenario moved, deleted or changed to something invalid): one line each.
    """
    from sim.experiment_plan import Design

    folder = Path(folder)
    spec = _checked_spec(folder, _sweep_manifest(folder))
    known = _design_points(folder, spec)
    if unknown := [p for p in points if p not in known]:
        span = f"{min(known)}..{max(known)}" if known else "none"
        raise ValueError(
            f"--points: the sweep in {folder} has no point(s) {_listed(unknown)} "
            f"(its points are {span})"
        )
    result = SweepDesigns([], int(spec["seed"]), str(spec["name"]), [_header(folder, spec)])
    result.base, result.overrides = str(spec["base"]), list(spec.get("overrides") or [])
    integer = {str(q["key"]) for q in spec["parameters"] if q.get("integer")}
    roles = _policies_and_states(folder, points)
    for p in points:
        scenario, values = _point(folder, p, result.base)
        values = {k: _whole(v) if k in integer else v for k, v in values.items()}
        result.designs.append(Design(design_name(p), scenario))
        result.values[design_name(p)] = values
        shown = ", ".join(f"{k}={_value_text(v)}" for k, v in values.items())
        role = f" (P{roles[p][0]} in state {roles[p][1]})" if p in roles else ""
        result.legend.append(f"{design_name(p)}{role}: {shown}")
    result.legend += _same_designs(result.values)
    if check:
        from sim.compare.from_sweep_check import check_points

        result.cautions = check_points(
            folder, dict(zip(points, result.designs, strict=True)), result
        )
        result.legend += result.cautions
    return result


def _same_designs(values: dict[str, dict[str, Any]]) -> list[str]:
    """A ``Note:`` for each design whose values equal an earlier one's (points that differ
    only in dummies, e.g. of a Sobol sample): the same scenario, so under CRN every difference
    between them is 0."""
    notes, seen = [], {}
    for name, point_values in values.items():
        key = repr(sorted(point_values.items()))
        if key in seen:
            notes.append(
                f"Note: {name} runs the same scenario as {seen[key]} (the points differ only in "
                "dummy parameters, which the model never reads): under common random numbers every "
                "difference between them is 0."
            )
        else:
            seen[key] = name
    return notes


def _point(folder: Path, point: int, base: str) -> tuple[Any, dict[str, Any]]:
    """One point's scenario and values (:func:`sim.sweep.read.point_scenario`).

    Raises:
        ValueError: the point cannot be rebuilt (one line naming the point and base scenario).
    """
    from sim.sweep.read import point_scenario

    try:
        return point_scenario(folder, point)
    except ValueError as exc:  # ScenarioError too (a ValueError)
        reason = _first_line(exc).removeprefix(f"{base}: ")
        raise ValueError(
            f"--from-sweep {folder}: point {point} cannot be rebuilt from the sweep's base "
            f"scenario {base}: {reason} (restore the base scenario as the sweep found it, or "
            "run the sweep again)"
        ) from None
