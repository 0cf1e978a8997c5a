"""The workshop app without a browser: levers, AppModel, band, figures, Solara page, command."""

from __future__ import annotations

import inspect
import json
import socket
from pathlib import Path

import numpy as np
import pytest

from sim.app.model import (
    BAND_REPS,
    LEVERS,
    AppModel,
    base_scenario_from_env,
    describe_settings,
    lever_values,
    model_params,
    network_layout,
    run_band,
    scenario_from_levers,
)
from sim.app.views import (
    band_figure,
    band_text,
    conflict_figure,
    gap_figure,
    network_figure,
    sites_figure,
    status_text,
)
from sim.loader import ScenarioError, load_scenario
from sim.model import CommunityModel

ROOT = Path(__file__).resolve().parents[1]


def test_levers_cover_the_issue_and_map_to_real_scenario_keys() -> None:
    names = {lever.name for lever in LEVERS}
    assert names == {
        "budget",
        "hard",
        "soft",
        "core_team_strength",
        "review_interval",
        "data_use",
        "conflict_handling",
        "inclusion_effort",
        "customisation",
        "events_per_year",
        "recruitment",
        "n_sites",
    }
    values = lever_values(load_scenario("keystone"))
    assert values["budget"] == 1500 and isinstance(values["budget"], int)
    assert values["hard"] == 0.7 and values["soft"] == 0.7
    assert values["n_sites"] == 103 and values["events_per_year"] == 8
    assert values["data_use"] == "learning" and values["recruitment"] == "voluntary"
    mm = lever_values(load_scenario("matching_michigan"))
    assert (mm["recruitment"], mm["data_use"]) == ("mandated", "judgement")
    assert mm["review_interval"] == 0


def test_scenario_from_levers_sets_keys_validates_and_names() -> None:
    base = load_scenario(None)
    same = scenario_from_levers(base, {"hard": None, "soft": 0.6})
    assert same == base  # nothing differs: the base itself (same name)
    scn = scenario_from_levers(
        base, {"hard": 0.9, "soft": 0.1, "data_use": "judgement", "recruitment": "mandated"}
    )
    assert scn.name == "baseline+app"
    assert (scn.programme.tactics.hard, scn.programme.tactics.soft) == (0.9, 0.1)
    assert scn.programme.data.use == "judgement"
    assert scn.programme.recruitment.mode == "mandated"
    assert scn.sites == base.sites and scn.challenge == base.challenge
    with pytest.raises(ScenarioError, match=r"programme.tactics.hard = 1.5 is out of range"):
        scenario_from_levers(base, {"hard": 1.5})
    with pytest.raises(ScenarioError, match="unknown lever"):
        scenario_from_levers(base, {"hardness": 0.5})


def test_app_model_defaults_equal_the_base_scenario_run() -> None:
    """AppModel() with no levers is exactly CommunityModel(base scenario) stepped the same."""
    app = AppModel()
    plain = CommunityModel(scenario=app.base_scenario, root_seed=0)
    for _ in range(12):
        app.step()
        plain.step()
    np.testing.assert_array_equal(app.recorder.data["gap_true"], plain.recorder.data["gap_true"])
    assert app.recorder.site_series is not None
    assert np.isfinite(app.recorder.site_series[:12]).all()
    assert app.time == 12.0  # Mesa's clock, shown by SolaraViz as "Time: 12.0"


def test_app_model_is_rebuildable_by_mesa_reset() -> None:
    """SolaraViz rebuilds with type(model)(**params): keyword-only, every param accepted."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

    params = model_params()
    _check_model_params(AppModel(), params)  # raises on a missing or unknown parameter
    signature = inspect.signature(AppModel.__init__).parameters
    assert all(p.kind == p.KEYWORD_ONLY for n, p in signature.items() if n != "self")
    chosen = {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}
    chosen.update(hard=1.0, soft=0.0, n_sites=30, seed=7)
    kwargs = _build_model_init_kwargs(
        AppModel(), chosen, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    model = type(AppModel())(**kwargs)
    assert model.scn.programme.tactics.hard == 1.0 and model.scn.sites.n_sites == 30
    assert model.root_seed == 7 and model.n_sites == 30
    for lever in LEVERS:
        spec = params[lever.name]
        if lever.kind != "Select":
            assert spec["min"] <= spec["value"] <= spec["max"], lever.name


def test_slider_ranges_hold_large_scenarios() -> None:
    params = model_params(load_scenario("matching_michigan"))
    assert params["n_sites"]["value"] == 215 and params["n_sites"]["max"] == 215
    assert params["budget"]["value"] == 300 and params["budget"]["max"] == 5000
    assert params["base"].name == "matching_michigan"


def test_base_scenario_comes_from_the_environment() -> None:
    env = {"CCSIM_APP_SCENARIO": "keystone", "CCSIM_APP_SET": '["sites.n_sites=12"]'}
    scn = base_scenario_from_env(env)
    assert (scn.name, scn.sites.n_sites) == ("keystone", 12)
    assert base_scenario_from_env({}).name == "baseline"
    with pytest.raises(ScenarioError, match="CCSIM_APP_SET"):
        base_scenario_from_env({"CCSIM_APP_SET": "sites.n_sites=3"})


def test_network_layout_is_precomputed_and_sampled_for_big_scenarios() -> None:
    model = CommunityModel(scenario=load_scenario("matching_michigan"), make_agents=False)
    layout = network_layout(model)
    assert layout.sites.size == 40 and layout.n_programme_sites == 215 and layout.sampled
    assert layout.clinicians.size <= 40 * 24
    assert np.all(np.hypot(*layout.site_xy.T) <= 1.0)
    # peripheral sites sit outside the central ones
    r = np.hypot(*layout.site_xy.T)
    periph = model.sites.peripheral[layout.sites]
    assert r[periph].min() > r[~periph].max()
    # every drawn tie joins two drawn clinicians of the same site
    site = model.clinicians.site[layout.clinicians]
    assert np.all(site[layout.edges[:, 0]] == site[layout.edges[:, 1]])
    assert layout.edges.shape[0] > layout.clinicians.size  # a ring has one tie per node and more


def test_band_runs_replications_and_pairs_the_live_run() -> None:
    app = AppModel(n_sites=8)
    band = run_band(app.scn, seed=0, reps=5, key=app.settings_key)
    assert band.gaps.shape == (5, app.horizon)
    app.run()
    np.testing.assert_array_equal(band.gaps[0], app.recorder.data["gap_true"])  # rep 0 = live
    assert not np.array_equal(band.gaps[0], band.gaps[1])  # the other runs differ by chance
    q = band.quantiles()
    assert np.all(q[0] <= q[2]) and np.all(q[2] <= q[4])
    assert "gap at programme end" in band_text(band)
    assert BAND_REPS == 20


def test_hard_only_closes_faster_but_with_more_conflict() -> None:
    """The lesson the app's default comparison shows (lesson 8), over 10 paired runs."""
    base = load_scenario(None)
    soft = run_band(scenario_from_levers(base, {"hard": 0.0, "soft": 0.8}), reps=10)
    hard = run_band(scenario_from_levers(base, {"hard": 0.8, "soft": 0.0}), reps=10)
    assert np.median(hard.t50) < np.median(soft.t50)
    assert np.median(hard.conflict) > np.median(soft.conflict)


