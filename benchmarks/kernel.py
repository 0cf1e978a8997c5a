"""The *limit*: a bare numpy / scipy.sparse kernel of the adoption + exposure update only.

No Mesa objects, no other processes (no push, lapse, turnover, conflict, routinisation...), no
metrics and no data collection: each month it does exactly what the model's adoption rule needs
and nothing else, written as lean as we know how (state preallocated, per-clinician constants
computed once, one uniform draw per clinician):

1. within-site exposure: one CSR matrix-vector product ``W a`` divided by the weighted degree;
2. cross-site exposure: adopted share per site (``bincount``), the leave-one-out community
   share weighted by size x tie strength, seen through each clinician's cross-site weight;
3. the threshold curve ``f(E)`` (complex contagion) and the monthly hazard
   ``1 - exp(-(q f(E) + secular))``;
4. one uniform draw per clinician; non-adopters whose draw falls below the hazard adopt.

It runs on the same network and clinicians as a built :class:`sim.model.CommunityModel`
(``from_model``), so the full model's cost per agent-step can be reported as a multiple of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sim.model import CommunityModel


@dataclass
class Kernel:
    """Inputs of the bare adoption + exposure kernel (arrays of shape ``(n_clinicians,)``
    unless stated).

    Attributes:
        within: weighted within-site network, CSR ``(n, n)``.
        inv_degree: 1 / weighted degree (0 where a clinician has no tie).
        site: site index of each clinician (int64).
        site_size: clinicians per site, shape ``(n_sites,)``.
        tie: cross-site tie strength per site, shape ``(n_sites,)``.
        cross_weight: each clinician's cross-site exposure weight (dimensionless).
        threshold: personal exposure threshold in [0, 1].
        width: softness of the threshold curve (exposure units).
        q: peer influence (hazard per month at exposure 1).
        secular: secular adoption hazard (per month).
    """

    within: sp.csr_matrix
    inv_degree: np.ndarray
    site: np.ndarray
    site_size: np.ndarray
    tie: np.ndarray
    cross_weight: np.ndarray
    threshold: np.ndarray
    width: float
    q: float
    secular: float

    @classmethod
    def from_model(cls, model: CommunityModel) -> Kernel:
        """Take the network, clinicians and rule parameters of a freshly built model."""
        scn, s, c, net = model.scn, model.sites, model.clinicians, model.networks
        within = net.within.copy()
        within.data = net.base_weight.copy()  # no conflict: base tie weights
        degree = np.asarray(within.sum(axis=1)).ravel()
        inv_degree = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
        tie = s.tie_strength * (s.arm == 1)
        belonging = np.full(s.size.size, scn.belonging.initial)
        cross_site = scn.network.cross_site_weight * tie * belonging
        return cls(
            within=within,
            inv_degree=inv_degree,
            site=c.site,
            site_size=s.size.astype(float),
            tie=tie,
            cross_weight=cross_site[c.site],
            threshold=c.threshold.copy(),
            width=scn.adoption.threshold_width,
            q=scn.adoption.peer_influence,
            secular=scn.challenge.secular_adoption_per_year / 12.0,
        )

    @property
    def n(self) -> int:
        """Clinicians."""
        return int(self.site.size)

    def run(self, months: int, seed: int = 0) -> np.ndarray:
        """Step ``months`` months from nobody adopted; return the final adoption (0/1 floats)."""
        n, n_sites = self.n, self.site_size.size
        rng = np.random.default_rng(seed)
        adopted = np.zeros(n)
        u = np.empty(n)
        # per-clinician constants of the threshold curve (thresholds are fixed in the kernel)
        lo = 1.0 / (1.0 + np.exp(self.threshold / self.width))
        hi = 1.0 / (1.0 + np.exp(-(1.0 - self.threshold) / self.width))
        q_span = self.q / (hi - lo)
        q_lo = q_span * lo
        inv_norm = 1.0 / (1.0 + self.cross_weight)
        size_tie = self.site_size * self.tie
        total_w = size_tie.sum()
        rest_w = total_w - size_tie
        inv_rest = np.divide(1.0, rest_w, out=np.zeros_like(rest_w), where=rest_w > 1e-12)
        neg_inv_width = -1.0 / self.width
        for _ in range(months):
            rng.random(out=u)
            # exposure: within-site (sparse matvec) + cross-site (leave-one-out community share)
            e = self.within @ adopted
            e *= self.inv_degree
            share = np.bincount(self.site, adopted, n_sites) / self.site_size
            w_share = size_tie * share
            community = (w_share.sum() - w_share) * inv_rest
            e += self.cross_weight * community[self.site]
            e *= inv_norm
            # threshold curve and hazard
            e -= self.threshold
            e *= neg_inv_width
            np.exp(e, out=e)
            e += 1.0
            np.divide(q_span, e, out=e)  # q x mid / (hi - lo)
            e -= q_lo
            np.clip(e, 0.0, self.q, out=e)
            e += self.secular
            np.negative(e, out=e)
            np.expm1(e, out=e)  # -(hazard)
            # adoption: non-adopters whose draw falls below the hazard
            adopted[(u < -e) & (adopted == 0.0)] = 1.0
        return adopted
