"""What ``ccsim compare`` writes and prints (second user trial): the gap a year after support
ends from ``runs.parquet`` (or a note why it is left out), the caveat on what the intervals
mean, Parquet labels and units that match the stored values, and one number of decimals per
table row."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sim.compare import run_comparison
from sim.compare.report import comparison_markdown, format_terminal, write_comparison
from sim.compare.windows import available_outcomes
from sim.experiment import Design
from sim.loader import load_scenario

# 8 sites, 12 months of support and 12 of follow-up: the gap a year after support ends exists
YEAR = ["sites.n_sites=8", "time.programme_months=12", "time.followup_months=12"]
REPS = 8


def _design(name: str, *overrides: str) -> Design:
    return Design(name, load_scenario("baseline", list(overrides)))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory):
    designs = [_design("base", *YEAR), _design("hard", *YEAR, "programme.tactics.hard=0.9")]
    cmp = run_comparison(designs, reps=REPS, root_seed=3, progress=False)
    out = tmp_path_factory.mktemp("cmp")
    write_comparison(cmp, out, figures=False)
    return cmp, out


def test_the_gap_a_year_on_is_compared_from_runs_parquet(written) -> None:
    cmp, out = written
    table = pd.read_parquet(out / "comparison.parquet").set_index("metric")
    assert "sustainment" not in table.index
    runs = cmp.experiment.runs.groupby("design")["gap_followup_12"].mean()
    row = table.loc["gap_followup_12"]
    assert row["mean_design"] == pytest.approx(runs["hard"])
    assert row["mean_baseline"] == pytest.approx(runs["base"])
    assert row["diff_mean"] == pytest.approx(runs["hard"] - runs["base"])
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert "sustainment" not in md.lower()
    assert "the gap a year after support ends is the gap 12 months after the programme ends" in md
    own = next(x for x in md.splitlines() if x.startswith("| gap a year after support ends"))
    assert own.split(" | ")[1] == f"{100 * runs['base']:.1f}"


def test_the_intervals_caveat_opens_the_terminal_and_the_markdown(written) -> None:
    cmp, out = written
    caveat = (
        f"The CIs and P(better) show the model's own randomness over the {REPS} paired "
        "replications, not uncertainty in the model's parameters or in what a real programme "
        "would achieve"
    )
    assert format_terminal(cmp).splitlines()[1].startswith(caveat)
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert caveat in md and md.index(caveat) < md.index("## In plain words")


def test_parquet_labels_and_units_match_the_stored_values(written) -> None:
    cmp, out = written
    table = pd.read_parquet(out / "comparison.parquet").set_index("metric")
    runs = cmp.experiment.runs.groupby("design").mean(numeric_only=True)
    gap = table.loc["gap_programme_end"]
    assert gap["label"] == "gap at programme end (share of starting gap)"
    assert gap["unit"] == "share of starting gap (0-1)"
    assert gap["mean_design"] == pytest.approx(runs.loc["hard", "gap_programme_end"])
    assert 0 <= gap["mean_design"] <= 1  # a share, as labelled, not points
    conflict = table.loc["conflict_mean"]
    assert (conflict["label"], conflict["unit"]) == ("conflict (0-1 scale)", "0-1 scale")
    assert conflict["mean_design"] == pytest.approx(runs.loc["hard", "conflict_mean"])
    units = table["unit"].to_dict()
    assert units["t50_months"] == "months" and units["gap_auc"] == "gap-months"
    assert units["cost_total"] == "currency" and units["events_avoided"] == "events"
    assert units["site_gini"] == "0-1 scale"
    assert not table["label"].str.contains("points").any()
    assert table.loc["cost_per_gap_point", "label"] == (
        "cost per point of gap closed by programme end"
    )
    # the shares of pairs beside P(better), which keeps its definition (ties count one half)
    p = table["share_better"] + table["share_tied"] / 2
    assert p.to_numpy() == pytest.approx(table["p_better"].to_numpy())
    assert (table["share_better"] + table["share_tied"] + table["share_worse"]).round(9).eq(1).all()


def test_each_table_row_has_one_number_of_decimals(written) -> None:
    cmp, out = written
    md = (out / "comparison.md").read_text(encoding="utf-8")
    section = md.split("## Paired differences")[1].split("##")[0]
    rows = [x for x in section.splitlines() if x.startswith("| hard |")]
    assert len(rows) == 12
    for row in rows:
        cells = row.split(" | ")
        places = [len(d) for d in re.findall(r"[\d,]+(?:\.(\d+))?", f"{cells[2]} {cells[3]}")]
        assert len(places) == 3, row
        assert len(set(places)) == 1, row  # the same decimals for the mean and both ends
    # the trial's row: a mean and CI ends of different sizes share the smallest one's decimals
    small = cmp.table.copy()
    at = small.index[(small["metric"] == "gap_programme_end") & (small["design"] == "hard")][0]
    small.loc[at, ["diff_mean", "ci_low", "ci_high"]] = [-0.00057, -0.002, 0.00053]
    md = comparison_markdown(replace(cmp, table=small), [], out)
    row = next(x for x in md.splitlines() if x.startswith("| hard | gap at programme end"))
    assert row.split(" | ")[2:4] == ["-0.06", "-0.20 to 0.05"]


def test_a_follow_up_under_a_year_leaves_the_gap_a_year_on_out(tmp_path: Path) -> None:
    short = ["sites.n_sites=8", "time.programme_months=12", "time.followup_months=6"]
    designs = [_design("base", *short), _design("soft", *short, "programme.tactics.soft=0.9")]
    cmp = run_comparison(designs, reps=3, root_seed=3, progress=False)
    assert "gap_followup_12" not in set(cmp.table["metric"])
    assert len(cmp.table) == 11
    note = (
        "The gap a year after support ends (`gap_followup_12`) is left out of the comparison: "
        "the follow-up is shorter than 12 months (base 6, soft 6 months), so no run of those "
        "designs has a value for it and no pair could be compared."
    )
    assert cmp.notes == [note]
    assert f"* {note}" in format_terminal(cmp)
    write_comparison(cmp, tmp_path, figures=False)
    md = (tmp_path / "comparison.md").read_text(encoding="utf-8")
    assert f"- {note}" in md and "gap a year after support ends is the gap 12" not in md


def test_one_design_without_a_year_of_follow_up_is_named() -> None:
    designs = [
        _design("base", "time.followup_months=24"),
        _design("short", "time.followup_months=6"),
    ]
    runs = pd.DataFrame(
        {"design": ["base", "base", "short", "short"], "gap_followup_12": [0.1, 0.2, None, None]}
    )
    kept, notes = available_outcomes(runs, designs)
    metrics = [o.metric for o in kept]
    assert "gap_followup_12" not in metrics and len(kept) == 12
    assert "gap_window_end" in metrics  # observed 48 and 30 months: the common month is compared
    assert notes[0].endswith(
        "the follow-up is shorter than 12 months (short 6 months), so no run of short has a "
        "value for it and no pair could be compared."
    )
    runs["gap_followup_12"] = [0.1, 0.2, 0.3, 0.4]
    assert len(available_outcomes(runs, designs)[0]) == 13
    kept, notes = available_outcomes(runs.drop(columns="gap_followup_12"), designs[:1])
    assert len(kept) == 11 and notes[0].endswith("left out of the comparison: the runs have no "
                                                 "value for it.")  # fmt: skip


def test_the_terminal_shows_each_designs_own_values_with_drop_outs(written) -> None:
    """Absolute values beside the differences (a director needs both): the terminal's own-values
    block gives each design's mean, here checked against runs.parquet for drop-outs and cost."""
    cmp, _ = written
    text = format_terminal(cmp)
    assert "Each design's own values (mean over the paired replications; T50 and T90" in text
    runs = cmp.experiment.runs.groupby("design")[["dropouts", "cost_total"]].mean()
    row = next(x for x in text.splitlines() if x.strip().startswith("sites dropped out"))
    assert row.split()[-2:] == [f"{runs.loc[d, 'dropouts']:.1f}" for d in ("base", "hard")]
    row = next(x for x in text.splitlines() if x.strip().startswith("total cost"))
    assert row.split()[-2:] == [f"{runs.loc[d, 'cost_total']:,.0f}" for d in ("base", "hard")]
    hard = [line for line in text.splitlines() if line.startswith("  hard ")]
    assert sum("drop" in line for line in hard) == 1  # one sentence on drop-outs


def test_the_horizon_note_names_the_year_on_gap_only_when_compared() -> None:
    from sim.compare.windows import design_notes

    designs = [_design("a", *YEAR), _design("b", "time.followup_months=6")]
    windows = {"a": 24, "b": 30}
    left_out = design_notes(designs, windows, 24.0, ["t50_months", "gap_followup_end"])
    kept = design_notes(designs, windows, 24.0, ["t50_months", "gap_followup_12"])
    assert "the gap at programme end and at follow-up end" in left_out[0]
    assert "the gap at programme end, a year after it and at follow-up end" in kept[0]
