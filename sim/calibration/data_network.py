"""The EDGES file of adoption data: tie filters and the directed network.

:func:`parse_filters` reads ``COL=VAL[,VAL...]`` options; :func:`read_network` reads EDGES,
keeps the ties that pass the filters and join two known people, drops self-loops and repeated
pairs (counting each in its report) and returns the network as a 0/1 CSR matrix built by
:func:`adjacency`. Used by :mod:`sim.calibration.data`, which re-exports :func:`parse_filters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sim.calibration.data_files import CalibrationDataError, id_text, read_csv, require_columns

__all__ = ["adjacency", "parse_filters", "read_network"]


def parse_filters(items: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Parse ``COL=VAL[,VAL...]`` edge filters into ``(column, values)`` pairs.

    Filters on the same column are merged (their values pooled, in order): ``--network
    network=friend --network network=influential`` keeps both networks, as
    ``network=friend,influential`` does, instead of keeping no tie.

    Raises:
        CalibrationDataError: An item has no ``=`` or an empty side.
    """
    merged: dict[str, list[str]] = {}
    for item in items:
        col, sep, vals = item.partition("=")
        values = [v.strip() for v in vals.split(",") if v.strip()]
        if not sep or not col.strip() or not values:
            raise CalibrationDataError(f"edge filter '{item}': expected COLUMN=VALUE[,VALUE...]")
        pooled = merged.setdefault(col.strip(), [])
        pooled.extend(v for v in values if v not in pooled)
    return list(merged.items())


def read_network(
    path: Path | str,
    ids: pd.Series,
    edge_from: str,
    edge_to: str,
    filters: Sequence[tuple[str, Sequence[str]]],
) -> tuple[sp.csr_matrix, dict[str, int]]:
    """The network of EDGES over the people ``ids`` and the counts of what was dropped."""
    df = read_csv(path, "edges", [edge_from, edge_to])
    require_columns(df, [edge_from, edge_to, *(c for c, _ in filters)], path)
    report = {"edges_read": len(df)}
    for n, (col, values) in enumerate(filters):
        keep = _matches(df[col], values)
        if not keep.any():
            seen = ", ".join(sorted({str(v) for v in df[col].dropna().unique()})[:12])
            among = f" (in the {len(df)} ties the filters before it keep)" if n else ""
            raise CalibrationDataError(
                f"{path}: filter {col}={','.join(values)} keeps no ties; values of "
                f"'{col}'{among}: {seen}"
            )
        report[f"dropped_by_filter_{col}"] = int((~keep).sum())
        df = df[keep]
    src, dst = id_text(df[edge_from]), id_text(df[edge_to])
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
    return adjacency(pairs[:, 0], pairs[:, 1], len(ids)), report


def _matches(column: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Rows of ``column`` equal to one of ``values`` (numerically when both are numbers)."""
    keep = column.astype(str).str.strip().isin(values).to_numpy()
    nums = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna().to_numpy()
    if nums.size and pd.api.types.is_numeric_dtype(column):
        keep |= np.isin(column.to_numpy(dtype=float), nums)
    return keep


def adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 CSR ``(n, n)`` from ``(from, to)`` index arrays (duplicates collapse to 1)."""
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError("edge index out of range")
    mat = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    mat.data[:] = 1.0
    mat.setdiag(0)
    mat.eliminate_zeros()
    return mat
