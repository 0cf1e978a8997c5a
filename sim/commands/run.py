"""``ccsim run``: Monte Carlo replications of one or more scenarios, results, figures, summary."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from sim.commands.common import UsageError, jobs, positive_int, seed
from sim.loader import load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim run``."""
    run = sub.add_parser(
        "run",
        help="run scenarios: Monte Carlo replications, results folder, figures, summary",
        description="Run one or more scenarios for N replications each and write runs.parquet, "
        "monthly series, per-site finals, manifest.json, figures/ and summary.md. Several "
        "scenarios run as paired designs under common random numbers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim run                                  built-in baseline, 100 replications
              ccsim run scenarios/keystone.toml --reps 200
              ccsim run keystone hard_only --reps 50     library names work too
              ccsim run baseline --set programme.tactics.hard=0.8 --set sites.n_sites=40

            A SCENARIO is a TOML file or a name listed by 'ccsim scenarios'. Replication k uses
            SeedSequence(seed, spawn_key=(0, k)) in every design (common random numbers), so
            its numbers do not depend on --jobs or on --reps.
            """
        ),
    )
    run.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files or library names (default: built-in baseline)",
    )
    run.add_argument(
        "--reps",
        type=positive_int,
        default=100,
        metavar="N",
        help="replications per scenario (default: 100)",
    )
    run.add_argument(
        "--jobs",
        type=jobs,
        default=os.cpu_count() or 1,
        metavar="J",
        help="worker processes; -1 = all cores (default: %(default)s)",
    )
    run.add_argument(
        "--seed", type=seed, default=20091, metavar="S", help="root seed (default: %(default)s)"
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="results folder (default: results/<scenario>/)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. programme.tactics.hard=0.6 (repeatable; "
        "applies to every scenario)",
    )
    run.add_argument(
        "--independent",
        action="store_true",
        help="independent random streams per scenario instead of common random numbers",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a results folder that holds a different experiment",
    )
    run.add_argument("--no-figures", action="store_true", help="skip figures (faster)")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def _default_out(names: list[str]) -> Path:
    return Path("results") / ("_vs_".join(names) if len(names) <= 3 else f"{names[0]}_and_more")


def _check_out_dir(out: Path, designs: list, overwrite: bool) -> None:
    """Refuse a folder that holds a different experiment unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    manifest = out / "manifest.json"
    if manifest.is_file() and not overwrite:
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
            old_scn = [d.get("scenario") for d in old.get("designs", [])]
        except (OSError, ValueError):
            old_scn = None
        new_scn = [d.scenario.model_dump(mode="json") for d in designs]
        if old_scn != new_scn:
            raise UsageError(
                f"--out {out}: holds results of a different experiment; use --overwrite "
                "or another --out"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror})") from exc


def run(args: argparse.Namespace) -> int:
    """``ccsim run``: load, run, write results, figures and summary; print the summary."""
    from sim.experiment import Design, run_experiment

    refs: list[str | None] = list(args.scenarios) or [None]
    designs = []
    for ref in refs:
        scn = load_scenario(ref, args.overrides)
        designs.append(Design(scn.name, scn))
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names repeat: {', '.join(names)}; give each a unique name")
    out = args.out if args.out is not None else _default_out(names)
    _check_out_dir(out, designs, args.overwrite)
    if args.overwrite:
        for stale in ("runs", "series", "sites"):
            for part in (out / stale).glob("part-*.parquet"):
                part.unlink()
    result = run_experiment(
        designs,
        reps=args.reps,
        root_seed=args.seed,
        jobs=args.jobs,
        out_dir=out,
        crn=not args.independent,
        progress=not args.quiet,
        command=sys.argv,
    )
    from sim import report

    if not args.no_figures:
        from sim import plots

        plots.save_figures(result, out)
    report.write_summary_md(result, out)
    if not args.quiet:
        print(report.format_terminal(result))
    print(
        f"results: {out}/ (runs.parquet, series/, sites.parquet, manifest.json"
        f"{', figures/' if not args.no_figures else ''}, summary.md)"
    )
    return 0
