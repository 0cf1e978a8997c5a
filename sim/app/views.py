"""Figures of the workshop app (matplotlib only, no Solara).

Each ``*_figure`` function draws the current state of an :class:`sim.app.model.AppModel` (or a
:class:`sim.app.model.Band`) into a new :class:`matplotlib.figure.Figure`; :mod:`sim.app` shows
them in the browser. Keeping them free of Solara lets tests and notebooks call them directly.
Months on every x axis count from the programme start (baseline months are 0 and below), the
clock of the status line (:func:`sim.app.text.month_now`). The plain-language text (captions,
status line, band summaries) lives in :mod:`sim.app.text` and is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from sim import state as st
from sim.app.model import MAX_CLINICIANS_DRAWN
from sim.app.text import (
    BAND_CAPTION,
    CONFLICT_CAPTION,
    GAP_CAPTION,
    NETWORK_CAPTION,
    SITES_CAPTION,
    band_text,
    month_now,
    settings_text,
    status_text,
)

if TYPE_CHECKING:
    from sim.app.model import AppModel, Band

WIDTH, HEIGHT, DPI = 6.4, 3.0, 85
TRUE_COLOUR, REPORTED_COLOUR = "#1f4e79", "#d1495b"
CENTRAL_COLOUR, PERIPHERAL_COLOUR = "#4c78a8", "#f58518"
ADOPTION_COLOURS = {  # by adoption state (sim.state codes)
    st.NOT_ADOPTED: "#c7c7c7",
    st.COMPLIANT: "#f2a541",
    st.INTERNALISED: "#2a9d8f",
}
BAND_COLOURS = ("#1f4e79", "#9a9a9a")  # current settings, previous settings
CORE_COLOUR, DROPPED_COLOUR = "#1f4e79", "#c0392b"

__all__ = [
    "BAND_CAPTION",
    "CONFLICT_CAPTION",
    "GAP_CAPTION",
    "NETWORK_CAPTION",
    "SITES_CAPTION",
    "band_figure",
    "band_text",
    "conflict_figure",
    "gap_figure",
    "network_figure",
    "network_title",
    "settings_text",
    "sites_figure",
    "status_text",
]


def _months(model: AppModel) -> np.ndarray:
    return np.arange(model.horizon) - model.programme_start


def _new_figure(width: float = WIDTH, height: float = HEIGHT) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.16, top=0.9)
    return fig


def _month_label(baseline_months: int) -> str:
    text = "months since programme start"
    return text + " (0 and below: baseline)" if baseline_months > 0 else text


def _time_axis(ax: Axes, model: AppModel) -> None:
    """Full-horizon x axis in months since programme start, the programme shaded."""
    months = _months(model)
    ax.axvspan(0, model.programme_end - model.programme_start, color="#eef3f8", zorder=0)
    ax.set_xlim(months[0], months[-1] + 1)
    ax.set_xlabel(_month_label(model.programme_start))
    ax.grid(alpha=0.3)


def gap_figure(model: AppModel) -> Figure:
    """True gap so far (solid) and reported gap while data are collected (dashed)."""
    fig = _new_figure()
    ax = fig.add_subplot()
    _time_axis(ax, model)
    n, months, d = model.month, _months(model), model.recorder.data
    ax.plot(months[:n] + 1, 100 * d["gap_true"][:n], color=TRUE_COLOUR, lw=2.2, label="true gap")
    collected = min(n, model.programme_end)  # no data are reported after support ends
    ax.plot(
        months[:collected] + 1,
        100 * d["gap_reported"][:collected],
        color=REPORTED_COLOUR,
        lw=1.6,
        ls="--",
        label="reported gap (while data collected)",
    )
    ax.set_ylim(0, 110)
    ax.set_ylabel("gap left (%)")
    ax.set_title(f"The gap, month {month_now(model)}", loc="left", fontsize=11)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig


def _sites_title(model: AppModel) -> str:
    """``Adherence by site, month 24: central mean 82%, peripheral mean 77%``."""
    n, series = model.month, model.recorder.site_series
    title = f"Adherence by site, month {month_now(model)}"
    if n == 0 or series is None:
        return title
    prog, periph = model.prog_mask, model.sites.peripheral
    means = [
        f"{name} mean {100 * series[n - 1, group].mean():.0f}%"
        for name, group in (("central", prog & ~periph), ("peripheral", prog & periph))
        if group.any()
    ]
    return f"{title}: {', '.join(means)}" if means else title


def sites_figure(model: AppModel) -> Figure:
    """Each programme site's true adherence so far; peripheral sites orange, target dashed."""
    fig = _new_figure()
    ax = fig.add_subplot()
    _time_axis(ax, model)
    n, months = model.month, _months(model)
    s, c = model.sites, model.scn.challenge
    series = model.recorder.site_series
    if series is not None and n > 0:
        prog = np.flatnonzero(s.arm == 1)
        x = months[:n] + 1
        for site in prog:
            colour = PERIPHERAL_COLOUR if s.peripheral[site] else CENTRAL_COLOUR
            ax.plot(
                x,
                100 * series[:n, site],
                color=colour,
                lw=0.9,
                alpha=0.75,
                ls=":" if s.dropped[site] else "-",
            )
    ax.axhline(100 * c.target_adherence, color="black", lw=1, ls="--")
    ax.axhline(100 * c.baseline_adherence, color="grey", lw=0.8, ls=":")
    ax.set_ylim(0, 100)
    ax.set_ylabel("adherence (%)")
    ax.set_title(_sites_title(model), loc="left", fontsize=10)
    ax.legend(
        handles=[
            Line2D([], [], color=CENTRAL_COLOUR, label="central site"),
            Line2D([], [], color=PERIPHERAL_COLOUR, label="peripheral site"),
            Line2D([], [], color="black", ls="--", label="target"),
        ],
        loc="lower right",
        frameon=False,
        fontsize=8,
    )
    return fig


