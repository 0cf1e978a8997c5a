"""``ccsim compare``: paired comparison of programme designs under common random numbers."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from sim.commands.common import (
    EXIT_FAILED,
    UsageError,
    add_jobs_option,
    add_overwrite_resume_options,
    note_if_replacing,
    nothing_saved_yet,
    replications,
    seed,
)
from sim.commands.run import out_folder, print_failures
from sim.loader import load_scenario
from sim.results import OutputError, read_manifest
from sim.rng import DEFAULT_SEED

DEFAULT_REPS = 200

EPILOG = textwrap.dedent(
    """\
    examples:
      ccsim compare scenarios/keystone.toml scenarios/soft_only.toml --reps 200
      ccsim compare keystone matching_michigan hard_only soft_only --baseline hard_only
      ccsim compare baseline soft_only --independent   also shows what CRN buys
      ccsim compare keystone hard_only --reps 500 --out results/k --resume   finish it
      ccsim compare --from-sweep results/sweep_budget_x_soft --points 3,12 --reps 100

    --from-sweep DIR --points 3,12 compares points of a sweep (or sensitivity) folder
    instead of scenario files: each design, named "point 3", is the sweep's base scenario
    with the file's set and that point's values, exactly as the sweep ran it; a legend
    above the results lists each point's values. The root seed defaults to the sweep's, so
    replication r of each point equals the sweep's row of that point and replication (with
    --independent, only the baseline point's).

    Censored T50/T90 are compared as restricted times min(T, tau), tau being the
    shortest observation window of the designs; comparison.md says so.

    Results are written chunk by chunk; Ctrl-C or SIGTERM stops cleanly, and the same
    command with --resume finishes the run (the comparison equals that of an
    uninterrupted one). With fewer than 20 replications the CIs and P(better) are
    flagged as unreliable. A replication that raises is listed on stderr and in
    manifest.json with the command that reproduces it; its pairs are left out, the
    rest of the comparison completes (exit code 1).
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
    p.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="scenario files or names (two or more)"
    )
    p.add_argument(
        "--from-sweep",
        type=out_folder,
        default=None,
        metavar="DIR",
        help="compare points of this sweep or sensitivity folder instead of SCENARIOs",
    )
    p.add_argument(
        "--points",
        default=None,
        metavar="I,J",
        help="with --from-sweep: the sweep's point indices to compare, e.g. 3,12",
    )
    p.add_argument(
        "--reps",
        type=replications,
        default=None,
        metavar="N",
        help=f"replications per design (default: {DEFAULT_REPS}; with --resume: as recorded)",
    )
    add_jobs_option(p)
    p.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)  # refused in run
    p.add_argument(
        "--seed",
        type=seed,
        default=None,
        metavar="S",
        help=f"root seed (default: {DEFAULT_SEED}, with --from-sweep the sweep's; with "
        "--resume: as recorded)",
    )
    p.add_argument(
        "--baseline",
        default=None,
        metavar="NAME",
        help="design to compare against (name, file or, with --from-sweep, point index; "
        "default: the first)",
    )
    p.add_argument(
        "--out",
        type=out_folder,
        default=None,
        metavar="DIR",
        help="results folder (default: results/compare_<designs>/)",
    )
    p.add_argument(
        "--independent",
        action="store_true",
        help="independent streams per design; also reports how much CRN narrows CIs",
    )
    add_overwrite_resume_options(
        p,
        "finish an interrupted comparison in --out, skipping finished replications "
        "(--reps and --seed default to the recorded ones)",
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


def _settings(
    args: argparse.Namespace, out: Path, default_seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Replications, root seed and streams; with ``--resume`` the recorded ones fill gaps;
    ``default_seed`` when neither ``--seed`` nor a recorded seed gives one."""
    reps, root, independent = args.reps, args.seed, bool(args.independent)
    if args.resume:
        try:
            old = read_manifest(out / "manifest.json")
        except OutputError:
            old = None  # run_experiment says there is nothing to resume
        if old is not None:
            reps = reps if reps is not None else old.get("replications")
            root = root if root is not None else old.get("root_seed")
            independent = independent or not old.get("crn", True)
    return {
        "reps": int(reps or DEFAULT_REPS),
        "seed": default_seed if root is None else int(root),
        "independent": independent,
    }


def run(args: argparse.Namespace) -> int:
    """``ccsim compare``: run (or resume), compare, write the results folder, print the lines.

    Returns:
        0, or 1 (:data:`EXIT_FAILED`) when some replications failed (listed on stderr; the
        comparison of the rest is written).

    Raises:
        ScenarioError, UsageError, OutputError: bad input or an unusable ``--out`` (exit 2).
        RunError, Interrupted: the run stopped part-way; finish it with ``--resume``.
    """
    started = time.perf_counter()
    if args.set:
        raise UsageError(
            f"compare takes no --set (got --set {args.set[0]}): every design needs its own "
            'name, so write each variant as a small TOML file with extends = "baseline" and the '
            "changed keys (README: Writing a scenario)"
        )
    with nothing_saved_yet():
        designs, names, base, sweep = _designs(args)  # before the heavy imports: fails fast
        from sim.compare import few_pairs_caution, run_comparison

        out = args.out or _default_out(names, sweep)
        st = _checked_settings(args, designs, out, sweep.seed if sweep else DEFAULT_SEED)
    caution = few_pairs_caution(st["reps"])
    if caution:
        print(f"ccsim compare: warning: {caution}", file=sys.stderr)
    cmp = run_comparison(
        designs,
        st["reps"],
        base,
        st["seed"],
        args.jobs,
        out,
        st["independent"],
        progress=not args.quiet,
        command=sys.argv,
        resume=args.resume,
        overwrite=args.overwrite,
        on_error="raise" if getattr(args, "debug", False) else "record",
    )
    cmp.legend = sweep.legend if sweep else []
    _write_and_print(cmp, out, args.no_figures, started)
    if cmp.failures or cmp.crn_failures:
        refs = None if sweep else dict(zip(names, args.scenarios, strict=True))
        report_failures(cmp, out, refs, sweep)
        return EXIT_FAILED
    return 0


def _designs(args: argparse.Namespace) -> tuple[list[Any], list[str], str, Any]:
    """The designs (baseline first), their names as given, the baseline's name and, with
    ``--from-sweep``, the :class:`sim.compare.from_sweep.SweepDesigns` (else ``None``)."""
    from sim.experiment_plan import Design  # light: no Mesa yet, so bad input fails fast

    sweep = _sweep_designs(args)
    if sweep is not None:
        designs, refs = list(sweep.designs), (args.points or "").split(",")
    elif len(args.scenarios) < 2:
        raise UsageError("give at least two scenarios to compare (or --from-sweep DIR --points)")
    else:
        designs = [Design((s := load_scenario(ref)).name, s) for ref in args.scenarios]
        refs = list(args.scenarios)
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names repeat: {', '.join(names)}; give each a unique name")
    base = _baseline_name(args.baseline, [r.strip() for r in refs], names) or names[0]
    designs.sort(key=lambda d: d.name != base)  # baseline first: design 0 (see run_comparison)
    return designs, names, base, sweep


def _sweep_designs(args: argparse.Namespace) -> Any:
    """The sweep points of ``--from-sweep DIR --points I,J`` as designs, or ``None`` without
    ``--from-sweep``.

    Raises:
        UsageError: SCENARIOs as well, ``--points`` without ``--from-sweep`` or the reverse,
            bad ``--points`` text, or a folder or points that are not the sweep's (one line).
    """
    if args.from_sweep is None:
        if args.points is not None:
            raise UsageError("--points needs --from-sweep DIR (the sweep's results folder)")
        return None
    if args.scenarios:
        raise UsageError(
            f"give either SCENARIOs or --from-sweep, not both (got {args.scenarios[0]} and "
            f"--from-sweep {args.from_sweep})"
        )
    if args.points is None:
        raise UsageError("--from-sweep needs --points, the sweep's points to compare, e.g. 3,12")
    from sim.compare.from_sweep import parse_points, sweep_designs

    try:
        return sweep_designs(args.from_sweep, parse_points(args.points))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _default_out(names: list[str], sweep: Any) -> Path:
    """``results/compare_<designs>``; with ``--from-sweep``
    ``results/compare_<sweep>_points_3_12``."""
    if sweep is None:
        return Path("results") / ("compare_" + "_".join(names))[:120]
    points = "_".join(n.split()[-1] for n in names)
    return Path("results") / f"compare_{sweep.name}_points_{points}"[:120]


def _checked_settings(
    args: argparse.Namespace, designs: list[Any], out: Path, default_seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """The run settings (:func:`_settings`), after refusing bad ``--reps`` or an unusable --out."""
    from sim.checkpoint import COMPARE_WRITES, refuse_user_files
    from sim.compare import recorded_order
    from sim.experiment import check_out_dir

    st = _settings(args, out, default_seed)
    if st["reps"] < 2:
        raise UsageError("--reps must be >= 2 for a paired CI")
    if not args.overwrite and not args.resume:
        skip = "figures/" if args.no_figures else "\0"
        refuse_user_files(out, [w for w in COMPARE_WRITES if not w.startswith(skip)])
    check_out_dir(  # refuse an unusable --out before anything runs
        recorded_order(designs, out) if args.resume else designs,
        st["reps"],
        out,
        st["seed"],
        not st["independent"],
        resume=args.resume,
        overwrite=args.overwrite,
    )
    note_if_replacing(out, args)
    return st


def _write_and_print(cmp: Any, out: Path, no_figures: bool, started: float) -> None:
    """Write the results folder, then print the comparison and where and how long it took."""
    from sim.compare.report import format_terminal, write_comparison

    t0 = time.perf_counter()
    write_comparison(cmp, out, figures=not no_figures)
    cmp.wall_time_s["figures_and_report"] = time.perf_counter() - t0
    print(format_terminal(cmp))
    total = time.perf_counter() - started
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in cmp.wall_time_s.items())
    print(
        f"\nresults: {out}/ (comparison.md, comparison.parquet, survival.parquet, runs.parquet"
        f"{', figures/' if not no_figures else ''}); {total:.1f} s ({timing})"
    )


def report_failures(cmp: Any, out: Path, refs: dict[str, str] | None, sweep: Any = None) -> None:
    """Print each failed replication of a comparison and a command that reproduces it alone.

    Worded as ``ccsim run`` words its failures (:func:`sim.commands.run.report_failures`).

    Args:
        cmp: the :class:`sim.compare.Comparison` (its ``failures`` and ``crn_failures``).
        out: the results folder (its manifest.json lists ``failures``).
        refs: the scenario reference given on the command line for each design name;
            ``None`` (``--from-sweep``): the reproducing commands re-run the manifest.
        sweep: with ``--from-sweep``, the :class:`sim.compare.from_sweep.SweepDesigns`: a
            failure of the CRN re-run is reproduced by its ``ccsim run`` command (``ccsim
            rerun`` of the independent manifest cannot run one design under CRN).
    """
    manifest = cmp.experiment.manifest
    seed_ = manifest["root_seed"]
    if failed := cmp.failures:
        print(
            f"ccsim compare: {len(failed)} replication(s) failed; the rest of the comparison is "
            "complete (the runs paired with a failed one are left out) and the failures are "
            f"listed in {out / 'manifest.json'} (failed_replications):",
            file=sys.stderr,
        )
        print_failures(
            failed, _cli(manifest, refs, [str(d["name"]) for d in manifest["designs"]], out)
        )
    if failed := cmp.crn_failures:
        print(
            f"ccsim compare: {len(failed)} replication(s) of the CRN re-run failed (--independent "
            "runs the other designs again under CRN, in memory, for the CI widths); they are "
            f"left out of the CRN columns of {out / 'comparison.md'}:",
            file=sys.stderr,
        )
        if sweep is not None:
            from sim.experiment import describe_failure

            for f in failed:
                print(f"  {describe_failure(f)}", file=sys.stderr)
                command = sweep.run_command(str(f["design"]), int(f["replication"]), seed_)
                print(f"    reproduce: {command}", file=sys.stderr)
            return
        rerun = {**manifest, "root_seed": seed_, "crn": True}
        print_failures(failed, _cli(rerun, refs, cmp.designs[1:], out))


def _cli(
    manifest: dict[str, Any], refs: dict[str, str] | None, order: list[str], out: Path
) -> dict[str, Any]:
    """``manifest`` with the ``cli`` scenarios of the designs in ``order`` (design_index order),
    for the reproducing commands; without ``refs`` (designs not from files), ``cli`` None: the
    commands re-run the manifest (``ccsim rerun``)."""
    if refs is None:
        return {**manifest, "cli": None, "_path": str(out / "manifest.json")}
    return {**manifest, "cli": {"scenarios": [refs[name] for name in order]}}
