"""Figures of closing the gap over an experiment: :func:`gap_curve` and :func:`time_to_close`.

Both take DataFrames of an :class:`~sim.experiment.ExperimentResult` (the monthly ``series``
and the per-run ``runs``) and return a :class:`matplotlib.figure.Figure`; each is drawn by small
private helpers (bands, level lines, legends, panels) kept next to it. Styling, design colours
and phase lines come from :mod:`sim.plots_base`. Import them from :mod:`sim.plots`, which
re-exports them and writes them as PNG files (:func:`sim.plots.save_figures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.plots_base import (
    GAP_LABEL,
    PhaseArg,
    _designs,
    _new_figure,
    _palette,
    _per_design,
    _phase_lines,
    _style,
    months_label,
)

# --------------------------------------------------------------------------- gap curve


def _programme_end_from_series(series: pd.DataFrame, design: str) -> float | None:
    """First ``month_in_programme`` of the follow-up (or one past the last programme month)."""
    if "phase" not in series.columns:
        return None
    rows = series[series["design"] == design]
    follow = rows.loc[rows["phase"] == "followup", "month_in_programme"]
    if not follow.empty:
        return float(follow.min())
    prog = rows.loc[rows["phase"] == "programme", "month_in_programme"]
    return float(prog.max()) + 1.0 if not prog.empty else None


def _gap_bands(ax: Any, series: pd.DataFrame, designs: Sequence[str], colours: Any) -> None:
    """Per design: 90% and 50% bands and the median of the true gap, dashed reported median."""
    for d in designs:
        rows = series[series["design"] == d]
        g = rows.groupby("month_in_programme")
        q = g["gap_true"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        x = q.index.to_numpy(dtype=float)
        c = colours[d]
        ax.fill_between(x, q[0.05], q[0.95], color=c, alpha=0.12, lw=0)
        ax.fill_between(x, q[0.25], q[0.75], color=c, alpha=0.25, lw=0)
        ax.plot(x, q[0.5], color=c, lw=2.0, label=d)
        if "gap_reported" in rows.columns and rows["gap_reported"].notna().any():
            # no data are reported after support ends: the last report would be frozen
            collected = rows[rows["phase"] != "followup"] if "phase" in rows.columns else rows
            rep = collected.groupby("month_in_programme")["gap_reported"].median()
            ax.plot(rep.index.to_numpy(dtype=float), rep.to_numpy(), color=c, lw=1.4, ls="--")


def _level_lines(ax: Any) -> None:
    """Dotted horizontal lines at the T50 and T90 levels of the gap, labelled at the left."""
    for level, name in ((0.5, "T50 level"), (0.1, "T90 level")):
        ax.axhline(level, color="0.6", lw=0.8, ls=":", zorder=0)
        ax.annotate(
            name,
            xy=(0.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
            color="0.45",
        )


def _gap_axes(ax: Any, series: pd.DataFrame, has_baseline: bool, title: str) -> None:
    """Labels, title and limits of the gap curve's axes."""
    ax.set_xlabel(months_label(has_baseline))
    ax.set_ylabel(GAP_LABEL)
    ax.set_title(title)
    cols = [c for c in ("gap_true", "gap_reported") if c in series.columns]
    values = series[cols].to_numpy(dtype=float)
    ax.set_ylim(
        min(0.0, float(np.nanmin(values)) - 0.02), max(1.05, float(np.nanmax(values)) + 0.02)
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(
        float(series["month_in_programme"].min()), float(series["month_in_programme"].max())
    )


def _gap_legend(
    fig: Figure, designs: Sequence[str], colours: Any, ends: Mapping[str, float | None]
) -> None:
    """The gap curve's legend outside the plot on the right: designs, then line and band keys."""
    handles = [Line2D([], [], color=colours[d], lw=2.0, label=d) for d in designs]
    handles += [
        Line2D([], [], color="0.3", lw=2.0, label="true gap (median)"),
        Line2D([], [], color="0.3", lw=1.4, ls="--", label="reported gap (while data collected)"),
        Patch(facecolor="0.3", alpha=0.35, label="50% of replications"),
        Patch(facecolor="0.3", alpha=0.15, label="90% of replications"),
    ]
    if len({v for v in ends.values() if v is not None}) > 1:  # per-design lines, no text label
        handles.append(Line2D([], [], color="0.3", lw=1.0, ls=(0, (4, 3)), label="support ends"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=9, frameon=False)


def gap_curve(
    series: pd.DataFrame,
    programme_start: PhaseArg = 0.0,
    programme_end: PhaseArg = None,
    title: str = "Closing the gap: median and spread across replications",
) -> Figure:
    """Median gap over time per design, with 50% and 90% bands; true solid, reported dashed.

    Bands are percentiles across replications at each month (25th-75th and 5th-95th) of the
    true gap; the reported gap (what the sites' data say) is drawn as a dashed median only.

    Args:
        series: long monthly series (:attr:`ExperimentResult.series`), with ``design``,
            ``replication``, ``month_in_programme``, ``gap_true``, ``gap_reported`` and
            optionally ``phase`` and ``design_index``.
        programme_start: x of the programme start (months; 0 = start), or per design.
        programme_end: x of the end of support (months after the start), or per design;
            ``None`` infers it from the ``phase`` column.
        title: figure title.

    Returns:
        The figure (one axes; legend outside the plot on the right).
    """
    designs = _designs(series)
    colours = _palette(designs)
    with _style():
        fig = _new_figure(10.0, 5.4)
        ax = fig.add_subplot()
    _gap_bands(ax, series, designs, colours)
    _level_lines(ax)
    starts = {d: _per_design(programme_start, d) for d in designs}
    if programme_end is None:
        ends = {d: _programme_end_from_series(series, d) for d in designs}
    else:
        ends = {d: _per_design(programme_end, d) for d in designs}
    has_baseline = bool(series["month_in_programme"].min() < 0)
    if has_baseline:  # a start line only when there is a baseline
        _phase_lines(ax, starts, colours, "programme starts")
    _phase_lines(ax, ends, colours, "support ends")
    _gap_axes(ax, series, has_baseline, title)
    _gap_legend(fig, designs, colours, ends)
    return fig


# --------------------------------------------------------------------------- time to close


def _ecdf_xy(values: np.ndarray, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """Step curve of the share of all ``n_total`` runs that closed by each time."""
    x = np.sort(values)
    y = np.arange(1, x.size + 1) / n_total
    return np.concatenate([[0.0], x]), np.concatenate([[0.0], y])


def censored_text(level: str, n_censored: int, n: int) -> str:
    """``"T90 not reached in 12 of 200 runs"`` (the censoring note used in legends)."""
    return f"{level} not reached in {n_censored} of {n} runs"


def _ecdf_steps(
    ax: Any, runs: pd.DataFrame, designs: Sequence[str], colours: Any, level: str, xmax: float
) -> tuple[list[Any], int, float]:
    """One ECDF step line per design for ``level``; returns (handles, runs reached, new xmax)."""
    col, flag = f"{level.lower()}_months", f"{level.lower()}_censored"
    handles = []
    reached = 0
    for d in designs:
        rows = runs[runs["design"] == d]
        cens = rows[flag].fillna(False).to_numpy(dtype=bool)
        vals = rows[col].to_numpy(dtype=float)
        ok = ~cens & ~np.isnan(vals)
        n = int(ok.sum() + cens.sum())
        if n == 0:
            continue
        x, y = _ecdf_xy(vals[ok], n)
        reached += int(ok.sum())
        if x.size > 1:
            xmax = max(xmax, float(x[-1]))
        label = d
        if cens.any():
            label += f" ({censored_text(level, int(cens.sum()), n)})"
        (line,) = ax.step(x, y, where="post", color=colours[d], lw=1.8, label=label)
        handles.append(line)
    return handles, reached, xmax


def _close_panel(
    ax: Any,
    runs: pd.DataFrame,
    designs: Sequence[str],
    colours: Any,
    level: str,
    share: str,
    horizon: PhaseArg,
    xmax: float,
) -> float:
    """One panel of :func:`time_to_close` (``level`` = T50 or T90); returns the new xmax."""
    handles, reached, xmax = _ecdf_steps(ax, runs, designs, colours, level, xmax)
    horizons = {d: _per_design(horizon, d) for d in designs}
    _phase_lines(ax, horizons, colours, "horizon")
    xmax = max([xmax, *(h for h in horizons.values() if h is not None)])
    if len({h for h in horizons.values() if h is not None}) > 1:
        handles.append(
            Line2D([], [], color="0.3", lw=1.0, ls=(0, (4, 3)), label="horizon (per design)")
        )
    if reached == 0:
        ax.text(
            0.5,
            0.5,
            f"no run reached {level}\nwithin the horizon",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="0.35",
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{level}: months to close {share} of the gap")
    ax.set_xlabel("months since programme start")
    ax.set_ylim(0.0, 1.02)
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        fontsize=8.5,
        frameon=False,
        ncol=1,
    )
    return xmax


def time_to_close(
    runs: pd.DataFrame,
    horizon: PhaseArg = None,
    title: str = "Time to close the gap",
) -> Figure:
    """Share of runs that have closed half (T50) and 90% (T90) of the gap, by month.

    Each curve is an empirical CDF over **all** runs of a design, so it ends below 1 when some
    runs never reached the level (right-censored at the horizon); censored runs are counted in
    the legend ("T90 not reached in 12 of 200 runs"), never plotted as a value.

    Args:
        runs: one row per (design, replication) with ``t50_months``/``t50_censored`` and
            ``t90_months``/``t90_censored``.
        horizon: months observed after the programme start (x of a "horizon" line), or per
            design; ``None`` draws no line.
        title: figure title.

    Returns:
        The figure: two panels (T50, T90) side by side, legends below each panel.
    """
    designs = _designs(runs)
    colours = _palette(designs)
    with _style():
        fig = _new_figure(11.0, 4.8 + 0.22 * len(designs))
        axes = fig.subplots(1, 2, sharey=True)
    xmax = 1.0
    for ax, level, share in zip(axes, ("T50", "T90"), ("half", "90%"), strict=True):
        xmax = _close_panel(ax, runs, designs, colours, level, share, horizon, xmax)
    axes[0].set_ylabel("share of runs that got there")
    for ax in axes:
        ax.set_xlim(0.0, xmax * 1.03)
    fig.suptitle(title)
    return fig
