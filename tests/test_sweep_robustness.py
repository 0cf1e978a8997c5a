"""Levers and uncertainties (XLRM) in a sweep file: policies x the same states of the world, and
the robustness of each policy (mean, worst decile, Savage regret, Starr satisficing share).

The sweep here is a 2 x 2 grid of levers (4 policies) in 3 states of the world drawn over two
uncertainties, 2 replications, on a 4-site, 9-month community (24 runs, one job: seconds).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, TINY_TOML, ccsim, one_error_line

import sim.sweep
from sim.sweep import (
    SweepInterrupted,
    load_sweep,
    point_command,
    point_scenario,
    read_sweep,
    run_sweep,
)
from sim.sweep.report import summarise_sweep
from sim.sweep.robustness import most_robust, regret, robustness_table
from sim.sweep.robustness_report import verdict

LEVERS = ["programme.tactics.hard", "programme.tactics.soft"]
UNCERTAIN = {"sites.readiness_mean": (0.3, 0.8), "challenge.evidence_strength": (0.4, 0.9)}
POLICIES, STATES, REPS, SEED, THRESHOLD = 4, 3, 2, 11, 8.4
SWEEP = f"""name = "rob"
base = "tiny.toml"
seed = {SEED}
replications = {REPS}
scenarios = {STATES}
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
[parameters."programme.tactics.soft"]
levels = [0.1, 0.7]
[uncertainties."sites.readiness_mean"]
range = [0.3, 0.8]
[uncertainties."challenge.evidence_strength"]
range = [0.4, 0.9]
[thresholds]
gap_auc = {THRESHOLD}
"""
OUTCOMES = ["gap_auc", "events_avoided", "share_boosted"]


def _file(here: Path, text: str = SWEEP, name: str = "rob.toml") -> Path:
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / name).write_text(text, encoding="utf-8")
    return here / name


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The finished sweep, reported for a lower-better, a higher-better and an unknown outcome."""
    here = tmp_path_factory.mktemp("robust")
    spec = load_sweep(_file(here))
    out = run_sweep(spec, here / "out", progress=False)
    summarise_sweep(spec, out, OUTCOMES)
    return out


def _state_means(folder: Path, outcome: str) -> pd.DataFrame:
    """Policies x states of ``outcome``, computed here with pandas alone from the raw files."""
    runs = pd.read_parquet(folder / "runs")
    design = pd.read_parquet(folder / "design.parquet")
    merged = runs.merge(design[["point", "policy", "state"]], on="point")
    return merged.groupby(["policy", "state"])[outcome].mean().unstack("state")


