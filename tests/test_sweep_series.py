"""``series = true`` in a sweep file: the monthly series of every run, beside the runs table.

Every sweep here is a 2 x 2 grid of a 4-site, 9-month community, 3 replications (12 runs), one
job: the whole file runs in a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, TINY_TOML, ccsim, one_error_line

import sim.sweep
from sim.sweep import (
    IncompleteSweepWarning,
    SweepInterrupted,
    load_sweep,
    point_command,
    point_scenario,
    read_sweep,
    read_sweep_series,
    run_sweep,
)

SWEEP = """name = "ser"
base = "tiny.toml"
seed = 7
replications = 3
{series}
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
[parameters."programme.tactics.soft"]
levels = [0.1, 0.7]
"""
SEED, REPS, POINTS, MONTHS = 7, 3, 4, 9  # TINY_TOML: no baseline months, 6 + 3 months
KEYS = ["point", "replication", "month"]


def _file(here: Path, series: str = "series = true", name: str = "sw.toml") -> Path:
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    path = here / name
    path.write_text(SWEEP.format(series=series), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same finished sweep with series (``"on"``) and without (``"off"``)."""
    here = tmp_path_factory.mktemp("series")
    on = run_sweep(load_sweep(_file(here)), here / "on", progress=False)
    off = run_sweep(load_sweep(_file(here, "", "plain.toml")), here / "off", progress=False)
    return {"on": on, "off": off, "here": here}


def _run_series(folder: Path) -> pd.DataFrame:
    """``ccsim run``'s monthly series parts of ``folder``, without its design columns."""
    from sim.consolidate import read_series

    return read_series(folder).drop(columns=["design", "design_index"])


# ------------------------------------------------------------------ 1: equal to ccsim run


def test_series_columns_are_those_of_ccsim_run_plus_point(folders: dict[str, Path]) -> None:
    from sim.series import SERIES_COLUMNS

    series = read_sweep_series(folders["on"])
    ident = ["point", "replication", "month", "month_in_programme", "phase"]
    assert list(series.columns) == ident + list(SERIES_COLUMNS)
    assert len(series) == POINTS * REPS * MONTHS
    assert not series.duplicated(KEYS).any()
    assert series["month"].tolist()[:MONTHS] == list(range(MONTHS))
    assert series.dtypes["point"] == np.int64 and series.dtypes["replication"] == np.int64


def test_one_replication_equals_ccsim_run_of_the_point_command(
    folders: dict[str, Path], tmp_path: Path, capsys
) -> None:
    point, rep = 2, 1
    words = shlex.split(point_command(folders["on"], point, replication=rep))
    code, _, err = ccsim(capsys, *words[1:], "--out", tmp_path / "run", *FAST)
    assert code == 0, err
    theirs = _run_series(tmp_path / "run")
    series = read_sweep_series(folders["on"])
    mine = series[(series["point"] == point) & (series["replication"] == rep)]
    mine = mine.drop(columns="point").reset_index(drop=True)
    assert len(theirs) == MONTHS
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_every_replication_equals_run_experiment_of_point_scenario(
    folders: dict[str, Path],
) -> None:
    from sim.experiment import Design, run_experiment

    series = read_sweep_series(folders["on"])
    for point in (0, 3):
        scn, values = point_scenario(folders["on"], point)
        assert values == {
            "programme.tactics.hard": [0.2, 0.2, 0.8, 0.8][point],
            "programme.tactics.soft": [0.1, 0.7, 0.1, 0.7][point],
        }
        result = run_experiment([Design(scn.name, scn)], reps=REPS, root_seed=SEED)
        theirs = result.series.drop(columns=["design", "design_index"])
        mine = series[series["point"] == point].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, theirs.reset_index(drop=True), check_exact=True)


def test_series_match_their_runs_rows(folders: dict[str, Path]) -> None:
    """Each run's series and its runs row are the same run: the metrics are sums and last
    values of the series (sim.metrics), so they tie the two tables row by row."""
    series, runs = read_sweep_series(folders["on"]), read_sweep(folders["on"])
    after = series[series["month_in_programme"] >= 0].groupby(["point", "replication"])
    last = series.groupby(["point", "replication"]).last()
    runs = runs.set_index(["point", "replication"])
    # a sum in another order (pandas' groupby) may differ in the last bits
    np.testing.assert_allclose(after["gap_true"].sum(), runs["gap_auc"], rtol=1e-12, atol=0)
    assert np.array_equal(last["gap_true"].to_numpy(), runs["gap_followup_end"].to_numpy())
    assert np.array_equal(last["cost_cumulative"].to_numpy(), runs["cost_total"].to_numpy())
    assert runs["gap_auc"].nunique() > POINTS  # the points and replications differ


