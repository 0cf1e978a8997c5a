"""Figures of an experiment (seaborn styling on matplotlib), written as PNG files.

Public entry points: :func:`gap_curve`, :func:`time_to_close`, :func:`site_trajectories` (each
takes DataFrames of an :class:`~sim.experiment.ExperimentResult` and returns a
:class:`matplotlib.figure.Figure`) and :func:`save_figures` (all of them into ``figures/``).

Figures are built with :class:`matplotlib.figure.Figure` directly, not through ``pyplot``, so
they are never registered with a GUI backend or pyplot's global figure list: nothing is shown,
nothing leaks, and this works from worker threads. Importing this module selects the
non-interactive ``Agg`` backend only when nothing else chose one (pyplot not yet imported and
no ``MPLBACKEND``), so it does not break a notebook's inline backend.

This module holds the saving (:func:`save_figures`, :data:`FIGURE_NAMES`) and re-exports the
rest: the figures themselves are drawn in :mod:`sim.plots_gap` (gap curve, time to close) and
:mod:`sim.plots_sites` (site trajectories), and the shared style, colours, phase lines and
:func:`save_figure` live in :mod:`sim.plots_base` (its private helpers ``_style``, ``_palette``
and ``_new_figure`` are used as ``plots._style`` etc. by :mod:`sim.compare.plots` and
:mod:`sim.sweep.plots`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.plots_base import DPI, GAP_LABEL, PhaseArg, _designs, save_figure

# shared helpers, used as ``plots._style`` etc. by sim.compare.plots and sim.sweep.plots
from sim.plots_base import _new_figure as _new_figure
from sim.plots_base import _palette as _palette
from sim.plots_base import _per_design as _per_design
from sim.plots_base import _phase_lines as _phase_lines
from sim.plots_base import _style as _style
from sim.plots_gap import censored_text, gap_curve, time_to_close
from sim.plots_sites import MAX_SITE_PANELS, site_trajectories

__all__ = [
    "DPI",
    "FIGURE_NAMES",
    "GAP_LABEL",
    "MAX_SITE_PANELS",
    "PhaseArg",
    "censored_text",
    "gap_curve",
    "save_figure",
    "save_figures",
    "site_trajectories",
    "time_to_close",
]

FIGURE_NAMES = ("gap_curve.png", "time_to_close.png", "site_trajectories.png")


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
