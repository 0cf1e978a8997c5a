"""Tests of sim.report (tables, terminal text, summary.md) and sim.plots (figures, PNG files)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import plots, report, report_md, report_text
from sim.experiment import Design, ExperimentResult, run_experiment
from sim.scenario import Scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAN = float("nan")


def _runs(rows: dict[str, list[tuple[float, bool]]]) -> pd.DataFrame:
    """Hand-made ``runs``: per design a list of (t50_months, censored); other metrics derived."""
    out = []
    for i, (design, values) in enumerate(rows.items()):
        for rep, (t50, cens) in enumerate(values):
            out.append(
                {
                    "design": design,
                    "design_index": i,
                    "replication": rep,
                    "t50_months": NAN if cens else t50,
                    "t50_censored": cens,
                    "gap_auc": float(rep),
                }
            )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- report: numbers


def test_quantile_matches_numpy_when_nothing_is_censored() -> None:
    x = np.array([3.0, 1.0, 7.5, 2.0, 10.0, 4.0])
    for q in (0.0, 0.05, 0.25, 0.5, 0.95, 1.0):
        assert report.quantile(x, q) == pytest.approx(float(np.percentile(x, 100 * q)))


def test_quantile_with_censored_values() -> None:
    x = np.array([10.0, 20.0, math.inf])
    assert report.quantile(x, 0.5) == 20.0  # lands exactly on the last finite value
    assert math.isinf(report.quantile(x, 0.75))  # interpolates towards a censored run
    assert report.quantile(x, 0.25) == 15.0
    assert math.isnan(report.quantile(np.array([]), 0.5))


def test_summary_table_censored_percentiles_by_hand() -> None:
    runs = _runs(
        {
            # sorted: 10 12 14 16 inf -> median h=2 -> 14; p05 h=0.2 -> 10.4; p95 h=3.8 -> inf
            "a": [(16, False), (10, False), (NAN, True), (14, False), (12, False)],
            # sorted: 20 30 inf -> median h=1 -> 30; p05 h=0.1 -> 21; p95 h=1.9 -> inf
            "b": [(30, False), (NAN, True), (20, False)],
            # 2 of 3 censored: sorted 8 inf inf -> the median is not reached
            "c": [(NAN, True), (8, False), (NAN, True)],
        }
    )
    table = report.summary_table(runs, ["t50_months", "gap_auc"]).set_index(["design", "metric"])
    a = table.loc[("a", "t50_months")]
    assert (a["median"], a["p05"]) == (14.0, pytest.approx(10.4))
    assert math.isinf(a["p95"])
    assert (a["n"], a["n_censored"]) == (5, 1)
    b = table.loc[("b", "t50_months")]
    assert (b["median"], b["p05"], b["n"], b["n_censored"]) == (30.0, pytest.approx(21.0), 3, 1)
    c = table.loc[("c", "t50_months")]
    assert math.isinf(c["median"]) and math.isinf(c["p05"])  # h=0.1 lies between 8 and inf
    assert c["n_censored"] == 2
    # gap_auc = 0, 1, 2, 3, 4 for design a: median 2, p05 0.2, p95 3.8; cannot be censored
    g = table.loc[("a", "gap_auc")]
    assert (g["median"], g["p05"], g["p95"]) == (2.0, pytest.approx(0.2), pytest.approx(3.8))
    assert pd.isna(g["n_censored"])
    # designs keep experiment order, metrics keep the requested order
    flat = report.summary_table(runs, ["gap_auc", "t50_months"])
    assert list(flat["design"]) == ["a", "a", "b", "b", "c", "c"]
    assert list(flat["metric"][:2]) == ["gap_auc", "t50_months"]


def test_summary_table_drops_nan_and_skips_missing_metrics() -> None:
    runs = _runs({"a": [(5, False), (6, False), (7, False)]})
    runs.loc[1, "gap_auc"] = NAN  # values 0, nan, 2
    table = report.summary_table(runs, ["gap_auc", "not_a_metric"])
    assert list(table["metric"]) == ["gap_auc"]
    assert table.loc[0, "n"] == 2 and table.loc[0, "median"] == 1.0


def test_not_reached_is_shown_against_the_horizon() -> None:
    assert report.format_value("t90_months", math.inf, 48.0) == "> 48"
    assert report.format_value("t90_months", math.inf) == "not reached"
    assert report.format_value("t90_months", 31.84) == "31.8"
    assert report.format_value("cost_total", 1128000.0) == "1,128,000"
    assert report.format_value("sites_improved_share", 0.95) == "95%"
    assert report.format_value("gaming_gap", -0.01) == "0.0"  # no "-0.0"
    assert report.format_value("gap_auc", NAN) == "n/a"


def test_published_comparison_inside_flag() -> None:
    n = 41
    runs = pd.DataFrame(
        {
            "design": "keystone",
            "replication": range(n),
            "irr_0_3": np.linspace(0.5, 0.7, n),  # median 0.6, 2.5% 0.505, 97.5% 0.695
            "irr_16_18": np.full(n, 0.9),
            "irr_34_36": np.full(n, 0.4),
        }
    )
    scenario = {
        "published": {
            "irr_0_3": {"value": 0.62, "low": 0.47, "high": 0.81, "source": "Pronovost 2006"},
            "irr_16_18": {"value": 0.34, "low": 0.23, "high": 0.50, "source": "Pronovost 2006"},
            "irr_34_36": {"value": 0.34, "low": None, "high": None, "source": ""},
            "not_simulated": {"value": 1.0, "low": 0.0, "high": 2.0, "source": "x"},
        }
    }
    comp = report.published_comparison(runs, scenario).set_index("metric")
    assert list(comp.index) == ["irr_0_3", "irr_16_18", "irr_34_36"]
    row = comp.loc["irr_0_3"]
    assert row["sim_median"] == pytest.approx(0.6)
    assert row["sim_low"] == pytest.approx(0.505)
    assert row["sim_high"] == pytest.approx(0.695)
    assert (row["published"], row["published_low"], row["published_high"]) == (0.62, 0.47, 0.81)
    assert row["source"] == "Pronovost 2006" and row["n"] == n
    assert bool(row["inside"]) is True
    assert bool(comp.loc["irr_16_18", "inside"]) is False
    assert pd.isna(comp.loc["irr_34_36", "inside"])  # no published interval: no verdict
    # a one-sided interval is unbounded on the missing side
    one_sided = {"published": {"irr_16_18": {"value": 0.5, "low": 0.8, "source": "s"}}}
    assert bool(report.published_comparison(runs, one_sided)["inside"].iloc[0]) is True


def test_labels_fit_the_terminal_table() -> None:
    assert all(len(info.label) <= 36 for info in report.METRICS.values())
    assert report.metric_label("t50_months") == "T50 (months to close half the gap)"
    assert report.metric_label("unknown_metric") == "unknown_metric"


def test_markdown_table_escapes_and_aligns() -> None:
    text = report_md.markdown_table(["a", "b"], [["x|y", 1.5], ["z", "line\nbreak"]], "lr")
    assert text.splitlines() == [
        "| a | b |",
        "| :--- | ---: |",
        "| x\\|y | 1.5 |",
        "| z | line break |",
    ]
    with pytest.raises(ValueError, match="cells"):
        report_md.markdown_table(["a", "b"], [["only one"]])


# --------------------------------------------------------------------------- plots: synthetic


def _legend_texts(fig) -> list[str]:
    texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            texts += [t.get_text() for t in leg.get_texts()]
    return texts


def test_time_to_close_counts_censored_runs_in_the_legend() -> None:
    runs = _runs({"a": [(10, False), (NAN, True), (12, False)], "b": [(9, False), (11, False)]})
    runs["t90_months"] = [30.0, NAN, NAN, 25.0, 27.0]
    runs["t90_censored"] = [False, True, True, False, False]
    fig = plots.time_to_close(runs, horizon=48.0)
    texts = _legend_texts(fig)
    assert "a (T50 not reached in 1 of 3 runs)" in texts
    assert "a (T90 not reached in 2 of 3 runs)" in texts
    assert "b" in texts
    # the censored runs are not plotted: design a's T90 curve stops at 1/3
    t90_ax = fig.axes[1]
    y = t90_ax.get_lines()[0].get_ydata()
    assert max(y) == pytest.approx(1 / 3)


def _series(n_designs: int, reps: int = 4, months: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for d in range(n_designs):
        for r in range(reps):
            gap = np.exp(-np.arange(months) / (4 + d)) + rng.normal(0, 0.02, months)
            phase = np.where(np.arange(months) < 8, "programme", "followup")
            rows.append(
                pd.DataFrame(
                    {
                        "design": f"design-{d}",
                        "design_index": d,
                        "replication": r,
                        "month_in_programme": np.arange(months),
                        "phase": phase,
                        "gap_true": gap,
                        "gap_reported": gap - 0.05,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("n_designs", [1, 8])
def test_gap_curve_one_to_eight_designs(n_designs: int) -> None:
    fig = plots.gap_curve(_series(n_designs))
    ax = fig.axes[0]
    assert ax.get_ylabel() == plots.GAP_LABEL
    assert ax.get_title()
    texts = _legend_texts(fig)
    assert all(f"design-{d}" in texts for d in range(n_designs))
    assert "reported gap (while data collected)" in texts
    # programme end inferred from the phase column: a vertical line at month 8
    xs = {tuple(line.get_xdata()) for line in ax.get_lines()}
    assert (8.0, 8.0) in xs
    # the reported (dashed) gap stops with data collection: no point in the follow-up phase
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--" and len(ln.get_xdata()) > 2]
    assert dashed and max(max(ln.get_xdata()) for ln in dashed) < 8.0


def test_site_trajectories_leaves_designs_beyond_max_panels_out_and_says_so() -> None:
    frames = []
    for d in range(5):
        for site in range(3):
            frames.append(
                pd.DataFrame(
                    {
                        "design": f"d{d}",
                        "replication": 0,
                        "month": np.arange(6),
                        "site": site,
                        "adherence": np.linspace(0.3, 0.9, 6),
                        "peripheral": site == 2,
                        "arm": "programme",
                    }
                )
            )
    ss = pd.concat(frames, ignore_index=True)
    order = ["d4", "d3", "d2", "d1", "d0"]
    fig = plots.site_trajectories(ss, designs=order, max_panels=4)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == order[:4]
    # three sites per panel: two core lines and one peripheral line
    segments = [{c.get_label(): len(c.get_segments()) for c in ax.collections} for ax in visible]
    assert segments == [{"core": 2, "peripheral": 1}] * 4
    assert "first 4 of 5 designs" in fig._suptitle.get_text()
    assert set(_legend_texts(fig)) == {"central site", "peripheral site"}

    # by default every design of a six-design run gets a panel, in two rows of three
    six = pd.concat([ss, ss[ss["design"] == "d0"].assign(design="d5")], ignore_index=True)
    fig = plots.site_trajectories(six)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [f"d{d}" for d in range(6)]
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in visible} == {(2, 3)}
    assert "of 6 designs" not in fig._suptitle.get_text()


# --------------------------------------------------------------------------- real small run


@pytest.fixture(scope="module")
def small_result(tmp_path_factory: pytest.TempPathFactory) -> ExperimentResult:
    out = tmp_path_factory.mktemp("run")
    small = {
        "time": {"baseline_months": 3, "programme_months": 12, "followup_months": 6},
        "sites": {"n_sites": 6, "mean_size": 10},
        "programme": {"recruitment": {"window_months": 3}},
    }
    published = {
        "irr_0_3": {"value": 0.62, "low": 0.47, "high": 0.81, "source": "Pronovost et al. 2006"}
    }
    designs = [
        Design("keystone-like", Scenario(**small, published=published)),
        Design(
            "hard push",
            Scenario(
                **{**small, "programme": {**small["programme"], "tactics": {"hard": 0.9}}},
                name="hard",
                description="Mostly hard tactics.",
            ),
        ),
    ]
    return run_experiment(designs, reps=3, root_seed=7, jobs=1, out_dir=out, progress=False)


def test_save_figures_writes_valid_pngs(small_result: ExperimentResult) -> None:
    paths = plots.save_figures(small_result, small_result.out_dir)
    names = [p.name for p in paths]
    assert names == list(plots.FIGURE_NAMES)
    for p in paths:
        assert p.parent == small_result.out_dir / "figures"
        data = p.read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert not list((small_result.out_dir / "figures").glob(".*.tmp"))


def test_save_figures_skips_missing_tables(tmp_path: Path, small_result: ExperimentResult) -> None:
    paths = plots.save_figures({"runs": small_result.runs}, tmp_path)
    assert [p.name for p in paths] == ["time_to_close.png"]


def test_format_terminal_real_run(small_result: ExperimentResult) -> None:
    text = report_text.format_terminal(small_result)
    assert "== keystone-like (3 replications)" in text
    assert "== hard push (3 replications)" in text
    for metric in report.DEFAULT_METRICS:  # every label in full, none cut to fit
        assert report.metric_label(metric) in text
    pub = [line for line in text.splitlines() if line.strip().startswith("irr_0_3")]
    assert len(pub) == 1
    assert "simulated" in pub[0] and "published 0.62 (0.47-0.81)" in pub[0]
    assert "Pronovost et al. 2006" in pub[0]
    assert max(len(line) for line in text.splitlines()) <= report.TERMINAL_WIDTH


def test_write_summary_md_real_run(small_result: ExperimentResult) -> None:
    out = small_result.out_dir
    figs = plots.save_figures(small_result, out)
    path = report_md.write_summary_md(small_result, out)
    assert path == out / "summary.md"
    md = path.read_text(encoding="utf-8")
    assert md.startswith("# ccsim results: keystone-like, hard push")
    assert "Mostly hard tactics." in md and "(scenario `hard`)" in md
    assert "- replications per design: 3" in md and "- root seed: 7" in md
    assert "| metric | keystone-like | hard push |" in md
    assert "## Simulated vs published" in md and "Pronovost et al. 2006" in md
    links = [md.index(f"](figures/{f.name})") for f in figs]
    assert links == sorted(links)  # every figure linked, in the order save_figures drew them
    assert "not parameter" in md and "> 18" in md  # horizon after start: 12 + 6 months
