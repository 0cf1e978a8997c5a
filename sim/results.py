"""Result store: Parquet (zstd) tables and a JSON manifest, written atomically.

Layout of a results folder (readable from pandas, polars, R arrow, duckdb)::

    runs.parquet            one row per (design, replication): outcome metrics
    series/part-*.parquet   monthly series, long form (design, replication, month, ...)
    sites.parquet           per-site finals of every replication
    site_series.parquet     monthly adherence of every site, replication 0 of each design
    manifest.json           resolved scenarios, root seed, versions, git commit, timings, status
    figures/*.png, summary.md

Every file is written to a temporary name in the same folder and renamed into place, so a
reader never sees a half-written file under its final name. While a run is under way (or after it
was interrupted) the folder also holds ``runs/``, ``sites/``, ``site_series/`` parts and
``chunks/`` markers, one per finished chunk; they are consolidated and removed when it completes.

Problems with the folder itself (not a folder, not writable, too little free space, locked by
another run, holding another experiment) raise :class:`OutputError`; a write that fails part-way
through a run raises :class:`RunError`. Both carry a one-line message for the user.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DEPENDENCIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "joblib", "seaborn")
PART_KINDS: tuple[str, ...] = ("runs", "series", "sites", "site_series")
"""Sub-folders holding one Parquet part per finished chunk (``series/`` is kept at the end)."""
LOCK_NAME = ".ccsim.lock"


class OutputError(ValueError):
    """The results folder cannot be used; the message is one line for the user (exit code 2)."""


class RunError(RuntimeError):
    """A run stopped part-way for a reason outside the model (a failed write, a dead worker).

    Finished chunks stay on disk and the manifest is marked incomplete, so ``--resume`` can
    finish the run once the cause is fixed. The message is one line for the user.
    """


def _publish(tmp: str | Path, path: str | Path) -> None:
    """Give a finished temporary file the usual permissions (``mkstemp`` makes it private,
    0600) and rename it into place."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as zstd Parquet, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(obj: Any, path: Path) -> None:
    """Write JSON (indented, NaN-free) atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def part_replication(path: Path) -> int:
    """First replication of a chunk part, from its name (``part-d000-r000025.parquet`` -> 25)."""
    return int(path.name.split("-r", 1)[1].split(".", 1)[0])


def read_series(out_dir: Path, max_replication: int | None = None) -> pd.DataFrame:
    """Monthly series parts of a results folder as one DataFrame.

    Args:
        out_dir: the results folder.
        max_replication: read only the parts (chunks) starting below this replication, to keep
            memory small for very long runs; ``None`` reads every part.

    Returns:
        Rows sorted by design, replication and month (empty if there are no parts).
    """
    parts = sorted((Path(out_dir) / "series").glob("part-*.parquet"))
    if max_replication is not None:
        parts = [p for p in parts if part_replication(p) < max_replication]
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True).sort_values(
        ["design", "replication", "month"], ignore_index=True
    )


def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the source tree the package runs from (``None`` outside git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return {"commit": commit, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def versions() -> dict[str, str | None]:
    """Versions of Python, this package and its main dependencies."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("ccsim", *DEPENDENCIES):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def check_writable(out: Path) -> None:
    """Create ``out`` if needed and prove a file can be written there.

    Raises:
        OutputError: if ``out`` is a file, or cannot be created or written to.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from exc


def _megabytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n / 1e6, 0.1):.1f} MB"


def check_free_space(out: Path, need_bytes: float) -> None:
    """Refuse to start when the disk holding ``out`` has less than ``need_bytes`` free.

    Raises:
        OutputError: naming the estimated need and the free space (both in MB or GB).
    """
    try:
        free = shutil.disk_usage(out).free
    except OSError:  # cannot tell: let the writes themselves report a full disk
        return
    if free < need_bytes:
        raise OutputError(
            f"--out {out}: not enough free disk space: this run needs about "
            f"{_megabytes(need_bytes)}, {_megabytes(free)} free; free some space or choose "
            "another --out"
        )


@contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on a results folder while a run writes to it.

    The lock (``fcntl.flock`` on ``.ccsim.lock``) is released by the kernel when the process
    ends, however it ends, so a killed run never leaves a stale lock. On systems without
    ``fcntl`` the folder is not locked.

    Raises:
        OutputError: if another process holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = Path(out) / LOCK_NAME
    try:
        fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from exc
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise OutputError(
                f"--out {out}: another ccsim run (pid {holder}) is writing to this folder; "
                "wait for it to finish or choose another --out"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()


def clean_temp_files(out: Path) -> int:
    """Remove temporary files left by a killed writer in ``out`` and its part folders.

    Only call this while holding :func:`folder_lock`. Returns the number of files removed.
    """
    out = Path(out)
    removed = 0
    for folder in (out, *(out / kind for kind in (*PART_KINDS, "chunks"))):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


ROW_GROUP_ROWS = 65_536  # rows per Parquet row group of a consolidated table


def consolidate_parts(parts: Iterable[Path], dest: Path) -> int:
    """Concatenate Parquet parts, in the order given, into one file written atomically.

    Parts are streamed (memory holds at most :data:`ROW_GROUP_ROWS` rows, not the whole table)
    and written as row groups of about that size, so reading the file back stays cheap (one row
    group per 25-replication chunk made a 100,000-row table cost ~1 GB to read); a part whose
    columns differ from the first part's is cast to them.

    Returns:
        Rows written; with no parts nothing is written and any old ``dest`` is removed.

    Raises:
        OSError: if a write fails (the temporary file is removed, ``dest`` is untouched).
    """
    parts = list(parts)
    if not parts:
        Path(dest).unlink(missing_ok=True)
        return 0
    fd, tmp = tempfile.mkstemp(dir=Path(dest).parent, prefix=f".{Path(dest).name}.", suffix=".tmp")
    os.close(fd)
    rows = 0
    try:
        schema = pq.read_schema(parts[0])
        buffer: list[pa.Table] = []
        buffered = 0
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part in parts:
                table = pq.read_table(part)
                if not table.schema.equals(schema, check_metadata=False):
                    table = table.select(schema.names).cast(schema)
                buffer.append(table.replace_schema_metadata(schema.metadata))
                buffered += table.num_rows
                rows += table.num_rows
                if buffered >= ROW_GROUP_ROWS:  # few large row groups: cheap to read back
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, buffered = [], 0
            if buffer:
                writer.write_table(pa.concat_tables(buffer))
        _publish(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


def read_parts(parts: Iterable[Path]) -> pd.DataFrame:
    """Parquet parts as one DataFrame, in the order given (empty if there are none)."""
    frames = [pd.read_parquet(p) for p in parts]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_manifest(path: Path) -> dict[str, Any]:
    """Read a ``manifest.json`` (or the one inside a results folder).

    Raises:
        OutputError: if it is missing, unreadable, not JSON or not a ccsim manifest.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{path}: no such manifest file") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path}: not a valid manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("tool") != "ccsim" or "designs" not in data:
        raise OutputError(f"{path}: not a ccsim manifest (no 'tool' = 'ccsim' and 'designs')")
    return data
