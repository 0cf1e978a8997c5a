"""The site-trajectories figure: each site's adherence over months, one panel per design.

:func:`site_trajectories` takes :attr:`~sim.experiment.ExperimentResult.site_series` and returns
a :class:`matplotlib.figure.Figure` (core, peripheral and control sites in their own line
styles); small private helpers draw each panel, its phase lines, the axes and the legend.
Styling comes from :mod:`sim.plots_base`. Import it from :mod:`sim.plots`, which re-exports it
and writes it as a PNG file (:func:`sim.plots.save_figures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.plots_base import (
    PhaseArg,
    _colourblind,
    _designs,
    _new_figure,
    _per_design,
    _style,
    months_label,
)

MAX_SITE_PANELS = 9
_SITE_KINDS = ("core", "peripheral", "control")
"""Kinds of site in :func:`site_trajectories`, drawn in this order (rarer kinds on top)."""


def _site_styles() -> dict[str, dict[str, Any]]:
    """Line style per kind of site: core solid blue, peripheral dashed orange, control grey."""
    palette = _colourblind()
    return {
        "core": {"color": palette[0], "ls": "-", "lw": 1.0, "alpha": 0.8},
        "peripheral": {"color": palette[1], "ls": "--", "lw": 1.2, "alpha": 0.9},
        "control": {"color": "0.25", "ls": ":", "lw": 1.2, "alpha": 0.9},
    }


def _design_order(present_designs: list[str], designs: Sequence[str] | None) -> list[str]:
    """``designs`` that are present, then the other present designs (in their own order)."""
    if designs is None:
        return present_designs
    ordered = [d for d in designs if d in set(present_designs)]
    ordered += [d for d in present_designs if d not in set(ordered)]
    return ordered


def _site_lines(ax: Any, rows: pd.DataFrame, styles: Mapping[str, Any]) -> set[str]:
    """Every site's adherence in one panel, one line collection per kind; returns kinds drawn."""
    wide = rows.pivot_table(index="month", columns="site", values="adherence", sort=True)
    first = rows.drop_duplicates("site").set_index("site").reindex(wide.columns)
    kinds = np.where(first["peripheral"].astype(bool), "peripheral", "core")
    if "arm" in first.columns:
        kinds = np.where(first["arm"] == "control", "control", kinds)
    thin = 0.5 if wide.shape[1] > 40 else 1.0  # many sites: thinner, lighter lines
    x = wide.index.to_numpy(dtype=float)
    drawn: set[str] = set()
    for kind in _SITE_KINDS:  # rarer kinds on top
        cols = wide.columns[kinds == kind]
        if cols.empty:
            continue
        drawn.add(kind)
        st = styles[kind]
        segs = [np.column_stack([x, wide[c].to_numpy(dtype=float)]) for c in cols]
        ax.add_collection(
            LineCollection(
                segs,
                colors=[st["color"]],
                linestyles=st["ls"],
                linewidths=st["lw"] * thin,
                alpha=st["alpha"] * (0.7 if thin < 1 else 1.0),
                label=kind,
            )
        )
    return drawn


def _from_start(
    data: pd.DataFrame, design: str, programme_start: PhaseArg, programme_end: PhaseArg
) -> tuple[pd.DataFrame, float | None, float | None]:
    """One design's rows, start and end with months counted from its programme start, as the
    gap curve counts them (``month_in_programme``: negative in the baseline); in simulation
    months when it has no start."""
    rows = data[data["design"] == design]
    start, end = _per_design(programme_start, design), _per_design(programme_end, design)
    if start is None:
        return rows, None, end
    return rows.assign(month=rows["month"] - start), 0.0, None if end is None else end - start


def _site_phase_lines(ax: Any, rows: pd.DataFrame, start: float | None, end: float | None) -> None:
    """Dashed "programme starts" and "support ends" lines of one panel (the gap curve's
    labels; only after the panel's first month)."""
    for x, label in ((start, "programme starts"), (end, "support ends")):
        if x is not None and x > float(rows["month"].min()):
            ax.axvline(x, color="0.3", lw=0.9, ls=(0, (4, 3)))
            ax.annotate(
                label,
                xy=(x, 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=8,
                color="0.3",
            )


def _site_axes(axes: np.ndarray, n_drawn: int, ncols: int, xlabel: str) -> None:
    """Hide unused panels; month labels on bottom panels, adherence label on the first column."""
    for ax in axes[n_drawn:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[:n_drawn]):
        if i + ncols >= n_drawn:  # no panel below: show this panel's month axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(xlabel)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("adherence (share of care)")


def _site_legend(fig: Figure, styles: Mapping[str, Any], present: set[str]) -> None:
    """Legend of the kinds of site drawn, below the panels."""
    names = {"core": "central site", "peripheral": "peripheral site", "control": "control site"}
    handles = [
        Line2D([], [], color=styles[k]["color"], ls=styles[k]["ls"], lw=1.5, label=names[k])
        for k in _SITE_KINDS
        if k in present
    ]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)


def site_trajectories(
    site_series: pd.DataFrame,
    programme_start: PhaseArg = None,
    programme_end: PhaseArg = None,
    max_panels: int = MAX_SITE_PANELS,
    title: str = "Site adherence over time (replication 0)",
    designs: Sequence[str] | None = None,
) -> Figure:
    """Each site's adherence over months in replication 0, one panel per design.

    Core programme sites are solid blue, peripheral sites dashed orange and control-arm sites
    (if any) dotted grey. Only the first ``max_panels`` designs are drawn.

    Args:
        site_series: :attr:`ExperimentResult.site_series` (``design``, ``replication``,
            ``month``, ``site``, ``adherence`` (fraction), ``peripheral``, ``arm``).
        programme_start: month the programme starts (simulation months), or per design: the
            x axis counts months from it, as the gap curve does (negative = baseline); a
            design without one is drawn in simulation months.
        programme_end: month support ends (simulation months), or per design.
        max_panels: most panels drawn (designs beyond it are left out and named in the title).
        title: figure title.
        designs: design order (``site_series`` has no ``design_index``); default the order in
            ``site_series``. Names not in ``site_series`` are ignored.

    Returns:
        The figure: 1 or 2 panels in a row, then 2x2 (4 designs) or rows of 3 (up to 9),
        sharing both axes.
    """
    data = site_series
    if "replication" in data.columns and (data["replication"] == 0).any():
        data = data[data["replication"] == 0]
    all_designs = _design_order(_designs(data), designs)
    designs = all_designs[:max_panels]
    n = max(len(designs), 1)
    ncols = n if n <= 2 else (2 if n == 4 else 3)
    nrows = -(-n // ncols)
    with _style():
        fig = _new_figure(5.2 * ncols + 1.2, 3.6 * nrows + 0.6)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    styles = _site_styles()
    present: set[str] = set()
    months = []
    for ax, d in zip(axes, designs, strict=False):
        rows, start, end = _from_start(data, d, programme_start, programme_end)
        present |= _site_lines(ax, rows, styles)
        _site_phase_lines(ax, rows, start, end)
        ax.set_title(d)
        ax.set_ylim(0.0, 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        months.append(rows["month"])
    month = pd.concat(months) if months else pd.Series(dtype=float)
    if not month.empty:
        axes[0].set_xlim(float(month.min()), float(month.max()))  # shared x
    _site_axes(axes, len(designs), ncols, months_label(bool(month.min() < 0)))
    _site_legend(fig, styles, present)
    if len(all_designs) > len(designs):
        title += f" (first {len(designs)} of {len(all_designs)} designs)"
    fig.suptitle(title)
    return fig
