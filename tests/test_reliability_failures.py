"""A replication that raises is reported with its design, replication and seed; the rest completes.

Faults are injected with the test-only hook ``CCSIM_FAULT_INJECT="design:replication,..."`` read
inside :func:`sim.replicate.run_chunk`, so they happen in the loky worker processes of a real
``ccsim run`` exactly as a mechanism that breaks for one parameter combination would.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiment import FAULT_ENV, Design, run_experiment
from sim.loader import load_scenario
from sim.rng import seed_label

ROOT = Path(__file__).resolve().parents[1]
TINY = ["sites.n_sites=5", "sites.mean_size=8", "time.programme_months=6"]
TINY += ["time.followup_months=3", "programme.recruitment.window_months=2"]
SETS = [word for item in TINY for word in ("--set", item)]
SEED = 9
FAULTS = {("baseline", 3), ("soft_only", 27)}


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The same experiment without faults (in memory)."""
    designs = [Design(n, load_scenario(n, TINY)) for n in ("baseline", "soft_only")]
    return run_experiment(designs, 30, root_seed=SEED, progress=False).runs


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """``ccsim run baseline soft_only`` (2 workers) with two replications made to raise."""
    out = tmp_path_factory.mktemp("faults") / "out"
    env = {**os.environ, "MPLBACKEND": "Agg", FAULT_ENV: ",".join(f"{d}:{r}" for d, r in FAULTS)}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "baseline", "soft_only", *SETS, "--reps", "30",
         "--seed", str(SEED), "--jobs", "2", "--out", str(out), "--quiet", "--no-figures"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    return out, proc.stderr, proc.returncode


def test_failures_are_reported_with_design_replication_and_seed(
    failed_run: tuple[Path, str, int],
) -> None:
    out, err, rc = failed_run
    assert rc == 1, err
    assert "Traceback" not in err
    for design, rep in FAULTS:
        label = seed_label(SEED, rep, 0)  # common random numbers: design key 0
        assert (
            f"design '{design}' replication {rep} failed (root seed {SEED}, design key 0, "
            f"seed {label}): RuntimeError: fault injected by {FAULT_ENV}"
        ) in err
        assert f"--replication {rep} --seed {SEED}" in err
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["complete"] is True and m["status"] == "complete"
    assert m["completed_replications"] == {"baseline": 29, "soft_only": 29}
    listed = {(f["design"], f["replication"]): f for f in m["failed_replications"]}
    assert set(listed) == FAULTS
    for (_design, rep), f in listed.items():
        assert f["seed"] == seed_label(SEED, rep, 0) and f["root_seed"] == SEED
        assert f["error"].startswith("RuntimeError: fault injected")
        assert any("chunk_rows" in line for line in f["traceback"])


def test_the_rest_of_the_run_is_complete_and_unchanged(
    failed_run: tuple[Path, str, int], reference: pd.DataFrame
) -> None:
    out, _, _ = failed_run
    runs = pd.read_parquet(out / "runs.parquet")
    failed = reference.apply(lambda r: (r["design"], r["replication"]) in FAULTS, axis=1)
    pd.testing.assert_frame_equal(runs, reference[~failed].reset_index(drop=True))
    sites = pd.read_parquet(out / "sites.parquet")
    assert len(sites) == 58 * 5  # 5 sites in each of the 58 replications that ran


def reproduce_args(err: str, design: str, rep: int, out: Path) -> list[str]:
    """The ``reproduce:`` command printed for one failure, with its own --out."""
    line = next(
        ln for ln in err.splitlines() if "reproduce:" in ln and f"--replication {rep} " in ln
    )
    words = shlex.split(line.split("reproduce:", 1)[1])
    assert words[:3] == ["ccsim", "--debug", "run"] and design in words
    at = words.index("--out")
    return [*words[1 : at + 1], str(out), *words[at + 2 :]]


def test_the_printed_command_reproduces_a_failure_alone(
    failed_run: tuple[Path, str, int],
    reference: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, err, _ = failed_run
    args = reproduce_args(err, "soft_only", 27, tmp_path / "repro")
    monkeypatch.setenv(FAULT_ENV, "soft_only:27")
    with pytest.raises(RuntimeError, match="fault injected"):  # --debug: the real traceback
        main(args)
    monkeypatch.delenv(FAULT_ENV)
    assert main([a for a in args if a != "--debug"]) == 0  # fixed: replication 27 alone
    alone = pd.read_parquet(tmp_path / "repro" / "runs.parquet")
    expected = reference[(reference["design"] == "soft_only") & (reference["replication"] == 27)]
    expected = expected.drop(columns="design_index").reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.drop(columns="design_index"), expected)


def test_failures_in_memory_with_one_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAULT_ENV, "0:1")  # a design index works too
    scn = load_scenario(None, TINY)
    res = run_experiment([Design("x", scn)], 3, root_seed=SEED, progress=False)
    assert [(f["design"], f["replication"]) for f in res.failures] == [("x", 1)]
    assert list(res.runs["replication"]) == [0, 2]
    assert res.manifest["completed_replications"] == {"x": 2}
