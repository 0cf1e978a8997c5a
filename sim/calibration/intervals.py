"""Uncertainty of a fitted adoption model (:mod:`sim.calibration.fit`).

95% intervals come from the profile likelihood (``2 x drop <= 3.84``, the other parameters
re-fitted at each trial value) or a parametric bootstrap (simulate the fit on the same people
and network, refit, percentiles); Wald standard errors from the observed information. Whether
peer influence is distinguishable from 0 is a likelihood-ratio test of ``q = 0`` on the
boundary of the parameter space (p-value ``0.5 P(chi2_1 > LR)``, Self & Liang 1987). With fitted
onsets, profile intervals and the test are conditional on them; bootstrap refits re-fit them.
"""

from __future__ import annotations

import os

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import brentq
from scipy.stats import chi2
from tqdm.auto import tqdm

from sim.calibration.data import AdoptionData
from sim.calibration.fit import CHI2_95_HALF, Fit, _Design, _minimise, fit
from sim.calibration.process import simulate_periods
from sim.worker_start import sigint_ignored_by_new_workers

__all__ = [
    "bootstrap_intervals",
    "peer_test",
    "profile_intervals",
    "profile_nll",
    "standard_errors",
]


def standard_errors(data: AdoptionData, result: Fit) -> Fit:
    """Wald standard errors (in place): square roots of the diagonal of the inverse observed
    information (central-difference Hessian of the negative log-likelihood) over the
    parameters not on a bound; NaN for those on a bound or if the Hessian is not positive
    definite."""
    design = _Design(data, result.spec, result.onset)
    x0 = result.estimate
    bounds = np.array(result.spec.bounds(data.n_groups))
    h = 1e-4 * np.maximum(np.abs(x0), 1e-2)
    free = np.flatnonzero((x0 - bounds[:, 0] > 2 * h) & (bounds[:, 1] - x0 > 2 * h))
    se = np.full(x0.size, np.nan)
    hess = np.empty((free.size, free.size))
    for a, i in enumerate(free):
        for b, j in enumerate(free[: a + 1]):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                x = x0.copy()
                x[i] += si * h[i]
                x[j] += sj * h[j]
                total += sign * design.nll(x)
            hess[a, b] = hess[b, a] = total / (4 * h[i] * h[j])
    try:
        cov = np.linalg.inv(hess) if free.size else hess
        diag = np.diag(cov)
        se[free] = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
    except np.linalg.LinAlgError:
        pass
    result.se = se
    return result


def profile_nll(data: AdoptionData, result: Fit, index: int, value: float) -> float:
    """Profile negative log-likelihood: parameter ``index`` fixed at ``value``, the others
    re-optimised from the estimate."""
    return _Profile(_Design(data, result.spec, result.onset), result, index)(value)


class _Profile:
    def __init__(self, design: _Design, result: Fit, index: int) -> None:
        self.design, self.result, self.index = design, result, index
        self.bounds = result.spec.bounds(design.data.n_groups)
        self.others = [b for i, b in enumerate(self.bounds) if i != index]
        self.warm = np.delete(result.estimate, index)

    def __call__(self, value: float) -> float:
        def fun(rest: np.ndarray) -> float:
            return self.design.nll(np.insert(rest, self.index, value))

        x, f = _minimise(fun, self.warm, self.others)
        self.warm = x
        return f


def _limit(prof: _Profile, est: float, bound: float, target: float) -> float:
    """Where the profile crosses ``target`` between ``est`` and ``bound`` (or ``bound``)."""
    prof.warm = np.delete(prof.result.estimate, prof.index)
    step = max(abs(est) * 0.25, 1e-3) * np.sign(bound - est)
    inside = est
    for _ in range(40):
        trial = est + step
        if (bound - trial) * np.sign(step) <= 0:
            trial = bound
        if prof(trial) > target:
            return float(brentq(lambda v: prof(v) - target, inside, trial, xtol=1e-6, rtol=1e-5))
        if trial == bound:
            return float(bound)
        inside, step = trial, step * 2
    return float("nan")


