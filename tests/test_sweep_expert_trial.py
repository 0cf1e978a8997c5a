"""Regressions from an ABM expert's trial of sweep inputs (one-line errors, exit code 2).

Nothing here runs the model: every file is refused while it is read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, ccsim, one_error_line

HEAD = 'name = "t"\nbase = "baseline"\nreplications = 1\n'
HARD = '[parameters."programme.tactics.hard"]\n'
SOFT = '[parameters."programme.tactics.soft"]\n'


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        # a 1e10-point grid used to be built in memory (the process was killed)
        (
            HARD + "range = [0, 1]\nsteps = 100000\n" + SOFT + "range = [0, 1]\nsteps = 100000\n",
            ["a grid of 100000 x 100000 levels = 10,000,000,000 points", "limit of 10,000,000"],
        ),
        # one huge steps used to end in numpy's ArrayMemoryError traceback
        (HARD + "range = [0, 1]\nsteps = 1000000000000\n", ["1,000,000,000,000 points"]),
        # parameters = 3 used to be an AttributeError traceback
        ("parameters = 3\n", ["parameters = 3: must be tables", '[parameters."<dotted.key>"]']),
        # an odd morris_levels used to run with SALib's "sample may be biased" UserWarning
        (
            'design = "morris"\nmorris_levels = 3\n' + HARD + "range = [0, 1]\n",
            ["morris_levels = 3: must be an even number", "use 4"],
        ),
        # a table used to get "did you mean 'programme.data.use'?"
        (
            '[parameters."programme.tactics"]\nrange = [0, 1]\n',
            [
                "parameter 'programme.tactics' is a table of the scenario (2 keys), not one value",
                "vary one of its keys: programme.tactics.hard, programme.tactics.soft",
            ],
        ),
        # outcomes = [] used to fail later as "not kept by the sweep file's outcomes ()"
        ("outcomes = []\n" + HARD + "levels = [0, 1]\n", ["outcomes = []: list the metrics"]),
        # a repeated outcome used to be accepted (and analysed twice)
        (
            'outcomes = ["gap_auc", "t50_months", "gap_auc"]\n' + HARD + "levels = [0, 1]\n",
            ["outcomes lists 'gap_auc' more than once"],
        ),
        # a malformed item of the file's set used to be reported as a --set option, no file
        (
            'set = ["programme.tactics.soft"]\n' + HARD + "levels = [0, 1]\n",
            ['t.toml: set = ["programme.tactics.soft"]: each item is "dotted.key=value"'],
        ),
        # steps with levels used to be ignored silently
        (HARD + "levels = [0, 1]\nsteps = 3\n", ["steps = 3 goes with range", "not with levels"]),
    ],
)
def test_bad_sweep_inputs_are_one_line(tmp_path: Path, capsys, body: str, needles: list) -> None:
    path = _file(tmp_path, body)
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, *needles)
    assert not (tmp_path / "o").exists()


def test_grid_at_the_limit_is_not_refused_for_its_size(tmp_path: Path) -> None:
    from sim.sweep import load_sweep

    body = HARD + "range = [0, 1]\nsteps = 1000\n" + SOFT + "range = [0, 1]\nsteps = 10000\n"
    assert len(load_sweep(_file(tmp_path, body)).parameters) == 2  # 10,000,000 points: allowed


@pytest.mark.parametrize("samples", ["17179869184", "99999999999"])
def test_sensitivity_samples_over_the_files_limit_is_one_line(
    tmp_path: Path, capsys, samples: str
) -> None:
    # a power of two used to build a sample of 2**34 x 3 rows; another suggested "try 2**37"
    path = _file(tmp_path, HARD + "range = [0, 1]\n")
    code, _, err = ccsim(
        capsys, "sensitivity", path, "--samples", samples, "--out", tmp_path / "o", *FAST
    )
    line = one_error_line(code, err, f"--samples {samples}: must be in [1, 10000000]")
    assert "try" not in line


# ------------------------------------------------------------------ heatmap of a 3-lever grid


def test_heatmap_title_names_the_parameters_it_averages_over(tmp_path: Path, monkeypatch) -> None:
    import json

    from cli_helpers import TINY

    import sim.sweep.plots as sweep_plots
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep.report import summarise_sweep

    body = (
        f"set = {json.dumps(TINY)}\n"
        + HARD
        + "levels = [0.2, 0.8]\n"
        + SOFT
        + "levels = [0.2, 0.8]\n"
        + '[parameters."programme.community.events_per_year"]\nlevels = [0, 12]\n'
        + "[parameters.dummy]\nlevels = [0, 1]\ndummy = true\n"
    )
    spec, out = load_sweep(_file(tmp_path, body)), tmp_path / "o"
    run_sweep(spec, out, jobs=1)
    titles: list[str] = []
    real = sweep_plots.heatmap

    def spy(*args, **kwargs):
        fig = real(*args, **kwargs)
        titles.append(fig.axes[0].get_title())
        return fig

    monkeypatch.setattr(sweep_plots, "heatmap", spy)
    summarise_sweep(spec, out, ["gap_auc"])
    assert len(titles) == 1
    assert titles[0].endswith("averaged over programme.community.events_per_year"), titles
    # two levers only: nothing else to average over, the title is as before
    plain = real(
        pd.read_parquet(next((out / "runs").glob("*.parquet"))), *spec.names[:2], "gap_auc"
    )
    assert "averaged" not in plain.axes[0].get_title()


# ------------------------------------------------------------------ labels of restricted times


def test_restricted_times_are_labelled_as_times_not_column_names(tmp_path: Path, capsys) -> None:
    import json

    from cli_helpers import TINY

    from sim.sweep.sensitivity import outcome_label

    assert outcome_label("t50_restricted_months") == (
        "T50 (months to close half the gap), restricted: not reached = horizon"
    )
    assert outcome_label("gap_auc") == "Gap area after start (gap-months)"
    body = f"set = {json.dumps(TINY)}\n" + HARD + "levels = [0.2, 0.8]\n"
    out = tmp_path / "o"
    code, _, err = ccsim(
        capsys, "sweep", _file(tmp_path, body), "--out", out, "--outcome", "t50_months", *FAST
    )
    assert code == 0, err
    report = (out / "sweep.md").read_text()
    assert report.startswith("# Sweep t: T50 (months to close half the gap), restricted"), report
    assert "# Sweep t: t50_restricted_months" not in report


# ------------------------------------------------------------------ docs/interop.md, EMA tables


def test_interop_ema_tables_snippet_runs_on_a_sweep_folder(tmp_path: Path) -> None:
    import json
    import re

    from cli_helpers import ROOT, TINY

    from sim.sweep import load_sweep, run_sweep

    text = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    section = text.split("## A finished sweep as experiments and outcomes", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    body = (
        f"set = {json.dumps(TINY)}\n" + HARD + "levels = [0.2, 0.8]\n" + SOFT + "range = [0, 1]\n"
    )
    out = tmp_path / "o"
    run_sweep(load_sweep(_file(tmp_path, body)), out, jobs=1)
    assert 'Path("results/sweep_budget_x_soft")' in code
    scope: dict = {}
    exec(code.replace('"results/sweep_budget_x_soft"', repr(str(out))), scope)
    levers = ["programme.tactics.hard", "programme.tactics.soft"]
    assert scope["levers"] == levers
    assert list(scope["experiments"].columns) == ["point", "replication", "seed", *levers]
    assert len(scope["experiments"]) == 10 and "gap_auc" in scope["outcomes"]
    assert len(scope["outcomes"]["gap_auc"]) == 10 and len(scope["point_means"]) == 10


# ------------------------------------------------------------------ levers labelled in words


def test_sensitivity_bars_say_what_each_lever_is() -> None:
    from sim.sweep.plots import indices_bars, lever_label

    assert lever_label("programme.tactics.hard") == (
        "programme.tactics.hard\ntargets, mandates, performance\nmanagement (intensity)"
    )
    assert lever_label("dummy") == "dummy"  # not a scenario key: the name alone
    indices = pd.DataFrame(
        {"parameter": ["programme.tactics.hard", "dummy"], "mu": [1.0, 0.0]}
        | {"mu_star": [1.0, 0.0], "mu_star_conf": [0.1, 0.0], "sigma": [0.5, 0.0]}
    )
    fig = indices_bars(indices, "morris", "gap_auc")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["dummy", lever_label("programme.tactics.hard")]


# ------------------------------------------------------------------ which settings differ


def test_refused_folder_names_the_settings_that_differ(tmp_path: Path, capsys) -> None:
    import json

    from cli_helpers import TINY

    body = f"set = {json.dumps(TINY)}\n" + HARD + "levels = [0.2, 0.8]\n"
    out = tmp_path / "o"
    keep = 'outcomes = ["gap_auc", "window_months"]\n'
    code, stdout, err = ccsim(capsys, "sweep", _file(tmp_path, keep + body), "--out", out, *FAST)
    assert code == 0, err
    # the cost is printed before the first run, as by ccsim sensitivity (even with --quiet)
    assert stdout.startswith("grid: 2 points x 1 replications = 2 runs\n"), stdout
    # another outcome kept: the refusal says why the runs cannot be reused
    more = 'outcomes = ["gap_auc", "window_months", "sustainment"]\n'
    code, _, err = ccsim(capsys, "sweep", _file(tmp_path, more + body), "--out", out, *FAST)
    one_error_line(
        code, err, "different sweep (settings that differ: outcomes;", "leave out outcomes"
    )
    # another seed
    path = _file(tmp_path, keep + "seed = 9\n" + body)
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    one_error_line(code, err, "different sweep (settings that differ: seed)")


# ------------------------------------------------------------------ re-create one sweep point


def test_point_command_recreates_a_sweep_point_exactly(tmp_path: Path, capsys) -> None:
    import json
    import shlex

    from cli_helpers import TINY

    from sim.sweep import load_sweep, point_command, read_sweep, run_sweep

    body = (
        f"set = {json.dumps([t for t in TINY if not t.startswith('sites.n_sites')])}\n"
        'seed = 3\nreplications = 2\ndesign = "lhs"\nsamples = 3\n'
        + HARD
        + 'range = [0, 1]\n[parameters."sites.n_sites"]\nrange = [3.5, 6.5]\n'
        + "[parameters.dummy]\nrange = [0, 1]\ndummy = true\n"
    )
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\nbase = "baseline"\n' + body, encoding="utf-8")
    out = tmp_path / "o"
    run_sweep(load_sweep(path), out, jobs=1)
    line = point_command(out, 1, replication=1)
    assert line.startswith("ccsim run ") and "--replication 1" in line and "dummy" not in line
    args = [*shlex.split(line)[1:], "--out", tmp_path / "r", *FAST]
    code, _, err = ccsim(capsys, *args)
    assert code == 0, err
    again = pd.read_parquet(tmp_path / "r" / "runs.parquet").iloc[0]
    row = read_sweep(out).query("point == 1 and replication == 1").iloc[0]
    for column in ("seed", "gap_auc", "gap_followup_end", "cost_total", "sites_improved_share"):
        assert again[column] == row[column], column
    with pytest.raises(ValueError, match="no point 7"):
        point_command(out, 7)
    with pytest.raises(ValueError, match=r"replication 2: the sweep ran 0\.\.1"):
        point_command(out, 0, 2)


# ------------------------------------------------------------------ text settings in a sweep

TEXT = '[parameters."programme.data.use"]\nlevels = ["learning", "judgement"]\n'


def test_sweep_report_gives_each_text_level_its_mean(tmp_path: Path, capsys) -> None:
    import json

    from cli_helpers import TINY

    from sim.sweep import load_sweep, read_sweep
    from sim.sweep.report import text_levels

    body = f"set = {json.dumps(TINY)}\n" + TEXT + HARD + "levels = [0.2, 0.8]\n"
    out = tmp_path / "o"
    code, stdout, err = ccsim(capsys, "sweep", _file(tmp_path, body), "--out", out, *FAST)
    assert code == 0, err
    runs = read_sweep(out)
    expected = runs.groupby("point").agg({"gap_auc": "mean", "programme.data.use": "first"})
    expected = expected.groupby("programme.data.use")["gap_auc"].mean()
    levels = text_levels(runs, load_sweep(tmp_path / "t.toml"), "gap_auc")
    assert list(levels["level"]) == ["learning", "judgement"]
    assert list(levels["points"]) == [2, 2]
    assert levels.set_index("level")["mean"].to_dict() == pytest.approx(expected.to_dict())
    report = (out / "sweep.md").read_text()
    assert "## Text settings (mean of gap_auc at each level, over the other parameters)" in report
    assert f"| programme.data.use | judgement | {expected['judgement']:.4g} | 2 |" in report
    assert "## Text settings" in stdout


@pytest.mark.parametrize(("command", "extra"), [("sensitivity", []), ("sweep", ["lhs"])])
def test_text_setting_in_a_sampled_design_says_why(
    tmp_path: Path, capsys, command: str, extra: list
) -> None:
    design = f'design = "{extra[0]}"\n' if extra else ""
    path = _file(tmp_path, design + TEXT + HARD + "range = [0, 1]\n")
    args = ["--samples", "32"] if command == "sensitivity" else []
    code, _, err = ccsim(capsys, command, path, *args, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, "programme.data.use: text levels cannot be sampled by", "grid")


@pytest.mark.parametrize("name", ['"../../x"', '"a/b"', "5", '""'])
def test_sweep_name_must_be_able_to_name_a_folder(tmp_path: Path, capsys, name: str) -> None:
    # name = "../../x" used to be accepted, making the default folder results/sweep_../../x
    path = tmp_path / "n.toml"
    path.write_text(f'name = {name}\nbase = "baseline"\n' + HARD + "levels = [0, 1]\n")
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, "n.toml: name = ", "must be text without / or \\")


def test_a_rerun_in_a_finished_folder_says_it_reuses_the_runs(tmp_path: Path, capsys) -> None:
    """Running the same sweep again into its folder reuses every finished run: it used to say
    nothing but a full progress bar; now a note says so (and that --overwrite runs them again)."""
    path = _file(tmp_path, HARD + "levels = [0, 1]\n")
    out = tmp_path / "o"
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0 and "note:" not in err  # a fresh folder: nothing to say
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0
    assert "note: all" in err and "already in" in err and "--overwrite runs them all again" in err