def test_figures_and_status_text_follow_the_model() -> None:
    model = AppModel(n_sites=10)
    assert status_text(model).startswith("Month 0 of 48")
    for _ in range(5):
        model.step()
    text = status_text(model)
    assert text.startswith("Month 5 of 48 (programme)") and "10 sites active" in text
    gap_line = gap_figure(model).axes[0].get_lines()[0]
    assert gap_line.get_xdata().size == 5
    np.testing.assert_allclose(gap_line.get_ydata(), 100 * model.recorder.data["gap_true"][:5])
    site_lines = [ln for ln in sites_figure(model).axes[0].get_lines() if len(ln.get_xdata()) == 5]
    assert len(site_lines) == 10
    assert len(conflict_figure(model).axes[0].get_lines()) == 3
    net = network_figure(model)
    assert "month 5" in net.axes[0].get_title(loc="left")
    band = run_band(model.scn, reps=3, key=model.settings_key)
    fig = band_figure(band, None, model)
    assert any("live run" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert describe_settings({"hard": 0.9}, {"hard": 0.4}) == "Hard tactics (intensity 0-1) 0.9"


def test_page_renders_and_steps_in_process() -> None:
    """Solara page in-process: a slider change takes effect on Reset; Step advances the model.

    (Only a browser test catches front-end failures; see test_app_browser.py.)
    """
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from sim.app.page import Page

    _box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    rc.find(v.Slider, label="Number of sites").widget.v_model = 12
    rc.find(v.Btn, children=["Reset"]).widget.click()
    step = rc.find(v.Btn, children=["Step"])
    for _ in range(2):
        step.widget.click()
    rc.find(v.Html, children=["Time: 2.0"]).assert_single()
    spans = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
    status = [s for s in spans if isinstance(s, str) and s.startswith("Month ")]
    assert status and "Month 2 of 48 (programme)" in status[0] and "of 12 sites" in status[0]
    rc.find(v.Btn, children=["Run 20 replications"]).widget.click()
    spans = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
    assert any(isinstance(s, str) and "gap at programme end" in s for s in spans)
    rc.close()


def _ccsim(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run ``ccsim app ARGS`` in-process (the command's own parser and error path)."""
    from sim.cli import main

    try:
        code = main(["app", *args])
    except SystemExit as exc:  # argparse errors exit from the parser
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nosuch"], "scenario file not found: 'nosuch'"),
        (["--port", "0"], "--port: must be in [1, 65535], got 0"),
        (["--port", "http"], "--port: expected a port number, got 'http'"),
        (["--set", "programme.tactics.hard=3"], "programme.tactics.hard = 3 is out of range"),
        (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid': unknown address"),
    ],
)
def test_app_command_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, err = _ccsim(capsys, *args, "--no-open")
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ccsim app: error:") and needle in err


def test_app_command_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        code, err = _ccsim(capsys, "--port", str(taken), "--no-open")
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{taken}" in err


def test_app_command_environment_and_server_line() -> None:
    from sim.commands.app import app_environment, solara_command

    env = app_environment("keystone", ["sites.n_sites=5"])
    assert Path(env["CCSIM_APP_SCENARIO"]) == (ROOT / "scenarios" / "keystone.toml").resolve()
    assert json.loads(env["CCSIM_APP_SET"]) == ["sites.n_sites=5"]
    cmd = solara_command("127.0.0.1", 8123, open_browser=False)
    assert cmd[1:5] == ["-m", "solara", "run", "sim.app.page"]
    assert cmd[cmd.index("--port") + 1] == "8123" and "--no-open" in cmd
