"""Verdict on a calibration: does the fitted model reproduce each group's curve, and does the
model comparison prefer another variant than the one fitted?

:func:`band_check` counts, per group, the periods in which the observed cumulative share lies
outside the simulated 95% band (the band drawn in ``curves.png``), and how often the fitted
model's own simulated curves stray outside that band in as many periods: a pointwise band is
left now and then by chance, so a group is called *not reproduced* only when its observed curve
is outside in more periods than 95% of the model's own curves are. :func:`fit_warnings` turns
that into the warning and note lines, and :func:`aic_preference` names the flag that switches to
the variant the AIC prefers. Used by :mod:`sim.calibration.report` (terminal summary) and
:mod:`sim.calibration.store` (``fit_check`` in ``calibration.json``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.calibration.data import AdoptionData
from sim.calibration.process import group_curves, simulate_periods

if TYPE_CHECKING:
    from sim.calibration import CalibrationResult

__all__ = ["AIC_MARGIN", "CHANCE", "aic_preference", "band_check", "fit_check", "fit_warnings"]

CHANCE = 0.05
"""A group is not reproduced when fewer than this share of the fitted model's own simulated
curves leave the 95% band in as many periods as the observed curve does."""
AIC_MARGIN = 2.0
"""AIC difference beyond which the comparison's preference is reported."""
_EPS = 1e-9
_MAX_NAMED = 10


