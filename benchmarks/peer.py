"""The *peer*: the model's adoption + exposure rule written the per-agent Mesa way.

Each clinician is a Mesa agent holding its own state; its ``step()`` reads its neighbours,
computes its exposure (within-site share of weighted ties adopted plus the cross-site community
share seen through its site's ties), applies the threshold curve and draws from the model's
``random``. The model runs ``self.agents.shuffle_do("step")`` each month. It is the same rule
as :mod:`kernel` (same network, thresholds and parameters), so the two time the same work.

Two versions, differing only in how an agent finds its neighbours:

* :class:`SpacePeerModel` (the idiomatic one): clinicians are ``CellAgent`` s on Mesa's
  ``discrete_space.Network`` built from the networkx graph; neighbours come from
  ``self.cell.neighborhood`` and tie weights from the graph's edge data.
* :class:`PeerModel` (hand-tuned): every agent keeps a Python list of ``(neighbour, weight)``
  pairs built once, the fastest per-agent form we could write.

Both cache the two per-clinician constants of the threshold curve and skip adopters.
"""

from __future__ import annotations

import math

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import CellAgent, Network

from sim.model import CommunityModel


class PeerSite:
    """A site's members and the adopted share of the rest of the community it sees."""

    def __init__(self, size_tie: float) -> None:
        self.members: list[PeerClinician] = []
        self.size_tie = size_tie  # clinicians x tie strength (weight in the community mean)
        self.share = 0.0  # adopted share of the site's clinicians
        self.community_share = 0.0  # leave-one-out adopted share of the rest of the community


class PeerClinician(mesa.Agent):
    """One clinician: adopts with hazard ``1 - exp(-(q f(E) + secular))`` a month."""

    def __init__(
        self, model: PeerModel, site: PeerSite, threshold: float, cross_weight: float
    ) -> None:
        super().__init__(model)
        self.site = site
        self.threshold = threshold
        self.cross_weight = cross_weight
        self.adopted = False
        self.neighbours: list[tuple[PeerClinician, float]] = []
        self.degree = 0.0
        width = model.width
        self.lo = 1.0 / (1.0 + math.exp(threshold / width))
        self.hi = 1.0 / (1.0 + math.exp(-(1.0 - threshold) / width))

    def step(self) -> None:
        """Read the neighbours, compute exposure, maybe adopt."""
        if self.adopted:
            return
        model = self.model
        within = sum(w for other, w in self.neighbours if other.adopted)
        e_within = within / self.degree if self.degree > 0 else 0.0
        e = (e_within + self.cross_weight * self.site.community_share) / (1.0 + self.cross_weight)
        mid = 1.0 / (1.0 + math.exp(-(e - self.threshold) / model.width))
        f = min(max((mid - self.lo) / (self.hi - self.lo), 0.0), 1.0)
        hazard = 1.0 - math.exp(-(model.q * f + model.secular))
        if self.random.random() < hazard:
            self.adopted = True


