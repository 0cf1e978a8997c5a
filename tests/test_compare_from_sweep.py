"""``ccsim compare --from-sweep DIR --points I,J``: sweep points compared as paired designs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, TINY_TOML, ccsim, one_error_line

SWEEP = """name = "hardsw"
base = "tiny.toml"
set = ["programme.budget_per_site_month=1500"]
seed = 7
replications = 3
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
[parameters.dummy]
levels = [0.0, 1.0]
dummy = true
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2 x 2 grid sweep (hard 0.2/0.8 x a dummy), 3 replications, seed 7."""
    from sim.sweep import load_sweep, run_sweep

    here = tmp_path_factory.mktemp("sweep")
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / "sw.toml").write_text(SWEEP, encoding="utf-8")
    return run_sweep(load_sweep(here / "sw.toml"), here / "out", jobs=1, progress=False)


def test_points_run_exactly_as_in_the_sweep(sweep: Path, tmp_path: Path, capsys) -> None:
    import numpy as np

    from sim.rng import seed_label
    from sim.sweep import read_sweep

    out = tmp_path / "c"
    code, stdout, err = ccsim(
        capsys, "compare", "--from-sweep", sweep, "--points", "2, 0", "--reps", 4, "--out", out
    )
    assert code == 0, err
    runs = pd.read_parquet(out / "runs.parquet")
    rows = read_sweep(sweep)
    # grid order: the first parameter varies slowest (points 0, 1: hard 0.2; 2, 3: hard 0.8)
    assert rows.groupby("point")["programme.tactics.hard"].first().tolist() == [0.2, 0.2, 0.8, 0.8]
    metrics = sorted(set(runs.columns) & set(rows.columns) - {"replication", "seed"})
    assert len(metrics) > 40 and {"gap_auc", "cost_total", "t50_months"} <= set(metrics)
    for point in (2, 0):
        mine = runs[runs["design"] == f"point {point}"].set_index("replication").sort_index()
        # the sweep's 3 replications overlap compare's first 3 of 4, and are the same runs
        assert list(mine.index) == [0, 1, 2, 3]
        theirs = rows[rows["point"] == point].set_index("replication")
        for m in metrics:
            a, b = mine.loc[[0, 1, 2], m].to_numpy(), theirs[m].to_numpy()
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), m
        # common random numbers under the sweep's seed 7: design key 0, replication r
        assert mine["seed"].tolist() == [seed_label(7, r, 0) for r in range(4)]
    # the designs differ (hard 0.8 against 0.2), so the test does not pass by running one twice
    assert not runs[runs["design"] == "point 2"]["gap_auc"].equals(
        runs[runs["design"] == "point 0"]["gap_auc"].reset_index(drop=True)
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7 and manifest["crn"] is True
    scenarios = {d["name"]: d["scenario"] for d in manifest["designs"]}
    assert scenarios["point 2"]["programme"]["tactics"]["hard"] == 0.8
    assert scenarios["point 0"]["programme"]["tactics"]["hard"] == 0.2
    for s in scenarios.values():  # the sweep file's set and the base file's tiny community
        assert s["programme"]["budget_per_site_month"] == 1500
        assert s["sites"]["n_sites"] == 4
    assert "Paired comparison against point 2 (CRN)" in stdout  # the first point is the baseline
    assert "  point 2: programme.tactics.hard=0.8\n  point 0: programme.tactics.hard=0.2" in stdout
    assert "dummy" not in stdout
    md = (out / "comparison.md").read_text()
    assert "- point 0: programme.tactics.hard=0.2" in md
    assert "with set programme.budget_per_site_month=1500" in md


def test_baseline_by_index_seed_and_default_folder(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from sim.rng import seed_label

    monkeypatch.chdir(tmp_path)
    args = ["--points", "0,3", "--reps", 2, "--baseline", 3, "--seed", 99, *FAST]
    code, stdout, err = ccsim(capsys, "compare", "--from-sweep", sweep, *args)
    assert code == 0, err
    assert "Paired comparison against point 3 (CRN)" in stdout
    out = tmp_path / "results" / "compare_hardsw_points_0_3"
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(set(runs["seed"])) == sorted(seed_label(99, r, 0) for r in range(2))


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--points", "0,9"], ["no point(s) 9", "0..3"]),
        (["--points", "0,9,-1"], ["whole numbers separated by commas"]),
        (["--points", "1"], ["at least two points"]),
        (["--points", "1,2,1"], ["point(s) 1 given more than once"]),
        (["--points", "a,b"], ["--points 'a,b'", "whole numbers"]),
        (["--points", "1.5,2"], ["whole numbers"]),
        (["--points", ""], ["whole numbers"]),
        ([], ["--from-sweep needs --points"]),
        (["--points", "0,1", "baseline"], ["either SCENARIOs or --from-sweep, not both"]),
    ],
)
def test_bad_points_are_one_line(sweep: Path, capsys, args: list, needles: list) -> None:
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep, *args, *FAST)
    one_error_line(code, err, *needles)


def test_a_folder_that_is_no_sweep_is_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = ccsim(capsys, "compare", "--from-sweep", tmp_path, "--points", "0,1")
    one_error_line(code, err, "not a sweep folder", "ccsim sweep")
    code, _, err = ccsim(capsys, "compare", "--from-sweep", tmp_path / "no", "--points", "0,1")
    one_error_line(code, err, "no such folder")
    code, _, err = ccsim(capsys, "compare", "baseline", "soft_only", "--points", "0,1")
    one_error_line(code, err, "--points needs --from-sweep")


def test_point_scenario_is_the_point_command_scenario(sweep: Path) -> None:
    """The scenario compare runs equals the one ``ccsim run`` builds from point_command."""
    import shlex

    from sim.loader import load_scenario
    from sim.sweep.read import point_command, point_scenario

    scenario, values = point_scenario(sweep, 3)
    assert values == {"programme.tactics.hard": 0.8}
    words = shlex.split(point_command(sweep, 3))
    sets = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
    again = load_scenario(words[2], sets)
    assert scenario.model_dump(exclude={"name"}) == again.model_dump(exclude={"name"})


def test_a_failed_point_run_is_reproduced_from_the_manifest(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """No scenario file names the design, so the ``reproduce:`` command re-runs the manifest;
    without the fault it runs, and its row equals the sweep's (point 0, replication 1)."""
    import shlex

    from sim.experiment import FAULT_ENV
    from sim.sweep import read_sweep

    monkeypatch.setenv(FAULT_ENV, "point 0:1")
    out = tmp_path / "c"
    args = ["--points", "1,0", "--reps", 2, "--out", out, *FAST]
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep, *args)
    assert code == 1, err
    line = next(ln for ln in err.splitlines() if "reproduce:" in ln)
    words = shlex.split(line.split("reproduce:", 1)[1])
    assert words[:3] == ["ccsim", "--debug", "rerun"] and words[3] == str(out / "manifest.json")
    assert words[words.index("--design") + 1] == "point 0" and "--replication" in words
    monkeypatch.delenv(FAULT_ENV)
    words[words.index("--out") + 1] = str(tmp_path / "repro")
    code, _, err = ccsim(capsys, *words[1:], "--quiet")
    assert code == 1, err  # 1: the original runs.parquet lacks the failed run it re-made
    again = pd.read_parquet(tmp_path / "repro" / "runs.parquet").iloc[0]
    row = read_sweep(sweep).query("point == 0 and replication == 1").iloc[0]
    assert (again["design"], again["seed"]) == ("point 0", row["seed"])
    assert again["gap_auc"] == row["gap_auc"] and again["cost_total"] == row["cost_total"]
