"""Paired comparison of programme designs under common random numbers (CRN).

Every design runs the same replications; replication ``k`` of each design uses the same seed
(:mod:`sim.rng`), so the difference ``design - baseline`` within a replication is free of most
of the chance variation the two share. For each outcome of :data:`OUTCOMES` this module gives
the mean paired difference with a bootstrap 95% CI, the probability that a design beats the
baseline and, for times to close, Kaplan-Meier curves (:mod:`sim.compare.survival`).

Conventions (stated again in every ``comparison.md``):

* **Designs with different horizons.** Each design is observed for its own ``programme +
  follow-up`` months after its programme starts (its *window*). Times to close and the gap
  area are compared within the **common window** ``tau`` = the shortest window of all
  designs; gap at programme end / follow-up end, sustainment, cost and events avoided are each
  design's own (at its own programme end, follow-up end and horizon).
* **Censored T50/T90** are never dropped: they are compared as *restricted times*
  ``min(T, tau)``, a run that had not reached the level by ``tau`` counting as ``tau``. The
  mean restricted time is the restricted mean time to close, i.e. the area under the
  Kaplan-Meier "not yet closed" curve up to ``tau`` (exact here because runs are censored only
  at their horizon, which is never before ``tau``).
* **P(better)** is the share of paired replications in which the design is better than the
  baseline, ties counting one half (the "probability of superiority"); ties are frequent only
  when both runs of a pair are censored.
* Pairs in which either value is undefined (``nan``: e.g. cost per gap point when nothing
  closed) are left out of that outcome and counted in ``n_missing``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare.outcomes import CENSORED, OUTCOME_BY_METRIC, OUTCOMES, Outcome
from sim.experiment import Design, ExperimentResult, run_experiment

__all__ = [
    "CENSORED",
    "MIN_RELIABLE_PAIRS",
    "OUTCOMES",
    "OUTCOME_BY_METRIC",
    "Comparison",
    "Outcome",
    "few_pairs_caution",
    "run_comparison",
]

CONFIDENCE = 0.95
N_RESAMPLES = 4999
BOOTSTRAP_SEED = 20240607  # bootstrap resampling seed: the same CIs on every run of a comparison
MIN_RELIABLE_PAIRS = 20
"""Paired replications below which CIs and P(better) carry a caution (:func:`few_pairs_caution`).

