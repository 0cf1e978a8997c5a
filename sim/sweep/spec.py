"""Sweep files: parse and check them, and turn a design array into scenario values.

The file format is described in ``docs/sweeps.md`` (every key, with examples). Every failure
raises :class:`SweepError` (a :class:`sim.loader.ScenarioError`) whose message is one line for
the user.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from sim.loader import (
    ScenarioError,
    apply_override,
    build_scenario,
    parse_override,
    read_with_extends,
    resolve_path,
)
from sim.sweep.file_values import flag, outcome_list, read_file, strings, sweep_name, whole
from sim.sweep.parameters import (
    PARAMETER_KEYS,
    Parameter,
    SweepError,
    did_you_mean,
    grid_steps_distinct,
    parse_parameter,
    unknown_text,
)
from sim.sweep.samplers import grid_design, lhs_design, morris_design, sobol_design
from sim.sweep.uncertainty import (
    check_robust_design,
    cross_states,
    parse_robustness,
    states_design,
)

__all__ = [  # Parameter, its keys and checks live in sim.sweep.parameters
    "DESIGNS",
    "FILE_KEYS",
    "PARAMETER_KEYS",
    "Parameter",
    "SweepError",
    "SweepSpec",
    "base_data",
    "check_extremes",
    "check_grid_size",
    "did_you_mean",
    "load_sweep",
    "make_design",
    "point_scenario_from",
    "point_values",
]

DESIGNS = ("grid", "lhs", "sobol", "morris")
MAX_REPS = 10_000_000  # as sim.experiment.MAX_REPS
MAX_POINTS = 10_000_000  # samples / trajectories
FILE_KEYS = frozenset(
    {"name", "description", "base", "set", "design", "samples", "replications", "seed",
     "outcomes", "parameters", "morris_levels", "series", "uncertainties", "scenarios",
     "thresholds"}
)  # fmt: skip
"""Top-level keys a sweep file may hold (documented in docs/sweeps.md)."""


@dataclass
class SweepSpec:
    """A parsed sweep file (see the module docstring)."""

    name: str
    base: str
    parameters: list[Parameter]
    design: str = "grid"
    samples: int = 64
    replications: int = 4
    seed: int = 0
    overrides: list[str] = field(default_factory=list)
    outcomes: list[str] | None = None
    morris_levels: int = 4
    description: str = ""
    source: str = ""
    series: bool = False
    """Keep the monthly series of every run (``series/part-*.parquet``)."""
    # a plain sweep has no uncertainties: class attributes, not fields, so its record (and the
    # fingerprint a folder resumes by) is what it was before RobustSweepSpec existed
    uncertainties: ClassVar[Sequence[Parameter]] = ()
    scenarios: ClassVar[int | None] = None
    thresholds: ClassVar[Mapping[str, Mapping[str, float]]] = MappingProxyType({})

    @property
    def columns(self) -> list[Parameter]:
        """Every column of the design: the levers (``parameters``), then the uncertainties."""
        return [*self.parameters, *self.uncertainties]

    @property
    def names(self) -> list[str]:
        """Column names of the design array and of the results (levers, then uncertainties)."""
        return [p.key for p in self.columns]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: ``num_vars``, ``names`` and ``bounds`` (ranges only).

        Raises:
            SweepError: if a parameter has levels but no range.
        """
        for p in self.parameters:
            if p.low is None:
                raise SweepError(
                    f"{self.source}: {p.key}: text levels cannot be sampled by {self.design} (a "
                    "text setting has no range); fix it with set and run once per level, or "
                    'use design = "grid"'
                )
        return {
            "num_vars": len(self.parameters),
            "names": [p.key for p in self.parameters],
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def record(self) -> dict[str, Any]:
        """The spec as recorded in a sweep's ``manifest.json`` (:func:`dataclasses.asdict`);
        ``series`` only when true, so a sweep without series records (and fingerprints) what
        it did before the setting existed (a :class:`RobustSweepSpec` adds its fields)."""
        data = asdict(self)
        if not self.series:
            del data["series"]
        return data

    def fingerprint(self) -> str:
        """Hash of everything that decides the results (to resume only the same sweep);
        ``thresholds`` only decide the report, so a changed threshold reuses the runs."""
        skip = ("description", "source", "thresholds")
        data = {k: v for k, v in self.record().items() if k not in skip}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class RobustSweepSpec(SweepSpec):
    """A sweep file with ``[uncertainties]`` (:mod:`sim.sweep.uncertainty`): its
    ``parameters`` are the levers, each lever point a policy run in the same states of the
    world."""

    uncertainties: list[Parameter] = field(default_factory=list)  # type: ignore[assignment]
    """Ranges the states of the world are drawn over (a Latin hypercube)."""
    scenarios: int | None = None  # type: ignore[misc]
    """States of the world to draw (>= 2)."""
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # type: ignore[assignment]
    """``[thresholds]``: outcome column -> ``{"at_most": x}`` or ``{"at_least": x}``."""


def plain_spec(spec: SweepSpec, **changes: Any) -> SweepSpec:
    """``spec`` as a plain :class:`SweepSpec` (its uncertainties, scenarios and thresholds
    dropped), with ``changes`` (e.g. ``parameters=spec.columns``)."""
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(SweepSpec)}
    return SweepSpec(**(values | changes))


