"""Adoption-time data for calibration: read, validate and index people, groups and a network.

Input is two plain CSV files (UTF-8, header row):

* NODES: one row per person with an id, an optional group (town, village, site) and the
  period of adoption (whole numbers; ``censored_at`` marks "not adopted by the end of
  observation", right-censored).
* EDGES (optional): one row per tie ``from -> to`` meaning "``from`` names ``to``" (nominator to
  named person; Valente 1995). Exposure of a person is the share of the people *they* name who
  have adopted. Without EDGES everyone is exposed to the rest of their own group (Bass mixing).

Periods run from ``start`` (default the earliest time in the file) to ``censored_at - 1``, so
``T = censored_at - start`` periods are observed; person ``i`` adopting at time ``x`` has period
``x - start + 1`` in ``1..T`` and a censored person has period ``T + 1``. Self-loops and repeated
``(from, to)`` pairs are dropped; ties naming ids absent from NODES (e.g. physicians who were not
surveyed) are counted and dropped, an error only when no tie is left. Every problem with a file
raises :class:`CalibrationDataError` with one line naming the file, the column and what was found.
:func:`check_identifiable` refuses data that cannot identify the model's parameters.

The Medical Innovation data (Coleman, Katz & Menzel 1966, via netdiffuseR; see
``sim/data/medinnov/README.md``) ship with the package: :data:`MEDINNOV` holds their options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

MEDINNOV: dict[str, object] = {
    "nodes": "medInnovations_nodes.csv",
    "edges": "medInnovations_edges.csv",
    "id_col": "node_id",
    "group_col": "city_name",
    "time_col": "toa",
    "censored_at": 18.0,
}
"""Options of the packaged Medical Innovation data (125 physicians, 4 towns, toa 18 = never)."""


class CalibrationDataError(ValueError):
    """A data file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class AdoptionData:
    """People, their groups, adoption periods and (optionally) a directed network.

    Attributes:
        ids: Person ids as text, shape ``(n,)``.
        group: Group code of each person in ``0..G-1``, shape ``(n,)``.
        group_names: Name of each group code, length ``G`` (in order of first appearance).
        period: Adoption period in ``1..T``, or ``T + 1`` if censored, shape ``(n,)`` int64.
        n_periods: ``T``, the number of observed periods (>= 1).
        network: ``(n, n)`` CSR 0/1 matrix, row ``i`` = the people ``i`` names; ``None`` means
            each person is exposed to the rest of their group.
        start: Raw time value of period 1.
        report: Counts from loading (edges read, dropped as self-loops, duplicates, unknown
            ids, by filters; arcs kept).
    """

    ids: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...]
    period: np.ndarray
    n_periods: int
    network: sp.csr_matrix | None = None
    start: float = 1.0
    report: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of people."""
        return int(self.ids.size)

    @property
    def n_groups(self) -> int:
        """Number of groups ``G``."""
        return len(self.group_names)

    @property
    def adopted(self) -> np.ndarray:
        """Boolean ``(n,)``: adopted within the observed periods."""
        return self.period <= self.n_periods

    @property
    def degree(self) -> np.ndarray:
        """Out-degree (people named) per person, float ``(n,)``; group size - 1 without a
        network."""
        if self.network is None:
            sizes = np.bincount(self.group, minlength=self.n_groups)
            return (sizes[self.group] - 1).astype(float)
        return np.asarray(self.network.sum(axis=1), dtype=float).ravel()

    def with_periods(self, period: np.ndarray) -> AdoptionData:
        """A copy with other adoption periods (same people, groups and network)."""
        period = np.asarray(period, dtype=np.int64)
        if period.shape != self.period.shape:
            raise ValueError(f"period shape {period.shape} != {self.period.shape}")
        return AdoptionData(
            self.ids,
            self.group,
            self.group_names,
            period,
            self.n_periods,
            self.network,
            self.start,
            dict(self.report),
        )


def from_arrays(
    group: Sequence[int] | np.ndarray,
    period: Sequence[int] | np.ndarray,
    n_periods: int,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
    ids: Sequence[str] | None = None,
) -> AdoptionData:
    """Build :class:`AdoptionData` from arrays (for simulated data and tests).

    Args:
        group: Group code per person in ``0..G-1``, shape ``(n,)``.
        period: Adoption period in ``1..T + 1`` (``T + 1`` = censored), shape ``(n,)``.
        n_periods: ``T`` >= 1.
        edges: ``(from, to)`` index arrays into ``0..n-1``; ``None`` = group mixing.
        ids: Optional ids (default ``"0".."n-1"``).

    Raises:
        ValueError: Shapes differ or values are out of range.
    """
    group = np.asarray(group, dtype=np.int64)
    period = np.asarray(period, dtype=np.int64)
    n = group.size
    if period.shape != group.shape or n == 0:
        raise ValueError("group and period must be non-empty arrays of the same shape")
    if n_periods < 1 or period.min() < 1 or period.max() > n_periods + 1 or group.min() < 0:
        raise ValueError("period must be in 1..n_periods + 1 and group codes >= 0")
    net = None
    if edges is not None:
        net = _adjacency(np.asarray(edges[0]), np.asarray(edges[1]), n)
    names = tuple(str(k) for k in range(int(group.max()) + 1))
    id_arr = np.asarray(ids if ids is not None else [str(i) for i in range(n)], dtype=object)
    return AdoptionData(id_arr, group, names, period, int(n_periods), net)


def packaged_path(name: str, folder: str = "medinnov") -> Path:
    """Path of a file shipped in ``sim/data/<folder>/``."""
    return Path(__file__).resolve().parent.parent / "data" / folder / name


def parse_filters(items: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Parse ``COL=VAL[,VAL...]`` edge filters into ``(column, values)`` pairs.

    Raises:
        CalibrationDataError: An item has no ``=`` or an empty side.
    """
    out = []
    for item in items:
        col, sep, vals = item.partition("=")
        values = [v.strip() for v in vals.split(",") if v.strip()]
        if not sep or not col.strip() or not values:
            raise CalibrationDataError(f"edge filter '{item}': expected COLUMN=VALUE[,VALUE...]")
        out.append((col.strip(), values))
    return out


