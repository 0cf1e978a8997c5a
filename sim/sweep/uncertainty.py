"""Levers and uncertainties (XLRM): the ``[uncertainties]`` tables of a sweep file, its
``scenarios`` and ``[thresholds]``, and the design of every policy crossed with the same states
of the world.

A sweep file's ``[parameters]`` are the **levers** (what a programme designer chooses); its
``[uncertainties."<key>"]`` tables are the **uncertainties** (what nobody chooses: site
readiness, secular trend...), each a ``range`` parsed by the same parser as a parameter
(:func:`sim.sweep.parameters.parse_parameter`). ``scenarios = N`` draws N **states of the
world**, a Latin hypercube over the uncertainties' ranges (:func:`states_design`). The levers
keep the file's design (grid levels, or an LHS sample): each lever point is a **policy**, and
every policy runs in the same N states (:func:`cross_states`), so policies are compared on
identical contexts, with replication r under the same seeds everywhere (common random numbers).
Point ``policy * N + state`` is that policy in that state. The framing is EMA Workbench's XLRM
(Kwakkel 2017; Lempert, Popper & Bankes 2003); the robustness measures are in
:mod:`sim.sweep.robustness`. Every mistake is one :class:`SweepError` line (exit code 2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.sweep.parameters import Parameter, SweepError, _toml, is_number, parse_parameter

STATES_KEY = 1
"""Spawn key of the states' random stream: ``SeedSequence(seed, spawn_key=(1,))``, apart from
the stream of an LHS over the levers (``default_rng(seed)``), so the two samples are not the
same unit hypercube when they have the same dimension."""
ROBUST_DESIGNS = ("grid", "lhs")
"""Lever designs a sweep with uncertainties takes (a policy is a lever point; Sobol and Morris
samples are made for variance indices, not for choosing among policies)."""
RESERVED_COLUMNS = ("policy", "state")
"""Columns ``design.parquet`` gains with uncertainties (no parameter may take these names)."""


def parse_uncertainty(key: str, raw: Any, source: str) -> Parameter:
    """One ``[uncertainties."<key>"]`` table: ``range = [low, high]`` only (a state of the
    world is drawn from it; no ``levels``, ``steps`` or ``dummy``), checked as a parameter.

    Raises:
        SweepError: another option, or any mistake :func:`parse_parameter` refuses.
    """
    where = f"{source}: uncertainties.{key}"
    if isinstance(raw, dict) and (extra := sorted(set(raw) & {"levels", "steps", "dummy"})):
        raise SweepError(
            f"{where}: {extra[0]} = {_toml(raw[extra[0]])}: an uncertainty takes only range = "
            "[low, high] (the states of the world are a Latin hypercube over the ranges); "
            "fix a value with set, or make it a lever in [parameters]"
        )
    if isinstance(raw, dict) and "range" not in raw:
        raise SweepError(f"{where}: give range = [low, high]")
    return parse_parameter(key, raw, source, table="uncertainties")


def parse_robustness(
    raw: dict[str, Any], src: str, levers: list[Parameter]
) -> tuple[list[Parameter], int | None, dict[str, dict[str, float]]]:
    """The file's ``uncertainties``, ``scenarios`` and ``thresholds`` (all absent: ``[], None,
    {}``: a plain sweep, unchanged).

    Returns:
        ``(uncertainties, scenarios, thresholds)``; ``thresholds`` maps an outcome column to
        ``{"at_most": x}`` or ``{"at_least": x}``.

    Raises:
        SweepError: uncertainties without ``scenarios`` (or the reverse), ``scenarios`` not a
            whole number in [2, 10 000 000], a key both lever and uncertainty, a bad threshold.
    """
    tables = raw.get("uncertainties")
    if tables is None:
        for key in ("scenarios", "thresholds"):
            if key in raw:
                raise SweepError(
                    f'{src}: {key} needs [uncertainties."<key>"] tables (the states of the '
                    "world are drawn over them); add them, or remove it"
                )
        return [], None, {}
    if not isinstance(tables, dict) or not tables:
        raise SweepError(
            f"{src}: uncertainties = {tables!r}: must be tables, one per uncertain key: "
            '[uncertainties."<dotted.key>"] with range = [low, high]'
        )
    params = [parse_uncertainty(k, v, src) for k, v in tables.items()]
    if both := [p.key for p in params if p.key in {q.key for q in levers}]:
        raise SweepError(
            f"{src}: {both[0]} is both a lever ([parameters]) and an uncertainty "
            "([uncertainties]); a key is one or the other"
        )
    n = raw.get("scenarios")
    if n is None:
        raise SweepError(
            f"{src}: uncertainties need scenarios = N, the number of states of the world to draw"
        )
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 10_000_000:
        raise SweepError(
            f"{src}: scenarios = {_toml(n)}: must be a whole number in [2, 10000000] (regret "
            "and the worst decile compare a policy across states of the world)"
        )
    return params, n, parse_thresholds(raw.get("thresholds", {}), src)


def parse_thresholds(raw: Any, src: str) -> dict[str, dict[str, float]]:
    """``[thresholds]``: ``outcome = number`` (met on the better side of the outcome's known
    direction) or ``outcome = {at_most = x}`` / ``{at_least = x}``.

    Raises:
        SweepError: not a run metric, a bare number for an outcome of unknown direction, or a
            value that is not a finite number.
    """
    from sim.sweep.points import metric_names
    from sim.sweep.robustness import lower_is_better
    from sim.sweep.sensitivity import outcome_column

    if not isinstance(raw, dict):
        raise SweepError(f"{src}: thresholds = {raw!r}: must be a table of outcome = value")
    out = {}
    for outcome, value in raw.items():
        where = f"{src}: thresholds.{outcome}"
        column = outcome_column(outcome)
        if column not in metric_names():
            from sim.sweep.parameters import did_you_mean

            hint = did_you_mean(outcome, metric_names())
            raise SweepError(f"{where}: not a run metric{hint} (docs/sweeps.md, Outcomes)")
        if isinstance(value, dict) and len(value) == 1 and set(value) <= {"at_most", "at_least"}:
            (side, number), = value.items()  # fmt: skip
        elif is_number(value) and lower_is_better(column) is not None:
            side, number = ("at_most" if lower_is_better(column) else "at_least"), value
        elif is_number(value):
            raise SweepError(
                f"{where} = {_toml(value)}: ccsim does not know whether lower or higher "
                f"{column} is better; write {{at_most = {value}}} or {{at_least = {value}}}"
            )
        else:
            side, number = "", value
        if not side or not is_number(number):
            raise SweepError(
                f"{where} = {_toml(value)}: give a finite number, {{at_most = x}} or "
                "{at_least = x}"
            )
        out[column] = {side: float(number)}
    return out


def check_robust_design(spec: Any) -> None:
    """Checks across a sweep with uncertainties: the lever design is a grid or an LHS, no
    parameter is named ``policy`` or ``state``, and policies x states fit the point limit.

    Raises:
        SweepError: one line naming the problem.
    """
    if not spec.uncertainties:
        return
    src = spec.source
    kept = spec.outcomes
    if kept is not None and (lost := [o for o in spec.thresholds if o not in kept]):
        raise SweepError(
            f"{src}: thresholds.{lost[0]}: not kept by the file's outcomes "
            f'({", ".join(kept)}); add "{lost[0]}" to outcomes'
        )
    if spec.design not in ROBUST_DESIGNS:
        raise SweepError(
            f"{src}: design = {spec.design!r} with uncertainties: the policies (lever points) "
            'come from design = "grid" or "lhs"; use ccsim sensitivity for Sobol or Morris '
            "indices (it samples uncertainties as ordinary parameters)"
        )
    if clash := [p.key for p in spec.columns if p.key in RESERVED_COLUMNS]:
        raise SweepError(
            f"{src}: '{clash[0]}' is a column of design.parquet in a sweep with uncertainties "
            "(which policy, which state of the world); give the parameter another name"
        )
    n_policies = (
        math.prod(len(p.grid_levels()) for p in spec.parameters)
        if spec.design == "grid"
        else spec.samples
    )
    if n_policies * spec.scenarios > 10_000_000:
        raise SweepError(
            f"{src}: {n_policies:,} policies x {spec.scenarios:,} states of the world = "
            f"{n_policies * spec.scenarios:,} points is over the limit of 10,000,000; draw fewer"
        )


def states_design(uncertainties: list[Parameter], n: int, seed: int) -> np.ndarray:
    """The states of the world: a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`) of
    ``n`` points over the uncertainties' ranges, shape ``(n, len(uncertainties))``; its stream
    is ``SeedSequence(seed, spawn_key=(STATES_KEY,))``, so the same file and seed give the same
    states, unrelated to an LHS over the levers."""
    from scipy.stats import qmc

    bounds = np.array([[p.low, p.high] for p in uncertainties], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STATES_KEY,)))
    unit = qmc.LatinHypercube(d=len(uncertainties), rng=rng).random(n)
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])


def cross_states(policies: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Every policy (row of ``policies``, shape ``(P, levers)``) in every state (row of
    ``states``, shape ``(S, uncertainties)``): shape ``(P * S, levers + uncertainties)``, row
    ``policy * S + state`` (the state fastest)."""
    n_states = len(states)
    return np.hstack([np.repeat(policies, n_states, axis=0), np.tile(states, (len(policies), 1))])


def policy_state(n_points: int, n_states: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``policy`` and ``state`` of points ``0 .. n_points - 1`` (:func:`cross_states`'s
    order): ``point // n_states`` and ``point % n_states``."""
    points = np.arange(n_points)
    return points // n_states, points % n_states


def design_roles(spec: Any) -> dict[str, list[str]]:
    """Which ``design.parquet`` columns are levers and which uncertainties: kept in the file as
    ``DataFrame.attrs`` (``pd.read_parquet(...).attrs`` gives them back), e.g.
    ``{"levers": ["programme.tactics.soft"], "uncertainties": ["sites.readiness_mean"]}``."""
    return {
        "levers": [p.key for p in spec.parameters],
        "uncertainties": [p.key for p in spec.uncertainties],
    }
