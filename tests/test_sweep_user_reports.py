"""Regressions for what a new user's trial of ``ccsim sweep`` / ``ccsim sensitivity`` found.

Every sweep here is small (at most 50 runs of a 4-site, 9-month community, one job).
"""

from __future__ import annotations

import json
import os
import re
import signal
import warnings
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, ROOT, TINY, ccsim, one_error_line

import sim.sweep
from sim.checkpoint import Interrupted
from sim.cli import build_parser
from sim.sweep import IncompleteSweepWarning, load_sweep, read_sweep, run_sweep


def _file(tmp_path: Path, body: str, name: str = "small.toml") -> Path:
    head = (
        f'name = "small"\nbase = "baseline"\nset = {json.dumps(TINY)}\nseed = 3\n'
        'outcomes = ["gap_auc", "t50_restricted_months", "window_months"]\n'
    )
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


GRID = (  # 3 x 4 points x 3 replications = 36 runs
    "replications = 3\n"
    '[parameters."programme.tactics.soft"]\nlevels = [0.2, 0.5, 0.8]\n'
    '[parameters."programme.tactics.hard"]\nlevels = [0.2, 0.5, 0.8, 0.9]\n'
)
RANGES = (  # Morris r trajectories x 3 points, Sobol N x 4 points; one replication each
    "replications = 1\nsamples = 4\n"
    '[parameters."programme.tactics.soft"]\nrange = [0.1, 0.9]\n'
    "[parameters.dummy]\nrange = [0.0, 1.0]\ndummy = true\n"
)


def sub_help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices[command].format_help().split())  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 1: --overwrite


def test_overwrite_deletes_only_the_sweeps_own_files(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, GRID), tmp_path / "work"
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, "--jobs", "1", "--quiet")
    assert code == 0, err
    (out / "notes.txt").write_text("my notes")
    (out / "figures" / "mine.png").write_bytes(b"not ccsim's")
    (out / "runs" / "README").write_text("mine too")
    stale = out / "runs" / "part-9999999.parquet"  # a part of ours that the new sweep lacks
    stale.write_bytes((out / "runs" / "part-0000000.parquet").read_bytes())
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST, "--overwrite")
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "figures" / "mine.png").read_bytes() == b"not ccsim's"
    assert (out / "runs" / "README").read_text() == "mine too"
    assert not stale.exists()
    assert not (out / "figures" / "heatmap_gap_auc.png").exists()  # ours: gone (--no-figures)
    assert len(read_sweep(out)) == 36 and read_sweep(out)["point"].max() == 11


def test_empty_out_is_refused(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, GRID)
    for command in ("sweep", "sensitivity"):
        code, _, err = ccsim(capsys, command, path, "--out", "", "--overwrite", *FAST)
        one_error_line(code, err, "--out", "empty")


def test_overwrite_refuses_a_ccsim_run_folder_and_sweep_names_it(tmp_path: Path, capsys) -> None:
    run_out = tmp_path / "run"
    sets = [w for item in TINY for w in ("--set", item)]
    code, _, err = ccsim(capsys, "run", "--reps", "2", *sets, "--out", run_out, *FAST)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in run_out.iterdir() if p.is_file()}
    path = _file(tmp_path, GRID)
    code, _, err = ccsim(capsys, "sweep", path, "--out", run_out, *FAST)
    line = one_error_line(code, err, str(run_out), "holds a `ccsim run` result")
    assert "different sweep" not in line
    code, _, err = ccsim(capsys, "sweep", path, "--out", run_out, *FAST, "--overwrite")
    one_error_line(code, err, str(run_out), "holds a `ccsim run` result")
    assert {p.name: p.read_bytes() for p in run_out.iterdir() if p.is_file()} == before


# ------------------------------------------------------------------ 2: unwritable --out


