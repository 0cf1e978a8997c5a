"""The workshop app's model: programme levers as keyword arguments on a base scenario.

Mesa's SolaraViz rebuilds the model on Reset with ``type(model)(**params)``, so the app needs a
model whose keyword-only ``__init__`` takes the levers one by one. :class:`AppModel` is that thin
subclass of :class:`sim.model.CommunityModel`: it applies the lever values to a *base scenario*
(any scenario file) and builds the usual model from the result.

The base scenario is read once, when this module is imported, from the environment, because
``solara run`` imports the app module itself: ``CCSIM_APP_SCENARIO`` (a path or library name;
unset = the built-in baseline) and ``CCSIM_APP_SET`` (a JSON list of ``dotted.key=value``
overrides). ``ccsim app SCENARIO`` sets both. Nothing here imports Solara, so notebooks and tests
can use the levers, :func:`scenario_from_levers` and :func:`run_band` directly.

The pieces live next to this module and are re-exported here: the lever table and scenario
shaping in :mod:`sim.app.levers`, the network view's layout in :mod:`sim.app.layout` and the
replication band in :mod:`sim.app.band`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from sim.app.band import BAND_REPS, Band, run_band
from sim.app.layout import MAX_CLINICIANS_DRAWN, MAX_SITES_DRAWN, NetworkLayout, network_layout
from sim.app.levers import (
    DEFAULT_SEED,
    LEVERS,
    LEVERS_BY_NAME,
    SEED_LABEL,
    Lever,
    describe_settings,
    lever_values,
    pending_changes,
    scenario_from_levers,
    slider_range,
)
from sim.loader import ScenarioError, load_scenario
from sim.model import CommunityModel
from sim.scenario import Scenario

__all__ = [
    "BAND_REPS",
    "BASE_SCENARIO",
    "DEFAULT_SEED",
    "ENV_OVERRIDES",
    "ENV_SCENARIO",
    "LEVERS",
    "LEVERS_BY_NAME",
    "MAX_CLINICIANS_DRAWN",
    "MAX_SITES_DRAWN",
    "AppModel",
    "Band",
    "Lever",
    "NetworkLayout",
    "base_scenario_from_env",
    "describe_settings",
    "lever_values",
    "model_params",
    "network_layout",
    "pending_changes",
    "run_band",
    "scenario_from_levers",
    "slider_range",
]

ENV_SCENARIO = "CCSIM_APP_SCENARIO"
ENV_OVERRIDES = "CCSIM_APP_SET"


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


def model_params(base: Scenario | None = None, seed: int = DEFAULT_SEED) -> dict[str, Any]:
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
    params["seed"]["label"] = SEED_LABEL
    params["base"] = base  # fixed (not a dict with "type"): passed through on every Reset
    return params


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
        seed: int = DEFAULT_SEED,
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
        self._step_lock = threading.RLock()  # before Mesa wraps step()
        super().__init__(scenario=scn, replication=0, root_seed=seed, record_sites=True)
        self.root_seed = seed
        self.levers = lever_values(scn)
        self.layout = network_layout(self)

    def step(self) -> None:
        """One month (never two at once: ▶ steps in a thread of its own)."""
        with self._step_lock:
            super().step()

    def run_to(self, month: int) -> None:
        """Step until ``month`` months are simulated (``programme_end``: the end of funding).

        Each month is checked and stepped under the step lock, so a ▶ playing at the same
        time cannot carry this past ``month``; nothing happens if the model is already there.
        """
        month = min(month, self.horizon)
        while True:
            with self._step_lock:
                if not self.running or self.month >= month:
                    return
                self.step()  # Mesa's wrapper: advances Mesa's clock (Time), then our step()

    @property
    def settings_key(self) -> tuple[Any, ...]:
        """Hashable identity of this run's settings (levers, seed, base scenario)."""
        return (self.base_scenario.name, self.root_seed, *sorted(self.levers.items()))
