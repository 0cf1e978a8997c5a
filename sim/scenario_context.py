"""Scenario tables of the setting: the sites, their clinicians, their networks, a control arm.

``[sites]`` (:class:`Sites`, with :class:`ProfessionMix`), ``[clinicians]``
(:class:`Clinicians`), ``[network]`` (:class:`Network`) and ``[control]`` (:class:`Control`):
the context a programme works in (lessons 3, 6, 7, 10). Assembled into
:class:`sim.scenario.Scenario`, which re-exports every name.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario_base import _p, _Section

__all__ = ["Clinicians", "Control", "Network", "ProfessionMix", "Sites"]


class ProfessionMix(_Section):
    """Professional mix of a site's clinicians (shares sum to 1)."""

    doctor: float = _p(0.3, 0, 1, "share", "doctors (highest status and autonomy)")
    nurse: float = _p(0.55, 0, 1, "share", "nurses")
    allied: float = _p(0.15, 0, 1, "share", "allied health professionals")

    @model_validator(mode="after")
    def _sums_to_one(self) -> ProfessionMix:
        total = self.doctor + self.nurse + self.allied
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"profession_mix shares must sum to 1, got {total:.3f}")
        return self


class Sites(_Section):
    """The sites (hospital units, practices) and their context (lessons 6, 7, 10)."""

    n_sites: int = _p(20, 1, 5000, "sites", "sites in the programme arm")
    mean_size: float = _p(25, 2, 2000, "clinicians", "mean clinicians per site (lognormal)")
    size_sigma: float = _p(0.5, 0, 2, "log-sd", "spread of site size (heavy tail)")
    min_size: int = _p(4, 2, 1000, "clinicians", "smallest site")
    readiness_mean: float = _p(0.6, 0, 1, "fraction", "mean readiness / absorptive capacity")
    readiness_sd: float = _p(0.15, 0, 0.5, "fraction", "between-site sd of readiness")
    leadership_mean: float = _p(0.6, 0, 1, "fraction", "mean leadership support")
    leadership_sd: float = _p(0.2, 0, 0.5, "fraction", "between-site sd of leadership")
    slack_mean: float = _p(0.5, 0, 1, "fraction", "mean local slack (time, staff)")
    slack_sd: float = _p(0.15, 0, 0.5, "fraction", "between-site sd of slack")
    fit_mean: float = _p(
        0.6, 0, 1, "fraction", "mean fit of the standard practice to local context"
    )
    fit_sd: float = _p(0.15, 0, 0.5, "fraction", "between-site sd of fit")
    peripheral_share: float = _p(0.25, 0, 1, "share", "small, remote or low-status sites")
    patient_days_per_clinician_month: float = _p(
        8.0, 0.1, 1000, "patient-days per clinician-month", "exposure for the outcome model"
    )
    professional_hierarchy: float = _p(
        0.5, 0, 1, "fraction", "status gap between professions (drives tension)"
    )
    profession_mix: ProfessionMix = Field(default_factory=ProfessionMix)


class Clinicians(_Section):
    """Individual clinicians' dispositions and turnover."""

    threshold_mean: float = _p(0.3, 0, 1, "exposure", "mean personal threshold for peer influence")
    threshold_sd: float = _p(0.15, 0, 0.5, "exposure", "sd of personal thresholds")
    reactance_mean: float = _p(0.3, 0, 1, "fraction", "mean reactance to hard tactics")
    reactance_sd: float = _p(0.15, 0, 0.5, "fraction", "sd of reactance")
    doctor_reactance_extra: float = _p(
        0.15, 0, 1, "fraction", "extra reactance of doctors (autonomy)"
    )
    turnover_per_year: float = _p(0.12, 0, 1, "share per year", "staff leaving and replaced")


class Network(_Section):
    """Within-site and cross-site networks (lessons 3, 6)."""

    within_site_degree: int = _p(6, 2, 100, "ties", "Watts-Strogatz ring degree (even)")
    rewiring: float = _p(0.1, 0, 1, "probability", "Watts-Strogatz rewiring (1 = random graph)")
    cross_profession_weight: float = _p(
        0.5, 0, 1, "weight", "weight of ties across professions relative to within"
    )
    conflict_tie_penalty: float = _p(
        0.6, 0, 1, "fraction", "how far conflict weakens cross-profession ties"
    )
    embeddedness: float = _p(0.15, 0, 1, "tie strength", "pre-existing cross-site tie strength")
    tie_gain_per_event: float = _p(
        0.3, 0, 1, "fraction", "cross-site tie growth per event attended"
    )
    tie_decay_per_month: float = _p(0.03, 0, 1, "fraction per month", "decay of cross-site ties")
    cross_site_weight: float = _p(
        0.5, 0, 5, "weight", "weight of cross-site exposure relative to own site"
    )


class Control(_Section):
    """Optional control arm: non-participating sites that only see the secular trend."""

    n_sites: int = _p(0, 0, 5000, "sites", "control sites (0 = no control arm)")
