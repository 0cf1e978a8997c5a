"""``ccsim calibrate`` user trial 3, items 5 and 6: ``curves.png`` with more than 16 groups
always shows the worst-fitting ones and says which groups it shows; the model comparison shows a
progress bar of its variant fits (on a terminal only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calibration.plot import curves_figure


def _tables(groups: int = 25, periods: int = 6):
    """Targets and curves of ``groups`` villages, largest first; the smallest fits worst."""
    names = [f"v{k:02d}" for k in range(groups)]
    n = np.arange(100, 100 - groups, -1)
    gap = np.full(groups, 0.05)
    gap[-1] = 0.45  # the smallest village: left out by a "largest 16" rule
    gap[-2] = 0.30
    targets = pd.DataFrame({"group": names, "n": n, "max_gap": gap})
    t = np.arange(1, periods + 1)
    curves = pd.DataFrame(
        {
            "group": np.repeat(names, periods),
            "time": np.tile(t, groups),
            "observed": np.tile(t / periods, groups),
            "sim_median": np.tile(t / periods, groups),
            "sim_low": 0.0,
            "sim_high": 1.0,
        }
    )
    return curves, targets


def _panel_groups(fig) -> list[str]:
    return [ax.get_title().split(" ")[0] for ax in fig.axes if ax.get_visible()]


def test_worst_fitting_groups_are_always_shown_and_the_title_says_which() -> None:
    curves, targets = _tables()
    fig = curves_figure(curves, targets, "fit")
    shown = _panel_groups(fig)
    assert len(shown) == 16 and {"v24", "v23"} <= set(shown)
    assert shown == sorted(shown)  # in the table's order
    assert set(shown) - {"v24", "v23"} >= {f"v{k:02d}" for k in range(7)}  # then the largest
    title = fig._suptitle.get_text()
    assert title.startswith("fit\n16 of 25 groups: the 8 worst-fitting (largest max gap: v24, v23")
    assert title.endswith("and the 8 largest others; all in curves.parquet")


def test_groups_the_model_does_not_reproduce_are_shown_first() -> None:
    curves, targets = _tables()
    fig = curves_figure(curves, targets, "fit", flagged=["v20", "v21"])
    shown = _panel_groups(fig)
    assert {"v20", "v21", "v23", "v24"} <= set(shown) and len(shown) == 16
    title = fig._suptitle.get_text()
    assert "(not reproduced, then largest max gap: v20, v21, v24, v23," in title


def test_few_groups_are_all_shown_without_a_note() -> None:
    curves, targets = _tables(groups=5)
    fig = curves_figure(curves, targets, "fit")
    assert _panel_groups(fig) == [f"v{k:02d}" for k in range(5)]
    assert fig._suptitle.get_text() == "fit"


def _small():
    from sim.calibration.data import from_arrays

    group = np.repeat([0, 1], 12)
    period = np.r_[[1, 2, 2, 3, 4, 5, 6, 7, 9, 9, 9, 9], [2, 3, 3, 4, 5, 6, 9, 9, 9, 9, 9, 9]]
    return from_arrays(group, period, 8)


def test_model_comparison_shows_a_bar_of_its_variant_fits(capsys) -> None:
    from sim.calibration import ModelSpec
    from sim.calibration.fit import compare_models

    data = _small()
    quiet = compare_models(data, ModelSpec("linear"))
    assert capsys.readouterr().err == ""  # the library default: no bar
    shown = compare_models(data, ModelSpec("linear"), progress=True)
    err = capsys.readouterr().err
    assert "model comparison" in err and "4/4" in err and "per-group p + pi" in err
    pd.testing.assert_frame_equal(quiet, shown)


def test_cli_asks_for_the_bar_on_a_terminal_only(tmp_path, capsys, monkeypatch) -> None:
    import importlib

    from cli_helpers import ccsim

    fit_module = importlib.import_module("sim.calibration.fit")  # sim.calibration.fit: a function
    calls = []
    real = fit_module.compare_models

    def spy(data, spec, progress=False):
        calls.append(progress)
        return real(data, spec, progress=False)

    monkeypatch.setattr(fit_module, "compare_models", spy)
    data = _small()
    nodes = tmp_path / "n.csv"
    pd.DataFrame({"pid": data.ids, "site": data.group, "t": data.period}).to_csv(nodes, index=False)
    args = ["calibrate", nodes, "--id", "pid", "--group", "site", "--time", "t"]
    args += ["--censored-at", "9", "--contagion", "linear", "--intervals", "none"]
    args += ["--sims", "10", "--perms", "0", "--no-figures", "--out", tmp_path / "out"]
    code, out, err = ccsim(capsys, *args)
    assert code == 0, err
    assert calls == [None]  # None: a bar when stderr is a terminal, none in a pipe or here
    assert "model comparison (AIC; lower is better):" in out and "model comparison:" not in err
    saved = pd.read_parquet(tmp_path / "out" / "model_comparison.parquet")
    assert len(saved) == 4
