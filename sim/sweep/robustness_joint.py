"""Good enough on every threshold at once: the joint satisficing share of each policy.

A programme director asks "closes half the gap within 24 months *and* costs under 15,000 a
point": two outcomes, one decision. Each outcome's robustness section (:mod:`sim.sweep.
robustness_report`) judges it alone; with two or more ``[thresholds]``, :func:`joint_section`
adds the share of the states of the world in which a policy meets *all* of them (Starr's
domain criterion, Starr 1963, applied to the conjunction of the requirements, as in
robust-decision-making practice: Lempert, Popper & Bankes 2003). A state where one of the
outcomes is undefined does not meet it. Each state's value of a policy is, as in the
per-outcome sections, the mean over its replications.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.robustness import policy_labels, state_values


def joint_satisficing(
    values: Mapping[str, pd.DataFrame], thresholds: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """Per policy, the share of states meeting each threshold and all of them together.

    Args:
        values: outcome column -> its policies x states table (:func:`sim.sweep.robustness.
            state_values`), the same policies and states in each.
        thresholds: outcome column -> ``{"at_most": x}`` or ``{"at_least": x}``; one per key
            of ``values``.

    Returns:
        Index ``policy``; one column per outcome (its share, in [0, 1]) and ``all`` (the share
        of states meeting every threshold, in [0, 1]).
    """
    met = {}
    for column, table in values.items():
        (side, x), = thresholds[column].items()  # fmt: skip
        v = table.to_numpy(dtype=float)
        met[column] = v <= x if side == "at_most" else v >= x  # nan meets neither
    together = np.logical_and.reduce(list(met.values()))
    first = next(iter(values.values()))
    out = pd.DataFrame({c: m.mean(axis=1) for c, m in met.items()}, index=first.index)
    out["all"] = together.mean(axis=1)
    return out


def joint_section(spec: Any, runs: pd.DataFrame, out_dir: Path) -> str:
    """The ``sweep.md`` section on every threshold together ("" with fewer than two).

    Args:
        spec: the sweep (:class:`sim.sweep.spec.RobustSweepSpec`; ``thresholds`` used).
        runs: the sweep's runs with ``point`` and every thresholded outcome column.
        out_dir: the sweep folder (``design.parquet`` is read).
    """
    from sim.report_md import markdown_table
    from sim.sweep.robustness_report import threshold_text

    thresholds = dict(spec.thresholds)
    if len(thresholds) < 2:
        return ""
    design = pd.read_parquet(Path(out_dir) / "design.parquet")
    values = {c: state_values(runs, design, c) for c in thresholds}
    table = joint_satisficing(values, thresholds)
    labels = policy_labels(design, [p.key for p in spec.parameters])
    rows = [
        [labels[int(p)], *(f"{row[c]:.0%}" for c in [*thresholds, "all"])]
        for p, row in table.iterrows()
    ]
    heads = ["policy", *(f"{c} {threshold_text(t)}" for c, t in thresholds.items()), "all"]
    best = table["all"].max()
    named = [labels[int(p)] for p in table.index[table["all"] == best]]
    return "\n".join(
        [
            "## Good enough on every threshold together\n",
            f"The share of the {next(iter(values.values())).shape[1]} states "
            "of the world in which each policy meets each threshold, and all of them at once "
            "(**all**: a state counts only if every outcome is good enough there; Starr's "
            "domain criterion on the requirements together). Each state's value is the mean "
            "over its replications.\n",
            markdown_table(heads, rows, "l" + "r" * (len(heads) - 1)),
            "",
            f"Most often good enough on everything: {' and '.join(named)}, in {best:.0%} of "
            "the states."
            + (
                " No policy meets every threshold in any state: relax one, or weigh them."
                if best == 0
                else ""
            )
            + " Judged on these runs only: a near-tie can swap with another seed (see each "
            "outcome's check against the seed noise).\n",
        ]
    )
