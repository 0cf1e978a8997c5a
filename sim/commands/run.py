"""``ccsim run``: Monte Carlo replications of one or more scenarios, results, figures, summary."""

from __future__ import annotations

import argparse
import hashlib
import shlex
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

from sim.commands.backend_options import add_backend_options, open_backend
from sim.commands.common import (
    EXIT_FAILED,
    AppendOverride,
    UsageError,
    add_jobs_option,
    add_overwrite_resume_options,
    non_negative_int,
    note_if_replacing,
    nothing_saved_yet,
    replications,
    seed,
)
from sim.loader import build_scenario, load_scenario
from sim.results import OutputError, read_manifest
from sim.rng import DEFAULT_SEED

DEFAULT_REPS = 100


_EPILOG = textwrap.dedent(
    """\
    examples:
      ccsim run                                  built-in baseline, 100 replications
      ccsim run scenarios/keystone.toml --reps 200
      ccsim run keystone hard_only --reps 50     library names work too
      ccsim run baseline --set programme.tactics.hard=0.8 --set sites.n_sites=40

      ccsim run keystone --reps 5000 --resume    finish a run that was interrupted
      ccsim run keystone --reps 1 --replication 17 --seed 20091   one replication alone

    A SCENARIO is a TOML file or a name listed by 'ccsim scenarios'. Replication k uses
    SeedSequence(seed, spawn_key=(0, k)) in every design (common random numbers), so
    its numbers do not depend on --jobs or on --reps.

    Results are written chunk by chunk; Ctrl-C or SIGTERM stops cleanly, and --resume
    finishes the run (the final runs.parquet equals that of an uninterrupted run); it
    refuses a run started by other model code (manifest.json records its fingerprint). A
    replication that raises is listed on stderr and in manifest.json with the command
    that reproduces it; the rest of the run completes (exit code 1).
    """
)
"""Examples and notes shown under ``ccsim run --help``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim run``."""
    run = sub.add_parser(
        "run",
        help="run scenarios: Monte Carlo replications, results folder, figures, summary",
        description="Run one or more scenarios for N replications each and write runs.parquet, "
        "monthly series, per-site finals, manifest.json, figures/ and summary.md. Several "
        "scenarios run as paired designs under common random numbers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    _add_run_options(run)
    _add_output_options(run)


def _add_run_options(run: argparse.ArgumentParser) -> None:
    """What to run: scenarios, replications, workers and back end, seed."""
    run.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files or library names (default: built-in baseline)",
    )
    run.add_argument(
        "--reps",
        type=replications,
        default=None,
        metavar="N",
        help=f"replications per scenario (default: {DEFAULT_REPS}; with --resume: as recorded)",
    )
    run.add_argument(
        "--replication",
        type=non_negative_int,
        default=None,
        metavar="K",
        help="index of the first replication (default: 0); with --reps 1 it reproduces "
        "replication K of a bigger run alone",
    )
    add_jobs_option(run)
    add_backend_options(run)
    run.add_argument(
        "--seed",
        type=seed,
        default=None,
        metavar="S",
        help=f"root seed (default: {DEFAULT_SEED}; with --resume: as recorded)",
    )


