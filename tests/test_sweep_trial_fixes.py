"""Regressions for a researcher's trial of sweeps and sensitivity analysis (second round).

Every sweep here is small (a 4-site, 9-month community, one job, at most 160 runs).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, ROOT, SETS, TINY, ccsim, one_error_line

from sim.rng import seed_label
from sim.sweep import IncompleteSweepWarning, load_sweep, read_sweep, run_sweep


def _file(tmp_path: Path, body: str, name: str = "t.toml", sets: list[str] = TINY) -> Path:
    head = (
        f'name = "t"\nbase = "baseline"\nset = {json.dumps(sets)}\nseed = 5\n'
        'outcomes = ["gap_auc", "t50_restricted_months", "window_months"]\n'
    )
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


SOBOL = (  # N = 32, d = 2: 128 points x 1 replication
    "replications = 1\nsamples = 32\n"
    '[parameters."programme.tactics.soft"]\nrange = [0.0, 1.0]\n'
    "[parameters.dummy]\nrange = [0.0, 1.0]\ndummy = true\n"
)
GRID = '[parameters."programme.tactics.hard"]\nlevels = [0.2, 0.8]\n'


# ------------------------------------------------------------------ 1: the dummy under CRN


def test_sensitivity_report_says_what_the_crn_dummy_shows(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, SOBOL), tmp_path / "s"
    code, stdout, err = ccsim(capsys, "sensitivity", path, "--out", out, *FAST)
    assert code == 0, err
    assert "sobol, N = 32: 128 points x 1 replications = 128 runs" in stdout
    idx = pd.read_parquet(out / "sensitivity_sobol_gap_auc.parquet").set_index("parameter")
    assert idx.loc["dummy", ["S1", "S1_conf", "ST", "ST_conf"]].abs().max() < 1e-9
    report = (out / "sensitivity.md").read_text()
    assert "Dummy (never read) ST: 0.000, exactly 0 as common random numbers make it" in report
    assert "not a noise floor" in report and "clearly above" not in report
    assert "its own 95% CI" in report and "ST < 0.01" in report


# ------------------------------------------------------------------ 2: integer levels


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ("levels = [10.5, 11.5, 12.5, 12.4]", ["10.5, 11.5, 12.5, 12.4 are not whole numbers"]),
        ("levels = [4, 6.5]", ["6.5 is not a whole number", "sites.n_sites takes whole"]),
        ("levels = [12, 12.0]", ["12.0 repeats a level"]),
        ("range = [4, 6]", ["steps = 5 gives repeated whole numbers [4, 4, 5, 6, 6]", "steps = 3"]),
        ("range = [4.1, 4.4]", ["range = [4.1, 4.4] holds no whole number"]),
    ],
)
def test_integer_levels_are_never_rounded_or_merged_silently(
    tmp_path: Path, capsys, table: str, needles: list[str]
) -> None:
    sets = [s for s in TINY if not s.startswith("sites.n_sites")]
    path = _file(tmp_path, f'[parameters."sites.n_sites"]\n{table}\n', sets=sets)
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, str(path), "parameters.sites.n_sites", *needles)
    assert not (tmp_path / "o").exists()


def test_sampled_integer_keys_are_rounded_to_whole_numbers_as_documented(tmp_path: Path) -> None:
    sets = [s for s in TINY if not s.startswith("sites.n_sites")]
    body = 'design = "lhs"\nsamples = 8\nreplications = 1\n'
    body += '[parameters."sites.n_sites"]\nrange = [3.5, 6.5]\n'
    spec = load_sweep(_file(tmp_path, body, sets=sets))
    run_sweep(spec, tmp_path / "o", progress=False)
    design = pd.read_parquet(tmp_path / "o" / "design.parquet")
    # one point in each eighth of [3.5, 6.5]: every whole number 4..6 drawn, nothing else
    assert sorted(set(design["sites.n_sites"])) == [4, 5, 6]
    text = " ".join((ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8").split())
    assert "halves go to the even number" in text and "[low - 0.5, high + 0.5]" in text


# ------------------------------------------------------------------ 3: read_sweep


def test_read_sweep_warns_on_an_unfinished_folder(tmp_path: Path) -> None:
    body = "replications = 2\n" + GRID.replace("[0.2, 0.8]", "[0.2, 0.5, 0.8]")
    path, out = _file(tmp_path, body), tmp_path / "o"
    run_sweep(load_sweep(path), out, chunk_points=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finished sweep reads without a warning
        assert len(read_sweep(out)) == 6
    (out / "runs" / "part-0000001.parquet").unlink()
    with pytest.warns(IncompleteSweepWarning) as caught:
        assert len(read_sweep(out)) == 4
    message = str(caught[0].message)
    assert "unfinished sweep: 2 of 6 runs are missing (1 of 3 points" in message
    assert f"finish it with: ccsim sweep {path} --out {out} --resume" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_sweep(out, allow_incomplete=True)) == 4


# ------------------------------------------------------------------ 4: docs of the warnings


def test_docs_state_the_s1_above_st_rules_as_coded() -> None:
    text = " ".join((ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8").split())
    assert "`S1 > ST + ST_conf`" in text
    assert "root-sum-of-squares" in text
    assert "noise floor" not in text.replace("not a noise floor", "").replace("no noise floor", "")


# ------------------------------------------------------------------ 5: --outcome


def test_t50_months_is_analysed_once_as_its_restricted_column(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, SOBOL.replace("samples = 32", "samples = 2")), tmp_path / "s"
    args = ["sensitivity", path, "--out", out, *FAST]
    code, _, err = ccsim(capsys, *args, "--outcome", "t50_months")
    assert code == 0, err
    assert "note: --outcome t50_months is analysed as t50_restricted_months" in err
    code, _, err = ccsim(capsys, *args, "--outcome", "t50_restricted_months")
    assert code == 0, err
    tables = sorted(p.name for p in out.glob("sensitivity_*.parquet"))
    assert tables == ["sensitivity_sobol_t50_restricted_months.parquet"]
    assert (out / "sensitivity.md").read_text().count("## ") == 1


def test_a_bad_outcome_suggests_the_closest_and_a_short_list(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, GRID)
    code, _, err = ccsim(capsys, "sweep", path, "--outcome", "gap_aucc", "--out", tmp_path / "o")
    line = one_error_line(code, err, "--outcome gap_aucc: not a run metric")
    assert "did you mean 'gap_auc'?" in line and "docs/sweeps.md" in line
    assert "this sweep keeps: gap_auc, t50_restricted_months, window_months" in line
    assert len(line) < 300 and "irr_34_36_observed" not in line  # not all 52 names
    code, _, err = ccsim(capsys, "sweep", path, "--outcome", "sustainment", "--out", tmp_path / "o")
    one_error_line(code, err, "not kept by the sweep file's outcomes", "gap_auc")
    path.write_text(re.sub(r"outcomes = .*\n", "", path.read_text()))  # keeps every metric
    code, _, err = ccsim(capsys, "sweep", path, "--outcome", "t50_month", "--out", tmp_path / "o")
    line = one_error_line(code, err, "did you mean 't50_months'?", "common: gap_auc, t50_months")
    from sim.sweep import metric_names

    n = len(metric_names())
    assert f"all {n} metrics: docs/sweeps.md, Outcomes" in line and len(line) < 300
    assert not (tmp_path / "o").exists()  # refused before any run


def test_docs_list_every_outcome() -> None:
    from sim.sweep import metric_names

    text = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    section = text[text.index("### Outcomes") :]
    listed = set(re.findall(r"`([a-z0-9_]+)`", section[: section.index("\n## ")]))
    assert set(metric_names()) <= listed, set(metric_names()) - listed
    assert f"All {len(metric_names())} names:" in section


# ------------------------------------------------------------------ 6: seed column


def test_sweep_runs_carry_the_seed_of_each_replication(tmp_path: Path) -> None:
    path, out = _file(tmp_path, "replications = 3\n" + GRID), tmp_path / "o"
    run_sweep(load_sweep(path), out, progress=False)
    runs = read_sweep(out)
    seeds = runs.pivot(index="replication", columns="point", values="seed")
    # common random numbers: replication r has one seed at every point, as in ccsim run
    assert (seeds.nunique(axis=1) == 1).all() and seeds[0].nunique() == 3
    assert seeds[0].tolist() == [seed_label(5, r, 0) for r in range(3)]
    assert runs["seed"].dtype == np.int64


def test_sweep_seeds_match_ccsim_run_of_the_same_root_seed(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, "replications = 2\n" + GRID), tmp_path / "o"
    run_sweep(load_sweep(path), out, progress=False)
    code, _, err = ccsim(
        capsys, "run", "baseline", "--reps", "2", "--seed", "5", *SETS, "--out", tmp_path / "r",
        "--no-figures", "--jobs", "1",
    )  # fmt: skip
    assert code == 0, err
    run_seeds = pd.read_parquet(tmp_path / "r" / "runs.parquet")["seed"].tolist()
    sweep_seeds = read_sweep(out).groupby("point")["seed"].agg(list)
    assert sweep_seeds.tolist() == [run_seeds, run_seeds]  # both points, as ccsim run


# ------------------------------------------------------------------ 7: silent accepts


def test_set_of_a_swept_key_and_a_single_level_are_refused(tmp_path: Path, capsys) -> None:
    clash = _file(tmp_path, GRID, sets=[*TINY, "programme.tactics.hard=0.3"])
    code, _, err = ccsim(capsys, "sweep", clash, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, 'set = ["programme.tactics.hard=0.3"] fixes programme.tactics.hard')
    single = _file(tmp_path, GRID.replace("[0.2, 0.8]", "[0.5]"))
    code, _, err = ccsim(capsys, "sweep", single, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, "levels = [0.5] has 1 level; a sweep needs at least 2")
    assert not (tmp_path / "o").exists()


def test_a_parameter_with_one_value_is_reported_not_estimable(tmp_path: Path) -> None:
    from sim.sweep.report import directions

    spec = load_sweep(_file(tmp_path, GRID + GRID.replace("hard", "soft")))
    runs = pd.DataFrame(
        {"point": [0, 1, 2], "programme.tactics.hard": [0.2, 0.2, 0.2]}
        | {"programme.tactics.soft": [0.2, 0.5, 0.8], "gap_auc": [3.0, 2.0, 1.0]}
    )
    rows = directions(runs, spec, "gap_auc").set_index("parameter")
    assert rows.loc["programme.tactics.hard", "direction"] == "not estimable (one value)"
    assert rows.loc["programme.tactics.soft", "direction"] == "decreases"
    assert rows.loc["programme.tactics.soft", "spearman"] == pytest.approx(-1.0)


# ------------------------------------------------------------------ 8: --help


def test_sensitivity_help_states_the_defaults_and_their_cost() -> None:
    from sim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = " ".join(sub.choices["sensitivity"].format_help().split())  # type: ignore[attr-defined]
    assert "(default: sobol)" in text and "64 if it sets none" in text
    assert "128 x 10 x 2 = 2,560 runs" in text


# ------------------------------------------------------------------ 9: error wording


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (GRID.replace("levels", "level"), ["unknown option(s) ['level']", "did you mean 'levels'?",
                                           "valid: dummy, levels, range, steps"]),
        ("[parameters.dummy]\nrange = [0, 1]\n", ["unknown parameter 'dummy'", "dummy = true"]),
        ("replication = 2\n" + GRID, ["unknown key(s) ['replication']", "'replications'?"]),
    ],
)  # fmt: skip
def test_sweep_file_errors_name_what_is_valid(
    tmp_path: Path, capsys, body: str, needles: list[str]
) -> None:
    path = _file(tmp_path, body)
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, str(path), *needles)


def test_a_missing_base_names_the_sweep_file(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, GRID)
    path.write_text(path.read_text().replace('base = "baseline"', 'base = "nosuch"'))
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, f"{path}: base = 'nosuch': scenario file not found")


# ------------------------------------------------------------------ 10: docs/distributed.md


def test_distributed_docs_guard_main_and_check_into_their_own_folder() -> None:
    text = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    block = text[text.index("```python\nfrom sim.backends") :]
    block = block[: block.index("```\n", 10)]
    assert 'if __name__ == "__main__":' in block
    compile(block.removeprefix("```python\n"), "distributed.md", "exec")
    check = text[text.index("## Checking a cluster quickly") :].replace("\\\n", " ")
    dask_line = next(line for line in check.splitlines() if "--backend dask" in line)
    assert "--out results/check_dask" in dask_line
    assert "pd.read_parquet('results/check_dask/runs.parquet')" in check
