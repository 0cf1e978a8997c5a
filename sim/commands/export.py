"""``ccsim export``: a results folder's Parquet tables as CSV, for spreadsheets.

Beside the CSVs it writes ``export.json`` (in ``DIR/csv/``, or in ``DIR`` with ``--beside``):
when the export was made, from which Parquet files, and whether the run was finished (status,
replications planned and exported), so a CSV copy of an unfinished run can be told from one of
the finished run. Exporting again replaces every CSV the previous export wrote (the ones listed
in its ``export.json``, whether it went into ``DIR/csv/`` or beside the tables; for
an older ``csv/`` without one, its ``*.csv`` files); other files are left alone. Exporting an
unfinished run prints one warning line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.commands.common import UsageError
from sim.export import RECORD, RECORD_FORMAT, recorded_csvs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim export``."""
    p = sub.add_parser(
        "export",
        help="export a results folder's Parquet tables to CSV (for spreadsheets)",
        description="Write every Parquet table of a results folder as CSV (folders of chunk "
        "parts, e.g. series/, become one CSV each), into DIR/csv/ or beside each file, with "
        f"{RECORD} saying when, from what and whether the run was finished. Exporting again "
        "replaces the CSVs of the previous export. An unfinished run is exported as it stands, "
        "with a warning.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a results folder")
    p.add_argument("--csv", action="store_true", help="export as CSV (the default and only format)")
    p.add_argument(
        "--beside",
        action="store_true",
        help="write each CSV beside its Parquet file instead of into DIR/csv/",
    )


def run(args: argparse.Namespace) -> int:
    """``ccsim export DIR [--csv]``: write the CSVs and their record, and list them."""
    from sim.export import EXCEL_MAX_ROWS

    root: Path = args.dir
    dest = root if args.beside else root / "csv"
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a folder; move it away or use --beside")
    state = run_state(root)
    written = _export(root, dest, state, into_subdir=not args.beside)
    if state["complete"] is False:  # after the export, so a failed one prints its error only
        print(f"ccsim export: warning: {_unfinished_note(root, state)}", file=sys.stderr)
    for path, rows in written:
        note = "  (more rows than one Excel sheet holds)" if rows >= EXCEL_MAX_ROWS else ""
        print(f"{path}  {rows} rows{note}")
    print(f"{dest / RECORD}  (what was exported, and whether the run was finished)")
    return 0


def _export(
    root: Path, dest: Path, state: dict[str, Any], into_subdir: bool
) -> list[tuple[Path, int]]:
    """Write the CSVs, remove the previous export's other CSVs, then write the record.

    The old record goes first, so an export cut short leaves no record claiming to describe it.
    """
    from sim.export import csv_sources, export_csv
    from sim.results import write_json

    old = _previous_csvs(dest, into_subdir)
    other = root if into_subdir else root / "csv"  # the export in the other place it replaces
    other_old = recorded_csvs(other)
    try:
        (dest / RECORD).unlink(missing_ok=True)
        if other_old is not None:
            (other / RECORD).unlink(missing_ok=True)
        written = export_csv(root, into_subdir=into_subdir)
        new = {path.resolve() for path, _ in written}
        for path, where in [*((p, dest) for p in old), *((p, other) for p in other_old or [])]:
            if path.resolve() not in new:
                path.unlink(missing_ok=True)
                _remove_empty_parents(path.parent, where)
        if other_old is not None and other != root:
            with contextlib.suppress(OSError):  # csv/ goes if the old export was all it held
                other.rmdir()
        groups = csv_sources(root)
        files = [
            {
                "csv": path.relative_to(dest).as_posix(),
                "rows": rows,
                "from": [src.relative_to(root).as_posix() for src in groups.get(rel, [])],
            }
            for (path, rows), rel in zip(written, groups, strict=True)
        ]
        write_json(_record(root, state, files), dest / RECORD)
    except FileNotFoundError as exc:
        if exc.filename is None:  # sim.export's own "not a folder" / "no Parquet files"
            raise UsageError(str(exc)) from exc
        raise UsageError(_write_error(exc)) from exc
    except OSError as exc:
        raise UsageError(_write_error(exc)) from exc
    except pa.ArrowException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{root}: a Parquet file cannot be read ({first})") from exc
    return written


