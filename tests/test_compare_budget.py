"""What a budget holder reads in ``ccsim compare`` (finance lead's trial): cautions when designs
give support for different lengths, the gap at one common month, the cost split, the
incremental cost per point (ICER) and differences fixed by the design."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.compare import run_comparison
from sim.compare.incremental import _verdict, incremental_rows
from sim.compare.report import comparison_markdown, format_terminal
from sim.compare.wording import percent, plain_line
from sim.experiment import Design
from sim.loader import load_scenario

SMALL = ["sites.n_sites=6", "time.followup_months=12", "programme.recruitment.window_months=2"]
REPS = 6


def _design(name: str, *overrides: str) -> Design:
    return Design(name, load_scenario("baseline", [*SMALL, *overrides]))


@pytest.fixture(scope="module")
def cmp():
    designs = [
        _design("base", "time.programme_months=12"),
        _design("long", "time.programme_months=18"),
        _design("half", "time.programme_months=12", "programme.budget_per_site_month=750"),
    ]
    return run_comparison(designs, reps=REPS, root_seed=5, progress=False)


def test_different_support_lengths_are_cautioned_and_compared_at_one_month(cmp) -> None:
    text = format_terminal(cmp)
    assert "Caution: The designs give support for different lengths (base 12, long 18" in text
    assert "Caution: The designs are observed for different times (base 24, long 30" in text
    assert "> **Caution:** The designs give support" in comparison_markdown(cmp, [], Path("."))
    # the gap at the end of the common window is the series' gap in month tau - 1 of each run
    assert cmp.tau == 24
    s = cmp.experiment.series
    at = s[s["month_in_programme"] == 23].groupby("design")["gap_true"].mean()
    row = cmp.table.set_index(["design", "metric"]).loc[("long", "gap_window_end")]
    assert row["mean_design"] == pytest.approx(at["long"])
    assert row["mean_baseline"] == pytest.approx(at["base"])
    assert row["window_months"] == 24


def test_the_own_values_show_what_the_cost_is_made_of(cmp) -> None:
    text = format_terminal(cmp).splitlines()
    runs = cmp.experiment.runs.groupby("design").mean(numeric_only=True)
    core = next(x for x in text if x.strip().startswith("of which core team"))
    assert core.split()[-3:] == [f"{runs.loc[d, 'cost_core_team']:,.0f}" for d in cmp.designs]
    # the core team costs the same per month, so the long programme's is 18/12 of the base's
    assert runs.loc["long", "cost_core_team"] == 1.5 * runs.loc["base", "cost_core_team"]


def test_incremental_cost_is_the_ratio_of_mean_differences(cmp) -> None:
    runs = cmp.experiment.runs.groupby("design").mean(numeric_only=True)
    rows = {(r["design"], r["when"].split(" (")[0]): r for r in incremental_rows(cmp)}
    # the long programme ends support in another month: no "by programme end" ratio for it
    assert ("long", "by programme end") not in rows
    half = rows[("half", "by programme end")]
    d_cost = runs.loc["half", "cost_total"] - runs.loc["base", "cost_total"]
    d_points = -100 * (
        runs.loc["half", "gap_programme_end"] - runs.loc["base", "gap_programme_end"]
    )
    assert half["cost"] == pytest.approx(d_cost)
    assert half["points"] == pytest.approx(d_points)
    assert d_cost < 0  # half the site budget
    long = rows[("long", "at month 24")]
    assert long["cost"] > 0 and long["verdict"] != "undefined"


@pytest.mark.parametrize(
    ("cost", "points", "verdict"),
    [
        (-10.0, 2.0, "dominates: costs no more and closes no less"),
        (10.0, -2.0, "dominated: costs no less and closes no more"),
        (0.0, 0.0, "no difference"),
        (1000.0, 4.0, "250 per extra point closed"),
        (-1000.0, -4.0, "saves 250 per point given up"),
    ],
)
def test_icer_verdicts(cost: float, points: float, verdict: str) -> None:
    assert _verdict(cost, points) == verdict


def test_a_difference_fixed_by_the_design_is_not_given_a_ci(cmp) -> None:
    row = cmp.table.set_index(["design", "metric"]).loc[("half", "cost_total")]
    assert row["diff_sd"] == 0 and row["diff_mean"] < 0  # every site-month costs 750 less
    line = plain_line(pd.Series({**row.to_dict(), "design": "half", "metric": "cost_total"}))
    assert f"in every one of the {REPS} paired runs (no spread: the difference is set" in line
    assert "CI" not in line and "P(" not in line


def test_percent_never_rounds_a_nonzero_share_to_0_or_100() -> None:
    assert [percent(x) for x in (0.0, 0.005, 0.0051, 0.995, 1.0)] == [
        "0%",
        "<1%",
        "1%",
        ">99%",
        "100%",
    ]
