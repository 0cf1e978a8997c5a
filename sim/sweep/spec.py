"""Sweep files: parse and check them, and turn a design array into scenario values.

The file format is described in ``docs/sweeps.md`` (every key, with examples). Every failure
raises :class:`SweepError` (a :class:`sim.loader.ScenarioError`) whose message is one line for
the user.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.loader import (
    ScenarioError,
    _closest_key,
    apply_override,
    build_scenario,
    parse_override,
    read_with_extends,
    resolve_path,
    valid_keys,
)
from sim.sweep.samplers import grid_design, lhs_design, morris_design, sobol_design

DESIGNS = ("grid", "lhs", "sobol", "morris")
MAX_REPS = 10_000_000  # as sim.experiment.MAX_REPS
MAX_POINTS = 10_000_000  # samples / trajectories
FILE_KEYS = frozenset(
    {"name", "description", "base", "set", "design", "samples", "replications", "seed",
     "outcomes", "parameters", "morris_levels"}
)  # fmt: skip
"""Top-level keys a sweep file may hold (documented in docs/sweeps.md)."""
PARAMETER_KEYS = frozenset({"levels", "range", "steps", "dummy"})
"""Keys of a ``[parameters."<key>"]`` table."""


class SweepError(ScenarioError):
    """A sweep file is invalid; the message is one line for the user."""


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: a dotted scenario key with levels or a [low, high] range."""

    key: str
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] | None = None
    steps: int | None = None
    integer: bool = False
    dummy: bool = False

    def grid_levels(self) -> list[Any]:
        """Levels for a full factorial grid (explicit levels, or ``steps`` across the range)."""
        if self.levels is not None:
            return list(self.levels)
        values = np.linspace(self.low, self.high, self.steps or 5)
        return [round(v) for v in values] if self.integer else [float(v) for v in values]


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

    @property
    def names(self) -> list[str]:
        """Parameter names (column names of the design array and of the results)."""
        return [p.key for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: ``num_vars``, ``names`` and ``bounds`` (ranges only).

        Raises:
            SweepError: if a parameter has levels but no range.
        """
        for p in self.parameters:
            if p.low is None:
                raise SweepError(f"{self.source}: {p.key}: {self.design} needs range = [lo, hi]")
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def fingerprint(self) -> str:
        """Hash of everything that decides the results (to resume only the same sweep)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("description", "source")}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- loading


def _parameter(key: str, raw: Any, source: str) -> Parameter:
    if not isinstance(raw, dict):
        raise SweepError(f"{source}: parameters.{key} must be a table (levels or range)")
    unknown = set(raw) - PARAMETER_KEYS
    if unknown:
        raise SweepError(f"{source}: parameters.{key}: unknown option(s) {sorted(unknown)}")
    dummy = raw.get("dummy", False)
    if not isinstance(dummy, bool):
        raise SweepError(f"{source}: parameters.{key}.dummy = {dummy!r}: must be true or false")
    field_info = valid_keys().get(key)
    if field_info is None and not dummy:
        raise SweepError(f"{source}: unknown parameter '{key}'{_closest_key(key)}")
    integer = field_info is not None and field_info.annotation is int
    levels = raw.get("levels")
    rng = raw.get("range")
    if (levels is None) == (rng is None):
        raise SweepError(f"{source}: parameters.{key}: give exactly one of levels or range")
    if rng is not None:
        ok = (
            isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, int | float) for v in rng)
        )
        if not ok or not rng[0] < rng[1]:
            raise SweepError(f"{source}: parameters.{key}: range must be [low, high], low < high")
        steps = raw.get("steps")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
            raise SweepError(
                f"{source}: parameters.{key}.steps = {steps!r}: must be a whole number"
            )
        if steps is not None and steps < 2:
            raise SweepError(f"{source}: parameters.{key}.steps = {steps}: must be >= 2")
        return Parameter(key, float(rng[0]), float(rng[1]), None, steps, integer, dummy)
    if not isinstance(levels, list) or not levels:
        raise SweepError(f"{source}: parameters.{key}: levels must be a non-empty list")
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
    low, high = (float(min(levels)), float(max(levels))) if numeric else (None, None)
    return Parameter(key, low, high, tuple(levels), None, integer, dummy)


