"""Analysers of sweep results: Sobol and Morris indices (SALib), partial dependence, surfaces.

Analysers take plain arrays (the SALib seam): ``X`` of shape ``(n_points, n_params)`` in the
sampler's order and ``Y`` of shape ``(n_points,)``. :func:`point_outcome` turns a sweep's runs
into ``Y`` (mean over a point's replications; T50/T90 as restricted times, censored runs
counting as the horizon, so no point is dropped).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.ranking import (  # noqa: F401 - re-exported: their home before ranking.py
    MIN_SAMPLES,
    NEGLIGIBLE_ST,
    reliability_problem,
    top_levers,
)

SENSITIVITY_SEED = 97  # SALib bootstrap resampling seed: the same CIs on every run
RESTRICTED = {"t50_months": "t50_restricted_months", "t90_months": "t90_restricted_months"}


def outcome_label(outcome: str) -> str:
    """Human-friendly label of an analysed outcome: a restricted time is labelled as its time
    (``t50_restricted_months`` -> ``T50 (months to close half the gap), restricted: ...``),
    not by its column name; other metrics as :func:`sim.report.metric_label`."""
    from sim.report import metric_label

    plain = {v: k for k, v in RESTRICTED.items()}.get(outcome)
    if plain is not None:
        return f"{metric_label(plain)}, restricted: not reached = horizon"
    if outcome == "window_months":
        return "Months observed (programme + follow-up)"
    return metric_label(outcome)


def outcome_column(outcome: str) -> str:
    """The column analysed for ``outcome`` (T50/T90 -> their restricted versions)."""
    return RESTRICTED.get(outcome, outcome)


def point_outcome(runs: pd.DataFrame, outcome: str, n_points: int) -> np.ndarray:
    """Mean of ``outcome`` over each point's replications, in point order.

    Args:
        runs: sweep rows with ``point`` and the outcome column.
        outcome: metric name (T50/T90 are read as restricted times).
        n_points: points in the design (every one must have results).

    Returns:
        ``Y``, shape ``(n_points,)``.

    Raises:
        ValueError: if the column is missing, a point has no runs, or a point's mean is
            undefined (``nan``) — the indices need every point.
    """
    col = outcome_column(outcome)
    if col not in runs.columns:
        raise ValueError(f"outcome '{outcome}' is not in the sweep results")
    means = runs.groupby("point")[col].mean().reindex(np.arange(n_points))
    missing = int(means.isna().sum())
    if missing:
        raise ValueError(
            f"outcome '{outcome}' is undefined (or not yet run) at {missing} of {n_points} "
            "points; finish the sweep or choose another outcome"
        )
    return means.to_numpy(dtype=float)


def sobol_indices(
    problem: dict[str, Any], Y: np.ndarray, seed: int = SENSITIVITY_SEED
) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% CIs (SALib, Saltelli sample order).

    Args:
        problem: the SALib problem (``names``, ``bounds``, ``num_vars``).
        Y: outputs in :func:`sim.sweep.samplers.sobol_design` order, shape ``(N * (d + 2),)``.
        seed: bootstrap seed for the CIs.

    Returns:
        One row per parameter: ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (``*_conf`` = half-width of the 95% CI), sorted by ``ST`` descending.
    """
    from SALib.analyze import sobol

    with np.errstate(divide="ignore", invalid="ignore"):  # constant Y: reported, not warned
        res = sobol.analyze(
            problem,
            np.asarray(Y, dtype=float),
            calc_second_order=False,
            num_resamples=200,
            conf_level=0.95,
            seed=seed,
        )
    frame = pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )
    return frame.sort_values("ST", ascending=False, ignore_index=True)


def morris_indices(
    problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, levels: int = 4,
    seed: int = SENSITIVITY_SEED,
) -> pd.DataFrame:  # fmt: skip
    """Morris elementary effects: ``mu``, ``mu_star`` (with 95% CI half-width) and ``sigma``.

    Args:
        problem: the SALib problem.
        X: the Morris sample, shape ``(r * (d + 1), d)``.
        Y: outputs, shape ``(r * (d + 1),)``.
        levels: grid levels used by the sampler.
        seed: bootstrap seed.

    Returns:
        One row per parameter, sorted by ``mu_star`` descending.
    """
    from SALib.analyze import morris

    # constant Y, or one trajectory (sigma undefined: NaN): reported by the caller's "too few"
    # warning, not as numpy RuntimeWarnings
    with (
        np.errstate(divide="ignore", invalid="ignore"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = morris.analyze(
            problem,
            np.asarray(X, dtype=float),
            np.asarray(Y, dtype=float),
            num_resamples=200,
            conf_level=0.95,
            num_levels=levels,
            seed=seed,
        )
    frame = pd.DataFrame(
        {
            "parameter": problem["names"],
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )
    return frame.sort_values("mu_star", ascending=False, ignore_index=True)


def partial_dependence(
    runs: pd.DataFrame, parameter: str, outcome: str, bins: int = 8, grid: bool = False
) -> pd.DataFrame:
    """Mean outcome across the other parameters, by value (or quantile bin) of one parameter.

    Args:
        runs: sweep rows with ``point``, ``replication``, the parameter and outcome columns.
        parameter: the parameter column.
        outcome: metric name (T50/T90 read as restricted times).
        bins: quantile bins when the parameter has more than ``bins`` distinct values.
        grid: ``True`` when the points are a grid (fixed: only the seeds are random),
            ``False`` for a sampled design (the points are random too).

    Returns:
        ``value`` (level or bin mean), ``mean``, ``se``, ``low`` and ``high`` (95% interval),
        ``n`` (runs). The interval is cluster-robust (:mod:`sim.sweep.crn`): under common
        random numbers replication k of every point shares seed k, so the runs of one level
        are positively correlated and ``sd / sqrt(n)``, which treats them as independent,
        would be too narrow; ``nan`` with fewer than 3 clusters (one or two replications:
        :data:`sim.sweep.crn.MIN_CLUSTERS`).
    """
    from sim.sweep.crn import level_intervals
    from sim.sweep.shape import lever_key

    col = outcome_column(outcome)
    key = lever_key(runs[parameter], bins)
    value = runs[parameter].groupby(key, observed=True, sort=True).mean()
    out = level_intervals(runs, key, col, grid)
    out.insert(0, "value", value.to_numpy())
    return out


def response_surface(
    runs: pd.DataFrame, x: str, y: str, outcome: str, bins: int = 8
) -> pd.DataFrame:
    """Mean outcome on a (x, y) grid: levels of a grid sweep, or quantile bins otherwise.

    Returns:
        A pivot table: index = ``y`` values (bin means), columns = ``x`` values, cells = mean.
    """
    col = outcome_column(outcome)

    def key(name: str) -> pd.Series:
        s = runs[name]
        if s.nunique() <= bins:
            return s
        cut = pd.qcut(s, bins, duplicates="drop")
        return s.groupby(cut, observed=True).transform("mean")

    frame = pd.DataFrame({x: key(x), y: key(y), col: runs[col]})
    return frame.pivot_table(index=y, columns=x, values=col, aggfunc="mean")
