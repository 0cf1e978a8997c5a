"""One ``[parameters."<key>"]`` table of a sweep file: :class:`Parameter` and its checks.

Every failure raises :class:`SweepError` (a :class:`sim.loader.ScenarioError`) whose message is
one line for the user; the rules are those of docs/sweeps.md, Parameter tables:

* a value is a finite number (never ``true``/``false``, text, ``inf`` or ``nan``) for a key
  whose schema type is a number, and for every ``range``; text for a text setting; a dummy's
  levels are all numbers or all text;
* a name the run tables already use (``point``, ``replication``, ``seed``, a run metric) is
  refused, as the parameter's column would overwrite it;
* a whole-number key's levels are whole numbers, and its range holds at least two of them.
"""

from __future__ import annotations

import difflib
import enum
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.loader import ScenarioError, _closest_key, valid_keys

PARAMETER_KEYS = frozenset({"levels", "range", "steps", "dummy"})
"""Keys of a ``[parameters."<key>"]`` table."""
RESERVED = {
    "point": "the design point",
    "replication": "the replication",
    "seed": "the replication's seed label",
}
"""Columns of every run besides the parameters and the metrics (a parameter may not use one)."""


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
        return _cut(self.low, self.high, self.steps or 5, self.integer)


def _cut(low: Any, high: Any, steps: int, integer: bool) -> list[Any]:
    values = np.linspace(low, high, steps)
    return [round(v) for v in values] if integer else [float(v) for v in values]


