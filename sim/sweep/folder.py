"""A sweep's results folder: its part files, what kind of folder it is, clearing ccsim's own files.

A sweep folder may share a parent folder, or even the folder itself, with the user's own files
(notes, other figures): ``--overwrite`` therefore removes only the files a sweep or a sensitivity
analysis writes (:func:`clear_outputs`, :data:`SWEEP_OUTPUTS`), never the whole folder.
``ccsim run`` results use the same file names (``manifest.json``, ``runs/``, ``figures/``) for
other contents, so a folder holding one is refused rather than cleared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.results import (
    LOCK_NAME,
    OutputError,
    RunError,
    check_writable,
    folder_lock,
    remove_outputs,
    versions,
    write_json,
    write_parquet,
)
from sim.sweep.spec import SweepError, SweepSpec, point_values
from sim.sweep.uncertainty import design_roles, policy_state

SWEEP_TOOLS = ("ccsim sweep", "ccsim sensitivity")
"""Values of ``tool`` accepted as a sweep's ``manifest.json`` (ccsim writes ``ccsim sweep`` for
both commands; its ``cli.command`` says which made the folder)."""

SWEEP_OUTPUTS: tuple[str, ...] = (
    "manifest.json",
    "design.parquet",
    "runs/part-*.parquet",
    "series/part-*.parquet",
    "sweep.md",
    "figures/heatmap_*.png",
    "figures/partial_dependence_*.png",
    "sensitivity.md",
    "sensitivity_*.parquet",
    "figures/sensitivity_*.png",
    "robustness_*.parquet",
    "figures/regret_*.png",
    # records of `ccsim export` (remove_outputs also deletes the CSVs they list)
    "export.json",
    "csv/export.json",
)
"""What a sweep or a sensitivity analysis writes, as globs relative to its folder: all that
``--overwrite`` deletes (with :func:`sim.results.remove_outputs`, which also takes their
temporary files, the CSVs a ``ccsim export`` record lists and the sub-folders this empties)."""
SWEEP_WRITES: tuple[str, ...] = (
    "design.parquet",
    "sweep.md",
    "figures/heatmap_*.png",
    "figures/partial_dependence_*.png",
)
"""Files ``ccsim sweep`` writes that a user might also keep: a folder without a manifest
holding one is refused unless ``--overwrite`` (:func:`sim.checkpoint.refuse_user_files`)."""
ROBUSTNESS_WRITES: tuple[str, ...] = ("robustness_*.parquet", "figures/regret_*.png")
"""What ``ccsim sweep`` also writes for a sweep with uncertainties (see :data:`SWEEP_WRITES`)."""
SENSITIVITY_WRITES: tuple[str, ...] = (
    "design.parquet",
    "sensitivity.md",
    "sensitivity_*.parquet",
    "figures/sensitivity_*.png",
)
"""Files ``ccsim sensitivity`` writes (see :data:`SWEEP_WRITES`)."""
_PART = re.compile(r"part-\d{7}(-r\d{8})?\.parquet")  # a sweep's part (a run's: part-d000-r...)


@contextmanager
def locked_folder(out_dir: Path) -> Iterator[None]:
    """Create ``out_dir`` if needed and hold its lock for the block: the lock of ``ccsim run``
    and ``ccsim compare`` (:func:`sim.results.folder_lock`, ``.ccsim.lock``), so no two ccsim
    commands write one folder at once. The lock file is removed when the block ends; the lock
    itself dies with the process, however it ends.

    Raises:
        OutputError: ``out_dir`` cannot be created or written to, or another process holds
            its lock (nothing in the folder is touched).
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    with folder_lock(out_dir):
        try:
            yield
        finally:  # only the holder removes it: a refused command leaves the other's lock be
            (out_dir / LOCK_NAME).unlink(missing_ok=True)


