"""The calibration pipeline, :func:`calibrate` (pure functions, no CLI; re-exported by
:mod:`sim.calibration`).

Exact discrete-time likelihood of the observed adoption sequence given the fixed network
(:mod:`sim.calibration.fit`), 95% profile-likelihood or parametric bootstrap intervals, a
boundary likelihood-ratio test of ``q = 0`` (is peer influence distinguishable from the external
push? Van den Bulte & Lilien 2001), forward simulations of the fitted process per group
(:mod:`sim.calibration.process`) compared with the observed curves (:func:`curve_targets`), and
the exposure-at-adoption statistic against a within-group permutation null. Random draws come
from named streams of one root seed (:func:`stream`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.data import AdoptionData, CalibrationDataError, check_identifiable, describe
from sim.calibration.fit import Fit, at_bound, compare_models, fit
from sim.calibration.intervals import (
    bootstrap_intervals,
    peer_test,
    profile_intervals,
    standard_errors,
)
from sim.calibration.process import (
    ModelSpec,
    Params,
    curve_table,
    first_reaching,
    group_curves,
    permutation_test,
    simulate_periods,
)
from sim.rng import DEFAULT_SEED

GAP_TOLERANCE = 0.10  # max |simulated median - observed| share adopted, every period
STREAM_SIMULATION, STREAM_PERMUTATION, STREAM_BOOTSTRAP = 0, 1, 2


def stream(seed: int, key: int) -> np.random.Generator:
    """Generator of one named stream: ``SeedSequence(seed, spawn_key=(key,))`` (PCG64)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


@dataclass
class CalibrationResult:
    """Everything :func:`calibrate` computes (tables are pandas DataFrames)."""

    fit: Fit
    params: Params
    peer: dict[str, float]
    comparison: pd.DataFrame | None
    curves: pd.DataFrame
    targets: pd.DataFrame
    permutation: dict[str, Any]
    seeds: dict[str, Any]
    data_summary: dict[str, Any]
    timings_s: dict[str, float] = field(default_factory=dict)
    bootstrap_draws: np.ndarray | None = None
    band: pd.DataFrame | None = field(default=None, repr=False)
    """Per-group check of the observed curve against the simulated 95% band, filled on first
    use by :func:`sim.calibration.verdict.fit_check`."""


def curve_targets(sim: np.ndarray, data: AdoptionData, tol: float = GAP_TOLERANCE) -> pd.DataFrame:
    """Per-group comparison of simulated and observed cumulative curves.

    The simulated curve is the pointwise median over simulations. ``t50`` is the first time
    (data units) with >= 50% adopted; saturation is the share adopted by the last period.

    Args:
        sim: Simulated curves, shape ``(S, T, G)``.
        data: Observed data.
        tol: Gap tolerance for ``share_sims_within_tol``.

    Returns:
        One row per group: ``group, n, obs_saturation, sim_saturation, sat_low, sat_high,
        obs_t50, sim_t50, t50_low, t50_high, max_gap, gap_time, gap_low, gap_high,
        share_sims_within_tol``. Intervals are 2.5-97.5% over simulations (nearest simulated
        value: shares and months are discrete); ``gap_low/high`` and
        ``share_sims_within_tol`` describe how far single simulated realisations stray
        from their own median (the noise against which ``max_gap`` is judged).
    """
    obs = group_curves(data.period[None, :], data)[0]  # (T, G)
    med = np.median(sim, axis=0)
    rows = []
    for k, name in enumerate(data.group_names):
        gaps = np.abs(med[:, k] - obs[:, k])
        own = np.abs(sim[:, :, k] - med[None, :, k]).max(axis=1)
        sim_t50 = first_reaching(sim[:, :, k])
        t50_lo, t50_hi = (
            np.nanpercentile(sim_t50, [2.5, 97.5], method="nearest")
            if np.isfinite(sim_t50).any()
            else (np.nan,) * 2
        )
        rows.append(
            {
                "group": name,
                "n": int((data.group == k).sum()),
                "obs_saturation": float(obs[-1, k]),
                "sim_saturation": float(med[-1, k]),
                "sat_low": float(np.percentile(sim[:, -1, k], 2.5, method="nearest")),
                "sat_high": float(np.percentile(sim[:, -1, k], 97.5, method="nearest")),
                "obs_t50": float(first_reaching(obs[:, k]) + data.start - 1),
                "sim_t50": float(first_reaching(med[:, k]) + data.start - 1),
                "t50_low": float(t50_lo + data.start - 1),
                "t50_high": float(t50_hi + data.start - 1),
                "max_gap": float(gaps.max()),
                "gap_time": float(np.argmax(gaps) + data.start),
                "gap_low": float(np.percentile(own, 2.5, method="nearest")),
                "gap_high": float(np.percentile(own, 97.5, method="nearest")),
                "share_sims_within_tol": float((own <= tol + 1e-12).mean()),
            }
        )
    return pd.DataFrame(rows)


