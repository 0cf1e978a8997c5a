"""The workshop app: a Mesa SolaraViz page of the clinical-community model.

Start it with ``ccsim app [SCENARIO]`` (or ``solara run sim.app.page`` with ``CCSIM_APP_SCENARIO``
set). Programme designers move a lever in the sidebar, press Reset (the model is rebuilt with
the new levers), then Step or ▶, and watch the gap, the sites, conflict and belonging, and the
community network; the band button runs 20 replications of the current settings so learners
see variability, not one lucky run. Each learner's browser session gets its own model.

Each sidebar input is bound to a per-session reactive value (:data:`INPUTS`), so the page can
say when the sidebar differs from the running model ("changes pending: press Reset"). The
model, levers and figures live in :mod:`sim.app.model`, :mod:`sim.app.views` and
:mod:`sim.app.text`, the CSS in :mod:`sim.app.style`; this module only arranges them with Solara.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.app.model import (
    BAND_REPS,
    BASE_SCENARIO,
    LEVERS,
    AppModel,
    Band,
    describe_settings,
    lever_values,
    model_params,
    pending_changes,
    run_band,
)
from sim.app.style import CSS, TAB_NAMES
from sim.app.text import (
    BAND_CAPTION,
    BAND_PLACEHOLDER,
    CONFLICT_CAPTION,
    GAP_CAPTION,
    LESSON_ONE,
    NETWORK_CAPTION,
    SITES_CAPTION,
    band_text,
    clock_note,
    funding_end_label,
    how_to_text,
    pairing_text,
    pending_text,
    settings_text,
    status_text,
    to_html,
)
from sim.app.views import (
    BAND_COLOURS,
    band_figure,
    conflict_figure,
    gap_figure,
    network_figure,
    sites_figure,
)

RUN_BAND_LABEL = f"Run {BAND_REPS} replications"
DEFAULT_PARAMS: dict[str, Any] = model_params(BASE_SCENARIO)
INPUTS: dict[str, solara.Reactive[Any]] = {
    name: solara.reactive(spec["value"])
    for name, spec in DEFAULT_PARAMS.items()
    if isinstance(spec, dict)
}
"""The value each sidebar input shows, per browser session (Solara keeps a module-level
reactive value per session); Mesa's sliders and selects are bound to them."""


def _quiet_offline_server() -> None:
    """Silence Solara's SameSite cookie warning, printed for every page served over plain http
    on 127.0.0.1 (Solara falls back to ``lax`` cookies, which is right for a local app).

    The other offline noise, failed KaTeX fetches, is avoided rather than filtered: the page
    renders its text as HTML (:func:`sim.app.text.to_html`), never through ``solara.Markdown``,
    which loads KaTeX from a CDN.
    """
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


_quiet_offline_server()


def page_params() -> dict[str, Any]:
    """Mesa ``model_params`` with each input's value bound to its :data:`INPUTS` reactive."""
    params = dict(DEFAULT_PARAMS)
    for name, value in INPUTS.items():
        params[name] = {**params[name], "value": value}
    return params


def chosen_inputs() -> dict[str, Any]:
    """What the sidebar shows now (lever name or ``seed`` -> value) in this session."""
    return {name: value.value for name, value in INPUTS.items()}


class SessionModel(AppModel):
    """The page's :class:`AppModel`: Mesa's Reset may pass an input's reactive value itself
    (for inputs not moved since the page loaded); its current value is used."""

    def __init__(self, **levers: Any) -> None:
        plain = {k: v.value if isinstance(v, solara.Reactive) else v for k, v in levers.items()}
        super().__init__(**plain)


# Mesa inspects the signature to check model_params and to build Reset's keyword arguments
SessionModel.__init__.__signature__ = inspect.signature(AppModel.__init__)  # type: ignore[attr-defined]


def _html(text: str, classes: list[str] | None = None, style: str | None = None) -> Any:
    return solara.HTML(tag="div", unsafe_innerHTML=text, classes=classes or [], style=style)


def _chart(draw: Callable[[AppModel], Any], caption: str, name: str) -> Callable[[AppModel], Any]:
    """A page component: the figure ``draw(model)`` above its plain-language caption."""

    def component(model: AppModel) -> Any:
        with solara.Column(classes=["ccsim-card", f"ccsim-{name}"], style={"padding": "6px"}) as c:
            solara.FigureMatplotlib(draw(model), format="png")
            _html(to_html(caption), style="font-size: 0.85rem")
        return c

    component.__name__ = f"{name.title()}Chart"
    return component


def _pending_alert(model: AppModel) -> None:
    """The 'changes pending: press Reset' hint, when the sidebar differs from the model."""
    hint = pending_text(pending_changes(chosen_inputs(), model.levers, model.root_seed))
    if hint:
        solara.Warning(hint, dense=True, classes=["ccsim-pending"])


def status_panel(model: AppModel) -> Any:
    """What the model shows now, in words, and how to use the page."""
    base = lever_values(model.base_scenario)
    with solara.Column(classes=["ccsim-card", "ccsim-status"], style={"padding": "8px"}) as c:
        title = describe_settings(model.levers, base, model.root_seed)
        _html(f"<h3>{to_html(model.base_scenario.name)}: {to_html(title)}</h3>")
        _pending_alert(model)
        solara.Text(status_text(model), classes=["ccsim-status-line"])
        solara.Text(settings_text(model), style={"font-size": "0.8rem", "color": "#555"})
        note = clock_note(model)
        if note:
            solara.Text(note, classes=["ccsim-clock"], style={"font-size": "0.8rem"})
        _funding_end_button(model)
        _html(to_html(how_to_text(model, TAB_NAMES[1])), classes=["ccsim-how"])
    return c