def part_path(out_dir: Path, first_point: int, first_rep: int | None = None) -> Path:
    """The Parquet part of points ``first_point ...``: ``runs/part-0000012.parquet``, or
    ``runs/part-0000012-r00000400.parquet`` when a point's replications are split in parts."""
    rep = "" if first_rep is None else f"-r{first_rep:08d}"
    return Path(out_dir) / "runs" / f"part-{first_point:07d}{rep}.parquet"


def series_part(runs_part: Path) -> Path:
    """The monthly series part of a runs part: ``runs/part-0000012.parquet`` ->
    ``series/part-0000012.parquet`` (the same runs, one row per month)."""
    return Path(runs_part).parent.parent / "series" / Path(runs_part).name


SERIES_BYTES_PER_MONTH = 90
SERIES_PART_BYTES = 19_000
"""Bytes on disk of the monthly series: about ``SERIES_PART_BYTES`` a part (the Parquet
metadata of 31 columns) plus ``SERIES_BYTES_PER_MONTH`` a month of each run (zstd; measured on
the baseline community, 48 months: 4.3 kB a run in parts of 100 runs, 4.8 kB in parts of 25,
8.9 kB in parts of 4, 23 kB in parts of one run)."""


def note_series(runs: int, parts: int, data: dict[str, Any]) -> None:
    """Say on stderr what ``series = true`` costs for ``runs`` runs in ``parts`` parts of the
    base scenario ``data`` (a raw dict, as :func:`sim.sweep.spec.base_data` gives; a point that
    changes the horizon changes the size)."""
    import sys

    from sim.loader import build_scenario

    months = build_scenario(data, "sweep base").time.horizon
    size = parts * SERIES_PART_BYTES + runs * months * SERIES_BYTES_PER_MONTH
    print(
        f"note: series = true: saving {months} months of series for each of {runs} runs in "
        f"series/part-*.parquet (about {_size(size)} more on disk, 10-15% more run time)",
        file=sys.stderr,
    )


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # not reached


def folder_kind(out_dir: Path) -> str:
    """``"none"`` (no manifest.json), ``"sweep"``, ``"run"`` (a ``ccsim run`` result) or
    ``"other"`` (a manifest.json that is not ccsim's, or unreadable)."""
    path = Path(out_dir) / "manifest.json"
    if not path.is_file():
        return "none"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "other"
    tool = data.get("tool") if isinstance(data, dict) else None
    if tool in SWEEP_TOOLS:
        return "sweep"
    return "run" if tool == "ccsim" else "other"


def refuse_foreign(out_dir: Path, what: str = "use it") -> None:
    """Raise unless ``out_dir`` holds nothing but (possibly) a sweep and the user's own files.

    Raises:
        SweepError: the folder holds a ``ccsim run`` result or another program's manifest.json.
    """
    kind = folder_kind(out_dir)
    if kind == "run":
        raise SweepError(
            f"{out_dir}: holds a `{_run_command(out_dir)}` result, not a sweep; refusing to "
            f"{what}; choose another --out"
        )
    if kind == "other":
        raise SweepError(
            f"{out_dir}: holds a manifest.json that is not a sweep's; refusing to {what}; "
            "choose another --out"
        )


def _run_command(out_dir: Path) -> str:
    """``ccsim run``, ``ccsim compare`` or ``ccsim rerun``: what wrote a run's manifest."""
    try:
        argv = json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))["command"]
        sub = argv[1] if isinstance(argv, list) and len(argv) > 1 else "run"
    except (OSError, ValueError, KeyError, TypeError):
        sub = "run"
    return f"ccsim {sub if sub in ('compare', 'rerun') else 'run'}"


def has_parts(out_dir: Path) -> bool:
    """Whether ``out_dir/runs`` (or ``out_dir/series``) holds any sweep part."""
    return any(
        sub.is_dir() and any(_PART.fullmatch(p.name) for p in sub.glob("part-*.parquet"))
        for sub in (Path(out_dir) / "runs", Path(out_dir) / "series")
    )


