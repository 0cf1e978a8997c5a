"""The sentences of ``ccsim compare`` (second user trial): the gap a year after support ends
instead of "sustainment", which gap cost per point uses, ties, mostly censored times, one
number of decimals per sentence, and the gap-area window."""

from __future__ import annotations

import numpy as np
import pytest

from sim.compare import OUTCOME_BY_METRIC, OUTCOMES, paired_difference
from sim.compare.report import plain_line
from sim.compare.wording import decimals, intervals_caveat


def _row(metric: str, mean: float, low: float, high: float, **extra: object) -> dict:
    """A row of the comparison table, half against baseline over 200 pairs."""
    return {
        "design": "half",
        "baseline": "baseline",
        "metric": metric,
        "n_pairs": 200,
        "n_missing": 0,
        "diff_mean": mean,
        "diff_sd": 1.0,
        "ci_low": low,
        "ci_high": high,
        "p_better": 0.5,
        **extra,
    }


# ------------------------------------------------------------------ 1: not "sustainment"


def test_the_gap_a_year_after_support_ends_replaces_sustainment() -> None:
    metrics = [o.metric for o in OUTCOMES]
    assert "sustainment" not in metrics
    assert metrics.index("gap_followup_12") == metrics.index("gap_programme_end") + 1
    o = OUTCOME_BY_METRIC["gap_followup_12"]
    assert o.lower_is_better and o.scale == 100.0 and o.unit == "share of starting gap (0-1)"
    line = plain_line(_row("gap_followup_12", 0.043, 0.031, 0.055, p_better=0.1))
    assert line == (
        "half leaves 4.3 points more of the starting gap open a year after support ends than "
        "baseline (95% CI 3.1-5.5); P(smaller gap) = 0.10"
    )
    fewer = plain_line(_row("gap_followup_12", -0.043, -0.055, -0.031))
    assert "leaves 4.3 points fewer of the starting gap open a year after support" in fewer


# ------------------------------------------------------------------ 2: what intervals mean


def test_the_intervals_caveat_names_the_replications_and_what_it_is_not() -> None:
    assert intervals_caveat(200) == (
        "The CIs and P(better) show the model's own randomness over the 200 paired "
        "replications, not uncertainty in the model's parameters or in what a real programme "
        "would achieve: more replications narrow them without making the model more right."
    )


# ------------------------------------------------------------------ 3: which gap


def test_cost_per_point_says_it_is_the_gap_closed_by_programme_end() -> None:
    line = plain_line(_row("cost_per_gap_point", -3228.2, -3276.0, -3183.4, p_better=1.0))
    assert line == (
        "half costs 3,228 less per point of gap closed by programme end than baseline "
        "(95% CI 3,183-3,276); P(cheaper per point) = 1.00"
    )
    assert OUTCOME_BY_METRIC["cost_per_gap_point"].label == (
        "cost per point of gap closed by programme end"
    )


# ------------------------------------------------------------------ 5: ties


def test_paired_difference_gives_the_shares_better_same_and_worse() -> None:
    # 100 pairs of costs: 17 cheaper by 2,000, 83 the same (as in the trial: P = 0.58)
    base = np.full(100, 1_128_000.0)
    design = base.copy()
    design[:17] -= 2_000.0
    res = paired_difference(design, base, lower_is_better=True)
    assert res["p_better"] == pytest.approx(0.17 + 0.83 / 2)  # ties still count one half
    assert (res["share_better"], res["share_tied"], res["share_worse"]) == pytest.approx(
        (0.17, 0.83, 0.0)
    )
    assert res["n_ties"] == 83


def test_many_ties_are_said_plainly() -> None:
    shares = {"share_better": 0.17, "share_tied": 0.83, "share_worse": 0.0}
    line = plain_line(_row("cost_total", -385.0, -570.0, -260.0, p_better=0.585, **shares))
    assert line == (
        "half costs 385 less than baseline (95% CI 260-570); P(cheaper) = 0.58: cheaper in "
        "17% of pairs, the same in 83%, dearer in 0%"
    )
    # a table without the share columns: the shares follow from n_ties and P(better)
    old = plain_line(_row("t50_months", 2.0, 1.0, 3.0, p_better=0.05, n_ties=20))
    assert old.endswith("P(faster) = 0.05: faster in 0% of pairs, the same in 10%, slower in 90%")
    few = {"share_better": 0.55, "share_tied": 0.04, "share_worse": 0.41}
    line = plain_line(_row("gap_programme_end", -0.001, -0.003, 0.001, p_better=0.57, **few))
    assert line.endswith("P(smaller gap) = 0.57")  # under 5% ties: the P alone


# ------------------------------------------------------------------ 6: mostly censored


def test_mostly_censored_times_say_they_compare_restricted_means() -> None:
    row = _row("t90_months", 3.05, 2.6, 3.6, p_better=0.06, window_months=48.0)
    row |= {"not_reached_design": 172, "not_reached_baseline": 30}
    assert plain_line(row).endswith(
        "[not reached within 48 months in 172 half and 30 baseline runs, counted as 48: with "
        "most runs of half not there, this is a difference between restricted means up to 48 "
        "months and mostly reflects how many runs got there, not a typical time]"
    )
    row |= {"not_reached_design": 100, "not_reached_baseline": 12}  # half of 200: not most
    assert plain_line(row).endswith(
        "[not reached within 48 months in 100 half and 12 baseline runs, counted as 48]"
    )
    row |= {"not_reached_design": 150, "not_reached_baseline": 101}
    assert "with most runs of half and baseline not there" in plain_line(row)


# ------------------------------------------------------------------ 7: one number of decimals


def test_one_number_of_decimals_per_sentence() -> None:
    months = plain_line(_row("t50_months", 0.2, 0.099, 0.4))
    assert "closes half the gap 0.20 months later than baseline (95% CI 0.10-0.40)" in months
    gap = plain_line(_row("gap_programme_end", -0.00057, -0.002, 0.00053))
    assert (
        "ends support with 0.06 points fewer of the starting gap open than baseline "
        "(95% CI 0.20 fewer to 0.05 more)"
    ) in gap
    big = plain_line(_row("t50_months", 2.35, 2.2, 2.5))
    assert "2.4 months later than baseline (95% CI 2.2-2.5)" in big  # one decimal at least
    money = plain_line(_row("cost_total", -1234.6, -2500.4, -0.3))
    assert "costs 1,235 less than baseline (95% CI 0-2,500)" in money  # money stays whole


def test_decimals_rule() -> None:
    gap = OUTCOME_BY_METRIC["gap_programme_end"]  # shown x100
    assert decimals(gap, 0.064, 0.061, 0.067) == 1  # 6.4, 6.1, 6.7 points
    assert decimals(gap, 0.011, 0.0098, 0.012) == 1  # 1.1, 1.0, 1.2: two digits for the largest
    assert decimals(gap, 0.0013, -0.0026, 0.000004) == 2  # 0.13, 0.26, 0.00 (never 0.0004)
    assert decimals(gap, -0.00057, 0.0, float("nan")) == 3  # zero and nan ignored
    assert decimals(gap, 1e-12) == 4  # at most four
    assert decimals(OUTCOME_BY_METRIC["cost_total"], 0.3) == 0


# ------------------------------------------------------------------ 8: the gap-area window


def test_the_gap_area_window_is_counted_from_programme_start() -> None:
    line = plain_line(_row("gap_auc", 2.1, 2.0, 2.2, window_months=48.0))
    assert line.endswith("[first 48 months from programme start]")
    assert "programme months" not in line
