"""Process 10, outcomes and costs.

Care quality = ``baseline x (1 - x) + target x fidelity x x`` with ``x`` the adopted share
(fidelity applies to adopters only); each site's expected event rate is
``base_rate x (1 - RRR x quality) / (1 - RRR x baseline_adherence) x secular(t)`` per 1000
patient-days, with ``secular(t) = (1 + trend)^(t / 12)``; observed events are Poisson counts (rare
events per site-month give noisy site data, as in Keystone where the median site reached 0).
Customisation raises fit but lowers fidelity: ``fidelity = 1 - loss x customisation^2``.
"""

from __future__ import annotations

import numpy as np


def fidelity(customisation: float, fidelity_loss: float) -> float:
    """Fidelity of the adopted practice in [0, 1]."""
    return 1.0 - fidelity_loss * customisation**2


def effective_fit(fit: np.ndarray, customisation: float, fit_gain: float) -> np.ndarray:
    """Fit after local adaptation: ``fit + customisation x fit_gain x (1 - fit)``."""
    return fit + customisation * fit_gain * (1.0 - fit)


def adherence(adopted_share: np.ndarray, baseline: float, target: float) -> np.ndarray:
    """True adherence: non-adopters practise at baseline, adopters at target."""
    return baseline + (target - baseline) * adopted_share


def quality(adopted_share: np.ndarray, baseline: float, target: float, fid: float) -> np.ndarray:
    """Care quality: baseline practice at full fidelity, adopted practice at ``fid``."""
    return baseline * (1.0 - adopted_share) + target * fid * adopted_share


def event_rate(
    base_rate: np.ndarray, qual: np.ndarray, baseline: float, rrr: float, secular_factor: float
) -> np.ndarray:
    """Expected events per 1000 patient-days per site, shape ``(n_sites,)``."""
    return base_rate * (1.0 - rrr * qual) / (1.0 - rrr * baseline) * secular_factor


def secular_factor(month: int, trend_per_year: float) -> float:
    """Multiplier of the event rate from the secular trend at ``month`` (1 at month 0)."""
    return float((1.0 + trend_per_year) ** (month / 12.0))


def spend(
    n_active: int, supported: bool, budget_per_site_month: float, core_team_cost_per_month: float
) -> float:
    """Programme spend this month (currency): core team + budget x active sites while supported."""
    if not supported:
        return 0.0
    return core_team_cost_per_month + budget_per_site_month * n_active
