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
"""

from __future__ import annotations

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


def reading(method: str) -> str:
    """The sentence saying how to read the floor (``method``: ``sobol`` or ``morris``)."""
    key, rate = ("ST", "1/R") if method == "sobol" else ("mu*", "1/sqrt(R)")
    return (
        f"How to read it: a {key} near or below the floor may be seed noise rather than an "
        f"effect of the lever; more replications per point lower the floor (as {rate})."
    )


def noise_text(noise: SeedNoise, method: str, indices: pd.DataFrame | None = None) -> str:
    """One paragraph on the seed noise for the printed summary and ``sensitivity.md``.

    Args:
        noise: :func:`seed_noise` output.
        method: ``sobol`` or ``morris``.
        indices: the indices table, to name the levers below the floor (optional).

    Returns:
        e.g. ``"Seed noise (R = 4 replications per point): 12% of the run-level variance is
        seed noise within a point ... a lever with no effect would get ST ~ 0.031 ..."``.
    """
    head = f"Seed noise (R = {noise.replications} replications per point):"
    if noise.replications < 2:
        return f"{head} not estimable with one replication per point. {reading(method)}"
    if not np.isfinite(noise.floor):
        return f"{head} not estimable (the point means do not vary)."
    key = "ST" if method == "sobol" else "mu_star"
    floor = f"{noise.floor:.3f}" if method == "sobol" else f"{noise.floor:.4g}"
    text = (
        f"{head} {noise.within_share:.0%} of the run-level variance is seed noise within a "
        "point (variance components: within-point over within- plus between-point); a point "
        f"mean carries seed noise of sd {noise.noise_sd:.4g} (after the shift common random "
        "numbers give every point alike), so a lever with no effect would get "
        f"{key} ~ {floor} from seed noise alone (an upper estimate: points that differ in one "
        "lever share part of their noise)."
    )
    if indices is not None and "parameter" in indices:
        below = indices.loc[indices[key] < noise.floor, "parameter"].tolist()
        text += f" Below this floor: {', '.join(below)}." if below else " No lever is below it."
    return f"{text} {reading(method)}"
