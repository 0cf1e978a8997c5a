"""The ten monthly processes of :class:`sim.model.CommunityModel`, as a mixin.

:class:`MonthlyProcesses` holds one method per process of docs/ODD.md §3 (recruitment,
allocation, community events, data and feedback, adoption, lapse and turnover, conflict,
routinisation, review); outcomes are recorded by :class:`sim.series.SeriesRecorder`. Each method
is a call into one module of :mod:`sim.mechanisms` over the columnar state in :mod:`sim.state`.
``CommunityModel.step()`` calls them in that fixed order; the draw order of every random stream
is theirs, so they must not be reordered.

The mixin holds no state of its own: it reads and writes what ``CommunityModel`` builds (``scn``,
``streams``, ``sites``, ``clinicians``, ``networks``, ``core_team``, the programme constants
and site state) and uses its helpers (``supported``, ``month_in_programme``, ``active_sites``,
``_supported_sites``, ``_everyone``, ``_curve_bounds``, ``_per_clinician``, ``_update_shares``).
This module imports nothing from :mod:`sim.model`.
"""

from __future__ import annotations

import numpy as np

from sim import state as st
from sim.arrays import clip01
from sim.mechanisms import (
    adoption,
    allocation,
    community,
    conflict,
    data_feedback,
    lapse,
    recruitment,
    review,
    routinisation,
)
from sim.scenario import DataUse, RecruitmentMode


