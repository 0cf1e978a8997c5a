"""Process 8, routinisation: embedding the practice in systems and roles (sustainment).

``R' = R + g x a x (0.5 + 0.5 leadership) x embed x (1 - R) - d x (1 - a) x R``
where ``a`` is the site's adopted share (clinicians practising it) and ``embed`` is the
embedding effect while supported (``unsupported_growth_share + (1 - share) x embedding_effect``)
and ``unsupported_growth_share`` after support ends (May & Finch 2009, normalisation process).
Routinisation protects adopters against lapse (:mod:`sim.mechanisms.lapse`) and pulls
non-adopters, newcomers included, into the practice: an extra adoption hazard
``routinisation.adoption_pull x R`` per month (:mod:`sim.mechanisms.adoption`).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import clip01


def routinisation_update(
    routinisation: np.ndarray,
    adopted_share: np.ndarray,
    leadership: np.ndarray,
    embed: np.ndarray,
    growth: float,
    decay: float,
) -> np.ndarray:
    """Routinisation next month in [0, 1]; every argument is per site ``(n_sites,)`` or scalar."""
    lead = leadership_factor(leadership)
    return routinisation_step(routinisation, adopted_share, lead, embed, growth, decay)


def leadership_factor(leadership: np.ndarray) -> np.ndarray:
    """``0.5 + 0.5 leadership`` per site ``(n_sites,)``: fixed over a run (kept by the model)."""
    return 0.5 + 0.5 * leadership


def routinisation_step(
    routinisation: np.ndarray,
    adopted_share: np.ndarray,
    lead: np.ndarray,
    embed: np.ndarray | float,
    growth: float,
    decay: float,
) -> np.ndarray:
    """:func:`routinisation_update` with ``lead`` = :func:`leadership_factor` already computed
    (the same operations in the same order); arrays per site ``(n_sites,)``."""
    grow = growth * adopted_share * lead * embed * (1.0 - routinisation)
    fall = decay * (1.0 - adopted_share) * routinisation
    r = routinisation + grow - fall
    return clip01(r)
