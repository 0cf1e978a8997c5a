"""Good enough on every threshold together (sim.sweep.robustness_joint)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sweep.robustness_joint import joint_satisficing


def _table(rows: list[list[float]]) -> pd.DataFrame:
    """A policies x states table of state values."""
    frame = pd.DataFrame(rows, columns=range(len(rows[0])))
    frame.index.name, frame.columns.name = "policy", "state"
    return frame


def test_the_joint_share_counts_states_meeting_every_threshold() -> None:
    # 2 policies x 4 states: P0 is fast where it is dear and cheap where it is slow, so it
    # meets each threshold in half the states but both together in none; P1 meets both in
    # states 0 and 1 only (state 3's cost is undefined, which meets no threshold)
    t50 = _table([[20, 30, 20, 30], [22, 23, 30, 10]])
    cost = _table([[20000, 9000, 20000, 9000], [9000, 14000, 9000, np.nan]])
    got = joint_satisficing(
        {"t50": t50, "cost": cost}, {"t50": {"at_most": 24}, "cost": {"at_most": 15000}}
    )
    assert got["t50"].tolist() == [0.5, 0.75]
    assert got["cost"].tolist() == [0.5, 0.75]
    assert got["all"].tolist() == [0.0, 0.5]


def test_at_least_thresholds_and_a_single_outcome() -> None:
    share = _table([[0.2, 0.6, 0.9], [0.5, 0.5, 0.5]])
    got = joint_satisficing({"s": share}, {"s": {"at_least": 0.5}})
    assert got["s"].tolist() == got["all"].tolist() == [2 / 3, 1.0]


ROBUST_HEAD = """name = "joint"
base = "tiny.toml"
seed = 11
replications = 2
scenarios = 4
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
[uncertainties."sites.readiness_mean"]
range = [0.3, 0.8]
[thresholds]
"""
"""A small sweep with uncertainties, up to its [thresholds] table (filled in by each test)."""


def _robust_file(here, name: str, thresholds: str):
    """``here/name``: :data:`ROBUST_HEAD` with ``thresholds``, beside the tiny base scenario."""
    from cli_helpers import TINY_TOML

    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / name).write_text(ROBUST_HEAD + thresholds, encoding="utf-8")
    return here / name


def test_sweep_md_has_the_joint_section_with_shares_from_the_runs(tmp_path) -> None:
    """A sweep with two thresholds: the section's 'all' column equals the share of states
    where both state means (computed here with pandas alone) meet their thresholds."""
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep.report import summarise_sweep

    path = _robust_file(tmp_path, "j.toml", "gap_auc = 8.4\nevents_avoided = {at_least = 1.0}\n")
    spec = load_sweep(path)
    out = run_sweep(spec, tmp_path / "out", progress=False)
    shown = summarise_sweep(spec, out, ["gap_auc"])
    assert "## Good enough on every threshold together" in shown
    runs = pd.read_parquet(out / "runs").merge(pd.read_parquet(out / "design.parquet"), on="point")
    means = runs.groupby(["policy", "state"])[["gap_auc", "events_avoided"]].mean()
    both = ((means["gap_auc"] <= 8.4) & (means["events_avoided"] >= 1.0)).groupby("policy").mean()
    section = shown.split("## Good enough on every threshold together")[1]
    rows = [line for line in section.splitlines() if line.startswith("| P")]
    assert [row.rstrip(" |").rsplit("| ", 1)[-1] for row in rows] == [f"{v:.0%}" for v in both]


def test_a_changed_threshold_reuses_the_runs(tmp_path) -> None:
    """Thresholds only decide the report (a new-user trial had to re-run 1800 runs to add
    one): the same sweep with another or an extra threshold resumes with no new run, and the
    report uses the file's thresholds."""
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep.report import summarise_sweep

    first = _robust_file(tmp_path, "a.toml", "gap_auc = 8.4\n")
    out = run_sweep(load_sweep(first), tmp_path / "out", progress=False)
    parts = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("part-*.parquet")}
    spec = load_sweep(
        _robust_file(tmp_path, "b.toml", "gap_auc = 9.5\nevents_avoided = {at_least = 1.0}\n")
    )
    run_sweep(spec, out, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("part-*.parquet")} == parts
    report = summarise_sweep(spec, out, ["gap_auc"])
    assert "gap_auc <= 9.5" in report and "## Good enough on every threshold together" in report