def load_adoption_data(
    nodes: Path | str,
    edges: Path | str | None,
    id_col: str,
    time_col: str,
    censored_at: float | None,
    group_col: str | None = None,
    edge_from: str = "from_id",
    edge_to: str = "to_id",
    edge_filters: Sequence[tuple[str, Sequence[str]]] = (),
    start: float | None = None,
) -> AdoptionData:
    """Read and validate NODES (and EDGES) into :class:`AdoptionData`.

    Args:
        nodes: CSV with one row per person.
        edges: CSV with one row per tie, or ``None`` for group mixing.
        id_col, time_col, group_col: Column names in NODES (``group_col=None``: one group).
        censored_at: Time value meaning "not adopted" (all later periods unobserved); ``None``
            means missing times are censored and observation ends at the latest time.
        edge_from, edge_to: Column names of the nominator and the named person in EDGES.
        edge_filters: Keep only ties whose column equals one of the values (all filters apply).
        start: Raw time of period 1 (default: the earliest time in NODES).

    Returns:
        The indexed data; ``report`` counts what was dropped from EDGES.

    Raises:
        CalibrationDataError: Unreadable file, missing column, duplicate or missing ids,
            non-numeric or non-whole times, times after ``censored_at``, a filter keeping no
            ties, an EDGES file none of whose ties joins two people of NODES.
    """
    df = _read_csv(nodes, "nodes", [id_col, *([group_col] if group_col else [])])
    cols = [id_col, time_col] + ([group_col] if group_col else [])
    _require_columns(df, cols, nodes)
    ids = _id_text(df[id_col])
    _check_ids(ids, nodes, id_col)
    period, n_periods, start = _periods(df[time_col], censored_at, start, nodes, time_col)
    codes, group_names = _groups(df, group_col, nodes)
    net, report = None, {}
    if edges is not None:
        net, report = _read_network(edges, ids, edge_from, edge_to, edge_filters)
    return AdoptionData(
        ids.to_numpy(dtype=object), codes, group_names, period, n_periods, net, start, report
    )


