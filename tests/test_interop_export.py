"""``sim.run`` for other tools, and ``ccsim export --csv``."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.loader import ScenarioError

SMALL = {"sites.n_sites": 6, "time.programme_months": 12, "time.followup_months": 6}


def test_run_is_picklable_and_takes_dotted_or_dunder_names() -> None:
    again = pickle.loads(pickle.dumps(sim.run))
    a = sim.run(**SMALL, **{"programme.tactics.hard": 0.6}, seed=4)
    b = again(
        sites__n_sites=6, time__programme_months=12, time__followup_months=6,
        programme__tactics__hard=np.float64(0.6), seed=4,
    )  # fmt: skip
    assert a.keys() == b.keys()
    for key, value in a.items():
        np.testing.assert_array_equal(value, b[key], err_msg=key)


def test_run_outcomes_have_fixed_shapes() -> None:
    low = sim.run(**SMALL, **{"programme.tactics.soft": 0.0})
    high = sim.run(**SMALL, **{"programme.tactics.soft": 1.0})
    assert low.keys() == high.keys()
    assert low["gap_series"].shape == high["gap_series"].shape == (12 + 6,)
    scalars = [k for k in low if k != "gap_series"]
    assert all(isinstance(low[k], float) for k in scalars)
    # the restricted time never is nan: a censored run counts as the window (18 months)
    assert 0.0 < low["t50_restricted_months"] <= low["window_months"] == 18.0


def test_run_averages_replications() -> None:
    one = [sim.run(**SMALL, seed=2, replication=r) for r in (0, 1)]
    both = sim.run(**SMALL, seed=2, replication=0, replications=2)
    assert both["gap_auc"] == pytest.approx((one[0]["gap_auc"] + one[1]["gap_auc"]) / 2)
    np.testing.assert_allclose(
        both["gap_series"], (one[0]["gap_series"] + one[1]["gap_series"]) / 2
    )


def test_run_rejects_unknown_names() -> None:
    with pytest.raises(ScenarioError, match=r"did you mean 'programme\.tactics\.hard'"):
        sim.run(programme__tactics__hardd=0.5)


def test_export_csv(tmp_path) -> None:
    runs = pd.DataFrame({"design": ["a", "b"], "gap_auc": [1.5, 2.5]})
    runs.to_parquet(tmp_path / "runs.parquet")
    (tmp_path / "series").mkdir()
    for i in range(2):
        part = pd.DataFrame({"replication": [i, i], "month": [0, 1], "gap_true": [1.0, 0.9]})
        part.to_parquet(tmp_path / "series" / f"part-d000-r{i:06d}.parquet")
    assert main(["export", str(tmp_path), "--csv"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "csv" / "runs.csv"), runs)
    series = pd.read_csv(tmp_path / "csv" / "series.csv")
    assert series["replication"].tolist() == [0, 0, 1, 1]  # parts joined, one header
    assert main(["export", str(tmp_path), "--csv", "--beside"]) == 0
    assert (tmp_path / "runs.csv").is_file() and (tmp_path / "series.csv").is_file()
    assert main(["export", str(tmp_path / "csv"), "--csv"]) == 2  # no Parquet there