def _conflict_title(model: AppModel) -> str:
    """``Conflict 0.13, belonging 0.38 (peripheral sites 0.34), month 24``."""
    n, d = model.month, model.recorder.data
    if n == 0:
        return f"Conflict and belonging, month {month_now(model)}"
    title = f"Conflict {d['conflict'][n - 1]:.2f}, belonging {d['belonging'][n - 1]:.2f}"
    periph = model.prog_mask & model.sites.peripheral
    if periph.any():
        title += f" (peripheral sites {model.sites.belonging[periph].mean():.2f})"
    return f"{title}, month {month_now(model)}"


def conflict_figure(model: AppModel) -> Figure:
    """Mean conflict, belonging and engagement of the programme sites so far."""
    fig = _new_figure()
    ax = fig.add_subplot()
    _time_axis(ax, model)
    n, months, d = model.month, _months(model), model.recorder.data
    x = months[:n] + 1
    ax.plot(x, d["conflict"][:n], color="#d1495b", lw=2, label="conflict")
    ax.plot(x, d["belonging"][:n], color="#2a9d8f", lw=2, label="belonging")
    ax.plot(x, d["engagement"][:n], color="#6c757d", lw=1.3, ls="--", label="engagement")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean over sites (0-1)")
    ax.set_title(_conflict_title(model), loc="left", fontsize=10)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig


def network_figure(model: AppModel) -> Figure:
    """Sites and clinicians at their precomputed positions, coloured by adoption state."""
    layout = model.layout
    fig = _new_figure(4.6, 4.0)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.13, top=0.88)
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.axis("off")
    _draw_links(ax, model)
    xy = layout.clinician_xy
    state = model.clinicians.adoption[layout.clinicians]
    colours = np.array([ADOPTION_COLOURS[int(a)] for a in state]) if state.size else "grey"
    ax.scatter(xy[:, 0], xy[:, 1], s=9, c=colours, edgecolors="none", zorder=3)
    _draw_sites(ax, model)
    lim = 1.0 + layout.site_radius * 1.6
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_title(network_title(model), loc="left", fontsize=10)
    _adoption_legend(ax)
    return fig


def network_title(model: AppModel) -> str:
    """``The community, month 24`` over a short line of what is drawn (fits the chart)."""
    layout = model.layout
    n, total = layout.sites.size, layout.n_programme_sites
    shown = f"all {total} sites drawn" if n == total else f"{n} of {total} sites drawn"
    if layout.sampled:
        shown += f", up to {MAX_CLINICIANS_DRAWN} clinicians each"
    return f"The community, month {month_now(model)}\n({shown})"


