"""``ccsim export``: a results folder's Parquet tables as CSV, for spreadsheets."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.common import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim export``."""
    p = sub.add_parser(
        "export",
        help="export a results folder's Parquet tables to CSV (for spreadsheets)",
        description="Write every Parquet table of a results folder as CSV (folders of chunk "
        "parts, e.g. series/, become one CSV each), into DIR/csv/ or beside each file.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a results folder")
    p.add_argument("--csv", action="store_true", required=True, help="export as CSV")
    p.add_argument(
        "--beside",
        action="store_true",
        help="write each CSV beside its Parquet file instead of into DIR/csv/",
    )


def run(args: argparse.Namespace) -> int:
    """``ccsim export DIR --csv``: write the CSVs and list them."""
    from sim.export import EXCEL_MAX_ROWS, export_csv

    try:
        written = export_csv(args.dir, into_subdir=not args.beside)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    for path, rows in written:
        note = "  (more rows than one Excel sheet holds)" if rows >= EXCEL_MAX_ROWS else ""
        print(f"{path}  {rows} rows{note}")
    return 0
