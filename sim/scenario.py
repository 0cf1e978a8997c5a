"""Typed scenario schema: every lever of the model with its default, unit, valid range and source.

A scenario is a TOML file whose tables mirror the classes below (``[programme.tactics]`` sets
:class:`Tactics`). Every field has a default, so an empty file (or no file) is the built-in
``baseline`` design. Loading, ``extends`` and ``--set`` overrides live in :mod:`sim.loader`.

Units: time in months; adherence, shares and intensities are fractions in [0, 1]; event rates per
1000 patient-days; money in currency units (the scenario's own currency, GBP in the library).
Sources for defaults are given in ``docs/ODD.md``; where a default is a modelling judgement rather
than a published figure, the ODD says so.

This module holds :class:`Scenario` (the whole file), :class:`Time`, :class:`Challenge` and
:class:`PublishedTarget`; the other tables are grouped by topic and re-exported here:
:mod:`sim.scenario_programme` (the programme design, ``[programme.*]``),
:mod:`sim.scenario_context` (sites, clinicians, networks, control arm) and
:mod:`sim.scenario_mechanisms` (adoption, lapse, conflict, belonging, routinisation, data
noise and gaming, customisation). All build on :mod:`sim.scenario_base`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sim.scenario_base import _p, _Section
from sim.scenario_context import Clinicians, Control, Network, ProfessionMix, Sites
from sim.scenario_mechanisms import (
    Adoption,
    Belonging,
    Conflict,
    Contagion,
    Customisation,
    DataModel,
    Lapse,
    Routinisation,
)
from sim.scenario_programme import (
    BudgetSplit,
    Community,
    DataPolicy,
    DataUse,
    Programme,
    Recruitment,
    RecruitmentMode,
    Review,
    Tactics,
)

__all__ = [
    "Adoption",
    "Belonging",
    "BudgetSplit",
    "Challenge",
    "Clinicians",
    "Community",
    "Conflict",
    "Contagion",
    "Control",
    "Customisation",
    "DataModel",
    "DataPolicy",
    "DataUse",
    "Lapse",
    "Network",
    "ProfessionMix",
    "Programme",
    "PublishedTarget",
    "Recruitment",
    "RecruitmentMode",
    "Review",
    "Routinisation",
    "Scenario",
    "Sites",
    "Tactics",
    "Time",
]


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
