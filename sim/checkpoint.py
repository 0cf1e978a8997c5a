"""A run's state on disk: what is finished, whether a folder may be reused, stop signals, failures.

:func:`sim.experiment.run_experiment` uses these helpers so that every command writing a results
folder (``run``, ``compare``, ``sweep``, ``rerun``) gets the same guarantees:

* each finished chunk leaves its Parquet parts and then a marker ``chunks/part-*.json`` (written
  last, atomically), so a chunk counts as finished only when all its parts are on disk;
* ``--resume`` skips finished chunks; it refuses a folder holding another experiment, a different
  number of replications, or outputs of other package versions or other model code (the
  manifest's ``code`` fingerprint, :func:`sim.provenance.code_fingerprint`): finishing it would mix
  them;
* a fresh run refuses a folder holding a different experiment, an unfinished run of the same
  one, or a finished run of it with another number of replications, unless ``--overwrite``;
  reusing a folder removes only ccsim's own outputs (:func:`sim.results.remove_outputs`); a
  folder without a manifest that holds a file the command would write (the user's own
  ``summary.md``, ``figures/gap_curve.png``) is refused unless ``--overwrite``
  (:func:`refuse_user_files`);
* SIGINT (Ctrl-C) and SIGTERM raise :class:`Interrupted` in the main thread, so the runner can mark
  the manifest incomplete before the process exits with ``128 + signal number``;
* a replication that raises becomes a failure record (design, replication, seeds, error) instead
  of stopping the run (:mod:`sim.failures`; its helpers are re-exported here).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.failures import TRACEBACK_LINES, describe_failure, failure_record
from sim.results import PART_KINDS, OutputError, read_manifest, remove_outputs
from sim.series import SERIES_COLUMNS

__all__ = [
    "COMPARE_WRITES",
    "RERUN_WRITES",
    "RUN_STATE",
    "RUN_WRITES",
    "TRACEBACK_LINES",
    "Interrupted",
    "check_folder",
    "clear_folder",
    "describe_failure",
    "difference",
    "estimate_bytes",
    "failure_record",
    "finished_count",
    "finished_units",
    "identity",
    "marker_path",
    "refuse_user_files",
    "stop_signals",
]

RUN_STATE: tuple[str, ...] = (
    *(f"{kind}/part-*.parquet" for kind in PART_KINDS),
    "chunks/part-*.json",
    "runs.parquet",
    "sites.parquet",
    "site_series.parquet",
)
"""Chunk parts, markers and consolidated tables: what a fresh run must not find in its folder."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM; finished chunks are on disk.

    Attributes:
        signum: the signal number (2 = SIGINT, 15 = SIGTERM).
        exit_code: ``128 + signum``, the shell convention for death by a signal.
    """

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """Process exit code for this interruption (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


@contextmanager
def stop_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` for the duration of the block.

    Only the first signal raises; later ones are ignored so that the clean-up after the first
    (marking the manifest incomplete) finishes. Signals the process ignores (``SIG_IGN``, as for
    background jobs) stay ignored. Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN:
            continue
        previous[sig] = current
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ------------------------------------------------------------------ folder reuse


def identity(manifest: dict[str, Any]) -> dict[str, Any]:
    """What makes two results folders the same experiment: designs, seed, streams, first rep."""
    return {
        "designs": [(d.get("name"), d.get("scenario")) for d in manifest.get("designs", [])],
        "root_seed": manifest.get("root_seed"),
        "crn": manifest.get("crn"),
        "first_replication": manifest.get("first_replication", 0),
    }


def difference(old: dict[str, Any], new: dict[str, Any], resume: bool) -> str | None:
    """First way in which manifest ``new`` is not the experiment of manifest ``old`` (or None).

    With ``resume`` the replications, chunk size and package versions must match too.
    """
    a, b = identity(old), identity(new)
    if [n for n, _ in a["designs"]] != [n for n, _ in b["designs"]]:
        return f"designs {[n for n, _ in a['designs']]}, not {[n for n, _ in b['designs']]}"
    for (name, old_scn), (_, new_scn) in zip(a["designs"], b["designs"], strict=True):
        if old_scn != new_scn:
            return f"design '{name}' has different parameters"
    labels = {"root_seed": "root seed", "crn": "common random numbers", "first_replication": ""}
    for key, label in labels.items():
        if a[key] != b[key]:
            return f"{label or 'first replication'} {a[key]}, not {b[key]}"
    if not resume:
        return None
    if old.get("replications") != new.get("replications"):
        return f"it was started with --reps {old.get('replications')}, not {new['replications']}"
    if old.get("chunk_size", 25) != new.get("chunk_size"):
        return f"chunk size {old.get('chunk_size', 25)}, not {new.get('chunk_size')}"
    changed = [
        f"{k} {v} -> {new['versions'].get(k)}"
        for k, v in old.get("versions", {}).items()
        if new.get("versions", {}).get(k) != v
    ]
    if changed:
        return (
            f"it was started with other package versions ({', '.join(changed)}); finishing it "
            "would mix their outputs"
        )
    was, now = (old.get("code") or {}).get("sha256"), (new.get("code") or {}).get("sha256")
    if was != now:
        return (
            f"it was started with other model code (code {_code(old)}, now {_code(new)}); "
            "finishing it would mix outputs of two code versions"
        )
    return None


def _code(manifest: dict[str, Any]) -> str:
    """``fingerprint 1a2b3c4d5e6f at git commit 0123abcd4567 (uncommitted changes)``."""
    sha = (manifest.get("code") or {}).get("sha256")
    text = f"fingerprint {sha[:12]}" if sha else "fingerprint not recorded (an older ccsim)"
    git = manifest.get("git") or {}
    if git.get("commit"):
        text += f" at git commit {str(git['commit'])[:12]}"
        text += " with uncommitted changes" if git.get("dirty") else ""
    return text


def finished_count(out: Path) -> int:
    """Replications finished (run or failed) according to the chunk markers in ``out``."""
    total = 0
    for marker in (Path(out) / "chunks").glob("part-*.json"):
        try:
            m = json.loads(marker.read_text(encoding="utf-8"))
            total += int(m["stop"]) - int(m["first"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return total


def check_folder(
    out: Path, manifest: dict[str, Any], resume: bool, overwrite: bool
) -> dict[str, Any] | None:
    """Check that ``out`` may take this run, changing nothing (safe before any work starts).

    Args:
        out: the results folder (need not exist).
        manifest: the new run's manifest (:func:`sim.experiment.new_manifest`).
        resume: finish the run recorded in ``out`` instead of starting afresh.
        overwrite: replace whatever ``out`` holds.

    Returns:
        The previous manifest when resuming, else ``None``.

    Raises:
        OutputError: nothing to resume; a different experiment, or other package versions or
            model code when resuming (:func:`difference`); a different experiment (without
            ``overwrite``); an unfinished run of the same experiment, or a finished one with
            another number of replications (without ``resume`` or ``overwrite``).
    """
    path = Path(out) / "manifest.json"
    _refuse_other_tools(out, path)
    previous = _previous_manifest(path)
    if resume:
        _check_resumable(out, previous, manifest)
        return previous
    if path.exists() and not overwrite:
        _check_startable(out, previous, manifest)
    return None


def _refuse_other_tools(out: Path, path: Path) -> None:
    """Refuse, even with ``--overwrite`` or ``--resume``, a folder whose ``manifest.json`` is
    another command's or program's: ``--overwrite`` would delete ccsim-named outputs there
    (``runs/``, ``series/``, figures) that a sweep or another tool made, and ``ccsim sweep`` /
    ``ccsim sensitivity`` results cannot be replaced by a run. A manifest that is not JSON is
    left to the checks that follow (a damaged run manifest can be overwritten).

    Raises:
        OutputError: the manifest names another tool (``ccsim sweep``...) or none.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return
    tool = data.get("tool") if isinstance(data, dict) else None
    if tool == "ccsim":
        return
    if isinstance(tool, str) and tool.startswith("ccsim "):
        what = f"a `{tool}` result"
    else:
        what = "another program's manifest.json"
    raise OutputError(
        f"--out {out}: holds {what}, not a run or comparison; ccsim will not overwrite it "
        "(not even with --overwrite): choose another --out"
    )


def _previous_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or ``None`` if there is none or it cannot be read."""
    previous: dict[str, Any] | None = None
    if path.exists():
        try:
            previous = read_manifest(path)
        except OutputError:
            previous = None
    return previous


def _check_resumable(out: Path, previous: dict[str, Any] | None, manifest: dict[str, Any]) -> None:
    """Refuse ``--resume`` with no readable manifest, or one of a different experiment."""
    if previous is None:
        raise OutputError(
            f"--out {out}: nothing to resume (no readable manifest.json); run without --resume"
        )
    diff = difference(previous, manifest, resume=True)
    if diff:
        raise OutputError(
            f"--out {out}: cannot resume: {diff}; use --overwrite to start again, or another --out"
        )


def _check_startable(out: Path, previous: dict[str, Any] | None, manifest: dict[str, Any]) -> None:
    """Refuse (without ``--resume`` / ``--overwrite``) a folder holding another experiment, an
    unfinished run, or a finished run with another number of replications."""
    diff = "unreadable manifest.json" if previous is None else None
    diff = diff or difference(previous or {}, manifest, resume=False)
    if diff:
        raise OutputError(
            f"--out {out}: holds results of a different experiment ({diff}); use "
            "--overwrite or another --out"
        )
    done_reps = None if previous is None else previous.get("replications")
    if (
        previous is not None
        and previous.get("complete")
        and done_reps != manifest.get("replications")
    ):
        raise OutputError(
            f"--out {out}: holds a finished run of this experiment with {done_reps} "
            f"replications per design (not {manifest.get('replications')}); add --resume "
            f"--reps {done_reps} to reuse it, --overwrite to replace it, or use another --out"
        )
    if previous is not None and not previous.get("complete", False):
        total = len(previous.get("designs", [])) * int(previous.get("replications", 0))
        raise OutputError(
            f"--out {out}: holds an unfinished run of this experiment "
            f"({finished_count(out)} of {total} replications done); add --resume to finish "
            "it, or --overwrite to start again"
        )


_TABLE_FILES = ("runs.parquet", "sites.parquet", "site_series.parquet")
RUN_WRITES: tuple[str, ...] = (
    *_TABLE_FILES,
    "summary.md",
    "figures/gap_curve.png",
    "figures/time_to_close.png",
    "figures/site_trajectories.png",
)
"""Files ``ccsim run`` writes that a user might also keep (``figures/``, ``summary.md``):
:func:`refuse_user_files` guards them in a folder without a ccsim manifest."""
COMPARE_WRITES: tuple[str, ...] = (
    *_TABLE_FILES,
    "comparison.parquet",
    "survival.parquet",
    "comparison.md",
    "figures/compare_*.png",
)
"""Files ``ccsim compare`` writes (see :data:`RUN_WRITES`)."""
RERUN_WRITES: tuple[str, ...] = _TABLE_FILES
"""Files ``ccsim rerun`` writes (see :data:`RUN_WRITES`)."""


def refuse_user_files(out: Path, writes: Iterable[str]) -> None:
    """Refuse a folder without a ``manifest.json`` that holds a file the command would write.

    Such a file is the user's own (ccsim writes its manifest before anything else), so writing
    over it would lose it; ``--overwrite`` skips this check. A folder with a manifest is
    checked by the command's own rules (a ccsim result is replaced only with ``--overwrite``).

    Args:
        out: the results folder (need not exist).
        writes: globs, relative to ``out``, of what the command writes.

    Raises:
        OutputError: naming the first such file.
    """
    out = Path(out)
    if not out.is_dir() or (out / "manifest.json").exists():
        return
    for pattern in writes:
        for path in sorted(out.glob(pattern)):
            if path.is_file() or path.is_symlink():
                raise OutputError(
                    f"--out {out}: holds {path.relative_to(out).as_posix()} but no ccsim "
                    "manifest.json; ccsim would replace it; use another --out, or --overwrite "
                    "to replace it"
                )


def clear_folder(out: Path) -> list[Path]:
    """Make ``out`` ready for a fresh run, leaving everything that is not ccsim's.

    A folder with a ``manifest.json`` held an earlier ccsim run: all of ccsim's outputs go
    (:func:`sim.results.remove_outputs`), so no stale table, report or figure survives. Without
    one, only stray run state (:data:`RUN_STATE`) goes: a ``summary.md`` or ``figures/`` there
    may be the user's own. Call it only after :func:`check_folder` passed, holding the lock.

    Returns:
        The files and folders removed.
    """
    if (Path(out) / "manifest.json").exists():
        return remove_outputs(out)
    return remove_outputs(out, RUN_STATE)


# ------------------------------------------------------------------ chunk markers


def marker_path(out: Path, part: str) -> Path:
    """The marker of a chunk, ``chunks/part-d000-r000000.json`` for part ``part-d000-r000000``."""
    return Path(out) / "chunks" / (part.removesuffix(".parquet") + ".json")


def finished_units(
    out: Path, todo: Sequence[tuple[int, int, int]], part_names: Sequence[str]
) -> dict[tuple[int, int, int], dict[str, Any]]:
    """Chunks of ``todo`` whose marker and parts are all on disk: ``{unit: marker}``.

    A marker that is unreadable, names another chunk or lists a part that is missing does not
    count, so that chunk runs again.
    """
    done = {}
    for unit, name in zip(todo, part_names, strict=True):
        path = marker_path(out, name)
        try:
            marker = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        d, lo, hi = unit
        if (marker.get("design_index"), marker.get("first"), marker.get("stop")) != (d, lo, hi):
            continue
        if all((Path(out) / kind / name).is_file() for kind in marker.get("parts", [])):
            done[unit] = marker
    return done


def estimate_bytes(horizons: Sequence[int], n_sites: Sequence[int], reps: Sequence[int]) -> float:
    """Rough disk need (bytes) of a run: compressed series, sites and runs rows, plus a margin.

    Args:
        horizons: months simulated, per design.
        n_sites: programme plus control sites, per design.
        reps: replications still to run, per design.
    """
    per_value = 3.0  # zstd-compressed float64, measured on the library scenarios (~2-4 bytes)
    total = 0.0
    for h, n, r in zip(horizons, n_sites, reps, strict=True):
        series = h * (len(SERIES_COLUMNS) + 6) * per_value
        sites = 2 * n * 25 * per_value  # the parts, and the consolidated copy at the end
        total += r * (series + sites + 2 * 60 * 8)
    return total + 5e6