def _outside(curve: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Periods (last axis but one, ``T``) with ``curve`` outside ``[low, high]``, counted."""
    return ((curve < low - _EPS) | (curve > high + _EPS)).sum(axis=-2)


def band_check(res: CalibrationResult, data: AdoptionData) -> pd.DataFrame:
    """Per group, periods with the observed share outside the simulated 95% band.

    The simulations are re-drawn from the result's seed (the stream :func:`calibrate` used, so
    they are the same curves that made the band; about as fast as the original simulation).

    Args:
        res: Result of :func:`sim.calibration.calibrate`.
        data: The data it was fitted to.

    Returns:
        One row per group (order of ``data.group_names``): ``group, periods, outside`` (periods
        with the observed share outside the band), ``chance`` (share of simulated curves outside
        the band in at least ``outside`` periods; 1 when ``outside`` is 0) and
        ``not_reproduced`` (``outside > 0`` and ``chance < CHANCE``).
    """
    from sim.calibration import STREAM_SIMULATION, stream  # here: the package imports this

    seeds = res.seeds
    rng = stream(seeds["root"], STREAM_SIMULATION)
    n_sims = int(seeds["simulation"]["n_sims"])
    sim = group_curves(simulate_periods(data, res.params, res.fit.spec, n_sims, rng), data)
    T, G = data.n_periods, data.n_groups
    wide = res.curves.set_index(["group", "period"])
    index = pd.MultiIndex.from_product([list(data.group_names), range(1, T + 1)])
    low, high, obs = (
        wide[c].reindex(index).to_numpy().reshape(G, T).T
        for c in ("sim_low", "sim_high", "observed")
    )
    observed = _outside(obs, low, high)  # (G,)
    own = _outside(sim, low[None], high[None])  # (S, G)
    chance = np.where(observed > 0, (own >= observed[None, :]).mean(axis=0), 1.0)
    return pd.DataFrame(
        {
            "group": list(data.group_names),
            "periods": T,
            "outside": observed.astype(int),
            "chance": chance,
            "not_reproduced": (observed > 0) & (chance < CHANCE),
        }
    )


def _named(rows: pd.DataFrame) -> tuple[str, str]:
    """``("22, 43", "15, 11")``: group names and counts, at most ``_MAX_NAMED`` of them."""
    rows = rows.sort_values("outside", ascending=False, kind="stable")
    more = len(rows) - _MAX_NAMED
    tail = f" and {more} more" if more > 0 else ""
    head = rows.head(_MAX_NAMED)
    return (
        ", ".join(str(g) for g in head.group) + tail,
        ", ".join(str(n) for n in head.outside) + ("..." if more > 0 else ""),
    )


def fit_warnings(band: pd.DataFrame) -> tuple[str | None, str | None]:
    """The warning on groups not reproduced and the note on groups outside the band by chance.

    Returns:
        ``(warning, note)``; each ``None`` when no group is in that case.
    """
    bad = band[band.not_reproduced]
    chance = band[(band.outside > 0) & ~band.not_reproduced]
    warning = note = None
    periods = int(band.periods.iloc[0]) if len(band) else 0
    if len(bad):
        names, counts = _named(bad)
        what = "group" if len(bad) == 1 else "groups"
        warning = (
            f"the fitted model does not reproduce {what} {names}: observed curve outside the "
            f"simulated 95% band in {counts} of {periods} periods (fewer than "
            f"{CHANCE:.0%} of the model's own simulated curves stray that often); see curves.png"
            " and the model comparison"
        )
    if len(chance):
        names, counts = _named(chance)
        what = "group" if len(chance) == 1 else "groups"
        leave = "leaves" if len(chance) == 1 else "leave"
        note = (
            f"{what} {names} {leave} the band in {counts} of {periods} periods, as at least "
            f"{math.floor(100 * chance.chance.min())}% of the model's own simulated curves do "
            "(within chance)"
        )
    return warning, note


_LABELS = {
    "per_group_p": ("per-group p", "--per-group-p"),
    "never_adopters": ("never-adopters", "--never-adopters"),
}


def aic_preference(res: CalibrationResult) -> str | None:
    """Which flags to use when the model comparison prefers (AIC lower by more than
    :data:`AIC_MARGIN`) another variant than the one fitted; ``None`` otherwise."""
    table = res.comparison
    if table is None or table.empty:
        return None
    ranked = table[table["aic"].notna()]
    if ranked.empty:
        return None
    best = ranked.iloc[int(np.argmin(ranked["aic"].to_numpy()))]
    spec = res.fit.spec
    mine = ranked[
        (ranked.per_group_p == spec.per_group_p) & (ranked.never_adopters == spec.never_adopters)
    ]
    fitted = float(mine["aic"].iloc[0]) if len(mine) else float(res.fit.aic)
    if fitted - float(best["aic"]) <= AIC_MARGIN:
        return None
    what, flags = [], []
    for key, (label, flag) in _LABELS.items():
        want, have = bool(best[key]), bool(getattr(spec, key))
        if want != have:
            what.append(label if want else f"no {label}")
            flags.append(f"{'add' if want else 'drop'} {flag}")
    return (
        f"AIC prefers {' and '.join(what)} ({float(best['aic']):.2f} vs {fitted:.2f} for the "
        f"fitted model): {' and '.join(flags)}"
    )


def fit_check(res: CalibrationResult, data: AdoptionData) -> dict[str, Any]:
    """The verdict as a plain record (``fit_check`` in ``calibration.json``): per group
    ``outside``/``periods``/``chance``/``not_reproduced``, the groups not reproduced, a
    one-line ``verdict``, the warning and note lines, and the AIC preference. The band check
    is computed once per result and kept on it (``res.band``)."""
    if res.band is None:
        res.band = band_check(res, data)
    band = res.band
    warning, note = fit_warnings(band)
    if warning:
        verdict = f"{int(band.not_reproduced.sum())} of {len(band)} groups not reproduced"
    else:
        verdict = "every group's observed curve stays within the simulated 95% band" + (
            " or leaves it no more than chance allows" if note else " in every period"
        )
    return {
        "groups": band.to_dict(orient="records"),
        "not_reproduced": [str(g) for g in band.group[band.not_reproduced]],
        "verdict": verdict,
        "warning": warning,
        "note": note,
        "aic_preference": aic_preference(res),
    }
