"""Consolidating a run's parts reads each part once and gives the tables pandas would give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.consolidate import finish_tables, read_parts
from sim.experiment import Design, run_experiment
from sim.loader import load_scenario
from sim.results import write_parquet


def _part(path: Path, first: int, n: int, extra: object = 1.5) -> Path:
    frame = pd.DataFrame(
        {
            "design": ["a"] * n,
            "replication": np.arange(first, first + n),
            "month": np.zeros(n, dtype=np.int64),
            "gap": np.linspace(0.1, 0.9, n),
            "flag": np.arange(n) % 2 == 0,
            "extra": [extra] * n,
        }
    )
    write_parquet(frame, path)
    return path


def test_read_parts_equals_pandas_concat_of_each_part(tmp_path: Path) -> None:
    # the reference is what pandas itself gives, part by part: the old reading
    same = [_part(tmp_path / f"s{i}.parquet", 10 * i, 10) for i in range(4)]
    # a column of another type in one part: Arrow cannot concatenate, the pandas path is taken
    mixed = [*same[:2], _part(tmp_path / "m.parquet", 40, 10, extra="text")]
    for parts in (same, mixed):
        want = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(read_parts(parts), want, check_exact=True)
    assert read_parts([]).empty


def test_finish_tables_in_memory_equal_the_files_they_wrote(tmp_path: Path) -> None:
    out = tmp_path / "o"
    for kind in ("runs", "sites", "site_series", "series"):
        (out / kind).mkdir(parents=True)
    names = [f"part-d000-r{lo:06d}.parquet" for lo in (0, 10, 20)]
    for name, lo in zip(names, (0, 10, 20), strict=True):
        for kind in ("runs", "sites", "series"):
            _part(out / kind / name, lo, 10)
    tables = finish_tables(out, names, [0, 10, 20], limit=15)
    # runs: every part, equal to the consolidated file read back
    pd.testing.assert_frame_equal(
        tables["runs"], pd.read_parquet(out / "runs.parquet"), check_exact=True
    )
    assert tables["runs"]["replication"].tolist() == list(range(30))
    # sites and series: only the chunks starting below the limit (0 and 10) stay in memory
    assert tables["sites"]["replication"].tolist() == list(range(20))
    assert tables["series"]["replication"].tolist() == list(range(20))
    assert len(pd.read_parquet(out / "sites.parquet")) == 30
    # no site_series parts: an empty table and no file
    assert tables["site_series"].empty
    assert not (out / "site_series.parquet").exists()


def test_a_run_returns_the_tables_its_folder_holds(tmp_path: Path) -> None:
    scn = load_scenario(None, ["sites.n_sites=4", "control.n_sites=2"])
    res = run_experiment(
        [Design("a", scn)], reps=30, root_seed=4, out_dir=tmp_path / "r", progress=False
    )
    for name, frame in (("runs", res.runs), ("site_series", res.site_series)):
        pd.testing.assert_frame_equal(
            frame, pd.read_parquet(tmp_path / "r" / f"{name}.parquet"), check_exact=True
        )
    assert sorted(res.runs["replication"]) == list(range(30))
    assert sorted(res.series["replication"].unique()) == list(range(30))
