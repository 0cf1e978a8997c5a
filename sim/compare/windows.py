"""What a comparison compares: observation windows, the outcome table, notes on the designs.

Each design is observed for its own ``programme + follow-up`` months (:func:`window_months`);
times to close and the gap area are compared within the common window ``tau``, censored times
restricted to it (:func:`outcome_table`, :func:`window_auc`). :func:`design_notes` says in
sentences what differs between designs beyond their levers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.outcomes import CENSORED, OUTCOMES
from sim.experiment import Design, ExperimentResult


def window_months(design: Design) -> int:
    """Months a design is observed after its programme starts (programme + follow-up)."""
    t = design.scenario.time
    return t.programme_months + t.followup_months


def window_auc(exp: ExperimentResult, tau: float) -> pd.Series:
    """Gap area (gap-months) over the first ``tau`` programme months of every run.

    Reads the series parts on disk one at a time (only the columns needed) when the
    experiment has a results folder, else the in-memory series.

    Returns:
        A Series named ``gap_auc`` indexed by (``design``, ``replication``).
    """
    cols = ["design", "replication", "month_in_programme", "gap_true"]
    parts = sorted((exp.out_dir / "series").glob("part-*.parquet")) if exp.out_dir else []
    frames = [pd.read_parquet(p, columns=cols) for p in parts] if parts else [exp.series[cols]]
    sums = []
    for f in frames:
        f = f[(f["month_in_programme"] >= 0) & (f["month_in_programme"] < tau)]
        sums.append(f.groupby(["design", "replication"])["gap_true"].sum())
    return pd.concat(sums).rename("gap_auc")


def outcome_table(runs: pd.DataFrame, auc: pd.Series, tau: float) -> pd.DataFrame:
    """The compared outcome of every (design, replication), censored times restricted to ``tau``.

    Args:
        runs: one row per (design, replication) (:attr:`ExperimentResult.runs`).
        auc: gap area over the first ``tau`` months, indexed by (design, replication)
            (:func:`window_auc`).
        tau: common window in months after the programme start (> 0).

    Returns:
        Columns ``design``, ``replication``, one column per :data:`OUTCOMES` metric, and
        ``t50_reached`` / ``t90_reached`` (bool: level reached within ``tau``).
    """
    out = runs[["design", "replication"]].copy()
    for metric, flag in CENSORED.items():
        t = runs[metric].to_numpy(dtype=float)
        cens = runs[flag].fillna(False).to_numpy(dtype=bool) | np.isnan(t)
        out[metric] = np.where(cens, tau, np.minimum(t, tau))
        out[metric.replace("_months", "_reached")] = ~cens & (t < tau)
    out = out.merge(auc.reset_index(), on=["design", "replication"], how="left")
    for o in OUTCOMES:
        if o.metric not in out.columns:
            out[o.metric] = runs[o.metric].to_numpy(dtype=float)
    return out


def design_notes(designs: Sequence[Design], windows: dict[str, int], tau: float) -> list[str]:
    """Plain sentences on what differs between designs beyond their levers (horizon, size)."""
    notes = []
    if len(set(windows.values())) > 1:
        parts = ", ".join(f"{n} {w}" for n, w in windows.items())
        notes.append(
            f"The designs are observed for different times after their programme starts "
            f"({parts} months). T50, T90 and the gap area are compared within the first "
            f"{tau:g} months, common to all; the gap at programme end and at follow-up end, "
            "sustainment, cost and events avoided are each design's own, at its own programme "
            "end, follow-up end and horizon. Curves are drawn against months since the "
            "programme start."
        )
    sizes = {d.name: d.scenario.sites.n_sites + d.scenario.control.n_sites for d in designs}
    if len(set(sizes.values())) > 1:
        parts = "; ".join(
            f"{d.name} {d.scenario.sites.n_sites} programme and {d.scenario.control.n_sites} "
            "control sites"
            if d.scenario.control.n_sites
            else f"{d.name} {d.scenario.sites.n_sites} sites"
            for d in designs
        )
        notes.append(
            f"The designs are set in communities of different sizes ({parts}), so a "
            "paired difference compares whole programmes in their own contexts; costs and "
            "events avoided scale with the number of sites."
        )
    return notes


def failed_list(failures: Sequence[dict[str, Any]], limit: int = 10) -> str:
    """Failed replications grouped by design, e.g. ``"soft_only (replications 3, 27), keystone
    (replication 5)"``; past ``limit`` replications, ``", and N more"``."""
    by_design: dict[str, list[int]] = {}
    for f in list(failures)[:limit]:
        by_design.setdefault(str(f["design"]), []).append(int(f["replication"]))
    parts = [
        f"{d} (replication{'s' if len(r) > 1 else ''} {', '.join(map(str, r))})"
        for d, r in by_design.items()
    ]
    more = len(failures) - limit
    return ", ".join(parts) + (f", and {more} more" if more > 0 else "")


def failure_notes(exp: ExperimentResult, crn_failures: Sequence[dict[str, Any]] = ()) -> list[str]:
    """Cautions naming the replications that failed (none: ``[]``).

    Args:
        exp: the experiment; its failures are left out of every pair they belong to.
        crn_failures: failures of the in-memory CRN re-run of ``--independent``; they are
            left out of the CRN columns only.

    Returns:
        Up to two sentences, without a final full stop.
    """
    notes = []
    if failed := exp.failures:
        where = "manifest.json" if exp.out_dir is not None else "the experiment's manifest"
        notes.append(
            f"{len(failed)} replication(s) failed and are left out, and so are the runs they "
            f"would be paired with: {failed_list(failed)}; their errors are listed in {where} "
            "(failed_replications)"
        )
    if crn_failures:
        notes.append(
            f"{len(crn_failures)} replication(s) of the in-memory CRN re-run failed and are "
            f"left out of the CRN columns: {failed_list(crn_failures)}"
        )
    return notes
