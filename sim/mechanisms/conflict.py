"""Process 7, conflict, marginalisation, engagement and drop-out (lesson 7).

Conflict rises with hard tactics x reactance x (1 - belonging), with professional tension, and
with noisy data used for judgement; it falls with conflict handling x core-team strength and
fades on its own. Engagement moves towards a target set by belonging, attention and conflict;
sites below the disengagement threshold for ``dropout_after_months`` consecutive months drop out
(no more support, still counted in outcomes: intention to treat). Mandated sites cannot
leave: they stay enrolled, disengaged.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import clip01


def conflict_update(
    conflict: np.ndarray,
    hard: np.ndarray,
    mean_reactance: np.ndarray,
    belonging: np.ndarray,
    tension: np.ndarray,
    judgement_noise: np.ndarray,
    handling: np.ndarray,
    hard_reactance_rate: float,
    professional_rate: float,
    judgement_noise_rate: float,
    resolution_rate: float,
    decay: float,
) -> np.ndarray:
    """Conflict next month in [0, 1], shape ``(n_sites,)``.

    ``C + (1 - C) x (a_h x hard x reactance x (1 - belonging) + a_p x tension + a_j x
    judgement_noise) - C x (resolution x handling + decay)``; ``hard``, ``judgement_noise``
    (sd of reports used for judgement) and ``handling`` (conflict handling x core strength) are
    zero where a site gets no support.
    """
    rise = (
        hard_reactance_rate * hard * mean_reactance * (1.0 - belonging)
        + professional_rate * tension
        + judgement_noise_rate * judgement_noise
    )
    fall = resolution_rate * handling + decay
    c = conflict + (1.0 - conflict) * rise - conflict * fall
    return clip01(c)


def engagement_update(
    engagement: np.ndarray,
    belonging: np.ndarray,
    attention: np.ndarray,
    conflict: np.ndarray,
    adjust: float,
) -> np.ndarray:
    """Engagement moves by ``adjust`` towards ``clip(0.2 + 0.6 b + 0.3 min(attention, 1) - C)``."""
    target = 0.2 + 0.6 * belonging + 0.3 * np.minimum(attention, 1.0) - conflict
    clip01(target)
    return engagement + adjust * (target - engagement)


def dropout(
    engagement: np.ndarray,
    active: np.ndarray | None,
    disengaged_months: np.ndarray,
    threshold: float,
    after_months: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(new disengaged-month counters, mask of sites dropping out this month); ``active`` bool
    ``(n_sites,)``, or None when every site is active (the same masks, one ``&`` fewer each)."""
    disengaged = engagement < threshold
    if active is not None:
        disengaged &= active
    counter = np.where(disengaged, disengaged_months + 1, 0)
    out = counter >= after_months
    if active is not None:
        out &= active
    return counter, out