def clear_outputs(out_dir: Path) -> int:
    """Delete the files a sweep or sensitivity analysis wrote in ``out_dir``
    (:data:`SWEEP_OUTPUTS`), and nothing else.

    Sub-folders ``runs/`` and ``figures/`` are removed only if that leaves them empty; files the
    user put there (and the folder itself) stay.

    Returns:
        The number of files and emptied sub-folders removed.

    Raises:
        SweepError: ``out_dir`` holds a ``ccsim run`` result or another manifest.json (nothing
            is deleted), or a file cannot be removed.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return 0
    refuse_foreign(out_dir, "delete it")
    try:
        removed = remove_outputs(out_dir, SWEEP_OUTPUTS)
    except OSError as exc:
        raise SweepError(
            f"--out {out_dir}: cannot remove the previous sweep's files "
            f"({exc.strerror or exc}: {exc.filename})"
        ) from exc
    return len(removed)


def saved_runs(out_dir: Path) -> int:
    """Rows (runs) in the finished parts of ``out_dir`` (read from the Parquet footers)."""
    runs = Path(out_dir) / "runs"
    if not runs.is_dir():
        return 0
    return sum(
        pq.read_metadata(p).num_rows for p in runs.glob("part-*.parquet") if _PART.fullmatch(p.name)
    )


def prepare_folder(
    spec: SweepSpec,
    design: np.ndarray,
    out_dir: Path,
    chunking: tuple[int, int],
    command: dict[str, Any] | None,
    explicit: bool = False,
) -> tuple[int, int]:
    """Write ``design.parquet`` and ``manifest.json`` in a new folder, or check that the
    folder holds the same sweep (so its finished parts can be kept).

    Args:
        spec: the sweep.
        design: its sample (:func:`sim.sweep.spec.make_design`).
        out_dir: the results folder (exists and is writable).
        chunking: (points per part, replications per part) for a new folder.
        command: the command line, recorded as ``cli`` in a new manifest.
        explicit: the points per part were chosen by the user (``--chunk-points``); else a
            folder started with other parts is finished in its own parts.

    Returns:
        The chunking to use: ``chunking``, or the folder's own when resuming.

    Raises:
        SweepError: as :func:`check_folder`.
        OutputError: the files cannot be written.
    """
    saved = check_folder(spec, out_dir, chunking[0] if explicit else None)
    if saved is not None:
        return saved
    _write_new_folder(spec, design, out_dir, chunking, command, spec.fingerprint())
    return chunking


def check_folder(
    spec: SweepSpec, out_dir: Path, chunk_points: int | None = None
) -> tuple[int, int] | None:
    """Refuse ``out_dir`` (need not exist) as :func:`prepare_folder` would, writing nothing,
    so a command can refuse before it says anything; ``chunk_points``: ``--chunk-points`` if
    given. Returns the chunking of this sweep saved in ``out_dir``, or ``None`` for no sweep.

    Raises:
        SweepError: the folder holds a ``ccsim run`` result or another program's manifest,
            another sweep, this one in parts of another ``--chunk-points``, or parts without a
            manifest.
    """
    out_dir = Path(out_dir)
    refuse_foreign(out_dir)
    if folder_kind(out_dir) == "sweep":
        return _resumed_chunking(spec, out_dir, chunk_points)
    if has_parts(out_dir):
        raise SweepError(
            f"{out_dir}: holds sweep parts (runs/ or series/part-*.parquet) but no "
            "manifest.json; use another --out, or --overwrite to replace them"
        )
    return None


def _resumed_chunking(spec: SweepSpec, out_dir: Path, chunk_points: int | None) -> tuple[int, int]:
    """The chunking of the same sweep recorded in ``out_dir``, after checking it may resume."""
    manifest_path = out_dir / "manifest.json"
    old = json.loads(manifest_path.read_text(encoding="utf-8"))
    if old.get("fingerprint") != spec.fingerprint():
        raise SweepError(
            f"{out_dir}: holds results of a different sweep ({_what_differs(old, spec)}); use "
            "another --out, or --overwrite to replace them"
        )
    # manifests written before points were split in parts have no chunk_reps: whole points
    saved = (old.get("chunk_points"), old.get("chunk_reps", spec.replications))
    if chunk_points is not None and saved[0] != chunk_points:
        raise SweepError(
            f"{out_dir}: holds this sweep saved with --chunk-points {saved[0]}; use "
            f"--chunk-points {saved[0]} (or leave it out) to finish it, or --overwrite"
        )
    if not all(isinstance(v, int) and v >= 1 for v in saved):
        raise SweepError(f"{manifest_path}: chunk_points / chunk_reps must be whole numbers")
    return saved[0], saved[1]


def _what_differs(old: dict[str, Any], spec: SweepSpec) -> str:
    """Which settings of the recorded sweep differ from ``spec`` (for the refusal), e.g.
    ``settings that differ: seed``; a changed ``outcomes`` list says why it needs new runs."""
    recorded = old.get("spec")
    if not isinstance(recorded, dict):
        return "another file, method or settings"
    new = json.loads(json.dumps(spec.record(), default=str))
    skip = ("description", "source", "thresholds")  # thresholds only decide the report
    keys = sorted(
        k for k in set(new) | set(recorded) if k not in skip and new.get(k) != recorded.get(k)
    )
    if not keys:
        return "another file, method or settings"
    text = f"settings that differ: {', '.join(keys)}"
    if len(keys) > 2:  # another sweep altogether: the hints below would be beside the point
        return text
    if "outcomes" in keys:
        text += (
            "; a sweep keeps only the outcomes it was run with, so another outcome needs new "
            "runs: leave out outcomes to keep every metric"
        )
    if "series" in keys:
        text += (
            "; the folder's runs were saved with monthly series (series = true): put it back "
            "in the sweep file to finish or report them"
            if recorded.get("series")
            else "; the folder's runs were saved without monthly series: series = true needs "
            "new runs"
        )
    return text


def _write_new_folder(
    spec: SweepSpec,
    design: np.ndarray,
    out_dir: Path,
    chunking: tuple[int, int],
    command: dict[str, Any] | None,
    fingerprint: str,
) -> None:
    """Write ``design.parquet`` and an incomplete ``manifest.json`` for a new sweep."""
    # the values that were run: integer keys rounded, text levels as text (not the raw sample)
    frame = pd.DataFrame([point_values(spec.columns, row) for row in design], columns=spec.names)
    frame.insert(0, "point", np.arange(len(design)))
    if spec.uncertainties:  # which policy in which state of the world; which column is which
        policy, state = policy_state(len(design), spec.scenarios or 1)
        frame.insert(1, "policy", policy)
        frame.insert(2, "state", state)
        frame.attrs = design_roles(spec)
    manifest = {
        "tool": "ccsim sweep",  # also for ccsim sensitivity (cli.command says which)
        "spec": spec.record(),
        "fingerprint": fingerprint,
        "points": len(design),
        "runs": len(design) * spec.replications,
        "chunk_points": chunking[0],
        "chunk_reps": chunking[1],
        "cli": command,
        "versions": versions(),
        "complete": False,
    }
    try:
        write_parquet(frame, out_dir / "design.parquet")
        write_json(manifest, out_dir / "manifest.json")
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from exc


def finish_folder(out_dir: Path, command: dict[str, Any] | None) -> None:
    """Mark the manifest complete and record the command (outcomes of the same command add
    up, so ``ccsim rerun`` can name every outcome analysed)."""
    path = out_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["complete"] = True
    old = manifest.get("cli") if isinstance(manifest.get("cli"), dict) else None
    if command is not None:
        same = old is not None and all(
            old.get(k) == command.get(k) for k in ("command", "method", "samples")
        )
        before = list(old.get("outcomes") or []) if same and old is not None else []
        outcomes = list(dict.fromkeys([*before, *command.get("outcomes", [])]))
        manifest["cli"] = {**command, "outcomes": outcomes}
    try:
        write_json(manifest, path)
    except OSError as exc:
        raise RunError(
            f"cannot write {path} ({exc.strerror or exc}); every run is saved in {out_dir}; "
            "run the same command again"
        ) from exc
