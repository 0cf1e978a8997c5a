"""Distributed back ends give the same numbers as the local ones (sim.backends).

A dask ``LocalCluster`` of two single-threaded worker processes on 127.0.0.1 runs the same
experiment as the sequential and loky back ends; ``runs.parquet`` must be identical. Skipped only
when dask.distributed is not installed (``python3 -m pip install -e '.[dask]'``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.backends import BackendUnavailableError, joblib_backend
from sim.commands.backend_options import open_backend
from sim.commands.common import UsageError
from sim.experiment import Design, run_experiment
from sim.loader import load_scenario

REPS = 20
SEED = 31337


def _designs() -> list[Design]:
    # two designs -> two chunks of 20 replications, so the parallel back ends really split work
    return [
        Design("baseline", load_scenario("baseline", ["sites.n_sites=8"])),
        Design("keystone", load_scenario("keystone", ["sites.n_sites=8"])),
    ]


def _run(out: Path, jobs: int, backend: str) -> pd.DataFrame:
    run_experiment(
        _designs(),
        reps=REPS,
        root_seed=SEED,
        jobs=jobs,
        out_dir=out,
        progress=False,
        backend=backend,
    )
    return pd.read_parquet(out / "runs.parquet")


def test_dask_local_cluster_matches_sequential_and_loky(tmp_path: Path) -> None:
    distributed = pytest.importorskip(
        "dask.distributed",
        reason="dask.distributed not installed (python3 -m pip install -e '.[dask]')",
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        joblib_backend("dask", scheduler=cluster.scheduler_address) as be,
    ):
        assert be.name == "dask" and be.workers == 2
        assert be.where == cluster.scheduler_address
        with distributed.Client(cluster) as client, distributed.get_task_stream(client) as ts:
            on_dask = _run(tmp_path / "dask", be.workers, be.name)
        assert len(ts.data) >= 2, "the chunks did not run on the dask workers"
    sequential = _run(tmp_path / "sequential", 1, "sequential")
    on_loky = _run(tmp_path / "loky", 2, "loky")
    assert len(sequential) == 2 * REPS
    pd.testing.assert_frame_equal(on_dask, sequential, check_exact=True)
    pd.testing.assert_frame_equal(on_loky, sequential, check_exact=True)
    assert (tmp_path / "dask" / "runs.parquet").read_bytes() != b""


def test_backend_options_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown backend"), joblib_backend("spark"):
        pass
    bad_scheduler = joblib_backend("loky", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="--scheduler is for --backend dask"), bad_scheduler:
        pass
    with pytest.raises(ValueError, match="--address is for"), joblib_backend("dask", address="a"):
        pass
    args = argparse.Namespace(backend="ray", scheduler="tcp://127.0.0.1:1", address=None, jobs=2)
    with pytest.raises(UsageError, match="--scheduler"), open_backend(args):
        pass


def test_local_backend_passes_jobs_through() -> None:
    args = argparse.Namespace(backend="loky", scheduler=None, address=None, jobs=3)
    with open_backend(args) as be:
        assert (be.name, be.jobs) == ("loky", 3)


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    missing = pytest.raises(BackendUnavailableError, match=r"install ccsim\[ray\]")
    with missing, joblib_backend("ray"):
        pass


@pytest.mark.skipif(
    not os.environ.get("CCSIM_TEST_RAY"),
    reason="ray starts a local cluster (~20 s, ~1 GB); set CCSIM_TEST_RAY=1 to run",
)
def test_ray_matches_sequential(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray not installed (python3 -m pip install -e '.[ray]')")
    with joblib_backend("ray", local_workers=2) as be:
        assert be.name == "ray" and be.workers == 2
        on_ray = _run(tmp_path / "ray", be.workers, be.name)
    sequential = _run(tmp_path / "sequential", 1, "sequential")
    pd.testing.assert_frame_equal(on_ray, sequential, check_exact=True)


def test_worker_processes_freeze_their_loaded_objects_once(tmp_path) -> None:
    """In a worker, run_chunk_unit(worker=True) freezes what was loaded before the first chunk
    (gc.get_freeze_count() grows) and does not freeze again on later chunks (same count); a
    chunk in the caller's own process (worker=False) freezes nothing."""
    code = (
        "import gc\n"
        "start = gc.get_freeze_count()\n"
        "from sim.loader import load_scenario\n"
        "from sim.replicate import run_chunk_unit\n"
        "s = load_scenario('baseline', overrides=['time.programme_months=6',"
        " 'time.followup_months=0'])\n"
        "run_chunk_unit(s, 'b', 0, 0, 1, 1, True)\n"
        "a = gc.get_freeze_count()\n"
        "run_chunk_unit(s, 'b', 0, 1, 2, 1, True, worker=True)\n"
        "b = gc.get_freeze_count()\n"
        "run_chunk_unit(s, 'b', 0, 2, 3, 1, True, worker=True)\n"
        "print(start, a, b, gc.get_freeze_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split()
    start, before, first, second = map(int, out)
    assert before == start and first > before and second == first


def test_in_process_run_leaves_the_callers_objects_collectable(tmp_path) -> None:
    """A jobs=1 run freezes the caller's objects only while it runs: afterwards nothing is
    frozen, so the caller's later garbage is collected as usual."""
    import gc

    scn = load_scenario("baseline", ["time.programme_months=6", "time.followup_months=0"])
    run_experiment([Design("b", scn)], reps=2, root_seed=1, jobs=1, out_dir=tmp_path / "r")
    assert gc.get_freeze_count() == 0
