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
    """Preallocated monthly series, shape ``(horizon,)`` per column of :data:`SERIES_COLUMNS`."""

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
        self._days = s.patient_days[prog].sum()  # programme-arm patient-days per month
        self._days_ctrl = s.patient_days[self._ctrl].sum()
        # programme-arm clinicians (their states are counted); None = every clinician
        self._prog_rows = None if prog.all() else prog[model.clinicians.site]

    def record(self) -> None:
        """Compute this month's outcomes and costs and store them at row ``model.month``."""
        m = self.model
        s, scn, t = m.sites, m.scn, m.month
        c = scn.challenge
        prog, ctrl, w, wt = self._prog, self._ctrl, self._w, self._w_total
        adherence = _wmean(m.site_adherence, w, wt)
        if self.adherence_ref is None and t >= m.programme_start:
            # the gap is measured from adherence at the *start* of the first programme month
            self.adherence_ref = _wmean(s.adherence_start, w)
        ref = self.adherence_ref if self.adherence_ref is not None else c.baseline_adherence
        denom = max(c.target_adherence - ref, 1e-9)
        reported = _wmean(s.reported_adherence, w, wt)
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
        active = m.active_sites()
        n_active = int(np.count_nonzero(active))
        spend = outcomes.spend(
            n_active,
            m.supported,
            scn.programme.budget_per_site_month,
            scn.programme.core_team_cost_per_month,
        )
        self._cost += spend
        n_prog = m.clinicians.adoption  # programme-arm clinicians' states
        if self._prog_rows is not None:
            n_prog = n_prog[self._prog_rows]
        err = m.report_error
        reporting = ~np.isnan(err)
        d = self.data
        d["gap_true"][t] = (c.target_adherence - adherence) / denom
        d["adherence_true"][t] = adherence
        if t < m.programme_end:  # no data are collected after support ends: left NaN
            d["gap_reported"][t] = (c.target_adherence - reported) / denom
            d["adherence_reported"][t] = reported
        d["share_compliant"][t] = np.count_nonzero(n_prog == 1) / n_prog.size
        d["share_internalised"][t] = np.count_nonzero(n_prog == 2) / n_prog.size
        d["conflict"][t] = _wmean(s.conflict, w, wt)
        d["belonging"][t] = _wmean(s.belonging, w, wt)
        d["engagement"][t] = _wmean(s.engagement, w * s.joined)
        d["routinisation"][t] = _wmean(s.routinisation, w, wt)
        if self._has_ctrl:
            d["active_sites"][t] = float(np.count_nonzero(active & prog))
            d["dropped_sites"][t] = float(np.count_nonzero(s.dropped & prog))
        else:  # every site is in the programme arm
            d["active_sites"][t] = float(n_active)
            d["dropped_sites"][t] = float(np.count_nonzero(s.dropped))
        d["hard"][t] = m.core_team.hard
        d["soft"][t] = m.core_team.soft
        if reporting.any():
            d["gaming_gap"][t] = 100.0 * _wmean(
                np.where(reporting, err, 0.0), s.patient_days * reporting
            )
        prog_expected = expected[prog].sum() if self._has_ctrl else expected.sum()
        d["event_rate"][t] = 1000.0 * prog_expected / self._days
        d["events"][t] = events[prog].sum() if self._has_ctrl else events.sum()
        d["expected_events"][t] = prog_expected
        d["patient_days"][t] = self._days
        d["spend"][t] = spend
        d["cost_cumulative"][t] = self._cost
        if self._has_ctrl:
            d["adherence_control"][t] = _wmean(m.site_adherence, self._w_ctrl)
            ctrl_expected = expected[ctrl].sum()
            d["event_rate_control"][t] = 1000.0 * ctrl_expected / self._days_ctrl
            d["events_control"][t] = events[ctrl].sum()
            d["expected_events_control"][t] = ctrl_expected
            d["patient_days_control"][t] = self._days_ctrl
        if self.site_series is not None:
            self.site_series[t] = m.site_adherence
        if t == m.programme_end - 1:
            self.site_adherence_programme_end = m.site_adherence.copy()
            self.site_rate_programme_end = rate.copy()
        if t == 0:
            self.site_rate_start = rate.copy()