class PeerModel(mesa.Model):
    """Per-agent Mesa implementation of the adoption + exposure rule on a model's network."""

    def __init__(self, source: CommunityModel, seed: int = 0) -> None:
        super().__init__(rng=seed)
        scn, s, c, net = source.scn, source.sites, source.clinicians, source.networks
        self.width = scn.adoption.threshold_width
        self.q = scn.adoption.peer_influence
        self.secular = scn.challenge.secular_adoption_per_year / 12.0
        tie = s.tie_strength * (s.arm == 1)
        cross_site = scn.network.cross_site_weight * tie * scn.belonging.initial
        self.sites = [PeerSite(float(size * t)) for size, t in zip(s.size, tie, strict=True)]
        clinicians = []
        for i in range(c.site.size):
            site = self.sites[int(c.site[i])]
            agent = PeerClinician(
                self, site, float(c.threshold[i]), float(cross_site[int(c.site[i])])
            )
            site.members.append(agent)
            clinicians.append(agent)
        indptr, indices, weight = net.within.indptr, net.within.indices, net.base_weight
        for i, agent in enumerate(clinicians):
            lo, hi = int(indptr[i]), int(indptr[i + 1])
            agent.neighbours = [
                (clinicians[int(j)], float(w))
                for j, w in zip(indices[lo:hi], weight[lo:hi], strict=True)
            ]
            agent.degree = sum(w for _, w in agent.neighbours)

    @staticmethod
    def update_sites(sites: list[PeerSite]) -> None:
        """Each site's adopted share and the leave-one-out community share it sees."""
        for site in sites:
            site.share = sum(a.adopted for a in site.members) / len(site.members)
        total_w = sum(site.size_tie for site in sites)
        total = sum(site.size_tie * site.share for site in sites)
        for site in sites:
            rest = total_w - site.size_tie
            site.community_share = (total - site.size_tie * site.share) / rest if rest > 0 else 0

    def step(self) -> None:
        """One month: sites count their adopters, then every clinician steps in random order."""
        self.update_sites(self.sites)
        self.agents.shuffle_do("step")

    def adopted(self) -> np.ndarray:
        """Adoption of every clinician (0/1), in the source model's order."""
        return np.array([a.adopted for a in self.agents], dtype=float)


class SpaceClinician(CellAgent):
    """A clinician on Mesa's network space: neighbours from its cell, weights from the graph."""

    def __init__(
        self, model: SpacePeerModel, cell: object, site: PeerSite, threshold: float, cross: float
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.site = site
        self.threshold = threshold
        self.cross_weight = cross
        self.adopted = False
        width = model.width
        self.lo = 1.0 / (1.0 + math.exp(threshold / width))
        self.hi = 1.0 / (1.0 + math.exp(-(1.0 - threshold) / width))

    def step(self) -> None:
        """Read the neighbours through the space, compute exposure, maybe adopt."""
        if self.adopted:
            return
        model = self.model
        edges = model.graph[self.cell.coordinate]
        within = degree = 0.0
        for other in self.cell.neighborhood.agents:
            w = edges[other.cell.coordinate]["weight"]
            degree += w
            if other.adopted:
                within += w
        e_within = within / degree if degree > 0 else 0.0
        e = (e_within + self.cross_weight * self.site.community_share) / (1.0 + self.cross_weight)
        mid = 1.0 / (1.0 + math.exp(-(e - self.threshold) / model.width))
        f = min(max((mid - self.lo) / (self.hi - self.lo), 0.0), 1.0)
        hazard = 1.0 - math.exp(-(model.q * f + model.secular))
        if self.random.random() < hazard:
            self.adopted = True


class SpacePeerModel(mesa.Model):
    """Idiomatic Mesa version: ``CellAgent`` s on a ``discrete_space.Network``."""

    def __init__(self, source: CommunityModel, seed: int = 0) -> None:
        super().__init__(rng=seed)
        scn, s, c, net = source.scn, source.sites, source.clinicians, source.networks
        self.width = scn.adoption.threshold_width
        self.q = scn.adoption.peer_influence
        self.secular = scn.challenge.secular_adoption_per_year / 12.0
        base = net.within.copy()
        base.data = net.base_weight.copy()
        self.graph = nx.from_scipy_sparse_array(base)  # edge attribute "weight"
        self.space = Network(self.graph, capacity=1, random=self.random, layout=None)
        tie = s.tie_strength * (s.arm == 1)
        cross_site = scn.network.cross_site_weight * tie * scn.belonging.initial
        self.sites = [PeerSite(float(size * t)) for size, t in zip(s.size, tie, strict=True)]
        for i in range(c.site.size):
            site = self.sites[int(c.site[i])]
            agent = SpaceClinician(
                self, self.space[i], site, float(c.threshold[i]), float(cross_site[int(c.site[i])])
            )
            site.members.append(agent)

    def step(self) -> None:
        """One month: sites count their adopters, then every clinician steps in random order."""
        PeerModel.update_sites(self.sites)
        self.agents.shuffle_do("step")
