"""``ccsim validate``: every pattern of docs/ODD.md §1 (1-11) against its expected value."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim.commands.common import (
    UsageError,
    add_jobs_option,
    add_reps_option,
    add_seed_option,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim validate``."""
    p = sub.add_parser(
        "validate",
        help="check the model against the ODD patterns 1-11 and published figures",
        description="Run the pattern-oriented validation: patterns 1-8 (directional, paired "
        "under common random numbers), Keystone ICU and Matching Michigan against published "
        "figures, and the saved Medical Innovation fit. Prints one row per check and writes "
        "docs/validation.md with figures. Exit code 1 if any row fails.",
    )
    add_reps_option(p, 200, "design")
    add_jobs_option(p)
    add_seed_option(p, 20240)
    p.add_argument(
        "--report",
        type=Path,
        default=Path("docs/validation.md"),
        metavar="FILE",
        help="where to write the Markdown report (default: %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def check_report_path(path: Path) -> None:
    """Refuse a ``--report`` path that cannot be written (it and figures/ go beside it).

    Raises:
        UsageError: the path is a folder, an ancestor is a file, or the folder is read-only.
    """
    if path.is_dir():
        raise UsageError(f"--report {path}: is a folder; give a file name such as {path}/report.md")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"--report {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--report {path}: cannot write there (permission denied)")


def run(args: argparse.Namespace) -> int:
    """Run all checks, print the table, write the report; 0 if all pass, else 1."""
    from sim.validation.report import FEW_REPS, known_gaps, run_all, table_text, write_markdown

    check_report_path(args.report)  # before minutes of runs, not after
    if args.reps < FEW_REPS:
        print(
            f"note: --reps {args.reps} is below {FEW_REPS}: a paired check may fail for lack of "
            "replications (the documented verdicts use --reps 200)",
            file=sys.stderr,
        )
    result = run_all(reps=args.reps, seed=args.seed, jobs=args.jobs, progress=not args.quiet)
    print(table_text(result.rows))
    why = known_gaps(result.rows, args.reps)
    if why:  # the same explanations as the report, as plain text
        print("\n" + why.replace("**", "").replace("## ", "").strip())
    cmd = f"ccsim validate --reps {args.reps} --seed {args.seed}"
    path = write_markdown(result, args.report, command=cmd)
    failed = sum(not r.passed for r in result.rows)
    print(f"\n{len(result.rows) - failed} of {len(result.rows)} checks pass; report: {path}")
    return 0 if failed == 0 else 1
