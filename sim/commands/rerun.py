"""``ccsim rerun MANIFEST``: re-create an experiment from its manifest.json and check the numbers.

The manifest holds the resolved scenario of every design, the root seed, the replications, the
random-stream mode and the package versions, so a figure published from a results folder can be
re-created years later without the scenario files or the command line that made it.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.checkpoint import finished_count
from sim.commands.common import EXIT_FAILED, UsageError, add_jobs_option, non_negative_int
from sim.loader import build_scenario
from sim.results import OutputError, read_manifest, versions


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim rerun``."""
    p = sub.add_parser(
        "rerun",
        help="re-run an experiment from its manifest.json and check the numbers are identical",
        description="Re-run the experiment recorded in a manifest.json (resolved scenarios, root "
        "seed, replications, random streams) into a new folder, then compare its runs.parquet "
        "with the original's. Exit code 0 when identical, 1 when any value differs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim rerun results/keystone/manifest.json
              ccsim rerun results/keystone --replication 17        one replication alone
            """
        ),
    )
    p.add_argument(
        "manifest", type=Path, metavar="MANIFEST", help="a manifest.json or its results folder"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the re-run (default: <results folder>-rerun)",
    )
    add_jobs_option(p)
    p.add_argument(
        "--replication",
        type=non_negative_int,
        default=None,
        metavar="K",
        help="re-run only replication K (e.g. one that failed)",
    )
    p.add_argument(
        "--design",
        default=None,
        metavar="NAME",
        help="with --replication: only this design (runs with common random numbers only)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace what --out holds")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted re-run in --out (same command plus --resume)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _refuse_sweep(path: Path) -> None:
    """A sweep's manifest is not an experiment manifest: say so, and which command re-creates
    it (the sensitivity command with the method and N actually run, not the file's design)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return  # read_manifest reports it
    if isinstance(data, dict) and data.get("tool") in ("ccsim sweep", "ccsim sensitivity"):
        from sim.sweep.commandline import sweep_command  # one builder with the resume hint

        what, command = sweep_command(data, path.parent)
        raise UsageError(
            f"{path}: is the manifest of a {what}, which rerun cannot re-create; run "
            f"'{command}' to run it again (the sweep file must still hold the same settings)"
        )


def _refuse_calibration(path: Path) -> None:
    """A calibration folder (``calibration.json``, no ``manifest.json``) is not an experiment:
    say so, and which command fits it again (:func:`sim.calibration.record.redo_command`)."""
    if path.is_dir():
        if (path / "manifest.json").exists() or not (path / "calibration.json").is_file():
            return
        folder, record_path = path, path / "calibration.json"
    elif path.name == "calibration.json" and path.is_file():
        folder, record_path = path.parent, path
    else:
        return
    from sim.calibration.record import redo_command

    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        record = None
    if not isinstance(record, dict):
        raise UsageError(f"{path}: holds an unreadable calibration.json and no manifest.json")
    command = redo_command(record, folder)
    how = (
        f"run '{command}' to fit it again"
        if command
        else "run ccsim calibrate again with the data options in its calibration.json "
        "('source') and the model ('model'); it was saved before commands were recorded"
    )
    what = "folder" if path.is_dir() else "record"
    raise UsageError(f"{path}: is a calibration {what}, which rerun cannot re-create; {how}")


def _check_manifest(manifest: dict[str, Any], source: Path) -> None:
    """The keys rerun needs, with usable types (one-line errors, not KeyError)."""
    for key in ("replications", "root_seed"):
        value = manifest.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OutputError(f"{source}: '{key}' is missing or not a whole number ({value!r})")
    designs = manifest["designs"]
    if not isinstance(designs, list) or not designs:
        raise OutputError(f"{source}: 'designs' must be a non-empty list")
    for i, d in enumerate(designs):
        if not isinstance(d, dict) or "name" not in d:
            raise OutputError(f"{source}: designs[{i}] has no 'name'")
        if not isinstance(d.get("scenario"), dict):
            raise OutputError(
                f"{source}: design '{d['name']}' has no 'scenario' table (the resolved scenario "
                "is needed to re-run it)"
            )


def _designs(manifest: dict[str, Any], source: Path, only: str | None) -> list:
    """The manifest's designs (validated by today's schema), optionally just one of them."""
    from sim.experiment_plan import Design  # light: no Mesa yet, so bad input fails fast

    designs = [
        Design(str(d["name"]), build_scenario(d["scenario"], f"{source}: design '{d['name']}'"))
        for d in manifest["designs"]
    ]
    if only is None:
        return designs
    if not manifest.get("crn", True):
        raise UsageError("--design: this run used independent streams; re-run every design")
    chosen = [d for d in designs if d.name == only]
    if not chosen:
        names = ", ".join(d.name for d in designs)
        raise UsageError(f"--design {only}: not in {source} (designs: {names})")
    return chosen


def _notes(manifest: dict[str, Any]) -> list[str]:
    """Why numbers might differ: other package versions, or a source tree that has changed."""
    from sim.results import git_state

    now = versions()
    notes = [
        f"recorded with {k} {v}, now {now.get(k)}"
        for k, v in manifest.get("versions", {}).items()
        if now.get(k) != v
    ]
    then, here = manifest.get("git") or {}, git_state()
    if then.get("commit") and then.get("commit") != here.get("commit"):
        notes.append(
            f"recorded at git commit {str(then['commit'])[:12]}, now {str(here.get('commit'))[:12]}"
        )
    if then.get("dirty"):
        notes.append("the recorded source tree had uncommitted changes")
    return notes


def compare_runs(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Differences between two ``runs`` tables, one line each; [] when identical (NaN = NaN)."""
    keys = ["design", "replication"]
    old = old.sort_values(keys, ignore_index=True)
    new = new.sort_values(keys, ignore_index=True)
    if list(old.columns) != list(new.columns):
        gone, added = set(old) - set(new), set(new) - set(old)
        return [f"columns differ: missing {sorted(gone)}, new {sorted(added)}"]
    if len(old) != len(new) or not old[keys].equals(new[keys]):
        return [f"rows differ: {len(old)} (design, replication) rows, now {len(new)}"]
    lines = []
    for col in old.columns:
        if old[col].equals(new[col]):
            continue
        a, b = old[col].to_numpy(), new[col].to_numpy()
        if np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number):
            diff = np.nanmax(np.abs(a.astype(float) - b.astype(float)), initial=0.0)
            lines.append(f"{col}: differs in {int((a != b).sum())} rows (max |diff| {diff:.3g})")
        else:
            lines.append(f"{col}: differs in {int((a != b).sum())} rows")
    return lines


def run(args: argparse.Namespace) -> int:
    """``ccsim rerun``: run the recorded experiment again and compare ``runs.parquet``.

    Returns:
        0 when the re-run's runs.parquet equals the original's (or there is none to compare),
        1 (:data:`EXIT_FAILED`) when any value differs.

    Raises:
        OutputError: the manifest is missing or not a ccsim manifest; ``--out`` is unusable.
        UsageError: ``--replication`` outside the recorded run; a ``--design`` not in it.
    """
    from sim.experiment import run_experiment

    folder = args.manifest if args.manifest.is_dir() else args.manifest.parent
    source = folder / "manifest.json" if args.manifest.is_dir() else args.manifest
    _refuse_calibration(args.manifest)
    _refuse_sweep(source)
    manifest = read_manifest(args.manifest)
    _check_manifest(manifest, source)
    designs = _designs(manifest, source, args.design)
    reps, first = _replications(args, manifest, len(designs), folder, source)
    out = _out_folder(args, folder)
    original = folder / "runs.parquet"
    # read before running: nothing the re-run writes can then change what it is compared with
    old = pd.read_parquet(original) if original.is_file() else None
    for note in _notes(manifest):
        print(f"note: {note}; numbers may differ", file=sys.stderr)
    result = run_experiment(
        designs,
        reps=reps,
        root_seed=int(manifest["root_seed"]),
        jobs=args.jobs,
        out_dir=out,
        crn=bool(manifest.get("crn", True)),
        progress=not args.quiet,
        command=sys.argv,
        first_replication=first,
        overwrite=args.overwrite,
        resume=args.resume,
        on_error="raise" if getattr(args, "debug", False) else "record",
        extra={"rerun_of": str(source), "cli": manifest.get("cli")},
    )
    print(f"re-run: {out}/")
    if old is None:
        print(f"no {original} to compare with (the original run did not complete)")
        return 0
    return _report(old, result.runs, original, manifest, designs, (first, reps))


def _replications(
    args: argparse.Namespace, manifest: dict[str, Any], n_designs: int, folder: Path, source: Path
) -> tuple[int, int]:
    """The number and first of the replications to re-run, after checking the options."""
    reps, first = int(manifest["replications"]), int(manifest.get("first_replication", 0))
    if args.replication is None and not manifest.get("complete", False):
        total = reps * n_designs
        done = finished_count(folder) or sum(
            int(v) for v in (manifest.get("completed_replications") or {}).values()
        )
        raise UsageError(
            f"{source}: the run is unfinished ({done} of {total} replications done); finish it "
            f"with 'ccsim run --out {folder} --resume', then rerun it (or rerun one completed "
            "replication with --replication K)"
        )
    if args.design is not None and args.replication is None:
        raise UsageError("--design needs --replication")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if args.replication is not None:
        if not first <= args.replication < first + reps:
            raise UsageError(
                f"--replication {args.replication}: the run has replications {first} to "
                f"{first + reps - 1}"
            )
        reps, first = 1, args.replication
    return reps, first


def _out_folder(args: argparse.Namespace, folder: Path) -> Path:
    """The re-run's folder (``--out`` or beside the original), checked it may be written."""
    from sim.checkpoint import RERUN_WRITES, refuse_user_files

    suffix = "-rerun" if args.replication is None else f"-rerun-r{args.replication}"
    out = args.out if args.out is not None else folder.parent / f"{folder.resolve().name}{suffix}"
    if out.resolve() == folder.resolve():
        raise UsageError(
            f"--out {out}: is the folder being re-run; the re-run would replace the results it "
            f"is compared with; use another --out (default: {folder.name}{suffix} beside it)"
        )
    if not args.overwrite and not args.resume:
        refuse_user_files(out, RERUN_WRITES)
    return out


def _report(
    old: pd.DataFrame,
    new: pd.DataFrame,
    original: Path,
    manifest: dict[str, Any],
    designs: list,
    span: tuple[int, int],
) -> int:
    """Print how the re-run's runs compare with the original's; the exit code."""
    first, reps = span
    old = old[old["design"].isin([d.name for d in designs])]
    old = old[old["replication"].between(first, first + reps - 1)]
    index = {d["name"]: d["design_index"] for d in manifest["designs"]}
    if "design" in new and "design_index" in old:  # --design renumbers the one design it keeps
        new = new.assign(design_index=new["design"].map(index).astype(old["design_index"].dtype))
    diffs = compare_runs(old, new)
    if not diffs:
        print(f"identical: runs.parquet matches {original} ({len(old)} rows)")
        return 0
    print(f"DIFFERENT from {original}:")
    for line in diffs:
        print(f"  {line}")
    return EXIT_FAILED
