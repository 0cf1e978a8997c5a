"""Is a lever's effect monotone? A check beside Spearman's rho, which only sees monotone effects.

Spearman's rho measures how *monotonically* the outcome follows a lever. A lever with a strong
U-shaped or peaked effect has |rho| near 0 (the rise and the fall cancel), and a report that
reads |rho| < 0.1 as "flat" would call it flat. :func:`lever_shape` looks at the lever's level
means instead (the levels of a grid, or quantile bins of a sample, as in the partial-dependence
figure) and asks whether they rise *and* fall by more than their noise.

The test (all pairwise differences of ordered level means, Bonferroni-corrected):

* each pair of levels ``i < j`` is compared with a t statistic ``(m_j - m_i) / se_ij``, against
  ``t(1 - alpha / (2 M), df)`` with ``M = k (k - 1) / 2`` pairs and ``alpha = 0.05``
  (Bonferroni, e.g. Hochberg & Tamhane 1987, *Multiple Comparison Procedures*);
* the effect is **peaked** when the highest level mean is significantly above a level on its
  left and one on its right, **U-shaped** when the lowest is significantly below both sides,
  and **up and down** when both hold or when some pair rises and another falls significantly
  without either pattern. Under any monotone truth one of the two differences so declared is
  in the wrong direction, so a monotone lever is called non-monotone with probability at most
  ``alpha`` (the family-wise error of the Bonferroni comparisons).

Where the differences' standard errors come from (so that the test is neither blind to the
noise nor to common random numbers, CRN, under which replication r shares its seeds at every
point):

* **complete grid** (each level of the lever meets every combination of the others' levels
  exactly once): a randomised-block analysis of the point means with the combinations as
  blocks (Montgomery, *Design and Analysis of Experiments*, ch. 4). The other levers' main
  effects cancel in the differences; their interactions with the lever and the seed noise are
  the error. With no other lever, the blocks are the replications (runs at one replication
  share their seeds, so their differences are paired, as CRN intends);
* **otherwise** (Latin hypercube, Sobol', Morris samples): a one-way analysis of the point
  means by bin: the other levers' values within a bin, and the seed noise, are the error. A
  seed shift common to all points (CRN) moves every level mean alike and cancels in the
  differences, so it rightly does not count.

The size of the effect is reported as the range of the level means (outcome units) and the
correlation ratio eta (Pearson 1905; eta^2 = between-level sum of squares / total sum of
squares of the point means, in [0, 1]), which, unlike rho, does not need the effect to be
monotone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
"""Family-wise error rate of the pairwise comparisons (a monotone lever is called non-monotone
at most this often)."""
NON_MONOTONE = ("peaked", "U-shaped", "up and down")
"""The :attr:`Shape.kind` values that say the effect is not monotone."""


@dataclass(frozen=True)
class Shape:
    """What :func:`lever_shape` found.

    Attributes:
        kind: ``"peaked"``, ``"U-shaped"``, ``"up and down"``, ``""`` (no significant rise and
            fall: monotone or flat as far as the noise shows) or ``"not testable"`` (fewer than
            3 levels, or no degrees of freedom left for the noise).
        eta: correlation ratio of the point means on the levels, in [0, 1] (``nan`` when the
            point means are constant or absent).
        spread: largest minus smallest level mean, in the outcome's units.
        levels: number of levels (or bins).
        df: degrees of freedom of the noise estimate (0 when not testable).
    """

    kind: str
    eta: float
    spread: float
    levels: int
    df: int


def lever_key(x: pd.Series, bins: int = 8) -> pd.Series:
    """The level of each row: ``x`` itself when it takes at most ``bins`` values, else its
    quantile bin (``pd.qcut``, equal counts; the partial-dependence figure's binning)."""
    return x if x.nunique() <= bins else pd.qcut(x, bins, duplicates="drop")


def _eta(y: np.ndarray, groups: np.ndarray) -> float:
    """Correlation ratio eta of ``y`` on integer ``groups`` (Pearson 1905)."""
    total = float(((y - y.mean()) ** 2).sum())
    if not total > 0:
        return float("nan")
    between = sum(
        (groups == g).sum() * (y[groups == g].mean() - y.mean()) ** 2 for g in np.unique(groups)
    )
    return float(np.sqrt(min(1.0, between / total)))


def _blocked(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Level means, pairwise standard errors and df of a levels x blocks table (randomised
    blocks: error = residual of the additive fit, se = sqrt(2 MSE / blocks))."""
    k, b = matrix.shape
    resid = matrix - matrix.mean(1, keepdims=True) - matrix.mean(0, keepdims=True) + matrix.mean()
    df = (k - 1) * (b - 1)
    mse = float((resid**2).sum()) / df if df > 0 else float("nan")
    return matrix.mean(1), np.full((k, k), np.sqrt(2 * mse / b)), df


def _one_way(y: np.ndarray, groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Level means, pairwise standard errors and df of a one-way layout (pooled variance)."""
    n = np.bincount(groups, minlength=k).astype(float)
    means = np.bincount(groups, weights=y, minlength=k) / n
    df = len(y) - k
    mse = float(((y - means[groups]) ** 2).sum()) / df if df > 0 else float("nan")
    return means, np.sqrt(mse * (1 / n[:, None] + 1 / n[None, :])), df


def classify(means: np.ndarray, se: np.ndarray, df: int, alpha: float = ALPHA) -> str:
    """``"peaked"``, ``"U-shaped"``, ``"up and down"`` or ``""`` for ordered level means.

    Args:
        means: level means in the lever's order, shape ``(k,)``.
        se: standard errors of the pairwise differences, shape ``(k, k)``.
        df: degrees of freedom of ``se``.
        alpha: family-wise error rate of the Bonferroni-corrected pairwise t tests.

    Returns:
        The shape (see the module docstring), or ``"not testable"`` when ``k < 3`` or the
        noise has no degrees of freedom.
    """
    k = len(means)
    if k < 3 or df < 1 or not np.all(np.isfinite(se)):
        return "not testable"
    crit = float(stats.t.ppf(1 - alpha / (k * (k - 1)), df))  # alpha / (2 M), M = k(k-1)/2
    diff = means[None, :] - means[:, None]  # diff[i, j] = m_j - m_i
    above = diff > crit * se  # m_j significantly above m_i (no division: se may be 0)
    later = np.triu(np.ones((k, k), dtype=bool), 1)  # i < j
    top, low = int(np.argmax(means)), int(np.argmin(means))
    peaked = above[:top, top].any() and above[top + 1 :, top].any()
    u_shaped = above[low, :low].any() and above[low, low + 1 :].any()
    if peaked and u_shaped:
        return "up and down"
    if peaked or u_shaped:
        return "peaked" if peaked else "U-shaped"
    rises, falls = (above & later).any(), (above.T & later).any()
    return "up and down" if rises and falls else ""


def lever_shape(
    runs: pd.DataFrame, parameter: str, others: list[str], col: str, bins: int = 8
) -> Shape:
    """Test whether ``col`` depends non-monotonically on ``parameter`` (module docstring).

    Args:
        runs: one row per run with ``point``, ``replication``, the parameter columns and
            ``col``; rows where ``col`` is ``nan`` are left out.
        parameter: the lever (numeric).
        others: the other numeric levers of the sweep (for the grid's blocks).
        col: the outcome column.
        bins: quantile bins when the lever takes more than ``bins`` values.

    Returns:
        A :class:`Shape`.
    """
    runs = runs[runs[col].notna()]
    pts = runs.groupby("point").agg(
        {col: "mean", parameter: "first", **dict.fromkeys(others, "first")}
    )
    if pts.empty:
        return Shape("not testable", float("nan"), float("nan"), 0, 0)
    key = lever_key(pts[parameter], bins).astype("category")  # categories in value order
    codes = np.unique(key.cat.codes.to_numpy(), return_inverse=True)[1]  # 0..k-1, none empty
    k, y = int(codes.max()) + 1, pts[col].to_numpy(dtype=float)
    matrix = _grid_matrix(runs, pts, codes, others, col, k)
    means, se, df = _blocked(matrix) if matrix is not None else _one_way(y, codes, k)
    kind = classify(means, se, df)
    spread = float(means.max() - means.min())
    return Shape(kind, _eta(y, codes), spread, k, df if kind != "not testable" else 0)


def _grid_matrix(
    runs: pd.DataFrame, pts: pd.DataFrame, codes: np.ndarray, others: list[str], col: str, k: int
) -> np.ndarray | None:
    """The levels x blocks table of a complete grid (blocks: combinations of the other levers,
    or replications when no other lever varies), or ``None`` when the design is not one."""
    varying = [o for o in others if pts[o].nunique() > 1]
    if varying:
        combo = pts[varying].astype(str).agg("|".join, axis=1).to_numpy()
        table = pd.DataFrame({"level": codes, "block": combo, "y": pts[col].to_numpy()})
    elif np.bincount(codes, minlength=k).max() == 1 and "replication" in runs:
        # one point per level and no other lever: pair its runs by replication (CRN)
        level = pd.Series(codes, index=pts.index).reindex(runs["point"]).to_numpy()
        table = pd.DataFrame(
            {"level": level, "block": runs["replication"].to_numpy(), "y": runs[col].to_numpy()}
        )
    else:
        return None
    if table.duplicated(["level", "block"]).any():
        return None  # not a grid: several points of a level share the other levers' values
    matrix = table.pivot(index="level", columns="block", values="y").reindex(range(k))
    matrix = matrix.dropna(axis=1)  # blocks with the outcome undefined somewhere: left out
    return matrix.to_numpy(dtype=float) if matrix.shape[1] >= 2 else None
