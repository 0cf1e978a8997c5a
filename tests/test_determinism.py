"""Seeds: identical results for any --jobs and --reps, common random numbers across designs,
and per-mechanism random streams (a lever never shifts another mechanism's draws)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.consolidate import read_series
from sim.experiment import CHUNK_SIZE, Design, ExperimentResult, run_experiment
from sim.loader import load_scenario
from sim.model import CommunityModel

SMALL = ["sites.n_sites=5"]
SEED = 424242
ID_COLS = ["design", "design_index"]
SITE_DRAWS = ["size", "readiness", "leadership", "fit", "peripheral", "base_event_rate"]


def _run(out: Path | None, reps: int, jobs: int = 1, **kw) -> ExperimentResult:
    scn = load_scenario("baseline", SMALL)
    return run_experiment(
        [Design("baseline", scn)],
        reps,
        root_seed=kw.pop("seed", SEED),
        jobs=jobs,
        out_dir=out,
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 30 replications (two chunks) written with jobs=1 and with jobs=2."""
    assert CHUNK_SIZE < 30  # more than one chunk, so jobs=2 really runs in parallel
    root = tmp_path_factory.mktemp("det")
    _run(root / "j1", 30, jobs=1)
    _run(root / "j2", 30, jobs=2)
    return {"j1": root / "j1", "j2": root / "j2"}


def test_jobs_do_not_change_results(thirty: dict[str, Path]) -> None:
    j1, j2 = thirty["j1"], thirty["j2"]
    runs1 = pd.read_parquet(j1 / "runs.parquet")
    runs2 = pd.read_parquet(j2 / "runs.parquet")
    assert len(runs1) == 30 and runs1["replication"].tolist() == list(range(30))
    assert runs1["seed"].nunique() == 30
    pd.testing.assert_frame_equal(runs1, runs2)
    pd.testing.assert_frame_equal(
        pd.read_parquet(j1 / "sites.parquet"), pd.read_parquet(j2 / "sites.parquet")
    )
    pd.testing.assert_frame_equal(read_series(j1), read_series(j2))


def test_replication_does_not_depend_on_how_many_run(
    thirty: dict[str, Path], tmp_path: Path
) -> None:
    five = _run(tmp_path / "five", 5)
    runs30 = pd.read_parquet(thirty["j1"] / "runs.parquet")
    runs5 = pd.read_parquet(tmp_path / "five" / "runs.parquet")
    assert len(runs5) == 5
    pd.testing.assert_frame_equal(runs5, runs30.iloc[:5].reset_index(drop=True))
    series30 = read_series(thirty["j1"])
    pd.testing.assert_frame_equal(
        five.series, series30[series30["replication"] < 5].reset_index(drop=True)
    )


def test_in_memory_equals_on_disk(thirty: dict[str, Path]) -> None:
    mem = _run(None, 30)
    pd.testing.assert_frame_equal(mem.runs, pd.read_parquet(thirty["j1"] / "runs.parquet"))


def _metrics(runs: pd.DataFrame, design: str) -> pd.DataFrame:
    return runs[runs["design"] == design].drop(columns=ID_COLS).reset_index(drop=True)


def test_crn_identical_designs_identical_rows() -> None:
    scn = load_scenario("baseline", SMALL)
    designs = [Design("a", scn), Design("b", scn.model_copy(deep=True))]
    res = run_experiment(designs, 4, root_seed=SEED, crn=True, progress=False)
    a, b = _metrics(res.runs, "a"), _metrics(res.runs, "b")
    pd.testing.assert_frame_equal(a, b)
    assert a["gap_auc"].nunique() == 4  # the replications themselves differ


def test_independent_streams_differ_between_designs() -> None:
    scn = load_scenario("baseline", SMALL)
    designs = [Design("a", scn), Design("b", scn.model_copy(deep=True))]
    res = run_experiment(designs, 4, root_seed=SEED, crn=False, progress=False)
    a, b = _metrics(res.runs, "a"), _metrics(res.runs, "b")
    assert (a["seed"] != b["seed"]).all()
    assert (a["gap_auc"] != b["gap_auc"]).all()
    # design 0 keeps the CRN streams: crn=False only moves the other designs
    crn = run_experiment([Design("a", scn)], 4, root_seed=SEED, crn=True, progress=False)
    pd.testing.assert_frame_equal(a, _metrics(crn.runs, "a"))