def profile_intervals(data: AdoptionData, result: Fit, progress: bool | None = False) -> Fit:
    """95% profile-likelihood intervals of every free parameter (in place; returns ``result``).

    A limit at a parameter bound (e.g. ``q = 0``) means the drop never reaches 1.92 there.
    Each limit re-fits all other parameters many times, so with a push per group (25 villages:
    27 parameters) this takes minutes; ``progress`` shows a tqdm bar of the parameters on
    stderr (``None`` = only on a terminal).
    """
    design = _Design(data, result.spec, result.onset)
    target = result.nll + CHI2_95_HALF
    bounds = result.spec.bounds(data.n_groups)
    disable = None if progress is None else not progress
    with tqdm(total=len(bounds), desc="profile intervals", unit="par", disable=disable) as bar:
        for i, (lo_b, hi_b) in enumerate(bounds):
            prof = _Profile(design, result, i)
            est = float(result.estimate[i])
            result.lower[i] = lo_b if est - lo_b < 1e-9 else _limit(prof, est, lo_b, target)
            result.upper[i] = _limit(prof, est, hi_b, target)
            bar.update(1)
    result.interval_method = "profile"
    return result


def bootstrap_intervals(
    data: AdoptionData,
    result: Fit,
    n_boot: int,
    rng: np.random.Generator,
    progress: bool | None = False,
    jobs: int = 1,
) -> tuple[Fit, np.ndarray]:
    """Parametric-bootstrap 95% percentile intervals (in place).

    Simulates ``n_boot`` data sets from the estimate on the same people and network, refits
    each from the estimate (re-searching onsets if they are fitted) and takes the 2.5% and
    97.5% percentiles. All data sets are drawn from ``rng`` before any refit, and a refit is
    deterministic, so the draws are identical for every ``jobs``.

    Args:
        data: Observed data (people, groups, network).
        result: The fit; its ``lower``/``upper`` are set in place.
        n_boot: Bootstrap data sets, >= 1.
        rng: Generator of the simulated data sets.
        progress: tqdm bar of refits (``None`` = only on a terminal).
        jobs: Worker processes for the refits (joblib's default back end); 1 = in this
            process, -1 = all cores.

    Returns:
        ``(result, draws)`` with the refitted estimates, shape ``(n_boot, k)``.
    """
    params = result.params(data.n_groups)
    periods = simulate_periods(data, params, result.spec, n_boot, rng)
    n_jobs = (os.cpu_count() or 1) if jobs == -1 else max(int(jobs), 1)
    size = max(1, n_boot // (8 * n_jobs)) if n_jobs > 1 else 1  # ~8 parts per worker
    parts = [periods[i : i + size] for i in range(0, n_boot, size)]
    task = delayed(_refit_part)
    if n_jobs > 1 and len(parts) > 1:
        with sigint_ignored_by_new_workers():  # the call starts the workers
            refits = Parallel(n_jobs=n_jobs, return_as="generator")(
                task(data, result, p) for p in parts
            )
    else:
        refits = (_refit_part(data, result, p) for p in parts)
    disable = None if progress is None else not progress
    draws_parts = []
    with tqdm(total=n_boot, desc="bootstrap refits", unit="fit", disable=disable) as bar:
        for est in refits:
            draws_parts.append(est)
            bar.update(len(est))
    draws = np.concatenate(draws_parts, axis=0)
    result.lower, result.upper = np.percentile(draws, [2.5, 97.5], axis=0)
    result.interval_method = "bootstrap"
    return result, draws


def _refit_part(data: AdoptionData, result: Fit, periods: np.ndarray) -> np.ndarray:
    """Refit ``result``'s model to each simulated data set; ``periods`` shape ``(b, n)`` ->
    estimates ``(b, k)``."""
    return np.array(
        [
            fit(data.with_periods(per), result.spec, result.estimate, result.onset, False).estimate
            for per in periods
        ]
    )


def peer_test(data: AdoptionData, result: Fit) -> dict[str, float]:
    """Likelihood-ratio test of no peer influence (``q = 0``), boundary-corrected.

    Returns:
        ``{"lr": 2 (nll_0 - nll), "p_value": 0.5 P(chi2_1 > lr), "nll_q0": nll_0}``.
    """
    i = result.names.index("q")
    nll0 = profile_nll(data, result, i, 0.0)
    lr = max(2.0 * (nll0 - result.nll), 0.0)
    return {"lr": lr, "p_value": float(0.5 * chi2.sf(lr, 1)) if lr > 0 else 1.0, "nll_q0": nll0}
