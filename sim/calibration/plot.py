"""Figures of a calibration: fitted vs observed cumulative adoption per group, and the
exposure-at-adoption permutation null.

Built on :class:`matplotlib.figure.Figure` (no pyplot, Agg backend, nothing shown) with seaborn
styling, as :mod:`sim.plots`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

MAX_PANELS = 16


def curves_figure(
    curves: pd.DataFrame,
    targets: pd.DataFrame,
    title: str,
    dpi: int = 100,
    flagged: Sequence[str] = (),
    labels: tuple[str, str] = ("", "time (period)"),
) -> Figure:
    """Observed cumulative share adopted (steps) against the simulated median and 95% band.

    Args:
        curves: Long table from :func:`sim.calibration.process.curve_table` (``group, time,
            observed, sim_median, sim_low, sim_high``).
        targets: Per-group table from :func:`sim.calibration.curve_targets` (``group, n,
            max_gap``); panels follow its order. With more than ``MAX_PANELS`` groups the
            figure shows the worst-fitting half (largest ``max_gap``) and the largest groups
            of the rest (:func:`panels`), and the title says so.
        title: Figure title (e.g. the fitted parameters).
        dpi: Resolution.
        flagged: Groups always shown (those the model does not reproduce); their panel titles
            say "not reproduced".
        labels: ``(group, x axis)`` words: a group named by a number is titled with the
            first (``village 10``); the second labels the x axis, e.g. ``"time (toa)"``.

    Returns:
        The figure; one panel per group, share adopted in [0, 1] against time. Each period's
        value is a step over ``[t - 0.5, t + 0.5)``, the last one too (it holds saturation).
    """
    shown, extra = panels(targets, flagged=flagged)
    k = len(shown)
    cols = min(4, k)
    rows = int(np.ceil(k / cols))
    colours = sns.color_palette("colorblind", 3)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(3.0 * cols, 2.5 * rows + 0.6), dpi=dpi, layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
    marked = {str(g) for g in flagged}
    for ax, row in zip(axes, shown.itertuples(), strict=False):
        _panel(ax, _closed(curves[curves["group"] == row.group]), colours)
        bad = str(row.group) in marked
        name = f"{labels[0]} {row.group}" if labels[0] and _numeric(row.group) else str(row.group)
        ax.set_title(
            f"{name} (n={row.n}, max gap {row.max_gap:.2f})" + ("\nnot reproduced" if bad else ""),
            fontsize=9,
            color="firebrick" if bad else "black",
        )
    for ax in axes[k:]:
        ax.set_visible(False)
    for ax in axes[(rows - 1) * cols : k]:
        ax.set_xlabel(labels[1])
    for ax in axes[::cols]:
        ax.set_ylabel("share adopted")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title + (f"\n{extra}" if extra else ""), fontsize=10)
    return fig


def _panel(ax, c: pd.DataFrame, colours: Sequence) -> None:
    """One group's simulated 95% band, simulated median and observed curve (steps)."""
    ax.fill_between(
        c["time"],
        c["sim_low"],
        c["sim_high"],
        color=colours[0],
        alpha=0.25,
        step="post",
        label="simulated 95%",
    )
    ax.step(c["time"], c["sim_median"], where="post", color=colours[0], label="simulated median")
    ax.step(c["time"], c["observed"], where="post", color=colours[1], lw=2, label="observed")
    ax.set_ylim(0, 1)
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")


def _closed(c: pd.DataFrame) -> pd.DataFrame:
    """``c`` sorted by time, each period's value drawn (as a ``post`` step) over ``[t - 0.5,
    t + 0.5)``: the last row is repeated half a period later, so the last period (which holds
    saturation) gets a whole step instead of a vertical tick, and tick ``t`` sits mid-step."""
    c = c.sort_values("time").copy()
    if c.empty:
        return c
    last = c.iloc[[-1]].copy()
    last["time"] = last["time"] + 1
    c = pd.concat([c, last], ignore_index=True)
    c["time"] = c["time"] - 0.5
    return c


def _numeric(name: object) -> bool:
    """A group named by a number (``10``) is titled with its column (``village 10``)."""
    try:
        float(str(name))
    except ValueError:
        return False
    return True


