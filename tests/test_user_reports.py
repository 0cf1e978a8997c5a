"""Regressions for problems a new user reported (one test or more per report)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TINY = ["sites.n_sites=4", "sites.mean_size=8", "time.programme_months=6"]
TINY += ["time.followup_months=3", "programme.recruitment.window_months=2"]
SETS = [word for item in TINY for word in ("--set", item)]
FAST = ["--jobs", "1", "--no-figures", "--quiet"]


def ccsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def assert_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, one line on stderr, no traceback; the line holds every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ 1: results folders


def test_fewer_reps_into_a_finished_run_is_refused_and_keeps_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = ccsim("run", "--reps", "6", "--out", str(out), *SETS, *FAST)
    assert first.returncode == 0, first.stderr
    before = (out / "runs.parquet").read_bytes()
    again = ccsim("run", "--reps", "2", "--out", str(out), *SETS, *FAST)
    assert_usage_error(again, "6 replications", "--reps 6", "--overwrite", "--out")
    assert (out / "runs.parquet").read_bytes() == before
    assert len(pd.read_parquet(out / "runs.parquet")) == 6
    forced = ccsim("run", "--reps", "2", "--out", str(out), *SETS, *FAST, "--overwrite")
    assert forced.returncode == 0, forced.stderr
    assert len(pd.read_parquet(out / "runs.parquet")) == 2


def test_lock_file_is_removed_when_the_run_ends(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok = ccsim("run", "--reps", "2", "--out", str(out), *SETS, *FAST)
    assert ok.returncode == 0, ok.stderr
    assert not (out / ".ccsim.lock").exists()
    refused = ccsim("run", "--reps", "3", "--out", str(out), *SETS, *FAST)
    assert refused.returncode == 2
    assert not (out / ".ccsim.lock").exists()


def test_resume_remembers_no_figures(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok = ccsim("run", "--reps", "2", "--out", str(out), *SETS, *FAST)
    assert ok.returncode == 0, ok.stderr
    resumed = ccsim("run", "--out", str(out), "--resume", "--quiet", "--jobs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert not (out / "figures").exists()
    assert "figures/" not in resumed.stdout
