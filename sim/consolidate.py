"""Consolidating a results folder's chunk parts, and reading them back.

A run writes one Parquet part per finished chunk (``runs/``, ``series/``, ``sites/``,
``site_series/``; :mod:`sim.diskrun`). When it completes, :func:`finish_tables` turns the
``runs`` and ``sites`` parts into one file each (streamed in ~65,536-row groups:
:func:`consolidate_parts`), ``site_series`` into one sorted file, and returns the tables the
caller keeps in memory. Each part is read once: the parts kept in memory are the ones just
consolidated, not read again from the finished file, and the four tables are handled on four
threads (pyarrow reads, decompresses and writes outside the GIL), because this work is serial
at the end of every run, whatever ``--jobs`` says (docs/performance.md, "Eighth day").

Every table comes out exactly as the one-part-at-a-time pandas reading gave it (same values,
dtypes, column order and ``RangeIndex``): parts with the same Arrow schema, pandas metadata
included, are concatenated as Arrow tables and converted once, which pandas does column by
column exactly as it converts each part; parts whose schemas differ (a column empty in one
chunk) are read and concatenated by pandas as before.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.results import publish_file, write_parquet

__all__ = [
    "ROW_GROUP_ROWS",
    "consolidate_parts",
    "finish_tables",
    "part_replication",
    "read_parts",
    "read_series",
]

ROW_GROUP_ROWS = 65_536  # rows per Parquet row group of a consolidated table

SERIES_ORDER = ["design", "replication", "month"]
SITE_SERIES_ORDER = ["design", "month", "site"]


def part_replication(path: Path) -> int:
    """First replication of a chunk part, from its name (``part-d000-r000025.parquet`` -> 25)."""
    return int(path.name.split("-r", 1)[1].split(".", 1)[0])


def consolidate_parts(
    parts: Iterable[Path], dest: Path, keep: Callable[[Path], bool] | None = None
) -> int | tuple[int, pd.DataFrame]:
    """Concatenate Parquet parts, in the order given, into one file written atomically.

    Parts are streamed (memory holds at most :data:`ROW_GROUP_ROWS` rows, not the whole table)
    and written as row groups of about that size, so reading the file back stays cheap (one row
    group per 25-replication chunk made a 100,000-row table cost ~1 GB to read); a part whose
    columns differ from the first part's is cast to them.

    Args:
        parts: the part files, in the order their rows go into ``dest``.
        dest: the consolidated file (replaced atomically).
        keep: if given, the parts for which ``keep(part)`` is true are also returned, as one
            DataFrame, exactly as reading them back from ``dest`` would give (only those parts
            are held in memory).

    Returns:
        Rows written (with no parts nothing is written and any old ``dest`` is removed); with
        ``keep``, ``(rows, kept DataFrame)`` (an empty ``pd.DataFrame()`` if none is kept).

    Raises:
        OSError: if a write fails (the temporary file is removed, ``dest`` is untouched).
    """
    parts = list(parts)
    rows, kept = _consolidate(parts, Path(dest), keep or (lambda _part: False))
    if keep is None:
        return rows
    return rows, (pa.concat_tables(kept).to_pandas() if kept else pd.DataFrame())


def _consolidate(
    parts: list[Path], dest: Path, keep: Callable[[Path], bool]
) -> tuple[int, list[pa.Table]]:
    """:func:`consolidate_parts`: rows written and the kept parts' tables (cast to the file's
    schema, with its pandas metadata)."""
    if not parts:
        dest.unlink(missing_ok=True)
        return 0, []
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    rows, kept = 0, []
    try:
        schema = pq.read_schema(parts[0])
        buffer: list[pa.Table] = []
        buffered = 0
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part in parts:
                table = pq.read_table(part)
                if not table.schema.equals(schema, check_metadata=False):
                    table = table.select(schema.names).cast(schema)
                table = table.replace_schema_metadata(schema.metadata)
                buffer.append(table)
                if keep(part):
                    kept.append(table)
                buffered += table.num_rows
                rows += table.num_rows
                if buffered >= ROW_GROUP_ROWS:  # few large row groups: cheap to read back
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, buffered = [], 0
            if buffer:
                writer.write_table(pa.concat_tables(buffer))
        publish_file(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows, kept


def read_parts(parts: Iterable[Path]) -> pd.DataFrame:
    """Parquet parts as one DataFrame, in the order given, with a fresh ``RangeIndex``
    (an empty ``pd.DataFrame()`` if there are none): the same frame as concatenating
    ``pd.read_parquet`` of each part, read with one conversion to pandas when the parts share
    their schema (pandas metadata included)."""
    tables = [pq.read_table(p) for p in parts]
    if not tables:
        return pd.DataFrame()
    first = tables[0].schema
    if all(t.schema.equals(first, check_metadata=True) for t in tables[1:]):
        return pa.concat_tables(tables).to_pandas()
    return pd.concat([t.to_pandas() for t in tables], ignore_index=True)


def series_parts(out_dir: Path, max_replication: int | None = None) -> list[Path]:
    """The ``series/`` parts of a results folder, in name order; with ``max_replication``,
    only those of chunks starting below it."""
    parts = sorted((Path(out_dir) / "series").glob("part-*.parquet"))
    if max_replication is not None:
        parts = [p for p in parts if part_replication(p) < max_replication]
    return parts


def read_series(out_dir: Path, max_replication: int | None = None) -> pd.DataFrame:
    """Monthly series parts of a results folder as one DataFrame.

    Args:
        out_dir: the results folder.
        max_replication: read only the parts (chunks) starting below this replication, to keep
            memory small for very long runs; ``None`` reads every part.

    Returns:
        Rows sorted by design, replication and month (empty if there are no parts).
    """
    series = read_parts(series_parts(out_dir, max_replication))
    if series.empty:
        return series
    return series.sort_values(SERIES_ORDER, ignore_index=True)


def finish_tables(
    out: Path, names: Sequence[str], firsts: Sequence[int], limit: int
) -> dict[str, pd.DataFrame]:
    """Consolidate a completed run's parts in ``out`` and return its in-memory tables.

    Writes ``runs.parquet`` and ``sites.parquet`` (the parts in the order of ``names``) and
    ``site_series.parquet`` (sorted by design, month and site; not written when there are no
    rows). The four tables are handled on four threads.

    Args:
        out: the results folder.
        names: the chunk part names (``part-d000-r000000.parquet``), in the plan's order.
        firsts: each chunk's first replication (same length as ``names``).
        limit: only chunks starting below this replication are kept in memory for ``sites``
            and ``series`` (``runs`` and ``site_series`` are kept whole).

    Returns:
        ``{"runs", "sites", "site_series", "series"}`` DataFrames (empty when there are no
        rows); ``series`` sorted by design, replication and month.

    Raises:
        OSError: a read or write failed (a half-written file never takes a final name).
    """
    kept = {out / "sites" / n for n, lo in zip(names, firsts, strict=True) if lo < limit}

    def runs() -> pd.DataFrame:
        parts = [p for p in (out / "runs" / n for n in names) if p.is_file()]
        return consolidate_parts(parts, out / "runs.parquet", keep=lambda _part: True)[1]

    def sites() -> pd.DataFrame:
        parts = [p for p in (out / "sites" / n for n in names) if p.is_file()]
        return consolidate_parts(parts, out / "sites.parquet", keep=kept.__contains__)[1]

    def site_series() -> pd.DataFrame:
        frame = read_parts(sorted((out / "site_series").glob("part-*.parquet")))
        if frame.empty:
            return frame
        frame = frame.sort_values(SITE_SERIES_ORDER, ignore_index=True)
        write_parquet(frame, out / "site_series.parquet")
        return frame

    jobs = {"runs": runs, "sites": sites, "site_series": site_series}
    jobs["series"] = lambda: read_series(out, max_replication=limit)
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="ccsim-finish") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}