def calibrate(
    data: AdoptionData,
    spec: ModelSpec,
    *,
    intervals: str = "profile",
    n_boot: int = 200,
    n_sims: int = 200,
    n_perm: int = 2000,
    seed: int = DEFAULT_SEED,
    compare: bool = True,
    progress: bool | None = False,
    jobs: int = 1,
) -> CalibrationResult:
    """Fit, intervals, peer test, model comparison, forward simulations, permutation test.

    Args:
        data: Observed data.
        spec: Model to fit.
        intervals: ``"profile"``, ``"bootstrap"`` or ``"none"``.
        n_boot: Bootstrap data sets (``intervals="bootstrap"``).
        n_sims: Forward simulations for the curves (>= 1).
        n_perm: Permutation draws (0 skips the test; skipped without a network, where every
            within-group permutation gives the same exposures).
        seed: Root seed; streams 0 (simulation), 1 (permutation), 2 (bootstrap).
        compare: Also fit shared/per-group ``p`` x with/without never-adopters.
        progress: tqdm bar of the profile intervals' parameters or the bootstrap refits
            (``None`` = only on a terminal).
        jobs: Worker processes for the bootstrap refits (1 = this process, -1 = all cores);
            the result does not depend on it.

    Raises:
        ValueError: Unknown ``intervals``.
        CalibrationDataError: The data cannot identify the parameters
            (:func:`check_identifiable`), or an estimate of ``p`` or ``q`` runs to the
            optimiser's bound (:func:`check_estimates`).
    """
    if intervals not in ("profile", "bootstrap", "none"):
        raise ValueError(f"intervals must be profile, bootstrap or none, not {intervals!r}")
    check_identifiable(data, spec.per_group_p)
    clock: dict[str, float] = {}
    t0 = time.perf_counter()
    result = fit(data, spec)
    check_estimates(result, data.n_groups)
    clock["fit"] = time.perf_counter() - t0
    draws = _intervals(data, result, intervals, n_boot, seed, progress, jobs)
    peer = peer_test(data, result)
    clock["intervals"] = time.perf_counter() - t0 - clock["fit"]
    t0 = time.perf_counter()
    comparison = compare_models(data, spec) if compare else None
    clock["compare"] = time.perf_counter() - t0
    params = result.params(data.n_groups)
    sim, perm, n_perm = _simulate_and_permute(data, params, spec, n_sims, n_perm, seed, clock)
    seeds = _seed_record(seed, n_sims, n_perm, 0 if draws is None else n_boot)
    return CalibrationResult(
        result, params, peer, comparison, curve_table(sim, data), curve_targets(sim, data),
        perm, seeds, dict(describe(data)), clock, draws,
    )  # fmt: skip


def _seed_record(seed: int, n_sims: int, n_perm: int, n_boot: int) -> dict[str, Any]:
    """The result's ``seeds`` record: root seed, and each stream's spawn key and draws made."""
    return {
        "root": seed,
        "simulation": {"spawn_key": [STREAM_SIMULATION], "n_sims": n_sims},
        "permutation": {"spawn_key": [STREAM_PERMUTATION], "n_draws": n_perm},
        "bootstrap": {"spawn_key": [STREAM_BOOTSTRAP], "n_boot": n_boot},
    }


def _simulate_and_permute(
    data: AdoptionData,
    params: Params,
    spec: ModelSpec,
    n_sims: int,
    n_perm: int,
    seed: int,
    clock: dict[str, float],
) -> tuple[np.ndarray, dict[str, Any], int]:
    """Forward simulations of the fit (curves ``(S, T, G)``) and the permutation test (none
    without a network: full mixing gives every permutation the same exposures); times go into
    ``clock``. Returns ``(curves, permutation result, permutation draws made)``."""
    t0 = time.perf_counter()
    sim = group_curves(
        simulate_periods(data, params, spec, n_sims, stream(seed, STREAM_SIMULATION)), data
    )
    clock["simulate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if data.network is None:
        n_perm = 0
    perm = permutation_test(data, n_perm, stream(seed, STREAM_PERMUTATION)) if n_perm else {}
    clock["permutation"] = time.perf_counter() - t0
    return sim, perm, n_perm


def check_estimates(result: Fit, n_groups: int) -> None:
    """Refuse a fit whose push ``p`` or peer influence ``q`` sits at the optimiser's upper
    bound: the data push it towards infinity, so the number printed would be the bound, not an
    estimate (a safety net behind :func:`check_identifiable`).

    Raises:
        CalibrationDataError: One line naming the parameter and the bound.
    """
    stuck = at_bound(result, n_groups)
    if stuck:
        raise CalibrationDataError(
            f"the data cannot identify {stuck.split(' ')[0]}: its estimate {stuck.split(' ', 1)[1]}"
            " (the data push it towards infinity), so it is not an estimate; see 'Data rules' in"
            " docs/calibration.md"
        )


def _intervals(
    data: AdoptionData,
    result: Fit,
    method: str,
    n_boot: int,
    seed: int,
    progress: bool | None,
    jobs: int = 1,
) -> np.ndarray | None:
    """Intervals and standard errors in place; returns the bootstrap draws (or ``None``)."""
    draws = None
    if method == "profile":
        profile_intervals(data, result, progress)
    elif method == "bootstrap":
        _, draws = bootstrap_intervals(
            data, result, n_boot, stream(seed, STREAM_BOOTSTRAP), progress, jobs
        )
    standard_errors(data, result)
    return draws
