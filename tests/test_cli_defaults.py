"""Default output folders and scenario names: results never land outside ``results/``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sim.commands.run import _default_out
from sim.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["../escaped", "", "a/b", ".hidden", "x" * 81])
def test_unsafe_scenario_names_are_rejected(name: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, [f"name='{name}'"])
    assert "name" in str(err.value) and "\n" not in str(err.value)


def test_builtin_default_is_the_library_baseline() -> None:
    # `ccsim run` and `ccsim run baseline` are the same experiment, so they share a folder
    assert load_scenario(None) == load_scenario("baseline")


def test_overrides_get_their_own_default_folder() -> None:
    plain = _default_out(["baseline"])
    variant = _default_out(["baseline"], ["programme.tactics.hard=0.8"])
    assert plain == Path("results/baseline")
    assert variant.parent == Path("results") and variant.name.startswith("baseline-set-")
    # order of --set does not matter; different values do
    a = _default_out(["baseline"], ["a.b=1", "c.d=2"])
    assert a == _default_out(["baseline"], ["c.d=2", "a.b=1"])
    assert a != _default_out(["baseline"], ["a.b=1", "c.d=3"])


def test_result_files_follow_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "run",
        "--reps",
        "2",
        "--jobs",
        "1",
        "--quiet",
        "--no-figures",
        "--set",
        "sites.n_sites=3",
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=True)
    export = [sys.executable, "-m", "sim", "export", str(out)]
    subprocess.run(export, check=True, cwd=ROOT, env=env, capture_output=True)
    umask = os.umask(0)
    os.umask(umask)
    for path in (out / "runs.parquet", out / "csv" / "runs.csv", out / "csv" / "series.csv"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o666 & ~umask, path  # not the 0600 of a private temporary file
