"""Reading adoption-data CSV files and checking the NODES columns.

:func:`read_csv` reads either file (ids and groups as text) and :func:`require_columns` checks
its header; :func:`id_text`, :func:`check_ids`, :func:`group_codes` and
:func:`adoption_periods` turn the NODES columns into ids, group codes and adoption periods (the
period convention is described in :mod:`sim.calibration.data`). Every problem raises
:class:`CalibrationDataError` with one line naming the file, the column and what was found.
Used by :mod:`sim.calibration.data`, which re-exports :class:`CalibrationDataError`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "NOBODY_CENSORED",
    "CalibrationDataError",
    "adoption_periods",
    "censoring_code_error",
    "check_ids",
    "close_columns",
    "group_codes",
    "id_text",
    "parse_censoring_code",
    "read_csv",
    "require_columns",
    "whole_option",
]


class CalibrationDataError(ValueError):
    """A data file cannot be used; the message is one line for the user."""


MAX_LISTED = 10
"""Columns listed by name when one is missing; the rest are counted."""
SEPARATORS = (";", "\t")
"""Separators read besides commas (see :func:`read_csv`)."""


def read_csv(path: Path | str, what: str, text_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV; ``text_cols`` (ids, groups) are read as text, so ``001`` stays ``001``.

    A file separated by semicolons or tabs (its header row holds no comma but ``;`` or a tab,
    so a comma read would give a single header cell; spreadsheet exports in many locales do
    this) is read with that separator.
    """
    return _read(path, what, _separator(path), text_cols)


def _separator(path: Path | str) -> str:
    """``,`` unless the header row has no comma and holds ``;`` or a tab (see :func:`read_csv`)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
    except OSError:
        return ","  # reported by the read itself
    if "," not in header:
        for sep in SEPARATORS:
            if sep in header:
                return sep
    return ","


def _read(path: Path | str, what: str, sep: str, text_cols: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep=sep, low_memory=False, dtype={c: str for c in text_cols})
    except FileNotFoundError:
        raise CalibrationDataError(f"{what} file {path}: not found") from None
    except IsADirectoryError:
        raise CalibrationDataError(f"{what} file {path}: is a folder, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise CalibrationDataError(f"{what} file {path}: empty (no header row)") from None
    except UnicodeDecodeError as exc:
        raise CalibrationDataError(
            f"{what} file {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte "
            f"{exc.start}, e.g. a Latin-1 or Windows export); save it as 'CSV UTF-8'"
        ) from None
    except (pd.errors.ParserError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CalibrationDataError(f"{what} file {path}: not a readable CSV ({first})") from None
    if df.empty:
        raise CalibrationDataError(f"{what} file {path}: header only, no rows")
    return df


def require_columns(df: pd.DataFrame, cols: Sequence[str], path: Path | str) -> None:
    """Refuse ``df`` unless it has every column of ``cols``: the message suggests close names
    (:func:`close_columns`) and lists at most :data:`MAX_LISTED` columns."""
    names = [str(c) for c in df.columns]
    for col in cols:
        if col in df.columns:
            continue
        close = close_columns(col, names)
        hint = ""
        if close:
            quoted = [f"'{c}'" for c in close]
            listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
            hint = f" (did you mean {listed}?)"
        shown = ", ".join(names[:MAX_LISTED])
        more = f", ... and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        raise CalibrationDataError(f"{path}: no column '{col}'{hint}; available: {shown}{more}")


def close_columns(col: str, names: Sequence[str], n: int = 3) -> list[str]:
    """Columns of ``names`` close to ``col``: the same name in another case if there is one,
    else the closest by :func:`difflib.get_close_matches` (case-insensitive, cutoff 0.6)."""
    same = [c for c in names if c.lower() == col.lower()]
    if same:
        return same[:n]
    lower: dict[str, list[str]] = {}
    for c in names:
        lower.setdefault(c.lower(), []).append(c)
    near = difflib.get_close_matches(col.lower(), list(lower), n=n, cutoff=0.6)
    return [c for key in near for c in lower[key]][:n]


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text, as written (``001`` and ``1`` are different ids); a whole number written
    as a float (``1001.0``, as some tools export integer columns with gaps) becomes ``"1001"``
    so files agree."""
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & np.isfinite(values) & (values == np.floor(values))
        text = values.astype(str)
        text[whole] = values[whole].astype(np.int64).astype(str)
        return text.where(values.notna(), None)
    text = values.astype(str).str.strip()
    text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    return text.where(values.notna(), None)


def check_ids(ids: pd.Series, path: Path | str, col: str) -> None:
    """Refuse empty or repeated ids."""
    if ids.isna().any():
        raise CalibrationDataError(f"{path}: column '{col}' has {int(ids.isna().sum())} empty ids")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise CalibrationDataError(
            f"{path}: column '{col}' repeats {len(dup)} ids (first: '{dup.iloc[0]}'); "
            "ids must be unique"
        )


