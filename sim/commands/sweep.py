"""``ccsim sweep``: run a sweep file (grid, Latin hypercube, Sobol or Morris) to Parquet."""

from __future__ import annotations

import argparse
import shutil
import textwrap
import time
from pathlib import Path

from sim.commands.common import UsageError, add_jobs_option, positive_int


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

            An interrupted sweep resumes when run again with the same file and --out.
            The sweep file format is described in the sim.sweep module docstring.
            """
        ),
    )
    p.add_argument("file", type=Path, metavar="SWEEP.toml", help="the sweep file")
    add_common(p)


def add_common(p: argparse.ArgumentParser) -> None:
    """Options shared by ``ccsim sweep`` and ``ccsim sensitivity``."""
    p.add_argument(
        "--outcome",
        default="gap_auc",
        metavar="METRIC",
        help="run metric analysed and plotted (default: %(default)s)",
    )
    add_jobs_option(p)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="results folder (default: results/sweep_<name>/)",
    )
    p.add_argument(
        "--chunk-points",
        type=positive_int,
        default=None,
        metavar="K",
        help="design points per Parquet part (default: about 200 runs per part)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the results folder first (else a matching sweep resumes)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def prepare_out(out: Path, overwrite: bool) -> None:
    """Refuse a file, or clear the folder when ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if overwrite and out.is_dir():
        if not (out / "manifest.json").is_file() and any(out.iterdir()):
            raise UsageError(f"--out {out}: not a sweep folder; refusing to delete it")
        shutil.rmtree(out)


def check_outcome(outcome: str, spec_outcomes: list[str] | None, source: str = "") -> None:
    """The outcome must be a run metric (and kept by the sweep's ``outcomes`` list); checked
    before any run, as are the names in the sweep file's ``outcomes``."""
    from sim.sweep import metric_names
    from sim.sweep.sensitivity import outcome_column

    names = metric_names()
    if unknown := [k for k in spec_outcomes or [] if k not in names]:
        raise UsageError(
            f"{source}: outcomes: unknown metric(s) {', '.join(unknown)}; valid: {', '.join(names)}"
        )
    if outcome_column(outcome) not in names:
        raise UsageError(f"--outcome {outcome}: not a run metric; valid: {', '.join(names)}")
    if spec_outcomes is not None and outcome_column(outcome) not in spec_outcomes:
        raise UsageError(f"--outcome {outcome}: the sweep keeps only {', '.join(spec_outcomes)}")


def run(args: argparse.Namespace) -> int:
    """``ccsim sweep``: run (or resume) the sweep, then write figures and sweep.md."""
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep.report import summarise_sweep

    spec = load_sweep(args.file)
    check_outcome(args.outcome, spec.outcomes, spec.source)
    out = args.out or Path("results") / f"sweep_{spec.name}"
    prepare_out(out, args.overwrite)
    started = time.perf_counter()
    run_sweep(spec, out, jobs=args.jobs, chunk_points=args.chunk_points, progress=not args.quiet)
    ran = time.perf_counter() - started
    try:
        text = summarise_sweep(spec, out, args.outcome, figures=not args.no_figures)
    except (KeyError, ValueError) as exc:
        raise UsageError(f"--outcome {args.outcome}: {exc}") from exc
    print(text)
    print(
        f"results: {out}/ (runs/part-*.parquet, design.parquet, sweep.md, figures/); "
        f"runs {ran:.1f} s, total {time.perf_counter() - started:.1f} s"
    )
    return 0
