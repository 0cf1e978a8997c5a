"""The workshop app after a second facilitator's trial: reaching the end of funding, reachable
card values, printable lever cards, a network chart that shows what it says, slider labels and
units in the text, an ended run that says so, and one clock for keystone (in-process).

The same fixes in a real browser: test_app_browser.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_helpers import CARD_A, GUIDE, ROOT  # noqa: F401
from app_helpers import stepped as _stepped
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

from sim.app.model import BASE_SCENARIO, LEVERS, AppModel, model_params, run_band
from sim.app.model import scenario_from_levers as from_levers
from sim.app.text import (
    LESSON_ONE,
    band_text,
    clock_note,
    funding_end_label,
    how_to_text,
    lever_cards_markdown,
    settings_text,
    status_text,
)
from sim.app.views import network_figure
from sim.loader import load_scenario


def _render():
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from sim.app.page import Page

    _box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    return solara, v, rc


def _status(v: object, rc: object) -> str:
    spans = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]  # type: ignore[attr-defined]
    return next(s for s in spans if isinstance(s, str) and s.startswith("Month "))


def test_a_button_runs_the_live_model_to_the_end_of_funding() -> None:
    """▶ then ❚❚ lands a month late: the button stops exactly at month 24, charts redrawn."""
    solara, v, rc = _render()
    try:
        button = rc.find(v.Btn, children=["Run to end of funding (month 24)"])
        button.assert_single()
        rc.find(v.Btn, children=["Step"]).widget.click()
        button.widget.click()
        assert _status(v, rc).startswith("Month 24 of 48 (programme) · true gap 19%")
        rc.find(v.Html, children=["Time: 24.0"]).assert_single()
        html = [str(w.unsafe_innerHTML) for w in rc.find(solara.widgets.HTML).widgets]
        assert not any("month 48: press ❚❚" in h and "ended" in h for h in html)
        assert rc.find(v.Btn, children=["Run to end of funding (month 24)"]).widget.disabled
        assert not rc.find(v.Btn, children=["Step"]).widget.disabled  # follow-up still to come
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert _status(v, rc).startswith("Month 25 of 48 (follow-up)")
    finally:
        rc.close()


def test_run_to_stops_at_the_month_and_keeps_mesas_clock() -> None:
    keystone = AppModel(base=load_scenario("keystone"))
    keystone.run_to(keystone.programme_end)
    assert status_text(keystone).startswith("Month 21 of 39 (programme)")
    assert keystone.time == keystone.month == 24  # Mesa's Time runs 3 ahead
    assert funding_end_label(keystone) == "Run to end of funding (month 21)"
    keystone.run_to(keystone.programme_end)  # already there: nothing happens
    assert keystone.month == 24
    model = AppModel()
    model.run_to(10**6)
    assert model.month == model.horizon and not model.running


def test_guide_stations_use_the_funding_button() -> None:
    assert "press ▶ and then ❚❚" not in GUIDE
    assert GUIDE.count("**Run to end of funding (month 24)**") >= 2
    assert "▶ does not stop by itself" in GUIDE


def test_every_card_value_is_reachable_on_its_slider() -> None:
    """The spare card's budget 750 (and every value a card sets) is a slider position."""
    params = model_params()
    cards = re.findall(r"\*([A-Z][^*]+)\*\s+(?:to\s+)?(\d+(?:\.\d+)?)\b", GUIDE)
    checked = 0
    for label, value in cards:
        label = " ".join(label.split())  # a card's label may wrap across lines
        lever = next((lv for lv in LEVERS if lv.label.startswith(label)), None)
        if lever is None:
            continue
        spec, x = params[lever.name], float(value)
        assert spec["min"] <= x <= spec["max"], (label, value)
        steps = (x - spec["min"]) / spec["step"]
        assert abs(steps - round(steps)) < 1e-9, (label, value, spec["step"])
        checked += 1
    assert checked >= 4 and "*Budget (currency per site-month)* 750" in GUIDE


def test_spare_card_numbers_come_from_the_band() -> None:
    text = band_text(run_band(from_levers(BASE_SCENARIO, {"budget": 750}), label="spare"))
    assert "gap at programme end 29% (90% of runs between 23% and 35%)" in text
    assert "half the gap closed after a median of 16 months" in text
    assert "end 29% (23%-35%), half the gap after 16 months instead of 13" in GUIDE


