"""Reproducibility: stored fixed-seed outputs, and ``ccsim rerun`` re-creating identical numbers.

``tests/data/regression.json`` holds per-metric means of fixed-seed runs of ``baseline`` and
``keystone`` (see :mod:`sim.regression`). When outputs change on purpose, refresh it with
``python3 -m sim.regression --refresh`` and say why in CHANGELOG.md.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from sim import regression
from sim.cli import main

TINY = ["sites.n_sites=5", "sites.mean_size=8", "time.programme_months=6"]
TINY += ["time.followup_months=3", "programme.recruitment.window_months=2"]
SETS = [word for item in TINY for word in ("--set", item)]


def test_outputs_match_the_stored_summary() -> None:
    assert regression.PATH.is_file(), f"missing {regression.PATH}; run `{regression.REFRESH}`"
    stored = regression.load()
    assert set(stored) == {f"{c}/seed={s}" for c in regression.CASES for s in regression.SEEDS}
    problems = regression.compare(stored, regression.summarise())
    assert not problems, regression.failure_message(problems)


@pytest.fixture
def summary() -> regression.Summary:
    runs = pd.DataFrame(
        {
            "design": ["a", "a"],
            "replication": [0, 1],
            "gap_auc": [10.0, 12.0],
            "t50_months": [5.0, float("nan")],
            "t50_censored": [False, True],
        }
    )
    return {"a/seed=1": regression.metric_summary(runs)}


def test_summary_means_and_missing_counts(summary: regression.Summary) -> None:
    case = summary["a/seed=1"]
    assert case["means"] == {"gap_auc": 11.0, "t50_censored": 0.5, "t50_months": 5.0}
    assert case["missing"] == {"t50_months": 1}


def test_compare_flags_drift_new_and_missing_keys(summary: regression.Summary) -> None:
    assert regression.compare(summary, copy.deepcopy(summary)) == []
    fresh = copy.deepcopy(summary)
    means = fresh["a/seed=1"]["means"]
    means["gap_auc"] *= 1 + 1e-7  # float noise is tolerated ...
    assert regression.compare(summary, fresh) == []
    means["gap_auc"] = 11.5  # ... a real drift is not
    del means["t50_censored"]
    means["new_metric"] = 1.0
    fresh["a/seed=1"]["missing"] = {}
    fresh["b/seed=1"] = fresh["a/seed=1"]
    problems = regression.compare(summary, fresh)
    assert problems == [
        "case b/seed=1 is new",
        "a/seed=1: metric t50_censored disappeared",
        "a/seed=1: metric new_metric is new",
        "a/seed=1: gap_auc 11.0 -> 11.5 (+4.545%)",
        "a/seed=1: t50_months missing (NaN) in 1 -> 0 runs",
    ]
    message = regression.failure_message(problems)
    assert "python3 -m sim.regression --refresh" in message and "CHANGELOG.md" in message


def test_refresh_then_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--refresh`` stores what a later check compares against (one small case here)."""
    monkeypatch.setattr(regression, "CASES", ("baseline",))
    monkeypatch.setattr(regression, "SEEDS", (1,))
    monkeypatch.setattr(regression, "REPS", 2)
    path = tmp_path / "regression.json"
    real = regression.summarise
    monkeypatch.setattr(regression, "summarise", lambda: real(("baseline",), (1,), 2))
    assert regression.main(["--path", str(path)]) == 1  # nothing stored yet: every case is new
    assert regression.main(["--refresh", "--path", str(path)]) == 0
    assert regression.main(["--path", str(path)]) == 0
    assert set(regression.load(path)) == {"baseline/seed=1"}


def test_rerun_recreates_identical_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orig = tmp_path / "orig"
    run = ["run", "keystone", *SETS, "--reps", "30", "--seed", "8", "--jobs", "1"]
    assert main([*run, "--out", str(orig), "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    assert main(["rerun", str(orig / "manifest.json"), "--jobs", "1", "--quiet"]) == 0
    assert "identical: runs.parquet matches" in capsys.readouterr().out
    again = pd.read_parquet(tmp_path / "orig-rerun" / "runs.parquet")
    pd.testing.assert_frame_equal(again, pd.read_parquet(orig / "runs.parquet"))
    # one replication alone, and a changed original is caught
    assert main(["rerun", str(orig), "--replication", "17", "--jobs", "1", "--quiet"]) == 0
    assert "(1 rows)" in capsys.readouterr().out
    runs = pd.read_parquet(orig / "runs.parquet")
    runs.loc[5, "gap_auc"] += 0.001
    runs.to_parquet(orig / "runs.parquet")
    rerun = ["rerun", str(orig), "--jobs", "1", "--quiet", "--overwrite"]
    assert main(rerun) == 1
    assert "gap_auc: differs in 1 rows (max |diff| 0.001)" in capsys.readouterr().out
