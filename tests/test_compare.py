"""Paired comparison: survival arithmetic, paired statistics, wording, CRN, and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.compare import bootstrap_ci, paired_difference, run_comparison
from sim.compare.report import plain_line
from sim.compare.survival import kaplan_meier, median_time, restricted_mean
from sim.experiment import Design
from sim.loader import load_scenario

# a small, fast community: 8 sites, 18 months of support and 6 of follow-up
SMALL = ["sites.n_sites=8", "time.programme_months=18", "time.followup_months=6"]


def _design(name: str, *overrides: str) -> Design:
    return Design(name, load_scenario("baseline", [*SMALL, *overrides]))


def test_kaplan_meier_and_restricted_mean_by_hand() -> None:
    # Runs closing at 2, 4, 6 months and one censored at 10: S drops by 1/4 at each event.
    curve = kaplan_meier(np.array([2.0, 4.0, 6.0, np.nan]), np.array([0, 0, 0, 1], bool), 10.0)
    assert curve["survival"].tolist() == [1.0, 0.75, 0.5, 0.25, 0.25]
    assert median_time(curve) == 4.0
    # Area under S to 10 = 2*1 + 2*.75 + 2*.5 + 4*.25 = 5.5 = mean(min(T, 10)) = (2+4+6+10)/4:
    # with censoring only at the horizon, the restricted mean is the mean restricted time.
    assert restricted_mean(curve, 10.0) == pytest.approx(5.5)
    assert restricted_mean(curve, 5.0) == pytest.approx((2 + 4 + 5 + 5) / 4)


def test_paired_difference_counts_wins_ties_and_missing() -> None:
    design = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    base = np.array([0.0, 0.0, 5.0, 4.0, 1.0])
    res = paired_difference(design, base, lower_is_better=True)
    # differences 1, 2, -2, 0: one win (lower), one tie (counts 1/2) out of 4 usable pairs
    assert res["n_pairs"] == 4 and res["n_missing"] == 1 and res["n_ties"] == 1
    assert res["diff_mean"] == pytest.approx(0.25)
    assert res["p_better"] == pytest.approx(1.5 / 4)
    higher = paired_difference(design, base, lower_is_better=False)
    assert higher["p_better"] == pytest.approx(2.5 / 4)


def test_bootstrap_ci_covers_the_mean_with_the_textbook_width() -> None:
    diffs = np.random.default_rng(5).normal(1.0, 1.0, 400)
    low, high = bootstrap_ci(diffs)
    assert low < 1.0 < high
    # normal theory: 2 * 1.96 * sd / sqrt(n) = 0.196; the bootstrap should be within ~25%
    assert high - low == pytest.approx(2 * 1.96 / 20, rel=0.25)
    assert bootstrap_ci(np.full(5, 2.0)) == (2.0, 2.0)  # no spread: the CI is the value


def _row(mean: float, low: float, high: float, **extra: object) -> dict[str, object]:
    return {
        "design": "soft_only",
        "baseline": "keystone",
        "metric": "t50_months",
        "n_pairs": 200,
        "n_missing": 0,
        "diff_mean": mean,
        "ci_low": low,
        "ci_high": high,
        "p_better": 0.03,
        "not_reached_design": 0,
        "not_reached_baseline": 0,
        "window_months": 32.0,
        "mean_design": 10.0,
        "mean_baseline": 6.0,
        **extra,
    }


def test_plain_language_lines() -> None:
    assert plain_line(_row(4.1, 3.2, 5.0)) == (
        "soft_only closes half the gap 4.1 months later than keystone (95% CI 3.2-5.0); "
        "P(faster) = 0.03"
    )
    assert "(95% CI 5.0-3.2)" not in plain_line(_row(-4.1, -5.0, -3.2))
    assert "4.1 months sooner than keystone (95% CI 3.2-5.0)" in plain_line(_row(-4.1, -5.0, -3.2))
    assert "4.1 months later than keystone (95% CI 0.5 sooner to 8.7 later)" in plain_line(
        _row(4.1, -0.5, 8.7)
    )
    censored = plain_line(_row(4.1, 3.2, 5.0, not_reached_design=7))
    assert censored.endswith("[not reached within 32 months in 7 soft_only and 0 keystone runs, "
                             "counted as 32]")  # fmt: skip
    small = plain_line(_row(0.04, 0.01, 0.07))  # two significant digits, never "0.0"
    assert "0.040 months later than keystone (95% CI 0.010-0.070)" in small
    assert "0.10 months later than keystone (95% CI 0.05-0.20)" in plain_line(
        _row(0.1, 0.05, 0.2)
    )  # one number of decimals for the mean and both ends
    never = plain_line(_row(4.1, 3.2, 5.0, not_reached_design=200))
    assert never.startswith("soft_only does not close half the gap within 32 months in any of 200")


@pytest.fixture(scope="module")
def crn_vs_independent():
    # Two close designs (soft tactics 0.6 vs 0.7): most run-to-run variation is shared.
    designs = [_design("default"), _design("softer", "programme.tactics.soft=0.7")]
    return run_comparison(designs, reps=30, root_seed=11, independent=True, progress=False)


def test_crn_narrows_paired_differences(crn_vs_independent) -> None:
    table = crn_vs_independent.table.set_index("metric")
    # Var(A - B) = Var A + Var B - 2 Cov(A, B): CRN keeps Cov high for close designs. With 30
    # pairs a sample variance ratio has a 95% range of about x0.5 to x2 around its true
    # value, so a true ratio near 0.2 or below stays under 0.5 with this fixed seed.
    for metric in ("t50_months", "gap_auc"):
        assert table.loc[metric, "var_ratio"] < 0.5, metric
        assert table.loc[metric, "ci_width_ratio"] < 0.75, metric
    assert not crn_vs_independent.crn


def test_compare_cli_writes_table_lines_and_figures(tmp_path) -> None:
    a, b = tmp_path / "small.toml", tmp_path / "small_hard.toml"
    body = "extends = 'baseline'\n[sites]\nn_sites = 6\n[time]\nprogramme_months = 12\n"
    a.write_text(body)
    b.write_text(body + "[programme.tactics]\nhard = 0.9\n")
    out = tmp_path / "cmp"
    code = main(["compare", str(a), str(b), "--reps", "4", "--jobs", "1", "--out", str(out),
                 "--quiet"])  # fmt: skip
    assert code == 0
    table = pd.read_parquet(out / "comparison.parquet")
    assert len(table) == 12 and set(table["design"]) == {"small_hard"}
    assert (table["n_pairs"] + table["n_missing"] == 4).all()
    assert table["line"].str.startswith("small_hard").all()
    text = (out / "comparison.md").read_text()
    assert "P(faster)" in text and "restricted" in text
    for name in ("gap_curves", "survival", "forest", "cost_effectiveness"):
        assert (out / "figures" / f"compare_{name}.png").stat().st_size > 10_000
    # each design's own values beside the differences: the cost row holds the runs' mean cost
    runs = pd.read_parquet(out / "runs.parquet").groupby("design")["cost_total"].mean()
    row = next(x for x in text.splitlines() if x.startswith("| total cost |"))
    assert row == f"| total cost | {runs['small']:,.0f} | {runs['small_hard']:,.0f} |"
    bad = main(["compare", str(a), str(b), "--baseline", "nope", "--out", str(tmp_path / "x")])
    assert bad == 2
