"""Figures of a sweep and a sensitivity analysis (same conventions as :mod:`sim.plots`).

:func:`heatmap` (response surface of two parameters), :func:`partial_dependence_lines` (one
small panel per parameter), :func:`indices_bars` (Sobol S1/ST or Morris mu*, a tornado-style
horizontal bar chart) and :func:`morris_mu_sigma` (the Morris mu*-sigma diagram) each return a
:class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sim import plots
from sim.metric_info import METRICS
from sim.sweep.sensitivity import (
    outcome_column,
    outcome_label,
    partial_dependence,
    response_surface,
)


def _label(outcome: str) -> str:
    return outcome_label(outcome_column(outcome))


def lever_label(key: str, width: int = 40) -> str:
    """A parameter's axis label for readers who do not know the keys: the dotted key, and
    under it what it is and its unit (the scenario schema's description, wrapped at ``width``
    characters); a dummy or a key without a description is the key alone."""
    from sim.loader import valid_keys

    info = valid_keys().get(key)
    if info is None or not info.description:
        return key
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    text = info.description + (f" ({extra['unit']})" if extra.get("unit") else "")
    return "\n".join([key, *textwrap.wrap(text, width)])


def _tick(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def heatmap(runs: pd.DataFrame, x: str, y: str, outcome: str, others: Sequence[str] = ()) -> Figure:
    """Mean ``outcome`` over the (``x``, ``y``) plane (levels, or quantile bins of samples).

    Args:
        runs: sweep rows (``point``, ``replication``, parameter and outcome columns).
        x: parameter on the horizontal axis.
        y: parameter on the vertical axis.
        outcome: metric (T50/T90 as restricted times).
        others: the other varied parameters, which each cell averages over (named in the
            title, so a cell is not read as the outcome at the base values of those).

    Returns:
        One annotated heatmap, low values light; ``y`` increases upwards.
    """
    surface = response_surface(runs, x, y, outcome).sort_index(ascending=False)
    with plots._style():
        fig = plots._new_figure(7.5, 5.6)
        ax = fig.add_subplot()
    sns.heatmap(
        surface,
        ax=ax,
        annot=surface.shape[0] * surface.shape[1] <= 100,
        fmt=".3g",
        cmap="viridis_r",
        cbar_kws={"label": _label(outcome)},
        xticklabels=[_tick(v) for v in surface.columns],
        yticklabels=[_tick(v) for v in surface.index],
    )
    ax.set_xlabel(lever_label(x, 60))
    ax.set_ylabel(lever_label(y))
    grid = runs[x].nunique() <= surface.shape[1] and runs[y].nunique() <= surface.shape[0]
    binned = "grid levels" if grid else "quantile bins of the sample"
    title = f"Mean {outcome} over replications ({binned})"
    if others:  # wrapped: with uncertainties the list is long (~70 characters a line fit)
        title += "\n" + "\n".join(textwrap.wrap(f"averaged over {', '.join(others)}", 70))
    ax.set_title(title, fontsize=10)
    return fig


def partial_dependence_lines(
    runs: pd.DataFrame, parameters: Sequence[str], outcome: str, grid: bool = False
) -> Figure:
    """Mean ``outcome`` against each parameter, averaged over the others, with 95% bands.

    The bands are cluster-robust under common random numbers (see
    :func:`sim.sweep.sensitivity.partial_dependence`; ``grid`` as there): clustered by
    replication for a grid, two ways (point and replication) for a sampled design, as the title
    says. None is drawn with fewer than 3 clusters (:data:`sim.sweep.crn.MIN_CLUSTERS`; one or
    two replications), and the title says why.

    Returns:
        One panel per parameter (3 columns), sharing the y axis.
    """
    n = len(parameters)
    ncol = min(3, n)
    nrow = int(np.ceil(n / ncol))
    colour = sns.color_palette("colorblind")[0]
    with plots._style():
        fig = plots._new_figure(3.6 * ncol + 0.6, 2.9 * nrow + 0.6)
        axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    banded = False
    for ax, p in zip(axes, parameters, strict=False):
        pdp = partial_dependence(runs, p, outcome, grid=grid)
        banded |= bool(pdp["low"].notna().any())
        ax.fill_between(pdp["value"], pdp["low"], pdp["high"], color=colour, alpha=0.2, lw=0)
        ax.plot(pdp["value"], pdp["mean"], "o-", color=colour, lw=1.8, ms=4)
        ax.set_xlabel(lever_label(p), fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.supylabel("\n".join(textwrap.wrap(_label(outcome), 36)), fontsize=10)
    note = " (restricted: not reached = horizon)" if outcome in ("t50_months", "t90_months") else ""
    width = int(9.5 * (3.6 * ncol + 0.6))  # ~9.5 title characters per inch: none cropped
    lines = [f"Partial dependence of {outcome}{note}: mean over the other parameters,"]
    fig.suptitle(
        "\n".join(textwrap.fill(t, width) for t in [*lines, _band_note(runs, grid, banded)])
    )
    return fig


def _band_note(runs: pd.DataFrame, grid: bool, banded: bool) -> str:
    """The title's second line: how the 95% band is clustered, or why none is drawn."""
    if not banded:
        reps = runs["replication"].nunique() if "replication" in runs else 1
        return (
            f"no 95% band: {reps} replication{'s' if reps != 1 else ''}, too few to estimate "
            "the seed noise of a level mean (3 are needed)"
        )
    if grid:
        return "95% band clustered by seed (replication k shares its seeds at every point)"
    return "95% band clustered two ways: by point and by seed (replication k, shared by all points)"