def _write_error(exc: OSError) -> str:
    where = exc.filename2 or exc.filename or "the CSV folder"  # a rename names its target 2nd
    return f"cannot write the CSV export: {where}: {exc.strerror or exc}"


def _previous_csvs(dest: Path, into_subdir: bool) -> list[Path]:
    """CSVs written by the previous export into ``dest`` (from its record; for a ``csv/``
    folder written before records existed, its ``*.csv`` files)."""
    listed = recorded_csvs(dest)
    if listed is None and into_subdir and dest.is_dir() and not (dest / RECORD).exists():
        return sorted(dest.rglob("*.csv"))
    return listed or []


def _remove_empty_parents(folder: Path, dest: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``dest`` while they are empty."""
    while folder != dest and dest in folder.parents:
        with contextlib.suppress(OSError):
            folder.rmdir()
        folder = folder.parent


def run_state(root: Path) -> dict[str, Any]:
    """Whether the results in ``root`` are finished, from its ``manifest.json``.

    Returns:
        ``tool``, ``status`` and ``complete`` (``None`` without a readable manifest) and, for a
        run, ``replications`` planned per design and ``exported``: replications per design in
        the runs table (for a sweep, ``runs`` planned and ``exported`` runs).
    """
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict):
        return {"tool": None, "status": None, "complete": None}
    complete = manifest.get("complete")
    state: dict[str, Any] = {
        "tool": manifest.get("tool"),
        "status": manifest.get("status"),
        "complete": complete if isinstance(complete, bool) else None,
    }
    runs = _runs_table(root, manifest)
    if manifest.get("tool") == "ccsim" and "replications" in manifest:
        state["replications"] = manifest["replications"]
        names = [str(d.get("name")) for d in manifest.get("designs", []) if isinstance(d, dict)]
        counts = {name: 0 for name in names}
        if not runs.empty and {"design", "replication"} <= set(runs.columns):
            counts.update(
                {str(k): int(v) for k, v in runs.groupby("design")["replication"].nunique().items()}
            )
        state["exported"] = counts
    elif "runs" in manifest:
        state["runs"] = manifest["runs"]
        state["exported"] = len(runs)
    return state


def _runs_table(root: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    """The run table's identifying columns (``runs.parquet`` or its parts), empty if none."""
    sources = [root / "runs.parquet"] if (root / "runs.parquet").is_file() else []
    sources = sources or sorted((root / "runs").glob("part-*.parquet"))
    cols = ["design", "replication"] if manifest.get("tool") == "ccsim" else None
    frames = []
    for src in sources:
        try:
            frames.append(pd.read_parquet(src, columns=cols))
        except (OSError, ValueError, pa.ArrowException):
            continue  # reported when the table itself is exported
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _unfinished_note(root: Path, state: dict[str, Any]) -> str:
    """One line: the run is unfinished and how much of it the CSVs hold."""
    status = f" (status {state['status']})" if state.get("status") else ""
    if "replications" in state:
        counts, total = state["exported"], state["replications"]
        values = sorted(set(counts.values())) or [0]
        if len(values) == 1:
            what = f"{values[0]} of {total} replications per design"
        elif len(counts) <= 4:
            each = ", ".join(f"{n} ({name})" for name, n in counts.items())
            what = f"{each} of {total} replications per design"
        else:
            what = f"{values[0]}-{values[-1]} of {total} replications per design"
    elif "runs" in state:
        what = f"{state['exported']} of {state['runs']} runs"
    else:
        what = "what is on disk"
    finish = (
        "run the same sweep again"
        if str(state.get("tool", "")).startswith("ccsim sweep")
        else "add --resume to the command that made it"
    )
    return (
        f"{root} is an unfinished run{status}: exporting {what}; to finish it, {finish}, then "
        f"export again ({RECORD} records this)"
    )


def _record(root: Path, state: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "tool": "ccsim export",
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": str(root.resolve()),
        "run": {
            "complete": state["complete"],
            "status": state["status"],
            **{k: state[k] for k in ("replications", "runs", "exported") if k in state},
        },
        "files": files,
    }
