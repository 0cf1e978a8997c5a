"""CommunityModel invariants, censoring and timing metrics, and mechanism unit tests."""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np
import pytest
import scipy.sparse as sp

from sim.agents import Clinician, Site, _bulk_registration_ok
from sim.experiment import simulate
from sim.loader import load_scenario
from sim.mechanisms import adoption, community, lapse, review
from sim.metrics import gini, run_metrics, time_to_close
from sim.model import CommunityModel
from sim.state import COMPLIANT, INTERNALISED, NOT_ADOPTED

SEEDS = (0, 1, 2)
ROOT_SEED = 11
CASES: dict[str, tuple[str, list[str]]] = {
    "baseline": ("baseline", ["sites.n_sites=10"]),
    "hard_only": ("hard_only", ["sites.n_sites=10"]),
    "matching_michigan": ("matching_michigan", ["sites.n_sites=10", "control.n_sites=5"]),
    "turnover": ("baseline", ["sites.n_sites=10", "clinicians.turnover_per_year=0.9"]),
}
UNIT_SITE_FIELDS = (
    "readiness",
    "leadership",
    "slack",
    "fit",
    "tension",
    "belonging",
    "engagement",
    "conflict",
    "routinisation",
    "tie_strength",
    "reported_adherence",
    "adherence_start",
)
UNIT_SERIES = (
    "adherence_true",
    "adherence_reported",
    "share_compliant",
    "share_internalised",
    "conflict",
    "belonging",
    "engagement",
    "routinisation",
)


def _float_arrays(obj: object) -> dict[str, np.ndarray]:
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray) and v.dtype.kind in "fiub":
            out[f.name] = v
    return out


def _in_unit(x: np.ndarray) -> bool:
    return bool(np.all((x >= 0.0) & (x <= 1.0)))


class Trace:
    """A model stepped to its horizon with the per-month invariants checked on the way."""

    def __init__(self, case: str, seed: int) -> None:
        ref, overrides = CASES[case]
        self.scn = load_scenario(ref, overrides)
        m = CommunityModel(scenario=self.scn, replication=seed, root_seed=ROOT_SEED)
        self.model = m
        c, s = m.clinicians, m.sites
        site0 = c.site.copy()
        sizes0 = s.size.copy()
        n0 = c.site.size
        dropped, joined = s.dropped.copy(), s.joined.copy()
        threshold0 = c.threshold.copy()
        self.replaced = np.zeros(n0, dtype=bool)
        self.ever_dropped = 0
        ch = self.scn.challenge
        while m.running:
            m.step()
            c, s = m.clinicians, m.sites
            where = f"{case} seed {seed} month {m.month}"
            for name, arr in {**_float_arrays(s), **_float_arrays(c)}.items():
                assert np.isfinite(arr).all(), f"{where}: {name} has NaN/inf"
            assert np.isfinite(m.networks.within.data).all(), where
            for name in UNIT_SITE_FIELDS:
                assert _in_unit(getattr(s, name)), f"{where}: site {name} outside [0, 1]"
            assert _in_unit(c.threshold) and _in_unit(c.reactance), where
            assert np.all((s.attention >= 0) & (s.attention <= 2)), where
            assert _in_unit(m.adopted_share), where
            assert np.all(m.site_adherence >= ch.baseline_adherence - 1e-12), where
            assert np.all(m.site_adherence <= ch.target_adherence + 1e-12), where
            # adoption states
            assert set(np.unique(c.adoption)) <= {NOT_ADOPTED, COMPLIANT, INTERNALISED}, where
            # clinicians conserved: same rows, same sites, same count per site
            assert c.site.size == n0 and np.array_equal(c.site, site0), where
            assert np.array_equal(np.bincount(c.site, minlength=sizes0.size), sizes0), where
            assert np.array_equal(s.size, sizes0), where
            # drop-out is final, joining is final
            assert np.all(s.dropped >= dropped), f"{where}: a dropped site rejoined"
            assert not np.any(s.dropped & s.active), where
            assert np.all(s.joined >= joined), where
            dropped, joined = s.dropped.copy(), s.joined.copy()
            self.replaced |= c.threshold != threshold0
        self.ever_dropped = int(dropped.sum())


