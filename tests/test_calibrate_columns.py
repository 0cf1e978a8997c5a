"""``ccsim calibrate`` user trial 3, item 4: column errors suggest close names and list at most
10 columns; files separated by semicolons or tabs are read with that separator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ccsim, one_error_line

from sim.calibration import CalibrationDataError, load_adoption_data


def _wide(tmp_path, extra: int = 130):
    """Farmers with ``node_id, adopter, village, toa`` and ``extra`` survey columns."""
    n = 12
    frame = pd.DataFrame(
        {
            "node_id": [f"F{i}" for i in range(n)],
            "adopter": 1,
            "village": np.arange(n) % 2,
            "toa": [1, 2, 3, 5, 8, 20, 2, 4, 6, 9, 20, 20],
        }
    )
    survey = pd.DataFrame({f"q{k:03d}": [k] * n for k in range(extra)})
    frame = pd.concat([frame, survey], axis=1)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _message(nodes, **cols) -> str:
    options = {"id_col": "node_id", "time_col": "toa", "group_col": "village", **cols}
    with pytest.raises(CalibrationDataError) as exc:
        load_adoption_data(nodes, None, censored_at=20, **options)
    return str(exc.value)


def test_other_case_suggests_the_column_and_lists_ten(tmp_path) -> None:
    nodes, _ = _wide(tmp_path)
    assert _message(nodes, time_col="TOA") == (
        f"{nodes}: no column 'TOA' (did you mean 'toa'?); available: node_id, adopter, village, "
        "toa, q000, q001, q002, q003, q004, q005, ... and 124 more"
    )


@pytest.mark.parametrize(
    ("cols", "hint"),
    [
        ({"id_col": "nodeid"}, "no column 'nodeid' (did you mean 'node_id'?)"),
        ({"group_col": "Villages"}, "no column 'Villages' (did you mean 'village'?)"),
        ({"time_col": "time"}, "no column 'time'; available: node_id, adopter, village, toa"),
    ],
)
def test_close_names_are_suggested(tmp_path, cols, hint) -> None:
    nodes, _ = _wide(tmp_path, extra=0)
    assert hint in _message(nodes, **cols)


def test_cli_missing_column_is_one_line(tmp_path, capsys) -> None:
    nodes, _ = _wide(tmp_path)
    result = ccsim(
        capsys, "calibrate", nodes, "--id", "node_id", "--time", "TOA", "--censored-at", "20",
        "--out", tmp_path / "out",
    )  # fmt: skip
    line = one_error_line(result[0], result[2], "(did you mean 'toa'?)", "... and 124 more")
    assert len(line) < 250


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files_are_read(tmp_path, sep) -> None:
    nodes, frame = _wide(tmp_path, extra=3)
    edges = pd.DataFrame({"from_id": ["F0", "F1", "F2"], "to_id": ["F1", "F2", "F3"]})
    comma = load_adoption_data(nodes, None, "node_id", "toa", 20, "village")
    other = tmp_path / "other.csv"
    frame.to_csv(other, index=False, sep=sep)
    ties = tmp_path / "ties.csv"
    edges.to_csv(ties, index=False, sep=sep)
    data = load_adoption_data(other, ties, "node_id", "toa", 20, "village")
    assert list(data.ids) == list(comma.ids)
    assert data.period.tolist() == comma.period.tolist() == [1, 2, 3, 5, 8, 20, 2, 4, 6, 9, 20, 20]
    assert data.group.tolist() == comma.group.tolist() and data.network.nnz == 3


def test_semicolon_file_with_decimal_commas_names_the_value(tmp_path) -> None:
    path = tmp_path / "dec.csv"
    path.write_text("id;t\n1;1,5\n2;3\n3;9\n")
    with pytest.raises(CalibrationDataError, match=r"'t' must hold numbers; 1 values .*'1,5'"):
        load_adoption_data(path, None, "id", "t", 9)
