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

Where the differences' standard errors come from. Under common random numbers (CRN)
replication r shares its seeds at every point, so the seed's effect on a level mean is partly
shared with the other levels (a shift that cancels in the differences) and partly not. Each
pair is therefore a **paired** comparison over the replications of the table ``M[j, r]``
(mean of the runs at level j and replication r): ``D_ij[r] = M[j, r] - M[i, r]`` has the
shared shift removed, and its own spread gives the seed part of that pair's noise,
``sd_r(D_ij) / sqrt(R)`` with ``R - 1`` df (the paired comparison t test: Montgomery,
*Design and Analysis of Experiments*, sec. 2.5). Each pair gets its own noise: the seed noise
of an outcome can differ a lot between levels (small near an optimum, large at an extreme),
and one pooled level x replication mean square would be too large for the quiet pairs and too
small for the noisy ones. The spread of points within a level would not do: points that differ
only in levers that hardly matter (a dummy, most clearly) give near-identical runs under CRN,
so their spread says nothing of the seed noise between levels.

* **grid**: the other levers' levels are fixed by the design and the lever's effect is its
  average over them (as in the partial-dependence line), so only the seeds are random:
  ``se_ij^2 = var_r(D_ij) / R``, df ``R - 1``;
* **sampled designs** (Latin hypercube, Sobol', Morris): the other levers' values within a bin
  are random draws too, so the pooled within-bin variance of the point means ``s_p^2`` (df
  ``N - k``) is added: ``se_ij^2 = s_p^2 (1 / n_i + 1 / n_j) + var_r(D_ij) / R``, with the
  Welch-Satterthwaite df of that sum (Satterthwaite 1946, *Biometrics Bulletin* 2: 110-114;
  between the smaller of ``N - k`` and ``R - 1`` and their sum). ``s_p^2`` also holds each
  point's own seed noise, counted twice, which errs on the side of calling a lever monotone.

With one replication the seed part cannot be estimated and the shape is not testable.

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
        df: degrees of freedom of the noise estimate, the smallest over the pairs (``R - 1``
            for a grid; Welch-Satterthwaite for a sampled design; 0 when not testable).
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


def pair_noise(table: np.ndarray) -> tuple[np.ndarray, int]:
    """Seed part of the variance of each pairwise difference of level means, paired by
    replication (module docstring).

    Args:
        table: level x replication means ``M[j, r]``, shape ``(k, R)``, no ``nan``.

    Returns:
        ``(v, df)``: ``v[i, j] = var_r(M[j, r] - M[i, r]) / R`` (ddof 1; shape ``(k, k)``, 0 on
        the diagonal) and ``df = R - 1``; ``v`` is all ``nan`` and ``df`` 0 when ``R < 2``.
    """
    k, reps = table.shape
    if reps < 2:
        return np.full((k, k), np.nan), 0
    diff = table[None, :, :] - table[:, None, :]  # diff[i, j, r] = M[j, r] - M[i, r]
    return diff.var(axis=2, ddof=1) / reps, reps - 1


def satterthwaite(a: np.ndarray, df_a: float, b: np.ndarray, df_b: float) -> np.ndarray:
    """Welch-Satterthwaite df of the sum of two independent variance estimates ``a`` (df
    ``df_a``) and ``b`` (df ``df_b``): ``(a + b)^2 / (a^2 / df_a + b^2 / df_b)`` (Satterthwaite
    1946); ``min(df_a, df_b)`` where both are 0. Arrays broadcast."""
    den = a**2 / df_a + b**2 / df_b
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(den > 0, (a + b) ** 2 / np.where(den > 0, den, 1.0), min(df_a, df_b))
    return df


def classify(means: np.ndarray, se: np.ndarray, df: int, alpha: float = ALPHA) -> str:
    """``"peaked"``, ``"U-shaped"``, ``"up and down"`` or ``""`` for ordered level means.

    Args:
        means: level means in the lever's order, shape ``(k,)``.
        se: standard errors of the pairwise differences, shape ``(k, k)``.
        df: degrees of freedom of ``se``: one number, or one per pair (shape ``(k, k)``; the
            diagonal is not used).
        alpha: family-wise error rate of the Bonferroni-corrected pairwise t tests.

    Returns:
        The shape (see the module docstring), or ``"not testable"`` when ``k < 3`` or the
        noise has no degrees of freedom.
    """
    k = len(means)
    off = ~np.eye(k, dtype=bool)
    df = np.broadcast_to(np.asarray(df, dtype=float), (k, k))
    if k < 3 or not np.all(df[off] >= 1) or not np.all(np.isfinite(se)):
        return "not testable"
    # alpha / (2 M), M = k(k-1)/2 pairs; one quantile per pair's df
    crit = stats.t.ppf(1 - alpha / (k * (k - 1)), np.where(off, df, 1.0))
    diff = means[None, :] - means[:, None]  # diff[i, j] = m_j - m_i
    # m_j significantly above m_i (no division: se may be 0); differences of float rounding
    # (means of the same numbers summed in another order) are no differences
    tol = 1e-9 * max(float(np.abs(means).max()), 1e-300)
    above = diff > np.maximum(crit * se, tol)
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


def lever_shape(runs: pd.DataFrame, parameter: str, col: str, grid: bool, bins: int = 8) -> Shape:
    """Test whether ``col`` depends non-monotonically on ``parameter`` (module docstring).

    Args:
        runs: one row per run with ``point``, ``replication`` (missing: one replication),
            ``parameter`` and ``col``; rows where ``col`` is ``nan`` are left out.
        parameter: the lever (numeric).
        col: the outcome column.
        grid: ``True`` for a grid (the other levers fixed by the design), ``False`` for a
            sampled design.
        bins: quantile bins when the lever takes more than ``bins`` values.

    Returns:
        A :class:`Shape`.
    """
    runs = runs[runs[col].notna()]
    pts = runs.groupby("point").agg({col: "mean", parameter: "first"})
    nan = float("nan")
    if pts.empty:
        return Shape("not testable", nan, nan, 0, 0)
    key = lever_key(pts[parameter], bins).astype("category")  # categories in value order
    codes = np.unique(key.cat.codes.to_numpy(), return_inverse=True)[1]  # 0..k-1, none empty
    k, y = int(codes.max()) + 1, pts[col].to_numpy(dtype=float)
    n = np.bincount(codes, minlength=k).astype(float)
    means = np.bincount(codes, weights=y, minlength=k) / n
    level = pd.Series(codes, index=pts.index).reindex(runs["point"]).to_numpy()
    table = pd.DataFrame(
        {
            "j": level,
            "r": runs.get("replication", pd.Series(0, index=runs.index)).to_numpy(),
            "y": runs[col].to_numpy(),
        }
    )
    table = table.pivot_table(index="j", columns="r", values="y").reindex(range(k))
    complete = table.dropna(axis=1).to_numpy(dtype=float)  # replications run at every level
    var, df_r = pair_noise(complete)
    df = np.full((k, k), float(df_r))
    if not grid:
        df_p = len(y) - k
        s_p2 = float(((y - means[codes]) ** 2).sum()) / df_p if df_p > 0 else nan
        between = s_p2 * (1 / n[:, None] + 1 / n[None, :])
        df = satterthwaite(between, df_p, var, df_r) if df_p > 0 and df_r > 0 else df * 0
        var = var + between
    kind = classify(means, np.sqrt(var), df)
    spread = float(means.max() - means.min())
    least = int(np.floor(df[~np.eye(k, dtype=bool)].min())) if k > 1 else 0
    return Shape(kind, _eta(y, codes), spread, k, least if kind != "not testable" else 0)
