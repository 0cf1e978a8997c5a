"""Five small defects from user trials: a refused sweep printed its run count first; the
seed-noise paragraph gave 4 significant figures; site_trajectories.png counted absolute months;
compare's cost axes named no unit; docs/outputs.md listed five cost columns out of order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import TINY, ccsim, one_error_line, tiny_sweep

from sim.results import folder_lock

SWEEP = tiny_sweep(replications=1, samples=2)
QUIET = ["--jobs", "1", "--quiet", "--no-figures"]
COMMANDS = (["sweep"], ["sensitivity", "--method", "morris"])
COST = {  # docs/sweeps.md: a range on a grid is 5 steps; Morris makes samples x (d + 1) points
    "sweep": "grid: 5 points x 1 replications = 5 runs",
    "sensitivity": "morris, r = 2: 4 points x 1 replications = 4 runs",
}


# ------------------------------------------------------------------ 1: refuse before printing


@pytest.mark.parametrize("command", COMMANDS, ids=["sweep", "sensitivity"])
def test_a_refused_sweep_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    """The "... = N runs" line used to come before the folder was refused."""
    path = tmp_path / "levers.toml"
    path.write_text(SWEEP, encoding="utf-8")
    run_folder = tmp_path / "run"  # a `ccsim run` result: refused with or without --overwrite
    run_folder.mkdir()
    manifest = {"tool": "ccsim", "command": ["ccsim", "run"]}
    (run_folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for extra in ([], ["--overwrite"]):
        code, out, err = ccsim(capsys, *command, path, "--out", run_folder, *QUIET, *extra)
        one_error_line(code, err, "holds a `ccsim run` result")
        assert out == ""

    sweep_folder = tmp_path / "sweep"
    code, out, err = ccsim(capsys, *command, path, "--out", sweep_folder, *QUIET)
    assert code == 0, err
    assert out.splitlines()[0] == COST[command[0]]  # accepted: the line is still said, first

    other = tmp_path / "other.toml"  # another seed: another sweep, refused without --overwrite
    other.write_text(SWEEP.replace("seed = 3", "seed = 4"), encoding="utf-8")
    code, out, err = ccsim(capsys, *command, other, "--out", sweep_folder, *QUIET)
    one_error_line(code, err, "holds results of a different sweep", "seed")
    assert out == ""
    code, out, err = ccsim(capsys, *command, path, "--out", sweep_folder, *QUIET,
                           "--chunk-points", "5")  # fmt: skip
    one_error_line(code, err, "saved with --chunk-points")
    assert out == ""
    with folder_lock(sweep_folder):  # another ccsim command is writing there
        code, out, err = ccsim(capsys, *command, path, "--out", sweep_folder, *QUIET)
    one_error_line(code, err, "another ccsim command")
    assert out == ""


# ------------------------------------------------------------------ 2: seed-noise figures


def test_the_seed_noise_paragraph_gives_three_significant_figures() -> None:
    from sim.sweep.seed_noise import SeedNoise, noise_text

    text = noise_text(SeedNoise(2, 0.17, 0.32437, 0.54912), "morris")
    assert "sd 0.324 " in text and "mu_star ~ 0.549 " in text  # not 0.3244, 0.5491
    costs = noise_text(SeedNoise(4, 0.5, 12480.4, 31622.8), "morris")
    assert "sd 12,480 " in costs and "mu_star ~ 31,623 " in costs  # not 1.248e+04
    sobol = noise_text(SeedNoise(4, 0.5, 0.0123456, 0.0312), "sobol")
    assert "sd 0.0123 " in sobol and "ST ~ 0.031 " in sobol  # a share: as the dummy's ST


# ------------------------------------------------------------------ 3: site trajectories


def _site_series(design: str, months: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "design": design,
            "replication": 0,
            "month": np.repeat(np.arange(months), 2),
            "site": np.tile([0, 1], months),
            "adherence": 0.5,
            "peripheral": np.tile([False, True], months),
            "arm": "programme",
        }
    )


def test_site_trajectories_count_months_from_programme_start_as_the_gap_curve() -> None:
    from sim import plots

    # 3 baseline months, 6 of support, 3 of follow-up: months -3 .. 8 after the start
    ss = pd.concat([_site_series("a", 12), _site_series("b", 10)], ignore_index=True)
    fig = plots.site_trajectories(ss, programme_start={"a": 3, "b": 1}, programme_end={"a": 9})
    a, b = (ax for ax in fig.axes if ax.get_visible())
    assert a.get_xlim() == (-3.0, 8.0)  # shared: b's months -1 .. 8 fall inside
    first = [seg[0][0] for c in a.collections for seg in c.get_segments()]
    assert first == [-3.0, -3.0]
    assert [seg[0][0] for c in b.collections for seg in c.get_segments()] == [-1.0, -1.0]
    vertical = {ax: sorted(ln.get_xdata()[0] for ln in ax.lines) for ax in (a, b)}
    assert vertical == {a: [0.0, 6.0], b: [0.0]}  # start at 0, support ends after 6 months
    # the lines carry the gap curve's words
    assert sorted(t.get_text() for t in a.texts) == ["programme starts", "support ends"]

    series = pd.DataFrame(
        {
            "design": "a",
            "replication": 0,
            "month_in_programme": np.arange(-3, 9),
            "gap_true": np.linspace(1.0, 0.2, 12),
            "gap_reported": np.linspace(1.0, 0.2, 12),
        }
    )
    gap = plots.gap_curve(series)
    xlabel = gap.axes[0].get_xlabel()
    assert xlabel == "months since programme start (negative = baseline)"
    assert [ax.get_xlabel() for ax in (a, b)] == [xlabel, xlabel]


# ------------------------------------------------------------------ 4: cost axes' unit


def test_compare_cost_axes_name_the_currency_as_runs_parquet_does() -> None:
    from sim.compare.plots import cost_effectiveness, forest

    metrics = ["t50_months", "cost_total", "cost_per_gap_point"]
    table = pd.DataFrame(
        {
            "design": "b",
            "metric": metrics,
            "diff_mean": [1.0, -2000.0, 50.0],
            "ci_low": [0.5, -3000.0, -10.0],
            "ci_high": [1.5, -1000.0, 110.0],
            "p_better": [0.1, 0.9, 0.4],
        }
    )
    titles = [ax.get_title() for ax in forest(table, "a").axes if ax.get_visible()]
    assert titles == [
        "T50 (months)\n(better to the left)",
        "total cost\n(currency; better to the left)",
        "cost per point of gap closed by programme end\n(currency; better to the left)",
    ]
    runs = pd.DataFrame(
        {"design": ["a", "b"], "cost_total": [1e6, 2e6], "gap_programme_end": [0.5, 0.4]}
    )
    xlabel = cost_effectiveness(runs, ["a", "b"]).axes[0].get_xlabel()
    # docs/outputs.md gives cost_total's unit as "currency"
    assert xlabel == "total cost (currency)"


# ------------------------------------------------------------------ 5: runs.parquet order


def test_outputs_md_lists_the_runs_columns_in_the_order_of_the_file() -> None:
    from sim import outputs_doc
    from sim.loader import load_scenario
    from sim.replicate import replication_tables

    row = replication_tables(load_scenario(None, TINY), "tiny", 0, 0, 1, 0)["runs"]
    documented = [c.name for c in outputs_doc.runs_columns()]
    assert documented == list(row)
    start = documented.index("cost_total")
    assert documented[start : start + 6] == [  # as run_metrics: costs, then their breakdown
        "cost_total",
        "cost_per_gap_point",
        "cost_per_event_avoided",
        "cost_core_team",
        "cost_sites",
        "funded_site_months",
    ]
    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text("utf-8")
    runs_table = text.split("## `runs.parquet`")[1].split("## ")[0]
    listed = [line.split("`")[1] for line in runs_table.splitlines() if line.startswith("| `")]
    assert listed == documented


def test_summary_says_where_the_replications_ran(tmp_path: Path) -> None:
    """summary.md gave the processes (--jobs) but not the back end or cluster (a researcher's
    scale-out trial): a local run names loky and this machine, as its manifest does."""
    from sim.cli import main

    out = tmp_path / "r"
    assert main(["run", "--reps", "2", "--out", str(out), "--quiet", "--no-figures"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["backend"], manifest["cluster"]) == ("loky", "this machine")
    assert "- back end: loky (this machine)\n" in (out / "summary.md").read_text()
