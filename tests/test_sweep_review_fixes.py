"""Regressions for a code review of sweeps and sensitivity analysis.

Bad values and names in a sweep file are one error line (exit 2), whole-number ranges follow
one rule, a file of dummies ranks nothing, an undefined or constant outcome says so, and the
command that finishes or re-runs a folder has one builder. Every sweep here is tiny.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, TINY, ccsim, one_error_line

from sim.sweep import IncompleteSweepWarning, SweepError, load_sweep, read_sweep
from sim.sweep.commandline import resume_command, sweep_command

N_SITES = [s for s in TINY if not s.startswith("sites.n_sites")]


def _file(tmp_path: Path, body: str, sets: list[str] = TINY) -> Path:
    head = (
        f'name = "r"\nbase = "baseline"\nset = {json.dumps(sets)}\nseed = 2\n'
        'outcomes = ["gap_auc", "window_months"]\n'
    )
    path = tmp_path / "r.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def _refused(tmp_path: Path, capsys, body: str, *needles: str, sets: list[str] = TINY) -> str:
    path = _file(tmp_path, body, sets)
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    line = one_error_line(code, err, str(path), *needles)
    assert not (tmp_path / "o").exists()
    return line


# ------------------------------------------------------------------ 1: values of each kind


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("levels = [4, inf]", "levels = [4, inf]: inf is not a finite number"),
        ("range = [4, inf]", "range = [4, inf]: inf is not a finite number"),
        ("levels = [4, nan]", "levels = [4, nan]: nan is not a finite number"),
        ("range = [nan, 6]", "range = [nan, 6]: nan is not a finite number"),
        ('levels = ["a", "b"]', 'levels = ["a", "b"]: "a", "b" are not finite numbers'),
        ("levels = [4, true]", "levels = [4, true]: true is not a finite number"),
        ("range = [true, 6]", "range = [true, 6]: true is not a finite number"),
    ],
)
def test_a_whole_number_key_takes_finite_numbers_only(
    tmp_path: Path, capsys, table: str, needle: str
) -> None:
    body = f'[parameters."sites.n_sites"]\n{table}\n'
    line = _refused(tmp_path, capsys, body, needle, sets=N_SITES)
    assert line.endswith("(sites.n_sites takes numbers)")


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('[parameters."programme.tactics.soft"]\nlevels = [0.2, inf]', "inf is not a finite"),
        ('[parameters."programme.tactics.soft"]\nrange = [0.0, nan]', "nan is not a finite"),
        ('[parameters."programme.tactics.soft"]\nlevels = [false, 0.5]', "false is not a fin"),
        ("[parameters.d]\ndummy = true\nlevels = [1, true]", "(a dummy's levels are all numbers"),
        ('[parameters.d]\ndummy = true\nlevels = [1, "a"]', '"a" is not a finite number'),
        ("[parameters.d]\ndummy = true\nrange = [0, inf]", "inf is not a finite number"),
        ('[parameters."programme.data.use"]\nlevels = [1, 2]', "1, 2 are not text"),
    ],
)
def test_every_key_takes_values_of_its_own_kind(
    tmp_path: Path, capsys, table: str, needle: str
) -> None:
    _refused(tmp_path, capsys, table + "\n", needle)


def test_text_levels_and_a_dummy_of_text_still_load(tmp_path: Path) -> None:
    body = (
        '[parameters."programme.data.use"]\nlevels = ["learning", "judgement"]\n'
        '[parameters.d]\ndummy = true\nlevels = ["x", "y"]\n'
    )
    spec = load_sweep(_file(tmp_path, body))
    assert [p.levels for p in spec.parameters] == [("learning", "judgement"), ("x", "y")]


# ------------------------------------------------------------------ 2: whole-number ranges


def test_grid_steps_hint_is_the_largest_count_with_distinct_whole_numbers(
    tmp_path: Path, capsys
) -> None:
    body = '[parameters."sites.n_sites"]\nrange = [4.5, 6.5]\nsteps = 3\n'
    line = _refused(tmp_path, capsys, body, "gives repeated whole numbers [4, 6, 6]", sets=N_SITES)
    assert "use steps = 2 (the largest that gives distinct ones: [4, 6])" in line
    assert "<= 3" not in line
    # the advice works: steps = 2 loads, and gives those two distinct numbers
    spec = load_sweep(_file(tmp_path, body.replace("steps = 3", "steps = 2"), N_SITES))
    assert spec.parameters[0].grid_levels() == [4, 6]


@pytest.mark.parametrize("design", ["grid", "lhs", "morris"])
def test_a_whole_number_range_must_hold_two_whole_numbers(
    tmp_path: Path, capsys, design: str
) -> None:
    body = f'design = "{design}"\n[parameters."sites.n_sites"]\nrange = [2.5, 3.5]\nsteps = 2\n'
    needle = "range = [2.5, 3.5] holds only the whole number 3"
    _refused(tmp_path, capsys, body, needle, sets=N_SITES)  # passed before: ends round to 2, 4
    # two whole numbers inside: loads
    spec = load_sweep(_file(tmp_path, body.replace("[2.5, 3.5]", "[3, 4]"), N_SITES))
    assert (spec.parameters[0].low, spec.parameters[0].high) == (3.0, 4.0)


# ------------------------------------------------------------------ 3: reserved names


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("seed", "the replication's seed label"),
        ("replication", "the replication"),
        ("point", "the design point"),
        ("gap_auc", "a run metric"),
        ("window_months", "a run metric"),
    ],
)
def test_a_parameter_may_not_take_the_name_of_a_run_column(
    tmp_path: Path, capsys, name: str, what: str
) -> None:
    body = (
        '[parameters."programme.tactics.soft"]\nlevels = [0.2, 0.8]\n'
        f"[parameters.{name}]\nrange = [0.0, 1.0]\ndummy = true\n"
    )
    _refused(
        tmp_path, capsys, body, f"parameters.{name}: '{name}' is a column of every run ({what})"
    )


@pytest.mark.parametrize("name", ["month", "phase", "gap_true"])
def test_a_parameter_may_not_take_the_name_of_a_series_column(
    tmp_path: Path, capsys, name: str
) -> None:
    """A dummy named like a monthly series column made the documented join of the series with
    design.parquet give month_x / month_y (found in a researcher's trial)."""
    body = (
        '[parameters."programme.tactics.soft"]\nlevels = [0.2, 0.8]\n'
        f"[parameters.{name}]\nrange = [0.0, 1.0]\ndummy = true\n"
    )
    _refused(
        tmp_path, capsys, body, f"parameters.{name}: '{name}' is a column of the monthly series"
    )


# ------------------------------------------------------------------ 4: nothing but dummies


def test_a_sensitivity_file_of_dummies_alone_is_refused(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, "[parameters.d]\nrange = [0.0, 1.0]\ndummy = true\n")
    code, _, err = ccsim(
        capsys, "sensitivity", path, "--method", "morris", "--samples", "10", "--out",
        tmp_path / "o", *FAST,
    )  # fmt: skip
    one_error_line(code, err, str(path), "every parameter is a dummy, so there is no lever")
    assert not (tmp_path / "o").exists()


def test_top_levers_of_dummies_alone_names_no_lever() -> None:
    from sim.sweep.ranking import top_levers

    indices = pd.DataFrame(
        {"parameter": ["d"], "mu": [0.0], "mu_star": [0.0], "mu_star_conf": [0.0], "sigma": [0.0]}
    )
    text = top_levers(indices, "morris", ["d"], samples=20)
    assert text.startswith("Top levers by mu_star: no lever to rank (every parameter is a dummy).")
    assert "Every lever's 95% CI is above 0" not in text and ": ." not in text


# ------------------------------------------------------------------ 5: undefined, constant


def test_directions_of_an_outcome_undefined_everywhere_or_somewhere(tmp_path: Path) -> None:
    from sim.sweep.report import directions

    body = '[parameters."programme.tactics.soft"]\nlevels = [0.2, 0.5, 0.8, 0.9]\n'
    spec = load_sweep(_file(tmp_path, body))
    soft = {"point": [0, 1, 2, 3], "programme.tactics.soft": [0.2, 0.5, 0.8, 0.9]}
    nowhere = directions(pd.DataFrame(soft | {"gap_auc": [np.nan] * 4}), spec, "gap_auc")
    assert nowhere.loc[0, "direction"] == "undefined (outcome missing at every point)"
    assert math.isnan(nowhere.loc[0, "spearman"])
    # undefined at one point: judged on the three others, not "flat" from a nan rho
    some = directions(pd.DataFrame(soft | {"gap_auc": [3.0, 2.0, 1.0, np.nan]}), spec, "gap_auc")
    assert some.loc[0, "direction"] == "decreases"
    assert some.loc[0, "spearman"] == pytest.approx(-1.0)


def test_a_constant_outcome_is_not_told_to_increase_samples(tmp_path: Path, capsys) -> None:
    body = (
        "replications = 1\n"
        '[parameters."programme.tactics.soft"]\nrange = [0.1, 0.9]\n'
        "[parameters.d]\nrange = [0.0, 1.0]\ndummy = true\n"
    )
    path, out = _file(tmp_path, body), tmp_path / "m"
    code, stdout, err = ccsim(
        capsys, "sensitivity", path, "--method", "morris", "--samples", "10", "--out", out,
        "--outcome", "window_months", *FAST,
    )  # fmt: skip
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert warning == [
        "ccsim sensitivity: warning: window_months: the levers are not ranked: every mu_star "
        "is 0 (the outcome does not vary over the sample); no lever moves it over these "
        "ranges; choose another --outcome or wider ranges"
    ]
    assert "increase --samples" not in err + stdout
    assert "increase --samples" not in (out / "sensitivity.md").read_text()


# ------------------------------------------------------------------ 6: one command builder


def test_a_sensitivity_folder_is_finished_and_rerun_with_the_same_command(
    tmp_path: Path, capsys
) -> None:
    body = "replications = 1\n" + '[parameters."programme.tactics.soft"]\nrange = [0.1, 0.9]\n'
    path, out = _file(tmp_path, body), tmp_path / "s"
    code, _, err = ccsim(
        capsys, "sensitivity", path, "--method", "morris", "--samples", "3", "--out", out, *FAST
    )
    assert code == 0, err
    (out / "runs" / "part-0000001.parquet").unlink()
    expected = f"ccsim sensitivity {path} --method morris --samples 3"
    with pytest.warns(IncompleteSweepWarning) as caught:
        read_sweep(out)
    assert f"finish it with: {expected} --out {out} --resume" in str(caught[0].message)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sweep_command(manifest, out) == ("sensitivity analysis", f"{expected} --out {out}-rerun")
    # an older manifest: no cli record; the spec and the folder's tables say what it was
    del manifest["cli"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(IncompleteSweepWarning) as caught:
        read_sweep(out)
    assert f"finish it with: {expected} --out {out} --resume" in str(caught[0].message)
    code, _, err = ccsim(capsys, "rerun", out)
    one_error_line(
        code, err, "manifest of a sensitivity analysis", f"'{expected} --out {out}-rerun'"
    )


def test_an_older_manifest_missing_fields_never_prints_none(tmp_path: Path) -> None:
    spec = {"source": "f.toml", "design": "sobol", "samples": 64, "replications": 2}
    # a cli record from before method and samples were recorded
    old = {"tool": "ccsim sweep", "spec": spec, "cli": {"command": "sensitivity", "file": "f.toml"}}
    assert resume_command(tmp_path, old) == (
        f"ccsim sensitivity f.toml --method sobol --samples 64 --out {tmp_path} --resume"
    )
    # nothing recorded of the method or N at all: the options are left out
    bare = {"tool": "ccsim sweep", "spec": {}, "cli": {"command": "sensitivity"}}
    assert (
        resume_command(tmp_path, bare) == f"ccsim sensitivity SWEEP.toml --out {tmp_path} --resume"
    )
    # no cli, a grid spec: a sweep, with the recorded chunking when the option was given
    grid = {"spec": {"source": "g.toml", "design": "grid"}}
    assert sweep_command(grid, tmp_path) == ("sweep", f"ccsim sweep g.toml --out {tmp_path}-rerun")
    chunked = {"spec": spec, "cli": {"command": "sweep", "file": "f.toml", "chunk_points": 4}}
    assert resume_command(tmp_path, chunked) == (
        f"ccsim sweep f.toml --chunk-points 4 --out {tmp_path} --resume"
    )


def test_load_sweep_raises_sweep_error_not_python_errors(tmp_path: Path) -> None:
    """The Python API gets the same one-line SweepError as the command."""
    body = '[parameters."sites.n_sites"]\nrange = [4, inf]\n'
    with pytest.raises(SweepError, match=r"range = \[4, inf\]: inf is not a finite number"):
        load_sweep(_file(tmp_path, body, N_SITES))


def test_neighbours_whose_intervals_overlap_are_not_given_an_order() -> None:
    """Naming soft before hard claims more than the estimates show when 0.50 +- 0.06 and
    0.45 +- 0.05 overlap; hard and budget (0.45 +- 0.05 vs 0.10 +- 0.03) are resolved."""
    import pandas as pd

    from sim.sweep.ranking import top_levers

    df = pd.DataFrame(
        {
            "parameter": ["soft", "hard", "budget"],
            "ST": [0.50, 0.45, 0.10],
            "ST_conf": [0.06, 0.05, 0.03],
            "S1": [0.40, 0.30, 0.08],
            "S1_conf": [0.05, 0.05, 0.02],
        }
    )
    text = top_levers(df, "sobol")
    assert "The order of soft and hard is not resolved: their 95% CIs overlap." in text
    assert "hard and budget" not in text
