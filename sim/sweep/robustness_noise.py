"""Is a most-robust policy's lead larger than the seed noise? A bootstrap over replications.

A robustness verdict (:func:`sim.sweep.robustness.most_robust`) is computed from state values
that are means over R replications, so two near-equal policies can swap places with another
root seed (a programme director's trial: recruitment ``mandated`` won every criterion under
seed 7 and its ``voluntary`` twin under seed 8). :func:`lead_stability` resamples the R
replications with replacement, the *same* draw for every point (so common random numbers are
kept: replication r is one seed everywhere), recomputes every state value, the robustness
table and each criterion's best policies, and counts how often each policy is best. The states
of the world are held fixed: the answer is conditional on the sampled contexts. This is the
nonparametric bootstrap with the replication (seed) as the resampled unit (Efron & Tibshirani
1993, *An Introduction to the Bootstrap*, ch. 6; resampling whole clusters, here seeds, as in
Davison & Hinkley 1997, sec. 3.8).

A lead is called **clear** when the named policy is best in at least :data:`CLEAR` of the
resamples (the bootstrap analogue of a 95% level) and there are at least :data:`MIN_REPS`
replications; otherwise the report names the policy that takes its place most often and advises
treating the two as tied. With few replications the percentile bootstrap is optimistic (it
resamples an estimated spread): for two policies equal in truth, 6 replications gave a "95%"
lead in 10 of 30 synthetic sweeps, against about 10% with 10 replications and 5% with 20
(tests/test_sweep_robustness_noise.py), so below :data:`MIN_REPS` no lead is called clear.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.sweep.robustness import MostRobust, criteria, low_is_better

RESAMPLES = 200
"""Bootstrap resamples (shares are then known to about +-3.5 points at 50%, +-1.5 at 95%)."""
CLEAR = 0.95
"""Share of resamples in which a lead must hold to be called clear of the seed noise."""
MIN_REPS = 10
"""Replications below which no lead is called clear (the bootstrap is optimistic there)."""


@dataclass(frozen=True)
class Stability:
    """How often each policy is a criterion's best over the bootstrap resamples.

    Attributes:
        criterion: a column of :data:`sim.sweep.robustness.CRITERIA`.
        named: the policies the full data name (ties included).
        share: share of resamples in which one of ``named`` is best, in [0, 1].
        rival: the policy not in ``named`` that is best most often (``None`` if none ever is).
        rival_share: its share of resamples, in [0, 1].
    """

    criterion: str
    named: tuple[int, ...]
    share: float
    rival: int | None
    rival_share: float


def replication_cube(runs: pd.DataFrame, design: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` per policy, state and replication, shape ``(policies, states, R)`` (policies
    and states in increasing order; ``nan`` where a run is missing or undefined)."""
    table = runs.pivot_table(index="point", columns="replication", values=column, aggfunc="first")
    where = design[["point", "policy", "state"]].set_index("point").join(table, how="inner")
    where = where.sort_values(["policy", "state"])
    n_pol, n_states = where["policy"].nunique(), where["state"].nunique()
    y = where.drop(columns=["policy", "state"]).to_numpy(dtype=float)
    return y.reshape(n_pol, n_states, y.shape[1])


def lead_stability(
    runs: pd.DataFrame,
    design: pd.DataFrame,
    column: str,
    lower: bool | None,
    threshold: dict[str, float] | None,
    found: list[MostRobust],
    seed: int,
    resamples: int = RESAMPLES,
) -> list[Stability]:
    """Bootstrap each criterion's verdict over the replications (module docstring).

    Args:
        runs: the sweep's runs (``point``, ``replication``, ``column``).
        design: ``design.parquet`` (``point``, ``policy``, ``state``).
        column: the outcome.
        lower: :func:`sim.sweep.robustness.lower_is_better` of ``column``.
        threshold: the file's threshold for ``column``, or ``None``.
        found: the full data's verdicts (:func:`sim.sweep.robustness.most_robust`).
        seed: root of the resampling stream (the sweep's seed: the same report every time).
        resamples: number of bootstrap resamples, >= 1.

    Returns:
        One :class:`Stability` per verdict in ``found``; empty with fewer than 2 replications
        (the seed noise cannot be resampled).
    """
    cube = replication_cube(runs, design, column)
    n_reps = cube.shape[-1]
    if n_reps < 2 or not found:
        return []
    draws = np.random.default_rng([int(seed), 0x5EED]).integers(0, n_reps, (resamples, n_reps))
    with warnings.catch_warnings():  # a cell undefined in every drawn replication is nan
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.nanmean(cube[:, :, draws], axis=-1).transpose(2, 0, 1)  # (B, P, S)
    table = criteria(values, lower, threshold)
    out = []
    for f in found:
        wins = _wins(table[f.criterion], low_is_better(f.criterion, lower))  # (B, P) bool
        named = tuple(f.policies)
        share = float(wins[:, list(named)].any(axis=1).mean())
        others = wins.sum(axis=0).astype(float)
        others[list(named)] = 0
        rival = int(np.argmax(others)) if others.max() > 0 else None
        rival_share = others[rival] / resamples if rival is not None else 0.0
        out.append(Stability(f.criterion, named, share, rival, float(rival_share)))
    return out


def _wins(values: np.ndarray, low: bool) -> np.ndarray:
    """Which policies are best in each resample (ties all win; a resample where the criterion
    is undefined for every policy has no winner). ``values``: shape ``(B, P)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best = np.nanmin(values, axis=1) if low else np.nanmax(values, axis=1)
    return values == best[:, None]


def stability_lines(
    stability: list[Stability], labels: dict[int, str], n_reps: int, resamples: int = RESAMPLES
) -> list[str]:
    """The report's lines on the seed noise of the verdicts (empty when there is nothing)."""
    from sim.sweep.robustness import CRITERIA

    if not stability:
        return []
    head = (
        f"Against the seed noise ({resamples} bootstrap resamples of the {n_reps} replications, "
        "the same draw for every policy; states of the world held fixed):"
    )
    few = n_reps < MIN_REPS
    unclear = [s for s in stability if s.share < CLEAR]
    if not unclear and not few:
        return [f"{head} every lead above holds in at least {CLEAR:.0%} of the resamples."]
    lines = [head]
    for s in stability:
        name = CRITERIA[s.criterion].split(" (")[0]
        named = " / ".join(f"P{p}" for p in s.named)
        if s.share >= CLEAR:
            verdict = (
                f"not confirmed: with fewer than {MIN_REPS} replications the bootstrap is "
                "optimistic"
                if few
                else "clear"
            )
            lines.append(f"- {name}: {named} best in {s.share:.0%}: {verdict}.")
            continue
        rival = (
            f"; {labels.get(s.rival, f'P{s.rival}')} in {s.rival_share:.0%}"
            if s.rival is not None
            else ""
        )
        lines.append(
            f"- {name}: **not clear of the noise**: {named} best in {s.share:.0%}{rival}. "
            "Treat them as tied: compare them head to head, or add replications."
        )
    return lines