def test_unwritable_out_is_one_line_not_a_traceback(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")  # a folder under a file cannot be made, even by root
    grid, ranges = _file(tmp_path, GRID), _file(tmp_path, RANGES, "ranges.toml")
    bad = tmp_path / "afile" / "x"
    code, _, err = ccsim(capsys, "sweep", grid, "--out", bad, *FAST)
    one_error_line(code, err, f"--out {bad}", "cannot write there", "Not a directory")
    code, _, err = ccsim(capsys, "sensitivity", ranges, "--method", "morris", "--out", bad, *FAST)
    one_error_line(code, err, f"--out {bad}", "cannot write there", "Not a directory")


def test_write_failure_mid_sweep_is_one_line_and_keeps_parts(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    path, out = _file(tmp_path, GRID), tmp_path / "o"
    real = sim.sweep.write_parquet
    calls = []

    def full_after_three(frame: pd.DataFrame, dest: Path) -> None:
        if dest.parent.name == "runs":
            calls.append(dest)
            if len(calls) > 3:
                raise OSError(28, "No space left on device")
        real(frame, dest)

    monkeypatch.setattr(sim.sweep, "write_parquet", full_after_three)
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "No space left on device" in lines[0]
    assert f"9 of 36 runs are saved in {out}" in lines[0]
    assert "run the same command again" in lines[0]
    monkeypatch.setattr(sim.sweep, "write_parquet", real)
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0, err
    assert len(read_sweep(out)) == 36


# ------------------------------------------------------------------ 3: sensitivity reports


def test_sensitivity_help_names_the_real_default_folder_and_the_docs() -> None:
    text = sub_help("sensitivity")
    assert "results/sensitivity_<name>_<method>/" in text
    assert "results/sweep_<name>/" not in text
    assert "docs/sweeps.md" in text
    assert "results/sweep_<name>/" in sub_help("sweep") and "docs/sweeps.md" in sub_help("sweep")


def test_sensitivity_report_keeps_every_outcome(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, RANGES.replace("samples = 4", "samples = 10")), tmp_path / "m"
    args = ["sensitivity", path, "--method", "morris", "--out", out, *FAST]
    code, stdout, err = ccsim(capsys, *args, "--outcome", "gap_auc")
    assert code == 0, err
    code, stdout, err = ccsim(capsys, *args, "--outcome", "t50_months")
    assert code == 0, err
    report = (out / "sensitivity.md").read_text()
    assert "(`gap_auc`)" in report and "(`t50_restricted_months`)" in report, report
    assert report.count("| programme.tactics.soft |") == 2
    assert (out / "sensitivity_morris_gap_auc.parquet").is_file()
    assert (out / "sensitivity_morris_t50_restricted_months.parquet").is_file()
    # several outcomes in one command: each analysed, each listed in the output
    code, stdout, err = ccsim(capsys, *args, "--outcome", "gap_auc", "--outcome", "window_months")
    assert code == 0, err
    assert "sensitivity_morris_gap_auc.parquet" in stdout
    assert "sensitivity_morris_window_months.parquet" in stdout
    assert (out / "sensitivity.md").read_text().count("| programme.tactics.soft |") == 3
    # a damaged table of one outcome costs only its own section
    (out / "sensitivity_morris_t50_restricted_months.parquet").write_bytes(b"not parquet")
    code, stdout, err = ccsim(capsys, *args, "--outcome", "gap_auc")
    assert code == 0, err
    report = (out / "sensitivity.md").read_text()
    assert "`sensitivity_morris_t50_restricted_months.parquet` cannot be read" in report
    assert report.count("| programme.tactics.soft |") == 2  # gap_auc and window_months


def test_too_few_samples_warn_and_are_not_ranked(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, RANGES), tmp_path / "s"
    code, stdout, err = ccsim(
        capsys, "sensitivity", path, "--method", "sobol", "--samples", "2", "--out", out, *FAST
    )
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1 and warning[0].startswith("ccsim sensitivity: warning: gap_auc:")
    assert "N = 2 is below 32" in warning[0]
    report = (out / "sensitivity.md").read_text()
    assert "N = 2 is below 32" in report and "not ranked" in report
    assert not re.search(r"Top levers by ST: programme", report + stdout)


def test_top_levers_refuses_to_rank_when_cis_are_wider_than_the_indices() -> None:
    from sim.sweep.sensitivity import reliability_problem, top_levers

    noisy = pd.DataFrame(
        {
            "parameter": ["a", "b", "dummy"],
            "S1": [2.10, -0.40, 0.0],
            "S1_conf": [30.0, 12.0, 0.0],
            "ST": [8.46, 1.20, 0.0],
            "ST_conf": [63.0, 9.0, 0.0],
        }
    )
    problem = reliability_problem(noisy, "sobol", samples=64, dummy=["dummy"])
    assert problem == "the 95% CIs (half-width up to 63.00) are wider than the largest ST (8.46)"
    text = top_levers(noisy, "sobol", dummy=["dummy"], samples=64)
    assert text.startswith("Top levers by ST: not ranked: the 95% CIs")
    assert "a (ST" not in text and "Dummy (never read) ST: 0.000" in text
    clear = noisy.assign(ST=[0.6, 0.2, 0.0], ST_conf=[0.05, 0.04, 0.0], S1=[0.5, 0.1, 0.0])
    assert reliability_problem(clear, "sobol", samples=64, dummy=["dummy"]) == ""
    assert top_levers(clear, "sobol", dummy=["dummy"], samples=64).startswith(
        "Top levers by ST: a (ST 0.60 +- 0.05), b (ST 0.20 +- 0.04)."
    )
    assert "r = 4 is below 10 trajectories" in reliability_problem(
        clear.rename(columns={"ST": "mu_star", "ST_conf": "mu_star_conf"}), "morris", samples=4
    )


# ------------------------------------------------------------------ 4: interruption, parts


def test_a_point_with_many_replications_is_saved_in_parts(tmp_path: Path, monkeypatch) -> None:
    path = _file(tmp_path, 'replications = 10\n[parameters."programme.tactics.soft"]\n')
    path.write_text(path.read_text() + "levels = [0.2, 0.8]\n")
    spec = load_sweep(path)
    run_sweep(spec, tmp_path / "whole", progress=False)
    assert len(list((tmp_path / "whole" / "runs").glob("part-*.parquet"))) == 2
    monkeypatch.setattr(sim.sweep, "RUNS_PER_CHUNK", 4)  # parts of 4 replications: 4 + 4 + 2
    run_sweep(spec, tmp_path / "split", progress=False)
    parts = sorted(p.name for p in (tmp_path / "split" / "runs").glob("part-*.parquet"))
    assert len(parts) == 6 and parts[:3] == [
        "part-0000000-r00000000.parquet",
        "part-0000000-r00000004.parquet",
        "part-0000000-r00000008.parquet",
    ]
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "split"), read_sweep(tmp_path / "whole"))


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_saves_finished_parts_and_says_how_to_finish(
    tmp_path: Path, capsys, monkeypatch, sig: str
) -> None:
    path, out = _file(tmp_path, GRID), tmp_path / "o"
    real, calls = sim.sweep.run_sweep_chunk, []

    def signal_on_fifth(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 5:  # delivered while the 5th part runs, as from a terminal or timeout
            number = getattr(signal, sig)
            # the sweep must handle it (else it would stop pytest itself)
            assert signal.getsignal(number) not in (signal.SIG_DFL, signal.default_int_handler)
            os.kill(os.getpid(), number)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.sweep, "run_sweep_chunk", signal_on_fifth)
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 128 + getattr(signal, sig), err
    assert err.strip() == (
        f"ccsim sweep: interrupted by {sig}; 12 of 36 runs are saved in {out}; "
        "run the same command again to finish"
    )
    with pytest.warns(IncompleteSweepWarning, match="24 of 36 runs are missing") as caught:
        assert len(read_sweep(out)) == 12 and not list(out.rglob("*.tmp"))
    assert f"ccsim sweep {path} --out {out} --resume" in str(caught[0].message)
    monkeypatch.setattr(sim.sweep, "run_sweep_chunk", real)
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0, err
    whole = run_sweep(load_sweep(path), tmp_path / "whole", progress=False)
    pd.testing.assert_frame_equal(read_sweep(out), read_sweep(whole))


