"""The adoption sub-model as a stand-alone process: parameters, exposure, forward simulation,
cumulative curves and the exposure-at-adoption permutation test.

The process is the model's adoption hazard (:mod:`sim.mechanisms.adoption`) with the programme
push reduced to one external push per group (a discrete-time Bass model, Bass 1969; external
and peer terms kept separate as Van den Bulte & Lilien 2001 require). In period ``t`` a
susceptible person ``i`` of group ``g`` who has not adopted adopts with probability

    h_it = 1 - exp(-(p_g + q f(E_it)))

where ``E_it`` is Valente's (1995) network exposure, the share of the people ``i`` names who
adopted in periods ``< t`` (or the share of the rest of the group without a network), and
``f`` is :func:`sim.mechanisms.adoption.peer_response`: ``f(E) = E`` (linear, simple contagion)
or a logistic threshold curve around a personal threshold ``theta_i ~ clip(N(mu, sd), 0, 1)``
(complex contagion, Centola & Macy 2007), as in the agent-based model. A share ``pi`` of people
never adopt (cure fraction; 0 unless fitted). The secular trend is part of ``p``: without a
programme period it cannot be told apart from the external push.

The external push may reach the groups at different times: with an onset ``d_g`` (whole
periods, 0 = from period 1), ``p_g`` acts only in periods ``t > d_g`` of group ``g`` while peer
influence acts throughout. This is the agent-based model's recruitment (lesson 3): a site's
clinicians feel the programme's push only from the month the site joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import rankdata

from sim.calibration.data import AdoptionData
from sim.mechanisms.adoption import peer_response
from sim.scenario import Adoption, Clinicians

DEFAULT_THRESHOLD_MEAN = float(Clinicians.model_fields["threshold_mean"].default)
DEFAULT_THRESHOLD_SD = float(Clinicians.model_fields["threshold_sd"].default)
DEFAULT_THRESHOLD_WIDTH = float(Adoption.model_fields["threshold_width"].default)
_CHUNK_CELLS = 2_000_000  # people x simulations held at once


@dataclass(frozen=True)
class Params:
    """Parameters of the adoption process.

    Attributes:
        p: External push per group, hazard per period, shape ``(G,)`` (all equal unless fitted
            per group), >= 0.
        q: Peer influence: extra hazard per period at full exposure ``f(E) = 1``, >= 0.
        pi: Never-adopter share in [0, 1).
        mu: Mean personal threshold in [0, 1] (threshold contagion only).
        onset: Periods before the external push reaches each group, shape ``(G,)`` int >= 0;
            ``None`` = 0 for every group (push from period 1).
    """

    p: np.ndarray
    q: float
    pi: float = 0.0
    mu: float = DEFAULT_THRESHOLD_MEAN
    onset: np.ndarray | None = None

    def push_on(self, group: np.ndarray, t: int) -> np.ndarray | float:
        """1.0 where the push acts in period ``t`` (1-based) for people of ``group``, shape
        ``group.shape`` (or the scalar 1.0 without onsets)."""
        if self.onset is None:
            return 1.0
        return (t > self.onset[group]).astype(float)


@dataclass(frozen=True)
class ModelSpec:
    """Which parameters are free and how exposure acts.

    Attributes:
        contagion: ``"threshold"`` or ``"linear"``.
        per_group_p: One external push per group (else one shared ``p``).
        never_adopters: Estimate the never-adopter share ``pi`` (else 0).
        fit_threshold: Estimate the threshold mean ``mu`` (threshold contagion only).
        threshold_mean, threshold_sd, threshold_width: Threshold distribution and curve
            softness (exposure units); defaults are the scenario schema's.
        quad_points: Quadrature points over the threshold distribution in the likelihood.
        fit_onset: Estimate each group's onset of the external push (whole periods
            ``0..max_onset``; see the module docstring), else the push acts from period 1.
        max_onset: Largest onset tried, in periods (>= 0).
    """

    contagion: str = "threshold"
    per_group_p: bool = False
    never_adopters: bool = False
    fit_threshold: bool = False
    threshold_mean: float = DEFAULT_THRESHOLD_MEAN
    threshold_sd: float = DEFAULT_THRESHOLD_SD
    threshold_width: float = DEFAULT_THRESHOLD_WIDTH
    quad_points: int = 24
    fit_onset: bool = False
    max_onset: int = 3

    def __post_init__(self) -> None:
        if self.contagion not in ("threshold", "linear"):
            raise ValueError(f"contagion must be 'threshold' or 'linear', not {self.contagion!r}")
        if self.fit_threshold and self.contagion == "linear":
            raise ValueError("fit_threshold needs threshold contagion")
        if self.max_onset < 0:
            raise ValueError(f"max_onset must be >= 0, not {self.max_onset}")

    @property
    def linear(self) -> bool:
        """True for simple (linear) contagion."""
        return self.contagion == "linear"

    def names(self, group_names: tuple[str, ...]) -> list[str]:
        """Names of the free parameters, in vector order (``p[<group>]``, ``q``, ``pi``,
        ``mu``)."""
        out = [f"p[{g}]" for g in group_names] if self.per_group_p else ["p"]
        out.append("q")
        out += ["pi"] * self.never_adopters + ["mu"] * self.fit_threshold
        return out

    def bounds(self, n_groups: int) -> list[tuple[float, float]]:
        """Box bounds of the free parameters (hazards per period, shares)."""
        b = [(1e-8, 20.0)] * (n_groups if self.per_group_p else 1) + [(0.0, 50.0)]
        return b + [(0.0, 0.999)] * self.never_adopters + [(0.0, 1.0)] * self.fit_threshold

    def unpack(self, x: np.ndarray, n_groups: int) -> Params:
        """:class:`Params` from a free-parameter vector."""
        k = n_groups if self.per_group_p else 1
        p = np.asarray(x[:k], dtype=float) if self.per_group_p else np.full(n_groups, x[0])
        i = k + 1
        pi = float(x[i]) if self.never_adopters else 0.0
        i += self.never_adopters
        mu = float(x[i]) if self.fit_threshold else self.threshold_mean
        return Params(np.asarray(p, dtype=float), float(x[k]), pi, mu)


def exposure(data: AdoptionData, adopted: np.ndarray) -> np.ndarray:
    """Valente's exposure for each row of ``adopted``.

    Args:
        data: People, groups, network.
        adopted: 0/1 or bool, shape ``(S, n)``.

    Returns:
        Share of each person's named contacts (or of the rest of their group) who adopted,
        in [0, 1], shape ``(S, n)``; 0 for people with no contacts.
    """
    a = np.asarray(adopted, dtype=float)
    deg = data.degree
    if data.network is None:
        onehot = sp.csr_matrix(
            (np.ones(data.n), (np.arange(data.n), data.group)), shape=(data.n, data.n_groups)
        )
        num = (onehot @ (onehot.T @ a.T)).T - a
    else:
        num = (data.network @ a.T).T
    return np.divide(num, deg, out=np.zeros_like(num), where=deg > 0)


def exposure_paths(data: AdoptionData) -> np.ndarray:
    """Observed exposure of everyone at the start of each period, shape ``(T, n)``: row
    ``t - 1`` counts adoptions in periods ``< t``."""
    before = data.period[None, :] < np.arange(1, data.n_periods + 1)[:, None]
    return exposure(data, before)


def simulate_periods(
    data: AdoptionData,
    params: Params,
    spec: ModelSpec,
    n_sims: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Forward simulations of the process on ``data``'s people, groups and network.

    Args:
        data: Structure only (observed periods are ignored); ``T`` = ``data.n_periods``.
        params: Process parameters.
        spec: Contagion form and threshold distribution.
        n_sims: Number of independent simulations ``S`` >= 1.
        rng: Random generator (draw order fixed: susceptibility, thresholds, then one uniform
            per person per period), so a seed reproduces the result exactly.

    Returns:
        Adoption period per simulation and person in ``1..T + 1`` (``T + 1`` = not adopted),
        shape ``(S, n)`` int64.
    """
    chunk = max(1, _CHUNK_CELLS // max(data.n, 1))
    parts = [
        _simulate_chunk(data, params, spec, min(chunk, n_sims - s), rng)
        for s in range(0, n_sims, chunk)
    ]
    return np.concatenate(parts, axis=0)


def _simulate_chunk(
    data: AdoptionData, params: Params, spec: ModelSpec, n_sims: int, rng: np.random.Generator
) -> np.ndarray:
    n, T = data.n, data.n_periods
    susceptible = rng.random((n_sims, n)) >= params.pi
    theta = np.clip(rng.normal(params.mu, spec.threshold_sd, (n_sims, n)), 0.0, 1.0)
    push = params.p[data.group][None, :]
    adopted = np.zeros((n_sims, n), dtype=bool)
    period = np.full((n_sims, n), T + 1, dtype=np.int64)
    for t in range(1, T + 1):
        u = rng.random((n_sims, n))
        e = exposure(data, adopted)
        peer = params.q * peer_response(e, theta, spec.threshold_width, spec.linear)
        rate = push * params.push_on(data.group, t) + peer
        new = ~adopted & susceptible & (u < -np.expm1(-rate))
        period[new] = t
        adopted |= new
    return period


def group_curves(period: np.ndarray, data: AdoptionData) -> np.ndarray:
    """Cumulative share adopted by the end of each period, per group.

    Args:
        period: Adoption periods ``1..T + 1``, shape ``(S, n)``.
        data: Supplies groups and ``T``.

    Returns:
        Fractions in [0, 1], shape ``(S, T, G)``.
    """
    period = np.atleast_2d(period)
    S, T, G = period.shape[0], data.n_periods, data.n_groups
    flat = (np.arange(S)[:, None] * (T + 1) + (period - 1)) * G + data.group[None, :]
    counts = np.bincount(flat.ravel(), minlength=S * (T + 1) * G).reshape(S, T + 1, G)
    sizes = np.bincount(data.group, minlength=G).astype(float)
    return np.cumsum(counts[:, :T, :], axis=1) / sizes


def first_reaching(curve: np.ndarray, level: float = 0.5) -> np.ndarray:
    """First period (1-based) at which ``curve`` (``(..., T)``) reaches ``level``; NaN if
    never."""
    hit = curve >= level - 1e-12
    first = np.argmax(hit, axis=-1).astype(float) + 1
    return np.where(hit.any(axis=-1), first, np.nan)


def curve_table(sim: np.ndarray, data: AdoptionData, level: float = 0.95) -> pd.DataFrame:
    """Observed vs simulated cumulative curves, long form.

    Args:
        sim: Simulated curves ``(S, T, G)`` from :func:`group_curves`.
        data: Observed data.
        level: Width of the simulated band.

    Returns:
        Rows ``(group, period, time, observed, sim_median, sim_low, sim_high)``.
    """
    obs = group_curves(data.period[None, :], data)[0]
    lo, med, hi = np.quantile(sim, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
    T, G = obs.shape
    return pd.DataFrame(
        {
            "group": np.repeat(np.array(data.group_names, dtype=object), T),
            "period": np.tile(np.arange(1, T + 1), G),
            "time": np.tile(np.arange(T) + data.start, G),
            "observed": obs.T.ravel(),
            "sim_median": med.T.ravel(),
            "sim_low": lo.T.ravel(),
            "sim_high": hi.T.ravel(),
        }
    )


def exposure_at_adoption(data: AdoptionData, period: np.ndarray | None = None) -> np.ndarray:
    """Exposure of each person just before their adoption period (``exposure_before``).

    Args:
        data: People, groups, network.
        period: Adoption periods, shape ``(B, n)`` (default the observed ones, ``B = 1``).

    Returns:
        Share of contacts who adopted strictly earlier, shape ``(B, n)``; NaN for people
        without contacts.
    """
    per = np.atleast_2d(data.period if period is None else period).astype(float)
    deg = data.degree
    if data.network is None:
        earlier = np.empty_like(per)
        for k in range(data.n_groups):
            idx = np.flatnonzero(data.group == k)
            earlier[:, idx] = rankdata(per[:, idx], axis=1, method="min") - 1
    else:
        coo = data.network.tocoo()
        incidence = sp.csr_matrix(
            (np.ones(coo.row.size), (np.arange(coo.row.size), coo.row)),
            shape=(coo.row.size, data.n),
        )
        earlier = np.asarray((per[:, coo.col] < per[:, coo.row]).astype(float) @ incidence)
    out = np.full_like(per, np.nan)
    np.divide(earlier, deg, out=out, where=np.broadcast_to(deg > 0, per.shape))
    return out


def _stats(data: AdoptionData, period: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean exposure at adoption, Pearson r(period, exposure) and n, over adopters with
    contacts; each shape ``(B,)``."""
    e = exposure_at_adoption(data, period)
    mask = (period <= data.n_periods) & np.isfinite(e)
    n = mask.sum(axis=1)
    x = np.where(mask, period, 0.0)
    y = np.where(mask, e, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = x.sum(1) / n, y.sum(1) / n
        dx, dy = np.where(mask, x - mx[:, None], 0), np.where(mask, y - my[:, None], 0)
        r = (dx * dy).sum(1) / np.sqrt((dx**2).sum(1) * (dy**2).sum(1))
    return my, r, n


def permutation_test(
    data: AdoptionData, n_draws: int, rng: np.random.Generator, chunk: int = 250
) -> dict:
    """Exposure at adoption against a within-group permutation null (network fixed).

    Adoption periods (censored included) are shuffled within each group, keeping each group's
    curve and the network; the statistic is recomputed per draw. Because exposure rises over
    time whatever its cause, the raw correlation of adoption time with exposure is largely
    mechanical; only an excess over this null points to contagion along ties.

    Args:
        data: Observed data (needs a network or groups).
        n_draws: Permutations ``B`` >= 1 (2,000 in the data's README).
        rng: Random generator.
        chunk: Draws computed at once (memory ``chunk x arcs``).

    Returns:
        Dict with ``observed_mean``, ``observed_r``, ``n_adopters_with_contacts``, the null
        draws ``null_mean`` and ``null_r`` (arrays ``(B,)``; NaN where a draw leaves the
        statistic undefined, e.g. no adopter with a tie) and one-sided upper p-values
        ``p_mean``, ``p_r`` = (1 + #null >= observed) / (D + 1) over the ``D`` draws where the
        statistic is defined; ``testable`` is True. When fewer than 2 adopters have a usable
        tie there is nothing to test: ``testable`` False, a ``reason`` and
        ``n_adopters_with_contacts`` only (no statistic, null or p-value). When the
        correlation is undefined (adoption time or exposure does not vary among those
        adopters, or no draw defines it) ``observed_r`` and ``p_r`` are NaN, ``r_testable``
        is False and ``r_reason`` says why (``r_testable`` is True otherwise).
    """
    obs_mean, obs_r, n_obs = _stats(data, data.period[None, :])
    if int(n_obs[0]) < 2:  # nothing to test: no statistic, no null, no p-value
        reason = (
            "no adopter has a usable tie"
            if int(n_obs[0]) == 0
            else "only 1 adopter has a usable tie (at least 2 are needed)"
        )
        return {"testable": False, "reason": reason, "n_adopters_with_contacts": int(n_obs[0])}
    null_mean, null_r = _null_draws(data, n_draws, rng, chunk)
    p_mean = _upper_p(null_mean, float(obs_mean[0]))
    if np.isnan(p_mean):
        reason = "no permutation gives an adopter a usable tie"
        return {"testable": False, "reason": reason, "n_adopters_with_contacts": int(n_obs[0])}
    out = {
        "testable": True,
        "observed_mean": float(obs_mean[0]),
        "observed_r": float(obs_r[0]),
        "n_adopters_with_contacts": int(n_obs[0]),
        "null_mean": null_mean,
        "null_r": null_r,
        "p_mean": p_mean,
        "p_r": _upper_p(null_r, float(obs_r[0])),
        "r_testable": True,
    }
    if not np.isfinite(obs_r[0]):
        out["r_testable"] = False
        out["r_reason"] = "adoption time or exposure does not vary among these adopters"
    elif np.isnan(out["p_r"]):
        out["r_testable"] = False
        out["r_reason"] = "no permutation defines it"
    return out


def _null_draws(
    data: AdoptionData, n_draws: int, rng: np.random.Generator, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Null mean exposure and r, each shape ``(B,)`` (``B = n_draws``): adoption periods
    shuffled within each group, ``chunk`` draws at a time."""
    groups = [np.flatnonzero(data.group == k) for k in range(data.n_groups)]
    means, rs = [], []
    for start in range(0, n_draws, chunk):
        b = min(chunk, n_draws - start)
        per = np.tile(data.period, (b, 1))
        for idx in groups:
            per[:, idx] = rng.permuted(per[:, idx], axis=1)
        m, r, _ = _stats(data, per)
        means.append(m)
        rs.append(r)
    return np.concatenate(means), np.concatenate(rs)


def _upper_p(null: np.ndarray, observed: float) -> float:
    """One-sided upper permutation p-value over the defined (finite) null draws; NaN if the
    observed value or every draw is undefined."""
    defined = null[np.isfinite(null)]
    if not np.isfinite(observed) or defined.size == 0:
        return float("nan")
    return float((1 + np.sum(defined >= observed - 1e-12)) / (defined.size + 1))
