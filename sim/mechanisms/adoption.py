"""Process 5, adoption: external push and peer influence kept separate.

Monthly adoption hazard of a clinician who has not adopted:
``h = 1 - exp(-(external + peer + pull + secular))`` (a discrete-time Bass model, Bass 1969;
external and contagion terms separate as Van den Bulte & Lilien 2001 require), with ``pull`` the
site's routinisation pull ``routinisation.adoption_pull x R`` (:mod:`sim.mechanisms.routinisation`).

* external (programme push, only at active sites during support) = site push x personal drive;
  site push = ``p x evidence x (1 - complexity x (1 - capacity)) x readiness x (0.5 + 0.5
  leadership) x fit x (0.5 + 0.5 credibility) x attention x (0.5 + 0.5 engagement)``;
  drive = ``soft_weight x soft x (0.3 + 0.7 belonging) + hard_weight x hard x (1 -
  reactance_damping x reactance) + feedback pressure``.
* peer = ``q x f(E)`` with Valente's network exposure E (weighted share of contacts adopted),
  cross-site exposure weighted by tie strength and belonging; f is a threshold curve (complex
  contagion, Centola & Macy 2007) or linear (simple contagion).
* New adopters are internalised with probability (soft part + peer + secular) / total rate,
  compliant otherwise (Kelman 1958); compliant adopters internalise over time with soft support
  and belonging, or from peers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sim.arrays import clip01


def site_push(
    evidence: float,
    complexity: float,
    capacity: np.ndarray,
    readiness: np.ndarray,
    leadership: np.ndarray,
    fit: np.ndarray,
    credibility: float,
    attention: np.ndarray,
    p: float,
) -> np.ndarray:
    """Programme push per site (hazard per month per unit drive), shape ``(n_sites,)``.

    ``attention`` is the engagement-weighted attention ``attention x (0.5 + 0.5 engagement)``:
    a disengaged site takes in half of what the core team offers.
    """
    base = site_push_base(evidence, complexity, capacity, readiness, leadership, fit, p)
    return site_push_now(base, credibility, attention)


def site_push_base(
    evidence: float,
    complexity: float,
    capacity: np.ndarray,
    readiness: np.ndarray,
    leadership: np.ndarray,
    fit: np.ndarray,
    p: float,
) -> np.ndarray:
    """The factors of :func:`site_push` fixed over a run, shape ``(n_sites,)``: ``p x evidence
    x (1 - complexity x (1 - capacity)) x readiness x (0.5 + 0.5 leadership) x fit``."""
    return (
        p
        * evidence
        * (1.0 - complexity * (1.0 - capacity))
        * readiness
        * (0.5 + 0.5 * leadership)
        * fit
    )


def site_push_now(base: np.ndarray, credibility: float, attention: np.ndarray) -> np.ndarray:
    """:func:`site_push` from its fixed part ``base`` (:func:`site_push_base`): ``base x (0.5 +
    0.5 credibility) x attention``, shape ``(n_sites,)`` (same operations, same order)."""
    return base * (0.5 + 0.5 * credibility) * attention


def drive(
    soft: float,
    hard: float,
    receptivity: np.ndarray,
    reactance: np.ndarray,
    feedback: np.ndarray,
    soft_weight: float,
    hard_weight: float,
    reactance_damping: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-clinician (soft part, hard + feedback part) of the tactic drive.

    ``receptivity`` = 0.3 + 0.7 x site belonging: soft tactics work through relationships, so
    they start slow and grow as belonging builds; hard pressure acts at once but is blunted by
    reactance. Site arrays are already indexed per clinician; returns two ``(n_clinicians,)``.
    """
    return soft_drive(soft, receptivity, soft_weight), hard_drive(
        hard, reactance, feedback, hard_weight, reactance_damping
    )


def soft_drive(soft: float, receptivity: np.ndarray, soft_weight: float) -> np.ndarray:
    """The soft part of :func:`drive`: ``soft_weight x soft x receptivity`` (per site or per
    clinician, the shape of ``receptivity``)."""
    return soft_weight * soft * receptivity


def hard_drive(
    hard: float,
    reactance: np.ndarray,
    feedback: np.ndarray,
    hard_weight: float,
    reactance_damping: float,
) -> np.ndarray:
    """The hard + feedback part of :func:`drive`: ``hard_weight x hard x (1 - reactance_damping
    x reactance) + feedback``, shape ``(n_clinicians,)`` (``feedback`` indexed per clinician)."""
    return hard_weight * hard * (1.0 - reactance_damping * reactance) + feedback


def exposure(
    within: sp.csr_matrix,
    degree: np.ndarray,
    adopted: np.ndarray,
    cross_share: np.ndarray,
    cross_weight: np.ndarray,
) -> np.ndarray:
    """Valente's network exposure per clinician in [0, 1], shape ``(n_clinicians,)``.

    ``E = (W a / deg + w_x X) / (1 + w_x)`` where ``W`` is the weighted within-site network,
    ``a`` adoption (0/1), ``X`` the adopted share of the rest of the community seen through
    cross-site ties and ``w_x`` the clinician's cross-site weight (0 with no ties).
    """
    return exposure_from_sums(
        within @ adopted, degree, cross_weight * cross_share, 1.0 + cross_weight
    )


