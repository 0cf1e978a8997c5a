"""Typed scenario schema: every lever of the model with its default, unit, valid range and source.

A scenario is a TOML file whose tables mirror the classes below (``[programme.tactics]`` sets
:class:`Tactics`). Every field has a default, so an empty file (or no file) is the built-in
``baseline`` design. Loading, ``extends`` and ``--set`` overrides live in :mod:`sim.loader`.

Units: time in months; adherence, shares and intensities are fractions in [0, 1]; event rates per
1000 patient-days; money in currency units (the scenario's own currency, GBP in the library).
Sources for defaults are given in ``docs/ODD.md``; where a default is a modelling judgement rather
than a published figure, the ODD says so.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    """Base for every scenario table: unknown keys are errors; assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _p(default: Any, lo: float | None, hi: float | None, unit: str, doc: str) -> Any:
    """A scenario parameter: default, inclusive valid range [lo, hi], unit and one-line meaning."""
    extra = {"unit": unit}
    return Field(default, ge=lo, le=hi, description=doc, json_schema_extra=extra)


class Time(_Section):
    """Phases of a run (months). The programme starts at month ``baseline_months``."""

    baseline_months: int = _p(0, 0, 120, "months", "pre-programme months (measured, no support)")
    programme_months: int = _p(24, 1, 240, "months", "months of active programme support")
    followup_months: int = _p(24, 0, 240, "months", "months after support is withdrawn")
    implementation_months: int = _p(
        0, 0, 60, "months", "programme months before 'months after implementation' (IRR windows)"
    )

    @property
    def horizon(self) -> int:
        """Total months simulated."""
        return self.baseline_months + self.programme_months + self.followup_months


class Challenge(_Section):
    """The practice being spread (lesson 1: choose the right challenge)."""

    evidence_strength: float = _p(
        0.8, 0, 1, "fraction", "strength of the evidence for the practice"
    )
    complexity: float = _p(0.4, 0, 1, "fraction", "effort / number of steps the practice needs")
    baseline_adherence: float = _p(0.3, 0, 1, "fraction", "share of care following the practice")
    target_adherence: float = _p(
        0.95, 0, 1, "fraction", "adherence the evidence says is achievable"
    )
    measurability: float = _p(
        0.5, 0.01, 1, "fraction", "how observable the outcome is (low = rare events, noisy data)"
    )
    baseline_event_rate: float = _p(
        4.0, 0, 200, "per 1000 patient-days", "mean site event rate before the programme"
    )
    event_rate_shape: float = _p(
        0.6, 0.05, 100, "gamma shape", "between-site heterogeneity of event rates (low = skewed)"
    )
    relative_risk_reduction: float = _p(
        0.7, 0, 1, "fraction", "risk reduction at full adherence with full fidelity"
    )
    secular_event_trend_per_year: float = _p(
        0.0, -0.95, 2.0, "fraction per year", "background change in event rate (-0.4 = 40% fall/yr)"
    )
    secular_adoption_per_year: float = _p(
        0.02, 0, 1, "hazard per year", "background adoption that happens anyway (secular trend)"
    )


class BudgetSplit(_Section):
    """How the per-site budget is spent (lesson 4: resource it properly). Shares sum to 1."""

    facilitation: float = _p(0.35, 0, 1, "share", "core-team facilitation and coaching")
    protected_time: float = _p(0.25, 0, 1, "share", "protected clinician time for the work")
    data_support: float = _p(0.15, 0, 1, "share", "data collection and analysis support")
    events: float = _p(0.15, 0, 1, "share", "community events (meetings, collaboratives)")
    embedding: float = _p(0.10, 0, 1, "share", "embedding for sustainment (systems, roles)")

    @model_validator(mode="after")
    def _sums_to_one(self) -> BudgetSplit:
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"budget_split shares must sum to 1, got {total:.3f}")
        return self


class Tactics(_Section):
    """Hard and soft tactics, two separate dials (lesson 8)."""

    hard: float = _p(0.4, 0, 1, "intensity", "targets, mandates, performance management")
    soft: float = _p(0.6, 0, 1, "intensity", "persuasion, relationships, peer norms, ownership")


class DataUse(StrEnum):
    """What the programme uses site data for (lesson 9)."""

    learning = "learning"
    judgement = "judgement"


class DataPolicy(_Section):
    """Data and feedback (lesson 9: use data wisely)."""

    feedback_interval_months: int = _p(3, 1, 24, "months", "months between feedback reports")
    measurement_quality: float = _p(0.7, 0, 1, "fraction", "quality of the measurement system")
    use: DataUse = Field(DataUse.learning, description="learning or judgement (league tables)")


class Review(_Section):
    """Theory of change and its review (lesson 5)."""

    interval_months: int = _p(6, 0, 60, "months", "months between reviews; 0 = plan never revised")
    attention_shift: float = _p(0.6, 0, 2, "weight", "how far attention moves to lagging sites")
    tactic_shift: float = _p(0.2, 0, 1, "intensity", "step moved between hard and soft per review")
    conflict_threshold: float = _p(
        0.3, 0, 1, "fraction", "mean conflict that triggers hard -> soft"
    )
    stall_threshold: float = _p(
        0.05, 0, 1, "gap fraction", "reported gap closed per review below which progress 'stalls'"
    )


class Community(_Section):
    """Community building (lessons 3, 6, 7)."""

    events_per_year: float = _p(3.0, 0, 12, "events per year", "community events during support")
    conflict_handling: float = _p(
        0.5, 0, 1, "effort", "effort spent surfacing and resolving conflict"
    )
    inclusion_effort: float = _p(0.4, 0, 1, "effort", "effort to include peripheral sites")


