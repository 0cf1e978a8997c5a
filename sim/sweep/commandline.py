"""The command line that makes a sweep folder again, from its ``manifest.json``.

One builder for both places that name it: the warning of an unfinished folder
(:func:`sim.sweep.read.missing_runs`: the command with ``--out FOLDER --resume``) and ``ccsim
rerun`` given a sweep folder (the command with ``--out FOLDER-rerun``). Standard library only,
so ``sim.commands.rerun`` can import it cheaply and without a cycle.

A manifest records the command in ``cli`` (``command``, ``file``, ``file_absolute``, ``method``,
``samples``, ``outcomes``, ``chunk_points``). Older manifests lack ``cli`` or some of its
fields; then the sweep's ``spec`` fills in (``source``, ``design``, ``samples``) and the folder
tells which command it was (:func:`is_sensitivity`). A value still missing is left out (the
command's default), never written as ``None``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

METHODS = ("sobol", "morris")
DEFAULT_OUTCOMES = ["gap_auc"]


def _table(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    value = manifest.get(key)
    return value if isinstance(value, dict) else {}


def is_sensitivity(manifest: dict[str, Any], folder: Path) -> bool:
    """Was the folder made by ``ccsim sensitivity``? ``cli.command`` says so; without it, a
    ``tool`` of ``ccsim sensitivity`` or ``sensitivity_*.parquet`` tables do; then
    ``sweep.md`` means a sweep; last, a Sobol or Morris ``spec.design``, which only
    ``ccsim sensitivity --method`` re-creates whatever design the file now names."""
    cli, spec = _table(manifest, "cli"), _table(manifest, "spec")
    if cli.get("command") in ("sweep", "sensitivity"):
        return cli["command"] == "sensitivity"
    if manifest.get("tool") == "ccsim sensitivity" or any(folder.glob("sensitivity_*.parquet")):
        return True
    if (folder / "sweep.md").is_file():
        return False
    return spec.get("design") in METHODS


def _file(cli: dict[str, Any], spec: dict[str, Any]) -> str:
    """The sweep file as given, or its recorded absolute path when only that still exists."""
    file = str(cli.get("file") or spec.get("source") or "SWEEP.toml")
    absolute = cli.get("file_absolute")
    if not Path(file).is_file() and isinstance(absolute, str) and Path(absolute).is_file():
        return absolute  # run from another folder: the recorded absolute path still works
    return file


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def command_words(manifest: dict[str, Any], folder: Path) -> list[str]:
    """``ccsim sweep|sensitivity FILE [--method M --samples N] [--outcome O ...]
    [--chunk-points K] [--series]`` as recorded in ``folder``'s manifest (no ``--out``)."""
    cli, spec = _table(manifest, "cli"), _table(manifest, "spec")
    sensitivity = is_sensitivity(manifest, Path(folder))
    words = ["ccsim", "sensitivity" if sensitivity else "sweep", _file(cli, spec)]
    if sensitivity:
        method = cli.get("method") if cli.get("method") in METHODS else spec.get("design")
        if method in METHODS:
            words += ["--method", str(method)]
        if samples := _whole(cli.get("samples")) or _whole(spec.get("samples")):
            words += ["--samples", str(samples)]
    raw = cli.get("outcomes")
    outcomes = [str(o) for o in raw] if isinstance(raw, list) else []
    if outcomes != DEFAULT_OUTCOMES:  # the default needs no option
        words += [w for o in outcomes for w in ("--outcome", o)]
    if chunk := _whole(cli.get("chunk_points")):
        words += ["--chunk-points", str(chunk)]
    if cli.get("series") is True:  # given as --series, not in the file
        words.append("--series")
    return words


def sweep_command(manifest: dict[str, Any], folder: Path) -> tuple[str, str]:
    """What made a sweep folder and the command that runs it again into a new folder.

    Returns:
        ``("sweep" | "sensitivity analysis", "ccsim ... --out <folder>-rerun")``.
    """
    what = "sensitivity analysis" if is_sensitivity(manifest, Path(folder)) else "sweep"
    return what, shlex.join([*command_words(manifest, folder), "--out", f"{folder}-rerun"])


def resume_command(folder: Path, manifest: dict[str, Any]) -> str:
    """The command that finishes the sweep in ``folder``: the recorded one with ``--out
    folder --resume``."""
    return shlex.join([*command_words(manifest, folder), "--out", str(folder), "--resume"])
