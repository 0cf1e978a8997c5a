"""Figures of an experiment (seaborn styling on matplotlib), written as PNG files.

Public entry points: :func:`gap_curve`, :func:`time_to_close`, :func:`site_trajectories` (each
takes DataFrames of an :class:`~sim.experiment.ExperimentResult` and returns a
:class:`matplotlib.figure.Figure`) and :func:`save_figures` (all of them into ``figures/``).

Figures are built with :class:`matplotlib.figure.Figure` directly, not through ``pyplot``, so
they are never registered with a GUI backend or pyplot's global figure list: nothing is shown,
nothing leaks, and this works from worker threads. Importing this module selects the
non-interactive ``Agg`` backend only when nothing else chose one (pyplot not yet imported and
no ``MPLBACKEND``), so it does not break a notebook's inline backend.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # before seaborn imports pyplot: no GUI, no display needed

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

DPI = 120
MAX_SITE_PANELS = 4
GAP_LABEL = "gap (1 = nothing closed)"
FIGURE_NAMES = ("gap_curve.png", "time_to_close.png", "site_trajectories.png")

PhaseArg = float | Mapping[str, float] | None


def _designs(frame: pd.DataFrame) -> list[str]:
    """Design names in experiment order (``design_index`` when present, else first seen)."""
    if frame is None or frame.empty:
        return []
    if "design_index" in frame.columns:
        first = frame.groupby("design", sort=False)["design_index"].min().sort_values(kind="stable")
        return [str(d) for d in first.index]
    return [str(d) for d in pd.unique(frame["design"])]


def _palette(designs: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """One colour per design (colour-blind-safe palette, cycled beyond 10 designs)."""
    colours = sns.color_palette("colorblind", n_colors=max(len(designs), 1))
    return {d: tuple(colours[i % len(colours)]) for i, d in enumerate(designs)}


def _per_design(value: PhaseArg, design: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        v = value.get(design)
        return None if v is None else float(v)
    return float(value)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _style() -> Any:
    """Seaborn style as a context manager (no global rcParams change)."""
    return sns.axes_style("whitegrid")


def _phase_lines(
    ax: Any, values: dict[str, float | None], colours: Mapping[str, Any], label: str
) -> None:
    """Vertical lines (one grey line if all designs agree, else one per design in its colour)."""
    known = {d: v for d, v in values.items() if v is not None}
    if not known:
        return
    distinct = set(known.values())
    if len(distinct) == 1:
        x = distinct.pop()
        ax.axvline(x, color="0.35", lw=1.0, ls=(0, (4, 3)), zorder=1)
        ax.annotate(
            label,
            xy=(x, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 3),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=8,
            color="0.3",
        )
        return
    for d, x in known.items():
        ax.axvline(x, color=colours[d], lw=1.0, ls=(0, (4, 3)), alpha=0.8, zorder=1)


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
    starts = {d: _per_design(programme_start, d) for d in designs}
    if programme_end is None:
        ends = {d: _programme_end_from_series(series, d) for d in designs}
    else:
        ends = {d: _per_design(programme_end, d) for d in designs}
    has_baseline = bool(series["month_in_programme"].min() < 0)
    if has_baseline:  # a start line only when there is a baseline
        _phase_lines(ax, starts, colours, "programme starts")
    _phase_lines(ax, ends, colours, "support ends")
    ax.set_xlabel(
        "months since programme start" + (" (negative = baseline)" if has_baseline else "")
    )
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
    return fig


def _ecdf_xy(values: np.ndarray, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """Step curve of the share of all ``n_total`` runs that closed by each time."""
    x = np.sort(values)
    y = np.arange(1, x.size + 1) / n_total
    return np.concatenate([[0.0], x]), np.concatenate([[0.0], y])


def censored_text(level: str, n_censored: int, n: int) -> str:
    """``"T90 not reached in 12 of 200 runs"`` (the censoring note used in legends)."""
    return f"{level} not reached in {n_censored} of {n} runs"


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
    axes[0].set_ylabel("share of runs that got there")
    for ax in axes:
        ax.set_xlim(0.0, xmax * 1.03)
    fig.suptitle(title)
    return fig


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
        programme_start: month the programme starts (simulation months), or per design.
        programme_end: month support ends (simulation months), or per design.
        max_panels: most panels drawn (designs beyond it are left out and named in the title).
        title: figure title.
        designs: design order (``site_series`` has no ``design_index``); default the order in
            ``site_series``. Names not in ``site_series`` are ignored.

    Returns:
        The figure: 1, 2 or 2x2 panels sharing both axes.
    """
    data = site_series
    if "replication" in data.columns and (data["replication"] == 0).any():
        data = data[data["replication"] == 0]
    present_designs = _designs(data)
    if designs is None:
        all_designs = present_designs
    else:
        all_designs = [d for d in designs if d in set(present_designs)]
        all_designs += [d for d in present_designs if d not in set(all_designs)]
    designs = all_designs[:max_panels]
    n = max(len(designs), 1)
    nrows, ncols = (1, n) if n <= 2 else (2, 2)
    with _style():
        fig = _new_figure(5.2 * ncols + 1.2, 3.6 * nrows + 0.6)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    palette = sns.color_palette("colorblind")
    styles = {
        "core": {"color": palette[0], "ls": "-", "lw": 1.0, "alpha": 0.8},
        "peripheral": {"color": palette[1], "ls": "--", "lw": 1.2, "alpha": 0.9},
        "control": {"color": "0.25", "ls": ":", "lw": 1.2, "alpha": 0.9},
    }
    present: set[str] = set()
    for ax, d in zip(axes, designs, strict=False):
        rows = data[data["design"] == d]
        wide = rows.pivot_table(index="month", columns="site", values="adherence", sort=True)
        first = rows.drop_duplicates("site").set_index("site").reindex(wide.columns)
        kinds = np.where(first["peripheral"].astype(bool), "peripheral", "core")
        if "arm" in first.columns:
            kinds = np.where(first["arm"] == "control", "control", kinds)
        thin = 0.5 if wide.shape[1] > 40 else 1.0  # many sites: thinner, lighter lines
        x = wide.index.to_numpy(dtype=float)
        for kind in ("core", "peripheral", "control"):  # rarer kinds on top
            cols = wide.columns[kinds == kind]
            if cols.empty:
                continue
            present.add(kind)
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
        for value, label in ((programme_start, "start"), (programme_end, "support ends")):
            x = _per_design(value, d)
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
        ax.set_title(d)
        ax.set_ylim(0.0, 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not data.empty:
        axes[0].set_xlim(float(data["month"].min()), float(data["month"].max()))  # shared x
    for ax in axes[len(designs) :]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[: len(designs)]):
        if i + ncols >= len(designs):  # no panel below: show this panel's month axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("month")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("adherence (share of care)")
    names = {"core": "core site", "peripheral": "peripheral site", "control": "control site"}
    handles = [
        Line2D([], [], color=styles[k]["color"], ls=styles[k]["ls"], lw=1.5, label=names[k])
        for k in ("core", "peripheral", "control")
        if k in present
    ]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    if len(all_designs) > len(designs):
        title += f" (first {len(designs)} of {len(all_designs)} designs)"
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- saving


