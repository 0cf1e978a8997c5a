"""How large is the replication (seed) noise beside the Sobol / Morris effects?

Each point of a sensitivity sample runs R replications, and the indices are computed from the
point means. Under common random numbers (CRN) replication r uses the same seeds at every
point, so a run is, in a two-way layout,

    y[p, r] = mu[p] + b[r] + e[p, r]

with ``mu[p]`` the point's effect, ``b[r]`` the seed's shift common to every point and
``e[p, r]`` the part of the seed's effect that differs between points (a lever the model reads
changes each run's random path). ``b[r]`` moves every point alike and cancels in the indices
(they compare points); ``e`` does not. :func:`seed_noise` estimates:

* the **within-point share** of the run-level variance, from the variance components of the
  one-way random-effects ANOVA by point (Searle, Casella & McCulloch 1992, *Variance
  Components*, ch. 3): within-point variance ``sigma_w^2 = MS_within`` (``P (R - 1)`` df),
  between-point variance ``sigma_b^2 = max(0, (MS_between - MS_within) / R)``, share
  ``sigma_w^2 / (sigma_w^2 + sigma_b^2)`` in [0, 1]. (The ratio of the sums of squares would
  shrink as about ``(R - 1) / R``: half the true share at R = 2.)
* the **noise of a point mean**: ``sigma_n^2 = MSE / R``, with MSE the residual mean square of
  the additive two-way fit (points x replications; Montgomery, *Design and Analysis of
  Experiments*, ch. 5), which estimates ``var(e)`` with ``b`` removed;
* the **floor** an index of a lever with *no* effect would reach from that noise alone,
  were the noise independent between points:

  - Sobol: the total index is ``E[(f(A) - f(AB_i))^2] / (2 V)`` (Jansen 1999, the estimator
    SALib uses); noise of variance ``sigma_n^2`` at each of the two points adds
    ``2 sigma_n^2 / (2 V)``, so the floor is ``ST_noise = sigma_n^2 / V``, V the variance of
    the point means;
  - Morris: an elementary effect is ``(y(x + Delta e_i) - y(x)) / Delta`` with ``Delta = L /
    (2 (L - 1))`` on the unit scale for L levels (SALib's unscaled effects); its noise is
    normal with sd ``sqrt(2) sigma_n / Delta``, and the mean of its absolute value (the
    half-normal mean, ``sd sqrt(2 / pi)``) is ``mu*_noise = 2 sigma_n / (sqrt(pi) Delta)``.

Under CRN, points that differ in one lever share part of ``e`` (a dummy shares all of it: its
index is exactly 0), so a real lever's noise contribution is at most about the floor: it is an
upper estimate, not a threshold to clear exactly.

:func:`lever_noise` therefore also estimates **each lever's own** noise term from the pairs of
points the estimator compares, whose runs share replication seeds:

* Sobol: Jansen's ST_i averages ``d_n^2`` with ``d_n = f(A_n) - f(AB_i,n)`` (point means); the
  seed noise of ``d_n`` has variance ``var_r(d_n,r) / R`` (``d_n,r`` the difference at
  replication r, ddof 1), which adds its mean over n, over ``2 V``, to ST_i: that is
  ``ST_noise``, V the variance of the A and B point means (as SALib divides by);
* Morris: each elementary effect's seed noise has variance ``var_r(y_r(x + Delta e_i) -
  y_r(x)) / (R Delta^2)``; with its mean over the trajectories, ``s_i^2``, ``mu_star_noise =
  s_i sqrt(2 / pi)``, the half-normal mean: the mu* of a lever with no effect but this noise.

A lever whose index is within twice its own noise term owes at least half of it, on average,
to seed noise. Both terms are unbiased for the noise part (a variance estimate over R
replications), so a single run's estimate is itself noisy with few replications.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeedNoise:
    """Seed noise of one outcome in a sensitivity sample (see the module docstring).

    Attributes:
        replications: R, replications per point used.
        within_share: within-point (seed) share of the run-level variance, from the
            random-effects variance components (:func:`within_share`), in [0, 1] (``nan`` when
            the runs do not vary).
        noise_sd: sd of a point mean's seed noise, common shift removed (outcome units).
        floor: Sobol ``ST_noise`` (share of the point means' variance) or Morris
            ``mu*_noise`` (outcome units); ``nan`` when not estimable.
    """

    replications: int
    within_share: float
    noise_sd: float
    floor: float


def seed_noise(runs: pd.DataFrame, col: str, method: str, levels: int = 4) -> SeedNoise:
    """Estimate the seed noise of ``col`` from a sensitivity sample's runs.

    Args:
        runs: one row per run with ``point``, ``replication`` and ``col``. Points with a
            missing run or outcome are left out (the layout must be complete).
        col: the outcome column.
        method: ``sobol`` or ``morris``.
        levels: Morris grid levels L (for ``Delta``); ignored for Sobol.

    Returns:
        A :class:`SeedNoise`; with one replication per point (or fewer than 2 complete
        points) every estimate but ``replications`` is ``nan``.

    Raises:
        ValueError: ``method`` is not ``sobol`` or ``morris``, or ``levels`` < 2.
    """
    if method not in ("sobol", "morris") or levels < 2:
        raise ValueError(
            f"seed_noise: method must be sobol or morris and levels >= 2, got {method!r}, {levels}"
        )
    table = runs.pivot_table(index="point", columns="replication", values=col, aggfunc="first")
    y = table.dropna(axis=0).to_numpy(dtype=float)  # complete points only
    n_points, reps = y.shape
    nan = float("nan")
    if reps < 2 or n_points < 2:
        return SeedNoise(reps, nan, nan, nan)
    point_means = y.mean(axis=1)
    resid = y - point_means[:, None] - y.mean(axis=0)[None, :] + y.mean()
    mse = float((resid**2).sum()) / ((n_points - 1) * (reps - 1))
    noise_sd = float(np.sqrt(mse / reps))
    if method == "sobol":
        var = float(np.var(point_means, ddof=1))
        floor = noise_sd**2 / var if var > 0 else nan
    else:
        delta = levels / (2.0 * (levels - 1))
        floor = 2.0 * noise_sd / (np.sqrt(np.pi) * delta)
    return SeedNoise(reps, within_share(y), noise_sd, float(floor))


NOISE_COLUMN = {"sobol": "ST_noise", "morris": "mu_star_noise"}
"""Name of the per-lever noise column in the indices table, per method."""
WITHIN_NOISE = 2.0
"""A lever whose index is below this multiple of its own noise term is named: at least half
of its index may be seed noise (the term is the noise's expected contribution)."""


def _mean(v: np.ndarray) -> float:
    """Mean of the finite values of ``v`` (``nan`` when there are none; no warning)."""
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _pair_var(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``var_r(y[second, r] - y[first, r]) / R`` for each row pair (ddof 1, ``nan``-aware:
    R counts the replications present at both points; ``nan`` with fewer than 2)."""
    d = y[second] - y[first]
    n = np.sum(np.isfinite(d), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nansum(d, axis=1) / n
        var = np.nansum((d - mean[:, None]) ** 2, axis=1) / (n - 1)
        return np.where(n >= 2, var / n, np.nan)


def lever_noise(
    runs: pd.DataFrame, col: str, X: np.ndarray, method: str,
    bounds: Sequence[Sequence[float]], levels: int = 4,
) -> np.ndarray:  # fmt: skip
    """Each lever's own seed-noise term of its Sobol ST or Morris mu* (module docstring).

    Args:
        runs: one row per run with ``point``, ``replication`` and ``col``.
        col: the outcome column.
        X: the design, shape ``(n_points, d)``, in SALib's order (Saltelli rows ``A, AB_1 ..
            AB_d, B`` per base row; Morris trajectories of ``d + 1`` rows).
        method: ``sobol`` or ``morris``.
        bounds: each lever's ``[low, high]`` (to find the lever a Morris step moves).
        levels: Morris grid levels L (``Delta = L / (2 (L - 1))``); ignored for Sobol.

    Returns:
        Shape ``(d,)`` in ``X``'s column order: ``ST_noise`` (share of the point means'
        variance) or ``mu_star_noise`` (outcome units); ``nan`` where fewer than 2
        replications were run or the point means do not vary (Sobol).

    Raises:
        ValueError: ``method`` is not ``sobol`` or ``morris``.
    """
    n_points, d = X.shape
    table = runs.pivot_table(index="point", columns="replication", values=col, aggfunc="first")
    y = table.reindex(range(n_points)).to_numpy(dtype=float)
    if method == "sobol":
        step = d + 2
        a, b = np.arange(0, n_points, step), np.arange(step - 1, n_points, step)
        means = np.array([_mean(row) for row in y])
        var = float(np.var(np.r_[means[a], means[b]]))
        if not var > 0:
            return np.full(d, np.nan)
        return np.array([_mean(_pair_var(y, a, a + 1 + i)) / (2 * var) for i in range(d)])
    if method != "morris":
        raise ValueError(f"lever_noise: method must be sobol or morris, got {method!r}")
    scale = np.diff(np.asarray(bounds, dtype=float), axis=1).ravel()
    first = np.array([t + k for t in range(0, n_points, d + 1) for k in range(d)])
    moved = np.argmax(np.abs(X[first + 1] - X[first]) / scale, axis=1)
    pair = _pair_var(y, first, first + 1)
    delta = levels / (2.0 * (levels - 1))
    s2 = np.array([_mean(pair[moved == i]) for i in range(d)])
    return np.sqrt(s2) / delta * np.sqrt(2 / np.pi)


def within_share(y: np.ndarray) -> float:
    """Within-point share of the run-level variance, from the one-way random-effects ANOVA
    variance components (Searle, Casella & McCulloch 1992, *Variance Components*, sec. 3.5).

    Args:
        y: runs, shape ``(P, R)`` (points x replications, ``P, R >= 2``, no ``nan``).

    Returns:
        ``sigma_w^2 / (sigma_w^2 + sigma_b^2)`` with ``sigma_w^2 = MS_within`` and ``sigma_b^2
        = max(0, (MS_between - MS_within) / R)``, in [0, 1]; ``nan`` when the runs do not vary.
    """
    n_points, reps = y.shape
    point_means = y.mean(axis=1)
    ms_within = float(((y - point_means[:, None]) ** 2).sum()) / (n_points * (reps - 1))
    ms_between = reps * float(((point_means - y.mean()) ** 2).sum()) / (n_points - 1)
    between = max(0.0, (ms_between - ms_within) / reps)
    total = ms_within + between
    return ms_within / total if total > 0 else float("nan")


def reading(method: str, estimable: bool = True) -> str:
    """The sentence saying how to read the floor (``method``: ``sobol`` or ``morris``);
    ``estimable=False`` (one replication): how to get one."""
    key, rate = ("ST", "1/R") if method == "sobol" else ("mu*", "1/sqrt(R)")
    if not estimable:
        return (
            "Run at least 2 replications per point to size it: until then a small "
            f"{key} cannot be told apart from seed noise."
        )
    return (
        "How to read it: the floor is a summary for the outcome, not a bound for each lever. "
        "Under common random numbers points that differ in one lever share part of their "
        f"noise, so a lever's own seed noise (the {NOISE_COLUMN[method]} column, from the "
        "replications of the pairs of points its index compares) is usually smaller; "
        f"{'an' if key == 'ST' else 'a'} {key} within {WITHIN_NOISE:g}x of its own noise may be "
        "mostly seed noise rather than an effect of the lever. More replications per point "
        f"lower both (as {rate})."
    )


def _lever_lists(noise: SeedNoise, method: str, indices: pd.DataFrame) -> str:
    """The sentences naming the levers below the floor and those within
    :data:`WITHIN_NOISE` x their own noise term (``indices`` with ``parameter``)."""
    key, col = ("ST" if method == "sobol" else "mu_star"), NOISE_COLUMN[method]
    below = indices.loc[indices[key] < noise.floor, "parameter"].tolist()
    text = f" Below this floor: {', '.join(below)}." if below else " No lever is below it."
    if col in indices:
        own = indices.loc[indices[key] < WITHIN_NOISE * indices[col], "parameter"].tolist()
        text += (
            f" Within {WITHIN_NOISE:g}x of their own seed noise ({key} < {WITHIN_NOISE:g} x "
            f"{col}): {', '.join(own)}."
            if own
            else f" No lever's {key} is within {WITHIN_NOISE:g}x of its own seed noise ({col})."
        )
    return text


def _three_figures(value: float) -> str:
    """An amount in the outcome's units to 3 significant figures, as the paragraphs beside
    this one give theirs (``mu_star 5.77``; ``0.324``); whole with thousands separators from
    1,000 (costs: ``12,480``, not ``1.248e+04``)."""
    return f"{value:,.0f}" if abs(value) >= 999.5 else f"{value:.3g}"


def noise_text(noise: SeedNoise, method: str, indices: pd.DataFrame | None = None) -> str:
    """One paragraph on the seed noise for the printed summary and ``sensitivity.md``.

    Args:
        noise: :func:`seed_noise` output.
        method: ``sobol`` or ``morris``.
        indices: the indices table, to name the levers below the floor and, when it has the
            :data:`NOISE_COLUMN`, those within :data:`WITHIN_NOISE` x their own noise
            (optional).

    Returns:
        e.g. ``"Seed noise (R = 4 replications per point): 12% of the run-level variance is
        seed noise within a point ... a lever with no effect would get ST ~ 0.031 ..."``.
    """
    reps = noise.replications
    if reps < 2:
        return (
            f"Seed noise: not estimable with {'one replication' if reps == 1 else 'no runs'} "
            f"per point, so there is no noise floor. {reading(method, estimable=False)}"
        )
    head = f"Seed noise (R = {reps} replications per point):"
    if not np.isfinite(noise.floor):
        return f"{head} not estimable (the point means do not vary)."
    key = "ST" if method == "sobol" else "mu_star"
    floor = f"{noise.floor:.3f}" if method == "sobol" else _three_figures(noise.floor)
    text = (
        f"{head} {noise.within_share:.0%} of the run-level variance is seed noise within a "
        "point (variance components: within-point over within- plus between-point); a point "
        f"mean carries seed noise of sd {_three_figures(noise.noise_sd)} (after the shift "
        "common random numbers give every point alike), so a lever with no effect would get "
        f"{key} ~ {floor} from seed noise alone, were the noise of two points independent."
    )
    if indices is not None and "parameter" in indices:
        text += _lever_lists(noise, method, indices)
    return f"{text} {reading(method)}"