def test_every_policy_runs_in_the_same_states_of_the_world(folder: Path) -> None:
    design = pd.read_parquet(folder / "design.parquet")
    assert list(design.columns) == ["point", "policy", "state", *LEVERS, *UNCERTAIN]
    assert design.attrs == {"levers": LEVERS, "uncertainties": list(UNCERTAIN)}
    assert len(design) == POLICIES * STATES
    assert (design["policy"] == design["point"] // STATES).all()
    assert (design["state"] == design["point"] % STATES).all()
    for _, rows in design.groupby("state"):  # identical uncertainty values in every policy
        assert len(rows[list(UNCERTAIN)].drop_duplicates()) == 1 and len(rows) == POLICIES
    for _, rows in design.groupby("policy"):  # a policy's levers are fixed across states
        assert len(rows[LEVERS].drop_duplicates()) == 1
    assert len(design[LEVERS].drop_duplicates()) == POLICIES
    states = design[design["policy"] == 0]
    for key, (low, high) in UNCERTAIN.items():  # Latin hypercube: one state per third
        strata = np.floor((states[key] - low) / (high - low) * STATES)
        assert sorted(strata) == list(range(STATES)), key
    runs = read_sweep(folder)  # common random numbers: replication r has one seed everywhere
    assert (runs.groupby("replication")["seed"].nunique() == 1).all()


def test_robustness_equals_an_independent_pandas_computation(folder: Path) -> None:
    table = pd.read_parquet(folder / "robustness_gap_auc.parquet").set_index("policy")
    values = _state_means(folder, "gap_auc")
    best = values.min(axis=0)  # gap_auc: lower is better
    mine = values.sub(best, axis=1)
    arr = values.to_numpy()
    np.testing.assert_allclose(table["mean"], arr.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["p10"], np.percentile(arr, 10, axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["p90"], np.percentile(arr, 90, axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["max_regret"], mine.max(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(table["mean_regret"], mine.mean(axis=1), rtol=1e-12, atol=1e-12)
    met = (arr <= THRESHOLD).mean(axis=1)
    np.testing.assert_array_equal(table["satisficing_share"], met)
    assert 0 < met.sum() < POLICIES  # the threshold tells the policies apart here
    assert (table["states"] == STATES).all()
    assert table.loc[0, "label"] == "P0 (tactics.hard=0.2, tactics.soft=0.1)"
    assert list(table.loc[3, LEVERS]) == [0.8, 0.7]


def test_the_best_policy_of_each_state_has_regret_zero(folder: Path) -> None:
    values = _state_means(folder, "gap_auc")
    r = regret(values, lower=True)
    assert (r.min(axis=0) == 0).all() and (r >= 0).all().all()
    for state in values.columns:
        assert r.loc[values[state].idxmin(), state] == 0
    up = regret(_state_means(folder, "events_avoided"), lower=False)
    assert (up.min(axis=0) == 0).all() and (up >= 0).all().all()


def test_the_worst_decile_is_on_the_bad_side(folder: Path) -> None:
    lower = pd.read_parquet(folder / "robustness_gap_auc.parquet")
    higher = pd.read_parquet(folder / "robustness_events_avoided.parquet")
    unknown = pd.read_parquet(folder / "robustness_share_boosted.parquet")
    # gap_auc: lower is better, so the worst decile is the high tail (above the mean)
    assert (lower["worst_decile"] == lower["p90"]).all()
    assert (lower["worst_decile"] >= lower["mean"]).all()
    assert (higher["worst_decile"] == higher["p10"]).all()
    assert (higher["worst_decile"] <= higher["mean"]).all()
    assert unknown[["worst_decile", "max_regret", "mean_regret"]].isna().all().all()
    assert unknown[["p10", "p90", "mean"]].notna().all().all()
    report = (folder / "sweep.md").read_text()
    assert "does not know whether lower or higher share_boosted is better" in report
    assert "Lower gap_auc is better, so the worst decile is the 90th percentile" in report
    assert "Higher events_avoided is better, so the worst decile is the 10th percentile" in report


def test_report_names_the_most_robust_policy_and_draws_regret(folder: Path) -> None:
    table = pd.read_parquet(folder / "robustness_gap_auc.parquet")
    best = int(table.loc[table["max_regret"].idxmin(), "policy"])
    report = (folder / "sweep.md").read_text()
    assert f"Minimax regret (Savage 1951) of gap_auc: {table.loc[best, 'label']}" in report
    assert "Starr 1963 domain criterion" in report
    assert (folder / "figures" / "regret_gap_auc.png").stat().st_size > 10_000
    assert not (folder / "figures" / "regret_share_boosted.png").exists()


def test_disagreeing_criteria_are_named() -> None:
    """Two policies, two states (lower is better): P0 = (1, 4), P1 = (3, 3). P0 has the lower
    mean (2.5 < 3) and the lower max regret (1 < 2: state 0 best 1, state 1 best 3); P1 has the
    better worst decile (p90 3 < 1 + 0.9 * 3 = 3.7)."""
    values = pd.DataFrame([[1.0, 4.0], [3.0, 3.0]], index=pd.Index([0, 1], name="policy"))
    table = robustness_table(values, lower=True)
    assert table["max_regret"].tolist() == [1.0, 2.0]
    assert table["worst_decile"].tolist() == pytest.approx([3.7, 3.0])
    found = {f.criterion: f.policies for f in most_robust(table, True)}
    assert found == {"mean": [0], "worst_decile": [1], "max_regret": [0], "mean_regret": [0]}
    text = "\n".join(verdict(most_robust(table, True), {0: "P0", 1: "P1"}, "gap_auc", 2))
    assert "The criteria disagree" in text and "best worst decile: P1" in text


def test_a_point_is_reproduced_with_its_state_of_the_world(
    folder: Path, tmp_path: Path, capsys
) -> None:
    design = pd.read_parquet(folder / "design.parquet").set_index("point")
    point = 7  # policy 2, state 1
    _, values = point_scenario(folder, point)
    assert values == {k: design.loc[point, k] for k in [*LEVERS, *UNCERTAIN]}
    words = shlex.split(point_command(folder, point, replication=1))
    assert f"sites.readiness_mean={float(design.loc[point, 'sites.readiness_mean'])!r}" in words
    code, _, err = ccsim(capsys, *words[1:], "--out", tmp_path / "run", *FAST)
    assert code == 0, err
    theirs = pd.read_parquet(tmp_path / "run" / "runs.parquet").iloc[0]
    mine = read_sweep(folder).set_index(["point", "replication"]).loc[(point, 1)]
    for metric in ("gap_auc", "cost_total", "events_avoided", "dropouts"):
        assert theirs[metric] == mine[metric], metric
    out = tmp_path / "cmp"
    code, printed, err = ccsim(capsys, "compare", "--from-sweep", folder, "--points", "7,4",
                               "--reps", REPS, "--out", out, "--no-figures", "--quiet")  # fmt: skip
    assert code == 0, err
    # the legend names each point's policy and state of the world (point = policy x S + state)
    assert "point 7 (P2 in state 1): " in printed and "point 4 (P1 in state 1): " in printed
    runs = pd.read_parquet(out / "runs.parquet")
    rows = read_sweep(folder)
    for p in (7, 4):  # points 7 and 4: the same state 1, policies 2 and 1
        a = runs[runs["design"] == f"point {p}"].sort_values("replication")["gap_auc"]
        b = rows[rows["point"] == p].sort_values("replication")["gap_auc"]
        assert np.array_equal(a.to_numpy(), b.to_numpy()), p


def test_resume_after_an_interruption_gives_the_same_runs(
    folder: Path, tmp_path: Path, monkeypatch
) -> None:
    path, out = _file(tmp_path), tmp_path / "o"
    real, writes = sim.sweep.write_parquet, []

    def stop_at_third_part(frame: pd.DataFrame, dest: Path) -> None:
        writes.append(dest)
        if len(writes) == 3:
            raise KeyboardInterrupt
        real(frame, dest)

    monkeypatch.setattr(sim.sweep, "write_parquet", stop_at_third_part)
    with pytest.raises(SweepInterrupted, match=f"4 of {POLICIES * STATES * REPS} runs are saved"):
        run_sweep(load_sweep(path), out, progress=False)
    monkeypatch.setattr(sim.sweep, "write_parquet", real)
    run_sweep(load_sweep(path), out, progress=False)
    pd.testing.assert_frame_equal(read_sweep(out), read_sweep(folder), check_exact=True)
    for name in ("design.parquet",):
        assert (out / name).read_bytes() == (folder / name).read_bytes()


def test_a_plain_sweep_records_nothing_new() -> None:
    """Without uncertainties the manifest's spec (and so the fingerprint a folder resumes by)
    holds exactly the keys it held before levers and uncertainties existed."""
    here = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps"
    spec = load_sweep(here / "budget_x_soft.toml")
    assert set(spec.record()) == {
        "name", "description", "base", "overrides", "design", "samples", "replications",
        "seed", "outcomes", "morris_levels", "source", "parameters",
    }  # fmt: skip
    assert spec.names == [p.key for p in spec.parameters]


def test_sensitivity_samples_uncertainties_as_parameters(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path)
    code, _, err = ccsim(capsys, "sensitivity", path, "--method", "morris", "--samples", 2,
                           "--out", tmp_path / "s", *FAST)  # fmt: skip
    assert code == 0, err
    assert "note: the 2 uncertainties are sampled as ordinary parameters" in err
    design = pd.read_parquet(tmp_path / "s" / "design.parquet")
    assert list(design.columns) == ["point", *LEVERS, *UNCERTAIN]
    assert len(design) == 2 * (len(LEVERS) + len(UNCERTAIN) + 1)  # Morris: r (d + 1)


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ("range = [0.3, 0.8]", "levels = [0.3, 0.8]", ["uncertainties.sites.readiness_mean",
                                                      "takes only range"]),
        ('[uncertainties."challenge.evidence_strength"]',
         '[uncertainties."programme.tactics.soft"]', ["programme.tactics.soft is both a lever"]),
        (f"scenarios = {STATES}", "scenarios = 1", ["scenarios = 1", "[2, 10000000]"]),
        (f"scenarios = {STATES}\n", "", ["need scenarios = N"]),
        (f"gap_auc = {THRESHOLD}", "gap_acu = 3", ["thresholds.gap_acu", "not a run metric",
                                                   "did you mean 'gap_auc'"]),
        (f"gap_auc = {THRESHOLD}", "share_boosted = 0.5",
         ["does not know whether lower or higher", "{at_least = 0.5}"]),
        ('seed = ', 'design = "sobol"\nseed = ', ['design = \'sobol\' with uncertainties']),
        ("seed = ", 'outcomes = ["events_avoided"]\nseed = ',
         ["thresholds.gap_auc: not kept by the file's outcomes (events_avoided)"]),
        ('range = [0.4, 0.9]', 'range = [0.4, 0.9]\ndummy = true',
         ["uncertainties.challenge.evidence_strength: dummy = true"]),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys, old: str, new: str, needles: list[str]
) -> None:
    assert old in SWEEP
    path = _file(tmp_path, SWEEP.replace(old, new, 1))
    code, _, err = ccsim(capsys, "sweep", path, "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, *needles)
    assert not (tmp_path / "o" / "runs").exists()


def test_scenarios_without_uncertainties_is_one_line(tmp_path: Path, capsys) -> None:
    plain = SWEEP.split("[uncertainties.")[0]
    code, _, err = ccsim(capsys, "sweep", _file(tmp_path, plain), "--out", tmp_path / "o", *FAST)
    one_error_line(code, err, "scenarios needs [uncertainties.")