def _draw_links(ax: Axes, model: AppModel) -> None:
    """Spokes from the core team to each site (width = tie strength) and clinician ties."""
    layout = model.layout
    s = model.sites
    ties = s.tie_strength[layout.sites] * s.joined[layout.sites]
    spokes = [((0.0, 0.0), (x, y)) for x, y in layout.site_xy]
    ax.add_collection(
        LineCollection(spokes, colors="#8fb3d9", linewidths=0.3 + 4.0 * ties, alpha=0.6, zorder=1)
    )
    xy = layout.clinician_xy
    if layout.edges.size:
        segs = np.stack([xy[layout.edges[:, 0]], xy[layout.edges[:, 1]]], axis=1)
        ax.add_collection(LineCollection(segs, colors="#b0b0b0", linewidths=0.4, zorder=2))


def _draw_sites(ax: Axes, model: AppModel) -> None:
    """Site rings (dotted before joining), crosses on dropped sites, and the core team star."""
    layout = model.layout
    s = model.sites
    periph = s.peripheral[layout.sites]
    rings = [Circle((x, y), 1.3 * layout.site_radius) for x, y in layout.site_xy]
    ax.add_collection(
        PatchCollection(
            rings,
            facecolors="white",
            edgecolors=np.where(periph, PERIPHERAL_COLOUR, CENTRAL_COLOUR),
            linewidths=1.2,
            linestyles=["-" if j else ":" for j in s.joined[layout.sites]],
            zorder=1.5,
        )
    )
    dropped = s.dropped[layout.sites]
    if dropped.any():  # above every label, with a white edge so it shows on any ring
        ax.scatter(
            *layout.site_xy[dropped].T,
            marker="X",
            s=110,
            c=DROPPED_COLOUR,
            edgecolors="white",
            linewidths=0.8,
            zorder=6,
        )
    ax.scatter([0], [0], marker="*", s=260, c=CORE_COLOUR, zorder=4)


def _adoption_legend(ax: Axes) -> None:
    """Legend below the network: the clinicians' adoption colours, the core team (the star at
    the centre, named here so no label covers the sites near it) and dropped sites."""
    handles = [
        Line2D([], [], ls="", marker="o", color=colour, label=label)
        for label, colour in zip(
            ("not adopted", "compliant", "internalised"), ADOPTION_COLOURS.values(), strict=True
        )
    ]
    handles += [
        Line2D([], [], ls="", marker="*", markersize=10, color=CORE_COLOUR, label="core team"),
        Line2D([], [], ls="", marker="X", markersize=8, color=DROPPED_COLOUR, label="dropped out"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        frameon=False,
        fontsize=8,
        handletextpad=0.2,
        columnspacing=1.0,
    )


def band_figure(
    current: Band | None, previous: Band | None, live: AppModel | None
) -> Figure | None:
    """Median and 50% / 90% bands of the true gap for the current (and previous) settings.

    Returns None before the first band (the page shows a placeholder message instead). The
    live run is drawn in black when it has the current band's settings (it is replication 0).
    """
    drawn = [b for b in (current, previous) if b is not None]
    if not drawn:
        return None
    fig = _new_figure()
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    ref = drawn[0]
    ax.axvspan(0, ref.programme_months, color="#eef3f8", zorder=0)
    ax.set_xlim(ref.months[0], ref.months[-1] + 1)
    for band, colour in ((previous, BAND_COLOURS[1]), (current, BAND_COLOURS[0])):
        if band is None:
            continue
        q = 100 * band.quantiles()
        x = band.months + 1
        ax.fill_between(x, q[0], q[4], color=colour, alpha=0.15, lw=0)
        ax.fill_between(x, q[1], q[3], color=colour, alpha=0.3, lw=0)
        ax.plot(x, q[2], color=colour, lw=2, label=f"{band.label} (median of {band.gaps.shape[0]})")
    if live is not None and current is not None and live.settings_key == current.key:
        n = live.month
        x = np.arange(live.horizon)[:n] - live.programme_start + 1
        ax.plot(x, 100 * live.recorder.data["gap_true"][:n], color="black", lw=1, label="live run")
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_xlabel(_month_label(-int(ref.months[0])))
    ax.set_ylabel("true gap left (%)")
    ax.set_title(f"Variability: {ref.gaps.shape[0]} replications", loc="left", fontsize=11)
    return fig
