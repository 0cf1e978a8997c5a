"""Figures of a design comparison (seaborn styling; same conventions as :mod:`sim.plots`).

:func:`survival_curves`, :func:`forest` and :func:`cost_effectiveness` each return a
:class:`matplotlib.figure.Figure`; :func:`save_comparison_figures` writes them, with
:func:`sim.plots.gap_curve` (all designs on one axis, months since programme start), as PNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim import plots
from sim.compare import CONFIDENCE, OUTCOME_BY_METRIC
from sim.metric_info import METRICS

if TYPE_CHECKING:
    from sim.compare import Comparison

FIGURES = (
    "compare_gap_curves.png",
    "compare_survival.png",
    "compare_forest.png",
    "compare_cost_effectiveness.png",
)


def compact_number(value: float, _pos: object = None) -> str:
    """Tick label with k / M suffixes: ``2500000 -> "2.5M"``, ``-30000 -> "-30k"``."""
    a = abs(value)
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{value / div:g}{suffix}"
    return f"{value:g}"


COMPACT = FuncFormatter(compact_number)
COST_UNIT = METRICS["cost_total"].unit
"""What costs are in, as ``runs.parquet``, docs/outputs.md and the app name it (``currency``):
the cost axes say it (the other outcomes' labels name their units)."""


def survival_curves(survival: pd.DataFrame, designs: Sequence[str], tau: float) -> Figure:
    """Kaplan-Meier share of runs that have closed half (T50) and 90% (T90) of the gap.

    Args:
        survival: :func:`sim.compare.survival.km_table` output (long form, ``survival`` = not yet
            closed, with its band ``low``/``high``).
        designs: design names in display order.
        tau: common window (months), drawn as a dotted line.

    Returns:
        Two panels; each curve is ``1 - S(t)`` with its 95% band, ``+`` where runs are
        censored (at each design's horizon).
    """
    colours = plots._palette(designs)
    with plots._style():
        fig = plots._new_figure(11.0, 5.0)
        axes = fig.subplots(1, 2, sharey=True)
    for ax, level, what in zip(axes, ("T50", "T90"), ("half", "90%"), strict=True):
        for d in designs:
            c = survival[(survival["design"] == d) & (survival["level"] == level)]
            if c.empty:
                continue
            window = float(c["window_months"].iloc[0])
            x = np.append(c["month"].to_numpy(), window)
            closed = 1.0 - np.append(c["survival"].to_numpy(), c["survival"].iloc[-1])
            lo = 1.0 - np.append(c["high"].to_numpy(), c["high"].iloc[-1])
            hi = 1.0 - np.append(c["low"].to_numpy(), c["low"].iloc[-1])
            ax.fill_between(x, lo, hi, step="post", color=colours[d], alpha=0.15, lw=0)
            ax.step(x, closed, where="post", color=colours[d], lw=1.8, label=d)
            if c["survival"].iloc[-1] > 0:
                ax.plot([window], [closed[-1]], marker="+", ms=10, color=colours[d])
        ax.axvline(tau, color="0.5", lw=0.9, ls=":")
        ax.set_title(f"{level}: runs that closed {what} of the gap")
        ax.set_xlabel("months since programme start")
        ax.set_ylim(0.0, 1.02)
    axes[0].set_ylabel("share of runs (Kaplan-Meier, 95% band)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=min(len(names), 5), frameon=False)
    fig.suptitle(f"Time to close, censored at each design's horizon (+); dotted: {tau:g} months")
    return fig


def forest(table: pd.DataFrame, baseline: str) -> Figure:
    """Forest plot: mean paired difference vs the baseline with its CI, one panel per outcome.

    Args:
        table: :attr:`Comparison.table` (``design``, ``metric``, ``diff_mean``, ``ci_low``,
            ``ci_high``, ``p_better``).
        baseline: the baseline's name (for the titles).

    Returns:
        A grid of small panels (3 columns); each x axis in the outcome's display unit, the
        better side shaded green.
    """
    metrics = list(dict.fromkeys(table["metric"]))
    designs = list(dict.fromkeys(table["design"]))
    colours = plots._palette([baseline, *designs])
    ncol = 3
    nrow = int(np.ceil(len(metrics) / ncol))
    with plots._style():
        fig = plots._new_figure(11.0, 0.9 + nrow * (0.35 * len(designs) + 0.9))
        axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    y = np.arange(len(designs))[::-1]
    for ax, metric in zip(axes, metrics, strict=False):
        o = OUTCOME_BY_METRIC[metric]
        rows = table[table["metric"] == metric].set_index("design").reindex(designs)
        mean = rows["diff_mean"].to_numpy(dtype=float) * o.scale
        lo = rows["ci_low"].to_numpy(dtype=float) * o.scale
        hi = rows["ci_high"].to_numpy(dtype=float) * o.scale
        for yi, d, m, a, b in zip(y, designs, mean, lo, hi, strict=True):
            ax.plot([a, b], [yi, yi], color=colours[d], lw=2.2)
            ax.plot([m], [yi], "o", color=colours[d], ms=5)
        ax.axvline(0.0, color="0.3", lw=0.9)
        span = np.nanmax(np.abs(np.concatenate([lo, hi, [0.0]])))
        if not span > 1e-6:  # every CI is (about) 0 to 0: a readable axis around 0
            span = 1.0
        ax.set_xlim(-1.1 * span, 1.1 * span)
        better = (-1.1 * span, 0.0) if o.lower_is_better else (0.0, 1.1 * span)
        ax.axvspan(*better, color="#2ca02c", alpha=0.06, lw=0)
        ax.set_yticks(y, designs if ax.get_subplotspec().is_first_col() else [""] * len(y))
        ax.set_ylim(-0.7, len(designs) - 0.3)
        side = "left" if o.lower_is_better else "right"
        unit = f"{COST_UNIT}; " if o.money else ""
        ax.set_title(f"{o.label}\n({unit}better to the {side})", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.xaxis.set_major_formatter(COMPACT)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(f"Paired difference vs {baseline}: mean and {CONFIDENCE:.0%} bootstrap CI")
    return fig


MEAN_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")
"""One marker shape per design (in order) in the cost-effectiveness figure."""


def cost_effectiveness(runs: pd.DataFrame, designs: Sequence[str]) -> Figure:
    """Total cost against gap closed by programme end, per run and per design mean.

    The frontier joins the designs (means) that no cheaper design beats on gap closed.

    Args:
        runs: ``design``, ``cost_total`` (currency) and ``gap_programme_end`` (fraction).
        designs: design names in display order.

    Returns:
        One axes: faint dots per replication, a large marker per design mean, the frontier.
    """
    colours = plots._palette(designs)
    with plots._style():
        fig = plots._new_figure(8.5, 5.2)
        ax = fig.add_subplot()
    means = {}
    for i, d in enumerate(designs):
        rows = runs[runs["design"] == d]
        x = rows["cost_total"].to_numpy(dtype=float)
        y = 100.0 * (1.0 - rows["gap_programme_end"].to_numpy(dtype=float))
        marker = MEAN_MARKERS[i % len(MEAN_MARKERS)]
        ax.scatter(x, y, s=10, color=colours[d], alpha=0.25, lw=0, marker=marker)
        means[d] = (float(np.nanmean(x)), float(np.nanmean(y)))
        # each design its own shape, later ones smaller: coinciding means stay visible as rings
        size = max(170.0 * 0.72**i, 45.0)
        ax.scatter(
            *means[d], s=size, color=colours[d], edgecolor="black", lw=0.8, label=d,
            marker=marker, zorder=3 + i,
        )  # fmt: skip
    frontier = efficient_frontier(means)
    if len(frontier) >= 2:  # one design on the frontier is no line: its circle says it all
        fx, fy = zip(*(means[d] for d in frontier), strict=True)
        ax.plot(fx, fy, color="0.2", lw=1.2, ls="--", zorder=2, label="frontier")
    ax.xaxis.set_major_formatter(COMPACT)
    ax.set_xlabel(f"total cost ({COST_UNIT})")
    ax.set_ylabel("gap closed by programme end (points of 100)")
    ax.set_title("Cost against gap closed: dots are replications, large markers design means")
    ax.legend(fontsize=8.5, frameon=False, loc="best")
    return fig


def efficient_frontier(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names of the non-dominated points (cost ``x``, effect ``y``), cheapest first.

    A point is on the frontier when every cheaper point has a smaller effect.
    """
    order = sorted(points, key=lambda k: (points[k][0], -points[k][1]))
    out, best = [], -np.inf
    for k in order:
        if points[k][1] > best:
            out.append(k)
            best = points[k][1]
    return out


def save_comparison_figures(cmp: Comparison, figdir: Path) -> list[Path]:
    """Write the four comparison figures of :data:`FIGURES` into ``figdir``."""
    exp, designs = cmp.experiment, cmp.designs
    ends = {d: t["programme"] for d, t in plots._times(exp.manifest).items()} or None
    figs = [
        plots.gap_curve(exp.series, programme_end=ends, title="Gap over time, all designs"),
        survival_curves(cmp.survival, designs, cmp.tau),
        forest(cmp.table, cmp.baseline),
        cost_effectiveness(exp.runs, designs),
    ]
    return [plots.save_figure(f, figdir / n) for f, n in zip(figs, FIGURES, strict=True)]
