"""``ccsim compare --from-sweep`` attacked: broken folders, long lists, a changed base scenario,
an unfinished sweep, sensitivity folders, ``--independent`` and the CRN reproduce command."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, TINY_TOML, ccsim, one_error_line

SWEEP = """name = "hardsw"
base = "tiny.toml"
set = ["programme.budget_per_site_month=1500"]
seed = 7
replications = 2
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
"""
SENSITIVITY = """name = "sens"
base = "tiny.toml"
seed = 11
replications = 2
[parameters."programme.tactics.hard"]
range = [0.0, 1.0]
[parameters."programme.community.events_per_year"]
range = [0, 6]
[parameters.dummy]
range = [0, 1]
dummy = true
"""


def _sweep_in(here: Path, text: str = SWEEP) -> Path:
    """A finished sweep of ``text`` (default: a 2-point grid, hard 0.2 / 0.8, 2 replications,
    seed 7) in ``here``."""
    from sim.sweep import load_sweep, run_sweep

    here.mkdir(parents=True, exist_ok=True)
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / "sw.toml").write_text(text, encoding="utf-8")
    return run_sweep(load_sweep(here / "sw.toml"), here / "out", jobs=1, progress=False)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep the tests only read (copy it to change it)."""
    return _sweep_in(tmp_path_factory.mktemp("sweep"))


def _metrics_equal(mine: pd.Series, theirs: pd.Series, names: list[str]) -> list[str]:
    """The names whose values differ between two runs rows (NaN equal to NaN)."""
    return [
        m for m in names if not (mine[m] == theirs[m] or (pd.isna(mine[m]) and pd.isna(theirs[m])))
    ]


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


BROKEN = {
    "corrupt_json": (
        lambda f: (f / "manifest.json").write_text('{"tool": "ccsim sweep", "sp'),
        ["manifest.json cannot be read"],
    ),
    "no_seed": (
        lambda f: _edit_manifest(f, lambda m: m["spec"].pop("seed")),
        ["not a sweep's as ccsim writes it", "spec.seed = None"],
    ),
    "seed_text": (
        lambda f: _edit_manifest(f, lambda m: m["spec"].update(seed="x")),
        ["spec.seed = 'x'"],
    ),
    "no_parameters": (
        lambda f: _edit_manifest(f, lambda m: m["spec"].pop("parameters")),
        ["spec.parameters"],
    ),
    "no_base": (lambda f: _edit_manifest(f, lambda m: m["spec"].pop("base")), ["spec.base"]),
    "no_name": (lambda f: _edit_manifest(f, lambda m: m["spec"].pop("name")), ["spec.name"]),
    "name_path": (
        lambda f: _edit_manifest(f, lambda m: m["spec"].update(name="../x")),
        ["spec.name = '../x'"],
    ),
    "renamed_key": (
        lambda f: _edit_manifest(f, lambda m: m["spec"]["parameters"][0].update(key="a.b")),
        ["design.parquet has no column a.b"],
    ),
    "corrupt_design": (
        lambda f: (f / "design.parquet").write_bytes(b"PAR1 not parquet"),
        ["design.parquet cannot be read"],
    ),
    "design_without_point": (
        lambda f: (
            pd.read_parquet(f / "design.parquet")
            .drop(columns="point")
            .to_parquet(f / "design.parquet")
        ),
        ["design.parquet has no column point"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_sweep_folder_is_one_line(sweep: Path, tmp_path: Path, capsys, case: str) -> None:
    """Hand-edited or damaged manifest.json / design.parquet: one line, exit 2, no KeyError
    traceback, and nothing written."""
    folder = tmp_path / "broken"
    shutil.copytree(sweep, folder)
    breaker, needles = BROKEN[case]
    breaker(folder)
    args = ["--from-sweep", folder, "--points", "0,1", "--reps", 2, "--out", tmp_path / "c"]
    code, _, err = ccsim(capsys, "compare", *args, *FAST)
    one_error_line(code, err, f"--from-sweep {folder}", *needles)
    assert not (tmp_path / "c").exists()


def test_other_folders_and_files_are_one_line(sweep: Path, tmp_path: Path, capsys) -> None:
    """A compare result, a sweep's runs/ sub-folder and its manifest.json are named as such."""
    out = tmp_path / "c"
    args = ["--points", "0,1", "--reps", 2, *FAST]
    assert ccsim(capsys, "compare", "--from-sweep", sweep, *args, "--out", out)[0] == 0
    code, _, err = ccsim(capsys, "compare", "--from-sweep", out, *args)
    one_error_line(code, err, "not a sweep folder (it holds a ccsim compare result)")
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep / "runs", *args)
    one_error_line(code, err, "not a sweep folder (no manifest.json)")
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep / "manifest.json", *args)
    one_error_line(code, err, "is a file, not a folder")


def test_long_point_lists_give_short_lines(sweep: Path, capsys) -> None:
    """5,000 points, 2 of them known: the error names ten and counts the rest, so the line
    stays readable (it held all 4,998 before)."""
    many = ",".join(map(str, range(5000)))
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep, "--points", many, *FAST)
    line = one_error_line(code, err, "no point(s) 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...")
    assert "(4998 in all)" in line and len(line) < 200
    twice = ",".join(map(str, list(range(40)) * 2))
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep, "--points", twice, *FAST)
    line = one_error_line(code, err, "(40 in all) given more than once")
    assert len(line) < 200