def p_text(p_value: float) -> str:
    """``"p < 0.001"`` or ``"p = 0.123"``: a permutation p-value is never 0."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def panels(
    targets: pd.DataFrame, limit: int = MAX_PANELS, flagged: Sequence[str] = ()
) -> tuple[pd.DataFrame, str]:
    """The groups ``curves.png`` shows, in ``targets`` order, and a note saying which.

    Up to ``limit`` groups all are shown (note ``""``). Beyond that the worst-fitting are
    always shown: the ``flagged`` groups (those the verdict says the model does not
    reproduce, :mod:`sim.calibration.verdict`), then the largest ``max_gap``, at least
    ``limit // 2`` of them; the remaining panels go to the largest other groups by ``n``.

    Returns:
        ``(rows of targets shown, note)``, e.g. note ``"16 of 25 groups: the 8 worst-fitting
        (10, 21, ...) and the 8 largest others; all in curves.parquet"``.
    """
    if len(targets) <= limit:
        return targets, ""
    by_gap = targets.sort_values("max_gap", ascending=False, kind="stable")
    marked = by_gap.group.astype(str).isin([str(g) for g in flagged])
    ranked = pd.concat([by_gap[marked], by_gap[~marked]])
    worst = ranked.head(min(max(limit // 2, int(marked.sum())), limit))
    rest = targets.drop(index=worst.index)
    largest = rest.sort_values("n", ascending=False, kind="stable").head(limit - len(worst))
    shown = targets.loc[sorted([*worst.index, *largest.index], key=targets.index.get_loc)]
    names = ", ".join(str(g) for g in worst.group)
    how = "not reproduced, then largest max gap" if marked.any() else "largest max gap"
    others = f" and the {len(largest)} largest others" if len(largest) else ""
    note = (
        f"{limit} of {len(targets)} groups: the {len(worst)} worst-fitting ({how}: {names})"
        f"{others}; all in curves.parquet"
    )
    return shown, note


def permutation_figure(null: np.ndarray, observed: float, p_value: float, dpi: int = 100) -> Figure:
    """Histogram of the permutation null of mean exposure at adoption, observed value marked.

    Args:
        null: Null draws of the mean exposure, shape ``(B,)``, in [0, 1].
        observed: Observed mean exposure at adoption.
        p_value: One-sided upper permutation p-value.
    """
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(5.0, 3.0), dpi=dpi, layout="constrained")
        ax = fig.subplots()
    sns.histplot(x=null[np.isfinite(null)], ax=ax, bins=40, color="grey", stat="density")
    ax.axvline(observed, color=sns.color_palette("colorblind")[1], lw=2, label="observed")
    ax.set_xlabel("mean exposure at adoption (adopters with contacts)")
    ax.set_title(f"within-group permutation null, {null.size} draws: {p_text(p_value)}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG (white background); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def save_figures(res, out: Path, labels: tuple[str, str] | None = None) -> list[Path]:
    """``curves.png`` and (when the permutation test ran) ``permutation_null.png`` of a
    calibration result in ``out``; returns the paths written. Groups the verdict found not
    reproduced (``res.band``, filled when the result was saved) are always among the panels
    and marked. ``labels``: ``(group column, time column)`` for panel titles and the x axis."""
    from sim.calibration.store import FIGURES

    prm = res.params
    push = f"p={prm.p[0]:.3f}" if len(set(prm.p.round(12))) == 1 else "p per group"
    title = f"fitted {res.fit.spec.contagion} model: {push}, q={prm.q:.3f}"
    if res.fit.spec.never_adopters:
        title += f", never-adopters={prm.pi:.2f}"
    if prm.onset is not None and prm.onset.any():
        title += ", onsets " + "/".join(str(int(d)) for d in prm.onset)
    curves, null = FIGURES
    band = res.band
    flagged = [] if band is None else [str(g) for g in band.group[band.not_reproduced]]
    words = ("", "time (period)") if labels is None else (labels[0], f"time ({labels[1]})")
    fig = curves_figure(res.curves, res.targets, title, flagged=flagged, labels=words)
    paths = [save(fig, out / curves)]
    perm = res.permutation
    if perm.get("testable", bool(perm)):
        fig = permutation_figure(perm["null_mean"], perm["observed_mean"], perm["p_mean"])
        paths.append(save(fig, out / null))
    return paths
