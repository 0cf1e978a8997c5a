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


# ------------------------------------------------------------------ 2: sweep files


def _sweep(tmp_path: Path, extra: str, params: str = "") -> Path:
    body = f"""name = "t"
base = "baseline"
set = {[s for s in TINY if not s.startswith("sites.n_sites")]!r}
design = "lhs"
samples = 3
replications = 1
{extra}
[parameters."sites.n_sites"]
range = [3, 6]
{params}"""
    path = tmp_path / "s.toml"
    path.write_text(body.replace("'", '"'), encoding="utf-8")
    return path


def test_sweep_file_values_are_checked(tmp_path: Path) -> None:
    from sim.sweep.spec import SweepError, load_sweep

    for text, needle in [
        ('replications = "abc"', "replications = 'abc'"),
        ("replications = [1]", "replications = [1]"),
        ("replications = 2.7", "replications = 2.7"),
        ("replications = true", "replications = True"),
        ("seed = -1", "seed = -1"),
        ("samples = 0", "samples = 0"),
    ]:
        key = text.split(" = ")[0]
        body = _sweep(tmp_path, "").read_text(encoding="utf-8")
        lines = [line for line in body.splitlines() if not line.startswith(f"{key} = ")]
        (tmp_path / "s.toml").write_text("\n".join([text, *lines]) + "\n", encoding="utf-8")
        try:
            load_sweep(tmp_path / "s.toml")
        except SweepError as exc:
            assert str(exc).startswith(str(tmp_path / "s.toml")) and needle in str(exc), exc
        else:
            raise AssertionError(f"{text} accepted")


def test_sweep_cli_bad_value_bad_outcome_and_directory(tmp_path: Path) -> None:
    path = _sweep(tmp_path, "seed = -1")
    assert_usage_error(ccsim("sweep", str(path), "--jobs", "2"), "s.toml", "seed = -1")
    path = _sweep(tmp_path, "")
    out = tmp_path / "o"
    bad = ccsim("sweep", str(path), "--outcome", "bogus", "--out", str(out), "--quiet")
    assert_usage_error(bad, "--outcome bogus", "gap_auc")
    assert not out.exists()  # refused before any run
    bad = ccsim("sensitivity", str(path), "--samples", "4", "--outcome", "bogus", "--out", str(out))
    assert_usage_error(bad, "--outcome bogus")
    assert_usage_error(ccsim("sweep", str(tmp_path)), "is a directory")
    bad = _sweep(tmp_path, 'outcomes = ["gap_auc", "nope"]')
    assert_usage_error(ccsim("sweep", str(bad), "--out", str(out)), "s.toml", "nope")


def test_sweep_design_parquet_stores_the_values_run(tmp_path: Path) -> None:
    from sim.sweep import load_sweep, read_sweep, run_sweep

    path = _sweep(tmp_path, "", '[parameters."programme.tactics.hard"]\nlevels = [0.2, 0.6]\n')
    text = path.read_text().replace('design = "lhs"', 'design = "grid"')
    text = text.replace("range = [3, 6]", "range = [3, 6]\nsteps = 3")
    path.write_text(text, encoding="utf-8")
    spec = load_sweep(path)
    out = run_sweep(spec, tmp_path / "o", progress=False)
    design = pd.read_parquet(out / "design.parquet")
    assert design["sites.n_sites"].tolist() == [3, 3, 4, 4, 6, 6] or set(
        design["sites.n_sites"]
    ) <= {3, 4, 5, 6}
    assert (design["sites.n_sites"] == design["sites.n_sites"].round()).all()
    runs = read_sweep(out).drop_duplicates("point").set_index("point")
    assert (runs.loc[design["point"], "sites.n_sites"].to_numpy() == design["sites.n_sites"]).all()


def test_sweep_design_parquet_lhs_integer_and_text_levels(tmp_path: Path) -> None:
    from sim.sweep import load_sweep, run_sweep

    path = _sweep(tmp_path, "")
    spec = load_sweep(path)
    out = run_sweep(spec, tmp_path / "o", progress=False)
    values = pd.read_parquet(out / "design.parquet")["sites.n_sites"]
    assert (values == values.round()).all() and values.between(3, 6).all()


# ------------------------------------------------------------------ 3: rerun