_TRACES: dict[tuple[str, int], Trace] = {}


def trace(case: str, seed: int) -> Trace:
    if (case, seed) not in _TRACES:
        _TRACES[case, seed] = Trace(case, seed)
    return _TRACES[case, seed]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", list(CASES))
def test_monthly_invariants(case: str, seed: int) -> None:
    t = trace(case, seed)  # per-month checks run inside
    m = t.model
    assert m.month == m.horizon == t.scn.time.horizon
    d = m.recorder.data
    for name in UNIT_SERIES:
        x = d[name]
        defined = ~np.isnan(x)
        if name == "engagement":  # undefined only before any site has joined
            first_join = int(m.sites.join_month[m.prog_mask].min())
            assert defined[first_join:].all(), name
        elif name == "adherence_reported":  # no data after support ends
            assert defined[: m.programme_end].all() and not defined[m.programme_end :].any()
        else:
            assert defined.all(), name
        assert _in_unit(x[defined]), f"series {name} outside [0, 1]"
    assert np.all(d["share_compliant"] + d["share_internalised"] <= 1 + 1e-12)
    assert np.all(d["gap_true"] >= -1e-12)  # adherence never exceeds the target
    if m.scn.control.n_sites:
        assert _in_unit(d["adherence_control"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", list(CASES))
def test_cost_is_cumulative_spend(case: str, seed: int) -> None:
    m = trace(case, seed).model
    d = m.recorder.data
    assert np.all(np.diff(d["cost_cumulative"]) >= 0)
    np.testing.assert_allclose(d["cost_cumulative"], np.cumsum(d["spend"]), rtol=1e-12)
    phase = np.arange(m.horizon)
    off = (phase < m.programme_start) | (phase >= m.programme_end)
    assert np.all(d["spend"][off] == 0)  # no spend outside the programme phase
    on = ~off
    assert np.all(d["spend"][on] >= m.scn.programme.core_team_cost_per_month)


def test_turnover_replaces_clinicians_without_changing_headcount() -> None:
    # with 90% a year leaving, ~1 - 0.1^(48/12) of clinicians are replaced at least once
    for seed in SEEDS:
        t = trace("turnover", seed)
        assert t.replaced.mean() > 0.8
        low = trace("baseline", seed)  # 12% a year: far fewer replaced
        assert low.replaced.mean() < 0.6


def test_hard_only_drops_sites_somewhere() -> None:
    """Makes the 'dropped sites never rejoin' check above non-vacuous."""
    assert sum(trace("hard_only", s).ever_dropped for s in SEEDS) > 0
    # mandated sites cannot leave
    assert sum(trace("matching_michigan", s).ever_dropped for s in SEEDS) == 0


def test_reported_series_stop_when_data_collection_stops() -> None:
    """Reports exist only while support runs: the reported gap and adherence are the last
    report up to programme end and missing (NaN) in every follow-up month, never a stale
    value carried on."""
    m = CommunityModel(scenario=load_scenario("keystone", []), root_seed=3).run()
    d, end = m.recorder.data, m.programme_end
    assert end < m.horizon  # keystone has a follow-up phase
    for col in ("gap_reported", "adherence_reported"):
        assert np.isfinite(d[col][:end]).all(), col
        assert np.isnan(d[col][end:]).all(), col
    assert np.isfinite(d["gap_true"]).all()  # the true gap goes on


def test_baseline_event_rate_does_not_depend_on_the_levers() -> None:
    """Without baseline months the IRR denominator is the rate at baseline adherence: the same
    sites (same seed, common random numbers) give the same baseline whatever the tactics, and
    it equals the patient-day weighted mean of the sites' baseline rates (ODD 7.10)."""
    rates = []
    for hard in (0.0, 0.9):
        scn = load_scenario("baseline", [f"programme.tactics.hard={hard}"])
        assert scn.time.baseline_months == 0
        m = CommunityModel(scenario=scn, root_seed=7).run()
        rates.append(run_metrics(m)["baseline_event_rate"])
        s = m.sites
        expected = (s.base_event_rate * s.patient_days).sum() / s.patient_days.sum()
        assert rates[-1] == pytest.approx(expected, rel=1e-12)
    assert rates[0] == rates[1]


def test_cost_breakdown_adds_up_and_counts_funded_site_months() -> None:
    """cost_total = core team + site budgets. Under mandated recruitment every site joins at
    programme start and cannot drop out (ODD 7.1, 7.7), so the funded site-months are exactly
    sites x programme months; voluntary joining over a window funds fewer."""
    scn = load_scenario("matching_michigan", [])
    r = run_metrics(CommunityModel(scenario=scn, root_seed=2).run())
    months = scn.time.programme_months
    assert r["funded_site_months"] == scn.sites.n_sites * months
    assert r["cost_core_team"] == scn.programme.core_team_cost_per_month * months
    assert r["cost_sites"] == scn.programme.budget_per_site_month * r["funded_site_months"]
    assert r["cost_core_team"] + r["cost_sites"] == pytest.approx(r["cost_total"], rel=1e-12)
    vol = load_scenario("baseline", [])
    assert vol.programme.recruitment.window_months > 0
    rv = run_metrics(CommunityModel(scenario=vol, root_seed=2).run())
    assert rv["funded_site_months"] < vol.sites.n_sites * vol.time.programme_months
    assert rv["cost_core_team"] + rv["cost_sites"] == pytest.approx(rv["cost_total"], rel=1e-12)


def test_replacement_reactance_is_drawn_as_at_initialisation() -> None:
    """A newcomer's reactance is clip(clip(Normal) + doctor extra) (docs/ODD.md section 5): a
    doctor never starts below the doctor extra, as the clinicians present at the start."""
    scn = load_scenario(
        None,
        [
            "clinicians.turnover_per_year=0.9",
            "clinicians.reactance_mean=0.0",
            "clinicians.reactance_sd=0.5",
            "clinicians.doctor_reactance_extra=0.2",
        ],
    )
    m = CommunityModel(scenario=scn, root_seed=5)
    doctors = m.clinicians.profession == 0
    assert doctors.any() and m.clinicians.reactance[doctors].min() >= 0.2 - 1e-12
    start = m.clinicians.reactance.copy()
    m.run()
    replaced = m.clinicians.reactance != start
    assert (replaced & doctors).sum() > 20  # enough newcomers for the check to bite
    assert m.clinicians.reactance[doctors].min() >= 0.2 - 1e-12


@pytest.mark.parametrize("case", ["baseline", "matching_michigan"])
def test_gap_at_first_programme_month_is_close_to_one(case: str) -> None:
    m = trace(case, 0).model
    g = m.recorder.data["gap_true"][m.programme_start]
    assert 0.9 <= g <= 1.0


@pytest.mark.parametrize(
    "overrides",
    [
        ["sites.n_sites=10", "programme.recruitment.window_months=1"],  # all join in month 0
        ["sites.n_sites=10", "time.baseline_months=3", "programme.recruitment.mode=mandated"],
    ],
    ids=["no_baseline", "baseline_3_months"],
)
def test_gap_at_first_programme_month_counts_that_months_adoption(overrides: list[str]) -> None:
    m = simulate(load_scenario("baseline", overrides), 0, ROOT_SEED)
    d, c = m.recorder.data, m.scn.challenge
    start = m.programme_start
    w = m.sites.patient_days * m.prog_mask
    a_start = float((m.sites.adherence_start * w).sum() / w.sum())  # before month `start` runs
    a_after = d["adherence_true"][start]  # after one month of programme
    assert a_after > a_start  # someone adopted in the first month: the case is non-trivial
    expected = (c.target_adherence - a_after) / (c.target_adherence - a_start)
    assert d["gap_true"][start] == pytest.approx(expected, rel=1e-9)


def test_t50_before_t90_when_both_observed() -> None:
    strong = [
        "sites.n_sites=5",
        "adoption.external_push=3",
        "adoption.peer_influence=2",
        "lapse.compliant_unsupported=0.01",
    ]
    both = 0
    for ref, ov in [("baseline", ["sites.n_sites=5"]), ("baseline", strong)]:
        scn = load_scenario(ref, ov)
        for rep in range(3):
            r = run_metrics(simulate(scn, rep, ROOT_SEED))
            for k in ("t50", "t90"):
                assert math.isnan(r[f"{k}_months"]) == r[f"{k}_censored"]
            if not (r["t50_censored"] or r["t90_censored"]):
                both += 1
                assert 0 < r["t50_months"] <= r["t90_months"]
            if r["t90_censored"] is False:
                assert r["t50_censored"] is False  # closing 90% means closing 50% first
    assert both >= 3


def test_times_censored_when_the_gap_cannot_close() -> None:
    scn = load_scenario(
        None,
        [
            "sites.n_sites=5",
            "time.programme_months=1",
            "time.followup_months=0",
            "programme.recruitment.window_months=1",
            "adoption.external_push=0.01",
        ],
    )
    for rep in range(3):
        r = run_metrics(simulate(scn, rep, ROOT_SEED))
        assert r["t90_censored"] is True and math.isnan(r["t90_months"])
        assert r["t50_censored"] is True and math.isnan(r["t50_months"])
        assert math.isnan(r["gap_followup_end"])  # no follow-up: not a made-up value


# ------------------------------------------------------------------ Mesa agents


def test_mesa_agents_mirror_the_arrays() -> None:
    scn = load_scenario("baseline", ["sites.n_sites=6"])
    m = CommunityModel(scenario=scn, replication=0, root_seed=ROOT_SEED)
    n = m.clinicians.site.size
    clinicians = list(m.agents_by_type[Clinician])
    assert len(clinicians) == n
    assert sorted(a.idx for a in clinicians) == list(range(n))
    assert len(m.agents_by_type[Site]) == m.n_sites
    labels = {NOT_ADOPTED: "not adopted", COMPLIANT: "compliant", INTERNALISED: "internalised"}
    seen = set()
    while m.running:
        m.step()
        if m.month % 6 == 0 or not m.running:
            for a in clinicians:
                assert a.adoption_state == labels[int(m.clinicians.adoption[a.idx])]
                assert a.site == int(m.clinicians.site[a.idx])
                seen.add(a.adoption_state)
    assert seen == set(labels.values())  # every state occurs, so the check above means something
    # a view, not a copy: changing the array changes what the agent reports
    a = clinicians[0]
    m.clinicians.adoption[a.idx] = INTERNALISED
    assert a.adoption_state == "internalised"
    m.clinicians.adoption[a.idx] = NOT_ADOPTED
    assert a.adoption_state == "not adopted"
    site = next(iter(m.agents_by_type[Site]))
    assert site.readiness == pytest.approx(m.sites.readiness[site.idx])


def _agent_layout(m: CommunityModel) -> tuple[list[object], list[object], int]:
    """Every agent (class, id, attribute names in order, idx, pos), the per-class sets, the
    id counter: what ``mesa.Agent.__init__`` and ``Model.register_agent`` determine."""
    views = [
        (type(a).__name__, a.unique_id, list(vars(a)), getattr(a, "idx", None), a.pos)
        for a in m.agents
    ]
    by_type = [(t.__name__, [a.unique_id for a in s]) for t, s in m.agents_by_type.items()]
    assert all(a.model is m for a in m.agents)
    return views, by_type, m.agent_id_counter


def test_bulk_agent_views_match_one_by_one_construction() -> None:
    """The views are registered in bulk (:func:`sim.agents.create_views`); Mesa's own
    per-agent path (taken, e.g., when Mesa's debug log is on) gives the same agents."""
    scn = load_scenario("baseline", ["sites.n_sites=4", "control.n_sites=2"])
    bulk = CommunityModel(scenario=scn, replication=1, root_seed=ROOT_SEED)
    log = logging.getLogger("MESA.mesa.model")
    level = log.level
    log.setLevel(logging.DEBUG)
    try:
        assert not _bulk_registration_ok(bulk, Clinician)
        one_by_one = CommunityModel(scenario=scn, replication=1, root_seed=ROOT_SEED)
    finally:
        log.setLevel(level)
    assert _bulk_registration_ok(bulk, Clinician)
    n = bulk.clinicians.site.size + bulk.n_sites + 1  # + the core team
    assert len(bulk.agents) == n and bulk.agent_id_counter == n + 1
    assert _agent_layout(bulk) == _agent_layout(one_by_one)


# ------------------------------------------------------------------ mechanisms


def _tiny_network() -> sp.csr_matrix:
    # 0-1 (1.0), 0-2 (0.5), 1-2 (1.0), 3-4 (1.0); symmetric, weighted
    rows = [0, 1, 0, 2, 1, 2, 3, 4]
    cols = [1, 0, 2, 0, 2, 1, 4, 3]
    vals = [1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0]
    return sp.csr_matrix((vals, (rows, cols)), shape=(5, 5))


def test_exposure_hand_computed() -> None:
    w = _tiny_network()
    degree = np.asarray(w.sum(axis=1)).ravel()
    np.testing.assert_allclose(degree, [1.5, 2.0, 1.5, 1.0, 1.0])
    adopted = np.array([0.0, 1.0, 1.0, 0.0, 0.0])
    no_cross = np.zeros(5)
    e = adoption.exposure(w, degree, adopted, no_cross, no_cross)
    # 0 sees 1 (w 1) and 2 (w .5), both adopted -> 1; 1 sees 0 (no) and 2 (yes) -> 1/2;
    # 2 sees 0 (w .5, no) and 1 (w 1, yes) -> 1/1.5; 3 and 4 see no adopters
    np.testing.assert_allclose(e, [1.0, 0.5, 2 / 3, 0.0, 0.0])
    cross_share = np.full(5, 0.6)
    cross_weight = np.array([0.0, 0.0, 0.0, 1.0, 0.5])
    e = adoption.exposure(w, degree, adopted, cross_share, cross_weight)
    np.testing.assert_allclose(e, [1.0, 0.5, 2 / 3, 0.6 / 2, 0.5 * 0.6 / 1.5])


def test_exposure_isolated_clinician_is_zero_not_nan() -> None:
    w = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(3, 3))
    degree = np.asarray(w.sum(axis=1)).ravel()
    e = adoption.exposure(w, degree, np.array([1.0, 0.0, 0.0]), np.zeros(3), np.zeros(3))
    np.testing.assert_allclose(e, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.3, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("width", [0.01, 0.1, 1.0])
def test_peer_response_endpoints_and_monotone(threshold: float, width: float) -> None:
    e = np.linspace(0, 1, 201)
    th = np.full(e.size, threshold)
    f = adoption.peer_response(e, th, width, linear=False)
    assert f[0] == pytest.approx(0.0, abs=1e-12)
    assert f[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(f) >= -1e-12)
    assert _in_unit(f)
    np.testing.assert_array_equal(adoption.peer_response(e, th, width, linear=True), e)


def test_peer_response_is_a_threshold() -> None:
    th = np.full(3, 0.5)
    f = adoption.peer_response(np.array([0.3, 0.5, 0.7]), th, 0.05, linear=False)
    assert f[0] < 0.05 and f[2] > 0.95  # complex contagion: little below, nearly all above
    assert f[1] == pytest.approx(0.5)  # symmetric curve centred on the threshold


def test_time_to_close_interpolates() -> None:
    gap = np.array([0.9, 0.7, 0.4, 0.2, 0.05])  # end of months 1..5; gap at 0 is 1
    t, c = time_to_close(gap, 0.5)
    assert not c and t == pytest.approx(2 + (0.7 - 0.5) / (0.7 - 0.4))
    t, c = time_to_close(gap, 0.1)
    assert not c and t == pytest.approx(4 + (0.2 - 0.1) / (0.2 - 0.05))
    t, c = time_to_close(gap, 0.9)  # reached exactly at the end of month 1
    assert not c and t == pytest.approx(1.0)
    t, c = time_to_close(np.array([0.4, 0.3]), 0.5)  # crossed in month 1, from 1 at time 0
    assert not c and t == pytest.approx(0.5 / 0.6)


def test_time_to_close_first_crossing_and_censoring() -> None:
    t, c = time_to_close(np.array([0.6, 0.45, 0.55, 0.3]), 0.5)
    assert not c and t == pytest.approx(1 + 0.1 / 0.15)  # first crossing, not the last
    t, c = time_to_close(np.array([0.9, 0.8, 0.6]), 0.5)
    assert c and math.isnan(t)
    t, c = time_to_close(np.array([]), 0.5)
    assert c and math.isnan(t)


def _gini_pairwise(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


def test_gini_known_vectors() -> None:
    assert gini(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
    assert gini(np.array([0.0, 0.0, 0.0, 0.0])) == 0.0
    assert math.isnan(gini(np.array([])))
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.random(rng.integers(2, 30))
        assert gini(x) == pytest.approx(_gini_pairwise(x))
        assert gini(rng.permutation(x)) == pytest.approx(gini(x))  # order does not matter
        assert gini(7.0 * x) == pytest.approx(gini(x))  # scale does not matter


@pytest.mark.parametrize("annual", [0.05, 0.12, 0.5, 0.9])
def test_leavers_monthly_probability_gives_the_annual_rate(annual: float) -> None:
    # find, by bisection on u, the monthly probability the function actually uses
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if lapse.leavers(annual, np.array([mid]))[0]:
            lo = mid
        else:
            hi = mid
    p = (lo + hi) / 2
    assert (1 - p) ** 12 == pytest.approx(1 - annual, rel=1e-9)  # 12 months of staying


def test_leavers_extremes() -> None:
    u = np.linspace(0, 1, 50, endpoint=False)
    assert not lapse.leavers(0.0, u).any()
    assert lapse.leavers(1.0, u).all()


@pytest.mark.parametrize("per_year", [1, 2, 3, 4, 6, 8, 12])
def test_event_months_per_year(per_year: int) -> None:
    months = [community.is_event_month(k, per_year) for k in range(24)]
    assert sum(months) == 2 * per_year
    assert sum(months[:12]) == per_year
    assert not community.is_event_month(-1, per_year)
    assert not any(community.is_event_month(k, 0) for k in range(24))


def test_plan_weights_average_one_over_active_sites() -> None:
    gap = np.array([0.1, 0.5, 0.9, 0.4, 0.7])
    active = np.array([True, True, True, False, True])
    w = review.plan_weights(gap, active, 0.6)
    assert w[active].mean() == pytest.approx(1.0)
    assert w[3] == 1.0
    order = np.argsort(gap[active])
    assert np.all(np.diff(w[active][order]) > 0)  # more attention to larger reported gaps
    np.testing.assert_allclose(review.plan_weights(gap, active, 0.0), 1.0)


@pytest.mark.parametrize(
    "overrides", [[], ["control.n_sites=4", "clinicians.turnover_per_year=0.5"]]
)
def test_site_grouped_fast_paths_match_the_general_gathers(overrides: list[str]) -> None:
    """Rows grouped by site let the model repeat per-site terms by site size and count
    adopters by segment sums; the general gathers (kept for rows in any order) must give the
    same states and series bit for bit (independent path: fancy indexing and bincount)."""
    scn = load_scenario(None, ["sites.n_sites=6", "time.programme_months=12", *overrides])
    fast = CommunityModel(scenario=scn, replication=2, root_seed=9, make_agents=False)
    general = CommunityModel(scenario=scn, replication=2, root_seed=9, make_agents=False)
    assert fast._site_starts is not None  # the builder groups rows by site
    general._site_starts = None  # as if rows were in any order: the general paths
    general._site_rows_at = general.clinicians.site + general.n_sites * np.arange(8)[:, None]
    for _ in range(fast.horizon):
        fast.step()
        general.step()
        np.testing.assert_array_equal(fast.clinicians.adoption, general.clinicians.adoption)
        np.testing.assert_array_equal(fast.exposure, general.exposure)
        np.testing.assert_array_equal(fast.adopted_share, general.adopted_share)
    for name, values in fast.recorder.data.items():
        np.testing.assert_array_equal(values, general.recorder.data[name], err_msg=name)
