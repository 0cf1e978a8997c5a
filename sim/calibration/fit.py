"""Maximum-likelihood fit of the adoption process (:mod:`sim.calibration.process`) to data.

With the network fixed, each person's exposure in period ``t`` is known from who adopted
before ``t``, so the discrete-time hazard gives an exact likelihood of the observed adoption
sequence (Allison 1982; the network-autocorrelation form of Valente 1995 and Van den Bulte &
Lilien 2001). For person ``i`` adopting in period ``k_i`` (``k_i = T + 1`` if censored), with
rate ``lambda_it = p_g + q f(E_it; theta)``:

    L_i(theta) = exp(-sum_{t < k_i} lambda_it) x (1 - exp(-lambda_ik_i))^[adopted]
    L_i = pi^[censored] x 0^[adopted] + (1 - pi) x E_theta[L_i(theta)]

The expectation over the personal threshold ``theta ~ clip(N(mu, sd), 0, 1)`` uses the
distribution's quantiles at ``(j - 0.5) / K`` (equal weights). The log-likelihood is maximised
with L-BFGS-B from several starts. Intervals, standard errors and the test of ``q = 0`` are in
:mod:`sim.calibration.intervals`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import chi2, norm

from sim.calibration.data import AdoptionData, CalibrationDataError, check_identifiable
from sim.calibration.process import ModelSpec, Params, exposure_paths
from sim.mechanisms.adoption import peer_response

CHI2_95_HALF = float(chi2.ppf(0.95, 1) / 2)  # 1.92: profile-likelihood drop at the 95% limits


class _Design:
    """Arrays of the likelihood that do not depend on the continuous parameters.

    ``onset`` (shape ``(G,)``, whole periods, default 0) fixes when the external push starts in
    each group: ``push_before[i]`` counts person ``i``'s survived periods with the push on and
    ``push_ev`` flags whether it was on in their adoption period.
    """

    def __init__(
        self, data: AdoptionData, spec: ModelSpec, onset: np.ndarray | None = None
    ) -> None:
        T = data.n_periods
        self.data, self.spec = data, spec
        self.E = exposure_paths(data)  # (T, n)
        self.steps = np.arange(1, T + 1)[:, None]
        self.before = (self.steps < data.period[None, :]).astype(float)  # at risk, survived
        self.adopted = data.adopted
        self.ev_i = np.flatnonzero(self.adopted)
        self.ev_t = data.period[self.ev_i] - 1
        self.group = data.group
        self.set_onset(np.zeros(data.n_groups, dtype=np.int64) if onset is None else onset)
        self._fixed = None if spec.fit_threshold else self._peer_terms(spec.threshold_mean)

    def set_onset(self, onset: np.ndarray) -> None:
        """Use per-group onsets ``onset`` (shape ``(G,)``) from now on."""
        self.onset = np.asarray(onset, dtype=np.int64).copy()
        on = self.steps > self.onset[self.group][None, :]  # (T, n) push acting
        self.push_before = (self.before * on).sum(axis=0)
        self.push_ev = on[self.ev_t, self.ev_i].astype(float)

    def _peer_terms(self, mu: float) -> tuple[np.ndarray, np.ndarray]:
        """(sum over at-risk periods of f, f at the adoption period), shapes (K, n), (K, m)."""
        s = self.spec
        if s.linear:
            f = self.E[None]
        else:
            k = s.quad_points
            theta = np.clip(mu + s.threshold_sd * norm.ppf((np.arange(k) + 0.5) / k), 0, 1)
            f = peer_response(self.E[None], theta[:, None, None], s.threshold_width, False)
        return (f * self.before[None]).sum(axis=1), f[:, self.ev_t, self.ev_i]

    def nll(self, x: np.ndarray) -> float:
        """Negative log-likelihood of the free-parameter vector ``x``."""
        prm = self.spec.unpack(x, self.data.n_groups)
        f_sum, f_ev = self._fixed if self._fixed is not None else self._peer_terms(prm.mu)
        push = prm.p[self.group]
        ll = -(push * self.push_before)[None, :] - prm.q * f_sum  # (K, n)
        rate_ev = np.maximum((push[self.ev_i] * self.push_ev)[None, :] + prm.q * f_ev, 1e-300)
        ll[:, self.ev_i] += np.log(-np.expm1(-rate_ev))
        li = logsumexp(ll, axis=0) - np.log(ll.shape[0])  # log E_theta[L_i]
        if self.spec.never_adopters:
            with np.errstate(divide="ignore"):
                log_pi, log_1m = np.log(prm.pi), np.log1p(-prm.pi)
            li = np.where(self.adopted, log_1m + li, np.logaddexp(log_pi, log_1m + li))
        return float(-li.sum())


@dataclass
class Fit:
    """A fitted model.

    Attributes:
        spec: Model specification.
        names: Free-parameter names.
        estimate: MLE, shape ``(k,)``.
        nll: Negative log-likelihood at the MLE.
        lower, upper: 95% interval limits, shape ``(k,)`` (NaN until computed).
        interval_method: ``"profile"``, ``"bootstrap"`` or ``""``.
        n_obs: People in the data.
        se: Wald standard errors from the observed information, shape ``(k,)`` (NaN for a
            parameter on a bound); ``None`` until
            :func:`sim.calibration.intervals.standard_errors` runs.
        onset: Fitted (or fixed) onset per group in whole periods, shape ``(G,)``; ``None``
            when the push acts from period 1 everywhere. Intervals of the other parameters
            are conditional on it.
        onset_lower, onset_upper: Smallest and largest onset of each group whose profile
            ``-log L`` is within 1.92 of the minimum (the others re-fitted), shape ``(G,)``.
    """

    spec: ModelSpec
    names: list[str]
    estimate: np.ndarray
    nll: float
    lower: np.ndarray
    upper: np.ndarray
    interval_method: str
    n_obs: int
    se: np.ndarray | None = None
    onset: np.ndarray | None = None
    onset_lower: np.ndarray | None = None
    onset_upper: np.ndarray | None = None
    group_names: tuple[str, ...] = ()
    n_periods: int = 0

    @property
    def k(self) -> int:
        """Number of fitted parameters (continuous, plus one per group for fitted onsets)."""
        fitted = self.spec.fit_onset and self.onset_top > 0
        return len(self.names) + (len(self.group_names) if fitted else 0)

    @property
    def onset_top(self) -> int:
        """Largest onset the search could give: ``spec.max_onset``, at most ``T - 1``."""
        return min(self.spec.max_onset, max(self.n_periods - 1, 0))

    def onsets_at_bound(self) -> list[str]:
        """Groups whose fitted onset is the largest searched (``onset_top``) while the data
        would allow more: the estimate may be the bound, not the data's answer."""
        if not self.spec.fit_onset or self.onset is None or self.onset_top >= self.n_periods - 1:
            return []
        return [g for g, d in zip(self.group_names, self.onset, strict=True) if d >= self.onset_top]

    @property
    def aic(self) -> float:
        """Akaike information criterion ``2 nll + 2 k`` (each fitted onset counts as one)."""
        return 2 * self.nll + 2 * self.k

    def params(self, n_groups: int) -> Params:
        """The estimate as :class:`Params`."""
        prm = self.spec.unpack(self.estimate, n_groups)
        return replace(prm, onset=None if self.onset is None else self.onset.copy())

    def table(self) -> pd.DataFrame:
        """One row per parameter: name, estimate, lower, upper, method, se; fitted onsets
        last (``onset[<group>]``, whole periods, method ``profile (whole periods)``)."""
        out = pd.DataFrame(
            {
                "parameter": self.names,
                "estimate": self.estimate,
                "lower": self.lower,
                "upper": self.upper,
                "method": self.interval_method,
                "se": np.full(len(self.names), np.nan) if self.se is None else self.se,
            }
        )
        if not self.spec.fit_onset or self.onset is None:
            return out
        lo = self.onset if self.onset_lower is None else self.onset_lower
        hi = self.onset if self.onset_upper is None else self.onset_upper
        onset = pd.DataFrame(
            {
                "parameter": [f"onset[{g}]" for g in self.group_names],
                "estimate": self.onset.astype(float),
                "lower": np.asarray(lo, dtype=float),
                "upper": np.asarray(hi, dtype=float),
                "method": "profile (whole periods)",
                "se": np.nan,
            }
        )
        return pd.concat([out, onset], ignore_index=True)