def indices_bars(indices: pd.DataFrame, method: str, outcome: str) -> Figure:
    """Tornado-style bars of sensitivity indices with their 95% CIs, largest on top.

    Args:
        indices: :func:`sim.sweep.sensitivity.sobol_indices` (S1 and ST bars) or
            :func:`sim.sweep.sensitivity.morris_indices` (mu* bars) output.
        method: ``sobol`` or ``morris``.
        outcome: the analysed metric (for the title).

    Returns:
        One horizontal bar chart.
    """
    frame = indices.iloc[::-1]
    y = np.arange(len(frame))
    pal = sns.color_palette("colorblind")
    with plots._style():
        fig = plots._new_figure(8.0, 1.2 + 0.6 * len(frame))
        ax = fig.add_subplot()
    if method == "sobol":
        h = 0.38
        ax.barh(y + h / 2, frame["ST"], h, xerr=frame["ST_conf"], color=pal[0], label="total (ST)")
        ax.barh(
            y - h / 2, frame["S1"], h, xerr=frame["S1_conf"], color=pal[1], label="first order (S1)"
        )
        ax.set_xlabel("Sobol index (share of output variance)")
        ax.legend(frameon=False, fontsize=9, loc="lower right")
    else:
        ax.barh(y, frame["mu_star"], 0.6, xerr=frame["mu_star_conf"], color=pal[0])
        ax.set_xlabel(f"Morris mu* (mean |elementary effect|, units of {outcome})")
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_yticks(y, [lever_label(p) for p in frame["parameter"]], fontsize=8)
    fig.suptitle(f"What drives {_label(outcome)}?\n{method} indices with 95% CIs", fontsize=11)
    return fig