def _whole(raw: dict[str, Any], key: str, default: int, src: str, lo: int, hi: int) -> int:
    """The whole-number setting ``key`` of a sweep file, in [lo, hi]."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SweepError(f"{src}: {key} = {value!r}: must be a whole number in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise SweepError(f"{src}: {key} = {value}: must be in [{lo}, {hi}]")
    return value


def _strings(raw: dict[str, Any], key: str, src: str) -> list[str] | None:
    """The list-of-text setting ``key`` of a sweep file (``None`` if absent)."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SweepError(f"{src}: {key} = {value!r}: must be a list of text values")
    return value


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; every parameter's extremes are validated against the schema.

    Raises:
        SweepError: one line naming the file and the problem (unknown key with a suggestion,
            bad design, value out of the schema's range).
    """
    path = Path(path)
    if path.is_dir():
        raise SweepError(f"'{path}' is a directory; give the sweep file (a .toml) inside it")
    if not path.is_file():
        raise SweepError(f"sweep file not found: '{path}'")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SweepError(f"{path}: cannot read sweep file: {exc}") from exc
    src = str(path)
    known = FILE_KEYS
    if set(raw) - known:
        raise SweepError(
            f"{src}: unknown key(s) {sorted(set(raw) - known)}; valid: {sorted(known)}"
        )
    if "base" not in raw or not raw.get("parameters"):
        raise SweepError(f"{src}: a sweep needs base = '<scenario>' and [parameters.<key>] tables")
    design = raw.get("design", "grid")
    if not isinstance(design, str) or design not in DESIGNS:
        raise SweepError(f"{src}: design = {design!r}; choose one of {', '.join(DESIGNS)}")
    params = [_parameter(k, v, src) for k, v in raw["parameters"].items()]
    base = resolve_path(raw["base"], path.parent)
    spec = SweepSpec(
        name=str(raw.get("name", path.stem)),
        base=str(base.resolve()),
        parameters=params,
        design=design,
        samples=_whole(raw, "samples", 64, src, 1, MAX_POINTS),
        replications=_whole(raw, "replications", 4, src, 1, MAX_REPS),
        seed=_whole(raw, "seed", 0, src, 0, 2**63 - 1),
        overrides=_strings(raw, "set", src) or [],
        outcomes=_strings(raw, "outcomes", src),
        morris_levels=_whole(raw, "morris_levels", 4, src, 2, 1000),
        description=str(raw.get("description", "")),
        source=src,
    )
    if design == "sobol" and spec.samples & (spec.samples - 1):
        raise SweepError(f"{src}: Sobol needs samples = a power of 2, got {spec.samples}")
    check_extremes(spec)
    return spec


def base_data(spec: SweepSpec) -> dict[str, Any]:
    """The base scenario as a raw dict (``extends`` resolved, ``set`` overrides applied)."""
    data = read_with_extends(Path(spec.base))
    data.setdefault("name", Path(spec.base).stem)
    for item in spec.overrides:
        data = apply_override(data, *parse_override(item))
    return data


def check_extremes(spec: SweepSpec) -> None:
    """Validate the base scenario with each parameter at each extreme or level.

    Raises:
        ScenarioError: the schema's one-line message (key, value, valid range).
    """
    data = base_data(spec)
    build_scenario(data, spec.source)
    for p in spec.parameters:
        if p.dummy:
            continue
        for v in p.levels if p.levels is not None else (p.low, p.high):
            value = round(v) if p.integer else v
            build_scenario(apply_override(data, p.key, value), f"{spec.source} ({p.key}={v})")


def make_design(spec: SweepSpec) -> np.ndarray:
    """The sample of ``spec.design`` as a float array ``(n_points, n_params)``.

    Non-numeric grid levels are stored as level indices (mapped back by :func:`point_values`).
    """
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