# --------------------------------------------------------------------------- loading


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; every parameter's extremes are validated against the schema.

    Raises:
        SweepError: one line naming the file and the problem (unknown key with a suggestion,
            bad design, a base that cannot be found, fewer than 2 levels, a fractional level of
            a whole-number key, a ``set`` that fixes a swept key, value out of the schema's
            range).
    """
    path = Path(path)
    raw, src = read_file(path), str(path)
    if unknown := set(raw) - FILE_KEYS:
        raise SweepError(f"{src}: {unknown_text('key(s)', unknown, FILE_KEYS)}")
    if "base" not in raw or not raw.get("parameters"):
        raise SweepError(f"{src}: a sweep needs base = '<scenario>' and [parameters.<key>] tables")
    design = raw.get("design", "grid")
    if not isinstance(design, str) or design not in DESIGNS:
        raise SweepError(f"{src}: design = {design!r}; choose one of {', '.join(DESIGNS)}")
    if not isinstance(raw["parameters"], dict):
        raise SweepError(
            f"{src}: parameters = {raw['parameters']!r}: must be tables, one per varied key: "
            '[parameters."<dotted.key>"] with levels or range'
        )
    params = [parse_parameter(k, v, src) for k, v in raw["parameters"].items()]
    uncertainties, scenarios, thresholds = parse_robustness(raw, src, params)
    if not isinstance(raw["base"], str):
        raise SweepError(f"{src}: base = {raw['base']!r}: must be a scenario file or name")
    try:
        base = resolve_path(raw["base"], path.parent)
    except ScenarioError as exc:
        raise SweepError(f"{src}: base = {raw['base']!r}: {exc}") from exc
    robust = (
        {"uncertainties": uncertainties, "scenarios": scenarios, "thresholds": thresholds}
        if uncertainties
        else {}
    )
    spec = (RobustSweepSpec if uncertainties else SweepSpec)(
        name=sweep_name(raw, path, src),
        base=str(base.resolve()),
        parameters=params,
        design=design,
        samples=whole(raw, "samples", 64, src, 1, MAX_POINTS),
        replications=whole(raw, "replications", 4, src, 1, MAX_REPS),
        seed=whole(raw, "seed", 0, src, 0, 2**63 - 1),
        overrides=strings(raw, "set", src) or [],
        outcomes=outcome_list(raw, src),
        morris_levels=whole(raw, "morris_levels", 4, src, 2, 1000),
        description=str(raw.get("description", "")),
        source=src,
        series=flag(raw, "series", src),
        **robust,
    )
    if spec.morris_levels % 2:
        raise SweepError(
            f"{src}: morris_levels = {spec.morris_levels}: must be an even number (SALib's "
            "Morris sample is biased on an odd number of levels); use "
            f"{spec.morris_levels + 1}"
        )
    _check_design(spec)
    check_extremes(spec)
    return spec


def _check_design(spec: SweepSpec) -> None:
    """Checks across keys: Sobol's N, whole-number grid steps, ``set`` vs swept keys."""
    src = spec.source
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        raise SweepError(f"{src}: Sobol needs samples = a power of 2, got {spec.samples}")
    if spec.design == "grid":
        check_grid_size(spec)
        for p in spec.parameters:
            grid_steps_distinct(p, f"{src}: parameters.{p.key}")
    check_robust_design(spec)
    swept = [p.key for p in spec.columns if not p.dummy]
    for item in spec.overrides:
        try:
            key = parse_override(item)[0]
        except ScenarioError as exc:  # the file's set, not a --set option: name the file
            raise SweepError(
                f'{src}: set = ["{item}"]: each item is "dotted.key=value" ({exc})'
            ) from exc
        clash = [k for k in swept if k == key or k.startswith(f"{key}.") or key.startswith(f"{k}.")]
        if clash:
            table = "uncertainties" if clash[0] in {u.key for u in spec.uncertainties} else ""
            raise SweepError(
                f'{src}: set = ["{item}"] fixes {clash[0]}, which [{table or "parameters"}.'
                f'"{clash[0]}"] varies (every point would override it); remove one of the two'
            )


