"""What a comparison compares: observation windows, the outcome table, notes on the designs.

Each design is observed for its own ``programme + follow-up`` months (:func:`window_months`);
times to close and the gap area are compared within the common window ``tau``, censored times
restricted to it (:func:`outcome_table`, :func:`window_auc`). :func:`design_notes` says in
sentences what differs between designs beyond their levers; :func:`available_outcomes` leaves
out an outcome no run of some design has (and says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.outcomes import CENSORED, OUTCOMES, Outcome
from sim.experiment import Design, ExperimentResult


def window_months(design: Design) -> int:
    """Months a design is observed after its programme starts (programme + follow-up)."""
    t = design.scenario.time
    return t.programme_months + t.followup_months


def window_auc(exp: ExperimentResult, tau: float) -> pd.DataFrame:
    """Gap area (gap-months) over the first ``tau`` months from programme start of every run,
    and the gap (share of the starting gap) in the last of those months, ``tau - 1``: the same
    month since programme start for every design, whatever its own programme and follow-up.

    Reads the series parts on disk one at a time (only the columns needed) when the
    experiment has a results folder, else the in-memory series.

    Returns:
        Columns ``gap_auc`` and ``gap_window_end``, indexed by (``design``, ``replication``).
    """
    cols = ["design", "replication", "month_in_programme", "gap_true"]
    parts = sorted((exp.out_dir / "series").glob("part-*.parquet")) if exp.out_dir else []
    frames = [pd.read_parquet(p, columns=cols) for p in parts] if parts else [exp.series[cols]]
    sums, ends = [], []
    for f in frames:
        f = f[(f["month_in_programme"] >= 0) & (f["month_in_programme"] < tau)]
        by_run = f.groupby(["design", "replication"])["gap_true"]
        sums.append(by_run.sum())
        last = f[f["month_in_programme"] == tau - 1]
        ends.append(last.set_index(["design", "replication"])["gap_true"])
    return pd.DataFrame(
        {"gap_auc": pd.concat(sums), "gap_window_end": pd.concat(ends)}
    ).rename_axis(["design", "replication"])


def outcome_table(
    runs: pd.DataFrame, auc: pd.DataFrame, tau: float, outcomes: Sequence[Outcome] = OUTCOMES
) -> pd.DataFrame:
    """The compared outcome of every (design, replication), censored times restricted to ``tau``.

    Args:
        runs: one row per (design, replication) (:attr:`ExperimentResult.runs`).
        auc: gap area over the first ``tau`` months and gap in month ``tau - 1``, indexed by
            (design, replication) (:func:`window_auc`).
        tau: common window in months after the programme start (> 0).
        outcomes: the compared outcomes (default :data:`OUTCOMES`; see
            :func:`available_outcomes`).

    Returns:
        Columns ``design``, ``replication``, one column per metric of ``outcomes``, and
        ``t50_reached`` / ``t90_reached`` (bool: level reached within ``tau``).
    """
    out = runs[["design", "replication"]].copy()
    for metric, flag in CENSORED.items():
        t = runs[metric].to_numpy(dtype=float)
        cens = runs[flag].fillna(False).to_numpy(dtype=bool) | np.isnan(t)
        out[metric] = np.where(cens, tau, np.minimum(t, tau))
        out[metric.replace("_months", "_reached")] = ~cens & (t < tau)
    out = out.merge(auc.reset_index(), on=["design", "replication"], how="left")
    for o in outcomes:
        if o.metric not in out.columns:
            out[o.metric] = runs[o.metric].to_numpy(dtype=float)
    return out


def available_outcomes(
    runs: pd.DataFrame, designs: Sequence[Design]
) -> tuple[tuple[Outcome, ...], list[str]]:
    """The outcomes of :data:`OUTCOMES` the runs allow comparing, and why any were left out.

    An optional outcome (:attr:`Outcome.optional`: the gap a year after support ends) is left
    out when ``runs`` lacks its column or some design has no value for it in any run (its
    follow-up is shorter than a year): no pair of that design could be compared. The gap at
    the end of the common window (:attr:`Outcome.horizons_differ`) is compared only when the
    designs are observed for different times.

    Returns:
        The outcomes in :data:`OUTCOMES` order, and one method note per outcome left out.
    """
    kept, notes = [], []
    differ = len({window_months(d) for d in designs}) > 1
    for o in OUTCOMES:
        if o.horizons_differ and not differ:
            continue  # the common window ends at every design's own follow-up end
        if not o.optional or (o.metric in runs.columns and _defined_everywhere(runs, o.metric)):
            kept.append(o)
            continue
        notes.append(_left_out_note(o, designs))
    return tuple(kept), notes


def _left_out_note(o: Outcome, designs: Sequence[Design]) -> str:
    """One sentence saying why ``o`` (the gap a year after support ends) was left out."""
    what = f"The {o.label.split(' (')[0]} (`{o.metric}`) is left out of the comparison: "
    short = [d for d in designs if d.scenario.time.followup_months < 12]
    if not short:
        return what + "the runs have no value for it."
    months = ", ".join(f"{d.name} {d.scenario.time.followup_months}" for d in short)
    return (
        what + f"the follow-up is shorter than 12 months ({months} months), so no run "
        f"{'of ' + short[0].name if len(short) == 1 else 'of those designs'} has a value for "
        "it and no pair could be compared."
    )


def _defined_everywhere(runs: pd.DataFrame, metric: str) -> bool:
    """True when every design has a value of ``metric`` in at least one run."""
    defined = runs[metric].notna().groupby(runs["design"]).any()
    return bool(len(defined)) and bool(defined.all())


def horizon_cautions(designs: Sequence[Design], tau: float) -> list[str]:
    """Cautions (sentences without a final full stop) when designs give support for different
    lengths or are observed for different times: their "programme end", "a year after" and
    "follow-up end" outcomes then fall in different months since programme start, and a
    longer design has had more time (and money) to close the gap."""
    out = []
    support = {d.name: d.scenario.time.programme_months for d in designs}
    if len(set(support.values())) > 1:
        parts = ", ".join(f"{n} {m}" for n, m in support.items())
        out.append(
            f"the designs give support for different lengths ({parts} months): the gap at "
            "programme end and a year after it fall in different months since programme start, "
            "so a longer programme has had more time; the gap at follow-up end (when the "
            "designs are observed equally long) or at the end of the common window compares "
            "them at the same month"
        )
    windows = {d.name: window_months(d) for d in designs}
    if len(set(windows.values())) > 1:
        parts = ", ".join(f"{n} {m}" for n, m in windows.items())
        out.append(
            f"the designs are observed for different times ({parts} months after programme "
            "start): follow-up-end gaps, costs and events avoided are each design's own, over "
            f"different horizons; the gap at the end of the common window (month {tau:g}) "
            "compares them at the same month"
        )
    return out


def design_notes(
    designs: Sequence[Design], windows: dict[str, int], tau: float, metrics: Sequence[str] = ()
) -> list[str]:
    """Plain sentences on what differs between designs beyond their levers (horizon, size);
    ``metrics`` are the compared outcomes (the gap a year on is named only if compared)."""
    notes = []
    if len(set(windows.values())) > 1:
        parts = ", ".join(f"{n} {w}" for n, w in windows.items())
        year = ", a year after it" if "gap_followup_12" in metrics else ""
        notes.append(
            f"The designs are observed for different times after their programme starts "
            f"({parts} months). T50, T90 and the gap area are compared within the first "
            f"{tau:g} months, common to all; the gap at programme end{year} and at "
            "follow-up end, cost and events avoided are each design's own, at its own programme "
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
