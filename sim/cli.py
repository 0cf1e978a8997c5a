"""Command line: ``ccsim run | scenarios`` (``python -m sim`` works too).

A thin layer over functions a notebook can call: :func:`sim.loader.load_scenario`,
:func:`sim.experiment.run_experiment`, :mod:`sim.plots` and :mod:`sim.report`. Bad input gives one
line on stderr and exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path

from sim.loader import ScenarioError, library, load_scenario, read_with_extends

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """Bad command-line input; reported as one line with exit code 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or -1 (all cores), got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``ccsim`` argument parser with all sub-commands."""
    parser = _Parser(
        prog="ccsim",
        description="Simulate clinical communities closing the gap between evidence and "
        "practice, and compare programme designs (Mesa agent-based model, Monte Carlo).",
        epilog="Run 'ccsim COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
        type=_positive_int,
        default=100,
        metavar="N",
        help="replications per scenario (default: 100)",
    )
    run.add_argument(
        "--jobs",
        type=_jobs,
        default=os.cpu_count() or 1,
        metavar="J",
        help="worker processes; -1 = all cores (default: %(default)s)",
    )
    run.add_argument(
        "--seed", type=_seed, default=20091, metavar="S", help="root seed (default: %(default)s)"
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

    sub.add_parser(
        "scenarios",
        help="list the scenario library with descriptions",
        description="List the scenarios shipped in scenarios/ with their descriptions.",
    )
    return parser


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


def cmd_run(args: argparse.Namespace) -> int:
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


def cmd_scenarios(_args: argparse.Namespace) -> int:
    """``ccsim scenarios``: name and description of each library scenario."""
    lib = library()
    if not lib:
        print("no scenario library found (scenarios/ folder missing)")
        return 0
    width = max(len(n) for n in lib)
    for name, path in lib.items():
        desc = str(read_with_extends(path).get("description", "")).strip()
        first = " ".join(desc.split())
        lines = textwrap.wrap(first, width=max(40, 100 - width - 2)) or [""]
        print(f"{name:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}  {line}")
    return 0


COMMANDS = {"run": cmd_run, "scenarios": cmd_scenarios}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` console command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ccsim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ccsim: interrupted; finished chunks are kept on disk", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
