"""The workshop app after a facilitator's trial: one clock, honest reported gap, pending changes,
band sentences with the guide's figures, placeholders, units, and no KaTeX (in-process).

Layout, tab names and slider bubbles need a browser: see test_app_browser.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_helpers import CARD_A, GUIDE, ROOT  # noqa: F401
from app_helpers import stepped as _stepped

from sim.app.model import (
    BASE_SCENARIO,
    LEVERS,
    AppModel,
    describe_settings,
    pending_changes,
    run_band,
    scenario_from_levers,
)
from sim.app.text import (
    band_text,
    clock_note,
    pairing_text,
    pending_text,
    status_text,
    to_html,
)
from sim.app.views import band_figure, conflict_figure, gap_figure, network_figure, sites_figure
from sim.loader import load_scenario


def test_keystone_status_and_charts_share_one_clock() -> None:
    """Keystone has 3 baseline months: month 24 simulated is month 21 since programme start."""
    model = _stepped(24, base=load_scenario("keystone"))
    assert status_text(model).startswith("Month 21 of 39 (programme) · true gap")
    assert "runs 3 ahead" in clock_note(model)
    gap = gap_figure(model).axes[0]
    assert gap.get_title(loc="left") == "The gap, month 21"
    assert gap.get_lines()[0].get_xdata()[-1] == 21
    assert "0 and below: baseline" in gap.get_xlabel()
    assert (
        sites_figure(model).axes[0].get_title(loc="left").startswith("Adherence by site, month 21")
    )
    assert "month 21" in network_figure(model).axes[0].get_title(loc="left")
    start = AppModel(base=load_scenario("keystone"))
    assert status_text(start).startswith("Month -3 of 39 · 103 sites")
    assert clock_note(AppModel()) == ""  # the baseline scenario has no baseline months


def test_reported_gap_stops_with_the_data() -> None:
    """After funding ends no data are reported: say when the last report was, stop the line."""
    model = _stepped(48)
    text = status_text(model)
    assert (
        "Month 48 of 48 (follow-up) · true gap 8% · reported gap 24% (last report, month 22)"
        in text
    )
    reported = gap_figure(model).axes[0].get_lines()[1]
    assert reported.get_label() == "reported gap (while data collected)"
    assert reported.get_xdata()[-1] == 24 and reported.get_xdata().size == 24
    assert "reported gap 24% ·" in status_text(_stepped(22))  # a report this month: no note
    keystone = _stepped(2, base=load_scenario("keystone"))
    assert "no report yet" in status_text(keystone)  # baseline months: nothing reported


def test_band_text_gives_the_guides_conflict_and_lag() -> None:
    """Card A's quoted figures (conflict 0.09 -> 0.15, lag 0.03 -> 0.13) are in the band text."""
    base = band_text(run_band(BASE_SCENARIO, label="base settings"))
    card = band_text(run_band(scenario_from_levers(BASE_SCENARIO, CARD_A), label="card A"))
    assert "mean conflict during the programme 0.09 on a 0-1 scale (median)" in base
    assert "peripheral lag 3 percentage points (median)" in base
    assert "mean conflict during the programme 0.15 on a 0-1 scale (median)" in card
    assert "peripheral lag 13 percentage points (median)" in card
    assert "rises from 0.09 to **0.15** (median of 20 runs" in GUIDE
    assert "grows from 3 to 13 percentage points" in GUIDE


def test_chart_titles_give_the_guides_live_numbers() -> None:
    """Part 2 and card A quote month-24 adherence and belonging: the chart titles show them."""
    base, card = _stepped(24), _stepped(24, **CARD_A)
    sites = sites_figure(base).axes[0].get_title(loc="left")
    assert sites == "Adherence by site, month 24: central mean 82%, peripheral mean 77%"
    assert "central mean 82%, peripheral mean 69%" in sites_figure(card).axes[0].get_title(
        loc="left"
    )
    conflict = conflict_figure(card).axes[0].get_title(loc="left")
    assert conflict == "Conflict 0.25, belonging 0.32 (peripheral sites 0.22), month 24"
    assert "central mean 82% adherence, peripheral mean 77%" in GUIDE
    assert "their belonging drops to 0.22 (base 0.34" in GUIDE
    assert "conflict 0.13" in conflict_figure(base).axes[0].get_title(loc="left").lower()


def test_guide_quotes_the_status_line() -> None:
    """Every status-line figure of part 2 is what the app prints at months 12 and 24."""
    month12, month24 = status_text(_stepped(12)), status_text(_stepped(24))
    assert "true gap 54% · reported gap 68% (last report, month 10)" in month12
    assert "adopters: 11% compliant, 35% internalised" in month12
    assert "true gap 19%" in month24 and "8% compliant, 73% internalised" in month24
    assert "true gap **54%**, reported gap 68% (last report, month 10)" in GUIDE
    assert "Month 24: true gap **19%**; 73% of clinicians" in GUIDE


def test_guide_step_wording_matches_play() -> None:
    """▶ runs past the end of funding: the guide must not say it stops at month 24."""
    assert "Step to month\n24 (or press ▶)" not in GUIDE
    assert "▶ does not stop by itself" in GUIDE