def test_rerun_bad_unfinished_and_sweep_manifests(tmp_path: Path) -> None:
    import json

    fake = tmp_path / "fake.json"
    fake.write_text(
        json.dumps({"tool": "ccsim", "designs": [{"name": "a"}], "replications": 2, "root_seed": 1})
    )
    assert_usage_error(ccsim("rerun", str(fake)), "fake.json", "'scenario'")
    # an unfinished run: refused, pointing at run --resume
    out = tmp_path / "run"
    ok = ccsim("run", "--reps", "2", "--out", str(out), *SETS, *FAST)
    assert ok.returncode == 0, ok.stderr
    m = json.loads((out / "manifest.json").read_text())
    m.update(complete=False, status="interrupted", replications=100000)
    m["completed_replications"] = {"baseline": 2}
    (out / "manifest.json").write_text(json.dumps(m))
    line = assert_usage_error(ccsim("rerun", str(out)), "unfinished", "2 of 100000", "--resume")
    assert f"--out {out}" in line
    assert not (tmp_path / "run-rerun").exists()
    # a sweep's manifest
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "manifest.json").write_text(
        json.dumps({"tool": "ccsim sweep", "spec": {"source": "s.toml"}})
    )
    assert_usage_error(ccsim("rerun", str(sweep)), "manifest of a sweep", "ccsim sweep s.toml")


# ------------------------------------------------------------------ 4: validate --report


def test_validate_report_path_is_checked_before_running(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    bad = ccsim("validate", "--reps", "2", "--report", str(tmp_path / "afile" / "x.md"))
    assert_usage_error(bad, "--report", "afile is a file, not a folder")
    assert bad.stdout == ""  # refused before any check ran
    assert_usage_error(ccsim("validate", "--report", str(tmp_path)), "is a folder")


# ------------------------------------------------------------------ 5: calibrate


def _nodes(tmp_path: Path) -> Path:
    n = 40
    month = [1 + i % 10 if i % 3 else 99 for i in range(n)]
    frame = pd.DataFrame({"pid": [f"P{i}" for i in range(n)], "site": [i % 2 for i in range(n)]})
    path = tmp_path / "nodes.csv"
    frame.assign(month=month).to_csv(path, index=False)
    return path


def test_calibrate_edges_naming_only_unknown_ids_is_refused(tmp_path: Path) -> None:
    """An edges file none of whose ties joins two known ids would leave no network at all:
    refused in one line that names the file and the first unknown id (it used to run as if
    there were no network; the untestable permutation case is in test_calibration.py)."""
    edges = tmp_path / "edges.csv"
    pd.DataFrame({"a": [f"X{i}" for i in range(9)], "b": [f"Y{i}" for i in range(9)]}).to_csv(
        edges, index=False
    )
    out = tmp_path / "cal"
    args = ["--id", "pid", "--group", "site", "--time", "month", "--censored-at", "99"]
    args += ["--edge-from", "a", "--edge-to", "b", "--out", str(out), "--no-figures"]
    proc = ccsim("calibrate", str(_nodes(tmp_path)), str(edges), *args)
    assert_usage_error(proc, "edges.csv", "none of its 9 ties", "'X0'")
    assert not (out / "calibration.json").exists()


def test_calibrate_empty_time_column_says_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    pd.DataFrame({"pid": ["a", "b"], "month": [None, None]}).to_csv(path, index=False)
    for code in ("99", "NA"):
        proc = ccsim(
            "calibrate", str(path), "--id", "pid", "--time", "month", "--censored-at", code,
            "--out", str(tmp_path / "o"),
        )  # fmt: skip
        assert_usage_error(proc, "empty.csv", "'month' is empty")


# ------------------------------------------------------------------ 6: compare


def test_identical_costs_say_the_same() -> None:
    from sim.compare.report import plain_line

    row = {"metric": "cost_total", "design": "soft_only", "baseline": "keystone", "n_pairs": 20}
    row.update(diff_mean=0.0, diff_sd=0.0, ci_low=0.0, ci_high=0.0, p_better=0.5)
    line = plain_line(row)
    assert line.startswith("soft_only costs the same as keystone"), line
    assert "0 more" not in line and "P(cheaper)" not in line
    row.update(diff_mean=0.0, diff_sd=3.0, ci_low=-1.0, ci_high=1.0)  # zero on average only
    assert "costs the same" not in plain_line(row)


def test_help_shows_single_percent() -> None:
    for cmd in ("compare", "sensitivity"):
        proc = ccsim(cmd, "--help")
        assert proc.returncode == 0 and "95% CIs" in proc.stdout and "%%" not in proc.stdout


def test_forest_and_frontier_with_degenerate_rows() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from sim.compare.plots import cost_effectiveness, forest

    table = pd.DataFrame(
        {
            "design": ["soft_only"],
            "metric": ["cost_total"],
            "diff_mean": [0.0],
            "ci_low": [0.0],
            "ci_high": [0.0],
            "p_better": [0.5],
        }
    )
    fig = forest(table, "keystone")
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= -1.0 and hi >= 1.0
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any("e-" in t for t in labels), labels
    runs = pd.DataFrame(
        {
            "design": ["a", "a", "b", "b"],
            "cost_total": [10.0, 12.0, 10.0, 12.0],
            "gap_programme_end": [0.5, 0.4, 0.7, 0.6],
        }
    )
    fig = cost_effectiveness(runs, ["a", "b"])  # same cost: only 'a' is on the frontier
    names = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "frontier" not in names and {"a", "b"} <= set(names)