Why 20: a bootstrap interval only resamples the n pairs it has, so for small n it behaves like
a normal interval built with the plug-in SD (divisor n) and z = 1.96 instead of Student's t;
for a mean that makes it narrower than the exact t interval by the factor
1.96 / t(0.975, n-1) * sqrt((n-1)/n): 0.11 at n = 2 (only 3 distinct resample means), 0.63 at
5, 0.82 at 10, 0.91 at 20, 0.94 at 30. BCa's bias and acceleration corrections are themselves
estimated from the n pairs and do not repair this. From 20 pairs on the shortfall is under 10%
and P(better), a share of n pairs in steps of 1/n, has a standard error of at most
0.5 / sqrt(20) = 0.11; below that the numbers look more certain than they are."""


def few_pairs_caution(reps: int) -> str | None:
    """A one-line caution when ``reps`` paired replications are too few for the intervals
    (below :data:`MIN_RELIABLE_PAIRS`), else ``None``."""
    if reps >= MIN_RELIABLE_PAIRS:
        return None
    return (
        f"only {reps} paired replications per design: bootstrap CIs and P(better) from fewer "
        f"than {MIN_RELIABLE_PAIRS} are unreliable (too narrow, coarse); use --reps "
        f"{MIN_RELIABLE_PAIRS} or more before drawing conclusions"
    )


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


def bootstrap_ci(
    diffs: np.ndarray, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Bootstrap CI of the mean of paired differences (BCa, percentile if BCa is undefined).

    Args:
        diffs: paired differences, shape ``(n,)``, no ``nan``.
        confidence: confidence level in (0, 1).
        seed: resampling seed (fixed: the same CI on every run).

    Returns:
        ``(low, high)``; ``(d, d)`` when all differences equal ``d``; ``(nan, nan)`` if n < 2.
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size < 2:
        return float("nan"), float("nan")
    if np.ptp(diffs) == 0.0:
        return float(diffs[0]), float(diffs[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            res = stats.bootstrap(
                (diffs,),
                np.mean,
                confidence_level=confidence,
                n_resamples=N_RESAMPLES,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return low, high
    return float("nan"), float("nan")


def paired_difference(
    design: np.ndarray, baseline: np.ndarray, lower_is_better: bool
) -> dict[str, float | int]:
    """Mean paired difference ``design - baseline``, its bootstrap CI and P(design better).

    Args:
        design: the design's outcome per replication, shape ``(n,)``.
        baseline: the baseline's outcome for the same replications, shape ``(n,)``.
        lower_is_better: direction of "better".

    Returns:
        ``n_pairs``, ``n_missing`` (pairs with a ``nan``, left out), ``mean_design``,
        ``mean_baseline``, ``diff_mean``, ``diff_sd``, ``ci_low``, ``ci_high``, ``p_better``
        (ties count 1/2) and ``n_ties``.

    Raises:
        ValueError: if the arrays differ in shape.
    """
    a, b = np.asarray(design, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    n = int(d.size)
    lo, hi = bootstrap_ci(d)
    wins = (d < 0) if lower_is_better else (d > 0)
    ties = d == 0
    nan = float("nan")
    return {
        "n_pairs": n,
        "n_missing": int((~ok).sum()),
        "mean_design": float(a[ok].mean()) if n else nan,
        "mean_baseline": float(b[ok].mean()) if n else nan,
        "diff_mean": float(d.mean()) if n else nan,
        "diff_sd": float(d.std(ddof=1)) if n > 1 else nan,
        "ci_low": lo,
        "ci_high": hi,
        "p_better": float((wins.sum() + 0.5 * ties.sum()) / n) if n else nan,
        "n_ties": int(ties.sum()),
    }


def compare_outcomes(
    table: pd.DataFrame, baseline: str, designs: Sequence[str], tau: float
) -> pd.DataFrame:
    """Paired differences of every design against ``baseline`` on every outcome.

    Args:
        table: :func:`outcome_table` output.
        baseline: name of the baseline design.
        designs: all design names in display order (the baseline is skipped).
        tau: the common window (months), recorded with the censored outcomes.

    Returns:
        One row per (design, metric) with the :func:`paired_difference` columns plus
        ``design``, ``baseline``, ``metric``, ``label``, ``lower_is_better``,
        ``not_reached_design`` / ``not_reached_baseline`` (times only) and ``window_months``.
    """
    base = table[table["design"] == baseline].set_index("replication").sort_index()
    rows = []
    for name in designs:
        if name == baseline:
            continue
        other = table[table["design"] == name].set_index("replication").sort_index()
        reps = base.index.intersection(other.index)
        for o in OUTCOMES:
            row: dict[str, Any] = {
                "design": name,
                "baseline": baseline,
                "metric": o.metric,
                "label": o.label,
                "lower_is_better": o.lower_is_better,
            }
            row.update(
                paired_difference(
                    other.loc[reps, o.metric].to_numpy(),
                    base.loc[reps, o.metric].to_numpy(),
                    o.lower_is_better,
                )
            )
            if o.metric in CENSORED:
                reached = o.metric.replace("_months", "_reached")
                row["not_reached_design"] = int((~other.loc[reps, reached]).sum())
                row["not_reached_baseline"] = int((~base.loc[reps, reached]).sum())
            if o.metric in CENSORED or o.metric == "gap_auc":
                row["window_months"] = float(tau)
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """A finished comparison: the experiment, the paired table and the survival curves."""

    experiment: ExperimentResult
    table: pd.DataFrame
    outcomes: pd.DataFrame
    survival: pd.DataFrame
    baseline: str
    designs: list[str]
    windows: dict[str, int]
    tau: float
    crn: bool
    notes: list[str] = field(default_factory=list)
    wall_time_s: dict[str, float] = field(default_factory=dict)
    cautions: list[str] = field(default_factory=list)
    """Warnings about the reliability of the numbers (e.g. :func:`few_pairs_caution`)."""


def _order(designs: Sequence[Design], baseline: str | None) -> list[Design]:
    names = [d.name for d in designs]
    base = baseline if baseline is not None else names[0]
    if base not in names:
        raise ValueError(f"baseline '{base}' is not one of the designs: {', '.join(names)}")
    return [designs[names.index(base)]] + [d for d in designs if d.name != base]


def recorded_order(designs: Sequence[Design], out_dir: Path | None) -> list[Design]:
    """``designs`` in the order the run in ``out_dir`` recorded them, when its manifest names
    the same designs in another order (the same experiment compared against another
    ``--baseline``); else ``designs`` as given. Resuming keeps the recorded order, so the
    finished chunks stay valid; the baseline is chosen by name afterwards."""
    from sim.results import OutputError, read_manifest

    if out_dir is None:
        return list(designs)
    try:
        recorded = [
            str(d.get("name")) for d in read_manifest(Path(out_dir) / "manifest.json")["designs"]
        ]
    except (OutputError, OSError, KeyError, TypeError, AttributeError):
        return list(designs)
    names = [d.name for d in designs]
    if sorted(recorded) != sorted(names) or len(set(names)) != len(names):
        return list(designs)
    return sorted(designs, key=lambda d: recorded.index(d.name))


def run_comparison(
    designs: Sequence[Design],
    reps: int,
    baseline: str | None = None,
    root_seed: int = 0,
    jobs: int = 1,
    out_dir: Path | None = None,
    independent: bool = False,
    progress: bool = True,
    command: Sequence[str] = (),
    *,
    resume: bool = False,
    overwrite: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> Comparison:
    """Run every design for the same ``reps`` replications and compare each with the baseline.

    Under CRN (default) all designs share the seeds. With ``independent=True`` the designs
    run on independent streams (the primary result); the non-baseline designs are then run a
    second time under CRN, in memory, and paired with the same baseline runs (the baseline is
    design 0, whose streams are the same both ways), to measure how much CRN narrows the CIs
    (columns ``ci_width_crn``, ``ci_width_ratio``, ``var_ratio`` of the table).

    Args:
        designs: at least two designs with unique names.
        reps: replications per design (>= 2 for a CI).
        baseline: name of the baseline design (default: the first).
        root_seed: root seed (>= 0).
        jobs: worker processes (>= 1, or -1 for all cores).
        out_dir: results folder for :func:`sim.experiment.run_experiment` (``None``: memory).
        independent: independent random streams instead of CRN.
        progress: show progress bars.
        command: the command line, for the manifest.
        resume: finish the comparison recorded in ``out_dir``, skipping finished chunks; the
            result equals that of an uninterrupted comparison.
        overwrite: replace what ``out_dir`` holds (only ccsim's own files are deleted).
        on_chunk: called with the number of replications after each finished chunk.

    Returns:
        The :class:`Comparison` (nothing about it is written here; see
        :func:`sim.compare.report.write_comparison`).

    Raises:
        ValueError: on fewer than two designs, an unknown baseline or ``reps < 2``.
        sim.results.OutputError, sim.results.RunError, sim.checkpoint.Interrupted: as
            :func:`sim.experiment.run_experiment` (an interrupted comparison can resume).
    """
    from sim.compare.survival import km_table

    if len(designs) < 2:
        raise ValueError("a comparison needs at least two designs")
    if reps < 2:
        raise ValueError(f"reps must be >= 2 for a paired CI, got {reps}")
    ordered = _order(designs, baseline)
    names = [d.name for d in ordered]
    windows = {d.name: window_months(d) for d in ordered}
    tau = float(min(windows.values()))
    started = time.perf_counter()
    exp = run_experiment(
        recorded_order(ordered, out_dir) if resume else ordered,
        reps=reps,
        root_seed=root_seed,
        jobs=jobs,
        out_dir=out_dir,
        crn=not independent,
        progress=progress,
        command=command,
        on_chunk=on_chunk,
        resume=resume,
        overwrite=overwrite,
    )
    timings = {"simulation": time.perf_counter() - started}
    started = time.perf_counter()
    outcomes = outcome_table(exp.runs, window_auc(exp, tau), tau)
    table = compare_outcomes(outcomes, names[0], names, tau)
    timings["statistics"] = time.perf_counter() - started
    if independent:
        started = time.perf_counter()
        table = add_crn_effect(table, _crn_rerun(ordered, outcomes, reps, root_seed, jobs, tau))
        timings["crn_rerun"] = time.perf_counter() - started
    survival = km_table(exp.runs, windows)
    return Comparison(
        exp,
        table,
        outcomes,
        survival,
        names[0],
        names,
        windows,
        tau,
        not independent,
        notes=design_notes(ordered, windows, tau),
        wall_time_s=timings,
        cautions=[c for c in [few_pairs_caution(reps)] if c],
    )


def _crn_rerun(
    ordered: Sequence[Design],
    outcomes: pd.DataFrame,
    reps: int,
    root_seed: int,
    jobs: int,
    tau: float,
) -> pd.DataFrame:
    """The comparison table had the non-baseline designs run under CRN (in memory), paired
    with the baseline's runs in ``outcomes`` (design 0: the same streams either way)."""
    crn_exp = run_experiment(
        ordered[1:], reps=reps, root_seed=root_seed, jobs=jobs, crn=True, progress=False
    )
    base_rows = outcomes[outcomes["design"] == ordered[0].name]
    crn_out = pd.concat([base_rows, outcome_table(crn_exp.runs, window_auc(crn_exp, tau), tau)])
    return compare_outcomes(crn_out, ordered[0].name, [d.name for d in ordered], tau)


def add_crn_effect(independent: pd.DataFrame, crn: pd.DataFrame) -> pd.DataFrame:
    """Add CRN's CI width and variance beside the independent table's, and their ratios.

    Returns:
        ``independent`` with ``ci_width``, ``ci_width_crn``, ``ci_width_ratio`` (CRN width /
        independent width: below 1 = CRN narrower) and ``var_ratio`` (variance of the paired
        differences, CRN / independent).
    """
    keys = ["design", "metric"]
    other = crn[[*keys, "ci_low", "ci_high", "diff_sd"]].rename(
        columns={"ci_low": "ci_low_crn", "ci_high": "ci_high_crn", "diff_sd": "diff_sd_crn"}
    )
    out = independent.merge(other, on=keys, how="left")
    out["ci_width"] = out["ci_high"] - out["ci_low"]
    out["ci_width_crn"] = out["ci_high_crn"] - out["ci_low_crn"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ci_width_ratio"] = out["ci_width_crn"] / out["ci_width"]
        out["var_ratio"] = (out["diff_sd_crn"] / out["diff_sd"]) ** 2
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
