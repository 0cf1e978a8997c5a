"""``ccsim sensitivity``: Sobol or Morris indices of outcomes over a sweep file's levers."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from sim.commands.common import UsageError, positive_int
from sim.commands.sweep import (
    CLUSTER_NOTE,
    DOCS,
    RESUME_NOTE,
    add_common,
    checked_outcomes,
    command_record,
    prepare_out,
    run_and_report,
    with_series,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim sensitivity``."""
    p = sub.add_parser(
        "sensitivity",
        help="Sobol (first-order and total) or Morris indices of an outcome (SALib)",
        description="Sample the parameters and ranges of a sweep file with the chosen method "
        "(the file's own design is ignored), run the points, and compute first-order and "
        "total Sobol indices with 95% CIs or Morris mu*/sigma for each --outcome; write "
        "sensitivity.md (one section per outcome analysed in the folder) naming the top "
        "levers, a Parquet table and a bar chart per outcome. When the CIs are wider than the "
        "indices, or the sample is too small (Sobol N < 32, Morris r < 10), it warns and "
        "ranks nothing.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --method sobol
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --method morris --samples 20
              ccsim sensitivity scenarios/sweeps/levers_sobol.toml --outcome t50_months \\
                  --outcome gap_auc

            Defaults and cost: --method sobol, --samples = the file's samples (64 if it
            sets none), --outcome gap_auc. Sobol runs N x (d + 2) points and Morris
            r x (d + 1), d = parameters (dummies included), each for the file's
            replications. Leaving out --method on levers_sobol.toml (N = 128, d = 8,
            2 replications) makes 128 x 10 x 2 = 2,560 runs (about a minute on 2
            cores); --method morris --samples 20 makes 20 x 9 x 2 = 360.

            Runs are reused: another outcome on the same file and method costs no new runs.

            """
        )
        + RESUME_NOTE
        + "\n\n"
        + CLUSTER_NOTE
        + f"\n\nThe sweep file format, every output file and how this differs from "
        f"'ccsim sweep': {DOCS}.\n",
    )
    p.add_argument("file", type=Path, metavar="SWEEP.toml", help="the sweep file")
    p.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default="sobol",
        help="sobol (Saltelli sample, S1 and ST; N x (d + 2) points) or morris (mu*, sigma; "
        "r x (d + 1) points) (default: sobol)",
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        default=None,
        metavar="N",
        help="Sobol N (N*(d+2) points; a power of 2) or Morris trajectories r (r*(d+1) "
        "points) (default: the file's samples, 64 if it sets none)",
    )
    add_common(p, "results/sensitivity_<name>_<method>/")


def run(args: argparse.Namespace) -> int:
    """``ccsim sensitivity``: run (or reuse) the method's sample, analyse, report."""
    from sim.sweep import load_sweep, make_design
    from sim.sweep.folder import SENSITIVITY_WRITES
    from sim.sweep.ranking import remedy
    from sim.sweep.report import (
        analyse_sensitivity,
        sensitivity_spec,
        table_name,
        write_sensitivity_report,
    )

    loaded = load_sweep(args.file)
    spec = with_series(sensitivity_spec(loaded, args.method, args.samples), args)
    if loaded.uncertainties:
        print(
            f"note: the {len(loaded.uncertainties)} uncertainties are sampled as ordinary "
            "parameters, after the levers (scenarios and thresholds are for ccsim sweep)",
            file=sys.stderr,
        )
    outcomes = checked_outcomes(args, spec)
    out = args.out or Path("results") / f"sensitivity_{spec.name}_{args.method}"
    skip = "figures/" if args.no_figures else "\0"  # --no-figures draws none
    prepare_out(out, args.overwrite, [w for w in SENSITIVITY_WRITES if not w.startswith(skip)])
    n_points = len(make_design(spec))
    announce = (
        f"{args.method}, {'N' if args.method == 'sobol' else 'r'} = {spec.samples}: {n_points} "
        f"points x {spec.replications} replications = {n_points * spec.replications} runs"
    )
    started = time.perf_counter()
    record = command_record(args, "sensitivity", outcomes, method=args.method, samples=spec.samples)

    def report() -> list:
        try:
            results = [
                analyse_sensitivity(spec, out, o, figures=not args.no_figures) for o in outcomes
            ]
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        write_sensitivity_report(spec, out, first=outcomes)  # this command's outcomes first
        return results

    ran, results = run_and_report(args, spec, out, record, report, announce)
    for res in results:
        if len(results) > 1:
            print(f"== {res.outcome}")
        print(res.indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print()
        print(res.summary)
        print()
        if res.problem:
            print(
                f"ccsim sensitivity: warning: {res.outcome}: the levers are not ranked: "
                f"{res.problem}; {remedy(res.problem)}",
                file=sys.stderr,
            )
    files = [f"{table_name(args.method, r.outcome)}.parquet" for r in results]
    if spec.series:
        files.append("series/part-*.parquet")
    if any(r.figure for r in results):
        files.append("figures/")
    print(
        f"results: {out}/ (sensitivity.md, {', '.join(files)}); runs {ran:.1f} s, "
        f"total {time.perf_counter() - started:.1f} s"
    )
    return 0
