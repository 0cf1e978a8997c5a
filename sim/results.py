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

Reusing a folder removes only ccsim's own outputs (:func:`remove_outputs`); the user's stay.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.provenance import DEPENDENCIES as DEPENDENCIES  # re-exported: provenance lives there
from sim.provenance import MODEL_MODULES as MODEL_MODULES
from sim.provenance import code_fingerprint as code_fingerprint
from sim.provenance import git_state as git_state
from sim.provenance import import_closure as import_closure
from sim.provenance import source_fingerprint as source_fingerprint
from sim.provenance import versions as versions

PART_KINDS: tuple[str, ...] = ("runs", "series", "sites", "site_series")
"""Sub-folders holding one Parquet part per finished chunk (``series/`` is kept at the end)."""
LOCK_NAME = ".ccsim.lock"

_TABLES = ("runs", "series", "sites", "site_series", "comparison", "survival", "design")
CCSIM_OUTPUTS: tuple[str, ...] = (
    # the manifest, consolidated tables and reports of run, compare, rerun, sweep, sensitivity
    "manifest.json",
    *(f"{t}.parquet" for t in _TABLES),
    "sensitivity_*.parquet",
    "summary.md",
    "comparison.md",
    "sweep.md",
    "sensitivity.md",
    # chunk parts and markers (series/ parts stay after a run completes)
    *(f"{kind}/part-*.parquet" for kind in PART_KINDS),
    "chunks/part-*.json",
    # figures: sim.plots.FIGURE_NAMES, sim.compare.plots.FIGURES, sweep and sensitivity figures
    "figures/gap_curve.png",
    "figures/time_to_close.png",
    "figures/site_trajectories.png",
    "figures/compare_*.png",
    "figures/heatmap_*.png",
    "figures/partial_dependence_*.png",
    "figures/sensitivity_*.png",
    # records of `ccsim export` (the CSVs they list go too: sim.export.exported_files)
    "export.json",
    "csv/export.json",
)
"""What ccsim writes into a results folder, as globs relative to it (no ``**``): all that
:func:`remove_outputs` deletes when a folder is reused, with the CSVs an ``export.json`` lists.
Anything else there (a user's own ``runs.csv``) is the user's."""


class OutputError(ValueError):
    """The results folder cannot be used; the message is one line for the user (exit code 2)."""


class RunError(RuntimeError):
    """A run stopped part-way for a reason outside the model (a failed write, a dead worker).

    Finished chunks stay on disk and the manifest is marked incomplete, so ``--resume`` can
    finish the run once the cause is fixed. The message is one line for the user.
    """


def publish_file(tmp: str | Path, path: str | Path) -> None:
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
        publish_file(tmp, path)
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
        publish_file(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(obj: Any, path: Path) -> None:
    """Write JSON (indented, NaN-free) atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


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


def check_out_usable(out: Path) -> None:
    """Check, without creating or changing anything, that ``out`` can become a results folder.

    The cheap part of :func:`check_writable`, for commands that check ``--out`` before starting
    anything costly (a back end, a cluster): ``out`` must be a folder, or not exist below a
    folder this process may create entries in.

    Raises:
        OutputError: if ``out`` (or its nearest existing parent) is a file, or is not writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: exists and is not a folder")
    where = out
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise OutputError(f"--out {out}: cannot write there ({where} is a file, not a folder)")
    if not os.access(where, os.W_OK | os.X_OK):
        raise OutputError(f"--out {out}: cannot write there (permission denied on {where})")


def remove_outputs(out: Path, patterns: Iterable[str] = CCSIM_OUTPUTS) -> list[Path]:
    """Delete ccsim's own outputs from a results folder, and nothing else.

    Removes every file matching one of ``patterns`` (globs relative to ``out``), the temporary
    files that ccsim's atomic writes of such files leave when killed (``.NAME.tmp``,
    ``.NAME.*.tmp``), the previous ``ccsim export`` (it would describe data that is gone:
    :func:`sim.export.exported_files`), and the sub-folders this emptied. A user's files stay,
    as do sub-folders still holding any. Use it whenever a folder is reused (``--overwrite``, a
    fresh run of the same experiment), holding :func:`folder_lock`.

    Args:
        out: the results folder (need not exist).
        patterns: what to delete (default :data:`CCSIM_OUTPUTS`; or a command's own list).

    Returns:
        The files and folders removed, sorted.
    """
    from sim.export import exported_files

    out = Path(out)
    if not out.is_dir():
        return []
    removed: list[Path] = []
    folders: set[Path] = set()
    for path in exported_files(out):  # before the records go
        path.unlink(missing_ok=True)
        removed.append(path)
        folders.update(f for f in path.parents if f != out and out in f.parents)
    for pattern in patterns:
        rel = Path(pattern)
        temps = [(rel.parent / f".{rel.name}{end}").as_posix() for end in (".tmp", ".*.tmp")]
        for path in [p for glob in (pattern, *temps) for p in out.glob(glob)]:
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
                if path.parent != out:
                    folders.add(path.parent)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):  # still holds something that is not ccsim's
            folder.rmdir()
            removed.append(folder)
    return sorted(removed)


def _megabytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n / 1e6, 0.1):.1f} MB"


def check_free_space(out: Path, need_bytes: float) -> None:
    """Refuse to start when the disk holding ``out`` has less than ``need_bytes`` free.

    ``out`` need not exist yet: the disk of its nearest existing parent is asked.

    Raises:
        OutputError: naming the estimated need and the free space (both in MB or GB).
    """
    where = Path(out)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:  # cannot tell: let the writes themselves report a full disk
        return
    if free < need_bytes:
        raise OutputError(
            f"--out {out}: not enough free disk space: this run needs about "
            f"{_megabytes(need_bytes)}, {_megabytes(free)} free; free some space or choose "
            "another --out"
        )


def _locked(out: Path, fh: Any) -> OutputError:
    """The error for a folder whose lock file ``fh`` (open) another process holds."""
    fh.seek(0)
    holder = fh.read().strip() or "?"
    return OutputError(
        f"--out {out}: another ccsim command (pid {holder}) is writing to this folder; "
        "wait for it to finish or choose another --out"
    )


def check_not_locked(out: Path) -> None:
    """Refuse ``out`` now if another process holds its :func:`folder_lock`, taking no lock and
    creating nothing (the lock is tried and released at once), so that checks made before a
    run (``sim.experiment.check_out_dir``) give the lock's message rather than describe a
    folder that is still being written (e.g. as an unfinished run).

    Raises:
        OutputError: another process holds the lock.
    """
    path = Path(out) / LOCK_NAME
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        return  # no lock file (or unreadable): folder_lock reports what it finds
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _locked(out, fh) from None
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


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
            raise _locked(out, fh) from None
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