class RecruitmentMode(StrEnum):
    """How sites come into the community (lesson 3)."""

    voluntary = "voluntary"
    invited = "invited"
    mandated = "mandated"


class Recruitment(_Section):
    """Recruitment of sites into the community (lesson 3)."""

    mode: RecruitmentMode = Field(
        RecruitmentMode.voluntary, description="voluntary/invited/mandated"
    )
    window_months: int = _p(6, 1, 240, "months", "months over which sites join")


class Programme(_Section):
    """The programme design and its core team (lessons 2-5, 8, 9)."""

    core_team_strength: float = _p(0.7, 0, 1, "fraction", "credibility and expertise of core team")
    core_team_capacity_sites: float = _p(
        15, 1, 5000, "sites", "sites the core team can support at full attention"
    )
    core_team_cost_per_month: float = _p(
        20000, 0, 1e8, "currency per month", "fixed core-team cost while support runs"
    )
    budget_per_site_month: float = _p(
        1500, 0, 1e7, "currency per site-month", "budget reaching each active site"
    )
    reference_budget_per_site_month: float = _p(
        1500, 1, 1e7, "currency per site-month", "budget at which 63% of the resourcing effect"
    )
    customisation: float = _p(0.3, 0, 1, "fraction", "local adaptation allowed (lesson 10)")
    budget_split: BudgetSplit = Field(default_factory=BudgetSplit)
    tactics: Tactics = Field(default_factory=Tactics)
    data: DataPolicy = Field(default_factory=DataPolicy)
    review: Review = Field(default_factory=Review)
    community: Community = Field(default_factory=Community)
    recruitment: Recruitment = Field(default_factory=Recruitment)


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


class Contagion(StrEnum):
    """Form of peer influence: complex (threshold) or simple (linear, Bass)."""

    threshold = "threshold"
    linear = "linear"


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

    growth: float = _p(0.08, 0, 1, "per month", "growth at full adherence, leadership, embedding")
    decay: float = _p(0.03, 0, 1, "per month", "decay per unit of non-adherence")
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
        0.35, 0, 1, "adherence", "max gaming bias under full hard pressure and judgement"
    )


class Customisation(_Section):
    """Fit vs fidelity of local adaptation (lesson 10)."""

    fit_gain: float = _p(
        1.0, 0, 1, "fraction", "share of the fit shortfall that customising closes"
    )
    fidelity_loss: float = _p(
        0.5, 0, 1, "fraction", "fidelity lost at full customisation (squared)"
    )


class Control(_Section):
    """Optional control arm: non-participating sites that only see the secular trend."""

    n_sites: int = _p(0, 0, 5000, "sites", "control sites (0 = no control arm)")


class PublishedTarget(_Section):
    """A published value to print beside the simulated one (not used by the model)."""

    value: float
    low: float | None = None
    high: float | None = None
    source: str = ""


class Scenario(_Section):
    """A complete scenario: one programme design in one context.

    Raises:
        pydantic.ValidationError: on unknown keys, wrong types or out-of-range values; use
            :func:`sim.loader.load_scenario` to get a one-line :class:`sim.loader.ScenarioError`.
    """

    name: str = Field(
        "baseline",
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$",
        description="scenario name: letters, digits, _ . + - (results folder, design label)",
    )
    description: str = Field(
        "A generic community: 20 sites (~500 clinicians), a capable core team, a mix of hard and "
        "soft tactics, data used for learning, reviews every 6 months; 24 months of support then "
        "24 months of follow-up. The yardstick the other library scenarios change one lesson at a "
        "time.",
        description="what the scenario represents (shown by 'ccsim scenarios')",
    )
    time: Time = Field(default_factory=Time)
    challenge: Challenge = Field(default_factory=Challenge)
    programme: Programme = Field(default_factory=Programme)
    sites: Sites = Field(default_factory=Sites)
    clinicians: Clinicians = Field(default_factory=Clinicians)
    network: Network = Field(default_factory=Network)
    adoption: Adoption = Field(default_factory=Adoption)
    lapse: Lapse = Field(default_factory=Lapse)
    conflict: Conflict = Field(default_factory=Conflict)
    belonging: Belonging = Field(default_factory=Belonging)
    routinisation: Routinisation = Field(default_factory=Routinisation)
    data: DataModel = Field(default_factory=DataModel)
    customisation: Customisation = Field(default_factory=Customisation)
    control: Control = Field(default_factory=Control)
    published: dict[str, PublishedTarget] = Field(default_factory=dict)

    def published_dict(self) -> dict[str, dict[str, Any]]:
        """Published targets as plain dicts: ``{metric: {value, low, high, source}}``."""
        return {k: v.model_dump() for k, v in self.published.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        c = self.challenge
        if c.target_adherence <= c.baseline_adherence:
            raise ValueError(
                f"challenge.target_adherence ({c.target_adherence}) must exceed "
                f"challenge.baseline_adherence ({c.baseline_adherence})"
            )
        if self.time.implementation_months > self.time.programme_months:
            raise ValueError(
                f"time.implementation_months ({self.time.implementation_months}) exceeds "
                f"time.programme_months ({self.time.programme_months})"
            )
        rec = self.programme.recruitment.window_months
        if rec > self.time.programme_months:
            raise ValueError(
                f"programme.recruitment.window_months ({rec}) exceeds "
                f"time.programme_months ({self.time.programme_months})"
            )
        if self.sites.min_size > self.sites.mean_size * 4:
            raise ValueError(
                f"sites.min_size ({self.sites.min_size}) is far above sites.mean_size "
                f"({self.sites.mean_size})"
            )
        return self
