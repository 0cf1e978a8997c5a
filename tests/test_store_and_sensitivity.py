"""Consolidated tables (few large row groups) and the sensitivity report's noise-floor sentence."""

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


def test_top_levers_uses_ci_against_the_dummy_and_flags_instability() -> None:
    from sim.sweep.sensitivity import top_levers

    idx = pd.DataFrame(
        {
            "parameter": ["strong", "weak", "dummy"],
            "S1": [0.50, 0.40, 0.0],
            "S1_conf": [0.05, 0.05, 0.01],
            "ST": [0.60, 0.05, 0.01],
            "ST_conf": [0.05, 0.06, 0.02],
        }
    )
    text = top_levers(idx, "sobol", dummy=["dummy"])
    # weak: 0.05 - 0.06 < 0.01 + 0.02, so its CI overlaps the noise floor
    assert "not clearly above it (CIs overlap): weak." in text
    # weak: S1 0.40 > ST 0.05 + 0.06 is impossible in theory: too few samples
    assert "unstable (S1 above ST for weak)" in text