def test_points_and_columns_can_be_read_alone(folders: dict[str, Path]) -> None:
    whole = read_sweep_series(folders["on"])
    some = read_sweep_series(folders["on"], columns=["gap_true"], points=[1, 3])
    assert list(some.columns) == [*KEYS, "gap_true"]
    expected = whole[whole["point"].isin([1, 3])][[*KEYS, "gap_true"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    direct = pd.read_parquet(folders["on"] / "series").sort_values(KEYS, ignore_index=True)
    pd.testing.assert_frame_equal(direct[whole.columns], whole, check_dtype=False)


# ------------------------------------------------------------------ 2: off: nothing new


def test_without_series_nothing_new_is_written_and_runs_are_unchanged(
    folders: dict[str, Path],
) -> None:
    on, off = folders["on"], folders["off"]
    assert not (off / "series").exists()
    files = sorted(str(p.relative_to(off)) for p in off.rglob("*") if p.is_file())
    assert files == ["design.parquet", "manifest.json"] + [
        f"runs/part-000000{i}.parquet" for i in range(POINTS)
    ]
    manifest = json.loads((off / "manifest.json").read_text())
    assert "series" not in manifest["spec"]
    # the fingerprint of a sweep without series is the one computed before the setting existed
    old = {k: v for k, v in asdict(load_sweep(folders["here"] / "plain.toml")).items()}
    old = {k: v for k, v in old.items() if k not in ("description", "source", "series")}
    digest = hashlib.sha256(json.dumps(old, sort_keys=True, default=str).encode()).hexdigest()
    assert manifest["fingerprint"] == digest
    assert json.loads((on / "manifest.json").read_text())["spec"]["series"] is True
    # the runs are the same runs, with or without their series
    pd.testing.assert_frame_equal(read_sweep(on), read_sweep(off), check_exact=True)
    with pytest.raises(ValueError, match="kept no monthly series; add series = true"):
        read_sweep_series(off)


def test_a_differing_series_setting_is_refused_in_one_line(
    folders: dict[str, Path], tmp_path: Path, capsys
) -> None:
    here = folders["here"]
    for file, folder, why in (
        ("plain.toml", folders["on"], "saved with monthly series (series = true)"),
        ("sw.toml", folders["off"], "saved without monthly series"),
    ):
        code, _, err = ccsim(capsys, "sweep", here / file, "--out", folder, *FAST)
        one_error_line(code, err, "settings that differ: series;", why, "another --out")
    bad = _file(tmp_path, 'series = "yes"')
    code, _, err = ccsim(capsys, "sweep", bad, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, "series = 'yes': must be true or false")


# ------------------------------------------------------------------ 3: resume


def test_resume_after_an_interruption_gives_the_same_series(
    folders: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    """Ctrl-C between a part's series and its runs (the worst moment): the orphan series part
    is not read, and resuming rewrites it, once."""
    path, out = _file(tmp_path), tmp_path / "o"
    real, runs_writes = sim.sweep.write_parquet, []

    def stop_at_third_runs_part(frame: pd.DataFrame, dest: Path) -> None:
        if dest.parent.name == "runs":
            runs_writes.append(dest)
            if len(runs_writes) == 3:
                raise KeyboardInterrupt
        real(frame, dest)

    monkeypatch.setattr(sim.sweep, "write_parquet", stop_at_third_runs_part)
    with pytest.raises(SweepInterrupted, match="6 of 12 runs are saved"):
        run_sweep(load_sweep(path), out, progress=False)
    monkeypatch.setattr(sim.sweep, "write_parquet", real)
    assert len(list((out / "series").glob("part-*.parquet"))) == 3  # one more than runs parts
    with pytest.warns(IncompleteSweepWarning, match="6 of 12 runs are missing"):
        partial = read_sweep_series(out)
    assert sorted(partial["point"].unique()) == [0, 1] and len(partial) == 2 * REPS * MONTHS
    run_sweep(load_sweep(path), out, progress=False)
    resumed, whole = read_sweep_series(out), read_sweep_series(folders["on"])
    assert not resumed.duplicated(KEYS).any()
    pd.testing.assert_frame_equal(resumed, whole, check_exact=True)
    pd.testing.assert_frame_equal(read_sweep(out), read_sweep(folders["on"]), check_exact=True)


def test_overwrite_removes_the_series_and_parallel_parts_are_the_same(
    folders: dict[str, Path], tmp_path: Path, capsys
) -> None:
    path, out = _file(tmp_path), tmp_path / "o"
    args = ("sweep", path, "--out", out, "--no-figures", "--quiet")
    code, _, err = ccsim(capsys, *args, "--jobs", "2")
    assert code == 0, err
    assert "note: series = true: saving 9 months of series for each of 12 runs" in err
    pd.testing.assert_frame_equal(read_sweep_series(out), read_sweep_series(folders["on"]))
    plain = _file(tmp_path, "", "plain.toml")
    code, _, err = ccsim(capsys, "sweep", plain, "--out", out, "--overwrite", *FAST)
    assert code == 0, err
    assert not (out / "series").exists() and len(read_sweep(out)) == POINTS * REPS


def test_sensitivity_keeps_series_too(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path)
    out = tmp_path / "m"
    code, _, err = ccsim(
        capsys, "sensitivity", path, "--method", "morris", "--samples", "2", "--out", out, *FAST
    )
    assert code == 0, err
    runs = read_sweep(out)
    series = read_sweep_series(out)
    assert len(series) == len(runs) * MONTHS
    keys = series[["point", "replication"]].drop_duplicates().reset_index(drop=True)
    pd.testing.assert_frame_equal(keys, runs[["point", "replication"]])


# ------------------------------------------------------------------ --series on the command line


def test_series_flag_equals_the_file_key_and_is_kept_for_resume(
    folders: dict[str, Path], tmp_path: Path, capsys
) -> None:
    """``--series`` with a file without the key gives the same series as ``series = true``, the
    results line names them, and the recorded command (for resume and rerun) keeps the flag, so
    finishing the folder is not refused as a differing setting."""
    from sim.sweep.commandline import resume_command

    plain = folders["here"] / "plain.toml"
    out = tmp_path / "flag"
    code, printed, _ = ccsim(capsys, "sweep", plain, "--series", "--out", out, "--no-figures")
    assert code == 0
    assert "series/part-*.parquet" in printed.splitlines()[-1]
    pd.testing.assert_frame_equal(read_sweep_series(out), read_sweep_series(folders["on"]))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    words = shlex.split(resume_command(out, manifest))
    assert words[-1] == "--resume" and "--series" in words
    code, _, err = ccsim(capsys, *words[1:], "--no-figures")
    assert code == 0, err
    # the same file without the flag is another sweep for this folder: refused in one line
    code, _, err = ccsim(capsys, "sweep", plain, "--out", out, *FAST)
    one_error_line(code, err, "settings that differ: series;")


def test_read_sweep_series_checks_its_arguments(folders: dict[str, Path], tmp_path: Path) -> None:
    """A trial found a raw ArrowInvalid for an unknown column, a string read as characters,
    unknown points read as an empty frame, and a missing folder called 'kept no series'."""
    on = folders["on"]
    one = read_sweep_series(on, columns="gap_true")  # one name as a string
    assert list(one.columns) == ["point", "replication", "month", "gap_true"]
    # the identifying columns of ccsim run's series are series columns too (the docs' example)
    ids = read_sweep_series(on, columns=["month_in_programme", "phase", "gap_true"])
    assert list(ids.columns) == ["point", "replication", "month", "month_in_programme", "phase",
                                 "gap_true"]  # fmt: skip
    assert len(one) == POINTS * REPS * MONTHS
    with pytest.raises(ValueError, match=r"columns: no series column 'nope'; the series columns"):
        read_sweep_series(on, columns=["gap_true", "nope"])
    for bad in ([999], [-1]):
        with pytest.raises(
            ValueError, match=rf"points: no point {bad[0]} \(the design has 0\.\.3\)"
        ):
            read_sweep_series(on, points=bad)
    with pytest.raises(ValueError, match="no such folder"):
        read_sweep_series(tmp_path / "absent")
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    (run_folder / "manifest.json").write_text(json.dumps({"tool": "ccsim"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a sweep folder"):
        read_sweep_series(run_folder)
    with pytest.raises(ValueError, match="kept no monthly series"):
        read_sweep_series(folders["off"])