def _funding_end_button(model: AppModel) -> None:
    """Run the live model to the end of funding and redraw every chart (as Mesa's Step does).

    Pausing ▶ by hand lands a month or two late; this button stops at ``programme_end``. It
    leaves ``model.running`` True (follow-up is still to come), so Step and ▶ stay usable.
    """

    def run() -> None:
        model.run_to(model.programme_end)
        force_update()

    solara.Button(
        funding_end_label(model),
        on_click=run,
        disabled=model.month >= model.programme_end,
        color="primary",
        outlined=True,
        classes=["ccsim-funding-end"],
        style={"align-self": "flex-start"},
    )


def _band_texts(current: Band | None, previous: Band | None) -> None:
    """The bands' sentences side by side, each edged in its band's colour."""
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for band, colour in ((current, BAND_COLOURS[0]), (previous, BAND_COLOURS[1])):
            if band is not None:
                solara.Text(
                    band_text(band),
                    classes=["ccsim-band-text"],
                    style={"border-left": f"4px solid {colour}"},
                )
    note = pairing_text(current, previous)
    if note:
        solara.Text(note, classes=["ccsim-pairing"], style={"font-size": "0.85rem"})


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
            label=describe_settings(model.levers, base, model.root_seed),
            key=model.settings_key,
        )

        def update(old: tuple[Band | None, Band | None]) -> tuple[Band | None, Band | None]:
            last, before = old
            return (band, last) if last is not None and last.key != band.key else (band, before)

        set_bands(update)

    live = current is not None and model.settings_key == current.key
    drawn = [id(current), id(previous), id(model), model.month if live else -1]
    figure = solara.use_memo(lambda: band_figure(current, previous, model), drawn)
    with solara.Column(classes=["ccsim-card", "ccsim-band"], style={"padding": "6px"}) as c:
        _pending_alert(model)
        solara.Button(RUN_BAND_LABEL, on_click=run, color="primary", outlined=True)
        _band_texts(current, previous)
        if figure is None:
            _html(to_html(BAND_PLACEHOLDER), classes=["ccsim-placeholder"])
        else:
            solara.FigureMatplotlib(figure, dependencies=drawn, format="png")
        _html(to_html(BAND_CAPTION), style="font-size: 0.85rem")
    return c


def lever_guide(model: AppModel) -> Any:
    """Page 1: every lever, what it means, and the lesson it represents."""
    rows = "".join(
        f"<tr><td>{to_html(lever.label)}</td><td>{to_html(lever.meaning)}</td>"
        f"<td>{to_html(lever.lesson)}</td><td>{to_html(str(model.levers[lever.name]))}</td></tr>"
        for lever in LEVERS
    )
    intro = (
        "Each slider or select in the sidebar is one lever of the programme design, from the "
        "Health Foundation's *Closing the Gap through Clinical Communities*. Changes take "
        "effect when you press **Reset**. The random seed picks one possible community; the "
        f"{BAND_REPS}-run band shows how much chance alone moves the result."
    )
    scn = model.base_scenario
    text = (
        "<h3>The levers and the ten lessons</h3>"
        f"<p>{to_html(intro)}</p><table><thead><tr><th>lever</th><th>what it means</th>"
        f"<th>lesson</th><th>now</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p>{to_html(LESSON_ONE)}</p>"
        f"<p>Base scenario: <strong>{to_html(scn.name)}</strong>: {to_html(scn.description)}</p>"
        "<p>To print lever cards, print this tab from the browser (it prints whole, without the "
        "sidebar) or the same table in docs/workshop.md (Lever cards).</p>"
    )
    with solara.Column(classes=["ccsim-card", "ccsim-guide"], style={"padding": "8px"}) as c:
        _html(text)
    return c


COMPONENTS: list[tuple[Callable[[AppModel], Any], int]] = [
    (status_panel, 0),
    (_chart(gap_figure, GAP_CAPTION, "gap"), 0),
    (_chart(sites_figure, SITES_CAPTION, "sites"), 0),
    (_chart(conflict_figure, CONFLICT_CAPTION, "conflict"), 0),
    (_chart(network_figure, NETWORK_CAPTION, "network"), 0),
    (BandPanel, 0),
    (lever_guide, 1),
]


def _reset_inputs() -> None:
    for name, value in INPUTS.items():
        value.set(DEFAULT_PARAMS[name]["value"])


@solara.component
def Page() -> Any:  # noqa: N802 - the name solara run looks for
    """The app page (``solara run sim.app.page`` serves it); one model per browser session."""
    model = solara.use_memo(SessionModel, [])
    params = solara.use_memo(page_params, [])
    solara.use_effect(_reset_inputs, [])  # a new page starts from the base settings
    with solara.Column() as main:
        solara.Style(CSS)
        SolaraViz(
            model,
            components=COMPONENTS,
            model_params=params,
            name=f"ccsim workshop: {BASE_SCENARIO.name}",
        )
    return main
