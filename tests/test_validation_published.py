"""Patterns 9-10: Keystone ICU and Matching Michigan against published figures.

Rows are decided in :mod:`sim.validation.published` from the sources' own intervals (published
95% CIs; exact binomial CIs of 1, 5 and 11 of 17 ICUs), never tuned to pass. 40 replications
with a fixed seed: the simulated median IRR varies by ~0.01 between seeds at this size, far
inside the published CIs' widths (0.27-0.34).
"""

from __future__ import annotations

import pytest

from sim.loader import load_scenario
from sim.validation import published

REPS = 40
SEED = 20240


@pytest.fixture(scope="module")
def keystone_rows() -> dict[str, published.Row]:
    res = published.run_published("keystone", REPS, SEED, jobs=2)
    rows = published.keystone_rows(res.runs, load_scenario("keystone").published_dict())
    return {r.check: r for r in rows}


@pytest.fixture(scope="module")
def matching_rows() -> dict[str, published.Row]:
    scn = load_scenario("matching_michigan")
    res = published.run_published("matching_michigan", REPS, SEED, jobs=2)
    rows = published.matching_rows(res.runs, res.series, scn.time.programme_months)
    return {r.check.split(" (")[0]: r for r in rows}


@pytest.mark.parametrize("window", ["IRR 0-3 months", "IRR 16-18 months", "IRR 34-36 months"])
def test_keystone_irr_inside_published_ci(keystone_rows, window) -> None:
    row = keystone_rows[window]
    assert row.passed, f"{window}: simulated {row.simulated:.3f}, published {row.expected}"


def test_keystone_baseline_rates_are_skewed(keystone_rows) -> None:
    row = keystone_rows["site baseline rates skewed: mean / median"]
    assert row.passed, f"mean/median {row.simulated:.2f}, published 7.7/2.7"


def test_keystone_median_icu_can_reach_zero_by_month_3(keystone_rows) -> None:
    row = next(r for k, r in keystone_rows.items() if k.startswith("median ICU at 0 events"))
    assert row.passed, row.check


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the model follows the adjusted IRR (0.34 x 7.7 = 2.6), "
    "not the crude mean of 1.4 (docs/validation.md)",
)
def test_keystone_mean_rate_at_16_18_months(keystone_rows) -> None:
    assert keystone_rows["mean ICU rate at 16-18 months (per 1000 catheter-days)"].passed


@pytest.mark.parametrize(
    "check",
    [
        "programme-arm rate after 20 months",
        "net IRR vs control from counts",
        "share of sites: transformed",
        "share of sites: boosted",
        "share of sites: little change",
    ],
)
def test_matching_michigan(matching_rows, check) -> None:
    row = matching_rows[check]
    assert row.passed, f"{check}: simulated {row.simulated:.3f}, expected {row.expected}"


def _row(check: str, passed: bool) -> published.Row:
    return published.Row("11 Medical Innovation", check, "x", "src", 0.2, 0.1, 0.3, passed)


def test_failing_rows_sharing_one_explanation_are_listed_together() -> None:
    from sim.validation.report import KNOWN_GAPS, known_gaps

    gap = "max |median - observed| curve gap"
    text = known_gaps(
        [
            _row(f"Bloomington: {gap}", False),
            _row(f"Quincy: {gap}", True),  # passing rows are not listed
            _row(f"Galesburg: {gap}", False),
            _row("an unexplained check", False),
        ]
    )
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(items) == 2, items
    assert "Bloomington" in items[0] and "Galesburg" in items[0] and "Quincy" not in text
    assert items[0].count(KNOWN_GAPS[gap][:40]) == 1  # the explanation is written once
    assert items[1].endswith("No explanation yet: a finding.")
    assert known_gaps([_row("ok", True)]) == ""
    few = known_gaps([_row("an unexplained check", False)], reps=10)
    assert "With only 10 replications per design this may be noise" in few
    assert known_gaps([_row(f"Galesburg: {gap}", False)], reps=10).count(KNOWN_GAPS[gap]) == 1


def test_medical_innovation_figure_is_written(tmp_path) -> None:
    from sim.validation.report import medinnov_figure

    path, inside, total = medinnov_figure(tmp_path / "mi.png")
    assert path.stat().st_size > 20_000  # a four-panel PNG, not an empty canvas
    assert total == 4 * 17  # four towns, 17 monthly survey periods
    assert 0 <= inside <= total


def test_a_report_made_with_few_replications_says_so_in_its_header() -> None:
    from sim.validation.report import FEW_REPS, few_reps_note

    assert "20 replications per design is below 100" in few_reps_note(20)
    assert few_reps_note(FEW_REPS) == "" and few_reps_note(200) == ""
