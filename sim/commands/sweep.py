"""``ccsim sweep``: run a sweep file (grid, Latin hypercube, Sobol or Morris) to Parquet."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sim.commands.backend_options import add_backend_options, open_backend
from sim.commands.common import UsageError, add_jobs_option, positive_int
from sim.commands.run import out_folder  # refuses an empty --out, as run and compare do

DOCS = "docs/sweeps.md"
RESUME_NOTE = """\
Runs are saved part by part in runs/part-*.parquet (up to 200 runs a part; a point with
more replications is split over several parts). Ctrl-C or SIGTERM stops cleanly, keeping
every finished part; run the same command again (same file and --out) to finish.
--overwrite deletes only the files a sweep writes, never other files in the folder."""
CLUSTER_NOTE = """\
On a cluster, --backend dask --scheduler tcp://HOST:8786 (or --backend ray --address auto)
runs the parts there, with the same runs as on this machine: leave --jobs out to use every
worker (--jobs J keeps at most J parts running; --jobs 1 is refused). A cluster that cannot
be reached is one error line, and --out is left as it was (docs/distributed.md, Sweeps on a
cluster)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim sweep``."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep file: grid, LHS, Sobol or Morris; heatmap and partial "
        "dependence",
        description="Run every point of a sweep file for its replications, streaming run "
        "metrics and the point's parameter values to runs/part-*.parquet; then draw a "
        "response-surface heatmap of the first two parameters, partial-dependence lines and "
        "write sweep.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim sweep scenarios/sweeps/budget_x_soft.toml
              ccsim sweep scenarios/sweeps/levers_sobol.toml --jobs 2 --outcome t50_months
              ccsim sweep scenarios/sweeps/robust_design.toml --jobs 2   # levers x uncertainties
              ccsim sweep scenarios/sweeps/budget_x_soft.toml --backend dask \\
                  --scheduler tcp://10.0.0.5:8786   # on a dask cluster

            With [uncertainties] tables and scenarios = N in the file, every lever point (a
            policy) runs in the same N states of the world, and sweep.md ranks the policies'
            robustness: mean, worst decile, max and mean regret, satisficing share.

            """
        )
        + RESUME_NOTE
        + "\n\n"
        + CLUSTER_NOTE
        + f"\n\nThe sweep file format, every output file and resuming: {DOCS}.\n",
    )
    p.add_argument("file", type=Path, metavar="SWEEP.toml", help="the sweep file")
    add_common(p, "results/sweep_<name>/")


def add_common(p: argparse.ArgumentParser, default_out: str) -> None:
    """Options shared by ``ccsim sweep`` and ``ccsim sensitivity`` (``default_out``: the text
    of ``--out``'s default, which differs between them)."""
    p.add_argument(
        "--outcome",
        action="append",
        default=None,
        metavar="METRIC",
        help="run metric analysed and plotted; repeat for several (default: gap_auc); "
        "t50_months / t90_months are analysed as t50_restricted_months / t90_restricted_months",
    )
    add_jobs_option(p)
    add_backend_options(p)
    p.add_argument(
        "--out",
        type=out_folder,
        default=None,
        metavar="DIR",
        help=f"results folder (default: {default_out})",
    )
    p.add_argument(
        "--chunk-points",
        type=positive_int,
        default=None,
        metavar="K",
        help="design points per Parquet part (default: the points are split into at most 16 "
        "parts of about equal size, more if a part would hold over 200 runs; one point per "
        "part at the least, except that a point with over 200 replications is split into "
        "parts of 200)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="delete this command's earlier outputs in the folder first (sweep files only; "
        "other files stay); else a matching sweep resumes",
    )
    again.add_argument(
        "--resume",
        action="store_true",
        help="accepted for symmetry with run and compare: a sweep always continues where it "
        "stopped when the folder holds the same sweep",
    )
    p.add_argument(
        "--series",
        action="store_true",
        help="also keep every run's monthly series in series/part-*.parquet (ccsim run's "
        "series columns plus point; about 90 bytes a month of each run plus ~19 kB a part, "
        "10-15%% more run time); the same as series = true in the sweep file",
    )
    p.add_argument("--no-figures", action="store_true", help="skip figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def with_series(spec: Any, args: argparse.Namespace) -> Any:
    """``spec`` with ``series`` on when ``--series`` was given (a file's ``series = true``
    stands either way)."""
    return dataclasses.replace(spec, series=True) if args.series else spec


def outcomes_of(args: argparse.Namespace) -> list[str]:
    """The ``--outcome`` values, in order, without repeats (default: ``gap_auc``)."""
    return list(dict.fromkeys(args.outcome or ["gap_auc"]))


def prepare_out(out: Path, overwrite: bool, writes: Sequence[str] = ()) -> None:
    """Refuse a file, or (without ``overwrite``) the user's own files; changes nothing.

    With ``overwrite`` the previous sweep's own files are deleted later, holding the folder's
    lock (:func:`clear_for_overwrite` in :func:`run_and_report`).

    Args:
        out: the results folder.
        overwrite: ``--overwrite`` was given.
        writes: globs of the files the command writes; without ``overwrite``, a folder with no
            manifest.json holding one of them is refused (they are the user's own).

    Raises:
        UsageError: ``out`` is a file.
        OutputError: ``out`` has no manifest but holds a file the command would write.
    """
    from sim.checkpoint import refuse_user_files

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if not overwrite:
        refuse_user_files(out, writes)


def clear_for_overwrite(out: Path) -> None:
    """``--overwrite``: delete a previous sweep's own files in ``out`` (not the user's); call
    it holding the folder's lock.

    Raises:
        UsageError: ``out`` holds a ``ccsim run`` result or another manifest (nothing deleted).
    """
    from sim.sweep import SweepError
    from sim.sweep.folder import clear_outputs

    try:
        clear_outputs(out)
    except SweepError as exc:
        raise UsageError(str(exc)) from exc


COMMON_OUTCOMES = ("gap_auc", "t50_months", "t90_months", "gap_programme_end",
                   "gap_followup_end", "sustainment", "cost_total", "events_avoided")  # fmt: skip
"""Outcomes named in an unknown-outcome error (every one: docs/sweeps.md, Outcomes)."""


def _unknown_metric(name: str, names: Sequence[str], kept: Sequence[str] | None = None) -> str:
    """``"not a run metric; did you mean 'gap_auc'?; common: ... (all N: docs/sweeps.md,
    Outcomes)"``; the short list is the sweep file's ``outcomes`` (``kept``) when it has one."""
    from sim.sweep.sensitivity import RESTRICTED
    from sim.sweep.spec import did_you_mean

    hint = did_you_mean(name, [*names, *RESTRICTED])
    short = f"this sweep keeps: {', '.join(kept)}" if kept else ""
    short = short or f"common: {', '.join(COMMON_OUTCOMES)}"
    return f"not a run metric{hint}; {short} (all {len(names)} metrics: {DOCS}, Outcomes)"


def check_outcome(outcome: str, spec_outcomes: list[str] | None, source: str = "") -> str:
    """Check one ``--outcome`` (and the sweep file's ``outcomes``) before any run.

    The outcome must be a run metric; ``t50_months`` / ``t90_months`` are analysed as their
    restricted columns (``t50_restricted_months``, ...), which the file's ``outcomes`` (if
    given) must keep.

    Returns:
        The column analysed (``outcome``, or its restricted column).

    Raises:
        UsageError: one line, with the closest valid name and a short list.
    """
    from sim.sweep import metric_names
    from sim.sweep.sensitivity import outcome_column

    names = metric_names()
    if unknown := [k for k in spec_outcomes or [] if k not in names]:
        raise UsageError(f"{source}: outcomes: {unknown[0]}: {_unknown_metric(unknown[0], names)}")
    column = outcome_column(outcome)
    if column not in names:
        raise UsageError(f"--outcome {outcome}: {_unknown_metric(outcome, names, spec_outcomes)}")
    if spec_outcomes is not None and column not in spec_outcomes:
        read_as = f" (analysed as {column})" if column != outcome else ""
        raise UsageError(
            f"--outcome {outcome}{read_as}: not kept by the sweep file's outcomes "
            f"({', '.join(spec_outcomes)}); add it there, or choose one of them"
        )
    return column


def checked_outcomes(args: argparse.Namespace, spec: Any) -> list[str]:
    """The ``--outcome`` columns to analyse, checked (:func:`check_outcome`), without repeats;
    prints a note for each name read as another column (``t50_months``)."""
    columns = []
    for outcome in outcomes_of(args):
        column = check_outcome(outcome, spec.outcomes, spec.source)
        if column != outcome and column not in columns:
            print(
                f"note: --outcome {outcome} is analysed as {column} (a run that never got there "
                "counts as its horizon, programme + follow-up months)",
                file=sys.stderr,  # notes go to stderr, as every other note of ccsim's
            )
        columns.append(column)
    return list(dict.fromkeys(columns))


@contextmanager
def stopped_cleanly(out: Path, total: int) -> Iterator[None]:
    """SIGINT/SIGTERM outside the runs (loading, reports) give the same one-line message as
    inside them; a failed report write says the runs are kept.

    Raises:
        Interrupted: naming the signal, the runs saved in ``out`` and how to finish (or, when
            ``out`` was not created yet, that nothing was written).
        RunError: a report or figure could not be written.
    """
    from sim.checkpoint import Interrupted, stop_signals
    from sim.results import RunError
    from sim.sweep import SweepInterrupted, interrupted
    from sim.sweep.folder import saved_runs

    try:
        with stop_signals():
            yield
    except SweepInterrupted:  # from the runner, with its own count
        raise
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        if not out.exists():  # stopped while the back end was reached: no folder to name
            name = signal.Signals(signum).name
            raise SweepInterrupted(
                signum, f"interrupted by {name} before any run started; nothing was written"
            ) from None
        raise interrupted(signum, saved_runs(out), total, out) from None
    except OSError as exc:
        raise RunError(
            f"cannot write {exc.filename or out} ({exc.strerror or exc}); the runs are saved "
            f"in {out}; fix the folder and run the same command again to write the reports"
        ) from exc


def command_record(
    args: argparse.Namespace, command: str, outcomes: Sequence[str], **extra: Any
) -> dict[str, Any]:
    """What ``ccsim rerun`` needs to name the command that made a folder (manifest ``cli``);
    ``outcomes``: the columns analysed (:func:`checked_outcomes`)."""
    return {
        "command": command,
        "file": str(args.file),
        "file_absolute": str(Path(args.file).resolve()),
        **extra,
        "outcomes": list(outcomes),
        "chunk_points": args.chunk_points,
        **({"series": True} if getattr(args, "series", False) else {}),
    }


def run_and_report(
    args: argparse.Namespace,
    spec: Any,
    out: Path,
    record: dict[str, Any],
    report: Callable,
    announce: str,
) -> tuple[float, Any]:
    """Run (or resume) the sweep into ``out`` and call ``report()``; returns the run time and
    what ``report`` returned. Shared by ``ccsim sweep`` and ``ccsim sensitivity``.

    The folder's lock (that of ``ccsim run`` and ``compare``) is held throughout: clearing it
    for ``--overwrite``, the runs, the report. The back end (``--backend``: local processes or
    a dask / ray cluster) is set up first, so a cluster that cannot be reached leaves the
    folder untouched (a new ``--out`` is not even created: the lock is taken once the back end
    is reached). ``announce`` (the runs it will cost) is printed only once the folder is
    accepted, so a refused command prints nothing on stdout.

    Raises:
        OutputError: another ccsim command is writing to ``out`` (nothing is touched), or
            ``out`` cannot be written to.
        SweepError: ``out`` holds another sweep or another program's results
            (:func:`sim.sweep.folder.check_folder`).
        UsageError: the back end's options are wrong, its package is missing or its cluster
            cannot be reached (:func:`sim.commands.backend_options.open_backend`).
    """
    from sim.sweep import make_design, run_sweep
    from sim.sweep.folder import check_folder, locked_folder

    total = len(make_design(spec)) * spec.replications
    with ExitStack() as held, stopped_cleanly(out, total):
        with open_backend(args) as backend:  # unreachable: one line (sim.backends)
            # the lock creates --out: take it only once the back end is reached, so a cluster
            # that cannot be reached creates nothing (as ccsim run) and clears nothing; it is
            # held (by ``held``) after the back end closes, for the report
            held.enter_context(locked_folder(out))
            if args.overwrite:
                clear_for_overwrite(out)
            check_folder(spec, out, args.chunk_points)  # run_sweep's refusals, before output
            print(announce)
            started = time.perf_counter()
            run_sweep(
                spec,
                out,
                jobs=backend.jobs,
                chunk_points=args.chunk_points,
                progress=not args.quiet,
                command=record,
                backend=backend.name,
            )
            ran = time.perf_counter() - started
        return ran, report()


def run(args: argparse.Namespace) -> int:
    """``ccsim sweep``: run (or resume) the sweep, then write figures and sweep.md."""
    from sim.sweep import load_sweep, make_design
    from sim.sweep.folder import ROBUSTNESS_WRITES, SWEEP_WRITES
    from sim.sweep.report import summarise_sweep

    spec = with_series(load_sweep(args.file), args)
    outcomes = checked_outcomes(args, spec)
    out = args.out or Path("results") / f"sweep_{spec.name}"
    skip = "figures/" if args.no_figures else "\0"  # --no-figures draws none
    writes = [*SWEEP_WRITES, *(ROBUSTNESS_WRITES if spec.uncertainties else ())]
    prepare_out(out, args.overwrite, [w for w in writes if not w.startswith(skip)])
    n_points = len(make_design(spec))  # the cost before the first run, as ccsim sensitivity
    policies = (
        f"{n_points // spec.scenarios} policies x {spec.scenarios} states of the world = "
        if spec.uncertainties
        else ""
    )
    announce = (
        f"{spec.design}: {policies}{n_points} points x {spec.replications} replications = "
        f"{n_points * spec.replications} runs"
    )
    started = time.perf_counter()

    def report() -> str:
        try:
            return summarise_sweep(spec, out, outcomes, figures=not args.no_figures)
        except (KeyError, ValueError) as exc:
            raise UsageError(f"--outcome {', '.join(outcomes)}: {exc}") from exc

    record = command_record(args, "sweep", outcomes)
    ran, text = run_and_report(args, spec, out, record, report, announce)
    print("\n".join(line for line in text.splitlines() if not line.startswith("![")))
    figures = "" if args.no_figures else ", figures/"
    series = ", series/part-*.parquet" if spec.series else ""
    if spec.uncertainties:
        series += ", " + ", ".join(f"robustness_{o}.parquet" for o in outcomes)
    print(
        f"results: {out}/ (runs/part-*.parquet{series}, design.parquet, sweep.md{figures}); "
        f"runs {ran:.1f} s, total {time.perf_counter() - started:.1f} s"
    )
    return 0