def _tables(result: Any) -> dict[str, Any]:
    keys = ("runs", "series", "site_series", "manifest")
    if isinstance(result, Mapping):
        return {k: result.get(k) for k in keys}
    return {k: getattr(result, k, None) for k in keys}


def _times(manifest: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """Per design: baseline, programme and follow-up months from the manifest's scenarios."""
    out = {}
    for d in (manifest or {}).get("designs", []):
        t = (d.get("scenario") or {}).get("time") or {}
        if "programme_months" in t:
            out[str(d["name"])] = {
                "baseline": float(t.get("baseline_months", 0)),
                "programme": float(t["programme_months"]),
                "followup": float(t.get("followup_months", 0)),
            }
    return out


def save_figure(fig: Figure, path: Path | str, dpi: int = DPI) -> Path:
    """Write one figure as PNG (parent folders created) and release its drawing memory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format="png", facecolor="white")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        fig.clear()
    return path


def save_figures(result_or_tables: Any, out_dir: Path | str) -> list[Path]:
    """Draw every figure an experiment supports and write them as PNG into ``out_dir/figures``.

    Writes ``gap_curve.png`` (needs ``series``), ``time_to_close.png`` (needs ``runs``) and
    ``site_trajectories.png`` (needs ``site_series``); a figure whose table is missing or empty
    is skipped. Phase lines come from the manifest's scenarios when given.

    Args:
        result_or_tables: an :class:`~sim.experiment.ExperimentResult` or a mapping with some of
            ``runs``, ``series``, ``site_series`` and ``manifest``.
        out_dir: the results folder.

    Returns:
        Paths of the files written, in the order above.
    """
    tables = _tables(result_or_tables)
    figdir = Path(out_dir) / "figures"
    times = _times(tables["manifest"])
    written = []
    series, runs, site_series = tables["series"], tables["runs"], tables["site_series"]
    if series is not None and not series.empty:
        ends = {d: t["programme"] for d, t in times.items()} or None
        fig = gap_curve(series, programme_end=ends)
        written.append(save_figure(fig, figdir / FIGURE_NAMES[0]))
    if runs is not None and not runs.empty:
        horizon = {d: t["programme"] + t["followup"] for d, t in times.items()} or None
        written.append(save_figure(time_to_close(runs, horizon=horizon), figdir / FIGURE_NAMES[1]))
    if site_series is not None and not site_series.empty:
        starts = {d: t["baseline"] for d, t in times.items()} or None
        ends = {d: t["baseline"] + t["programme"] for d, t in times.items()} or None
        order = _designs(runs) if runs is not None else None
        fig = site_trajectories(
            site_series, programme_start=starts, programme_end=ends, designs=order
        )
        written.append(save_figure(fig, figdir / FIGURE_NAMES[2]))
    return written