def _starts(design: _Design) -> list[np.ndarray]:
    data, spec = design.data, design.spec
    at_risk = design.before.sum() + design.adopted.sum()
    r0 = max(design.adopted.sum() / max(at_risk, 1.0), 1e-4)
    k = data.n_groups if spec.per_group_p else 1
    out = []
    for share, q in ((1.0, 0.0), (0.7, r0), (0.3, 3 * r0)):
        tail = [0.05] * spec.never_adopters
        for mu in (0.2, 0.5, 0.8) if spec.fit_threshold else (None,):
            out.append(np.array([share * r0] * k + [q, *tail] + ([mu] if mu is not None else [])))
    return out


def _minimise(fun, x0: np.ndarray, bounds: list[tuple[float, float]]) -> tuple[np.ndarray, float]:
    res = minimize(fun, np.clip(x0, *np.array(bounds).T), method="L-BFGS-B", bounds=bounds)
    return res.x, float(res.fun)


def fit(
    data: AdoptionData,
    spec: ModelSpec,
    x0: np.ndarray | None = None,
    onset: np.ndarray | None = None,
    onset_sets: bool = True,
) -> Fit:
    """Maximum-likelihood estimate of the free parameters of ``spec`` (no intervals).

    With ``spec.fit_onset`` each group's onset (``0..spec.max_onset`` whole periods) is found by
    coordinate search from ``onset`` (default all 0): one group at a time, every onset is tried
    with the continuous parameters re-fitted, until no change lowers ``-log L``. The onsets
    whose profile ``-log L`` is within 1.92 of the minimum give ``onset_lower/upper``.

    Args:
        data: Observed data with at least one adopter.
        spec: Model specification.
        x0: Optional single start (e.g. a previous estimate); default several starts.
        onset: Per-group onsets, shape ``(G,)``: fixed if ``spec.fit_onset`` is False, else
            where the search starts.
        onset_sets: Also compute the onsets' 1.92-drop sets (skipped by bootstrap refits).

    Returns:
        :class:`Fit` with NaN interval limits.

    Raises:
        ValueError: Nobody adopted in the observed periods.
    """
    if not data.adopted.any():
        raise ValueError("nobody adopted in the observed periods: nothing to fit")
    design = _Design(data, spec, onset)
    x, f = _fit_continuous(design, [x0] if x0 is not None else _starts(design))
    k = len(x)
    nan = np.full(k, np.nan)
    out = Fit(spec, spec.names(data.group_names), x, f, nan, nan.copy(), "", data.n)
    out.group_names, out.n_periods = data.group_names, data.n_periods
    if onset is not None or spec.fit_onset:
        out.onset = design.onset.copy()
    if spec.fit_onset:
        _search_onset(design, out, onset_sets)
    return out


