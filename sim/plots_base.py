"""Shared basics of every figure module: backend, style, design colours, phase lines, PNG files.

:mod:`sim.plots`, :mod:`sim.plots_gap`, :mod:`sim.plots_sites`, :mod:`sim.compare.plots` and
:mod:`sim.sweep.plots` build their figures from these helpers (reached as ``sim.plots._style``
and so on, re-exported there): design order and one colour per design, a
:class:`matplotlib.figure.Figure` with the house size and DPI, seaborn's ``whitegrid`` style as a
context manager, dashed phase lines, and :func:`save_figure` to write a figure as PNG.

Importing this module selects the non-interactive ``Agg`` backend only when nothing else chose
one (pyplot not yet imported and no ``MPLBACKEND``), before seaborn imports pyplot, so it does
not break a notebook's inline backend. Figure modules import seaborn only through this module.
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

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

DPI = 120
GAP_LABEL = "gap (1 = nothing closed)"

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


def _colourblind() -> list[tuple[float, float, float]]:
    """Seaborn's colour-blind-safe palette (10 colours), for figures coloured by kind."""
    return sns.color_palette("colorblind")


def months_label(has_baseline: bool) -> str:
    """The x label of a figure over months since programme start (the gap curve, the site
    trajectories): ``months since programme start``, saying so when baseline months are
    drawn as negative months."""
    return "months since programme start" + (" (negative = baseline)" if has_baseline else "")


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
