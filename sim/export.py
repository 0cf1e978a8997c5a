"""Export a results folder's Parquet tables to CSV for spreadsheet users.

Every ``*.parquet`` file becomes a CSV of the same name; a folder of chunk parts
(``series/part-*.parquet``, ``runs/part-*.parquet``) becomes one CSV named after the folder
(``series.csv``), written part by part so memory stays flat. CSVs go beside their Parquet
files or into ``DIR/csv/`` (same relative layout). Writes are atomic.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet (header included)


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
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append((target, rows))
    return written
