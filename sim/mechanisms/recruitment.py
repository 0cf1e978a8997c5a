"""Process 1, recruitment (lesson 3: recruit a community).

Sites join over the recruitment window. Voluntary joining favours ready sites (self-selection:
in On the CUSP, later-joining states were not early adopters); invited sites join in random
order; mandated joining enrols every site at once, with lower starting belonging and more
reactance (``belonging.mandated_factor``, ``belonging.mandated_reactance_extra``).
"""

from __future__ import annotations

import numpy as np

from sim.scenario import RecruitmentMode


def join_months(
    readiness: np.ndarray,
    arm: np.ndarray,
    mode: RecruitmentMode,
    start_month: int,
    window_months: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Month each site joins (shape ``(n_sites,)``, int); -1 for control sites.

    Voluntary: ranked by readiness plus N(0, 0.1) noise, most ready first; invited: random
    order; mandated: all at ``start_month``. Ranks are spread evenly over the window.
    Always draws ``n_sites`` normals so the stream is used the same way under every mode (CRN).
    """
    noise = rng.normal(0.0, 0.1, readiness.size)
    shuffle = rng.random(readiness.size)
    prog = np.flatnonzero(arm == 1)
    out = np.full(readiness.size, -1, dtype=np.int64)
    if mode == RecruitmentMode.mandated:
        out[prog] = start_month
        return out
    key = -(readiness[prog] + noise[prog]) if mode == RecruitmentMode.voluntary else shuffle[prog]
    rank = np.empty(prog.size, dtype=np.int64)
    rank[np.argsort(key, kind="stable")] = np.arange(prog.size)
    out[prog] = start_month + (rank * window_months) // max(prog.size, 1)
    return out


def initial_belonging(
    readiness: np.ndarray, mode: RecruitmentMode, initial: float, mandated_factor: float
) -> np.ndarray:
    """Belonging on joining: ``initial x (0.75 + 0.5 readiness)``, x ``mandated_factor`` if
    mandated."""
    b = initial * (0.75 + 0.5 * readiness)
    if mode == RecruitmentMode.mandated:
        b = b * mandated_factor
    return np.clip(b, 0.0, 1.0)
