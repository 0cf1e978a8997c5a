"""Process 3, community events, belonging and cross-site ties (lessons 3 and 6).

Each month belonging fades (``belonging.decay``) and conflict erodes it; in an event month each
engaged site attends with probability equal to its engagement, gains belonging (more with soft
tactics, less for peripheral sites unless inclusion effort is high) and strengthens its ties to
the rest of the community. Cross-site ties decay without events. Ties are held as one strength
per site (its tie to the community: a mean-field of the site-by-site tie matrix), so cost stays
linear in the number of sites.
"""

from __future__ import annotations

import math

import numpy as np

from sim.arrays import clip01


def is_event_month(month_in_programme: int, events_per_year: float) -> bool:
    """True if an event falls in this programme month (events spread evenly over the year)."""
    if events_per_year <= 0 or month_in_programme < 0:
        return False
    rate = events_per_year / 12.0
    return math.floor((month_in_programme + 1) * rate) > math.floor(month_in_programme * rate)


def belonging_drift(
    belonging: np.ndarray, conflict: np.ndarray, decay: float, conflict_erosion: float
) -> np.ndarray:
    """Monthly fading of belonging: ``b - b x (decay + conflict_erosion x conflict)``, in [0, 1]."""
    b = belonging * (1.0 - decay - conflict_erosion * conflict)
    return clip01(b)


def attend(engagement: np.ndarray, active: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Which sites attend an event (bool, ``(n_sites,)``): active and ``draw < engagement``."""
    return active & (draw < engagement)


def event_gain(
    belonging: np.ndarray,
    attended: np.ndarray,
    peripheral: np.ndarray,
    soft: float,
    inclusion_effort: float,
    gain: float,
    peripheral_penalty: float,
    events_effect: float,
) -> np.ndarray:
    """Belonging after an event: attendees gain ``gain x (0.4 + 0.6 events_effect) x (0.5 +
    0.5 soft) x (1 - peripheral_penalty x peripheral x (1 - inclusion)) x (1 - b)``."""
    g = gain * (0.4 + 0.6 * events_effect) * (0.5 + 0.5 * soft)
    g = g * (1.0 - peripheral_penalty * peripheral * (1.0 - inclusion_effort))
    b = belonging + attended * g * (1.0 - belonging)
    return clip01(b)


def tie_update(
    tie: np.ndarray, attended: np.ndarray | None, gain: float, decay: float
) -> np.ndarray:
    """Cross-site tie strength: decays by ``decay`` a month, attendees gain ``gain x (1 - tie)``
    (``attended`` bool ``(n_sites,)``, or None in a month without an event)."""
    tie = tie * (1.0 - decay)
    if attended is None or not attended.any():  # no one attended: adding 0 x gain changes nothing
        return tie
    tie = tie + attended * gain * (1.0 - tie)
    return clip01(tie)