def test_a_moved_base_scenario_is_one_line(tmp_path: Path, capsys) -> None:
    folder = _sweep_in(tmp_path / "s")
    (tmp_path / "s" / "tiny.toml").rename(tmp_path / "s" / "tiny2.toml")
    code, _, err = ccsim(capsys, "compare", "--from-sweep", folder, "--points", "0,1", *FAST)
    one_error_line(
        code, err, "point 0 cannot be rebuilt from the sweep's base scenario", "cannot read file"
    )


def test_a_changed_base_scenario_is_a_caution(tmp_path: Path, capsys) -> None:
    """The base file got a fifth site after the sweep: the points no longer run as the sweep
    ran them, and the comparison says so (with the sweep's own value) instead of silently
    calling new designs the sweep's points."""
    from sim.sweep import read_sweep

    folder = _sweep_in(tmp_path / "s")
    base = tmp_path / "s" / "tiny.toml"
    out = tmp_path / "c"
    args = ["--from-sweep", folder, "--points", "1,0", "--reps", 2, "--out", out, *FAST]
    code, stdout, err = ccsim(capsys, "compare", *args)
    assert code == 0, err
    assert "Caution" not in stdout.split("The CIs")[0]  # unchanged: no caution
    base.write_text(TINY_TOML.replace("n_sites = 4", "n_sites = 5"), encoding="utf-8")
    code, stdout, err = ccsim(capsys, "compare", *args, "--overwrite")
    assert code == 0, err
    caution = next(ln for ln in stdout.splitlines() if ln.startswith("Caution: these designs"))
    # the first metric that differs is reported with the sweep's saved value of replication 0
    key = caution.split("point 1 (replication 0: ")[1].split(" = ")[0]
    then = read_sweep(folder).query("point == 1 and replication == 0").iloc[0][key]
    assert f"now, {float(then):.6g} in the sweep)" in caution and str(base) in caution
    assert "point 0 (replication 0: " in caution
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert "> **Caution:** these designs do not run as the sweep ran its points" in md