def morris_mu_sigma(
    indices: pd.DataFrame, outcome: str, noise_floor: float | None = None, dummy: Sequence[str] = ()
) -> Figure:
    """The Morris diagram: mu* against sigma, one labelled point per lever.

    The standard way to read a Morris screening (Morris 1991; Campolongo, Cariboni &
    Saltelli 2007, *Environ. Model. Softw.* 22: 1509-1518): mu* (mean |elementary effect|) on
    x says how much a lever matters; sigma (sd of its elementary effects) on y says how much
    that effect changes across the space, i.e. interactions with other levers or a non-linear
    effect. Points near x = 0 are negligible; points above the dashed line sigma = mu* have
    effects that vary more than their average size (strongly interacting or non-linear, their
    sign may change); points well below it are close to linear and additive.

    Args:
        indices: :func:`sim.sweep.sensitivity.morris_indices` output (``parameter``,
            ``mu_star``, ``sigma``; ``sigma`` may be ``nan`` with one trajectory).
        outcome: the analysed metric (for the title and units).
        noise_floor: mu* a lever with no effect would get from seed noise alone
            (:func:`sim.sweep.seed_noise.seed_noise`), shaded when given.
        dummy: dummy parameters (drawn grey: their mu* is 0 by construction).

    Returns:
        One scatter plot; the points are the first collection of its axes, in ``indices``'
        row order.
    """
    mu, sigma = indices["mu_star"].to_numpy(float), indices["sigma"].to_numpy(float)
    pal = sns.color_palette("colorblind")
    with plots._style():
        fig = plots._new_figure(7.5, 5.6)
        ax = fig.add_subplot()
    colours = ["0.6" if p in dummy else pal[0] for p in indices["parameter"]]
    ax.scatter(mu, sigma, s=36, c=colours, zorder=3)
    finite = np.concatenate([mu[np.isfinite(mu)], sigma[np.isfinite(sigma)], [0.0]])
    top = float(finite.max()) * 1.3 or 1.0  # room for the labels right of the points
    names = [str(p).removeprefix("programme.") for p in indices["parameter"]]
    for name, x, y, dy in zip(names, mu, sigma, _label_offsets(names, mu, sigma, top), strict=True):
        if np.isfinite(x) and np.isfinite(y):
            moved = (
                {"arrowprops": {"arrowstyle": "-", "color": "0.6", "lw": 0.5}} if dy != 3 else {}
            )
            ax.annotate(
                name, (x, y), xytext=(4, dy), textcoords="offset points", fontsize=7, **moved
            )  # a label moved clear of another keeps a thin line to its point
    ax.plot([0, top], [0, top], "--", color="0.4", lw=1, label="sigma = mu*")
    if noise_floor is not None and np.isfinite(noise_floor) and noise_floor > 0:
        ax.axvspan(0, noise_floor, color=pal[1], alpha=0.15, lw=0, label="seed-noise floor of mu*")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    unit = METRICS[outcome].unit.split(" (")[0] if outcome in METRICS else f"units of {outcome}"
    ax.set_xlabel(f"mu* (mean |elementary effect|, {unit}): how much a lever matters")
    ax.set_ylabel("sigma (sd of elementary effects):\ninteractions or non-linearity")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.text(
        0.98, 0.02, "above the line: the effect depends on the other levers\n"
        "or is non-linear; below: close to linear and additive",
        transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3",
    )  # fmt: skip
    fig.suptitle(f"Morris screening of {_label(outcome)}: mu* and sigma per lever", fontsize=11)
    return fig


def _label_offsets(names: list[str], x: np.ndarray, y: np.ndarray, top: float) -> list[float]:
    """Vertical offsets (points) for the labels of a scatter on ``[0, top]^2`` axes, so that no
    two labels overlap: a label is ~3% of the axis high and ~1.3% wide per character (7-point
    text on a 7.5-inch figure); a label that would overlap one placed before (lowest points
    first) moves down by one label height, then up, until it is clear. Returns 3 (just above
    the point) where nothing is in the way."""
    height, char = 0.035 * top, 0.0125 * top
    placed: list[tuple[float, float, float]] = []  # (left, right, bottom) of placed labels
    out = [3.0] * len(names)
    for i in sorted(range(len(names)), key=lambda k: (y[k], x[k])):
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            continue
        left, right = x[i], x[i] + char * len(names[i])
        for step in (0, -1, 1, -2, 2, -3, 3):
            bottom = y[i] + step * height
            clear = all(
                right <= a or left >= b or bottom + height <= c or bottom >= c + height
                for a, b, c in placed
            )
            if clear:
                break
        placed.append((left, right, bottom))
        out[i] = (
            3.0 + (bottom - y[i]) / top * 5.6 * 72 * 0.8
        )  # data -> points (axes ~0.8 of 5.6 in)
    return out