class MonthlyProcesses:
    """Processes 1-9 of the monthly schedule (mixed into :class:`sim.model.CommunityModel`)."""

    def _recruit(self) -> None:
        s, scn = self.sites, self.scn
        if self._everyone()[0]:  # every site has joined: no one left to recruit
            return
        new = ~s.joined & (s.join_month >= 0) & (s.join_month <= self.month)
        if new.any():
            b0 = recruitment.initial_belonging(
                s.readiness, self.mode, scn.belonging.initial, scn.belonging.mandated_factor
            )
            s.belonging = np.where(new, b0, s.belonging)
            s.engagement = np.where(new, np.clip(0.2 + 0.6 * b0 + 0.3, 0, 1), s.engagement)
            s.joined = s.joined | new

    def _allocate(self) -> None:
        s, prog = self.sites, self.scn.programme
        active = self.active_sites() if self.supported else np.zeros(self.n_sites, dtype=bool)
        s.attention = allocation.attention_with_margin(
            active,
            s.plan_weight,
            self._margin,
            prog.core_team_capacity_sites,
            self.resources["facilitation"],
            all_active=self.supported and self._everyone()[1],
        )

    def _community(self) -> None:
        s, scn, prog = self.sites, self.scn, self.scn.programme
        draw = self.streams["community"].random(self.n_sites)
        drift = community.belonging_drift(
            s.belonging, s.conflict, scn.belonging.decay, scn.belonging.conflict_erosion
        )
        s.belonging = drift if self._everyone()[0] else np.where(s.joined, drift, s.belonging)
        attended = None  # no event this month
        if self.supported and community.is_event_month(
            self.month_in_programme, prog.community.events_per_year
        ):
            attended = community.attend(s.engagement, self.active_sites(), draw)
            s.belonging = community.event_gain(
                s.belonging,
                attended,
                s.peripheral,
                self.core_team.soft,
                prog.community.inclusion_effort,
                scn.belonging.event_gain,
                scn.belonging.peripheral_penalty,
                self.resources["events"],
            )
        if self.month < self.programme_start:  # pre-existing ties are stable before the programme
            return
        s.tie_strength = community.tie_update(
            s.tie_strength,
            attended,
            scn.network.tie_gain_per_event,
            scn.network.tie_decay_per_month,
        )

    def _data_feedback(self) -> None:
        s, scn, prog = self.sites, self.scn, self.scn.programme
        z = self.streams["data"].standard_normal(self.n_sites)
        self.report_error = self._no_report
        if not self.supported:
            s.feedback_pressure = np.zeros(self.n_sites)
            s.gaming = np.zeros(self.n_sites)
            return
        if self.month_in_programme % prog.data.feedback_interval_months != 0:
            return
        active = self.active_sites()
        judgement = prog.data.use == DataUse.judgement
        sd = data_feedback.noise_sd(
            self.site_sizes, scn.challenge.measurability, self.quality_of_data, scn.data.noise_sd
        )
        gaming = data_feedback.gaming_bias(
            self.site_adherence, judgement, self.core_team.hard, scn.data.gaming_max
        )
        reported = data_feedback.report(self.site_adherence, gaming, sd, z)
        everyone = self._everyone()[1]  # every site active: where(active, x, y) is x
        s.reported_adherence = (
            reported if everyone else np.where(active, reported, s.reported_adherence)
        )
        s.noise_sd = sd if everyone else np.where(active, sd, 0.0)
        s.gaming = gaming if everyone else np.where(active, gaming, 0.0)
        error = reported - self.site_adherence
        self.report_error = error if everyone else np.where(active, error, np.nan)
        pressure = data_feedback.feedback_pressure(
            s.reported_adherence,
            scn.challenge.baseline_adherence,
            scn.challenge.target_adherence,
            self.quality_of_data,
            prog.core_team_strength,
            scn.adoption.feedback_gain,
        )
        s.feedback_pressure = pressure if everyone else np.where(active, pressure, 0.0)

    def _adopt(self) -> None:
        s, c, scn, net = self.sites, self.clinicians, self.scn, self.networks
        a = scn.adoption
        u_adopt, u_kind, u_int = self.streams["adoption"].random((3, c.site.size))  # in order
        # network: conflict weakens cross-profession ties, one factor per site (structure fixed)
        net.tie_factor = 1.0 - scn.network.conflict_tie_penalty * s.conflict
        supported = self.supported
        all_joined, all_active = self._everyone()  # x x (all-ones mask) = x: skipped
        rows = self._site_rows  # the per-site terms, indexed to clinicians in one gather below
        np.multiply(net.cross_tie_weight, net.tie_factor, out=rows[0])  # weight of a cross tie
        tie = s.tie_strength if all_joined else s.tie_strength * s.joined
        cross_share = adoption.community_share(self.adopted_share, self.site_sizes, tie)
        cross_weight = scn.network.cross_site_weight * s.tie_strength * s.belonging
        if not all_joined:
            cross_weight *= s.joined
        np.multiply(cross_weight, cross_share, out=rows[1])
        np.add(1.0, cross_weight, out=rows[2])
        # routinised systems (checklists, default orders) pull newcomers into the practice;
        # like peer norms this is owned practice, so it counts with peer in the internalised share
        np.multiply(scn.routinisation.adoption_pull, s.routinisation, out=rows[3])
        if supported:
            push = adoption.site_push_now(
                self._push_base,
                scn.programme.core_team_strength,
                s.attention * (0.5 + 0.5 * s.engagement),
            )
            soft = self.core_team.soft
            np.multiply(
                push, adoption.soft_drive(soft, 0.3 + 0.7 * s.belonging, a.soft_weight), out=rows[4]
            )
            rows[5] = push
            b_active = s.belonging if all_active else s.belonging * self.active_sites()
            np.multiply(soft, b_active, out=rows[6])
            rows[7] = s.feedback_pressure
        per = self._per_clinician(rows[: 8 if supported else 4])  # (k, n_clinicians)
        within_adopted, net.degree = net.weighted_sums_at(per[0], (c.adoption > 0).astype(float))
        e = adoption.exposure_from_sums(within_adopted, net.degree, per[1], per[2])
        self.exposure = e
        peer = a.peer_influence * adoption.peer_response(
            e, c.threshold, a.threshold_width, a.contagion == "linear", self._curve_bounds()
        )
        peer += per[3]
        if supported:  # soft part per site, hard part per clinician
            ext_soft, ext_hard, soft_support = per[4], per[5], per[6]
            ext_hard *= adoption.hard_drive(
                self.core_team.hard, c.reactance, per[7], a.hard_weight, a.reactance_damping
            )
        else:  # no programme: scalar zeros (same sums, no arrays of zeros)
            ext_soft = ext_hard = soft_support = 0.0
        secular = scn.challenge.secular_adoption_per_year / 12.0
        new_comp, new_int = adoption.adopt(
            c.adoption, ext_soft, ext_hard, peer, secular, u_adopt, u_kind
        )
        internalising = adoption.internalise_compliant(  # rate = r x (soft support + 0.3 E)
            c.adoption, a.internalisation_rate, soft_support, e, 0.3, u_int
        )
        self._pending = (new_comp, new_int, internalising)  # row indices

    def _lapse_and_turnover(self) -> None:
        s, c, scn = self.sites, self.clinicians, self.scn
        n = c.site.size
        u = self.streams["lapse"].random(n)
        if self.supported:
            t = self.core_team
            support = t.hard + s.feedback_pressure + 0.5 * t.soft * s.engagement
            clip01(support)
            if not self._everyone()[1]:
                support *= self.active_sites()
        else:
            support = 0.0  # no site supported (a scalar: the same products)
        rates = lapse.lapse_rates(
            support,
            s.routinisation,
            s.conflict,
            scn.lapse.compliant_supported,
            scn.lapse.compliant_unsupported,
            scn.lapse.internalised,
            scn.lapse.routinisation_protection,
            scn.lapse.conflict_multiplier,
        )
        table = lapse.lapse_table(rates, self._lapse_rows)
        lapsing = lapse.lapse_from_table(c.adoption, self._site_row, table, u)
        new_comp, new_int, internalising = self._pending
        state = c.adoption.copy()
        state[internalising] = st.INTERNALISED
        state[lapsing] = st.NOT_ADOPTED
        state[new_comp] = st.COMPLIANT
        state[new_int] = st.INTERNALISED
        # turnover: leavers replaced by new, non-adopting clinicians (clinicians conserved)
        trng = self.streams["turnover"]
        leaving = lapse.leavers(scn.clinicians.turnover_per_year, trng.random(n))
        leaving = leaving.nonzero()[0]  # row indices (few): cheaper to index with than a mask
        k = leaving.size
        if k:
            cl = scn.clinicians
            state[leaving] = st.NOT_ADOPTED
            threshold = trng.normal(cl.threshold_mean, cl.threshold_sd, k)
            c.threshold[leaving] = clip01(threshold)
            if self._bounds_of is c.threshold:  # refresh the leavers' threshold curves
                lo, span = adoption.curve_bounds(threshold, scn.adoption.threshold_width)
                self._bounds[0][leaving], self._bounds[1][leaving] = lo, span
            # drawn as at initialisation (docs/ODD.md section 5, items 2 and 4): each step clipped
            reactance = trng.normal(cl.reactance_mean, cl.reactance_sd, k)
            clip01(reactance)
            doctor = c.profession[leaving] == st.DOCTOR
            reactance = st.with_reactance_extra(reactance, doctor, cl.doctor_reactance_extra)
            if self.mode == RecruitmentMode.mandated:  # newcomers join a mandated programme too
                in_prog = self.prog_mask[c.site[leaving]]
                extra = scn.belonging.mandated_reactance_extra
                reactance = st.with_reactance_extra(reactance, in_prog, extra)
            c.reactance[leaving] = reactance
            self.mean_reactance = np.bincount(c.site, c.reactance, self.n_sites) / self.site_sizes
        c.adoption = state
        self._update_shares()

    def _conflict(self) -> None:
        s, scn, prog = self.sites, self.scn, self.scn.programme
        all_joined, all_active = self._everyone()
        if self.supported and not all_active:
            on = self._supported_sites()
        else:  # the support mask's single value: a scalar gives the same products
            on = 1.0 if self.supported else 0.0
        judgement = float(prog.data.use == DataUse.judgement)
        s.conflict = conflict.conflict_update(
            s.conflict,
            self.core_team.hard * on,
            self.mean_reactance,
            s.belonging,
            s.tension if all_joined else s.tension * s.joined,
            judgement * s.noise_sd * on if judgement else 0.0,  # + 0 x rate: the same sums
            prog.community.conflict_handling * prog.core_team_strength * on,
            scn.conflict.hard_reactance_rate,
            scn.conflict.professional_rate,
            scn.conflict.judgement_noise_rate,
            scn.conflict.resolution_rate,
            scn.conflict.decay,
        )
        if not self.supported:
            return
        engagement = conflict.engagement_update(
            s.engagement, s.belonging, s.attention, s.conflict, scn.belonging.engagement_adjust
        )
        active = self.active_sites()
        s.engagement = engagement if all_active else np.where(active, engagement, s.engagement)
        s.disengaged_months, out = conflict.dropout(
            s.engagement,
            None if all_active else active,
            s.disengaged_months,
            scn.conflict.disengage_threshold,
            scn.conflict.dropout_after_months,
        )
        # mandated sites cannot leave, only disengage; dropped is replaced only when it changes
        if self.mode != RecruitmentMode.mandated and np.count_nonzero(out):
            s.dropped = s.dropped | out

    def _routinise(self) -> None:
        s, r = self.sites, self.scn.routinisation
        share = r.unsupported_growth_share
        all_joined, all_active = self._everyone()
        if self.supported and not all_active:
            embed = share + self._supported_sites() * (1.0 - share) * self.resources["embedding"]
        else:  # the support mask's single value (same products as with the array)
            embed = share + float(self.supported) * (1.0 - share) * self.resources["embedding"]
        s.routinisation = routinisation.routinisation_step(
            s.routinisation,
            self.adopted_share,
            self._lead,
            embed if all_joined else embed * s.joined,
            r.growth,
            r.decay,
        )

    def _review(self) -> None:
        rv, s, scn = self.scn.programme.review, self.sites, self.scn
        if not (
            self.supported and review.is_review_month(self.month_in_programme, rv.interval_months)
        ):
            return
        active = self.active_sites()
        c = scn.challenge
        gap = np.clip(
            (c.target_adherence - s.reported_adherence)
            / (c.target_adherence - c.baseline_adherence),
            0,
            None,
        )
        s.plan_weight = review.plan_weights(gap, active, rv.attention_shift)
        w = self.site_sizes * active
        mean_gap = float((gap * w).sum() / w.sum()) if w.sum() > 0 else 1.0
        mean_conflict = float((s.conflict * w).sum() / w.sum()) if w.sum() > 0 else 0.0
        t = self.core_team
        t.hard, t.soft = review.adapt_tactics(
            t.hard,
            t.soft,
            mean_conflict,
            self._gap_at_last_review - mean_gap,
            rv.tactic_shift,
            rv.conflict_threshold,
            rv.stall_threshold,
        )
        t.reviews += 1
        self._gap_at_last_review = mean_gap
