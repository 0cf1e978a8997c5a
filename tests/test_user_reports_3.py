"""Regressions for the third user trial (user files in folders without a manifest, rerun into
its own folder, CSV exports, interrupted reports, compare --baseline --resume).

One section per reported defect; each test failed before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, ROOT, SETS, TINY, TINY_TOML, ccsim, one_error_line

SWEEP = (
    'name = "small"\nbase = "baseline"\nset = ' + json.dumps(TINY) + "\nseed = 3\n"
    'outcomes = ["gap_auc"]\nreplications = 1\n'
    '[parameters."programme.tactics.soft"]\nlevels = [0.2, 0.8]\n'
)


def scenario_files(tmp_path: Path) -> tuple[Path, Path]:
    """Two small designs as TOML files: ``small`` and ``small_hard``."""
    a, b = tmp_path / "small.toml", tmp_path / "small_hard.toml"
    a.write_text(TINY_TOML)
    b.write_text(TINY_TOML + "[programme.tactics]\nhard = 0.9\n")
    return a, b


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ 1: user files, no manifest


def test_run_refuses_a_folder_without_manifest_holding_the_users_report(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "D"
    (out / "figures").mkdir(parents=True)
    (out / "summary.md").write_text("my summary")
    (out / "figures" / "gap_curve.png").write_bytes(b"png")
    run = ["run", "baseline", *SETS, "--reps", "2", "--out", out, "--jobs", "1", "--quiet"]
    code, _, err = ccsim(capsys, *run)
    one_error_line(code, err, "ccsim run", "summary.md", "--overwrite")
    assert (out / "summary.md").read_text() == "my summary"
    assert (out / "figures" / "gap_curve.png").read_bytes() == b"png"
    assert not (out / "manifest.json").exists()
    # only the figure: still refused; with --no-figures nothing of the user's is at stake
    (out / "summary.md").unlink()
    code, _, err = ccsim(capsys, *run)
    one_error_line(code, err, "figures/gap_curve.png")
    code, _, err = ccsim(capsys, *run, "--no-figures")
    assert code == 0, err
    assert (out / "figures" / "gap_curve.png").read_bytes() == b"png"
    # --overwrite allows it
    (out / "summary.md").write_text("my summary")
    other = tmp_path / "E"
    (other / "figures").mkdir(parents=True)
    (other / "summary.md").write_text("my summary")
    code, _, err = ccsim(capsys, *[a if a != out else other for a in run], "--overwrite")
    assert code == 0, err
    assert (other / "summary.md").read_text() != "my summary"
    assert manifest(other)["complete"] is True


def test_run_refuses_the_current_folder_holding_a_summary(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "summary.md").write_text("mine")
    code, _, err = ccsim(capsys, "run", *SETS, "--reps", "2", "--out", ".", *FAST)
    one_error_line(code, err, "summary.md")
    assert (tmp_path / "summary.md").read_text() == "mine"


def test_compare_refuses_the_users_comparison_and_figures(tmp_path: Path, capsys) -> None:
    a, b = scenario_files(tmp_path)
    out = tmp_path / "C"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "compare_t50.png").write_bytes(b"mine")
    cmd = ["compare", a, b, "--reps", "2", "--out", out, "--jobs", "1", "--quiet"]
    code, _, err = ccsim(capsys, *cmd)
    one_error_line(code, err, "ccsim compare", "figures/compare_t50.png")
    (out / "comparison.md").write_text("my notes")
    code, _, err = ccsim(capsys, *cmd, "--no-figures")
    one_error_line(code, err, "comparison.md")
    assert (out / "comparison.md").read_text() == "my notes"
    assert (out / "figures" / "compare_t50.png").read_bytes() == b"mine"
    code, _, err = ccsim(capsys, *cmd, "--no-figures", "--overwrite")
    assert code == 0, err
    assert (out / "comparison.md").read_text() != "my notes"


@pytest.mark.parametrize("mine", ["sweep.md", "design.parquet", "figures/heatmap_gap_auc.png"])
def test_sweep_refuses_the_users_files(tmp_path: Path, capsys, mine: str) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "S"
    (out / mine).parent.mkdir(parents=True, exist_ok=True)
    (out / mine).write_bytes(b"mine")
    code, _, err = ccsim(capsys, "sweep", spec, "--out", out, "--jobs", "1", "--quiet")
    one_error_line(code, err, "ccsim sweep", mine)
    assert (out / mine).read_bytes() == b"mine"
    assert not (out / "manifest.json").exists()


# ------------------------------------------------------------------ 2: rerun --out its own folder


def test_rerun_into_its_own_folder_is_refused_and_changes_nothing(tmp_path: Path, capsys) -> None:
    a, b = scenario_files(tmp_path)
    out = tmp_path / "D"
    code, _, err = ccsim(capsys, "compare", a, b, "--reps", "2", "--out", out, *FAST)
    assert code == 0, err
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert (out / "comparison.md") in before
    for target in (out, tmp_path / "." / "D", f"{out}/"):
        code, _, err = ccsim(capsys, "rerun", out, "--out", target, "--jobs", "1", "--quiet")
        one_error_line(code, err, "ccsim rerun", "is the folder being re-run", "another --out")
        code, _, err = ccsim(
            capsys, "rerun", out / "manifest.json", "--out", target, "--overwrite", "--quiet"
        )
        one_error_line(code, err, "is the folder being re-run")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_rerun_compares_with_the_runs_as_they_were_before_it_ran(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    import sim.experiment

    out = tmp_path / "D"
    code, _, err = ccsim(capsys, "run", *SETS, "--reps", "3", "--out", out, *FAST)
    assert code == 0, err
    real = sim.experiment.run_experiment

    def and_damage_the_original(*args, **kwargs):  # as a re-run writing into D would
        result = real(*args, **kwargs)
        frame = pd.read_parquet(out / "runs.parquet")
        frame.iloc[:0].to_parquet(out / "runs.parquet")
        return result

    monkeypatch.setattr(sim.experiment, "run_experiment", and_damage_the_original)
    code, text, err = ccsim(capsys, "rerun", out, "--out", tmp_path / "R", "--jobs", "1", "--quiet")
    assert code == 0, err
    assert "identical: runs.parquet matches" in text and "(3 rows)" in text


# ------------------------------------------------------------------ 3: CSV exports


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_overwrite_keeps_the_users_csvs_and_removes_ccsims_export(tmp_path: Path, capsys) -> None:
    out = tmp_path / "D"
    code, _, err = ccsim(capsys, "run", *SETS, "--reps", "2", "--out", out, *FAST)
    assert code == 0, err
    (out / "runs.csv").write_text("my,own\n1,2\n")
    (out / "sites.csv").write_text("mine\n")
    code, _, err = ccsim(capsys, "export", out)
    assert code == 0, err
    assert {"csv/runs.csv", "csv/export.json"} <= _files(out)
    code, _, err = ccsim(capsys, "run", *SETS, "--reps", "3", "--out", out, *FAST, "--overwrite")
    assert code == 0, err
    assert (out / "runs.csv").read_text() == "my,own\n1,2\n"
    assert (out / "sites.csv").read_text() == "mine\n"
    assert not (out / "csv").exists()  # the export described the replaced run
    assert len(pd.read_parquet(out / "runs.parquet")) == 3


def test_resume_removes_the_export_of_the_unfinished_run(tmp_path: Path, capsys) -> None:
    from sim.checkpoint import Interrupted
    from sim.experiment import Design, run_experiment
    from sim.loader import load_scenario

    out = tmp_path / "D"
    seen: list[int] = []

    def stop(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    design = Design("baseline", load_scenario(None, TINY))
    with pytest.raises(Interrupted):
        run_experiment([design], 60, root_seed=4, out_dir=out, progress=False, on_chunk=stop)
    code, _, err = ccsim(capsys, "export", out)
    assert code == 0 and "unfinished run" in err, err
    partial = len(pd.read_csv(out / "csv" / "runs.csv"))
    assert 0 < partial < 60
    code, _, err = ccsim(capsys, "run", "--out", out, "--resume", *FAST)
    assert code == 0, err
    assert manifest(out)["complete"] is True
    assert not (out / "csv").exists()
    assert len(pd.read_parquet(out / "runs.parquet")) == 60


def test_sweep_overwrite_and_finishing_a_sweep_remove_its_export(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "S"
    code, _, err = ccsim(capsys, "sweep", spec, "--out", out, *FAST)
    assert code == 0, err
    code, _, err = ccsim(capsys, "export", out, "--beside")
    assert code == 0, err
    assert {"runs.csv", "design.csv", "export.json"} <= _files(out)
    (out / "notes.csv").write_text("mine\n")
    code, _, err = ccsim(capsys, "sweep", spec, "--out", out, *FAST, "--overwrite")
    assert code == 0, err
    assert not {"runs.csv", "design.csv", "export.json"} & _files(out)
    assert (out / "notes.csv").read_text() == "mine\n"
    # an export of a sweep's saved parts goes when the sweep runs on
    code, _, err = ccsim(capsys, "export", out)
    assert code == 0, err
    for part in (out / "runs").glob("part-*.parquet"):
        part.unlink()
        break
    code, _, err = ccsim(capsys, "sweep", spec, "--out", out, *FAST)
    assert code == 0, err
    assert not (out / "csv").exists()


def test_a_second_export_elsewhere_replaces_the_first(tmp_path: Path, capsys) -> None:
    out = tmp_path / "D"
    code, _, err = ccsim(capsys, "run", *SETS, "--reps", "2", "--out", out, *FAST)
    assert code == 0, err
    code, _, err = ccsim(capsys, "export", out)
    assert code == 0, err
    assert "csv/runs.csv" in _files(out)
    (out / "mine.csv").write_text("mine\n")
    code, _, err = ccsim(capsys, "export", out, "--beside")
    assert code == 0, err
    assert not (out / "csv").exists()
    assert {"runs.csv", "sites.csv", "series.csv", "export.json", "mine.csv"} <= _files(out)
    code, _, err = ccsim(capsys, "export", out)  # and back: the beside set goes
    assert code == 0, err
    assert {"csv/runs.csv", "csv/export.json", "mine.csv"} <= _files(out)
    assert not {"runs.csv", "sites.csv", "series.csv", "export.json"} & _files(out)


# ------------------------------------------------------------------ 4: interrupted report, docs


def test_troubleshooting_says_rerun_resumes() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert "it has no `--resume`" not in text
    assert "`run`, `compare`, `rerun`: add `--resume` to the same command" in text


def test_run_interrupted_while_drawing_says_how_to_get_the_report(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    import sim.plots

    out = tmp_path / "D"

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.plots, "save_figures", ctrl_c)
    run = ["run", *SETS, "--reps", "2", "--out", out, "--jobs", "1", "--quiet"]
    code, _, err = ccsim(capsys, *run)
    assert code == 130, err
    line = err.strip()
    assert line == (
        f"ccsim run: interrupted while writing the report; the results are complete in {out}; "
        f"'ccsim run --out {out} --resume' (or re-run the same command) writes the report"
    )
    assert manifest(out)["complete"] is True and not (out / "summary.md").exists()
    runs = (out / "runs.parquet").read_bytes()
    monkeypatch.undo()
    code, _, err = ccsim(capsys, "run", "--out", out, "--resume", "--quiet")  # the advice
    assert code == 0, err
    assert (out / "summary.md").is_file() and (out / "figures" / "gap_curve.png").is_file()
    assert (out / "runs.parquet").read_bytes() == runs  # read back, not run again
    (out / "summary.md").unlink()
    code, _, err = ccsim(capsys, *run)  # or the same command again
    assert code == 0, err
    assert (out / "summary.md").is_file()


# ------------------------------------------------------------------ 5: compare --baseline --resume


def test_compare_resume_accepts_the_same_designs_with_another_baseline(
    tmp_path: Path, capsys
) -> None:
    a, b = scenario_files(tmp_path)
    out, ref = tmp_path / "C", tmp_path / "R"
    cmd = ["compare", a, b, "--reps", "3", "--seed", "5", *FAST]
    code, _, err = ccsim(capsys, *cmd, "--out", out)
    assert code == 0, err
    runs = (out / "runs.parquet").read_bytes()
    code, text, err = ccsim(capsys, *cmd, "--out", out, "--baseline", "small_hard", "--resume")
    assert code == 0, err
    assert "Paired comparison against small_hard" in text
    assert (out / "runs.parquet").read_bytes() == runs  # the finished runs, not run again
    assert [d["name"] for d in manifest(out)["designs"]] == ["small", "small_hard"]
    code, _, err = ccsim(capsys, *cmd, "--out", ref, "--baseline", "small_hard")
    assert code == 0, err
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "comparison.parquet"), pd.read_parquet(ref / "comparison.parquet")
    )
    assert set(pd.read_parquet(out / "comparison.parquet")["baseline"]) == {"small_hard"}