def test_an_unfinished_sweep_notes_the_points_it_has_not_run(
    sweep: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(sweep, folder)
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    assert len(parts) == 2  # one point per part
    parts[1].unlink()  # point 1's runs, as if the sweep stopped after point 0
    _edit_manifest(folder, lambda m: m.update(complete=False))
    args = ["--points", "0,1", "--reps", 2, "--out", tmp_path / "c"]
    code, stdout, err = ccsim(capsys, "compare", "--from-sweep", folder, *args, *FAST)
    assert code == 0, err
    assert "  Note: the sweep has saved no run of point 1 (it is unfinished)" in stdout
    assert "point 0" not in stdout.split("Note:")[1].split("\n")[0]
    assert "Caution: these designs" not in stdout


@pytest.fixture(scope="module")
def sensitivity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished Sobol folder, N = 2 over hard, events and a dummy: 2 x (3 + 2) points."""
    from sim.cli import main

    here = tmp_path_factory.mktemp("sens")
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / "sens.toml").write_text(SENSITIVITY, encoding="utf-8")
    args = ["sensitivity", here / "sens.toml", "--samples", 2, "--out", here / "out", *FAST]
    assert main([str(a) for a in args]) == 0
    return here / "out"


def test_sensitivity_points_and_independent_streams(
    sensitivity: Path, tmp_path: Path, capsys
) -> None:
    """Points of a Sobol folder (continuous values, a dummy) equal its rows bit for bit under
    CRN; under --independent only the baseline (design 0, whose streams are the CRN ones)
    does, the other point runs on its own streams."""
    from sim.sweep import read_sweep

    folder = sensitivity
    rows = read_sweep(folder)
    assert rows["point"].nunique() == 2 * (3 + 2)  # Saltelli: N (d + 2), d = 3 with the dummy
    for independent in ([], ["--independent"]):
        out = tmp_path / f"c{len(independent)}"
        args = ["--points", "7,2", "--reps", 2, "--out", out, *independent]
        code, _, err = ccsim(capsys, "compare", "--from-sweep", folder, *args, *FAST)
        assert code == 0, err
        runs = pd.read_parquet(out / "runs.parquet")
        names = sorted(set(runs.columns) & set(rows.columns) - {"replication", "seed"})
        assert len(names) > 40
        for point in (7, 2):
            for rep in (0, 1):
                mine = runs.query(f"design == 'point {point}' and replication == {rep}").iloc[0]
                theirs = rows.query(f"point == {point} and replication == {rep}").iloc[0]
                differ = _metrics_equal(mine, theirs, names)
                if not independent or point == 7:  # point 7 is the baseline
                    assert differ == [], (point, rep, independent, differ)
                else:
                    assert "gap_auc" in differ  # other streams, another run


def test_points_that_differ_only_in_a_dummy_are_named_the_same_design(
    sensitivity: Path, tmp_path: Path, capsys
) -> None:
    design = pd.read_parquet(sensitivity / "design.parquet")
    levers = ["programme.tactics.hard", "programme.community.events_per_year"]
    twins = design[design.duplicated(levers, keep=False)].groupby(levers)["point"].apply(list)
    first, second = twins.iloc[0][:2]  # the Saltelli rows A and A with B's dummy column
    other = int(design.loc[~design.duplicated(levers, keep=False), "point"].iloc[0])
    out = tmp_path / "c"
    args = ["--points", f"{first},{second},{other}", "--reps", 2, "--out", out]
    code, stdout, err = ccsim(capsys, "compare", "--from-sweep", sensitivity, *args, *FAST)
    assert code == 0, err
    assert f"  Note: point {second} runs the same scenario as point {first} " in stdout
    assert f"Note: point {other} " not in stdout
    table = pd.read_parquet(out / "comparison.parquet")
    same = table[table["design"] == f"point {second}"]
    assert len(same) > 5 and (same["diff_mean"] == 0).all()


def test_the_crn_command_reproduces_a_point_run(sweep: Path, tmp_path: Path, capsys) -> None:
    """``SweepDesigns.run_command`` runs one replication of one point under CRN alone: its row
    equals the sweep's row of that point and replication (the CRN re-run of --independent
    draws the same numbers), which ``ccsim rerun`` of an independent manifest cannot give."""
    from sim.compare.from_sweep import sweep_designs
    from sim.sweep import read_sweep

    designs = sweep_designs(sweep, [0, 1])
    assert designs.cautions == []
    words = shlex.split(designs.run_command("point 1", 1, 7))
    assert words[:4] == ["ccsim", "--debug", "run", str(sweep.parent / "tiny.toml")]
    out = tmp_path / "repro"
    words[words.index("--out") + 1] = str(out)
    code, _, err = ccsim(capsys, *words[1:], "--quiet")
    assert code == 0, err
    mine = pd.read_parquet(out / "runs.parquet").iloc[0]
    theirs = read_sweep(sweep).query("point == 1 and replication == 1").iloc[0]
    names = sorted(set(mine.index) & set(theirs.index) - {"replication"})
    assert len(names) > 40 and _metrics_equal(mine, theirs, names) == []
    assert np.isfinite(mine["gap_auc"])


def test_a_failed_crn_rerun_is_reproduced_by_a_working_command(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """--independent --from-sweep, point 1 failing in both runs: the CRN re-run's reproduce
    command must run (it was ``ccsim rerun ... --design 'point 1'``, which refuses an
    independent manifest with exit 2)."""
    from sim.experiment import FAULT_ENV
    from sim.sweep import read_sweep

    monkeypatch.setenv(FAULT_ENV, "point 1:1")
    out = tmp_path / "c"
    args = ["--points", "0,1", "--reps", 2, "--out", out, "--independent", *FAST]
    code, _, err = ccsim(capsys, "compare", "--from-sweep", sweep, *args)
    assert code == 1, err
    crn_part = err.split("of the CRN re-run failed")[1]
    line = next(ln for ln in crn_part.splitlines() if "reproduce:" in ln)
    words = shlex.split(line.split("reproduce:", 1)[1])
    monkeypatch.delenv(FAULT_ENV)
    words[words.index("--out") + 1] = str(tmp_path / "repro")
    code, _, err = ccsim(capsys, *words[1:], "--quiet")
    assert code == 0, err
    # the CRN run of point 1, replication 1 under the sweep's seed is the sweep's own run
    mine = pd.read_parquet(tmp_path / "repro" / "runs.parquet").iloc[0]
    theirs = read_sweep(sweep).query("point == 1 and replication == 1").iloc[0]
    names = sorted(set(mine.index) & set(theirs.index) - {"replication"})
    assert len(names) > 40 and _metrics_equal(mine, theirs, names) == []


def test_integer_parameters_are_shown_and_set_as_whole_numbers(tmp_path: Path, capsys) -> None:
    """sites.n_sites is an integer key: the legend and the reproduce command give 3, not the
    3.0 a design.parquet row read across a float column gives."""
    from sim.compare.from_sweep import sweep_designs

    text = SWEEP.replace("replications = 2", "replications = 1") + (
        '[parameters."sites.n_sites"]\nlevels = [3, 5]\n'
    )
    folder = _sweep_in(tmp_path / "s", text)
    designs = sweep_designs(folder, [0, 3])
    assert designs.legend[1:] == [
        "point 0: programme.tactics.hard=0.2, sites.n_sites=3",
        "point 3: programme.tactics.hard=0.8, sites.n_sites=5",
    ]
    assert designs.cautions == []  # and the points still run as the sweep ran them
    assert " --set sites.n_sites=5 " in designs.run_command("point 3", 0, 7)
    assert designs.designs[1].scenario.sites.n_sites == 5
    # sim.sweep.point_command reads the same design.parquet row: whole numbers there too
    from sim.sweep import point_command

    assert "sites.n_sites=5" in point_command(folder, 3) and "n_sites=5.0" not in point_command(
        folder, 3
    )
