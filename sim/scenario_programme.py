"""Scenario tables of the programme design: ``[programme]`` and its sub-tables.

What a programme designer chooses (lessons 2-5, 8, 9): the core team and budget
(:class:`Programme`), how the budget is spent (:class:`BudgetSplit`), hard and soft tactics
(:class:`Tactics`), data and feedback (:class:`DataPolicy`, :class:`DataUse`), the review of the
theory of change (:class:`Review`), community building (:class:`Community`) and recruitment
(:class:`Recruitment`, :class:`RecruitmentMode`). Assembled into :class:`sim.scenario.Scenario`,
which re-exports every name.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from sim.scenario_base import _p, _Section

__all__ = [
    "BudgetSplit",
    "Community",
    "DataPolicy",
    "DataUse",
    "Programme",
    "Recruitment",
    "RecruitmentMode",
    "Review",
    "Tactics",
]


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
        1500,
        1,
        1e7,
        "currency per site-month",
        "budget giving 63% of an effect with a 0.2 budget share",
    )
    customisation: float = _p(0.3, 0, 1, "fraction", "local adaptation allowed (lesson 10)")
    budget_split: BudgetSplit = Field(default_factory=BudgetSplit)
    tactics: Tactics = Field(default_factory=Tactics)
    data: DataPolicy = Field(default_factory=DataPolicy)
    review: Review = Field(default_factory=Review)
    community: Community = Field(default_factory=Community)
    recruitment: Recruitment = Field(default_factory=Recruitment)
