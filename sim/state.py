"""Columnar model state: one numpy row per site and per clinician, plus the sparse networks.

Struct-of-arrays (as in Starsim): every mechanism updates all agents at once. Sites ``0 ..
n_programme-1`` form the programme arm; any further sites are the control arm.

Clinician adoption states (Kelman 1958): :data:`NOT_ADOPTED`, :data:`COMPLIANT` (adopted under
pressure), :data:`INTERNALISED` (owns the practice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from sim.arrays import clip01
from sim.scenario import Network as NetworkParams
from sim.scenario import Scenario

NOT_ADOPTED, COMPLIANT, INTERNALISED = 0, 1, 2
COUNT_SHIFT = 2.0**20  # cross-profession ties counted in units of 2^20 (exact below 2^33 ties)
DOCTOR, NURSE, ALLIED = 0, 1, 2
PROFESSIONS = ("doctor", "nurse", "allied")


@dataclass
class SiteState:
    """Per-site arrays, shape ``(n_sites,)``; fractions in [0, 1] unless stated."""

    arm: np.ndarray  # 1 programme, 0 control (int8)
    size: np.ndarray  # clinicians (int64)
    readiness: np.ndarray
    leadership: np.ndarray
    slack: np.ndarray
    fit: np.ndarray
    peripheral: np.ndarray  # bool
    tension: np.ndarray  # professional tension from the realised mix x hierarchy
    base_event_rate: np.ndarray  # per 1000 patient-days
    patient_days: np.ndarray  # patient-days per month
    join_month: np.ndarray  # month of joining (int64); -1 = never (control)
    joined: np.ndarray  # bool
    dropped: np.ndarray  # bool (drop-out; still counted: intention to treat)
    disengaged_months: np.ndarray  # consecutive months disengaged (int64)
    belonging: np.ndarray
    engagement: np.ndarray
    conflict: np.ndarray
    routinisation: np.ndarray
    tie_strength: np.ndarray  # strength of the site's ties to the rest of the community
    plan_weight: np.ndarray  # core team's plan weight (mean 1 over active sites)
    attention: np.ndarray  # core-team attention received this month
    reported_adherence: np.ndarray
    feedback_pressure: np.ndarray
    noise_sd: np.ndarray  # sd of the last report
    gaming: np.ndarray  # gaming bias of the last report
    adherence_start: np.ndarray  # true adherence at programme start

    @property
    def active(self) -> np.ndarray:
        """Joined and not dropped out: receives support."""
        return self.joined & ~self.dropped


@dataclass
class ClinicianState:
    """Per-clinician arrays, shape ``(n_clinicians,)``."""

    site: np.ndarray  # int64 site index
    profession: np.ndarray  # int8: DOCTOR, NURSE, ALLIED
    threshold: np.ndarray  # personal exposure threshold in [0, 1]
    reactance: np.ndarray  # reactance to hard tactics in [0, 1]
    adoption: np.ndarray  # int8: NOT_ADOPTED, COMPLIANT, INTERNALISED


@dataclass
class Networks:
    """Within-site clinician network (CSR, weighted, symmetric) and its edge metadata.

    ``base.data`` is aligned with ``base_weight``, ``cross_profession`` and ``edge_site``.
    Conflict weakens cross-profession ties by a factor per site (``tie_factor``, 1 = intact).
    The monthly update never rewrites the matrix. Same-profession ties weigh 1 and
    cross-profession ties ``cross_tie_weight`` (x the factor), so for a 0/1 vector ``a`` one
    sparse product with the fixed ``counts`` matrix (1 per same-profession tie, 2^20 per
    cross-profession tie; exact in float64) gives both counts of adopted contacts, and
    ``W a = same count + g x cross count``, weighted degree ``same_degree + g x cross_ties``,
    with ``g = cross_tie_weight x f`` and ``f`` the tie factor of the clinician's site (every
    tie of a row lies in the row's site; :meth:`weighted_sums`). ``within`` assembles the
    current weighted matrix on demand.
    """

    base: sp.csr_matrix  # all ties at base weight
    base_weight: np.ndarray
    cross_profession: np.ndarray  # bool per stored edge
    edge_site: np.ndarray  # site index of each stored edge
    counts: sp.csr_matrix  # 1 per same-profession tie, COUNT_SHIFT per cross-profession tie
    cross_tie_weight: float  # base weight of a cross-profession tie (same-profession: 1)
    same_degree: np.ndarray  # weighted degree from same-profession ties, per clinician
    cross_degree: np.ndarray  # weighted degree from cross-profession ties at base weight
    cross_ties: np.ndarray  # number of cross-profession ties per clinician (float)
    tie_factor: np.ndarray | None = None  # per site, in [0, 1]; None = every tie at base weight
    degree: np.ndarray = field(default_factory=lambda: np.zeros(0))  # current weighted degree

    @property
    def within(self) -> sp.csr_matrix:
        """The current weighted network (CSR): cross-profession ties x their site's factor."""
        if self.tie_factor is None:
            return self.base
        w = self.base.copy()
        weakened = self.base_weight * self.tie_factor[self.edge_site]
        w.data = np.where(self.cross_profession, weakened, self.base_weight)
        return w

    def weighted_sums(self, x: np.ndarray, site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(W x, weighted degree)`` per clinician under the current ``tie_factor``.

        ``x`` is a 0/1 float vector (e.g. adopted) with one value per clinician and ``site``
        gives each clinician's site; one sparse product, no per-tie work. Returns two
        ``(n_clinicians,)`` arrays.
        """
        if self.tie_factor is None:
            same_x, cross_x = self._counts(x)
            cross_x *= self.cross_tie_weight
            return same_x + cross_x, self.same_degree + self.cross_degree
        return self.weighted_sums_at((self.cross_tie_weight * self.tie_factor)[site], x)

    def weighted_sums_at(self, g: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`weighted_sums` given ``g``, the weight of one cross-profession tie of each
        clinician (``cross_tie_weight x tie_factor`` of its site, shape ``(n_clinicians,)``)."""
        same_x, cross_x = self._counts(x)
        cross_x *= g
        cross_x += same_x
        degree = g * self.cross_ties
        degree += self.same_degree
        return cross_x, degree

    def _counts(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(same-profession, cross-profession) contacts with ``x`` = 1, exact float counts."""
        y = self.counts @ x  # same count + COUNT_SHIFT x cross count, exact integers
        cross_x = y * (1.0 / COUNT_SHIFT)
        np.floor(cross_x, out=cross_x)
        same_x = cross_x * COUNT_SHIFT
        np.subtract(y, same_x, out=same_x)
        return same_x, cross_x


def with_reactance_extra(reactance: np.ndarray, who: np.ndarray, extra: float) -> np.ndarray:
    """``clip(reactance + extra x who, 0, 1)``: one of the extras a clinician's reactance gets
    on top of its clipped normal draw (doctors, then a mandated programme's clinicians), at
    initialisation and for newcomers alike (docs/ODD.md section 5, items 2 and 4). Arrays of
    shape ``(n,)``; ``who`` is a bool mask; returns a new array."""
    r = reactance + extra * who
    return clip01(r)


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    return np.clip(rng.normal(mean, sd, n), 0.0, 1.0)


def draw_sites(scn: Scenario, n: int, rng: np.random.Generator, arm: int) -> dict[str, np.ndarray]:
    """Draw static site attributes for ``n`` sites from one stream (shape ``(n,)`` each)."""
    s = scn.sites
    mu = np.log(s.mean_size) - 0.5 * s.size_sigma**2  # lognormal with the requested mean
    size = np.maximum(s.min_size, np.rint(rng.lognormal(mu, s.size_sigma, n))).astype(np.int64)
    rate = rng.gamma(scn.challenge.event_rate_shape, 1.0, n) / scn.challenge.event_rate_shape
    return {
        "arm": np.full(n, arm, dtype=np.int8),
        "size": size,
        "readiness": _clipped_normal(rng, s.readiness_mean, s.readiness_sd, n),
        "leadership": _clipped_normal(rng, s.leadership_mean, s.leadership_sd, n),
        "slack": _clipped_normal(rng, s.slack_mean, s.slack_sd, n),
        "fit": _clipped_normal(rng, s.fit_mean, s.fit_sd, n),
        "peripheral": rng.random(n) < s.peripheral_share,
        "base_event_rate": scn.challenge.baseline_event_rate * rate,
    }


def build_sites(scn: Scenario, rngs: dict[str, np.random.Generator]) -> SiteState:
    """Programme-arm sites from the ``sites`` stream, control sites from the ``control`` stream."""
    parts = [draw_sites(scn, scn.sites.n_sites, rngs["sites"], arm=1)]
    if scn.control.n_sites:
        parts.append(draw_sites(scn, scn.control.n_sites, rngs["control"], arm=0))
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = cols["size"].size
    zeros = np.zeros(n)
    return SiteState(
        **cols,
        tension=zeros.copy(),
        patient_days=cols["size"] * scn.sites.patient_days_per_clinician_month,
        join_month=np.full(n, -1, dtype=np.int64),
        joined=np.zeros(n, dtype=bool),
        dropped=np.zeros(n, dtype=bool),
        disengaged_months=np.zeros(n, dtype=np.int64),
        belonging=zeros.copy(),
        engagement=zeros.copy(),
        conflict=zeros.copy(),
        routinisation=zeros.copy(),
        tie_strength=np.where(cols["arm"] == 1, scn.network.embeddedness, 0.0),
        plan_weight=np.ones(n),
        attention=zeros.copy(),
        reported_adherence=np.full(n, scn.challenge.baseline_adherence),
        feedback_pressure=zeros.copy(),
        noise_sd=zeros.copy(),
        gaming=zeros.copy(),
        adherence_start=np.full(n, scn.challenge.baseline_adherence),
    )


def build_clinicians(
    scn: Scenario, sites: SiteState, rngs: dict[str, np.random.Generator]
) -> ClinicianState:
    """One row per clinician, grouped by site; professions drawn from the scenario's mix.

    Programme-arm clinicians come from the ``clinicians`` stream and control-arm clinicians
    from the ``control`` stream, so adding a control arm leaves the programme arm unchanged.
    """
    c = scn.clinicians
    n = int(sites.size.sum())
    site = np.repeat(np.arange(sites.size.size), sites.size)
    mix = scn.sites.profession_mix
    n_prog = int(sites.size[sites.arm == 1].sum())
    blocks = [(n_prog, rngs["clinicians"]), (n - n_prog, rngs["control"])]
    drawn = [
        (
            rng.choice(3, size=k, p=[mix.doctor, mix.nurse, mix.allied]).astype(np.int8),
            _clipped_normal(rng, c.threshold_mean, c.threshold_sd, k),
            _clipped_normal(rng, c.reactance_mean, c.reactance_sd, k),
        )
        for k, rng in blocks
        if k > 0
    ]
    profession, threshold, reactance = (np.concatenate(parts) for parts in zip(*drawn, strict=True))
    reactance = with_reactance_extra(reactance, profession == DOCTOR, c.doctor_reactance_extra)
    # professional tension: heterogeneity of the realised mix (Gini-Simpson) x hierarchy
    counts = np.zeros((sites.size.size, 3))
    np.add.at(counts, (site, profession), 1.0)
    shares = counts / sites.size[:, None]
    sites.tension = scn.sites.professional_hierarchy * (1.0 - (shares**2).sum(axis=1))
    return ClinicianState(
        site=site,
        profession=profession,
        threshold=threshold,
        reactance=reactance,
        adoption=np.zeros(n, dtype=np.int8),
    )


def build_within_site_network(
    scn: Scenario, sites: SiteState, clin: ClinicianState, rngs: dict[str, np.random.Generator]
) -> Networks:
    """Watts-Strogatz small world inside each site (vectorised over all sites at once).

    Each clinician links to the ``k/2`` next clinicians on its site's ring (``k`` =
    ``network.within_site_degree``, capped at site size - 1); each link is rewired to a random
    clinician of the same site with probability ``network.rewiring`` (Watts & Strogatz 1998).
    Cross-profession ties get weight ``network.cross_profession_weight``. The programme arm is
    wired from the ``network`` stream, the control arm from the ``control`` stream.
    """
    n = clin.site.size
    prog = sites.arm == 1
    n_prog = int(sites.size[prog].sum())
    r1, c1 = _ring_edges(sites.size[prog], scn.network, rngs["network"])
    r2, c2 = _ring_edges(sites.size[~prog], scn.network, rngs["control"])
    r = np.concatenate([r1, r2 + n_prog])
    c = np.concatenate([c1, c2 + n_prog])
    keep = r != c
    r, c = r[keep], c[keep]
    r, c = np.concatenate([r, c]), np.concatenate([c, r])  # symmetric
    # sorted unique (rows, then columns), as np.unique but faster; the keys come in long sorted
    # runs (ring order), which the stable sort (timsort-like merge of runs) exploits: ~6x faster
    key = np.sort(r * n + c, kind="stable")
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else key
    r, c = key // n, key % n
    xprof = clin.profession[r] != clin.profession[c]
    weight = np.where(xprof, scn.network.cross_profession_weight, 1.0)
    within = _csr(r, c, weight.copy(), n)
    counts = _csr(r, c, np.where(xprof, COUNT_SHIFT, 1.0), n)
    nets = Networks(
        within,
        weight,
        xprof,
        clin.site[r],
        counts,
        float(scn.network.cross_profession_weight),
        _row_sums(r[~xprof], weight[~xprof], n),
        _row_sums(r[xprof], weight[xprof], n),
        np.bincount(r[xprof], minlength=n).astype(float),
    )
    nets.degree = _row_sums(r, weight, n)
    return nets


def _ring_edges(
    sizes: np.ndarray, net: NetworkParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Directed ring-lattice edges with rewiring for consecutive sites of ``sizes`` clinicians;
    indices start at 0 for the block's first clinician."""
    n = int(sizes.sum())
    site = np.repeat(np.arange(sizes.size), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    m = sizes[site]
    local = np.arange(n) - start[site]
    k_half = np.minimum(net.within_site_degree // 2, (m - 1) // 2)
    k_half = np.maximum(k_half, (m > 1).astype(np.int64))  # pairs still link
    rows, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for d in range(1, int(k_half.max(initial=0)) + 1):
        who = np.flatnonzero(k_half >= d)
        target = (local[who] + d) % m[who]
        rewire = rng.random(who.size) < net.rewiring
        other = rng.integers(0, np.maximum(m[who] - 1, 1))
        other = other + (other >= local[who])  # any clinician of the site but oneself
        target = np.where(rewire & (m[who] > 2), other, target)
        rows.append(who)
        cols.append(start[site[who]] + target)
    return np.concatenate(rows), np.concatenate(cols)


def _row_sums(rows: np.ndarray, data: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``data`` per row, shape ``(n,)``, for entries sorted by row: the row sums of
    :func:`_csr` ``(rows, cols, data, n)`` without building it, by the same segment sums
    (``np.add.reduceat`` over the non-empty rows, as ``csr.sum(axis=1)``), so the same floats."""
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    out = np.zeros(n)
    nonempty = np.flatnonzero(np.diff(indptr))
    if nonempty.size:
        out[nonempty] = np.add.reduceat(data, indptr[nonempty])
    return out


def _csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, n: int) -> sp.csr_matrix:
    """``(n, n)`` CSR matrix from entries sorted by row then column (no duplicates)."""
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    return sp.csr_matrix((data, cols, indptr), shape=(n, n))
