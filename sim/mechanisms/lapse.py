"""Process 6, lapse and turnover.

Compliant adopters lapse fast once pressure stops, internalised ones slowly; both less where the
practice is routinised and more under conflict. Staff turnover replaces leavers with new,
non-adopting clinicians who must be reached again (clinicians are conserved).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import clip01


def lapse_rates(
    support: np.ndarray | float,
    routinisation: np.ndarray,
    conflict: np.ndarray,
    compliant_supported: float,
    compliant_unsupported: float,
    internalised: float,
    protection: float,
    conflict_multiplier: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly lapse probabilities per site: (compliant, internalised), each ``(n_sites,)``.

    ``support`` in [0, 1] is the pressure/support a site still receives (0 after the programme).
    Compliant: ``(c_sup + (c_unsup - c_sup)(1 - support)) x (1 - protection x R) x (1 + m x
    conflict)``; internalised: ``i x (1 - protection x R) x (1 + m x conflict)``.
    """
    shield = (1.0 - protection * routinisation) * (1.0 + conflict_multiplier * conflict)
    comp = compliant_supported + (compliant_unsupported - compliant_supported) * (1 - support)
    comp *= shield
    shield *= internalised  # now the internalised rate (same product: x * y = y * x)
    return clip01(comp), clip01(shield)


def lapse_table(rates: tuple[np.ndarray, np.ndarray], out: np.ndarray) -> np.ndarray:
    """The per-site ``rates`` of :func:`lapse_rates` written into the ``(site, state)`` table
    ``out``, shape ``(n_sites, 3)``: per site (0, p_compliant, p_internalised); returns the
    table flattened, for :func:`lapse_from_table`."""
    out[:, 0] = 0.0
    out[:, 1], out[:, 2] = rates
    return out.ravel()


def lapse_from_table(
    adoption: np.ndarray, site_row: np.ndarray, table: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Mask of adopters who lapse this month (bool, ``(n_clinicians,)``) from the flattened
    :func:`lapse_table`; ``site_row`` = 3 x each clinician's site."""
    return u < table[site_row + adoption]


def leavers(turnover_per_year: float, u: np.ndarray) -> np.ndarray:
    """Clinicians who leave this month (bool): monthly probability ``1 - (1 - t)^(1/12)``."""
    return u < 1.0 - (1.0 - turnover_per_year) ** (1.0 / 12.0)
