"""Process 2, allocation (lessons 2 and 4: a strong core team, resourced properly).

The core team's attention is ``capacity / active sites`` (capped at 1), weighted by the current
plan and by facilitation resourcing; peripheral sites lose a share ``conflict.marginalisation``
of it unless the programme spends inclusion effort. Budget components act with diminishing
returns: ``effect = 1 - exp(-budget x share / (reference x 0.2))`` (0.2 = an even five-way split),
so doubling a component's money never doubles its effect.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import TWO, ZERO, clip_between
from sim.scenario import Programme

COMPONENTS = ("facilitation", "protected_time", "data_support", "events", "embedding")


def resource_effects(programme: Programme) -> dict[str, float]:
    """Effect in [0, 1) of each budget component (keys :data:`COMPONENTS`)."""
    split = programme.budget_split.model_dump()
    ref = programme.reference_budget_per_site_month * 0.2
    return {
        name: float(1.0 - np.exp(-programme.budget_per_site_month * split[name] / ref))
        for name in COMPONENTS
    }


def attention(
    active: np.ndarray,
    plan_weight: np.ndarray,
    peripheral: np.ndarray,
    capacity_sites: float,
    facilitation_effect: float,
    marginalisation: float,
    inclusion_effort: float,
) -> np.ndarray:
    """Core-team attention per site this month, shape ``(n_sites,)``, in [0, 2].

    ``active x min(1, capacity / n_active) x plan_weight x (1 - marginalisation x peripheral
    x (1 - inclusion)) x (0.4 + 0.6 x facilitation_effect)``.
    """
    return attention_with_margin(
        active,
        plan_weight,
        margin(peripheral, marginalisation, inclusion_effort),
        capacity_sites,
        facilitation_effect,
    )


def margin(peripheral: np.ndarray, marginalisation: float, inclusion_effort: float) -> np.ndarray:
    """Share of the core team's attention each site keeps, shape ``(n_sites,)``: ``1 -
    marginalisation x peripheral x (1 - inclusion)`` (fixed over a run)."""
    return 1.0 - marginalisation * peripheral * (1.0 - inclusion_effort)


def attention_with_margin(
    active: np.ndarray,
    plan_weight: np.ndarray,
    margin: np.ndarray,
    capacity_sites: float,
    facilitation_effect: float,
    all_active: bool = False,
) -> np.ndarray:
    """:func:`attention` with the site :func:`margin` already computed, shape ``(n_sites,)``.

    ``all_active``: the caller knows every site is active (``active x stretch`` is then
    ``stretch`` at every site, so the mask is not multiplied in: the same products)."""
    n_active = active.size if all_active else max(np.count_nonzero(active), 1)
    stretch = min(1.0, capacity_sites / n_active)
    att = plan_weight * stretch if all_active else active * stretch * plan_weight
    att *= margin
    att *= 0.4 + 0.6 * facilitation_effect
    return clip_between(att, ZERO, TWO)