def group_codes(
    df: pd.DataFrame, group_col: str | None, path: Path | str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Group codes ``(n,)`` int64 and names in order of first appearance."""
    if not group_col:
        return np.zeros(len(df), dtype=np.int64), ("all",)
    groups = df[group_col]
    if groups.isna().any():
        raise CalibrationDataError(
            f"{path}: column '{group_col}' has {int(groups.isna().sum())} missing values"
        )
    codes, names = pd.factorize(groups.astype(str), sort=False)
    return codes.astype(np.int64), tuple(str(x) for x in names)


NOBODY_CENSORED = "none"
"""``censored_at`` value saying nobody is censored (everyone adopted within observation)."""


def whole_option(flag: str, value: float | None) -> None:
    """Refuse a non-whole ``--censored-at`` / ``--start``: times are whole periods."""
    if value is None or (math.isfinite(value) and value == round(value)):
        return
    hint = f" (e.g. {math.floor(value):g})" if math.isfinite(value) else ""
    raise CalibrationDataError(
        f"{flag} {value:g}: not a whole number; times are whole periods, so it must be one "
        f"too{hint}"
    )


def parse_censoring_code(text: str) -> float | str | None:
    """``--censored-at`` as typed: a whole number, ``NA`` (empty times mean never adopted;
    ``None``) or ``none`` (:data:`NOBODY_CENSORED`: everyone adopted).

    Raises:
        CalibrationDataError: Anything else, or a number that is not whole.
    """
    text = text.strip()
    if text.upper() in ("NA", "NAN", ""):
        return None
    if text.lower() == NOBODY_CENSORED:
        return NOBODY_CENSORED
    try:
        code = float(text)
    except ValueError:
        raise CalibrationDataError(
            f"--censored-at: expected a number or NA, got '{text}' (NA: empty times mean never "
            "adopted; none: everyone adopted)"
        ) from None
    whole_option("--censored-at", code)
    return code


def _numeric_times(raw: pd.Series, path: Path | str, col: str) -> pd.Series:
    times = pd.to_numeric(raw, errors="coerce")
    bad = times.isna() & raw.notna()
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise CalibrationDataError(
            f"{path}: column '{col}' must hold numbers; {rows.size} values are not "
            f"(first: '{raw.iloc[rows[0]]}' in data row {rows[0] + 1})"
        )
    if times.isna().all():
        raise CalibrationDataError(f"{path}: column '{col}' is empty (no adoption times)")
    return times


def adoption_periods(
    raw: pd.Series,
    censored_at: float | str | None,
    start: float | None,
    path: Path | str,
    col: str,
) -> tuple[np.ndarray, int, float]:
    """Adoption periods ``1..T`` (``T + 1`` = censored), ``T`` and the start time.

    ``censored_at``: the never-adopted code (a whole number), ``None`` (empty times are
    censored) or :data:`NOBODY_CENSORED` (no one is; observation ends at the largest time).
    Whether any person holds the code is checked by :func:`censoring_code_error`.
    """
    times = _numeric_times(raw, path, col)
    missing = times.isna().to_numpy()
    nobody = censored_at == NOBODY_CENSORED
    if missing.any() and censored_at is not None:
        raise CalibrationDataError(
            f"{path}: column '{col}' has {int(missing.sum())} empty values; fill them or "
            "pass --censored-at NA to treat empty times as censored"
        )
    t = times.to_numpy(dtype=float)
    finite = t[~missing]
    if not np.all(np.isfinite(finite)) or np.any(finite != np.round(finite)):
        raise CalibrationDataError(
            f"{path}: column '{col}' must hold whole numbers of periods (e.g. months or years)"
        )
    code = None if censored_at is None or nobody else float(censored_at)
    whole_option("--censored-at", code)
    whole_option("--start", start)
    end = float(finite.max() + 1) if code is None else code
    if code is not None and (finite > end).any():
        top = finite.max()
        raise CalibrationDataError(
            f"{path}: {int((finite > end).sum())} values of '{col}' exceed the censoring "
            f"value {end:g} (max {top:g}): if {top:g} means never adopted, use --censored-at "
            f"{top:g}"
        )
    observed = finite[finite != end]
    first = float(start) if start is not None else float(observed.min() if observed.size else end)
    if observed.size and observed.min() < first:
        raise CalibrationDataError(f"{path}: '{col}' has times before --start {first:g}")
    n_periods = int(end - first)
    if n_periods < 1:
        raise CalibrationDataError(
            f"{path}: no observed periods before the censoring value {end:g} in '{col}'"
        )
    period = np.where(missing | (t == end), n_periods + 1, t - first + 1)
    return np.nan_to_num(period, nan=n_periods + 1).astype(np.int64), n_periods, first


def censoring_code_error(
    raw: pd.Series, censored_at: float | str | None, path: Path | str, col: str
) -> str | None:
    """Why nobody holds the never-adopted code, with the option to use instead; ``None`` when
    some person holds it (or ``censored_at`` is :data:`NOBODY_CENSORED`).

    A code nobody holds silently turns every real never-adopter into an adopter in the last
    period and invents the periods up to the code, so it is refused: the message names the
    largest time (the likely code) and ``--censored-at none`` for data where everyone adopted.
    """
    if censored_at == NOBODY_CENSORED:
        return None
    times = pd.to_numeric(raw, errors="coerce")
    if censored_at is None:
        if times.isna().any():
            return None
        what = f"an empty '{col}' (--censored-at NA: empty = never adopted)"
    else:
        if (times == float(censored_at)).any():
            return None
        what = f"{col} = {float(censored_at):g} (the never-adopted code, --censored-at)"
    top = times.max()
    return (
        f"{path}: no person has {what}; the largest time is {top:g}: if {top:g} means never "
        f"adopted, use --censored-at {top:g}; if everyone adopted, use --censored-at "
        f"{NOBODY_CENSORED}"
    )
