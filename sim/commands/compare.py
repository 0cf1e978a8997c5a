"""``ccsim compare``: paired comparison of programme designs under common random numbers."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
import time
from pathlib import Path

from sim.commands.common import UsageError, add_jobs_option, add_reps_option, add_seed_option
from sim.loader import load_scenario

EPILOG = textwrap.dedent(
    """\
    examples:
      ccsim compare scenarios/keystone.toml scenarios/soft_only.toml --reps 200
      ccsim compare keystone matching_michigan hard_only soft_only --baseline hard_only
      ccsim compare baseline soft_only --independent   also shows what CRN buys

    Censored T50/T90 are compared as restricted times min(T, tau), tau being the
    shortest observation window of the designs; comparison.md says so.
    """
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim compare``."""
    p = sub.add_parser(
        "compare",
        help="compare designs: paired differences with CIs, P(better), survival, figures",
        description="Run every design for the same replications (common random numbers) and "
        "compare each with a baseline: paired differences with bootstrap 95% CIs, the "
        "probability of doing better, Kaplan-Meier curves of time to close, figures, "
        "comparison.parquet and comparison.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or names")
    add_reps_option(p, 200, "design")
    add_jobs_option(p)
    add_seed_option(p, 20091)
    p.add_argument(
        "--baseline",
        default=None,
        metavar="NAME",
        help="design to compare against (name or file; default: the first)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="results folder (default: results/compare_<designs>/)",
    )
    p.add_argument(
        "--independent",
        action="store_true",
        help="independent streams per design; also reports how much CRN narrows CIs",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a results folder that holds a different experiment",
    )
    p.add_argument("--no-figures", action="store_true", help="skip figures (faster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _baseline_name(ref: str | None, refs: list[str], names: list[str]) -> str | None:
    """The baseline's design name from a name, a file path or a library name."""
    if ref is None:
        return None
    if ref in names:
        return ref
    stem = Path(ref).stem
    for r, n in zip(refs, names, strict=True):
        if ref == r or stem == Path(r).stem or stem == n:
            return n
    raise UsageError(f"--baseline {ref}: not one of the designs ({', '.join(names)})")


def _clear(out: Path, overwrite: bool) -> None:
    """Refuse a file; with ``--overwrite`` delete a previous results folder (one that has a
    ``manifest.json``) so the runner starts afresh."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if overwrite and (out / "manifest.json").is_file():
        shutil.rmtree(out)


def run(args: argparse.Namespace) -> int:
    """``ccsim compare``: run, compare, write the results folder, print the lines."""
    from sim.compare import run_comparison
    from sim.compare.report import format_terminal, write_comparison
    from sim.experiment import Design

    started = time.perf_counter()
    if len(args.scenarios) < 2:
        raise UsageError("give at least two scenarios to compare")
    if args.reps < 2:
        raise UsageError("--reps must be >= 2 for a paired CI")
    designs = [Design((s := load_scenario(ref)).name, s) for ref in args.scenarios]
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names repeat: {', '.join(names)}; give each a unique name")
    base = _baseline_name(args.baseline, list(args.scenarios), names) or names[0]
    designs.sort(key=lambda d: d.name != base)  # baseline first: design 0 (see run_comparison)
    out = args.out or Path("results") / ("compare_" + "_".join(names))[:120]
    _clear(out, args.overwrite)
    cmp = run_comparison(
        designs,
        args.reps,
        base,
        args.seed,
        args.jobs,
        out,
        args.independent,
        progress=not args.quiet,
        command=sys.argv,
    )
    t0 = time.perf_counter()
    write_comparison(cmp, out, figures=not args.no_figures)
    cmp.wall_time_s["figures_and_report"] = time.perf_counter() - t0
    print(format_terminal(cmp))
    total = time.perf_counter() - started
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in cmp.wall_time_s.items())
    print(
        f"\nresults: {out}/ (comparison.md, comparison.parquet, survival.parquet, runs.parquet"
        f"{', figures/' if not args.no_figures else ''}); {total:.1f} s ({timing})"
    )
    return 0
