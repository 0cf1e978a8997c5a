"""Defects found by the third round of new-user trials (facilitator, programme designer,
researcher), each pinned by a test that fails without its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import FAST, SETS, TINY_TOML, ccsim, one_error_line


def test_a_mistyped_scenario_name_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = ccsim(capsys, "run", "basline")
    one_error_line(code, err, "scenario file not found: 'basline'", "did you mean 'baseline'?")


def test_the_same_set_key_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    key = "programme.tactics.hard"
    code, _, err = ccsim(capsys, "run", "--set", f"{key}=0.1", "--set", f"{key}=0.2")
    one_error_line(code, err, f"--set '{key}=0.2'", f"already set by --set '{key}=0.1'")


def test_set_overrides_are_shown_beside_the_design_description(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A run of hard_only with hard=0.1 used to repeat 'hard 0.8' from the description with
    no word of the override, in the terminal and in summary.md."""
    out = tmp_path / "o"
    override = "programme.tactics.hard=0.1"
    args = ["run", "hard_only", *SETS, "--set", override, "--reps", "2", "--out", out]
    code, stdout, err = ccsim(capsys, *args, "--jobs", "1", "--no-figures")
    assert code == 0, err
    assert f"with --set {SETS[1]}" in stdout and override in stdout
    summary = (out / "summary.md").read_text(encoding="utf-8")
    line = next(x for x in summary.splitlines() if "Overridden with `--set`" in x)
    assert f"`{override}`" in line and f"`{SETS[1]}`" in line


def test_a_run_without_set_says_nothing_about_overrides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "o"
    code, _, err = ccsim(capsys, "run", str(_tiny(tmp_path)), "--reps", "2", "--out", out, *FAST)
    assert code == 0, err
    assert "Overridden" not in (out / "summary.md").read_text(encoding="utf-8")


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def test_sweep_accepts_resume_as_run_and_compare_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`ccsim sweep ... --resume` used to fail with 'unrecognized arguments'; a sweep always
    continues, so --resume is accepted (and excludes --overwrite, as for run)."""
    from tests.test_sweep_lock import QUIET, SWEEP

    path = tmp_path / "levers.toml"
    path.write_text(SWEEP.replace("'", '"'))
    out = tmp_path / "out"
    assert ccsim(capsys, "sweep", path, "--out", out, *QUIET)[0] == 0
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *QUIET, "--resume")
    assert code == 0, err
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, "--resume", "--overwrite")
    assert code == 2 and "not allowed with argument" in err


def test_a_long_run_of_empty_periods_is_flagged_with_the_likely_code() -> None:
    """Never-adopters coded 99 with adoptions up to month 10 made periods 11-98 observed and
    empty, with no word; so did 99 read as an adoption time (--censored-at none)."""
    import numpy as np

    from sim.calibration.data import from_arrays
    from sim.calibration.report import empty_periods_warning

    times = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 99, 99])
    coded = from_arrays(np.zeros(13, int), np.where(times == 99, 99, times), 98)
    assert empty_periods_warning(coded) == (
        "no one adopts in periods 11-98 of 98 (times 11-98): if the never-adopted code only "
        "marks people who did not adopt, give the end of observation instead (--censored-at 11)"
    )
    as_time = from_arrays(np.zeros(13, int), times, 99)
    assert empty_periods_warning(as_time).endswith(
        "if time 99 is a code for 'never adopted', use --censored-at 99"
    )
    # an ordinary tail (the last adoption 4 periods before the end of 17) says nothing
    assert empty_periods_warning(from_arrays(np.zeros(5, int), [1, 3, 8, 13, 18], 17)) == ""


def test_count_intervals_are_whole_numbers() -> None:
    from sim.report import format_interval

    assert format_interval("dropouts", 0.0, 0.1) == "0 to 1"  # was "0 to 0.1" sites
    assert format_interval("dropouts", 1.5, 3.2) == "1 to 4"
    assert format_interval("t50_months", 1.25, 3.3) == "1.2 to 3.3"  # not a count: unchanged


def test_sweep_md_keeps_earlier_outcomes_as_sensitivity_md_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A second `ccsim sweep --outcome B` on a finished sweep used to replace sweep.md, so
    the section for the first outcome disappeared."""
    from tests.test_sweep_lock import SWEEP

    path = tmp_path / "levers.toml"
    path.write_text(SWEEP.replace("'", '"').replace('outcomes = ["gap_auc"]', ""))
    out = tmp_path / "out"
    base = ["sweep", path, "--out", out, "--jobs", "1", "--quiet"]
    assert ccsim(capsys, *base, "--outcome", "gap_auc")[0] == 0
    code, stdout, err = ccsim(capsys, *base, "--outcome", "conflict_mean")
    assert code == 0, err
    report = (out / "sweep.md").read_text(encoding="utf-8")
    titles = [line for line in report.splitlines() if line.startswith("# Sweep")]
    assert len(titles) == 2 and "conflict" in titles[0].lower()  # the one asked for first
    assert "gap" in titles[1].lower()
    assert stdout.count("# Sweep") == 1  # the terminal shows what was asked for
