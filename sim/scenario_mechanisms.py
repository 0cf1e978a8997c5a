"""Scenario tables of the model's mechanisms: the parameters of the monthly processes.

``[adoption]`` (:class:`Adoption`, :class:`Contagion`), ``[lapse]`` (:class:`Lapse`),
``[conflict]`` (:class:`Conflict`), ``[belonging]`` (:class:`Belonging`), ``[routinisation]``
(:class:`Routinisation`), ``[data]`` (measurement noise and gaming, :class:`DataModel`) and
``[customisation]`` (:class:`Customisation`): how clinicians and sites respond to a programme,
as opposed to what the programme chooses (:mod:`sim.scenario_programme`). Assembled into
:class:`sim.scenario.Scenario`, which re-exports every name.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from sim.scenario_base import _p, _Section

__all__ = [
    "Adoption",
    "Belonging",
    "Conflict",
    "Contagion",
    "Customisation",
    "DataModel",
    "Lapse",
    "Routinisation",
]


class Contagion(StrEnum):
    """Form of peer influence: complex (threshold) or simple (linear, Bass)."""

    threshold = "threshold"
    linear = "linear"


class Adoption(_Section):
    """Adoption hazard: external push and peer influence kept separate (Van den Bulte & Lilien)."""

    contagion: Contagion = Field(Contagion.threshold, description="threshold (complex) or linear")
    external_push: float = _p(0.35, 0, 5, "hazard per month", "programme push p at full strength")
    peer_influence: float = _p(0.10, 0, 5, "hazard per month", "peer influence q at exposure 1")
    threshold_width: float = _p(0.1, 0.01, 1, "exposure", "softness of the threshold curve")
    hard_weight: float = _p(1.2, 0, 5, "weight", "push per unit of hard-tactic intensity")
    soft_weight: float = _p(
        1.0, 0, 5, "weight", "push per unit of soft intensity at full belonging"
    )
    reactance_damping: float = _p(0.8, 0, 1, "fraction", "how far reactance blunts hard pressure")
    feedback_gain: float = _p(0.6, 0, 5, "weight", "push per unit of credible reported shortfall")
    internalisation_rate: float = _p(
        0.08, 0, 1, "per month", "compliant -> internalised with full soft support and belonging"
    )


class Lapse(_Section):
    """Lapse of adopters (monthly probabilities)."""

    compliant_supported: float = _p(0.01, 0, 1, "per month", "compliant lapse under pressure")
    compliant_unsupported: float = _p(0.10, 0, 1, "per month", "compliant lapse without pressure")
    internalised: float = _p(0.004, 0, 1, "per month", "internalised lapse")
    routinisation_protection: float = _p(
        0.8, 0, 1, "fraction", "lapse reduction at full routinisation"
    )
    conflict_multiplier: float = _p(1.0, 0, 10, "factor", "extra lapse per unit of conflict")


class Conflict(_Section):
    """Conflict and marginalisation (lesson 7)."""

    hard_reactance_rate: float = _p(
        0.15, 0, 2, "per month", "conflict from hard tactics x reactance x (1 - belonging)"
    )
    professional_rate: float = _p(0.03, 0, 2, "per month", "conflict from professional tension")
    judgement_noise_rate: float = _p(
        0.3, 0, 5, "per month", "conflict from noisy data used for judgement"
    )
    resolution_rate: float = _p(
        0.25, 0, 2, "per month", "conflict resolved per unit of handling x core strength"
    )
    decay: float = _p(0.05, 0, 1, "per month", "natural fading of conflict")
    marginalisation: float = _p(
        0.5, 0, 1, "fraction", "attention lost by peripheral sites with no inclusion effort"
    )
    disengage_threshold: float = _p(0.2, 0, 1, "engagement", "below this a site is disengaged")
    dropout_after_months: int = _p(6, 1, 120, "months", "consecutive disengaged months to drop out")


class Belonging(_Section):
    """Belonging to the community and site engagement (lesson 6)."""

    initial: float = _p(0.3, 0, 1, "fraction", "belonging when a site joins (voluntary)")
    mandated_factor: float = _p(0.6, 0, 1, "factor", "initial belonging multiplier if mandated")
    mandated_reactance_extra: float = _p(0.15, 0, 1, "fraction", "extra reactance if mandated")
    event_gain: float = _p(0.25, 0, 1, "fraction", "belonging gained per event attended")
    peripheral_penalty: float = _p(
        0.6, 0, 1, "fraction", "share of event gain lost by peripheral sites with no inclusion"
    )
    decay: float = _p(0.02, 0, 1, "per month", "belonging fading without contact")
    conflict_erosion: float = _p(0.1, 0, 2, "per month", "belonging lost per unit of conflict")
    engagement_adjust: float = _p(0.3, 0, 1, "per month", "speed engagement moves to its target")


class Routinisation(_Section):
    """Embedding the practice in systems and roles."""

    growth: float = _p(0.08, 0, 1, "per month", "growth at full adoption, leadership, embedding")
    decay: float = _p(0.03, 0, 1, "per month", "decay per unit of non-adoption (1 - share adopted)")
    unsupported_growth_share: float = _p(
        0.3, 0, 1, "fraction", "growth retained without embedding budget (after support ends)"
    )
    adoption_pull: float = _p(
        0.15, 0, 5, "hazard per month", "adoption hazard of non-adopters at full routinisation"
    )


class DataModel(_Section):
    """Measurement noise and gaming (lesson 9; Bevan & Hood 2006)."""

    noise_sd: float = _p(
        0.15, 0, 1, "adherence", "sd of reported adherence for a 10-clinician site, poor data"
    )
    gaming_max: float = _p(
        0.35, 0, 1, "adherence", "gaming bias per unit of non-adherence, full hard pressure"
    )


class Customisation(_Section):
    """Fit vs fidelity of local adaptation (lesson 10)."""

    fit_gain: float = _p(
        1.0, 0, 1, "fraction", "share of the fit shortfall that customising closes"
    )
    fidelity_loss: float = _p(
        0.5, 0, 1, "fraction", "fidelity lost at full customisation (squared)"
    )