def _fit_continuous(design: _Design, starts: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Best L-BFGS-B optimum of ``design.nll`` over ``starts`` (onsets as set in ``design``)."""
    bounds = design.spec.bounds(design.data.n_groups)
    best: tuple[np.ndarray, float] | None = None
    for start in starts:
        x, f = _minimise(design.nll, start, bounds)
        if best is None or f < best[1]:
            best = (x, f)
    assert best is not None
    return best


def _search_onset(design: _Design, out: Fit, sets: bool = True) -> None:
    """Coordinate search over per-group onsets, then their 1.92-drop sets (``out`` in place)."""
    top = out.onset_top
    onset = design.onset.copy()

    def refit(trial: np.ndarray) -> tuple[np.ndarray, float]:
        design.set_onset(trial)
        return _fit_continuous(design, [out.estimate, _starts(design)[0]])

    for _ in range(10 * design.data.n_groups):
        improved = False
        for g in range(design.data.n_groups):
            for d in range(top + 1):
                if d == onset[g]:
                    continue
                trial = onset.copy()
                trial[g] = d
                x, f = refit(trial)
                if f < out.nll - 1e-9:
                    onset, out.estimate, out.nll, improved = trial, x, f, True
        if not improved:
            break
    lower, upper = onset.copy(), onset.copy()
    for g in range(design.data.n_groups if sets else 0):
        for d in range(top + 1):
            trial = onset.copy()
            trial[g] = d
            if d != onset[g] and refit(trial)[1] <= out.nll + CHI2_95_HALF:
                lower[g], upper[g] = min(lower[g], d), max(upper[g], d)
    design.set_onset(onset)
    out.onset, out.onset_lower, out.onset_upper = onset, lower, upper


def compare_models(
    data: AdoptionData, spec: ModelSpec, progress: bool | None = False
) -> pd.DataFrame:
    """Fit the four variants shared/per-group ``p`` x with/without never-adopters.

    A variant the data cannot identify (:func:`sim.calibration.data.check_identifiable` with
    its ``per_group_p``, or an estimate at the optimiser's bound, :func:`at_bound`) is not
    ranked: its row has NaN ``nll``/``aic`` and says why in ``note``.

    Args:
        data: Observed data.
        spec: The fitted model; the variants change only ``per_group_p`` and
            ``never_adopters``.
        progress: tqdm bar of the variant fits on stderr (``None`` = only on a terminal);
            with ``spec.fit_onset`` each fit searches the onsets and may take a minute.

    Returns:
        One row per variant: ``per_group_p``, ``never_adopters``, ``k``, ``nll``, ``aic``,
        ``q``, ``pi``, ``p_mean`` (mean over groups) and ``note``, sorted by AIC (unranked last).
    """
    from tqdm.auto import tqdm

    variants = [(per_group, cure) for per_group in (False, True) for cure in (False, True)]
    disable = None if progress is None else not progress
    rows = []
    with tqdm(total=len(variants), desc="model comparison", unit="fit", disable=disable) as bar:
        for per_group, cure in variants:
            label = f"{'per-group' if per_group else 'shared'} p{' + pi' if cure else ''}"
            bar.set_postfix_str(label)
            rows.append(_variant_row(data, spec, per_group, cure))
            bar.update(1)
    return pd.DataFrame(rows).sort_values("aic", kind="stable").reset_index(drop=True)


def _variant_row(
    data: AdoptionData, spec: ModelSpec, per_group: bool, cure: bool
) -> dict[str, object]:
    """One row of :func:`compare_models`."""
    variant = replace(spec, per_group_p=per_group, never_adopters=cure)
    row: dict[str, object] = {"per_group_p": per_group, "never_adopters": cure}
    try:
        check_identifiable(data, per_group)
    except CalibrationDataError as exc:
        return {**row, **_NOT_FITTED, "note": f"not identifiable: {exc}"}
    res = fit(data, variant)
    prm = res.params(data.n_groups)
    stuck = at_bound(res, data.n_groups)
    if stuck:
        return {**row, **_NOT_FITTED, "note": f"not identifiable: {stuck}"}
    return {
        **row,
        "k": res.k,
        "nll": res.nll,
        "aic": res.aic,
        "p_mean": float(prm.p.mean()),
        "q": prm.q,
        "pi": prm.pi,
        "note": "",
    }


_NOT_FITTED = {"k": 0, "nll": np.nan, "aic": np.nan, "p_mean": np.nan, "q": np.nan, "pi": np.nan}


def at_bound(result: Fit, n_groups: int) -> str:
    """Which push ``p`` or peer influence ``q`` sits at the optimiser's upper bound (the data
    push it towards infinity, so the value is the bound, not an estimate); ``""`` if none."""
    bounds = result.spec.bounds(n_groups)
    for name, value, (_, hi) in zip(result.names, result.estimate, bounds, strict=True):
        if (name in ("p", "q") or name.startswith("p[")) and value >= 0.99 * hi:
            return f"{name} runs to the search bound {hi:g}"
    return ""
