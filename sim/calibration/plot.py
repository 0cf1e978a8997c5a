"""Figures of a calibration: fitted vs observed cumulative adoption per group, and the
exposure-at-adoption permutation null.

Built on :class:`matplotlib.figure.Figure` (no pyplot, Agg backend, nothing shown) with seaborn
styling, as :mod:`sim.plots`.
"""

from __future__ import annotations

import os
import sys
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
    curves: pd.DataFrame, targets: pd.DataFrame, title: str, dpi: int = 100
) -> Figure:
    """Observed cumulative share adopted (steps) against the simulated median and 95% band.

    Args:
        curves: Long table from :func:`sim.calibration.process.curve_table` (``group, time,
            observed, sim_median, sim_low, sim_high``).
        targets: Per-group table from :func:`sim.calibration.curve_targets` (``group, n,
            max_gap``); panels follow its order, largest ``MAX_PANELS`` groups if more.
        title: Figure title (e.g. the fitted parameters).
        dpi: Resolution.

    Returns:
        The figure; one panel per group, share adopted in [0, 1] against time.
    """
    shown = (
        targets.nlargest(MAX_PANELS, "n", keep="first") if len(targets) > MAX_PANELS else targets
    )
    k = len(shown)
    cols = min(4, k)
    rows = int(np.ceil(k / cols))
    colours = sns.color_palette("colorblind", 3)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(3.0 * cols, 2.5 * rows + 0.6), dpi=dpi, layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
    for ax, row in zip(axes, shown.itertuples(), strict=False):
        c = curves[curves["group"] == row.group]
        ax.fill_between(
            c["time"],
            c["sim_low"],
            c["sim_high"],
            color=colours[0],
            alpha=0.25,
            step="post",
            label="simulated 95%",
        )
        ax.step(
            c["time"], c["sim_median"], where="post", color=colours[0], label="simulated median"
        )
        ax.step(c["time"], c["observed"], where="post", color=colours[1], lw=2, label="observed")
        ax.set_title(f"{row.group} (n={row.n}, max gap {row.max_gap:.2f})", fontsize=9)
        ax.set_ylim(0, 1)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    for ax in axes[k:]:
        ax.set_visible(False)
    for ax in axes[(rows - 1) * cols : k]:
        ax.set_xlabel("time (period)")
    for ax in axes[::cols]:
        ax.set_ylabel("share adopted")
    axes[0].legend(fontsize=7, loc="lower right")
    extra = f" ({MAX_PANELS} largest of {len(targets)} groups)" if len(targets) > MAX_PANELS else ""
    fig.suptitle(title + extra, fontsize=10)
    return fig


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
    ax.set_title(f"within-group permutation null, {null.size} draws: p = {p_value:.3f}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG (white background); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def save_figures(res, out: Path) -> list[Path]:
    """``curves.png`` and (when the permutation test ran) ``permutation_null.png`` of a
    calibration result in ``out``; returns the paths written."""
    from sim.calibration.store import FIGURES

    prm = res.params
    p_text = f"p={prm.p[0]:.3f}" if len(set(prm.p.round(12))) == 1 else "p per group"
    title = f"fitted {res.fit.spec.contagion} model: {p_text}, q={prm.q:.3f}"
    if res.fit.spec.never_adopters:
        title += f", never-adopters={prm.pi:.2f}"
    if prm.onset is not None and prm.onset.any():
        title += ", onsets " + "/".join(str(int(d)) for d in prm.onset)
    curves, null = FIGURES
    paths = [save(curves_figure(res.curves, res.targets, title), out / curves)]
    perm = res.permutation
    if perm.get("testable", bool(perm)):
        fig = permutation_figure(perm["null_mean"], perm["observed_mean"], perm["p_mean"])
        paths.append(save(fig, out / null))
    return paths
