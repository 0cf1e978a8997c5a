"""``ccsim calibrate`` user trial 3, item 1: a wrong ``--censored-at`` is refused.

A code that no person holds used to be accepted: every real never-adopter (coded 20 in the
Brazilian farmers' file) became an adopter in the last period and the periods up to the code were
invented. The data here are a small file shaped like that one (``toa`` 1-19, 20 = never).
"""

from __future__ import annotations

import pandas as pd
import pytest
from cli_helpers import ccsim, one_error_line

from sim.calibration import CalibrationDataError, load_adoption_data


def _farmers(tmp_path, toa: list[float | None] | None = None):
    """12 farmers in 2 villages; toa 1-19 and 20 = never adopted (3 farmers)."""
    toa = toa if toa is not None else [1, 2, 3, 5, 8, 20, 2, 4, 6, 9, 20, 20]
    frame = pd.DataFrame(
        {"node_id": [f"F{i}" for i in range(len(toa))], "village": [1] * 6 + [2] * 6, "toa": toa}
    )
    path = tmp_path / "farmers.csv"
    frame.to_csv(path, index=False)
    return path


def _cli(capsys, tmp_path, nodes, code: str):
    out = tmp_path / "out"
    args = ["calibrate", nodes, "--id", "node_id", "--group", "village", "--time", "toa"]
    args += ["--censored-at", code, "--out", out, "--no-compare", "--intervals", "none"]
    args += ["--perms", "0", "--sims", "5", "--no-figures"]
    return ccsim(capsys, *args), out


def test_code_no_person_holds_is_refused_naming_the_largest_time(tmp_path) -> None:
    nodes = _farmers(tmp_path)
    with pytest.raises(CalibrationDataError) as exc:
        load_adoption_data(nodes, None, "node_id", "toa", 99, "village")
    assert str(exc.value) == (
        f"{nodes}: no person has toa = 99 (the never-adopted code, --censored-at); the largest "
        "time is 20: if 20 means never adopted, use --censored-at 20; if everyone adopted, use "
        "--censored-at none"
    )
    right = load_adoption_data(nodes, None, "node_id", "toa", 20, "village")
    assert right.n_periods == 19 and int(right.adopted.sum()) == 9


def test_cli_wrong_code_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys) -> None:
    (code, _, err), out = _cli(capsys, tmp_path, _farmers(tmp_path), "99")
    one_error_line(code, err, "no person has toa = 99", "use --censored-at 20")
    assert not out.exists()


def test_na_without_empty_times_is_refused(tmp_path, capsys) -> None:
    (code, _, err), _ = _cli(capsys, tmp_path, _farmers(tmp_path), "NA")
    one_error_line(
        code, err, "no person has an empty 'toa' (--censored-at NA", "use --censored-at 20"
    )
    with_empty = _farmers(tmp_path, [1, 2, 3, 5, 8, None, 2, 4, 6, 9, None, None])
    data = load_adoption_data(with_empty, None, "node_id", "toa", None, "village")
    assert data.n_periods == 9 and int((~data.adopted).sum()) == 3


@pytest.mark.parametrize("code", ["20.5", "19.99"])
def test_fractional_code_is_refused(tmp_path, capsys, code) -> None:
    (rc, _, err), _ = _cli(capsys, tmp_path, _farmers(tmp_path), code)
    line = one_error_line(rc, err, f"--censored-at {code}: not a whole number")
    assert "times are whole periods" in line
    with pytest.raises(CalibrationDataError, match="not a whole number"):
        load_adoption_data(_farmers(tmp_path), None, "node_id", "toa", float(code), "village")


def test_fractional_start_is_refused(tmp_path) -> None:
    with pytest.raises(CalibrationDataError, match=r"--start 0.5: not a whole number"):
        load_adoption_data(_farmers(tmp_path), None, "node_id", "toa", 20, "village", start=0.5)


def test_code_below_the_largest_time_suggests_it(tmp_path, capsys) -> None:
    (code, _, err), _ = _cli(capsys, tmp_path, _farmers(tmp_path), "19")
    one_error_line(code, err, "3 values of 'toa' exceed the censoring value 19 (max 20)")
    assert "if 20 means never adopted, use --censored-at 20" in err


def test_none_means_everyone_adopted(tmp_path, capsys) -> None:
    everyone = _farmers(tmp_path, [1, 2, 3, 5, 8, 9, 2, 4, 6, 9, 7, 3])
    data = load_adoption_data(everyone, None, "node_id", "toa", "none", "village")
    assert data.adopted.all() and data.n_periods == 9
    (code, out, _), _ = _cli(capsys, tmp_path, everyone, "none")
    assert code == 0 and "12 people in 2 groups, 12 adopters, 9 periods" in out
    gaps = _farmers(tmp_path, [1, 2, 3, 5, 8, None, 2, 4, 6, 9, 7, 3])
    with pytest.raises(CalibrationDataError, match="1 empty values; fill them or pass"):
        load_adoption_data(gaps, None, "node_id", "toa", "none", "village")
