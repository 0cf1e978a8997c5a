"""``ccsim sensitivity``: Sobol or Morris indices of one outcome over a sweep file's levers."""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path

from sim.commands.common import UsageError, positive_int
from sim.commands.sweep import add_common, check_outcome, prepare_out


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim sensitivity``."""
    p = sub.add_parser(
        "sensitivity",
        help="Sobol (first-order and total) or Morris indices of an outcome (SALib)",
        description="Sample the parameters and ranges of a sweep file with the chosen method "
        "(the file's own design is ignored), run the points, and compute first-order and "
        "total Sobol indices with 95% CIs or Morris mu*/sigma for one outcome; write "
        "sensitivity.md naming the top levers, a Parquet table and a bar chart.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --method sobol
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --method morris --samples 20
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --outcome t50_months

            Runs are reused: a second outcome on the same file and method costs no new runs.
            """
        ),
    )
    p.add_argument("file", type=Path, metavar="SWEEP.toml", help="the sweep file")
    p.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default="sobol",
        help="sobol (Saltelli sample, S1 and ST) or morris (mu*, sigma)",
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        default=None,
        metavar="N",
        help="Sobol N (N*(d+2) points; a power of 2) or Morris trajectories "
        "(default: the file's samples)",
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    """``ccsim sensitivity``: run (or reuse) the method's sample, analyse, report."""
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep.report import analyse_sensitivity, sensitivity_spec

    spec = sensitivity_spec(load_sweep(args.file), args.method, args.samples)
    check_outcome(args.outcome, spec.outcomes, spec.source)
    out = args.out or Path("results") / f"sensitivity_{spec.name}_{args.method}"
    prepare_out(out, args.overwrite)
    started = time.perf_counter()
    run_sweep(spec, out, jobs=args.jobs, chunk_points=args.chunk_points, progress=not args.quiet)
    ran = time.perf_counter() - started
    try:
        res = analyse_sensitivity(spec, out, args.outcome, figures=not args.no_figures)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(res.indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print(res.summary)
    print(
        f"results: {out}/ (sensitivity.md, sensitivity_{args.method}_{args.outcome}.parquet"
        f"{', figures/' if res.figure else ''}); runs {ran:.1f} s, "
        f"total {time.perf_counter() - started:.1f} s"
    )
    return 0