def did_you_mean(word: str, valid: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``valid`` (difflib), or ``""``."""
    close = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_text(what: str, given: Sequence[str], valid: Sequence[str]) -> str:
    """``unknown <what> ['level']; did you mean 'levels'?; valid: ...`` (one line)."""
    unknown = sorted(given)
    hint = did_you_mean(unknown[0], valid)
    return f"unknown {what} {unknown}{hint}; valid: {', '.join(sorted(valid))}"


def _toml(value: Any) -> str:
    """A value as the sweep file writes it (``true``, ``"a"``, ``inf``, ``4.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return str(value)


def is_number(value: Any) -> bool:
    """A finite int or float, not a boolean (``true`` is no number in a sweep file)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond float range
        return False


def _key_kind(field_info: Any) -> str:
    """``number``, ``bool``, ``text`` or ``other`` (the key's schema type); ``any`` for a
    dummy that is not a scenario key."""
    if field_info is None:
        return "any"
    ann = field_info.annotation
    if ann is bool:
        return "bool"
    if ann in (int, float):
        return "number"
    if ann is str or (isinstance(ann, type) and issubclass(ann, enum.Enum)):
        return "text"
    return "other"


def _check_values(key: str, what: str, values: list[Any], kind: str, where: str) -> None:
    """The values of ``levels`` / ``range`` are of the key's type (see the module docstring)."""
    shown = f"{where}: {what} = {_toml(values)}"
    if kind in ("bool", "text") and what == "range":
        raise SweepError(f"{shown}: {key} takes {kind_words(kind)}, not a range; give levels")
    if kind == "bool":
        bad, need = [v for v in values if not isinstance(v, bool)], "true or false"
    elif kind == "text":
        bad, need = [v for v in values if not isinstance(v, str)], "text"
    elif kind == "other" or (kind == "any" and all(isinstance(v, str) for v in values)):
        return  # the schema checks the values (check_extremes); a dummy's text levels
    else:
        bad, need = [v for v in values if not is_number(v)], "a finite number"
    if bad:
        need = "finite numbers" if need == "a finite number" and len(bad) > 1 else need
        verb = "is not" if len(bad) == 1 else "are not"
        why = "a dummy's levels are all numbers or all text" if kind == "any" else ""
        why = why or f"{key} takes {kind_words(kind)}"
        raise SweepError(f"{shown}: {', '.join(map(_toml, bad))} {verb} {need} ({why})")


def kind_words(kind: str) -> str:
    return {"bool": "true or false", "text": "text"}.get(kind, "numbers")


def _check_name(key: str, where: str) -> None:
    """Refuse a name the run tables already use: its column would overwrite theirs."""
    from sim.outputs_columns import SERIES_IDS
    from sim.series import SERIES_COLUMNS
    from sim.sweep import metric_names  # a tiny run, once per process

    what = RESERVED.get(key) or ("a run metric" if key in metric_names() else "")
    if what:
        raise SweepError(
            f"{where}: '{key}' is a column of every run ({what}), which the parameter's "
            "column would overwrite; give the parameter another name"
        )
    # the monthly series joined to design.parquet on point would get key_x and key_y
    if key in {*SERIES_COLUMNS, *(c.name for c in SERIES_IDS)}:
        raise SweepError(
            f"{where}: '{key}' is a column of the monthly series (series = true), which a join "
            "of the series with design.parquet would duplicate; give the parameter another name"
        )


def parse_parameter(key: str, raw: Any, source: str, table: str = "parameters") -> Parameter:
    """One ``[parameters."<key>"]`` table, checked (see docs/sweeps.md, Parameter tables);
    ``table`` names the file's table in messages (``uncertainties`` for an uncertainty, which
    :func:`sim.sweep.uncertainty.parse_uncertainty` parses with this same function)."""
    where = f"{source}: {table}.{key}"
    if not isinstance(raw, dict):
        raise SweepError(f"{where} must be a table (levels or range)")
    allowed = PARAMETER_KEYS if table == "parameters" else frozenset({"range"})
    if unknown := set(raw) - PARAMETER_KEYS:  # an uncertainty takes only a range
        raise SweepError(f"{where}: {unknown_text('option(s)', unknown, allowed)}")
    _check_name(key, where)
    dummy = raw.get("dummy", False)
    if not isinstance(dummy, bool):
        raise SweepError(f"{where}.dummy = {_toml(dummy)}: must be true or false")
    field_info = valid_keys().get(key)
    inside = sorted(k for k in valid_keys() if k.startswith(f"{key}."))
    if field_info is None and not dummy and inside:
        shown = ", ".join(inside[:4]) + (", ..." if len(inside) > 4 else "")
        raise SweepError(
            f"{source}: parameter '{key}' is a table of the scenario ({len(inside)} keys), not "
            f"one value; vary one of its keys: {shown}"
        )
    if field_info is None and not dummy:
        hint = _closest_key(key) or (
            f" (not a scenario key; a column the model never reads needs dummy = true in "
            f"[parameters.{key}])"
        )
        raise SweepError(f"{source}: unknown parameter '{key}'{hint}")
    kind, integer = _key_kind(field_info), field_info is not None and field_info.annotation is int
    levels, rng = raw.get("levels"), raw.get("range")
    if (levels is None) == (rng is None):
        raise SweepError(f"{where}: give exactly one of levels or range")
    if rng is not None:
        if not isinstance(rng, list) or len(rng) != 2:
            raise SweepError(f"{where}: range must be [low, high], low < high")
        _check_values(key, "range", rng, kind, where)
        return _range_parameter(key, rng, raw.get("steps"), integer, dummy, where)
    if not isinstance(levels, list) or not levels:
        raise SweepError(f"{where}: levels must be a non-empty list")
    if "steps" in raw:
        raise SweepError(
            f"{where}: steps = {_toml(raw['steps'])} goes with range (it cuts a range into "
            "levels on a grid), not with levels; remove steps, or give range instead of levels"
        )
    _check_values(key, "levels", levels, kind, where)
    numeric = all(is_number(v) for v in levels)
    _check_levels(key, levels, integer and numeric, where, dummy)
    low, high = (float(min(levels)), float(max(levels))) if numeric else (None, None)
    return Parameter(key, low, high, tuple(levels), None, integer, dummy)


def _range_parameter(
    key: str, rng: list[Any], steps: Any, integer: bool, dummy: bool, where: str
) -> Parameter:
    """A parameter given as ``range = [low, high]`` (finite numbers; ``steps`` for a grid)."""
    if not rng[0] < rng[1]:
        raise SweepError(f"{where}: range = {_toml(rng)}: must be [low, high], low < high")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
        raise SweepError(f"{where}.steps = {_toml(steps)}: must be a whole number")
    if steps is not None and steps < 2:
        raise SweepError(f"{where}.steps = {steps}: must be >= 2")
    if integer:
        whole = range(math.ceil(rng[0]), math.floor(rng[1]) + 1)
        if len(whole) < 2:
            held = f"only the whole number {whole[0]}" if len(whole) else "no whole number"
            raise SweepError(
                f"{where}: range = {_toml(rng)} holds {held} ({key} takes whole numbers, and a "
                "range must hold at least two, or the sampled values nearly all run as one); "
                "widen the range, or fix the value with set"
            )
    return Parameter(key, float(rng[0]), float(rng[1]), None, steps, integer, dummy)


def _check_levels(key: str, levels: list[Any], integer: bool, where: str, dummy: bool) -> None:
    """At least 2 levels, none repeated; whole numbers for an integer key (never rounded).

    Raises:
        SweepError: one line naming the offending levels.
    """
    if len(levels) < 2:
        fix = "" if dummy else f' (to fix the value instead, put "{key}={levels[0]}" in set)'
        raise SweepError(f"{where}: levels = {levels} has 1 level; a sweep needs at least 2{fix}")
    if integer:
        fractional = [v for v in levels if float(v) != round(v)]
        if fractional:
            verb = "is not a whole number" if len(fractional) == 1 else "are not whole numbers"
            raise SweepError(
                f"{where}: levels = {levels}: {', '.join(map(str, fractional))} {verb}, and "
                f"{key} takes whole numbers; give whole-number levels (none is rounded)"
            )
    for i, v in enumerate(levels):
        if v in levels[:i]:  # 12 and 12.0 are the same level
            raise SweepError(f"{where}: levels = {levels}: {v!r} repeats a level; give each once")


def grid_steps_distinct(p: Parameter, where: str) -> None:
    """On a grid, an integer range cut into ``steps`` levels must not repeat a whole number;
    the error names the largest ``steps`` whose rounded levels are all distinct (searched
    downward: with halves rounded to even, ``[4.5, 6.5]`` in 3 gives 4, 6, 6 but in 2 gives
    4, 6)."""
    if p.levels is not None or not p.integer:
        return
    levels = p.grid_levels()
    if len(set(levels)) == len(levels):
        return
    fits = (n for n in range(len(levels) - 1, 1, -1) if len(set(_cut(p.low, p.high, n, True))) == n)
    best = next(fits, 2)  # 2 always fits: the range holds two whole numbers, its ends round apart
    raise SweepError(
        f"{where}: range = [{p.low:g}, {p.high:g}] cut into steps = {len(levels)} gives "
        f"repeated whole numbers {levels} ({p.key} takes whole numbers); use steps = {best} "
        f"(the largest that gives distinct ones: {_cut(p.low, p.high, best, True)}), or levels"
    )