def check_grid_size(spec: SweepSpec) -> None:
    """A full factorial grid holds at most ``MAX_POINTS`` points (the product of the level
    counts), checked before any level is computed: a larger one would not fit in memory.

    Raises:
        SweepError: one line with the level counts, the product and what to do.
    """
    counts = [len(p.levels) if p.levels is not None else p.steps or 5 for p in spec.parameters]
    points = math.prod(counts)
    if points > MAX_POINTS:
        raise SweepError(
            f"{spec.source}: a grid of {' x '.join(map(str, counts))} levels = {points:,} points "
            f"is over the limit of {MAX_POINTS:,}; give fewer levels or steps, or sample the "
            'ranges with design = "lhs"'
        )


def base_data(spec: SweepSpec) -> dict[str, Any]:
    """The base scenario as a raw dict (``extends`` resolved, ``set`` overrides applied)."""
    data = read_with_extends(Path(spec.base))
    data.setdefault("name", Path(spec.base).stem)
    for item in spec.overrides:
        data = apply_override(data, *parse_override(item))
    return data


def point_scenario_from(data: dict[str, Any], values: dict[str, Any]) -> Any:
    """The scenario of one design point: the base ``data`` (:func:`base_data`) with the point's
    ``values`` by dotted key (dummies left out) applied in order, validated.

    Raises:
        ScenarioError: a value out of the schema's range.
    """
    for key, value in values.items():
        data = apply_override(data, key, value)
    return build_scenario(data, "sweep point")


def check_extremes(spec: SweepSpec) -> None:
    """Validate the base scenario with each parameter at each extreme or level.

    Raises:
        ScenarioError: the schema's one-line message (key, value, valid range).
    """
    data = base_data(spec)
    build_scenario(data, spec.source)
    for p in spec.columns:
        if p.dummy:
            continue
        for v in p.levels if p.levels is not None else (p.low, p.high):
            value = round(v) if p.integer else v
            build_scenario(apply_override(data, p.key, value), f"{spec.source} ({p.key}={v})")


def make_design(spec: SweepSpec) -> np.ndarray:
    """The sample of ``spec.design`` as a float array ``(n_points, n_params)``.

    Non-numeric grid levels are stored as level indices (mapped back by :func:`point_values`).
    With uncertainties, every lever point (policy) is crossed with the same states of the world
    (:func:`sim.sweep.uncertainty.cross_states`): shape ``(policies * scenarios, levers +
    uncertainties)``.
    """
    if spec.uncertainties:
        levers = make_design(plain_spec(spec))
        states = states_design(spec.uncertainties, spec.scenarios or 0, spec.seed)
        return cross_states(levers, states)
    if spec.design == "grid":
        idx = [
            p.grid_levels() if p.low is not None else list(range(len(p.levels or ())))
            for p in spec.parameters
        ]
        return grid_design(idx)
    if spec.design == "lhs":
        return lhs_design(np.array(spec.problem()["bounds"]), spec.samples, spec.seed)
    if spec.design == "sobol":
        return sobol_design(spec.problem(), spec.samples, spec.seed)
    return morris_design(spec.problem(), spec.samples, spec.morris_levels, spec.seed)


def point_values(params: Sequence[Parameter], row: np.ndarray) -> dict[str, Any]:
    """Scenario values of one design row: integers rounded, categorical indices mapped."""
    out: dict[str, Any] = {}
    for p, v in zip(params, row, strict=True):
        if p.levels is not None and p.low is None:
            out[p.key] = p.levels[int(v)]
        elif p.integer:
            out[p.key] = round(float(v))
        else:
            out[p.key] = float(v)
    return out
