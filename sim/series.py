"""Process 10 (outcomes and costs) and the monthly series of one run.

Every programme-arm aggregate is patient-weighted (weights = site patient-days) over all sites
assigned to the programme, joined or not, dropped or not: intention to treat. Control-arm
aggregates use the control sites only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms import outcomes

if TYPE_CHECKING:
    from sim.model import CommunityModel

SERIES_COLUMNS: tuple[str, ...] = (
    "gap_true",  # (target - A(t)) / (target - A(programme start)), true adherence
    "gap_reported",  # same with reported adherence (same denominator)
    "adherence_true",
    "adherence_reported",
    "share_compliant",
    "share_internalised",
    "conflict",
    "belonging",
    "engagement",
    "routinisation",
    "active_sites",
    "dropped_sites",
    "hard",
    "soft",
    "gaming_gap",  # reported - true at report months (percentage points); nan otherwise
    "event_rate",  # expected events per 1000 patient-days
    "events",  # Poisson count
    "expected_events",
    "patient_days",
    "spend",  # currency this month
    "cost_cumulative",
    "adherence_control",
    "event_rate_control",
    "events_control",
    "expected_events_control",
    "patient_days_control",
)


def _wmean(x: np.ndarray, w: np.ndarray, total: float | None = None) -> float:
    """Mean of ``x`` weighted by ``w`` (nan if the weights sum to 0); ``total`` = ``w.sum()``."""
    if total is None:
        total = w.sum()
    return float((x * w).sum() / total) if total > 0 else float("nan")


class SeriesRecorder:
    """Preallocated monthly series, shape ``(horizon,)`` per column of :data:`SERIES_COLUMNS`.

    :meth:`record` (once a month, after the other nine processes) reads as its parts: the
    month's events first (its only random draw), then the patient-weighted site means, the
    programme's reach, spend and plan, the adoption states, the events of each arm and the
    snapshots the metrics need. What never changes over a run (arms, patient-days, their
    weights and sums) is computed once here.
    """

    def __init__(self, model: CommunityModel, record_sites: bool = False) -> None:
        self.model = model
        h = model.horizon
        self.data = {name: np.full(h, np.nan) for name in SERIES_COLUMNS}
        self.site_series = np.full((h, model.n_sites), np.nan) if record_sites else None
        self.site_events = np.zeros(model.n_sites)
        self.site_events_monthly = np.zeros((h, model.n_sites))  # Poisson counts per site-month
        self.site_expected = np.zeros(model.n_sites)
        self.site_patient_days = np.zeros(model.n_sites)
        self.adherence_ref: float | None = None
        self._cost = 0.0
        # fixed over a run (arms, sizes and patient-days never change): weights and their sums
        s, prog = model.sites, model.prog_mask
        self._prog, self._ctrl = prog, ~prog
        self._has_ctrl = bool(self._ctrl.any())
        self._w = s.patient_days * prog  # programme-arm patient-day weights, shape (n_sites,)
        self._w_total = self._w.sum()
        self._w_ctrl = s.patient_days * self._ctrl
        self._w_ctrl_total = self._w_ctrl.sum()
        self._days = s.patient_days[prog].sum()  # programme-arm patient-days per month
        self._days_ctrl = s.patient_days[self._ctrl].sum()
        # programme-arm clinicians (their states are counted); None = every clinician
        self._prog_rows = None if prog.all() else prog[model.clinicians.site]

    def record(self) -> None:
        """Compute this month's outcomes and costs and store them at row ``model.month``."""
        t = self.model.month
        rate, expected, events = self._draw_events(t)
        self._record_site_means(t)
        self._record_effort(t)
        self._record_states(t)
        self._record_events(t, expected, events)
        if self._has_ctrl:
            self._record_control(t, expected, events)
        self._keep_snapshots(t, rate)

    def _draw_events(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-site event rate (per 1000 patient-days), expected events and Poisson counts of
        month ``t``, each shape ``(n_sites,)`` (docs/ODD.md 7.10); accumulates the counts."""
        m = self.model
        s, c = m.sites, m.scn.challenge
        qual = outcomes.quality(
            m.adopted_share, c.baseline_adherence, c.target_adherence, m.fidelity
        )
        rate = outcomes.event_rate(
            s.base_event_rate,
            qual,
            c.baseline_adherence,
            c.relative_risk_reduction,
            outcomes.secular_factor(t, c.secular_event_trend_per_year),
        )
        expected = rate * s.patient_days / 1000.0
        events = m.streams["outcomes"].poisson(expected).astype(float)
        self.site_events += events
        self.site_events_monthly[t] = events
        self.site_expected += expected
        return rate, expected, events

    def _record_site_means(self, t: int) -> None:
        """Programme-arm site means weighted by patient-days (engagement: joined sites only),
        the gaps from them and, on report months, the gaming gap."""
        m, d = self.model, self.data
        s, c = m.sites, m.scn.challenge
        w, wt = self._w, self._w_total
        adherence = _wmean(m.site_adherence, w, wt)
        if self.adherence_ref is None and t >= m.programme_start:
            # the gap is measured from adherence at the *start* of the first programme month
            self.adherence_ref = _wmean(s.adherence_start, w)
        ref = self.adherence_ref if self.adherence_ref is not None else c.baseline_adherence
        denom = max(c.target_adherence - ref, 1e-9)
        d["gap_true"][t] = (c.target_adherence - adherence) / denom
        d["adherence_true"][t] = adherence
        if t < m.programme_end:  # no data are collected after support ends: left NaN
            reported = _wmean(s.reported_adherence, w, wt)
            d["gap_reported"][t] = (c.target_adherence - reported) / denom
            d["adherence_reported"][t] = reported
        d["conflict"][t] = _wmean(s.conflict, w, wt)
        d["belonging"][t] = _wmean(s.belonging, w, wt)
        d["engagement"][t] = _wmean(s.engagement, w * s.joined)
        d["routinisation"][t] = _wmean(s.routinisation, w, wt)
        err = m.report_error
        reporting = ~np.isnan(err)
        if reporting.any():
            d["gaming_gap"][t] = 100.0 * _wmean(
                np.where(reporting, err, 0.0), s.patient_days * reporting
            )

    def _record_effort(self, t: int) -> None:
        """The programme's reach (active and dropped programme sites), its spend and the core
        team's plan this month."""
        m, d = self.model, self.data
        s, prog = m.sites, m.scn.programme
        active = m.active_sites()
        n_active = int(np.count_nonzero(active))
        spend = outcomes.spend(
            n_active, m.supported, prog.budget_per_site_month, prog.core_team_cost_per_month
        )
        self._cost += spend
        if self._has_ctrl:
            d["active_sites"][t] = float(np.count_nonzero(active & self._prog))
            d["dropped_sites"][t] = float(np.count_nonzero(s.dropped & self._prog))
        else:  # every site is in the programme arm
            d["active_sites"][t] = float(n_active)
            d["dropped_sites"][t] = float(np.count_nonzero(s.dropped))
        d["hard"][t] = m.core_team.hard
        d["soft"][t] = m.core_team.soft
        d["spend"][t] = spend
        d["cost_cumulative"][t] = self._cost

    def _record_states(self, t: int) -> None:
        """Shares of programme-arm clinicians compliant and internalised."""
        states = self.model.clinicians.adoption
        if self._prog_rows is not None:
            states = states[self._prog_rows]
        self.data["share_compliant"][t] = np.count_nonzero(states == 1) / states.size
        self.data["share_internalised"][t] = np.count_nonzero(states == 2) / states.size

    def _record_events(self, t: int, expected: np.ndarray, events: np.ndarray) -> None:
        """Programme-arm events: rate per 1000 patient-days, Poisson and expected counts."""
        d, prog = self.data, self._prog
        prog_expected = expected[prog].sum() if self._has_ctrl else expected.sum()
        d["event_rate"][t] = 1000.0 * prog_expected / self._days
        d["events"][t] = events[prog].sum() if self._has_ctrl else events.sum()
        d["expected_events"][t] = prog_expected
        d["patient_days"][t] = self._days

    def _record_control(self, t: int, expected: np.ndarray, events: np.ndarray) -> None:
        """The control arm's adherence and events (only when there is a control arm)."""
        d, ctrl = self.data, self._ctrl
        d["adherence_control"][t] = _wmean(
            self.model.site_adherence, self._w_ctrl, self._w_ctrl_total
        )
        ctrl_expected = expected[ctrl].sum()
        d["event_rate_control"][t] = 1000.0 * ctrl_expected / self._days_ctrl
        d["events_control"][t] = events[ctrl].sum()
        d["expected_events_control"][t] = ctrl_expected
        d["patient_days_control"][t] = self._days_ctrl

    def _keep_snapshots(self, t: int, rate: np.ndarray) -> None:
        """Per-site values the metrics read later: monthly adherence (if kept), adherence and
        event rate at programme end, event rate at month 0."""
        m = self.model
        if self.site_series is not None:
            self.site_series[t] = m.site_adherence
        if t == m.programme_end - 1:
            self.site_adherence_programme_end = m.site_adherence.copy()
            self.site_rate_programme_end = rate.copy()
        if t == 0:
            self.site_rate_start = rate.copy()