def test_interrupt_in_library_call_raises_interrupted(tmp_path: Path, monkeypatch) -> None:
    path = _file(tmp_path, GRID)
    real, calls = sim.sweep.run_sweep_chunk, []

    def stop_on_third(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.sweep, "run_sweep_chunk", stop_on_third)
    try:
        run_sweep(load_sweep(path), tmp_path / "o", progress=False)
    except Interrupted as exc:
        assert exc.exit_code == 130 and "6 of 36 runs are saved" in str(exc), exc
    except KeyboardInterrupt:  # caught here, or it would stop pytest itself
        pytest.fail("a bare KeyboardInterrupt escaped run_sweep")
    else:
        pytest.fail("not interrupted")


def test_chunk_points_help_matches_the_parts_written(tmp_path: Path, capsys) -> None:
    text = sub_help("sweep")
    assert "about 200 runs per part" not in text
    assert "at most 16 parts of about equal size" in text
    assert "more if a part would hold over 200 runs" in text and "one point per part" in text
    path, out = _file(tmp_path, GRID), tmp_path / "o"
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0, err
    # 12 points x 3 runs: 16 parts would need fractions of a point, so one point per part
    assert len(list((out / "runs").glob("part-*.parquet"))) == 12


# ------------------------------------------------------------------ 5: rerun