def exposure_from_sums(
    within_adopted: np.ndarray, degree: np.ndarray, cross_term: np.ndarray, norm: np.ndarray
) -> np.ndarray:
    """:func:`exposure` from ``W a`` and the weighted degree already summed, per clinician.

    ``cross_term`` = ``w_x X`` and ``norm`` = ``1 + w_x`` (per clinician; the model forms them
    per site and indexes once). Returns ``E`` in [0, 1], shape ``(n_clinicians,)``.
    """
    if np.count_nonzero(degree) == degree.size:  # every clinician has a tie (the rule)
        e = within_adopted / degree
    else:
        e = np.divide(within_adopted, degree, out=np.zeros_like(degree), where=degree > 0)
    e += cross_term
    e /= norm
    return e


def community_share(adopted_share: np.ndarray, size: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Adopted share of the rest of the community as seen from each site (leave-one-out mean
    weighted by size x tie strength), shape ``(n_sites,)``."""
    w = size * tie
    total_w = np.add.reduce(w)  # = w.sum() without its Python wrapper
    wa = w * adopted_share
    total = np.add.reduce(wa)
    rest_w = total_w - w
    return np.divide(total - wa, rest_w, out=np.zeros(rest_w.shape), where=rest_w > 1e-12)


def curve_bounds(threshold: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi - lo)`` of each clinician's threshold curve (see :func:`peer_response`).

    They depend on the threshold alone, so the model keeps them from month to month and
    refreshes them for the clinicians whose threshold changes (turnover).
    """
    lo = 1.0 / (1.0 + np.exp(threshold / width))
    hi = 1.0 / (1.0 + np.exp(-(1.0 - threshold) / width))
    return lo, hi - lo


def peer_response(
    e: np.ndarray,
    threshold: np.ndarray,
    width: float,
    linear: bool,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """f(E) in [0, 1] with f(0) = 0 and f(1) = 1: ``E`` (linear) or a logistic threshold curve
    centred on each clinician's threshold, rescaled to pass through (0, 0) and (1, 1).

    ``bounds`` is :func:`curve_bounds` ``(threshold, width)`` when the caller already has it.
    """
    if linear:
        return e
    lo, span = curve_bounds(threshold, width) if bounds is None else bounds
    f = np.asarray(threshold - e, dtype=float)  # mid = 1 / (1 + exp(-(E - threshold) / width))
    f /= width
    np.exp(f, out=f)
    f += 1.0
    np.divide(1.0, f, out=f)
    f -= lo
    f /= span
    return clip01(f)


def adopt(
    adoption: np.ndarray,
    external_soft: np.ndarray | float,
    external_hard: np.ndarray | float,
    peer: np.ndarray,
    secular: float,
    u_adopt: np.ndarray,
    u_kind: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """New adopters this month: (new_compliant, new_internalised) row indices (int, ascending).

    ``u_adopt``, ``u_kind`` are uniform draws of shape ``(n_clinicians,)``; the external terms
    may be the scalar 0 (no programme support). Only new adopters' kinds are computed.
    """
    rate = np.add(external_soft, external_hard)  # ((soft + hard) + peer) + secular
    rate += peer  # a 0-d sum (no support) is replaced by a new array here
    rate += secular
    hazard = np.negative(rate)  # 1 - exp(-rate)
    np.exp(hazard, out=hazard)
    np.subtract(1.0, hazard, out=hazard)
    new = u_adopt < hazard
    new &= adoption == 0
    who = new.nonzero()[0]
    soft = external_soft[who] if isinstance(external_soft, np.ndarray) else external_soft
    r = rate[who]  # > 0: a draw in [0, 1) falls below the hazard only if the rate is positive
    p_int = (soft + peer[who] + secular) / r
    internal = u_kind[who] < p_int
    return who[~internal], who[internal]


def internalise_compliant(
    adoption: np.ndarray,
    scale: float,
    soft_support: np.ndarray | float,
    exposure: np.ndarray,
    exposure_weight: float,
    u: np.ndarray,
) -> np.ndarray:
    """:func:`internalise` with ``rate = scale x (soft_support + exposure_weight x exposure)``
    per month, computed for the compliant clinicians only; returns their row indices (int,
    ascending; ``soft_support`` per clinician ``(n_clinicians,)`` or a scalar)."""
    who = (adoption == 1).nonzero()[0]
    support = soft_support[who] if isinstance(soft_support, np.ndarray) else soft_support
    rate = scale * (support + exposure_weight * exposure[who])
    return who[u[who] < 1.0 - np.exp(-rate)]


def internalise(adoption: np.ndarray, rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Compliant clinicians who internalise this month (bool mask); ``rate`` per month."""
    p = np.negative(rate)  # 1 - exp(-rate)
    np.exp(p, out=p)
    np.subtract(1.0, p, out=p)
    out = u < p
    out &= adoption == 1
    return out
