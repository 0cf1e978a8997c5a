"""The workshop app's programme levers and the scenario shaping around them.

:data:`LEVERS` lists each lever of the app (a keyword of :class:`sim.app.model.AppModel`, the
dotted scenario key it sets, its input type and range, and the lesson it stands for).
:func:`lever_values` reads the levers from a scenario, :func:`scenario_from_levers` writes them
into one, :func:`slider_range` fits a slider around a base value, :func:`describe_settings`
names the levers that differ from the base and :func:`pending_changes` the sidebar inputs that
differ from the running model. Nothing here reads the environment or imports Solara.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.loader import ScenarioError, apply_override, build_scenario
from sim.scenario import DataUse, RecruitmentMode, Scenario


@dataclass(frozen=True)
class Lever:
    """One programme lever of the app: a keyword of :class:`AppModel` and its scenario key.

    Attributes:
        name: keyword argument of :class:`AppModel` (and Mesa's ``model_params`` key).
        key: dotted scenario key the lever sets.
        label: short label shown beside the slider or select.
        kind: ``SliderFloat``, ``SliderInt`` or ``Select`` (Mesa's input types).
        lesson: the Health Foundation lesson the lever stands for.
        meaning: one plain-language sentence for facilitators and learners.
        lo, hi, step: slider range and step (sliders only).
        values: the choices (selects only).
    """

    name: str
    key: str
    label: str
    kind: str
    lesson: str
    meaning: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    values: tuple[str, ...] = ()


LEVERS: tuple[Lever, ...] = (
    Lever(
        "budget",
        "programme.budget_per_site_month",
        "Budget (currency per site-month)",
        "SliderInt",
        "4: resource it properly",
        "Money reaching each active site every month: facilitation, protected clinician time, "
        "data support, events and embedding.",
        0,
        5000,
        50,
    ),
    Lever(
        "hard",
        "programme.tactics.hard",
        "Hard tactics (intensity 0-1)",
        "SliderFloat",
        "8: hard and soft tactics",
        "Targets, mandates and performance management: fast compliance, but it provokes "
        "reactance and conflict where belonging is low.",
    ),
    Lever(
        "soft",
        "programme.tactics.soft",
        "Soft tactics (intensity 0-1)",
        "SliderFloat",
        "8: hard and soft tactics",
        "Persuasion, relationships, peer norms and ownership: slower to start, works through "
        "belonging, and turns compliance into practice people own.",
    ),
    Lever(
        "core_team_strength",
        "programme.core_team_strength",
        "Core-team strength (0-1)",
        "SliderFloat",
        "2: build a strong core team",
        "Credibility and expertise of the team leading the programme: it amplifies the push, "
        "the feedback and the handling of conflict.",
    ),
    Lever(
        "review_interval",
        "programme.review.interval_months",
        "Review every (months; 0 = never)",
        "SliderInt",
        "5: a theory of change that is reviewed",
        "How often the core team revisits its plan: moves attention to lagging sites and shifts "
        "from hard to soft when conflict rises. 0 means the plan is never revised.",
        0,
        24,
        1,
    ),
    Lever(
        "data_use",
        "programme.data.use",
        "Data used for",
        "Select",
        "9: use data wisely",
        "'learning' feeds data back to help sites improve; 'judgement' ranks and judges them, "
        "which invites gaming and turns noisy data into conflict.",
        values=tuple(m.value for m in DataUse),
    ),
    Lever(
        "conflict_handling",
        "programme.community.conflict_handling",
        "Conflict handling (effort 0-1)",
        "SliderFloat",
        "7: conflict and marginalisation",
        "Effort spent surfacing and resolving disagreement between professions and sites.",
    ),
    Lever(
        "inclusion_effort",
        "programme.community.inclusion_effort",
        "Inclusion effort (0-1)",
        "SliderFloat",
        "7: conflict and marginalisation",
        "Effort to bring small, remote or low-status (peripheral) sites into the community.",
    ),
    Lever(
        "customisation",
        "programme.customisation",
        "Customisation (0-1)",
        "SliderFloat",
        "10: context and customisation",
        "How far sites may adapt the practice to local context: better fit, but less fidelity "
        "to what the evidence tested.",
    ),
    Lever(
        "events_per_year",
        "programme.community.events_per_year",
        "Community events per year",
        "SliderInt",
        "6: belonging",
        "Meetings and collaboratives where sites meet: they build belonging and cross-site ties.",
        0,
        12,
        1,
    ),
    Lever(
        "recruitment",
        "programme.recruitment.mode",
        "Recruitment",
        "Select",
        "3: recruit a community",
        "How sites join: 'voluntary' sites choose to, 'invited' sites are asked, 'mandated' "
        "sites are told to (less belonging and more reactance at the start; cannot leave).",
        values=tuple(m.value for m in RecruitmentMode),
    ),
    Lever(
        "n_sites",
        "sites.n_sites",
        "Number of sites",
        "SliderInt",
        "2 and 3: core-team capacity, community size",
        "Sites in the community. The core team can support only so many at full attention.",
        2,
        100,
        1,
    ),
)
LEVERS_BY_NAME: dict[str, Lever] = {lever.name: lever for lever in LEVERS}


def _get(scn: Scenario, dotted: str) -> Any:
    value: Any = scn
    for part in dotted.split("."):
        value = getattr(value, part)
    return value.value if isinstance(value, DataUse | RecruitmentMode) else value


def lever_values(scn: Scenario) -> dict[str, Any]:
    """The value of every lever in ``scn``, keyed by lever name (whole numbers as ``int``)."""
    out: dict[str, Any] = {}
    for lever in LEVERS:
        value = _get(scn, lever.key)
        if lever.kind == "SliderInt" and float(value).is_integer():
            value = int(value)
        out[lever.name] = value
    return out


def scenario_from_levers(base: Scenario, values: Mapping[str, Any]) -> Scenario:
    """``base`` with the given levers set (missing or ``None`` values keep the base value).

    Args:
        base: the base scenario.
        values: lever name -> value, e.g. ``{"hard": 0.8, "soft": 0.0}``.

    Returns:
        A new validated scenario, named ``<base name>+app`` when a lever differs from the base.

    Raises:
        ScenarioError: an unknown lever name or a value out of its range (one line).
    """
    unknown = sorted(set(values) - set(LEVERS_BY_NAME))
    if unknown:
        raise ScenarioError(f"unknown lever(s) {unknown}; levers: {', '.join(LEVERS_BY_NAME)}")
    data = base.model_dump(mode="json")
    changed = False
    for name, value in values.items():
        if value is None:
            continue
        lever = LEVERS_BY_NAME[name]
        if value != _get(base, lever.key):
            changed = True
        data = apply_override(data, lever.key, value)
    if changed:
        data["name"] = f"{base.name}+app"
    return build_scenario(data, f"app levers on {base.name}")


def slider_range(lever: Lever, base_value: float) -> tuple[float, float]:
    """Slider range of ``lever``, widened so the base scenario's own value fits on it."""
    lo, hi = lever.lo, lever.hi
    if lever.name == "budget":
        hi = max(hi, 2 * base_value)
    return min(lo, base_value), max(hi, base_value)


DEFAULT_SEED = 0
"""The app's default random seed (the seed every number in docs/workshop.md uses)."""


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


SEED_LABEL = "Random seed"
"""The seed's label in the sidebar (Mesa's ``model_params``)."""


def setting_text(name: str, value: Any) -> str:
    """One input as the sidebar labels it, e.g. ``Number of sites 60`` (``seed``: ``Random
    seed 3``); the label carries the unit."""
    label = LEVERS_BY_NAME[name].label if name in LEVERS_BY_NAME else SEED_LABEL
    return f"{label} {_shown(value)}"


def describe_settings(
    levers: Mapping[str, Any], base: Mapping[str, Any], seed: int = DEFAULT_SEED
) -> str:
    """The levers that differ from the base, by their sidebar labels, e.g. ``Hard tactics
    (intensity 0-1) 0.8, Soft tactics (intensity 0-1) 0``.

    A seed other than :data:`DEFAULT_SEED` is named last (``base settings, Random seed 3``).
    """
    parts = []
    for lever in LEVERS:
        value, ref = levers.get(lever.name), base.get(lever.name)
        if not _same(value, ref):
            parts.append(setting_text(lever.name, value))
    text = ", ".join(parts) if parts else "base settings"
    return text if seed == DEFAULT_SEED else f"{text}, {setting_text('seed', seed)}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def pending_changes(chosen: Mapping[str, Any], levers: Mapping[str, Any], seed: int) -> list[str]:
    """Inputs whose chosen value differs from the running model's, by their sidebar labels,
    e.g. ``["Hard tactics (intensity 0-1) 0.4 → 1"]``.

    Args:
        chosen: what the sidebar shows now (lever name or ``seed`` -> value); missing = unchanged.
        levers: the running model's levers (:attr:`AppModel.levers`).
        seed: the running model's seed.

    Returns:
        One ``label old → new`` item per changed input, in lever order, the seed last.
    """
    out = []
    for name, now in [*levers.items(), ("seed", seed)]:
        value = chosen.get(name, now)
        if not _same(value, now):
            out.append(f"{setting_text(name, now)} → {_shown(value)}")
    return out
