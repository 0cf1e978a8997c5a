"""Regressions for the second new-user trial (results folders, compare --resume, code changes).

One section per reported defect; each test failed before its fix.
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, ROOT, SETS, TINY, TINY_TOML

import sim.commands.run as run_command
from sim import compare as compare_module
from sim.checkpoint import Interrupted
from sim.cli import main
from sim.compare import MIN_RELIABLE_PAIRS, few_pairs_caution
from sim.experiment import Design, run_experiment
from sim.loader import load_scenario
from sim.results import (
    CCSIM_OUTPUTS,
    MODEL_MODULES,
    code_fingerprint,
    import_closure,
    remove_outputs,
    source_fingerprint,
)

HARD = "[programme.tactics]\nhard = 0.9\n"


def ccsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd or ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def one_error_line(err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def scenario_files(tmp_path: Path, body: str = TINY_TOML) -> tuple[str, str]:
    """Two small designs as TOML files (``compare`` takes no --set): ``small``, ``small_hard``."""
    a, b = tmp_path / "small.toml", tmp_path / "small_hard.toml"
    a.write_text(body)
    b.write_text(body + HARD)
    return str(a), str(b)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def tiny_design(name: str = "baseline") -> Design:
    return Design(name, load_scenario(None, TINY).model_copy(update={"name": name}))


def interrupted_run(out: Path, reps: int = 60) -> None:
    """A TINY baseline run into ``out`` stopped after its second chunk (as by Ctrl-C)."""
    seen: list[int] = []

    def stop(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        run_experiment(
            [tiny_design()], reps, root_seed=4, out_dir=out, progress=False, on_chunk=stop
        )
    assert manifest(out)["status"] == "interrupted"


# ------------------------------------------------------------------ 1: --overwrite keeps user files


def test_compare_overwrite_deletes_only_ccsim_outputs(tmp_path: Path) -> None:
    a, b = scenario_files(tmp_path)
    out = tmp_path / "work"
    out.mkdir()
    (out / "notes.txt").write_text("important")
    (out / "figures").mkdir()
    (out / "figures" / "my_sketch.png").write_bytes(b"mine")
    assert main(["run", a, b, "--reps", "2", "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert (out / "summary.md").is_file() and (out / "figures" / "gap_curve.png").is_file()
    code = main(["compare", a, b, "--reps", "3", "--out", str(out), *FAST, "--overwrite"])
    assert code == 0
    assert (out / "notes.txt").read_text() == "important"
    assert (out / "figures" / "my_sketch.png").read_bytes() == b"mine"
    # the run's report and figures went with it: nothing stale is left beside the comparison
    assert not (out / "summary.md").exists()
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["my_sketch.png"]
    assert (out / "comparison.md").is_file()
    assert len(pd.read_parquet(out / "runs.parquet")) == 6
    assert manifest(out)["replications"] == 3
    # run --overwrite over the comparison: the same rule the other way round
    code = main(["run", a, "--reps", "2", "--out", str(out), *FAST, "--overwrite"])
    assert code == 0
    assert (out / "notes.txt").read_text() == "important"
    for stale in ("comparison.md", "comparison.parquet", "survival.parquet"):
        assert not (out / stale).exists(), stale
    assert set(pd.read_parquet(out / "runs.parquet")["design"]) == {"small"}


def test_remove_outputs_leaves_everything_that_is_not_ccsims(tmp_path: Path) -> None:
    ccsim_files = [
        "manifest.json",
        "runs.parquet",
        "summary.md",
        "comparison.md",
        "series/part-d000-r000000.parquet",
        "series/.part-d000-r000025.parquet.x1y2.tmp",
        "chunks/part-d000-r000000.json",
        "figures/gap_curve.png",
        "figures/.compare_forest.png.tmp",
        "figures/compare_forest.png",
        "csv/series.csv",
    ]
    users = ["notes.txt", "runs.parquet.bak", "figures/mine.png", "analysis/runs.parquet"]
    for rel in [*ccsim_files, *users]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    # a CSV is ccsim's when the record of `ccsim export` lists it (tests/test_user_reports_3.py)
    record = {"format": "ccsim-csv-export/1", "files": [{"csv": "series.csv"}]}
    (tmp_path / "csv" / "export.json").write_text(json.dumps(record))
    ccsim_files.append("csv/export.json")
    removed = remove_outputs(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(users)
    assert {tmp_path / rel for rel in ccsim_files} <= set(removed)
    # emptied part folders go, a folder still holding a user's file stays
    assert not (tmp_path / "series").exists() and not (tmp_path / "chunks").exists()
    assert (tmp_path / "figures").is_dir()
    assert remove_outputs(tmp_path / "missing") == []


def test_every_figure_ccsim_draws_is_a_known_output() -> None:
    from sim.compare.plots import FIGURES
    from sim.plots import FIGURE_NAMES

    for name in (*FIGURE_NAMES, *FIGURES, "heatmap_gap_auc.png", "sensitivity_sobol_t50.png"):
        assert any(fnmatch.fnmatch(f"figures/{name}", p) for p in CCSIM_OUTPUTS), name


def test_an_empty_out_is_refused(tmp_path: Path) -> None:
    a, b = scenario_files(tmp_path)
    for args in (["run", *SETS], ["compare", a, b]):
        proc = ccsim(*args, "--reps", "2", "--out", "", *FAST, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        one_error_line(proc.stderr, "--out", "empty folder name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.toml", "small_hard.toml"]


# ------------------------------------------------------------------ 2: compare --resume


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_interrupted_compare_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    # 5 sites over the full 48 months: chunks of ~0.4 s, so Ctrl-C lands mid-run
    a, b = scenario_files(tmp_path, "extends = 'baseline'\n[sites]\nn_sites = 5\n")
    out, ref = tmp_path / "cmp", tmp_path / "ref"
    args = ["compare", a, b, "--reps", "100", "--seed", "7", "--out", str(out), *FAST]
    proc = _popen(*args)
    start = time.monotonic()
    while not list((out / "chunks").glob("part-*.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < 120, "timed out"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    one_error_line(err, "interrupted by SIGINT", "add --resume to the same command")
    assert manifest(out)["status"] == "interrupted"
    again = ccsim(*args)
    assert again.returncode == 2
    one_error_line(again.stderr, "unfinished run", "add --resume")
    resumed = ccsim(*args, "--resume")  # the advice, followed to the letter
    assert resumed.returncode == 0, resumed.stderr
    m = manifest(out)
    assert m["complete"] is True and len(m["resumed"]) == 1
    assert main(["compare", a, b, "--reps", "100", "--seed", "7", "--out", str(ref), *FAST]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "comparison.parquet"), pd.read_parquet(ref / "comparison.parquet")
    )
    assert (out / "runs.parquet").read_bytes() == (ref / "runs.parquet").read_bytes()
    assert (out / "survival.parquet").read_bytes() == (ref / "survival.parquet").read_bytes()


def test_compare_advice_to_reuse_a_finished_folder_works(tmp_path: Path, capsys) -> None:
    a, b = scenario_files(tmp_path)
    out = tmp_path / "cmp"
    assert main(["compare", a, b, "--reps", "2", "--out", str(out), *FAST]) == 0
    before = (out / "runs.parquet").read_bytes()
    capsys.readouterr()
    assert main(["compare", a, b, "--reps", "3", "--out", str(out), *FAST]) == 2
    line = one_error_line(capsys.readouterr().err, "2 replications", "--resume --reps 2")
    assert line.startswith("ccsim compare: error: --out")
    # "add --resume --reps 2": reuses the finished runs, runs nothing new
    code = main(
        ["compare", a, b, "--reps", "3", "--out", str(out), *FAST, "--resume", "--reps", "2"]
    )
    assert code == 0
    assert (out / "runs.parquet").read_bytes() == before
    table = pd.read_parquet(out / "comparison.parquet")
    assert (table["n_pairs"] + table["n_missing"] == 2).all()
    # --resume alone takes the recorded --reps and --seed
    assert main(["compare", a, b, "--out", str(out), *FAST, "--resume"]) == 0
    assert (out / "runs.parquet").read_bytes() == before
    capsys.readouterr()
    assert main(["compare", a, b, "--out", str(tmp_path / "none"), *FAST, "--resume"]) == 2
    one_error_line(capsys.readouterr().err, "nothing to resume")


# ------------------------------------------------------------------ 3: resume after code changes


def test_resume_refuses_results_of_other_model_code(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    interrupted_run(out)
    m = manifest(out)
    assert m["code"] == code_fingerprint() and len(m["code"]["sha256"]) == 64
    old_sha = "ab" * 32
    m["code"] = {**m["code"], "sha256": old_sha}
    m["git"] = {"commit": "0123456789abcdef" * 2 + "01234567", "dirty": False}
    (out / "manifest.json").write_text(json.dumps(m))
    before = sorted(p.name for p in (out / "chunks").iterdir())
    assert main(["run", "--out", str(out), "--resume", *FAST]) == 2
    line = one_error_line(capsys.readouterr().err, "cannot resume", "other model code")
    assert old_sha[:12] in line and code_fingerprint()["sha256"][:12] in line
    assert "git commit 0123456789ab" in line and "--overwrite" in line and "another --out" in line
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before  # nothing touched
    # a manifest from before fingerprints were recorded cannot vouch for its code either
    del m["code"]
    (out / "manifest.json").write_text(json.dumps(m))
    assert main(["run", "--out", str(out), "--resume", *FAST]) == 2
    one_error_line(capsys.readouterr().err, "other model code", "not recorded")


def test_resume_keeps_the_runs_original_git_state(tmp_path: Path) -> None:
    out = tmp_path / "out"
    interrupted_run(out)
    m = manifest(out)
    started = {"commit": "feedface" * 5, "dirty": True}
    (out / "manifest.json").write_text(json.dumps({**m, "git": started}))
    assert main(["run", "--out", str(out), "--resume", *FAST]) == 0
    done = manifest(out)
    assert done["complete"] is True and done["git"] == started
    assert done["created"] == m["created"] and done["code"] == m["code"]


def test_source_fingerprint_follows_every_python_source(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    first = source_fingerprint(pkg)
    assert first["files"] == 2 and first == source_fingerprint(pkg)
    (pkg / "notes.md").write_text("not code")
    (pkg / "sub" / "__pycache__").mkdir()
    (pkg / "sub" / "__pycache__" / "c.py").write_text("cache")
    assert source_fingerprint(pkg) == first
    (pkg / "a.py").write_text("x = 2\n")  # an edit
    edited = source_fingerprint(pkg)
    assert edited["sha256"] != first["sha256"]
    (pkg / "a.py").write_text("x = 1\n")
    assert source_fingerprint(pkg) == first
    (pkg / "a.py").rename(pkg / "c.py")  # a rename
    assert source_fingerprint(pkg)["sha256"] != first["sha256"]


def test_code_fingerprint_covers_the_model_and_runner_not_reports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "run.py").write_text("def f():\n    from pkg.sub import core\n    return core\n")
    (pkg / "sub" / "__init__.py").write_text("from .helper import x\n")
    (pkg / "sub" / "core.py").write_text("import numpy\n")
    (pkg / "sub" / "helper.py").write_text("x = 1\n")
    (pkg / "report.py").write_text("import pkg.run\n")  # imports the model, is not imported
    files = [p.relative_to(pkg).as_posix() for p in import_closure(pkg, ["pkg.run"])]
    assert files == ["__init__.py", "run.py", "sub/__init__.py", "sub/core.py", "sub/helper.py"]
    first = source_fingerprint(pkg, ["pkg.run"])
    (pkg / "report.py").write_text("import pkg.run  # edited\n")
    assert source_fingerprint(pkg, ["pkg.run"]) == first
    (pkg / "sub" / "helper.py").write_text("x = 2\n")  # reached via a relative import
    assert source_fingerprint(pkg, ["pkg.run"])["sha256"] != first["sha256"]
    sim_dir = ROOT / "sim"
    model = {p.relative_to(sim_dir).as_posix() for p in import_closure(sim_dir, MODEL_MODULES)}
    assert {"model.py", "replicate.py", "metrics.py", "rng.py", "diskrun.py"} <= model
    assert {"mechanisms/adoption.py", "mechanisms/review.py"} <= model
    assert not {"plots.py", "cli.py", "compare/__init__.py", "commands/run.py"} & model
    ours = code_fingerprint()
    assert (
        ours["files"] == len(model)
        and ours["sha256"] == source_fingerprint(sim_dir, MODEL_MODULES)["sha256"]
    )


# ------------------------------------------------------------------ 4: too few pairs


def test_compare_with_few_replications_says_the_intervals_are_unreliable(
    tmp_path: Path, capsys
) -> None:
    a, b = scenario_files(tmp_path)
    out = tmp_path / "cmp"
    assert main(["compare", a, b, "--reps", "2", "--out", str(out), *FAST]) == 0
    err = capsys.readouterr().err
    line = one_error_line(err, "warning", "only 2 paired replications", "unreliable", "--reps 20")
    assert line.startswith("ccsim compare: warning:")
    text = (out / "comparison.md").read_text()
    assert "> **Caution:** Only 2 paired replications per design" in text
    assert MIN_RELIABLE_PAIRS == 20
    assert few_pairs_caution(19) is not None and few_pairs_caution(20) is None


# ------------------------------------------------------------------ 5: --out before any back end


@contextmanager
def _no_backend(args: object):
    raise AssertionError("a back end was started although --out is unusable")
    yield  # pragma: no cover


def test_out_is_checked_before_any_back_end_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    other = tmp_path / "other"
    assert main(["run", *SETS, "--reps", "2", "--out", str(other), *FAST, "--seed", "1"]) == 0
    unfinished = tmp_path / "unfinished"
    interrupted_run(unfinished)
    capsys.readouterr()
    monkeypatch.setattr(run_command, "open_backend", _no_backend)
    cases = [
        (["--out", str(a_file)], "not a folder"),
        (["--out", str(other)], "different experiment"),
        (["--out", str(unfinished), "--seed", "4", "--reps", "60"], "unfinished run"),
        (["--out", str(tmp_path / "nothing"), "--resume"], "nothing to resume"),
        (["--out", str(other), "--resume", "--reps", "3"], "cannot resume"),
    ]
    for extra, needle in cases:
        code = main(["run", *SETS, "--backend", "ray", *FAST, *extra])
        assert code == 2, extra
        one_error_line(capsys.readouterr().err, needle)
    assert not (tmp_path / "nothing").exists()


def test_compare_checks_out_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    a, b = scenario_files(tmp_path)
    other = tmp_path / "other"
    assert main(["run", *SETS, "--reps", "2", "--out", str(other), *FAST]) == 0
    capsys.readouterr()

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the comparison ran although --out is unusable")

    monkeypatch.setattr(compare_module, "run_comparison", no_run)
    assert main(["compare", a, b, "--reps", "2", "--out", str(other), *FAST]) == 2
    one_error_line(capsys.readouterr().err, "different experiment")


# ------------------------------------------------------------------ 6: docs/compare.md


def test_compare_docs_state_the_community_sizes_of_the_scenarios() -> None:
    text = " ".join((ROOT / "docs" / "compare.md").read_text(encoding="utf-8").split())
    assert "(103, 275 and 20 sites)" not in text
    mm = load_scenario("matching_michigan")
    keystone, hard = load_scenario("keystone"), load_scenario("hard_only")
    assert f"{mm.sites.n_sites} programme sites and {mm.control.n_sites} control sites" in text
    assert f"Keystone {keystone.sites.n_sites} sites" in text
    assert f"{hard.sites.n_sites} for the baseline-derived designs" in text


def test_comparison_notes_count_programme_and_control_sites() -> None:
    from sim.compare import design_notes, window_months

    designs = [Design(n, load_scenario(n)) for n in ("keystone", "matching_michigan", "hard_only")]
    windows = {d.name: window_months(d) for d in designs}
    notes = design_notes(designs, windows, min(windows.values()))
    assert (
        "(keystone 103 sites; matching_michigan 215 programme and 60 control sites; "
        "hard_only 20 sites)" in notes[1]
    )