def test_pending_changes_name_the_unapplied_inputs() -> None:
    model = AppModel()
    chosen = {**model.levers, "seed": 0}
    assert pending_changes(chosen, model.levers, 0) == []
    assert pending_text([]) == ""
    chosen.update(hard=1.0, data_use="judgement", seed=3)
    changes = pending_changes(chosen, model.levers, 0)
    assert changes == [
        "Hard tactics (intensity 0-1) 0.4 → 1",
        "Data used for learning → judgement",
        "Random seed 0 → 3",
    ]
    assert pending_text(changes).startswith(
        "Changes pending: Hard tactics (intensity 0-1) 0.4 → 1, Data used for"
    )
    assert "Press Reset" in pending_text(changes)
    # a slider's float noise is not a change
    assert pending_changes({"soft": 0.6000000000000001}, model.levers, 0) == []


def test_band_label_names_a_seed_and_pairing() -> None:
    assert describe_settings({"hard": 0.4}, {"hard": 0.4}, seed=3) == (
        "base settings, Random seed 3"
    )
    assert describe_settings({"hard": 0.9}, {"hard": 0.4}) == "Hard tactics (intensity 0-1) 0.9"
    seeded = run_band(BASE_SCENARIO, seed=3, reps=2, label="base settings, Random seed 3")
    same = run_band(BASE_SCENARIO, seed=3, reps=2)
    plain = run_band(BASE_SCENARIO, seed=0, reps=2)
    assert seeded.seed == 3 and band_text(seeded).startswith("base settings, Random seed 3: gap")
    note = pairing_text(seeded, plain)
    assert note.startswith("Not paired: the blue band uses seed 3, the grey band seed 0")
    assert pairing_text(seeded, same).startswith("Both bands use seed 3: paired runs")
    assert pairing_text(seeded, None) == ""


def test_empty_band_chart_is_a_placeholder_not_an_empty_axis() -> None:
    model = AppModel(n_sites=6)
    assert band_figure(None, None, model) is None
    band = run_band(model.scn, reps=2, key=model.settings_key)
    fig = band_figure(band, None, model)
    assert fig is not None and fig.axes[0].get_xlim()[1] == 48


def test_lever_labels_carry_units() -> None:
    labels = {lever.name: lever.label for lever in LEVERS}
    assert labels["budget"] == "Budget (currency per site-month)"
    assert labels["review_interval"].startswith("Review every (months")
    for lever in LEVERS:
        if lever.kind == "SliderFloat":
            assert "0-1" in lever.label, lever.label
    assert all("central site" not in v for v in labels.values())


def test_to_html_escapes_and_marks_up() -> None:
    assert to_html("**The gap** <b> *x*") == "<strong>The gap</strong> &lt;b&gt; <em>x</em>"


def test_page_has_no_markdown_so_no_katex_and_shows_pending_hint() -> None:
    """solara.Markdown fetches KaTeX from a CDN (noisy offline): the page must not use it.

    Moving a slider without Reset shows the pending hint; Reset applies it and clears it.
    """
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    from ipywidgets.widgets.widget import _instances

    from sim.app.page import Page

    before = set(_instances)
    _box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        created = [w for key, w in list(_instances.items()) if key not in before]
        templates = [str(w.template) for w in created if isinstance(w, v.VuetifyTemplate)]
        assert len(created) > 50 and not any("katex" in t for t in templates)

        def alerts() -> list[str]:
            return [str(w.children[0]) for w in rc.find(v.Alert).widgets if w.children]

        assert not any("Changes pending" in a for a in alerts())
        rc.find(v.Slider, label="Hard tactics (intensity 0-1)").widget.v_model = 1.0
        pending = [a for a in alerts() if "Changes pending" in a]
        assert pending and "Hard tactics (intensity 0-1) 0.4 → 1" in pending[0]
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert not any("Changes pending" in a for a in alerts())
        html = [str(w.unsafe_innerHTML) for w in rc.find(solara.widgets.HTML).widgets]
        assert any(re.search(r"baseline: Hard tactics \(intensity 0-1\) 1\b", h) for h in html)
        assert any("No band yet" in h for h in html)  # placeholder before the first band
    finally:
        rc.close()
        from sim.app.page import INPUTS, _reset_inputs

        _reset_inputs()
        assert INPUTS["hard"].value == pytest.approx(0.4)


def test_app_command_hides_the_solara_badge() -> None:
    from sim.commands.app import app_environment

    assert app_environment(None, [])["SOLARA_THEME_SHOW_BANNER"] == "False"


def test_band_numbers_are_run_metrics() -> None:
    """The band's per-run outcomes are sim.metrics.run_metrics', not a second definition."""
    band = run_band(BASE_SCENARIO, reps=3)
    assert band.peripheral_lag is not None and band.marginalised is not None
    assert band.peripheral_lag.shape == (3,) and np.isfinite(band.peripheral_lag).all()
    assert band.conflict.shape == (3,) and band.seed == 0
