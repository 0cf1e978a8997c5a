"""``ccsim calibrate`` user trial 3, item 2: a badly fitting calibration gets a verdict.

The summary counts, per group, the periods in which the observed curve lies outside the
simulated 95% band, warns about groups the fitted model does not reproduce, explains the
table's columns in one line, and says when the model comparison prefers another variant (with
the flag to use). The data: three groups of 30 with group mixing; two adopt steadily, the third
hardly at all, so one shared push cannot reproduce the third.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ccsim

from sim.calibration import ModelSpec, calibrate
from sim.calibration.data import from_arrays


def _laggard_group():
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 30)
    period = np.r_[rng.integers(1, 9, 30), rng.integers(1, 9, 30), [7, 8, 8] + [9] * 27]
    return from_arrays(group, period, 8)


@pytest.fixture(scope="module")
def laggard():
    data = _laggard_group()
    return data, calibrate(data, ModelSpec("linear"), intervals="none", n_sims=100, n_perm=0)


def test_band_check_counts_periods_outside_the_band(laggard) -> None:
    from sim.calibration.verdict import band_check

    data, res = laggard
    band = band_check(res, data)
    c = res.curves
    by_hand = (
        ((c.observed < c.sim_low - 1e-9) | (c.observed > c.sim_high + 1e-9))
        .groupby(c.group, sort=False)
        .sum()
    )
    assert band.outside.tolist() == by_hand.tolist() == [1, 1, 6]
    assert band.periods.tolist() == [8, 8, 8]
    assert band.not_reproduced.tolist() == [False, False, True]
    assert band.chance.iloc[2] < 0.05 <= band.chance.iloc[:2].min()


def test_summary_warns_explains_columns_and_names_the_preferred_flag(laggard) -> None:
    from sim.calibration.report import summary_text

    data, res = laggard
    lines = summary_text(res, data).splitlines()
    head = next(s for s in lines if s.startswith("group "))
    assert head.split()[-1] == "outside"
    row = next(s for s in lines if s.startswith("2 "))
    assert row.split()[-1] == "6"
    legend = next(s for s in lines if s.startswith("columns: "))
    for word in ("sat =", "t50 =", "max gap =", "'at'", "sims<=0.10 =", "outside ="):
        assert word in legend
    assert "fit check: 1 of 3 groups not reproduced" in lines
    warning = next(s for s in lines if s.startswith("warning: "))
    assert warning.startswith(
        "warning: the fitted model does not reproduce group 2: observed curve outside the "
        "simulated 95% band in 6 of 8 periods"
    )
    aic = res.comparison.set_index(["per_group_p", "never_adopters"]).aic
    assert (
        f"note: AIC prefers per-group p ({aic[True, False]:.2f} vs {aic[False, False]:.2f} for "
        "the fitted model): add --per-group-p"
    ) in lines


def test_a_model_that_fits_gets_no_warning() -> None:
    from sim.calibration import Params
    from sim.calibration.process import simulate_periods
    from sim.calibration.report import summary_text

    shell = _laggard_group()  # its people and groups; periods drawn from the model itself
    rng = np.random.default_rng(5)
    period = simulate_periods(shell, Params(np.full(3, 0.08), 0.5), ModelSpec("linear"), 1, rng)
    data = shell.with_periods(period[0])
    res = calibrate(data, ModelSpec("linear"), intervals="none", n_sims=100, n_perm=0)
    text = summary_text(res, data)
    assert "warning:" not in text and "AIC prefers" not in text
    assert "fit check: every group's observed curve stays within the simulated 95% band" in text


def _spec(per_group_p=False, never_adopters=False):
    return SimpleNamespace(per_group_p=per_group_p, never_adopters=never_adopters)


@pytest.mark.parametrize(
    ("fitted", "aics", "expected"),
    [
        (_spec(), [10.0, 12.0, 6.0, 9.0], "AIC prefers per-group p (6.00 vs 10.00"),
        (_spec(True), [10.0, 7.0, 14.0, 9.0], "drop --per-group-p and add --never-adopters"),
        (_spec(), [10.0, 12.0, 8.5, 9.0], None),  # better by 1.5 only: no preference
    ],
)
def test_aic_preference_names_the_flags(fitted, aics, expected) -> None:
    from sim.calibration.verdict import aic_preference

    table = pd.DataFrame(
        {
            "per_group_p": [False, False, True, True],
            "never_adopters": [False, True, False, True],
            "aic": aics,
        }
    )
    res = SimpleNamespace(comparison=table, fit=SimpleNamespace(spec=fitted, aic=np.nan))
    found = aic_preference(res)
    if expected is None:
        assert found is None
    else:
        assert expected in found


def test_cli_saves_the_verdict(tmp_path, capsys) -> None:
    data = _laggard_group()
    nodes = tmp_path / "n.csv"
    pd.DataFrame({"pid": data.ids, "site": data.group, "t": data.period}).to_csv(nodes, index=False)
    out = tmp_path / "out"
    code, text, err = ccsim(
        capsys, "calibrate", nodes, "--id", "pid", "--group", "site", "--time", "t",
        "--censored-at", "9", "--contagion", "linear", "--intervals", "none", "--sims", "100",
        "--perms", "0", "--no-figures", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    check = json.loads((out / "calibration.json").read_text())["fit_check"]
    assert check["not_reproduced"] == ["2"]
    assert [g["outside"] for g in check["groups"]] == [1, 1, 6]
    assert check["warning"] in text and check["aic_preference"].endswith("add --per-group-p")
