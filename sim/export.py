"""Export a results folder's Parquet tables to CSV for spreadsheet users.

Every ``*.parquet`` file becomes a CSV of the same name; a folder of chunk parts
(``series/part-*.parquet``, ``runs/part-*.parquet``) becomes one CSV named after the folder
(``series.csv``), written part by part so memory stays flat. CSVs go beside their Parquet
files or into ``DIR/csv/`` (same relative layout). Writes are atomic.

``ccsim export`` records what it wrote in ``export.json`` beside the CSVs (:data:`RECORD`);
:func:`exported_files` reads those records, so that reusing or finishing a results folder
removes exactly the CSVs ccsim wrote, never a user's own ``runs.csv``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from sim.results import publish_file

EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet (header included)
RECORD = "export.json"
"""The export's own record, in the folder that holds the CSVs (``DIR/csv/`` or ``DIR``)."""
RECORD_FORMAT = "ccsim-csv-export/1"


def recorded_csvs(dest: Path) -> list[Path] | None:
    """The CSVs listed in ``dest/export.json``, or ``None`` when there is no such record of
    ``ccsim export`` (missing, unreadable, another format). Only paths inside ``dest``."""
    dest = Path(dest)
    try:
        record = json.loads((dest / RECORD).read_text(encoding="utf-8"))
        if record.get("format") != RECORD_FORMAT:
            return None
        names = [str(f["csv"]) for f in record["files"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    base = dest.resolve()
    paths = [dest / name for name in names if name.endswith(".csv")]
    return [p for p in paths if p.resolve().is_relative_to(base)]  # never outside dest


def exported_files(root: Path) -> list[Path]:
    """What ``ccsim export`` wrote into results folder ``root`` and still exists: the CSVs
    listed in ``root/csv/export.json`` and ``root/export.json`` (``--beside``), and those
    records themselves. A CSV no record lists is not ccsim's and is not returned."""
    found: list[Path] = []
    for dest in (Path(root) / "csv", Path(root)):
        listed = recorded_csvs(dest)
        if listed is None:
            continue
        found += [p for p in listed if p.is_file()]
        found.append(dest / RECORD)
    return found


def csv_sources(root: Path) -> dict[Path, list[Path]]:
    """Parquet sources of a results folder ``root``, grouped by the CSV each group becomes
    (CSV path relative to ``root`` -> its Parquet files, sorted); ``csv/`` and hidden paths
    are skipped."""
    groups: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root)
        if rel.parts[0] == "csv" or any(p.startswith(".") for p in rel.parts):
            continue
        if path.name.startswith("part-"):
            target = rel.parent.with_suffix(".csv")
        else:
            target = rel.with_suffix(".csv")
        groups.setdefault(target, []).append(path)
    return groups


def export_csv(root: Path, into_subdir: bool = True) -> list[tuple[Path, int]]:
    """Write a CSV for every Parquet table (or folder of parts) under ``root``.

    Args:
        root: a results folder.
        into_subdir: write into ``root/csv/`` (default) rather than beside each Parquet file.

    Returns:
        ``(csv path, data rows)`` per CSV written, in path order.

    Raises:
        FileNotFoundError: if ``root`` is not a folder or holds no Parquet file.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    groups = csv_sources(root)
    if not groups:
        raise FileNotFoundError(f"{root}: no Parquet files to export")
    written = []
    for rel, sources in groups.items():
        target = (root / "csv" / rel) if into_subdir else (root / rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        rows = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                for i, src in enumerate(sources):
                    frame = pd.read_parquet(src)
                    frame.to_csv(fh, index=False, header=(i == 0))
                    rows += len(frame)
            publish_file(tmp, target)  # mkstemp's 0600 -> the umask's usual permissions
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append((target, rows))
    return written
