"""Consolidated tables (few large row groups) and the sensitivity report's judgement of levers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim import consolidate
from sim.consolidate import consolidate_parts
from sim.results import write_parquet


def test_consolidate_keeps_order_and_groups_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(consolidate, "ROW_GROUP_ROWS", 25)  # small, to see the grouping
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


def test_top_levers_judges_each_lever_by_its_own_ci_and_flags_instability() -> None:
    from sim.sweep.sensitivity import top_levers

    idx = pd.DataFrame(
        {
            "parameter": ["strong", "weak", "tiny", "dummy"],
            "S1": [0.50, 0.40, 0.001, 0.0],
            "S1_conf": [0.05, 0.05, 0.0, 0.0],
            "ST": [0.60, 0.05, 0.001, 0.0],
            "ST_conf": [0.05, 0.06, 0.0004, 0.0],
        }
    )
    text = top_levers(idx, "sobol", dummy=["dummy"])
    # weak: 0.05 - 0.06 < 0: its own CI reaches 0; tiny's excludes 0 but ST < 0.01
    assert "Not distinguishable from 0 (the 95% CI of ST reaches 0): weak." in text
    assert "Negligible (ST < 0.01: under 1% of the variance): tiny." in text
    # CRN makes the dummy exactly 0: a check of the columns, not a noise floor
    assert "Dummy (never read) ST: 0.000, exactly 0" in text and "not a noise floor" in text
    assert "clearly above" not in text
    # weak: S1 0.40 > ST 0.05 + 0.06 is impossible in theory: too few samples
    assert "unstable (S1 above ST for weak: S1 > ST + ST_conf)" in text
    # sum S1 0.901 - sum ST 0.651 = 0.25 > sqrt(0.05^2 * 3 + 0.06^2 + 0.0004^2) = 0.106
    assert "S1 sum (0.90) exceeds the ST sum (0.65) by more than their combined CIs (0.11)" in text
