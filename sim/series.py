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


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
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

    def record(self) -> None:
        """Compute this month's outcomes and costs and store them at row ``model.month``."""
        m = self.model
        s, scn, t = m.sites, m.scn, m.month
        c = scn.challenge
        prog, ctrl = m.prog_mask, ~m.prog_mask
        w = s.patient_days * prog
        adherence = _wmean(m.site_adherence, w)
        if self.adherence_ref is None and t >= m.programme_start:
            # the gap is measured from adherence at the *start* of the first programme month
            self.adherence_ref = _wmean(s.adherence_start, w)
        ref = self.adherence_ref if self.adherence_ref is not None else c.baseline_adherence
        denom = max(c.target_adherence - ref, 1e-9)
        reported = _wmean(s.reported_adherence, w)
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
        spend = outcomes.spend(
            int(s.active.sum()),
            m.supported,
            scn.programme.budget_per_site_month,
            scn.programme.core_team_cost_per_month,
        )
        self._cost += spend
        n_prog = m.clinicians.adoption  # programme-arm clinicians' states
        if not prog.all():
            n_prog = n_prog[prog[m.clinicians.site]]
        err = m.report_error
        reporting = ~np.isnan(err)
        d = self.data
        d["gap_true"][t] = (c.target_adherence - adherence) / denom
        d["gap_reported"][t] = (c.target_adherence - reported) / denom
        d["adherence_true"][t] = adherence
        d["adherence_reported"][t] = reported
        d["share_compliant"][t] = np.count_nonzero(n_prog == 1) / n_prog.size
        d["share_internalised"][t] = np.count_nonzero(n_prog == 2) / n_prog.size
        d["conflict"][t] = _wmean(s.conflict, w)
        d["belonging"][t] = _wmean(s.belonging, w)
        d["engagement"][t] = _wmean(s.engagement, w * s.joined)
        d["routinisation"][t] = _wmean(s.routinisation, w)
        d["active_sites"][t] = float((s.active & prog).sum())
        d["dropped_sites"][t] = float((s.dropped & prog).sum())
        d["hard"][t] = m.core_team.hard
        d["soft"][t] = m.core_team.soft
        if reporting.any():
            d["gaming_gap"][t] = 100.0 * _wmean(np.nan_to_num(err), s.patient_days * reporting)
        d["event_rate"][t] = 1000.0 * expected[prog].sum() / s.patient_days[prog].sum()
        d["events"][t] = events[prog].sum()
        d["expected_events"][t] = expected[prog].sum()
        d["patient_days"][t] = s.patient_days[prog].sum()
        d["spend"][t] = spend
        d["cost_cumulative"][t] = self._cost
        if ctrl.any():
            d["adherence_control"][t] = _wmean(m.site_adherence, s.patient_days * ctrl)
            d["event_rate_control"][t] = 1000.0 * expected[ctrl].sum() / s.patient_days[ctrl].sum()
            d["events_control"][t] = events[ctrl].sum()
            d["expected_events_control"][t] = expected[ctrl].sum()
            d["patient_days_control"][t] = s.patient_days[ctrl].sum()
        if self.site_series is not None:
            self.site_series[t] = m.site_adherence
        if t == m.programme_end - 1:
            self.site_adherence_programme_end = m.site_adherence.copy()
            self.site_rate_programme_end = rate.copy()
        if t == 0:
            self.site_rate_start = rate.copy()
