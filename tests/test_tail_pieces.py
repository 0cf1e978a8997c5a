"""The last chunks of a parallel run are computed in pieces, and written exactly as whole chunks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim import shared_pool
from sim.experiment import Design, run_experiment
from sim.experiment_exec import split_tail
from sim.loader import load_scenario
from sim.replicate import FAULT_ENV


def test_split_tail_cuts_the_last_chunk_of_each_process_into_pieces() -> None:
    todo = [(0, 0, 25), (0, 25, 50), (0, 50, 75), (1, 0, 25), (1, 25, 30)]
    calls = split_tail(todo, processes=2, piece=10)
    assert calls[:3] == [(u, None) for u in todo[:3]]
    assert calls[3:] == [
        ((1, 0, 25), (1, 0, 10)),
        ((1, 0, 25), (1, 10, 20)),
        ((1, 0, 25), (1, 20, 25)),
        ((1, 25, 30), (1, 25, 30)),
    ]
    # every replication of every chunk is run by exactly one call
    covered = [r for u, p in calls for r in range(*((p or u)[1:]))]
    assert sorted(covered) == sorted(r for _, lo, hi in todo for r in range(lo, hi))
    # fewer chunks than processes: every chunk is cut
    pieces = [p for _, p in split_tail([(0, 0, 12)], 4, piece=5)]
    assert pieces == [(0, 0, 5), (0, 5, 10), (0, 10, 12)]


def _files(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.parquet"))
    }


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch):
    """Replications 3 and 27 of design ``f`` fail; the kept workers are restarted before and
    after so that they see the variable (and later tests' workers do not)."""
    shared_pool.shutdown_pools()
    monkeypatch.setenv(FAULT_ENV, "f:3,f:27")
    yield
    shared_pool.shutdown_pools()


def test_pieces_give_the_same_files_and_failures_as_whole_chunks(tmp_path: Path, faults) -> None:
    # 2 designs x 40 replications = chunks 0-25, 25-40 each; with 2 processes the last two
    # chunks (design f) are cut into pieces, and the failures fall inside pieces
    designs = [
        Design("a", load_scenario(None, ["sites.n_sites=5", "control.n_sites=2"])),
        Design("f", load_scenario("soft_only", ["sites.n_sites=5"])),
    ]
    results = {}
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        res = run_experiment(designs, reps=40, root_seed=9, jobs=jobs, out_dir=out, progress=False)
        results[jobs] = (res, _files(out))
    (seq, seq_files), (par, par_files) = results[1], results[2]
    assert set(seq_files) >= {"runs.parquet", "sites.parquet", "site_series.parquet"}
    assert par_files == seq_files  # byte for byte, series parts included
    assert [(f["design"], f["replication"]) for f in par.failures] == [("f", 3), ("f", 27)]
    assert par.manifest["completed_replications"] == {"a": 40, "f": 38}
    assert par.failures == seq.failures
