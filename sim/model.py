"""CommunityModel: the clinical-community agent-based model (Mesa 3.5).

``step()`` advances one month and reads like the process list of docs/ODD.md: recruitment,
allocation, community events, data and feedback, adoption, lapse and turnover, conflict,
routinisation, review, outcomes. Each process is a call into one module of
:mod:`sim.mechanisms`, over the columnar state in :mod:`sim.state`.

This module builds the model (population, programme constants, site state, caches), holds the
state helpers the processes share and runs the schedule; the process methods themselves are in
:mod:`sim.model_processes` (the :class:`~sim.model_processes.MonthlyProcesses` mixin).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import state as st
from sim.agents import Clinician, CoreTeam, Site, create_views
from sim.mechanisms import (
    adoption,
    allocation,
    data_feedback,
    outcomes,
    recruitment,
    routinisation,
)
from sim.model_processes import MonthlyProcesses
from sim.rng import make_streams, seed_label
from sim.scenario import RecruitmentMode, Scenario
from sim.series import SeriesRecorder


class CommunityModel(MonthlyProcesses, mesa.Model):
    """A clinical community under one programme design, stepped monthly.

    Args:
        scenario: the validated scenario (see :mod:`sim.scenario`).
        replication: replication index (>= 0); selects the random streams.
        root_seed: the experiment's root seed (>= 0).
        design_key: 0 under common random numbers; the design index otherwise.
        record_sites: keep each site's monthly true adherence (``site_series``, shape
            ``(horizon, n_sites)``) for trajectory plots and the app.
        make_agents: create the ``mesa.Agent`` views (set False for bare benchmark runs).

    Attributes:
        sites, clinicians, networks: the columnar state.
        month: months simulated so far (0 .. horizon).
        recorder: the monthly series (:class:`sim.series.SeriesRecorder`).
    """

    def __init__(
        self,
        *,
        scenario: Scenario | None = None,
        replication: int = 0,
        root_seed: int = 0,
        design_key: int = 0,
        record_sites: bool = False,
        make_agents: bool = True,
    ) -> None:
        scn = scenario if scenario is not None else Scenario()
        self.streams = make_streams(root_seed, replication, design_key)
        super().__init__(rng=seed_label(root_seed, replication, design_key))
        self.scn = scn
        self.month = 0
        self.horizon = scn.time.horizon
        self.programme_start = scn.time.baseline_months
        self.programme_end = scn.time.baseline_months + scn.time.programme_months
        self._build_population(scn)  # every random draw of the build, in this order
        self._programme_constants(scn)
        self._site_state(scn)
        self.core_team = CoreTeam(self, scn.programme.tactics.hard, scn.programme.tactics.soft)
        self._month_caches()
        if make_agents:  # after the core team: agent ids follow creation order
            create_views(self, Site, self.n_sites)
            create_views(self, Clinician, self.clinicians.site.size)
        self.recorder = SeriesRecorder(self, record_sites=record_sites)

    # ------------------------------------------------------------------ build
    def _build_population(self, scn: Scenario) -> None:
        """Sites, clinicians, within-site networks and joining months (the build's draws)."""
        self.sites = st.build_sites(scn, self.streams)
        self.clinicians = st.build_clinicians(scn, self.sites, self.streams)
        self.networks = st.build_within_site_network(scn, self.sites, self.clinicians, self.streams)
        prog = scn.programme
        self.mode = prog.recruitment.mode
        self.sites.join_month = recruitment.join_months(
            self.sites.readiness,
            self.sites.arm,
            self.mode,
            self.programme_start,
            prog.recruitment.window_months,
            self.streams["recruitment"],
        )
        if self.mode == RecruitmentMode.mandated:
            in_prog = self.sites.arm[self.clinicians.site] == 1
            self.clinicians.reactance = st.with_reactance_extra(
                self.clinicians.reactance, in_prog, scn.belonging.mandated_reactance_extra
            )

    def _programme_constants(self, scn: Scenario) -> None:
        """What the programme design fixes for the whole run: budget effects, capacity, fit,
        fidelity, data quality and the month-invariant factors of attention and push."""
        prog = scn.programme
        self.resources = allocation.resource_effects(prog)
        self.capacity = 1.0 - (1.0 - self.sites.slack) * (1.0 - self.resources["protected_time"])
        self._margin = allocation.margin(  # share of attention peripheral sites keep (fixed)
            self.sites.peripheral, scn.conflict.marginalisation, prog.community.inclusion_effort
        )
        self.fit = outcomes.effective_fit(
            self.sites.fit, prog.customisation, scn.customisation.fit_gain
        )
        self.fidelity = outcomes.fidelity(prog.customisation, scn.customisation.fidelity_loss)
        self.quality_of_data = data_feedback.data_quality(
            prog.data.measurement_quality, self.resources["data_support"]
        )
        self._lead = routinisation.leadership_factor(self.sites.leadership)  # 0.5 + 0.5 L
        self._push_base = adoption.site_push_base(  # the month-invariant factors of the push
            scn.challenge.evidence_strength,
            scn.challenge.complexity,
            self.capacity,
            self.sites.readiness,
            self.sites.leadership,
            self.fit,
            scn.adoption.external_push,
        )

    def _site_state(self, scn: Scenario) -> None:
        """Per-site state at month 0 and the site layout of the clinician arrays."""
        self.n_sites = self.sites.size.size
        self.site_sizes = self.sites.size.astype(float)
        self.prog_mask = self.sites.arm == 1
        self.site_adherence = np.full(self.n_sites, scn.challenge.baseline_adherence)
        self.adopted_share = np.zeros(self.n_sites)
        self.mean_reactance = (
            np.bincount(self.clinicians.site, self.clinicians.reactance, self.n_sites)
            / self.site_sizes
        )
        self._gap_at_last_review = 1.0
        self._site_row = 3 * self.clinicians.site  # row of each clinician's site in lapse tables
        starts = np.concatenate([[0], np.cumsum(self.sites.size)[:-1]])
        grouped = np.array_equal(
            np.repeat(np.arange(self.n_sites), self.sites.size), self.clinicians.site
        )
        self._site_starts = starts if grouped and self.sites.size.all() else None
        self._no_report = np.full(self.n_sites, np.nan)  # report_error outside report months
        self._no_report.flags.writeable = False
        self.report_error = self._no_report  # reported - true, report months only

    def _month_caches(self) -> None:
        """Caches of the monthly processes (the active-site masks are emptied at the start of
        every step; the threshold-curve bounds are refreshed for replaced clinicians)."""
        self._bounds_of: np.ndarray | None = None  # threshold array the curve bounds belong to
        self._active: tuple | None = None  # active_sites, _everyone
        self._on: np.ndarray | None = None  # _supported_sites, this month
        self._on_of: np.ndarray | None = None
        self._lapse_rows = np.empty((self.n_sites, 3))  # _lapse_and_turnover's (site, state) table
        # _adopt's per-site terms (8 rows of n_sites), indexed to clinicians by _per_clinician;
        # rows not grouped by site: the flat indices of row r of each clinician's site
        self._site_rows = np.empty((8, self.n_sites))
        self._site_rows_at = (
            None
            if self._site_starts is not None
            else self.clinicians.site + self.n_sites * np.arange(8)[:, None]
        )

    # ------------------------------------------------------------------ helpers
    @property
    def month_in_programme(self) -> int:
        """Months since the programme started (negative during baseline)."""
        return self.month - self.programme_start

    @property
    def supported(self) -> bool:
        """True while the programme gives support (programme phase)."""
        return self.programme_start <= self.month < self.programme_end

    def _curve_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each clinician's threshold-curve bounds, kept between months (turnover refreshes
        the leavers'); recomputed if ``clinicians.threshold`` is replaced."""
        c = self.clinicians
        if self._bounds_of is not c.threshold:
            self._bounds = adoption.curve_bounds(c.threshold, self.scn.adoption.threshold_width)
            self._bounds_of = c.threshold
        return self._bounds

    def active_sites(self) -> np.ndarray:
        """``sites.active`` (joined, not dropped out), shape ``(n_sites,)``, computed once per
        month and again only if recruitment or drop-out replaces ``joined`` or ``dropped``
        (the processes replace these arrays, never write into them). Read it, don't write it."""
        return self._active_cache()[2]

    def _everyone(self) -> tuple[bool, bool]:
        """(every site joined, every site active) this month, from the :meth:`active_sites`
        cache. When true, the processes skip multiplying by (or selecting with) the all-ones
        mask: ``x x 1 = x`` and ``where(True, x, y) = x`` exactly, so the results are the same."""
        cached = self._active_cache()
        return cached[3], cached[4]

    def _active_cache(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool]:
        s, cached = self.sites, self._active
        if cached is None or cached[0] is not s.joined or cached[1] is not s.dropped:
            active, n = s.active, self.n_sites
            all_joined = np.count_nonzero(s.joined) == n
            all_active = np.count_nonzero(active) == n
            self._active = cached = (s.joined, s.dropped, active, all_joined, all_active)
        return cached

    def _supported_sites(self) -> np.ndarray:
        """1.0 at active sites while the programme gives support, else 0.0, shape
        ``(n_sites,)``: computed once per month unless drop-out changes ``active``."""
        active = self.active_sites()
        if self._on is None or self._on_of is not active:
            self._on, self._on_of = active * float(self.supported), active
        return self._on

    def _per_clinician(self, rows: np.ndarray) -> np.ndarray:
        """Per-site rows ``(k, n_sites)`` (a leading block of ``_site_rows``) as per-clinician
        rows ``(k, n_clinicians)``: each clinician gets its site's values (copies). Rows grouped
        by site (the rule): each value repeated site-size times, a run copy; else one gather."""
        if self._site_rows_at is None:
            return np.repeat(rows, self.sites.size, axis=1)
        return rows.ravel().take(self._site_rows_at[: rows.shape[0]])

    def _update_shares(self) -> None:
        adopted = self.clinicians.adoption > 0
        if self._site_starts is not None:  # rows grouped by site: a segment sum (exact counts)
            count = np.add.reduceat(adopted, self._site_starts, dtype=float)
        else:
            count = np.bincount(self.clinicians.site, adopted.astype(float), self.n_sites)
        self.adopted_share = count / self.site_sizes
        c = self.scn.challenge
        self.site_adherence = outcomes.adherence(
            self.adopted_share, c.baseline_adherence, c.target_adherence
        )

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one month: the ten processes of docs/ODD.md in order, then record."""
        if self.month >= self.horizon:
            self.running = False
            return
        self._active = self._on = None  # month-scoped caches: pick up changes made between steps
        if self.month == self.programme_start:
            self.sites.adherence_start = self.site_adherence.copy()
        self._recruit()  # 1 recruitment
        self._allocate()  # 2 allocation
        self._community()  # 3 community events, belonging, cross-site ties
        self._data_feedback()  # 4 data and feedback
        self._adopt()  # 5 adoption (hazards from start-of-month state)
        self._lapse_and_turnover()  # 6 lapse and turnover; states updated here
        self._conflict()  # 7 conflict, engagement, drop-out
        self._routinise()  # 8 routinisation
        self._review()  # 9 review and adaptation
        self.recorder.record()  # 10 outcomes and costs
        self.month += 1
        if self.month >= self.horizon:
            self.running = False

    def run(self) -> CommunityModel:
        """Step to the horizon and return self."""
        while self.running and self.month < self.horizon:
            self.step()
        return self