def test_root_seed_changes_results() -> None:
    r1 = _run(None, 3, seed=1).runs
    r2 = _run(None, 3, seed=2).runs
    again = _run(None, 3, seed=1).runs
    pd.testing.assert_frame_equal(r1, again)
    assert (r1["seed"] != r2["seed"]).all()
    assert (r1["gap_auc"] != r2["gap_auc"]).all()


def test_tactics_lever_leaves_site_draws_alone() -> None:
    base = load_scenario("baseline", SMALL)
    harder = load_scenario("baseline", [*SMALL, "programme.tactics.hard=0.9"])
    res = run_experiment(
        [Design("base", base), Design("harder", harder)], 3, root_seed=SEED, progress=False
    )
    s = res.sites
    cols = [*SITE_DRAWS, "join_month"]  # recruitment order uses readiness + its own stream
    a = s[s["design"] == "base"][["replication", "site", *cols]].reset_index(drop=True)
    b = s[s["design"] == "harder"][["replication", "site", *cols]].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert a["readiness"].nunique() > 1
    # ... while the lever does change the outcome
    r = res.runs
    assert not np.array_equal(
        r[r["design"] == "base"]["gap_auc"].to_numpy(),
        r[r["design"] == "harder"]["gap_auc"].to_numpy(),
    )


@pytest.mark.parametrize(
    ("lever", "same"),
    [
        # clinician dispositions come from their own stream: sites and network unchanged
        ("clinicians.threshold_mean=0.6", ("sites", "profession", "network")),
        # a control arm's sites come from the control stream: programme sites unchanged
        ("control.n_sites=4", ("sites", "profession")),
        # programme levers change nothing drawn at set-up
        ("programme.budget_per_site_month=4000", ("sites", "profession", "threshold", "network")),
    ],
)
def test_per_mechanism_streams_at_set_up(lever: str, same: tuple[str, ...]) -> None:
    m0 = CommunityModel(scenario=load_scenario("baseline", SMALL), replication=2, root_seed=SEED)
    m1 = CommunityModel(
        scenario=load_scenario("baseline", [*SMALL, lever]), replication=2, root_seed=SEED
    )
    n = m0.n_sites  # programme-arm sites of the base model
    k = int(m0.sites.size.sum())  # their clinicians (rows 0..k-1 in both models)
    if "sites" in same:
        for col in SITE_DRAWS:
            np.testing.assert_array_equal(getattr(m0.sites, col), getattr(m1.sites, col)[:n])
    if "profession" in same:
        np.testing.assert_array_equal(m0.clinicians.profession, m1.clinicians.profession[:k])
    if "threshold" in same:
        np.testing.assert_array_equal(m0.clinicians.threshold, m1.clinicians.threshold[:k])
    if "network" in same:
        w0, w1 = m0.networks.within, m1.networks.within[:k, :k]
        assert (w0 != w1).nnz == 0
    if lever.startswith("clinicians."):
        assert not np.array_equal(m0.clinicians.threshold, m1.clinicians.threshold[:k])


def test_control_arm_leaves_programme_clinicians_alone() -> None:
    m0 = CommunityModel(scenario=load_scenario("baseline", SMALL), replication=2, root_seed=SEED)
    m1 = CommunityModel(
        scenario=load_scenario("baseline", [*SMALL, "control.n_sites=4"]),
        replication=2,
        root_seed=SEED,
    )
    k = int(m0.sites.size.sum())
    assert np.array_equal(m1.sites.arm[m1.clinicians.site[:k]], np.ones(k))  # rows 0..k-1
    np.testing.assert_array_equal(m0.clinicians.threshold, m1.clinicians.threshold[:k])
    np.testing.assert_array_equal(m0.clinicians.reactance, m1.clinicians.reactance[:k])
    assert (m0.networks.within != m1.networks.within[:k, :k]).nnz == 0
