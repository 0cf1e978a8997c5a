"""The real console command (``python -m sim``) in a subprocess: outputs, errors, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.consolidate import read_series
from sim.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "scenarios").glob("*.toml"))
SMALL = ["--set", "sites.n_sites=6"]
FAST = ["--jobs", "1", "--no-figures", "--quiet"]
REQUIRED_RUN_COLUMNS = [
    "design",
    "replication",
    "seed",
    "t50_months",
    "t50_censored",
    "t90_months",
    "t90_censored",
    "gap_auc",
    "gap_programme_end",
    "gap_followup_end",
    "sites_improved_share",
    "site_gini",
    "dropouts",
    "conflict_mean",
    "gaming_gap",
    "irr_programme_end",
    "cost_total",
]


def ccsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env=env,
    )


def assert_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, exactly one line on stderr, no traceback, and the line says what is wrong."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stderr.endswith("\n"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    proc = ccsim("run", "baseline", "--reps", "4", "--seed", "7", "--out", str(out), *SMALL, *FAST)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return out


def test_run_writes_runs_parquet(run_dir: Path) -> None:
    runs = pd.read_parquet(run_dir / "runs.parquet")
    assert len(runs) == 4
    missing = [c for c in REQUIRED_RUN_COLUMNS if c not in runs.columns]
    assert not missing, missing
    assert runs["design"].tolist() == ["baseline"] * 4
    assert runs["replication"].tolist() == [0, 1, 2, 3]
    assert runs["seed"].nunique() == 4
    for k in ("t50", "t90"):
        assert (runs[f"{k}_months"].isna() == runs[f"{k}_censored"]).all()
    assert runs["gap_programme_end"].between(0, 1).all()
    assert (runs["cost_total"] > 0).all()


def test_run_writes_series_for_every_month(run_dir: Path) -> None:
    parts = sorted((run_dir / "series").glob("part-*.parquet"))
    assert parts
    series = read_series(run_dir)
    horizon = load_scenario("baseline", ["sites.n_sites=6"]).time.horizon
    assert sorted(series["replication"].unique()) == [0, 1, 2, 3]
    for rep, frame in series.groupby("replication"):
        assert frame["month"].tolist() == list(range(horizon)), rep


def test_run_writes_sites_parquet(run_dir: Path) -> None:
    sites = pd.read_parquet(run_dir / "sites.parquet")
    assert len(sites) == 4 * 6  # 6 programme sites, no control arm, 4 replications
    assert set(sites["arm"]) == {"programme"}
    for rep, frame in sites.groupby("replication"):
        assert frame["site"].tolist() == list(range(6)), rep
    assert sorted(sites["replication"].unique()) == [0, 1, 2, 3]


def test_run_writes_manifest(run_dir: Path) -> None:
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["root_seed"] == 7
    assert m["complete"] is True
    assert m["replications"] == 4
    (design,) = m["designs"]
    assert design["name"] == "baseline"
    resolved = load_scenario("baseline", ["sites.n_sites=6"]).model_dump(mode="json")
    assert design["scenario"] == resolved
    assert design["scenario"]["sites"]["n_sites"] == 6
    v = m["versions"]
    assert v["python"] == ".".join(map(str, sys.version_info[:3]))
    assert v["ccsim"] and v["mesa"].startswith("3.5") and v["numpy"]
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert m["git"]["commit"] == head
    assert isinstance(m["git"]["dirty"], bool)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--reps", "0"], ["--reps"]),
        (["--reps", "-3"], ["--reps"]),
        (["--jobs", "0"], ["--jobs"]),
        (["--set", "nokey"], ["nokey"]),
        (["--set", "programme.tactics.hard=5"], ["programme.tactics.hard", "[0, 1]"]),
    ],
    ids=["reps0", "reps-3", "jobs0", "set-nokey", "set-range"],
)
def test_bad_arguments_one_line_exit_2(tmp_path: Path, args: list[str], needles: list[str]) -> None:
    out = tmp_path / "out"
    proc = ccsim("run", "baseline", "--out", str(out), *SMALL, *FAST, *args)
    assert_usage_error(proc, *needles)
    assert not (out / "runs.parquet").exists()


def test_unknown_scenario_name(tmp_path: Path) -> None:
    proc = ccsim("run", "no_such_scenario", "--out", str(tmp_path / "o"), *FAST)
    assert_usage_error(proc, "no_such_scenario")


def test_malformed_toml_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sites\nn_sites = 3\n", encoding="utf-8")
    proc = ccsim("run", str(bad), "--out", str(tmp_path / "o"), *FAST)
    assert_usage_error(proc, str(bad))


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = ccsim(
        "--debug",
        "run",
        "baseline",
        "--out",
        str(tmp_path / "o"),
        *FAST,
        "--set",
        "programme.tactics.hard=5",
    )
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ScenarioError" in proc.stderr
    assert "programme.tactics.hard" in proc.stderr.splitlines()[-1]


def test_scenarios_lists_the_library() -> None:
    proc = ccsim("scenarios")
    assert proc.returncode == 0, proc.stderr
    listed = {
        line.split()[0] for line in proc.stdout.splitlines() if line and not line[0].isspace()
    }
    assert listed == {p.stem for p in LIBRARY}
    for p in LIBRARY:  # the first words of each description are printed beside its name
        desc = " ".join(tomllib.loads(p.read_text(encoding="utf-8"))["description"].split())
        assert " ".join(desc.split()[:3]) in proc.stdout, p.stem


def test_run_help_mentions_every_option() -> None:
    proc = ccsim("run", "--help")
    assert proc.returncode == 0
    for opt in (
        "--reps",
        "--jobs",
        "--seed",
        "--out",
        "--set",
        "--overwrite",
        "--no-figures",
        "--quiet",
        "--independent",
    ):
        assert opt in proc.stdout, opt


def test_second_run_needs_overwrite_for_a_different_experiment(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = ccsim("run", "baseline", "--reps", "2", "--out", str(out), *SMALL, *FAST)
    assert first.returncode == 0, first.stderr
    # the same experiment again is fine
    again = ccsim("run", "baseline", "--reps", "2", "--out", str(out), *SMALL, *FAST)
    assert again.returncode == 0, again.stderr
    # a different scenario is refused, and the old results are left as they were
    before = (out / "runs.parquet").read_bytes()
    other = ccsim("run", "soft_only", "--reps", "2", "--out", str(out), *SMALL, *FAST)
    assert_usage_error(other, "--overwrite")
    assert (out / "runs.parquet").read_bytes() == before
    # ... unless --overwrite
    forced = ccsim(
        "run", "soft_only", "--reps", "2", "--out", str(out), *SMALL, *FAST, "--overwrite"
    )
    assert forced.returncode == 0, forced.stderr
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in m["designs"]] == ["soft_only"]
    assert set(pd.read_parquet(out / "runs.parquet")["design"]) == {"soft_only"}
    assert set(read_series(out)["design"]) == {"soft_only"}


def test_rerun_with_fewer_reps_leaves_no_stale_series(tmp_path: Path) -> None:
    out = tmp_path / "out"
    big = ccsim("run", "baseline", "--reps", "30", "--out", str(out), *SMALL, *FAST)
    assert big.returncode == 0, big.stderr
    # fewer replications into a finished run would delete finished work: needs --overwrite
    small = ccsim("run", "baseline", "--reps", "3", "--out", str(out), *SMALL, *FAST)
    assert_usage_error(small, "30 replications", "--overwrite")
    small = ccsim("run", "baseline", "--reps", "3", "--out", str(out), *SMALL, *FAST, "--overwrite")
    assert small.returncode == 0, small.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["replication"]) == [0, 1, 2]
    assert sorted(read_series(out)["replication"].unique()) == [0, 1, 2]


def test_figures_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = ccsim(
        "run",
        "baseline",
        "--reps",
        "3",
        "--jobs",
        "1",
        "--seed",
        "3",
        "--out",
        str(out),
        *SMALL,
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    pngs = sorted((out / "figures").glob("*.png"))
    assert pngs
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000, png.name
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "baseline" in summary and "3" in summary
    assert "root seed" in summary.lower() or "seed" in summary.lower()
