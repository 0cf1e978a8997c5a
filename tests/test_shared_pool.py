"""sim.shared_pool: the command's own process and loky workers share the chunks.

The functions run here are the standard library's (picklable by reference in any worker), so
each test checks scheduling, not the model: every call runs exactly once, the caller computes
some and a worker others, stopping early kills the workers, and joblib's own loky pool still
works afterwards in the same process (it shares loky's global executor, which this pool must
not take over).
"""

from __future__ import annotations

import operator
import os
import signal
import time

import pytest
from joblib import Parallel, delayed

from sim import shared_pool
from sim.shared_pool import run_shared


def test_every_call_runs_once_in_the_caller_or_a_worker() -> None:
    calls = [(i, 1000) for i in range(40)]
    results = sorted(run_shared(operator.add, calls, processes=2))
    assert results == [1000 + i for i in range(40)]
    pids = set(run_shared(os.getpid, [()] * 12, processes=2))
    # a worker always gets the first call at once, and the caller the next one
    assert os.getpid() in pids and len(pids) == 2


def test_stopping_early_kills_the_workers_and_the_next_run_starts_afresh() -> None:
    gen = run_shared(time.sleep, [(0.3,)] * 20, processes=2)
    next(gen)
    t0 = time.perf_counter()
    gen.close()  # what an exception in the caller's loop does (closing() in iterate)
    # killed, not waited for: 19 x 0.3 s of sleeps are left
    assert time.perf_counter() - t0 < 3.0
    assert 1 not in shared_pool._POOLS  # the killed pool is not offered to the next run
    assert sorted(run_shared(abs, [(-3,), (-1,), (-2,)], processes=2)) == [1, 2, 3]


def test_joblib_loky_still_works_after_a_shared_run() -> None:
    """Calibration's bootstrap uses joblib's Parallel after a run in the same process; with
    loky's global reusable executor taken by a plain pool, joblib raised AttributeError."""
    assert sorted(run_shared(abs, [(-1,), (-2,), (-3,)], processes=2)) == [1, 2, 3]
    out = Parallel(n_jobs=2, backend="loky")(delayed(abs)(-i) for i in range(4))
    assert out == [0, 1, 2, 3]


def test_a_kept_pool_whose_worker_was_killed_is_replaced() -> None:
    """A worker killed while idle between runs (OOM killer, a user's kill) breaks the kept pool;
    the next run must start a new one, not quietly run everything in the caller."""
    worker_pids = set(run_shared(os.getpid, [()] * 4, processes=2)) - {os.getpid()}
    os.kill(worker_pids.pop(), signal.SIGKILL)
    time.sleep(0.5)  # let loky notice
    pids = set(run_shared(os.getpid, [()] * 4, processes=2))
    assert len(pids - {os.getpid()}) == 1


def test_a_call_that_raises_reaches_the_caller() -> None:
    with pytest.raises(ZeroDivisionError):
        list(run_shared(operator.truediv, [(1, 0)] + [(1, 1)] * 5, processes=2))
    assert list(run_shared(abs, [(-5,)] * 3, processes=2)) == [5, 5, 5]


def test_fewer_than_two_processes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 processes"):
        list(run_shared(abs, [(-1,)], processes=1))


def test_all_cores_on_a_one_core_machine_runs_in_this_process(monkeypatch) -> None:
    """--jobs -1 where os.cpu_count() is 1 (small containers): no pool, no error."""
    from sim.experiment import Design, run_experiment
    from sim.loader import load_scenario

    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    scn = load_scenario(None, ["sites.n_sites=3", "time.programme_months=6"])
    res = run_experiment([Design("baseline", scn)], 60, root_seed=3, jobs=-1, progress=False)
    assert sorted(res.runs["replication"]) == list(range(60))


def test_shutdown_pools_stops_the_kept_pools_threads() -> None:
    import threading

    def managers() -> int:  # joblib's own pool, if a test started it, has one too
        return sum(t.name == "ExecutorManagerThread" for t in threading.enumerate())

    shared_pool.shutdown_pools()
    before = managers()
    assert sorted(run_shared(abs, [(-1,), (-2,)], processes=2)) == [1, 2]
    assert managers() == before + 1
    shared_pool.shutdown_pools()
    assert shared_pool._POOLS == {} and managers() == before


def test_a_stop_keeps_the_chunks_the_workers_have_finished() -> None:
    """Finished work is never lost: SIGINT while this process computes its own chunk still
    hands on the chunk a worker finished meanwhile, then stops (Interrupted)."""
    import threading

    from sim.checkpoint import Interrupted, stop_signals

    assert sorted(run_shared(abs, [(-1,), (-2,)], processes=2)) == [1, 2]  # a warm worker
    # the worker takes the first call (returns at once); this process the next one (a 20 s
    # sleep that the signal cuts short after 1.5 s, ample for a warm worker's empty chunk)
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    got = []
    with stop_signals(), pytest.raises(Interrupted):
        timer.start()
        for result in run_shared(time.sleep, [(0,), (20,)], processes=2):
            got.append(result)
    timer.cancel()
    assert got == [None]  # the worker's finished chunk (time.sleep returns None)
    assert 1 not in shared_pool._POOLS  # and the stop killed the pool
