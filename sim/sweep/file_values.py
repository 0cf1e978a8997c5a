"""Reading the top-level values of a sweep file: the TOML itself, and each setting checked for
its kind and range (whole numbers, true/false, lists of text, the name, the outcomes). Every
failure raises :class:`SweepError` whose message is one line naming the file, key and value.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sim.sweep.parameters import SweepError


def read_file(path: Path) -> dict[str, Any]:
    """The sweep file's TOML as a dict (one-line errors for a folder, a missing or bad file)."""
    if path.is_dir():
        raise SweepError(f"'{path}' is a directory; give the sweep file (a .toml) inside it")
    if not path.is_file():
        raise SweepError(f"sweep file not found: '{path}'")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SweepError(f"{path}: cannot read sweep file: {exc}") from exc


def whole(raw: dict[str, Any], key: str, default: int, src: str, lo: int, hi: int) -> int:
    """The whole-number setting ``key`` of a sweep file, in [lo, hi]."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SweepError(f"{src}: {key} = {value!r}: must be a whole number in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise SweepError(f"{src}: {key} = {value}: must be in [{lo}, {hi}]")
    return value


def flag(raw: dict[str, Any], key: str, src: str) -> bool:
    """The true/false setting ``key`` of a sweep file (default false)."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise SweepError(f"{src}: {key} = {value!r}: must be true or false")
    return value


def outcome_list(raw: dict[str, Any], src: str) -> list[str] | None:
    """The file's ``outcomes`` (``None``: every metric); an empty list keeps nothing to analyse."""
    outcomes = strings(raw, "outcomes", src)
    if outcomes == []:
        raise SweepError(
            f"{src}: outcomes = []: list the metrics to keep, or leave outcomes out to keep "
            "every metric"
        )
    repeated = sorted({o for o in outcomes or [] if outcomes.count(o) > 1})
    if repeated:
        raise SweepError(
            f"{src}: outcomes lists {', '.join(map(repr, repeated))} more than once: list each once"
        )
    return outcomes


def sweep_name(raw: dict[str, Any], path: Path, src: str) -> str:
    """The sweep's name (default: the file name): text that can name a folder, as the default
    ``--out`` is ``results/sweep_<name>/`` (no path separators, not empty)."""
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name.strip() or any(c in name for c in "/\\\0"):
        raise SweepError(
            f"{src}: name = {name!r}: must be text without / or \\ (it names the results "
            "folder results/sweep_<name>/)"
        )
    return name


def strings(raw: dict[str, Any], key: str, src: str) -> list[str] | None:
    """The list-of-text setting ``key`` of a sweep file (``None`` if absent)."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SweepError(f"{src}: {key} = {value!r}: must be a list of text values")
    return value