def _groups(
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


def _read_csv(path: Path | str, what: str, text_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV; ``text_cols`` (ids, groups) are read as text, so ``001`` stays ``001``."""
    try:
        df = pd.read_csv(path, low_memory=False, dtype={c: str for c in text_cols})
    except FileNotFoundError:
        raise CalibrationDataError(f"{what} file {path}: not found") from None
    except IsADirectoryError:
        raise CalibrationDataError(f"{what} file {path}: is a folder, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise CalibrationDataError(f"{what} file {path}: empty (no header row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CalibrationDataError(f"{what} file {path}: not a readable CSV ({first})") from None
    if df.empty:
        raise CalibrationDataError(f"{what} file {path}: header only, no rows")
    return df


def _require_columns(df: pd.DataFrame, cols: Sequence[str], path: Path | str) -> None:
    for col in cols:
        if col not in df.columns:
            available = ", ".join(str(c) for c in df.columns)
            raise CalibrationDataError(f"{path}: no column '{col}'; available: {available}")


def _id_text(values: pd.Series) -> pd.Series:
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


def _check_ids(ids: pd.Series, path: Path | str, col: str) -> None:
    if ids.isna().any():
        raise CalibrationDataError(f"{path}: column '{col}' has {int(ids.isna().sum())} empty ids")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise CalibrationDataError(
            f"{path}: column '{col}' repeats {len(dup)} ids (first: '{dup.iloc[0]}'); "
            "ids must be unique"
        )


def _periods(
    raw: pd.Series, censored_at: float | None, start: float | None, path: Path | str, col: str
) -> tuple[np.ndarray, int, float]:
    """Adoption periods ``1..T`` (``T + 1`` = censored), ``T`` and the start time."""
    times = pd.to_numeric(raw, errors="coerce")
    bad = times.isna() & raw.notna()
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise CalibrationDataError(
            f"{path}: column '{col}' must hold numbers; {rows.size} values are not "
            f"(first: '{raw.iloc[rows[0]]}' in data row {rows[0] + 1})"
        )
    missing = times.isna().to_numpy()
    if missing.all():
        raise CalibrationDataError(f"{path}: column '{col}' is empty (no adoption times)")
    if missing.any() and censored_at is not None:
        raise CalibrationDataError(
            f"{path}: column '{col}' has {int(missing.sum())} empty values; fill them or "
            "pass --censored-at NA to treat empty times as censored"
        )
    t = times.to_numpy(dtype=float)
    finite = t[~missing]
    if finite.size == 0 or not np.all(np.isfinite(finite)) or np.any(finite != np.round(finite)):
        raise CalibrationDataError(
            f"{path}: column '{col}' must hold whole numbers of periods (e.g. months)"
        )
    end = float(finite.max() + 1) if censored_at is None else float(censored_at)
    if censored_at is not None and math.isfinite(end) and (finite > end).any():
        raise CalibrationDataError(
            f"{path}: {int((finite > end).sum())} values of '{col}' exceed the censoring "
            f"value {end:g} (max {finite.max():g})"
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


def _read_network(
    path: Path | str,
    ids: pd.Series,
    edge_from: str,
    edge_to: str,
    filters: Sequence[tuple[str, Sequence[str]]],
) -> tuple[sp.csr_matrix, dict[str, int]]:
    df = _read_csv(path, "edges", [edge_from, edge_to])
    _require_columns(df, [edge_from, edge_to, *(c for c, _ in filters)], path)
    report = {"edges_read": len(df)}
    for col, values in filters:
        keep = _matches(df[col], values)
        if not keep.any():
            seen = ", ".join(sorted({str(v) for v in df[col].dropna().unique()})[:12])
            raise CalibrationDataError(
                f"{path}: filter {col}={','.join(values)} keeps no ties; values of '{col}': {seen}"
            )
        report[f"dropped_by_filter_{col}"] = int((~keep).sum())
        df = df[keep]
    src, dst = _id_text(df[edge_from]), _id_text(df[edge_to])
    pos = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    i = src.map(pos).to_numpy(dtype=float)
    j = dst.map(pos).to_numpy(dtype=float)
    unknown_from, unknown_to = np.isnan(i), np.isnan(j)
    report["dropped_unknown_from_id"] = int(unknown_from.sum())
    report["dropped_unknown_to_id"] = int((unknown_to & ~unknown_from).sum())
    ok = ~(unknown_from | unknown_to)
    if not ok.any():
        bad = src[unknown_from] if unknown_from.any() else dst[unknown_to]
        col = edge_from if unknown_from.any() else edge_to
        raise CalibrationDataError(
            f"{path}: none of its {len(df)} ties joins two ids of the node file (first unknown "
            f"id in '{col}': '{bad.iloc[0]}'); check --edge-from/--edge-to and --id"
        )
    i, j = i[ok].astype(np.int64), j[ok].astype(np.int64)
    loops = i == j
    report["dropped_self_loops"] = int(loops.sum())
    if loops.all():
        raise CalibrationDataError(
            f"{path}: all {int(loops.sum())} ties that name known ids are self-loops; no network"
        )
    i, j = i[~loops], j[~loops]
    pairs = np.unique(np.stack([i, j], axis=1), axis=0) if i.size else np.empty((0, 2), np.int64)
    report["dropped_duplicates"] = int(i.size - len(pairs))
    report["arcs"] = len(pairs)
    return _adjacency(pairs[:, 0], pairs[:, 1], len(ids)), report


def _matches(column: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Rows of ``column`` equal to one of ``values`` (numerically when both are numbers)."""
    keep = column.astype(str).str.strip().isin(values).to_numpy()
    nums = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna().to_numpy()
    if nums.size and pd.api.types.is_numeric_dtype(column):
        keep |= np.isin(column.to_numpy(dtype=float), nums)
    return keep


def _adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 CSR ``(n, n)`` from ``(from, to)`` index arrays (duplicates collapse to 1)."""
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError("edge index out of range")
    mat = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    mat.data[:] = 1.0
    mat.setdiag(0)
    mat.eliminate_zeros()
    return mat


def describe(data: AdoptionData) -> Mapping[str, object]:
    """Plain summary for reports: sizes, adopters and censored per group, arcs."""
    per_group = {
        name: {
            "n": int((data.group == k).sum()),
            "adopters": int((data.adopted & (data.group == k)).sum()),
        }
        for k, name in enumerate(data.group_names)
    }
    return {
        "n": data.n,
        "n_periods": data.n_periods,
        "start": data.start,
        "groups": per_group,
        "arcs": None if data.network is None else int(data.network.nnz),
        "edges_report": dict(data.report),
    }


def check_identifiable(data: AdoptionData, per_group_p: bool = False) -> None:
    """Refuse data that cannot identify the external push ``p`` and peer influence ``q``.

    Rules (docs/calibration.md, "Data rules"), checked in this order:

    1. at least 2 people;
    2. at least one adopter within the observed periods;
    3. at least one person still at risk after period 1, i.e. adopting later or never (if
       everybody adopts in period 1, ``p`` runs to infinity); with ``per_group_p``, in every
       group;
    4. at least one person at risk (not yet adopted, within the observed periods) with a
       contact who adopted earlier, i.e. exposure ``E > 0`` (otherwise ``q`` is never
       multiplied by anything but 0 and any value fits).

    Raises:
        CalibrationDataError: One line naming the rule that fails.
    """
    if data.n < 2:
        raise CalibrationDataError(
            f"{data.n} person in the data: at least 2 people are needed to estimate p and q"
        )
    if not data.adopted.any():
        raise CalibrationDataError("nobody adopted before the censoring value: nothing to fit")
    later = data.period > 1
    if not later.any():
        raise CalibrationDataError(
            f"all {data.n} people adopted in period 1: nobody is left at risk, so the external "
            "push p cannot be estimated; at least one person must adopt later or never"
        )
    if per_group_p:
        for k, name in enumerate(data.group_names):
            if not later[data.group == k].any():
                raise CalibrationDataError(
                    f"group '{name}': all {int((data.group == k).sum())} people adopted in "
                    f"period 1, so its push p[{name}] cannot be estimated; drop --per-group-p"
                )
    from sim.calibration.process import exposure_paths  # here: process imports this module

    steps = np.arange(1, data.n_periods + 1)[:, None]
    at_risk = steps <= data.period[None, :]  # (T, n): not adopted before period t
    if not (exposure_paths(data)[at_risk] > 0).any():
        where = (
            "the network links no one at risk to an earlier adopter"
            if data.network is not None
            else "nobody is at risk after the first adoptions"
        )
        raise CalibrationDataError(
            f"no one at risk ever has a contact who adopted earlier ({where}), so peer "
            "influence q cannot be estimated"
        )
