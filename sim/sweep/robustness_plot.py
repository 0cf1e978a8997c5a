"""The regret figure of a sweep with uncertainties (same conventions as :mod:`sim.plots`)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sim import plots


def regret_strips(regret: pd.DataFrame, labels: dict[int, str], outcome: str) -> Figure:
    """Savage regret of each policy over the states of the world: a horizontal box (quartiles,
    whiskers to 1.5 IQR) with every state as a dot, one row per policy labelled with its lever
    values, the policy with the least maximum regret first.

    Args:
        regret: policies x states (:func:`sim.sweep.robustness.regret`; >= 0, outcome units).
        labels: ``{policy: "P3 (hard=0.2, soft=0.7)"}``.
        outcome: the outcome column (axis label, with its plain label and unit).

    Returns:
        The figure (height grows with the number of policies).
    """
    order = regret.max(axis=1).sort_values(kind="stable").index
    rows = [regret.loc[p].dropna().to_numpy() for p in order]
    names = [labels[int(p)] for p in order]
    colour = sns.color_palette("colorblind")
    with plots._style():
        fig = plots._new_figure(9.0, 1.8 + 0.45 * len(rows))
        ax = fig.add_subplot()
    ax.boxplot(rows, **_horizontal(), widths=0.5, showfliers=False, patch_artist=True,
               boxprops={"facecolor": colour[0], "alpha": 0.25},
               medianprops={"color": colour[0]})  # fmt: skip
    jitter = np.random.default_rng(0)  # fixed: the same figure every time
    for i, values in enumerate(rows, start=1):
        y = i + jitter.uniform(-0.15, 0.15, len(values))
        ax.plot(values, y, "o", color=colour[1], ms=3.5, alpha=0.8)
    ax.set_yticks(range(1, len(rows) + 1), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(_axis_label(outcome), fontsize=9)
    ax.set_title(
        "How far each policy falls behind the best policy in the same context\n"
        f"one dot = one of {regret.shape[1]} states of the world (mean of its replications);\n"
        "box = middle half of the states, line = median; 0 = the best policy there",
        fontsize=9,
    )
    return fig


def _axis_label(outcome: str) -> str:
    """``regret in <label> (<unit>)``, wrapped so the label fits under the plot."""
    from sim.sweep.robustness_report import outcome_unit
    from sim.sweep.sensitivity import outcome_label

    unit, label = outcome_unit(outcome), outcome_label(outcome)
    text = f"regret in {label}" + (f" ({unit})" if unit and f"({unit}" not in label else "")
    text += f" [{outcome}]: distance from the best policy in the same state; lower is better"
    return "\n".join(textwrap.wrap(text, 70))


def _horizontal() -> dict[str, object]:
    """Horizontal boxes: ``orientation`` from Matplotlib 3.10 (``vert`` is deprecated in
    3.11), ``vert=False`` before it (pyproject allows 3.8)."""
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