def _add_output_options(run: argparse.ArgumentParser) -> None:
    """Where and how: --out, --set, streams, overwrite/resume, figures, quiet."""
    run.add_argument(
        "--out",
        type=out_folder,
        default=None,
        metavar="DIR",
        help="results folder (default: results/<scenario>/)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action=AppendOverride,
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
    add_overwrite_resume_options(
        run,
        "finish an interrupted run in --out, skipping finished replications (scenarios, "
        "--reps and --seed default to the recorded ones)",
    )
    run.add_argument("--no-figures", action="store_true", help="skip figures (faster)")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def out_folder(text: str) -> Path:
    """``--out``: a folder path; an empty one (``--out ""``, e.g. an unset shell variable) is
    refused rather than read as the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty folder name; give a folder, e.g. --out results/my_run (--out . for this folder)"
        )
    return Path(text)


def _default_out(names: list[str], overrides: list[str] = ()) -> Path:
    """``results/<names>``; with ``--set`` overrides, a short digest of them is appended so a
    variant never collides with the plain scenario's results (the manifest lists them)."""
    stem = "_vs_".join(names) if len(names) <= 3 else f"{names[0]}_and_more"
    if overrides:
        digest = hashlib.sha1("\n".join(sorted(overrides)).encode()).hexdigest()[:8]
        stem = f"{stem}-set-{digest}"
    return Path("results") / stem


def _recorded_designs(manifest: dict[str, Any], out: Path) -> list:
    """The designs of a manifest, validated against today's schema."""
    from sim.experiment_plan import Design  # light: no Mesa yet, so bad input fails fast

    designs = []
    for d in manifest["designs"]:
        source = f"{out / 'manifest.json'}: design '{d.get('name')}'"
        designs.append(Design(str(d.get("name")), build_scenario(d.get("scenario") or {}, source)))
    return designs


def _settings(args: argparse.Namespace, designs: list) -> dict[str, Any]:
    """Out folder, designs, reps, seed, first replication and streams; --resume fills gaps."""
    out = (
        args.out
        if args.out is not None
        else _default_out([d.name for d in designs], args.overrides)
    )
    if args.out is None and args.replication:  # keep a reproduction apart from the full run
        out = out.with_name(f"{out.name}-r{args.replication}")
    no_figures = bool(args.no_figures)
    cli = {
        "scenarios": list(args.scenarios),
        "overrides": list(args.overrides),
        "no_figures": no_figures,
    }
    reps, root, first, crn = args.reps, args.seed, args.replication, not args.independent
    old = None
    if args.resume:
        try:
            old = read_manifest(out / "manifest.json")
        except OutputError:
            old = None  # run_experiment says there is nothing to resume
    if old is not None:
        if not args.scenarios and not args.overrides:
            designs, cli = _recorded_designs(old, out), old.get("cli")  # None: not from a CLI
        reps = reps if reps is not None else old.get("replications")
        root = root if root is not None else old.get("root_seed")
        first = first if first is not None else old.get("first_replication", 0)
        crn = bool(old.get("crn", True)) and not args.independent
        no_figures = no_figures or bool((old.get("cli") or {}).get("no_figures"))
        if cli is not None:
            cli = {**cli, "no_figures": no_figures}
    return {
        "out": out,
        "designs": designs,
        "reps": reps or DEFAULT_REPS,
        "seed": DEFAULT_SEED if root is None else root,
        "first": first or 0,
        "crn": crn,
        "cli": cli,
        "no_figures": no_figures,
    }


def reproduce_command(failure: dict[str, Any], manifest: dict[str, Any]) -> str:
    """A command line that runs one failed replication alone (with its traceback, --debug)."""
    cli = manifest.get("cli")
    rep, seed_ = failure["replication"], manifest["root_seed"]
    out = f"results/repro-{failure['design']}-r{rep}"
    if cli is None:  # scenarios not given on a command line: re-run from the manifest
        where = str(manifest.get("_path", "manifest.json"))
        words = ["ccsim", "--debug", "rerun", where, "--replication", str(rep), "--out", out]
        if manifest.get("crn", True):
            words += ["--design", str(failure["design"])]
        return shlex.join([*words, "--overwrite"])
    refs = list(cli.get("scenarios") or [])
    if manifest.get("crn", True) and refs:  # under CRN every design uses the same streams
        refs = [refs[failure["design_index"]]]
    words = ["ccsim", "--debug", "run", *refs]
    for item in cli.get("overrides") or []:
        words += ["--set", item]
    words += ["--reps", "1", "--replication", str(rep), "--seed", str(seed_), "--jobs", "1"]
    if not manifest.get("crn", True):
        words.append("--independent")
    return shlex.join([*words, "--out", out, "--overwrite", "--no-figures"])


def report_failures(failures: list[dict[str, Any]], manifest: dict[str, Any], out: Path) -> None:
    """Print each failed replication (design, replication, seeds, error) and how to reproduce it."""
    print(
        f"ccsim run: {len(failures)} replication(s) failed; the rest of the run is complete and "
        f"the failures are listed in {out / 'manifest.json'} (failed_replications):",
        file=sys.stderr,
    )
    print_failures(failures, manifest)


def print_failures(failures: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    """Each failure's line and its ``reproduce:`` command on stderr (the first 20, then a
    count); shared by ``ccsim run`` and ``ccsim compare``."""
    from sim.experiment import describe_failure

    for f in failures[:20]:
        print(f"  {describe_failure(f)}", file=sys.stderr)
        print(f"    reproduce: {reproduce_command(f, manifest)}", file=sys.stderr)
    if len(failures) > 20:
        print(f"  ... and {len(failures) - 20} more", file=sys.stderr)


def _write_report(result: Any, out: Path, no_figures: bool) -> None:
    """Figures and summary.md of a finished run; Ctrl-C or SIGTERM here says how to get them.

    Raises:
        Interrupted: stopped while writing; the results themselves are complete on disk, and
            ``ccsim run --out OUT --resume`` reads them back and writes the report.
    """
    from sim import report_md
    from sim.checkpoint import Interrupted, stop_signals

    try:
        with stop_signals():
            if not no_figures:
                from sim import plots

                plots.save_figures(result, out)
            report_md.write_summary_md(result, out)
    except KeyboardInterrupt as exc:  # Interrupted too
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        again = shlex.join(["ccsim", "run", "--out", str(out), "--resume"])
        raise Interrupted(
            signum,
            f"interrupted while writing the report; the results are complete in {out}; "
            f"'{again}' (or re-run the same command) writes the report",
        ) from None


def run(args: argparse.Namespace) -> int:
    """``ccsim run``: load, run, write results, figures and summary; print the summary.

    Returns:
        0, or 1 (:data:`EXIT_FAILED`) when some replications failed.

    Raises:
        ScenarioError, UsageError, OutputError: bad input or an unusable ``--out`` (exit 2).
        RunError, Interrupted: the run stopped part-way; finish it with ``--resume``.
    """
    with nothing_saved_yet():
        designs = _designs(args)  # before the heavy imports: a bad scenario is refused at once
        from sim.experiment import run_experiment

        st = _checked_settings(args, designs)
    out = st["out"]
    with open_backend(args) as backend:  # loky here, or a dask / ray cluster
        note_if_replacing(out, args)  # once the back end is there: a refusal says only why
        result = run_experiment(
            st["designs"],
            reps=st["reps"],
            root_seed=st["seed"],
            jobs=backend.jobs,
            out_dir=out,
            crn=st["crn"],
            progress=not args.quiet,
            command=sys.argv,
            first_replication=st["first"],
            resume=args.resume,
            overwrite=args.overwrite,
            on_error="raise" if getattr(args, "debug", False) else "record",
            extra={"cli": st["cli"], "cluster": backend.where},
            backend=backend.name,
        )
    _write_report(result, out, st["no_figures"])
    _print_results(result, out, args.quiet, st["no_figures"])
    if result.failures:
        report_failures(result.failures, {**result.manifest, "_path": out / "manifest.json"}, out)
        return EXIT_FAILED
    return 0


def _designs(args: argparse.Namespace) -> list:
    """The scenarios given (default: the built-in baseline) as designs, names checked unique."""
    from sim.experiment_plan import Design  # light: no Mesa yet, so bad input fails fast

    refs: list[str | None] = list(args.scenarios) or [None]
    designs = []
    for ref in refs:
        scn = load_scenario(ref, args.overrides)
        designs.append(Design(scn.name, scn))
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names repeat: {', '.join(names)}; give each a unique name")
    return designs


def _checked_settings(args: argparse.Namespace, designs: list) -> dict[str, Any]:
    """The run settings (:func:`_settings`), after refusing an unusable ``--out``."""
    from sim.checkpoint import RUN_WRITES, refuse_user_files
    from sim.experiment import check_out_dir

    st = _settings(args, designs)
    out = st["out"]
    if not args.overwrite and not args.resume:
        skip = "figures/" if st["no_figures"] else "\0"
        refuse_user_files(out, [w for w in RUN_WRITES if not w.startswith(skip)])
    check_out_dir(  # an unusable --out costs nothing: checked before any back end starts
        st["designs"],
        st["reps"],
        out,
        st["seed"],
        st["crn"],
        first_replication=st["first"],
        resume=args.resume,
        overwrite=args.overwrite,
    )
    return st


def _print_results(result: Any, out: Path, quiet: bool, no_figures: bool) -> None:
    """The summary table (unless ``quiet``) and the line naming the files written."""
    from sim import report_text

    if not quiet:
        print(report_text.format_terminal(result))
    print(
        f"results: {out}/ (runs.parquet, series/, sites.parquet, manifest.json"
        f"{', figures/' if not no_figures else ''}, summary.md)"
    )
