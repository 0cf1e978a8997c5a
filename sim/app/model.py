"""The workshop app's model: programme levers as keyword arguments, a network layout, bands.

Mesa's SolaraViz rebuilds the model on Reset with ``type(model)(**params)``, so the app needs a
model whose keyword-only ``__init__`` takes the levers one by one. :class:`AppModel` is that thin
subclass of :class:`sim.model.CommunityModel`: it applies the lever values to a *base scenario*
(any scenario file) and builds the usual model from the result.

The base scenario is read once, when this module is imported, from the environment, because
``solara run`` imports the app module itself: ``CCSIM_APP_SCENARIO`` (a path or library name;
unset = the built-in baseline) and ``CCSIM_APP_SET`` (a JSON list of ``dotted.key=value``
overrides). ``ccsim app SCENARIO`` sets both. Nothing here imports Solara, so notebooks and tests
can use the levers, :func:`scenario_from_levers` and :func:`run_band` directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.loader import ScenarioError, apply_override, build_scenario, load_scenario
from sim.metrics import time_to_close
from sim.model import CommunityModel
from sim.scenario import DataUse, RecruitmentMode, Scenario

ENV_SCENARIO = "CCSIM_APP_SCENARIO"
ENV_OVERRIDES = "CCSIM_APP_SET"
BAND_REPS = 20
"""Replications behind the app's band button."""
MAX_SITES_DRAWN = 40
"""Largest number of programme sites drawn in the network view (an even sample beyond it)."""
MAX_CLINICIANS_DRAWN = 24
"""Largest number of clinicians drawn per site (the first ones on the site's ring)."""


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
        "Budget per site-month",
        "SliderInt",
        "4: resource it properly",
        "Money reaching each active site every month: facilitation, protected clinician time, "
        "data support, events and embedding.",
        0,
        5000,
        100,
    ),
    Lever(
        "hard",
        "programme.tactics.hard",
        "Hard tactics",
        "SliderFloat",
        "8: hard and soft tactics",
        "Targets, mandates and performance management: fast compliance, but it provokes "
        "reactance and conflict where belonging is low.",
    ),
    Lever(
        "soft",
        "programme.tactics.soft",
        "Soft tactics",
        "SliderFloat",
        "8: hard and soft tactics",
        "Persuasion, relationships, peer norms and ownership: slower to start, works through "
        "belonging, and turns compliance into practice people own.",
    ),
    Lever(
        "core_team_strength",
        "programme.core_team_strength",
        "Core-team strength",
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
        "Conflict handling",
        "SliderFloat",
        "7: conflict and marginalisation",
        "Effort spent surfacing and resolving disagreement between professions and sites.",
    ),
    Lever(
        "inclusion_effort",
        "programme.community.inclusion_effort",
        "Inclusion effort",
        "SliderFloat",
        "7: conflict and marginalisation",
        "Effort to bring small, remote or low-status (peripheral) sites into the community.",
    ),
    Lever(
        "customisation",
        "programme.customisation",
        "Customisation",
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


def base_scenario_from_env(environ: Mapping[str, str] | None = None) -> Scenario:
    """The app's base scenario from ``CCSIM_APP_SCENARIO`` and ``CCSIM_APP_SET``.

    Raises:
        ScenarioError: the file is missing or invalid, or ``CCSIM_APP_SET`` is not a JSON list
            of strings.
    """
    env = os.environ if environ is None else environ
    ref = env.get(ENV_SCENARIO) or None
    raw = env.get(ENV_OVERRIDES) or "[]"
    try:
        overrides = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{ENV_OVERRIDES}: not a JSON list ({exc.msg})") from exc
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ScenarioError(f"{ENV_OVERRIDES}: expected a JSON list of 'dotted.key=value' strings")
    return load_scenario(ref, overrides)


BASE_SCENARIO: Scenario = base_scenario_from_env()
"""The module-level base scenario every :class:`AppModel` starts from (see module docstring)."""


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


def model_params(base: Scenario | None = None, seed: int = 0) -> dict[str, Any]:
    """Mesa ``model_params`` for SolaraViz: one input per lever, starting at the base values."""
    base = BASE_SCENARIO if base is None else base
    current = lever_values(base)
    params: dict[str, Any] = {}
    for lever in LEVERS:
        value = current[lever.name]
        if lever.kind == "Select":
            params[lever.name] = {
                "type": "Select",
                "value": value,
                "values": list(lever.values),
                "label": lever.label,
            }
            continue
        lo, hi = slider_range(lever, value)
        is_int = lever.kind == "SliderInt" and isinstance(value, int)  # else a float slider
        params[lever.name] = {
            "type": "SliderInt" if is_int else "SliderFloat",
            "value": value,
            "min": int(lo) if is_int else lo,
            "max": int(hi) if is_int else hi,
            "step": int(lever.step) if is_int else lever.step,
            "label": lever.label,
        }
    params["seed"] = {"type": "SliderInt", "value": seed, "min": 0, "max": 99, "step": 1}
    params["seed"]["label"] = "Random seed"
    params["base"] = base  # fixed (not a dict with "type"): passed through on every Reset
    return params


@dataclass
class NetworkLayout:
    """Precomputed positions for the network view (computed once per model, never per step).

    Sites sit on a sunflower spiral around the core team at (0, 0), central sites inside and
    peripheral sites on the outer rim; each site's drawn clinicians sit on a small ring around
    it, in the order of the site's Watts-Strogatz ring, so ring ties are short chords.

    Attributes:
        sites: programme sites drawn (indices into ``model.sites``), shape ``(k,)``.
        site_xy: their centres, shape ``(k, 2)``.
        clinicians: clinicians drawn (indices into ``model.clinicians``), shape ``(m,)``.
        clinician_xy: their positions, shape ``(m, 2)``.
        edges: ties among drawn clinicians as index pairs into ``clinicians``, shape ``(e, 2)``.
        sampled: True if sites or clinicians were left out to keep the view fast.
        site_radius: radius of each site's ring of clinicians.
        n_programme_sites: programme sites in the model (drawn or not).
    """

    sites: np.ndarray
    site_xy: np.ndarray
    clinicians: np.ndarray
    clinician_xy: np.ndarray
    edges: np.ndarray
    sampled: bool = False
    site_radius: float = 0.1
    n_programme_sites: int = 0


def network_layout(
    model: CommunityModel,
    max_sites: int = MAX_SITES_DRAWN,
    max_clinicians: int = MAX_CLINICIANS_DRAWN,
) -> NetworkLayout:
    """Compute the network view's layout for ``model`` (fast: no force-directed layout)."""
    s = model.sites
    prog = np.flatnonzero(s.arm == 1)
    sampled = prog.size > max_sites
    shown = prog[np.linspace(0, prog.size - 1, max_sites).round().astype(int)] if sampled else prog
    # central sites first (inner spiral), peripheral sites last (outer rim)
    shown = shown[np.argsort(s.peripheral[shown], kind="stable")]
    k = shown.size
    golden = np.pi * (3.0 - np.sqrt(5.0))
    j = np.arange(k) + 1.5  # leave the centre free for the core team
    radius = np.sqrt(j / (k + 1.5))
    site_xy = np.column_stack([radius * np.cos(j * golden), radius * np.sin(j * golden)])
    spacing = np.sqrt(np.pi / (k + 1.5))  # mean distance between neighbouring sites
    ring = 0.33 * spacing
    starts = np.concatenate([[0], np.cumsum(s.size)[:-1]])
    chosen, xy = [], []
    for site, (cx, cy) in zip(shown, site_xy, strict=True):
        size = int(s.size[site])
        m = min(size, max_clinicians)
        sampled = sampled or m < size
        angle = 2 * np.pi * np.arange(m) / m
        chosen.append(starts[site] + np.arange(m))
        xy.append(np.column_stack([cx + ring * np.cos(angle), cy + ring * np.sin(angle)]))
    clinicians = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    clinician_xy = np.concatenate(xy) if xy else np.zeros((0, 2))
    position = np.full(model.clinicians.site.size, -1)
    position[clinicians] = np.arange(clinicians.size)
    coo = model.networks.base.tocoo()
    keep = (coo.row < coo.col) & (position[coo.row] >= 0) & (position[coo.col] >= 0)
    edges = np.column_stack([position[coo.row[keep]], position[coo.col[keep]]])
    return NetworkLayout(
        sites=shown,
        site_xy=site_xy,
        clinicians=clinicians,
        clinician_xy=clinician_xy,
        edges=edges,
        sampled=bool(sampled),
        site_radius=ring,
        n_programme_sites=int(prog.size),
    )


class AppModel(CommunityModel):
    """CommunityModel built from programme levers on a base scenario (for SolaraViz).

    Every lever argument defaults to ``None``, meaning "the base scenario's value". The model
    records each site's monthly adherence (``recorder.site_series``) for the app's charts.

    Args:
        budget: ``programme.budget_per_site_month`` (currency per site-month).
        hard, soft: ``programme.tactics.hard`` / ``.soft`` (intensity, [0, 1]).
        core_team_strength: ``programme.core_team_strength`` ([0, 1]).
        review_interval: ``programme.review.interval_months`` (months; 0 = never).
        data_use: ``programme.data.use`` (``learning`` or ``judgement``).
        conflict_handling: ``programme.community.conflict_handling`` ([0, 1]).
        inclusion_effort: ``programme.community.inclusion_effort`` ([0, 1]).
        customisation: ``programme.customisation`` ([0, 1]).
        events_per_year: ``programme.community.events_per_year`` (events per year).
        recruitment: ``programme.recruitment.mode`` (voluntary, invited, mandated).
        n_sites: ``sites.n_sites`` (programme sites).
        seed: root seed of the run (>= 0); the live run is replication 0.
        base: base scenario (default: the module's :data:`BASE_SCENARIO`).

    Raises:
        ScenarioError: a lever value is out of range.
    """

    def __init__(
        self,
        *,
        budget: float | None = None,
        hard: float | None = None,
        soft: float | None = None,
        core_team_strength: float | None = None,
        review_interval: int | None = None,
        data_use: str | None = None,
        conflict_handling: float | None = None,
        inclusion_effort: float | None = None,
        customisation: float | None = None,
        events_per_year: float | None = None,
        recruitment: str | None = None,
        n_sites: int | None = None,
        seed: int = 0,
        base: Scenario | None = None,
    ) -> None:
        self.base_scenario = BASE_SCENARIO if base is None else base
        values = {
            "budget": budget,
            "hard": hard,
            "soft": soft,
            "core_team_strength": core_team_strength,
            "review_interval": review_interval,
            "data_use": data_use,
            "conflict_handling": conflict_handling,
            "inclusion_effort": inclusion_effort,
            "customisation": customisation,
            "events_per_year": events_per_year,
            "recruitment": recruitment,
            "n_sites": n_sites,
        }
        if seed < 0:
            raise ScenarioError(f"seed = {seed} must be >= 0")
        scn = scenario_from_levers(self.base_scenario, values)
        super().__init__(scenario=scn, replication=0, root_seed=seed, record_sites=True)
        self.root_seed = seed
        self.levers = lever_values(scn)
        self.layout = network_layout(self)

    @property
    def settings_key(self) -> tuple[Any, ...]:
        """Hashable identity of this run's settings (levers, seed, base scenario)."""
        return (self.base_scenario.name, self.root_seed, *sorted(self.levers.items()))


@dataclass
class Band:
    """Monthly true gap of several replications of one design (the app's band button).

    Attributes:
        label: what the band is of (a short description of the settings).
        months: months since programme start, shape ``(horizon,)``.
        gaps: true gap per replication and month, shape ``(reps, horizon)``.
        t50: months to close half the gap per replication (``nan`` = not within the horizon).
        gap_end: true gap at programme end per replication.
        dropouts: programme sites that dropped out per replication.
        conflict: mean conflict over the programme per replication.
        programme_months: months of support (for the chart's phase line).
    """

    label: str
    months: np.ndarray
    gaps: np.ndarray
    t50: np.ndarray
    gap_end: np.ndarray
    dropouts: np.ndarray
    conflict: np.ndarray
    programme_months: int
    key: tuple[Any, ...] = ()

    def quantiles(self, qs: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> np.ndarray:
        """Quantiles of the gap across replications per month, shape ``(len(qs), horizon)``."""
        return np.quantile(self.gaps, qs, axis=0)


def run_band(
    scenario: Scenario,
    seed: int = 0,
    reps: int = BAND_REPS,
    label: str = "",
    key: tuple[Any, ...] = (),
) -> Band:
    """Run ``reps`` replications of ``scenario`` (replications 0 .. reps-1 of root ``seed``).

    Replication 0 is the app's live run, so the live curve is one of the band's runs; under the
    same seed two settings are paired (common random numbers).
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    gaps, t50, gap_end, dropouts, conflict = [], [], [], [], []
    for rep in range(reps):
        model = CommunityModel(
            scenario=scenario, replication=rep, root_seed=seed, make_agents=False
        ).run()
        d, start, end = model.recorder.data, model.programme_start, model.programme_end
        gaps.append(d["gap_true"].copy())
        t50.append(time_to_close(d["gap_true"][start:], 0.5)[0])
        gap_end.append(float(d["gap_true"][end - 1]))
        dropouts.append(int((model.sites.dropped & model.prog_mask).sum()))
        conflict.append(float(np.mean(d["conflict"][start:end])))
    t = scenario.time
    return Band(
        label=label or scenario.name,
        months=np.arange(t.horizon) - t.baseline_months,
        gaps=np.array(gaps),
        t50=np.array(t50),
        gap_end=np.array(gap_end),
        dropouts=np.array(dropouts),
        conflict=np.array(conflict),
        programme_months=t.programme_months,
        key=key,
    )


def describe_settings(levers: Mapping[str, Any], base: Mapping[str, Any]) -> str:
    """Short text of the levers that differ from the base, e.g. ``hard 0.8, soft 0``."""
    parts = []
    for lever in LEVERS:
        value, ref = levers.get(lever.name), base.get(lever.name)
        if value != ref:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"{lever.name.replace('_', ' ')} {shown}")
    return ", ".join(parts) if parts else "base settings"
