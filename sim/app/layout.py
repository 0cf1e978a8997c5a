"""The network view's layout: where each drawn site and clinician of a model sits.

:func:`network_layout` places programme sites on a sunflower spiral around the core team and each
site's clinicians on a small ring around it, once per model; :class:`NetworkLayout` holds the
result for :func:`sim.app.views.network_figure`. Large communities are sampled evenly (at most
:data:`MAX_SITES_DRAWN` sites and :data:`MAX_CLINICIANS_DRAWN` clinicians per site).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import CommunityModel

MAX_SITES_DRAWN = 40
"""Largest number of programme sites drawn in the network view (an even sample beyond it)."""
MAX_CLINICIANS_DRAWN = 24
"""Largest number of clinicians drawn per site (the first ones on the site's ring)."""


@dataclass
class NetworkLayout:
    """Precomputed positions for the network view (computed once per model, never per step).

    Sites sit on a sunflower spiral around the core team at (0, 0), central sites inside and
    peripheral sites on the outer rim; each site's drawn clinicians sit on a small ring around
    it, in the order of the site's Watts-Strogatz ring, so ring ties are short chords.

    Attributes:
        sites: programme sites drawn (indices into ``model.sites``), shape ``(k,)``.
        site_xy: their centres, shape ``(k, 2)``.
        clinicians: clinicians drawn (indices into ``model.clinicians``), shape ``(m,)``.
        clinician_xy: their positions, shape ``(m, 2)``.
        edges: ties among drawn clinicians as index pairs into ``clinicians``, shape ``(e, 2)``.
        sampled: True if sites or clinicians were left out to keep the view fast.
        site_radius: radius of each site's ring of clinicians.
        n_programme_sites: programme sites in the model (drawn or not).
    """

    sites: np.ndarray
    site_xy: np.ndarray
    clinicians: np.ndarray
    clinician_xy: np.ndarray
    edges: np.ndarray
    sampled: bool = False
    site_radius: float = 0.1
    n_programme_sites: int = 0


def network_layout(
    model: CommunityModel,
    max_sites: int = MAX_SITES_DRAWN,
    max_clinicians: int = MAX_CLINICIANS_DRAWN,
) -> NetworkLayout:
    """Compute the network view's layout for ``model`` (fast: no force-directed layout)."""
    s = model.sites
    prog = np.flatnonzero(s.arm == 1)
    sampled = prog.size > max_sites
    shown = prog[np.linspace(0, prog.size - 1, max_sites).round().astype(int)] if sampled else prog
    # central sites first (inner spiral), peripheral sites last (outer rim)
    shown = shown[np.argsort(s.peripheral[shown], kind="stable")]
    k = shown.size
    golden = np.pi * (3.0 - np.sqrt(5.0))
    j = np.arange(k) + 1.5  # leave the centre free for the core team
    radius = np.sqrt(j / (k + 1.5))
    site_xy = np.column_stack([radius * np.cos(j * golden), radius * np.sin(j * golden)])
    spacing = np.sqrt(np.pi / (k + 1.5))  # mean distance between neighbouring sites
    ring = 0.33 * spacing
    starts = np.concatenate([[0], np.cumsum(s.size)[:-1]])
    chosen, xy = [], []
    for site, (cx, cy) in zip(shown, site_xy, strict=True):
        size = int(s.size[site])
        m = min(size, max_clinicians)
        sampled = sampled or m < size
        angle = 2 * np.pi * np.arange(m) / m
        chosen.append(starts[site] + np.arange(m))
        xy.append(np.column_stack([cx + ring * np.cos(angle), cy + ring * np.sin(angle)]))
    clinicians = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    clinician_xy = np.concatenate(xy) if xy else np.zeros((0, 2))
    position = np.full(model.clinicians.site.size, -1)
    position[clinicians] = np.arange(clinicians.size)
    coo = model.networks.base.tocoo()
    keep = (coo.row < coo.col) & (position[coo.row] >= 0) & (position[coo.col] >= 0)
    edges = np.column_stack([position[coo.row[keep]], position[coo.col[keep]]])
    return NetworkLayout(
        sites=shown,
        site_xy=site_xy,
        clinicians=clinicians,
        clinician_xy=clinician_xy,
        edges=edges,
        sampled=bool(sampled),
        site_radius=ring,
        n_programme_sites=int(prog.size),
    )