def test_rerun_of_a_sensitivity_folder_gives_the_command_actually_run(
    tmp_path: Path, capsys
) -> None:
    path, out = _file(tmp_path, RANGES), tmp_path / "sens"
    code, _, err = ccsim(
        capsys, "sensitivity", path, "--method", "morris", "--samples", "2", "--out", out,
        "--outcome", "t50_months", *FAST,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = ccsim(capsys, "rerun", out)
    line = one_error_line(code, err, "manifest of a sensitivity analysis")
    assert (
        f"ccsim sensitivity {path} --method morris --samples 2 --outcome "
        f"t50_restricted_months --out {out}-rerun" in line
    ), line
    assert "ccsim sweep" not in line
    # a manifest written before the command was recorded: method and N from the spec
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["cli"]
    manifest["tool"] = "ccsim sweep"
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = ccsim(capsys, "rerun", out)
    one_error_line(code, err, f"ccsim sensitivity {path} --method morris --samples 2")


def test_rerun_of_a_sweep_folder_gives_the_sweep_command(tmp_path: Path, capsys) -> None:
    path, out = _file(tmp_path, GRID), tmp_path / "grid"
    code, _, err = ccsim(capsys, "sweep", path, "--out", out, *FAST)
    assert code == 0, err
    code, _, err = ccsim(capsys, "rerun", out)
    one_error_line(code, err, "manifest of a sweep", f"ccsim sweep {path} --out {out}-rerun")


# ------------------------------------------------------------------ 6: docs/sweeps.md


def test_docs_describe_every_sweep_file_key_and_output() -> None:
    from dataclasses import fields

    from sim.sweep.spec import FILE_KEYS, PARAMETER_KEYS, Parameter, SweepSpec

    text = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    manifest_keys = {f.name for f in fields(SweepSpec)} | {f.name for f in fields(Parameter)}
    for key in sorted(FILE_KEYS | PARAMETER_KEYS | manifest_keys):
        assert f"`{key}`" in text, key
    for name in ("manifest.json", "design.parquet", "runs/part-", "sweep.md", "sensitivity.md"):
        assert name in text, name
    for example in sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")):
        assert f"scenarios/sweeps/{example.name}" in text


def test_one_morris_trajectory_warns_once_without_numpy_noise(tmp_path: Path, capsys) -> None:
    """r = 1: sigma is undefined (NaN); the user gets our one warning line, not numpy's
    'Degrees of freedom <= 0' RuntimeWarning."""
    path, out = _file(tmp_path, RANGES), tmp_path / "m"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # any numpy RuntimeWarning fails
        code, _, err = ccsim(
            capsys, "sensitivity", path, "--method", "morris", "--samples", "1", "--out", out,
            *FAST,
        )  # fmt: skip
    assert code == 0, err
    assert "RuntimeWarning" not in err
    assert "r = 1 is below 10 trajectories" in err
