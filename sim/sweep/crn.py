"""Intervals of a level mean when runs share seeds: common random numbers (CRN).

In a sweep, replication r of *every* point runs with the same seeds. Runs that share a seed are
positively correlated (that is the point of CRN: it makes differences between points precise),
so the runs averaged into one level of a partial-dependence line are *not* independent: the
textbook standard error ``sd / sqrt(n)`` over the level's ``n = P x R`` runs (P points, R
replications) treats them as if they were and is too small. With an intra-seed correlation rho
among the P runs of one replication, the variance of the level mean is larger by the design
effect ``1 + (P - 1) rho`` (Kish 1965, *Survey Sampling*, sec. 5.4); with rho -> 1 the level
mean has the noise of R runs, not of P x R.

:func:`clustered_mean` therefore uses cluster-robust variances (Cameron, Gelbach & Miller 2011,
"Robust inference with multiway clustering", *J. Business & Economic Statistics* 29: 238-249):

* **grid** (the points are fixed by the design; the level mean is the average over the grid's
  other levels, so only the seeds are random): clusters = replications,
  ``V = c_R sum_r (sum_{i in r} e_i)^2 / n^2`` with ``e_i = y_i - mean`` and the small-sample
  factor ``c_G = G / (G - 1)``; for a balanced level this is ``var_r(level mean at r) / R``;
* **sampled designs** (Latin hypercube, Sobol', Morris: the other levers' values in a bin are
  random draws, and so are the seeds, crossed): two-way clustering by point and replication,
  ``V = V_point + V_replication - V_run``; when that is negative (it can be, in small
  samples) the larger one-way variance is used, as Cameron, Gelbach & Miller suggest.

The interval is ``mean +- t(0.975, G - 1) x sqrt(V)`` with G the number of replications (grid)
or the smaller of the numbers of points and replications (two-way): with few clusters the
t quantile, not 1.96, keeps the coverage near 95% (Cameron & Miller 2015, "A practitioner's
guide to cluster-robust inference", *J. Human Resources* 50: 317-372). With fewer than
:data:`MIN_CLUSTERS` clusters (G < 3: one or two replications, or, two-way, points) the
interval is ``nan``: with G = 2 the variance rests on one degree of freedom, and a trial's
half-widths within one figure ranged 0.007 to 0.135 at random, 5 of 9 bands missing the means
of R = 20 (with 1 df the half-width's own relative sd is over 70%; the t(0.975, 1) quantile
of 12.7 does not make a single variance draw reliable).

Note what this interval is for: the *level* of one mean. Under CRN the seed shift is shared by
every level, so *differences* between levels (the shape of the line) are more precise than
two overlapping bands suggest; :mod:`sim.sweep.shape` tests differences with that pairing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MIN_CLUSTERS = 3
"""Fewest clusters (replications; two-way: the smaller of points and replications) for which
:func:`level_intervals` gives an interval (module docstring)."""


def _cluster_var(e: np.ndarray, clusters: np.ndarray) -> tuple[float, int]:
    """One-way cluster-robust variance of a mean from residuals ``e``, and the cluster count."""
    _, idx = np.unique(clusters, return_inverse=True)
    sums = np.bincount(idx, weights=e)
    g = len(sums)
    if g < 2:
        return float("nan"), g
    return g / (g - 1) * float((sums**2).sum()) / len(e) ** 2, g


def clustered_mean(
    y: np.ndarray, point: np.ndarray, replication: np.ndarray, grid: bool
) -> tuple[float, float, int]:
    """Mean of one level's runs and its CRN-aware standard error (module docstring).

    Args:
        y: the level's run outcomes, shape ``(n,)`` (no ``nan``).
        point: each run's point index, shape ``(n,)``.
        replication: each run's replication index (its seeds), shape ``(n,)``.
        grid: ``True`` for a grid (points fixed: cluster by replication), ``False`` for a
            sampled design (two-way: point and replication).

    Returns:
        ``(mean, se, df)``: ``se`` is ``nan`` when it cannot be estimated, ``df`` the degrees
        of freedom of the t quantile (G - 1).
    """
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return float("nan"), float("nan"), 0
    e = y - y.mean()
    v_rep, n_rep = _cluster_var(e, replication)
    if grid:
        return float(y.mean()), float(np.sqrt(v_rep)), n_rep - 1
    v_point, n_point = _cluster_var(e, point)
    v_run, _ = _cluster_var(e, np.arange(len(y)))
    v = v_point + v_rep - v_run
    if v < 0:
        v = max(v_point, v_rep)
    return float(y.mean()), float(np.sqrt(v)), min(n_point, n_rep) - 1


def level_intervals(
    runs: pd.DataFrame, key: pd.Series, col: str, grid: bool, level: float = 0.95
) -> pd.DataFrame:
    """Mean, CRN-aware standard error and ``level`` interval of ``col`` at each level of ``key``.

    Args:
        runs: sweep rows with ``point``, ``replication`` and ``col``.
        key: the level (or bin) of each row, aligned with ``runs``.
        col: the outcome column; ``nan`` rows are left out.
        grid: see :func:`clustered_mean`.
        level: coverage of the interval, in (0, 1).

    Returns:
        One row per level in ``key``'s order: ``mean``, ``se``, ``low``, ``high`` (``nan``
        with fewer than :data:`MIN_CLUSTERS` clusters), ``n`` (runs).
    """
    rows = []
    for _, at in runs.assign(_key=key).groupby("_key", observed=True, sort=True):
        at = at[at[col].notna()]
        mean, se, df = clustered_mean(
            at[col].to_numpy(), at["point"].to_numpy(), at["replication"].to_numpy(), grid
        )
        if df + 1 < MIN_CLUSTERS:
            se = float("nan")
        half = float(stats.t.ppf(0.5 + level / 2, df)) * se if df >= 1 else float("nan")
        rows.append({"mean": mean, "se": se, "low": mean - half, "high": mean + half, "n": len(at)})
    return pd.DataFrame(rows, columns=["mean", "se", "low", "high", "n"])
