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

This module holds :class:`AdoptionData`, the loaders (:func:`load_adoption_data`,
:func:`from_arrays`) and the checks on loaded data (:func:`check_identifiable`,
:func:`describe`). Reading the files is in :mod:`sim.calibration.data_files` (CSV reading,
column checks, ids, groups, periods; :class:`CalibrationDataError`) and
:mod:`sim.calibration.data_network` (EDGES filters and the network); their public names used
elsewhere are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sim.calibration.data_files import (
    NOBODY_CENSORED,
    CalibrationDataError,
    adoption_periods,
    censoring_code_error,
    check_ids,
    group_codes,
    id_text,
    read_csv,
    require_columns,
)
from sim.calibration.data_network import adjacency, parse_filters, read_network

__all__ = [
    "MEDINNOV",
    "NOBODY_CENSORED",
    "AdoptionData",
    "CalibrationDataError",
    "check_identifiable",
    "describe",
    "from_arrays",
    "load_adoption_data",
    "packaged_path",
    "parse_filters",
]

MEDINNOV: dict[str, object] = {
    "nodes": "medInnovations_nodes.csv",
    "edges": "medInnovations_edges.csv",
    "id_col": "node_id",
    "group_col": "city_name",
    "time_col": "toa",
    "censored_at": 18.0,
}
"""Options of the packaged Medical Innovation data (125 physicians, 4 towns, toa 18 = never)."""


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
        net = adjacency(np.asarray(edges[0]), np.asarray(edges[1]), n)
    names = tuple(str(k) for k in range(int(group.max()) + 1))
    id_arr = np.asarray(ids if ids is not None else [str(i) for i in range(n)], dtype=object)
    return AdoptionData(id_arr, group, names, period, int(n_periods), net)


def packaged_path(name: str, folder: str = "medinnov") -> Path:
    """Path of a file shipped in ``sim/data/<folder>/``."""
    return Path(__file__).resolve().parent.parent / "data" / folder / name


def load_adoption_data(
    nodes: Path | str,
    edges: Path | str | None,
    id_col: str,
    time_col: str,
    censored_at: float | str | None,
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
        censored_at: Time value meaning "not adopted" (a whole number; observation ends the
            period before it); ``None`` means missing times are censored and observation ends
            at the latest time; :data:`NOBODY_CENSORED` (``"none"``) means everyone adopted
            (empty times refused). A code (or, with ``None``, an empty time) that no person
            holds is refused, naming the largest time: it would make the real never-adopters
            adopters and invent periods.
        edge_from, edge_to: Column names of the nominator and the named person in EDGES.
        edge_filters: Keep only ties whose column equals one of the values (all filters apply).
        start: Raw time of period 1 (default: the earliest time in NODES).

    Returns:
        The indexed data; ``report`` counts what was dropped from EDGES.

    Raises:
        CalibrationDataError: Unreadable file, missing column, duplicate or missing ids,
            non-numeric or non-whole times, a non-whole ``censored_at`` or ``start``, times
            after ``censored_at``, a code no person holds, a filter keeping no ties, an EDGES
            file none of whose ties joins two people of NODES.
    """
    df = read_csv(nodes, "nodes", [id_col, *([group_col] if group_col else [])])
    cols = [id_col, time_col] + ([group_col] if group_col else [])
    require_columns(df, cols, nodes)
    ids = id_text(df[id_col])
    check_ids(ids, nodes, id_col)
    period, n_periods, start = adoption_periods(df[time_col], censored_at, start, nodes, time_col)
    codes, group_names = group_codes(df, group_col, nodes)
    net, report = None, {}
    if edges is not None:
        net, report = read_network(edges, ids, edge_from, edge_to, edge_filters)
    data = AdoptionData(
        ids.to_numpy(dtype=object), codes, group_names, period, n_periods, net, start, report
    )
    if data.adopted.all():  # nobody censored: refused unless the code says so
        problem = censoring_code_error(df[time_col], censored_at, nodes, time_col)
        if problem:
            check_identifiable(data)  # data that cannot be fitted at all: say that first
            raise CalibrationDataError(problem)
    return data


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


def _check_group_sizes(data: AdoptionData, per_group_p: bool) -> None:
    """Refuse groups of one person each (usually ``--group`` names the id column): without a
    network nobody has anyone to be exposed to, with ``per_group_p`` each person gets a push,
    and in any case each group's curve is one person's and a within-group permutation moves
    nothing."""
    if data.n_groups < data.n:
        return
    if per_group_p:
        why = "one push per person (--per-group-p)"
    elif data.network is None:
        why = "nobody to be exposed to (no network: exposure = share of the rest of one's group)"
    else:
        why = "nothing to permute within groups and a curve per person"
    raise CalibrationDataError(
        f"each of the {data.n_groups} groups holds 1 person, which leaves {why}; is --group "
        "the id column? give the column of towns, villages or sites, or leave --group out"
    )


def check_identifiable(data: AdoptionData, per_group_p: bool = False) -> None:
    """Refuse data that cannot identify the external push ``p`` and peer influence ``q``.

    Rules (docs/calibration.md, "Data rules"), checked in this order:

    1. at least 2 people;
    2. at least one adopter within the observed periods, and not every group of a single
       person;
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
    _check_group_sizes(data, per_group_p)
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
