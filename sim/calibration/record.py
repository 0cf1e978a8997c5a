"""What made a calibration, for ``calibration.json``: the command that redoes it, the data files'
SHA-256, package versions, git state and a fingerprint of the calibration code.

:func:`provenance` builds the record (``provenance`` in ``calibration.json``) from the parsed
options of ``ccsim calibrate``; :func:`redo_command` turns a saved record back into the command
line that fits the same data with the same model and seeds into a new folder (used by
``ccsim rerun``, which re-creates experiments but not calibrations). The helpers of
:mod:`sim.provenance` are reused; the code fingerprint covers :data:`CODE_MODULES` and the
``sim`` modules they import.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["CODE_MODULES", "command_words", "file_sha256", "provenance", "redo_command"]

CODE_MODULES = ("sim.calibration", "sim.commands.calibrate")
"""Where the code that makes a calibration starts (see :func:`sim.provenance.import_closure`)."""

_DEFAULTS = {"edge_from": "from_id", "edge_to": "to_id", "contagion": "threshold"}
_VALUED = (  # (flag, attribute): options written with their value when given
    ("--id", "id_col"),
    ("--group", "group_col"),
    ("--time", "time_col"),
    ("--censored-at", "censored_at"),
    ("--start", "start"),
    ("--edge-from", "edge_from"),
    ("--edge-to", "edge_to"),
    ("--contagion", "contagion"),
    ("--max-onset", "max_onset"),
    ("--threshold-mean", "threshold_mean"),
    ("--threshold-sd", "threshold_sd"),
    ("--threshold-width", "threshold_width"),
    ("--intervals", "intervals"),
    ("--sims", "sims"),
    ("--perms", "perms"),
    ("--seed", "seed"),
)
_FLAGS = (
    ("--per-group-p", "per_group_p"),
    ("--never-adopters", "never_adopters"),
    ("--fit-threshold", "fit_threshold"),
    ("--fit-onset", "fit_onset"),
    ("--no-compare", "no_compare"),
    ("--no-figures", "no_figures"),
)


def _word(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def command_words(args: argparse.Namespace, out: Path | str) -> list[str]:
    """``ccsim calibrate`` as words, from its parsed options: the data files as given, every
    option that changes the result (model, intervals, simulations, permutations, seed; not
    ``--jobs``, which does not) and ``--out out``."""
    words = ["ccsim", "calibrate", str(args.nodes)]
    if args.edges is not None:
        words.append(str(args.edges))
    for flag, key in _VALUED:
        value = getattr(args, key, None)
        if value is not None and value != _DEFAULTS.get(key):
            words += [flag, _word(value)]
        if key == "edge_to":  # filters next to the edge columns they act on
            words += [w for f in getattr(args, "filters", []) for w in ("--edge-filter", f)]
    if getattr(args, "intervals", None) == "bootstrap":
        words += ["--boot", str(args.boot)]
    words += [flag for flag, key in _FLAGS if getattr(args, key, False)]
    return [*words, "--out", str(out)]


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(
    args: argparse.Namespace, files: dict[str, Path | str | None], out: Path | str
) -> dict[str, Any]:
    """The ``provenance`` record of a calibration.

    Args:
        args: Parsed options of ``ccsim calibrate``.
        files: ``{"nodes": path, "edges": path or None}`` as read (packaged files resolved).
        out: The results folder.

    Returns:
        ``command`` (words, see :func:`command_words`) and ``command_line`` (one shell line),
        ``cwd``, ``files`` (per file: ``path`` as given, ``absolute``, ``sha256``, ``bytes``),
        ``versions``, ``git``, ``code_fingerprint`` and ``created`` (UTC, ISO 8601).
    """
    from sim.provenance import git_state, source_fingerprint, versions

    words = command_words(args, out)
    recorded = {}
    for role, path in files.items():
        if path is None:
            continue
        real = Path(path).resolve()
        recorded[role] = {
            "path": str(path),
            "absolute": str(real),
            "sha256": file_sha256(real),
            "bytes": real.stat().st_size,
        }
    root = Path(__file__).resolve().parent.parent
    code = source_fingerprint(root, CODE_MODULES)
    code["scope"] = f"{', '.join(CODE_MODULES)} and the sim modules they import"
    return {
        "command": words,
        "command_line": shlex.join(words),
        "cwd": str(Path.cwd()),
        "files": recorded,
        "versions": versions(),
        "git": git_state(),
        "code_fingerprint": code,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def redo_command(record: dict[str, Any], folder: Path) -> str | None:
    """The shell line that fits a saved calibration again into ``<folder>-rerun``: its recorded
    command with ``--out`` replaced, and a data file given by a relative path that does not
    exist from here replaced by its recorded absolute path. ``None`` for a calibration saved
    before commands were recorded."""
    prov = record.get("provenance") if isinstance(record.get("provenance"), dict) else {}
    words = prov.get("command")
    if not isinstance(words, list) or len(words) < 3 or "--out" not in words:
        return None
    words = [str(w) for w in words]
    at = words.index("--out")
    words[at + 1] = f"{folder}-rerun"
    files = prov.get("files") if isinstance(prov.get("files"), dict) else {}
    for info in files.values():
        given, absolute = str(info.get("path", "")), info.get("absolute")
        for i in range(2, min(4, at)):  # NODES and EDGES come first
            if words[i] == given and absolute and not Path(given).exists():
                words[i] = str(absolute)
    return shlex.join(words)
