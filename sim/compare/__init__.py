"""Paired comparison of programme designs under common random numbers (CRN).

Every design runs the same replications; replication ``k`` of each design uses the same seed
(:mod:`sim.rng`), so the difference ``design - baseline`` within a replication is free of most
of the chance variation the two share. For each outcome of :data:`OUTCOMES` this module gives
the mean paired difference with a bootstrap 95% CI, the probability that a design beats the
baseline and, for times to close, Kaplan-Meier curves (:mod:`sim.compare.survival`).

Where things are: this module runs the experiment and assembles the :class:`Comparison`
(:func:`run_comparison`); :mod:`sim.compare.windows` builds the table of compared outcomes
(windows, restricted times, gap area); :mod:`sim.compare.paired` holds the paired statistics
(bootstrap CIs, P(better), the effect of CRN); :mod:`sim.compare.report` and
:mod:`sim.compare.plots` turn a comparison into words, files and figures. Every public name of
those two statistics modules is importable from ``sim.compare`` as well.

Conventions (stated again in every ``comparison.md``):

* **Designs with different horizons.** Each design is observed for its own ``programme +
  follow-up`` months after its programme starts (its *window*). Times to close and the gap
  area are compared within the **common window** ``tau`` = the shortest window of all
  designs; gap at programme end, a year after it and at follow-up end, cost and events avoided
  are each design's own (at its own programme end, follow-up end and horizon). The gap a year
  after support ends is left out (with a note) when some design follows up for less than a
  year (:func:`sim.compare.windows.available_outcomes`).
* **Censored T50/T90** are never dropped: they are compared as *restricted times*
  ``min(T, tau)``, a run that had not reached the level by ``tau`` counting as ``tau``. The
  mean restricted time is the restricted mean time to close, i.e. the area under the
  Kaplan-Meier "not yet closed" curve up to ``tau`` (exact here because runs are censored only
  at their horizon, which is never before ``tau``).
* **P(better)** is the share of paired replications in which the design is better than the
  baseline, ties counting one half (the "probability of superiority"). Ties are frequent when
  both runs of a pair are censored or an outcome (e.g. cost) rarely differs; when they are 5%
  of pairs or more the sentence gives the shares better, the same and worse as well.
* **What the intervals mean.** CIs and P(better) describe the model's own randomness over the
  paired replications, not uncertainty in its parameters or in what a real programme would
  achieve: more replications narrow them without making the model more right.
* Pairs in which either value is undefined (``nan``: e.g. cost per gap point when nothing
  closed) are left out of that outcome and counted in ``n_missing``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.compare.outcomes import CENSORED, OUTCOME_BY_METRIC, OUTCOMES, Outcome
from sim.compare.paired import (  # noqa: F401 - report, plots, tests and users import them here
    BOOTSTRAP_SEED,
    CONFIDENCE,
    MIN_RELIABLE_PAIRS,
    N_RESAMPLES,
    add_crn_effect,
    bootstrap_ci,
    compare_outcomes,
    few_pairs_caution,
    paired_difference,
)
from sim.compare.windows import (
    available_outcomes,
    design_notes,
    failure_notes,
    horizon_cautions,
    outcome_table,
    window_auc,
    window_months,
)
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
    support_months: dict[str, int] = field(default_factory=dict)
    """Months of support (``time.programme_months``) of each design."""
    crn_failures: list[dict[str, Any]] = field(default_factory=list)
    """Replications that raised in the in-memory CRN re-run of ``--independent`` (failure
    records as :attr:`failures`; ``design_index`` counts the non-baseline designs only)."""
    legend: list[str] = field(default_factory=list)
    """Lines saying what the designs are, shown above the results (e.g. the sweep points of
    ``ccsim compare --from-sweep``); [] when the design names say it."""

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Replications of the experiment that raised (failure records of its manifest,
        :func:`sim.checkpoint.failure_record`); [] if none. Their pairs are left out."""
        return self.experiment.failures


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
    on_error: str = "record",
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
        jobs: processes that compute (this one and ``jobs - 1`` workers; >= 1, -1 = all cores).
        out_dir: results folder for :func:`sim.experiment.run_experiment` (``None``: memory).
        independent: independent random streams instead of CRN.
        progress: show progress bars.
        command: the command line, for the manifest.
        resume: finish the comparison recorded in ``out_dir``, skipping finished chunks; the
            result equals that of an uninterrupted comparison.
        overwrite: replace what ``out_dir`` holds (only ccsim's own files are deleted).
        on_chunk: called with the number of replications after each finished chunk.
        on_error: ``"record"``: a replication that raises is listed in the manifest (and in
            :attr:`Comparison.failures`), its pairs are left out and the comparison goes on;
            ``"raise"``: the exception propagates (for ``--debug``).

    Returns:
        The :class:`Comparison` (nothing about it is written here; see
        :func:`sim.compare.report.write_comparison`). Failed replications are named in its
        ``cautions``.

    Raises:
        ValueError: on fewer than two designs, an unknown baseline or ``reps < 2``.
        sim.results.OutputError, sim.results.RunError, sim.checkpoint.Interrupted: as
            :func:`sim.experiment.run_experiment` (an interrupted comparison can resume).
    """
    ordered = _checked_order(designs, reps, baseline)
    windows = {d.name: window_months(d) for d in ordered}
    run = (reps, root_seed, jobs, on_error)
    exp, timings = _simulate(
        ordered, run, out_dir, independent, progress, command, resume, overwrite, on_chunk
    )
    return _assemble(exp, ordered, windows, independent, run, timings)


def _checked_order(designs: Sequence[Design], reps: int, baseline: str | None) -> list[Design]:
    """The designs, baseline first, after checking there are two of them and ``reps >= 2``."""
    if len(designs) < 2:
        raise ValueError("a comparison needs at least two designs")
    if reps < 2:
        raise ValueError(f"reps must be >= 2 for a paired CI, got {reps}")
    return _order(designs, baseline)


def _simulate(
    ordered: list[Design],
    run: tuple[int, int, int, str],
    out_dir: Path | None,
    independent: bool,
    progress: bool,
    command: Sequence[str],
    resume: bool,
    overwrite: bool,
    on_chunk: Callable[[int], None] | None,
) -> tuple[ExperimentResult, dict[str, float]]:
    """Run the experiment and time it; ``run``: reps, root seed, jobs, on_error."""
    reps, root_seed, jobs, on_error = run
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
        on_error=on_error,
    )
    return exp, {"simulation": time.perf_counter() - started}


def _assemble(
    exp: ExperimentResult,
    ordered: list[Design],
    windows: dict[str, int],
    independent: bool,
    run: tuple[int, int, int, str],
    timings: dict[str, float],
) -> Comparison:
    """The paired statistics of the experiment (and of the CRN re-run), in a :class:`Comparison`."""
    from sim.compare.survival import km_table

    names = [d.name for d in ordered]
    tau = float(min(windows.values()))
    started = time.perf_counter()
    compared, left_out = available_outcomes(exp.runs, ordered)
    outcomes = outcome_table(exp.runs, window_auc(exp, tau), tau, compared)
    table = compare_outcomes(outcomes, names[0], names, tau, compared)
    timings["statistics"] = time.perf_counter() - started
    crn_failures: list[dict[str, Any]] = []
    if independent:
        started = time.perf_counter()
        crn, crn_failures = _crn_rerun(ordered, outcomes, run, tau, compared)
        table = add_crn_effect(table, crn)
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
        notes=design_notes(ordered, windows, tau, [o.metric for o in compared]) + left_out,
        wall_time_s=timings,
        cautions=[c for c in [few_pairs_caution(run[0])] if c]
        + horizon_cautions(ordered, tau)
        + failure_notes(exp, crn_failures),
        support_months={d.name: d.scenario.time.programme_months for d in ordered},
        crn_failures=crn_failures,
    )


def _crn_rerun(
    ordered: Sequence[Design],
    outcomes: pd.DataFrame,
    run: tuple[int, int, int, str],
    tau: float,
    compared: Sequence[Outcome] = OUTCOMES,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The comparison table had the non-baseline designs run under CRN (in memory), paired
    with the baseline's runs in ``outcomes`` (design 0: the same streams either way), and the
    replications that failed in that re-run. ``run``: reps, root seed, jobs, on_error."""
    reps, root_seed, jobs, on_error = run
    crn_exp = run_experiment(
        ordered[1:],
        reps=reps,
        root_seed=root_seed,
        jobs=jobs,
        crn=True,
        progress=False,
        on_error=on_error,
    )
    base_rows = outcomes[outcomes["design"] == ordered[0].name]
    crn_rows = outcome_table(crn_exp.runs, window_auc(crn_exp, tau), tau, compared)
    crn_out = pd.concat([base_rows, crn_rows])
    names = [d.name for d in ordered]
    return compare_outcomes(crn_out, ordered[0].name, names, tau, compared), crn_exp.failures
