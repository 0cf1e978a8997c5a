"""Sweeps: samplers, sweep files, chunked streaming, a known direction, Sobol's dummy, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.loader import ScenarioError
from sim.sweep import SweepError, load_sweep, make_design, read_sweep, run_sweep
from sim.sweep.samplers import grid_design, lhs_design, morris_design, sobol_design
from sim.sweep.sensitivity import point_outcome, sobol_indices

# A small, fast community: 6 sites, 12 months of support, 6 of follow-up.
HEAD = """
base = "baseline"
set = ["sites.n_sites=6", "time.programme_months=12", "time.followup_months=6"]
outcomes = ["gap_auc", "t50_restricted_months", "window_months"]
seed = 3
"""


def _file(tmp_path: Path, body: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body)
    return path


def test_samplers_shapes_and_strata() -> None:
    grid = grid_design([[1, 2], [10, 20, 30]])
    assert grid.tolist() == [[1, 10], [1, 20], [1, 30], [2, 10], [2, 20], [2, 30]]
    x = lhs_design(np.array([[0.0, 1.0], [10.0, 20.0]]), 8, seed=1)
    # Latin hypercube: each of the 8 equal strata of every axis holds exactly one point
    assert sorted(np.floor(x[:, 0] * 8).astype(int)) == list(range(8))
    assert sorted(np.floor((x[:, 1] - 10) / 10 * 8).astype(int)) == list(range(8))
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    assert sobol_design(problem, 8, seed=1).shape == (8 * (3 + 2), 3)  # Saltelli, no 2nd order
    assert morris_design(problem, 4, 4, seed=1).shape == (4 * (3 + 1), 3)


def test_sweep_file_errors_are_one_line(tmp_path) -> None:
    bad_key = _file(tmp_path, '[parameters."programme.tactics.hardd"]\nrange = [0, 1]\n')
    with pytest.raises(SweepError, match=r"did you mean 'programme\.tactics\.hard'"):
        load_sweep(bad_key)
    out_of_range = _file(tmp_path, '[parameters."programme.tactics.hard"]\nrange = [0, 2]\n')
    with pytest.raises(ScenarioError, match=r"hard = 2\.0 is out of range \[0, 1\]"):
        load_sweep(out_of_range)
    bad_design = _file(tmp_path, 'design = "factorial"\n[parameters.dummy]\nrange=[0,1]\n')
    with pytest.raises(SweepError, match="grid, lhs, sobol, morris"):
        load_sweep(bad_design)
    bad_outcome = _file(tmp_path, "[parameters.dummy]\nlevels = [0, 1]\ndummy = true\n")
    bad_outcome.write_text(bad_outcome.read_text().replace('"gap_auc",', '"gap_aucc",'))
    with pytest.raises(SweepError, match=r"unknown outcome\(s\) \['gap_aucc'\]"):
        run_sweep(load_sweep(bad_outcome), tmp_path / "bad", progress=False)


def test_grid_sweep_recovers_budget_direction(tmp_path) -> None:
    # More budget per site buys facilitation and protected time, which raise the push to adopt
    # (docs/ODD.md, allocation), so the gap area falls with budget; tests/test_patterns.py
    # checks the same direction between two designs. With common random numbers across points
    # the point means differ by the lever's effect, not by seed noise.
    path = _file(
        tmp_path,
        'replications = 3\n[parameters."programme.budget_per_site_month"]\n'
        "levels = [250, 1000, 4000]\n",
    )
    run_sweep(load_sweep(path), tmp_path / "out", jobs=1, progress=False)
    runs = read_sweep(tmp_path / "out")
    means = runs.groupby("programme.budget_per_site_month")["gap_auc"].mean()
    assert means.index.tolist() == [250, 1000, 4000]
    assert (np.diff(means.to_numpy()) < 0).all(), means


def test_chunked_output_equals_unchunked(tmp_path) -> None:
    path = _file(
        tmp_path,
        'design = "lhs"\nsamples = 7\nreplications = 2\n'
        '[parameters."programme.tactics.soft"]\nrange = [0, 1]\n'
        '[parameters."sites.n_sites"]\nrange = [4, 8]\n',
    )
    path.write_text(path.read_text().replace('"sites.n_sites=6", ', ""))  # n_sites is swept
    spec = load_sweep(path)
    run_sweep(spec, tmp_path / "one", jobs=1, chunk_points=100, progress=False)
    run_sweep(spec, tmp_path / "many", jobs=2, chunk_points=2, progress=False)
    one, many = read_sweep(tmp_path / "one"), read_sweep(tmp_path / "many")
    assert len(list((tmp_path / "many" / "runs").glob("part-*.parquet"))) == 4
    assert len(one) == 14 and one["sites.n_sites"].dtype.kind == "i"  # integers rounded
    pd.testing.assert_frame_equal(one, many)


def test_sobol_dummy_parameter_has_no_effect(tmp_path) -> None:
    path = _file(
        tmp_path,
        'design = "sobol"\nsamples = 16\nreplications = 1\n'
        '[parameters."programme.budget_per_site_month"]\nrange = [250, 4000]\n'
        '[parameters."programme.tactics.soft"]\nrange = [0, 1]\n'
        "[parameters.dummy]\nrange = [0, 1]\ndummy = true\n",
    )
    spec = load_sweep(path)
    run_sweep(spec, tmp_path / "sobol", jobs=2, progress=False)
    n_points = len(make_design(spec))
    y = point_outcome(read_sweep(tmp_path / "sobol"), "gap_auc", n_points)
    idx = sobol_indices(spec.problem(), y).set_index("parameter")
    # The model never reads the dummy and every point uses the same seeds (CRN), so rows that
    # differ only in the dummy give identical outputs: its estimators' numerators are sums of
    # exact zeros. Any bound above float rounding would hide a column mix-up.
    assert abs(idx.loc["dummy", "ST"]) < 1e-9
    assert abs(idx.loc["dummy", "S1"]) < 1e-9
    # budget is a real lever (see the direction test): clearly above any noise
    assert idx.loc["programme.budget_per_site_month", "ST"] > 0.1


def test_sweep_and_sensitivity_cli(tmp_path) -> None:
    path = _file(
        tmp_path,
        'replications = 1\nsamples = 3\n[parameters."programme.tactics.soft"]\n'
        'levels = [0.2, 0.8]\n[parameters."programme.tactics.hard"]\nlevels = [0.2, 0.8]\n',
    )
    out = tmp_path / "grid"
    assert main(["sweep", str(path), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert "| programme.tactics.soft |" in (out / "sweep.md").read_text()
    assert (out / "figures" / "heatmap_gap_auc.png").is_file()
    # a categorical parameter has no range for a sensitivity method; Sobol needs N = 2^k
    words = '[parameters."programme.data.use"]\nlevels = ["learning", "judgement"]\n'
    words = _file(tmp_path, words, "w.toml")
    assert main(["sensitivity", str(words), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert main(["sensitivity", str(path), "--samples", "3", "--out", str(tmp_path / "t")]) == 2
    path.write_text(path.read_text().replace("levels = [0.2, 0.8]", "range = [0.2, 0.8]"))
    out = tmp_path / "morris"
    args = ["sensitivity", str(path), "--method", "morris", "--out", str(out), "--quiet"]
    assert main([*args, "--jobs", "1"]) == 0
    assert "Top levers by mu_star" in (out / "sensitivity.md").read_text()
    assert len(pd.read_parquet(out / "sensitivity_morris_gap_auc.parquet")) == 2
    assert main([*args, "--outcome", "sustainment"]) == 2  # not kept by the sweep
