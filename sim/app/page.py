"""The workshop app: a Mesa SolaraViz page of the clinical-community model.

Start it with ``ccsim app [SCENARIO]`` (or ``solara run sim.app.page`` with ``CCSIM_APP_SCENARIO``
set). Programme designers move a lever in the sidebar, press Reset (the model is rebuilt with
the new levers), then Step or ▶, and watch the gap, the sites, conflict and belonging, and the
community network; the band button runs 20 replications of the current settings so learners
see variability, not one lucky run. Each learner's browser session gets its own model.

The model, levers and figures live in :mod:`sim.app.model` and :mod:`sim.app.views`; this
module only arranges them with Solara.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app.model import (
    BAND_REPS,
    BASE_SCENARIO,
    LEVERS,
    AppModel,
    Band,
    describe_settings,
    lever_values,
    model_params,
    run_band,
)
from sim.app.views import (
    BAND_CAPTION,
    CONFLICT_CAPTION,
    GAP_CAPTION,
    NETWORK_CAPTION,
    SITES_CAPTION,
    band_figure,
    band_text,
    conflict_figure,
    gap_figure,
    network_figure,
    settings_text,
    sites_figure,
    status_text,
)

RUN_BAND_LABEL = f"Run {BAND_REPS} replications"
CSS = """
.vue-grid-item { overflow-y: auto; }
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label {
  transform: translateY(-14%) translateX(-50%) rotate(45deg) scale(0.8) !important;
}
"""


def _chart(draw: Callable[[AppModel], Any], caption: str, name: str) -> Callable[[AppModel], Any]:
    """A page component: the figure ``draw(model)`` above its plain-language caption."""

    def component(model: AppModel) -> Any:
        with solara.Column(classes=[f"ccsim-{name}"], style={"padding": "6px"}) as column:
            solara.FigureMatplotlib(draw(model), format="png")
            solara.Markdown(caption, style={"font-size": "0.85rem"})
        return column

    component.__name__ = f"{name.title()}Chart"
    return component


def status_panel(model: AppModel) -> Any:
    """What the model shows now, in words, and how to use the page."""
    base = lever_values(model.base_scenario)
    with solara.Column(classes=["ccsim-status"], style={"padding": "8px"}) as column:
        solara.Markdown(f"### {model.base_scenario.name}: {describe_settings(model.levers, base)}")
        solara.Text(status_text(model), classes=["ccsim-status-line"])
        solara.Text(settings_text(model), style={"font-size": "0.8rem", "color": "#555"})
        solara.Markdown(
            "**How to use:** move a lever in the sidebar, press **Reset** to rebuild the "
            "community with it, then **Step** (one month) or **▶** (play). The tab *Page 1* "
            "explains every lever and the lesson it stands for."
        )
    return column


@solara.component
def BandPanel(model: AppModel) -> Any:  # noqa: N802 - Solara components are CamelCase
    """The band button and chart: replications of the current settings vs the previous ones."""
    update_counter.get()  # redraw the live run's line after every step
    bands, set_bands = solara.use_state((None, None))
    current: Band | None = bands[0]
    previous: Band | None = bands[1]

    def run() -> None:
        base = lever_values(model.base_scenario)
        band = run_band(
            model.scn,
            seed=model.root_seed,
            reps=BAND_REPS,
            label=describe_settings(model.levers, base),
            key=model.settings_key,
        )

        def update(old: tuple[Band | None, Band | None]) -> tuple[Band | None, Band | None]:
            last, before = old
            return (band, last) if last is not None and last.key != band.key else (band, before)

        set_bands(update)

    with solara.Column(classes=["ccsim-band"], style={"padding": "6px"}) as column:
        solara.Button(RUN_BAND_LABEL, on_click=run, color="primary", outlined=True)
        solara.FigureMatplotlib(band_figure(current, previous, model), format="png")
        for band in (current, previous):
            if band is not None:
                solara.Text(band_text(band), classes=["ccsim-band-text"])
        solara.Markdown(BAND_CAPTION)
    return column


def lever_guide(model: AppModel) -> Any:
    """Page 1: every lever, what it means, and the lesson it represents."""
    rows = "\n".join(
        f"| {lever.label} | {lever.meaning} | {lever.lesson} | {model.levers[lever.name]} |"
        for lever in LEVERS
    )
    text = (
        "### The levers and the ten lessons\n\n"
        "Each slider or select in the sidebar is one lever of the programme design, from the "
        "Health Foundation's *Closing the Gap through Clinical Communities*. Changes take "
        "effect when you press **Reset**. The random seed picks one possible community; the "
        f"{BAND_REPS}-run band shows how much chance alone moves the result.\n\n"
        "| lever | what it means | lesson | now |\n|---|---|---|---|\n"
        f"{rows}\n\n"
        f"Base scenario: **{model.base_scenario.name}**: {model.base_scenario.description}"
    )
    with solara.Column(classes=["ccsim-guide"], style={"padding": "8px"}) as column:
        solara.Markdown(text)
    return column


COMPONENTS: list[tuple[Callable[[AppModel], Any], int]] = [
    (status_panel, 0),
    (_chart(gap_figure, GAP_CAPTION, "gap"), 0),
    (_chart(sites_figure, SITES_CAPTION, "sites"), 0),
    (_chart(conflict_figure, CONFLICT_CAPTION, "conflict"), 0),
    (_chart(network_figure, NETWORK_CAPTION, "network"), 0),
    (BandPanel, 0),
    (lever_guide, 1),
]


@solara.component
def Page() -> Any:  # noqa: N802 - the name solara run looks for
    """The app page (``solara run sim.app.page`` serves it); one model per browser session."""
    model = solara.use_memo(AppModel, [])
    with solara.Column() as main:
        solara.Style(CSS)
        SolaraViz(
            model,
            components=COMPONENTS,
            model_params=model_params(BASE_SCENARIO),
            name=f"ccsim workshop: {BASE_SCENARIO.name}",
        )
    return main