def test_guide_lever_cards_are_the_apps_levers() -> None:
    """Facilitators print the guide's lever cards (the app's tab scrolls in a fixed pane)."""
    cards = lever_cards_markdown()
    assert cards in GUIDE, "regenerate the lever cards: python3 -c 'from sim.app.text import ...'"
    assert all(f"| {lever.label} |" in cards for lever in LEVERS)
    assert "0 to 5000 in steps of 50" in cards
    assert LESSON_ONE in cards and "choose the right challenge" in LESSON_ONE
    assert "Print the lever cards ([Lever cards](#lever-cards)" in GUIDE


def _drawn(fig: object) -> object:
    """The renderer of ``fig`` drawn once, as the app's PNG is (the network's equal aspect
    moves its axes, and the left-aligned title with them, only when drawn)."""
    canvas = FigureCanvasAgg(fig)  # type: ignore[arg-type]
    canvas.draw()
    return canvas.get_renderer()


def _fits(fig: object, artist: object) -> bool:
    renderer = _drawn(fig)
    box, page = artist.get_window_extent(renderer), fig.bbox  # type: ignore[attr-defined]
    return box.x0 >= page.x0 and box.x1 <= page.x1 + 0.5 and box.y1 <= page.y1 + 0.5


@pytest.mark.parametrize("scenario", [None, "matching_michigan"])
def test_network_title_fits_the_chart(scenario: str | None) -> None:
    model = AppModel(base=load_scenario(scenario))
    fig = network_figure(model)
    ax = fig.axes[0]
    title = ax._left_title  # set with loc="left"
    assert _fits(fig, title), title.get_text()
    assert "sites drawn" in title.get_text()


def test_card_a_says_a_site_drops_out_and_the_cross_is_not_covered() -> None:
    model = _stepped(24, **CARD_A)
    assert "19 of 20 sites active, 1 dropped out" in status_text(model)
    assert "19 of 20 sites active, 1 dropped out" in GUIDE
    assert "a site drops out in some runs (max 2)" not in GUIDE
    fig = network_figure(model)
    ax = fig.axes[0]
    renderer = _drawn(fig)
    site = model.layout.sites.tolist().index(int(np.flatnonzero(model.sites.dropped)[0]))
    x, y = ax.transData.transform(model.layout.site_xy[site])
    r = 5 * fig.dpi / 72  # half the width of the cross (10 points)
    cross = Bbox([[x - r, y - r], [x + r, y + r]])
    labels = [*ax.texts, ax.get_legend()]
    assert not [t for t in labels if t.get_window_extent(renderer).overlaps(cross)]
    crosses = [c for c in ax.collections if c.get_zorder() > 5]
    assert crosses and "dropped out" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_text_names_inputs_by_their_sidebar_labels_and_units() -> None:
    band = run_band(from_levers(BASE_SCENARIO, {"n_sites": 6}), reps=2, label="x")
    text = band_text(band)
    assert "on a 0-1 scale" in text and "percentage points" in text
    assert not re.search(r"peripheral lag -?0\.\d", text)
    shown = settings_text(AppModel())
    for internal in ("n sites", "core team strength", "review interval", "(?<!Community )events"):
        assert not re.search(internal, shown), internal
    assert "Number of sites 20" in shown and "Review every (months; 0 = never) 6" in shown
    assert "Core-team strength (0-1) 0.7" in shown and "Random seed 0" in shown


def test_an_ended_run_says_so_and_points_to_reset() -> None:
    running, ended = how_to_text(_stepped(47), "L"), how_to_text(_stepped(48), "L")
    assert "press ❚❚ to pause" in running
    assert "❚❚ to pause" not in ended and "The run has ended** at month 48" in ended
    assert "Press **Reset**" in ended


def test_keystone_clock_note_names_the_opening_month() -> None:
    start = AppModel(base=load_scenario("keystone"))
    assert status_text(start).startswith("Month -3 of 39")
    note = clock_note(start)
    assert "opens at month -3" in note and "months -2 to 0 (0 and below)" in note
    assert "opens at month -3" in GUIDE


def test_lever_tab_says_why_lesson_one_is_not_a_slider() -> None:
    solara, v, rc = _render()
    try:
        rc.find(v.Tabs).widget.v_model = 1  # the tab "Levers and lessons"
        html = " ".join(str(w.unsafe_innerHTML) for w in rc.find(solara.widgets.HTML).widgets)
        assert "choose the right challenge</em>, is not a slider" in html
    finally:
        rc.close()
