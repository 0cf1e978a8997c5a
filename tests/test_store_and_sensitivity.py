"""Consolidated tables: parts joined in order, in few large row groups (cheap to read back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim import results
from sim.results import consolidate_parts, write_parquet


def test_consolidate_keeps_order_and_groups_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(results, "ROW_GROUP_ROWS", 25)  # small, to see the grouping
    parts = []
    for i in range(7):  # 7 parts of 10 rows -> groups of 30, 30, 10
        p = tmp_path / f"part-{i}.parquet"
        write_parquet(pd.DataFrame({"rep": np.arange(i * 10, (i + 1) * 10)}), p)
        parts.append(p)
    dest = tmp_path / "runs.parquet"
    assert consolidate_parts(parts, dest) == 70
    assert pq.read_table(dest).column("rep").to_pylist() == list(range(70))
    f = pq.ParquetFile(dest)
    assert [f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)] == [30, 30, 10]
