"""Scale-out trial: what a researcher met running ccsim on a dask cluster (sim.backends).

Each test starts its own small cluster on 127.0.0.1 (a ``LocalCluster``, or ``dask scheduler``
and ``dask worker`` processes where the scheduler must be killed) and stops it afterwards.
Skipped when dask.distributed is not installed (``python3 -m pip install -e '.[dask]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import local_cluster

distributed = pytest.importorskip(
    "dask.distributed",
    reason="dask.distributed not installed (python3 -m pip install -e '.[dask]')",
)

from joblib import Parallel, delayed  # noqa: E402

from sim import backends  # noqa: E402
from sim.backends import BackendUnavailableError, joblib_backend  # noqa: E402
from sim.cli import build_parser, main  # noqa: E402
from sim.commands.backend_options import open_backend  # noqa: E402
from sim.commands.common import UsageError  # noqa: E402
from sim.experiment import Design, run_experiment  # noqa: E402
from sim.loader import load_scenario  # noqa: E402
from sim.results import RunError  # noqa: E402

TINY = ["sites.n_sites=4", "time.programme_months=12", "time.followup_months=0"]
"""A scenario whose 25-replication chunk takes ~0.2 s, so a run of 16 chunks lasts seconds."""


def _nap(seconds: float) -> tuple[int, float, float]:
    """A task for the cluster: sleep, return (process id, start, end)."""
    start = time.time()
    time.sleep(seconds)
    return os.getpid(), start, time.time()


def _most_at_once(spans: list[tuple[int, float, float]]) -> int:
    """The largest number of spans (pid, start, end) that overlap at one moment."""
    events = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def _naps(n_jobs: int, tasks: int, seconds: float) -> list[tuple[int, float, float]]:
    """``tasks`` naps through joblib's dask back end, called as ccsim's runs call it."""
    parallel = Parallel(n_jobs=n_jobs, backend="dask", return_as="generator_unordered")
    return list(parallel(delayed(_nap)(seconds) for _ in range(tasks)))


@pytest.fixture(scope="module")
def three_workers() -> Iterator[str]:
    """A LocalCluster of three single-threaded worker processes; yields its address."""
    with local_cluster(3) as cluster:
        yield cluster.scheduler_address


def test_jobs_below_the_cluster_caps_the_chunks_in_flight(three_workers: str) -> None:
    """A researcher leaving room for other work asks for 2 of 3 slots: at most 2 tasks run at
    once. Asking for all 3 uses all 3. (joblib's own dask back end ignored n_jobs and ran 3.)"""
    with joblib_backend("dask", scheduler=three_workers) as be:
        assert be.workers == 3
        capped = _naps(2, 8, 0.4)
        whole = _naps(be.workers, 9, 0.4)
    assert len(capped) == 8 and _most_at_once(capped) == 2
    assert len({pid for pid, _, _ in whole}) == 3 and _most_at_once(whole) == 3


def test_jobs_equal_to_this_machines_cores_is_a_cap_not_the_whole_cluster(
    three_workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a 2-core driver, ``--jobs 2`` was taken for the default and used all 3 slots; left
    out, --jobs means the whole cluster."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parser = build_parser()
    given = parser.parse_args(["run", "--backend", "dask", "--scheduler", three_workers])
    given.jobs = parser.parse_args(["run", "--jobs", "2"]).jobs
    with open_backend(given) as be:
        assert be.jobs == 2
    default = parser.parse_args(["run", "--backend", "dask", "--scheduler", three_workers])
    with open_backend(default) as be:
        assert be.jobs == 3


def test_jobs_1_on_a_cluster_is_refused_before_connecting() -> None:
    """--jobs 1 would run every chunk in the driver (nothing on the cluster, while the manifest
    said dask): refused at once, and no cluster is started."""
    args = argparse.Namespace(backend="dask", scheduler=None, address=None, jobs=1)
    started = time.monotonic()
    with (
        pytest.raises(UsageError, match="--jobs 1 with --backend dask") as info,
        open_backend(args),
    ):
        pass
    assert time.monotonic() - started < 2
    assert "\n" not in str(info.value)


def test_a_one_chunk_run_goes_to_the_cluster(three_workers: str, tmp_path: Path) -> None:
    """A run of one chunk (<= 25 replications) used to run in this process on any back end
    (one chunk means one job, and joblib runs a single job locally)."""
    scn = load_scenario(None, TINY)
    with (
        joblib_backend("dask", scheduler=three_workers) as be,
        distributed.Client(three_workers) as client,
        distributed.get_task_stream(client) as ts,
    ):
        res = run_experiment(
            [Design("b", scn)], reps=3, jobs=be.workers, backend=be.name, out_dir=tmp_path / "r"
        )
    assert sorted(res.runs["replication"]) == [0, 1, 2]
    assert len(ts.data) == 1, "the chunk did not run on the dask workers"


def test_jobs_1_on_a_cluster_is_refused_from_python_too() -> None:
    """run_experiment(jobs=1, backend="dask") ran every chunk here while the manifest said
    dask (joblib runs n_jobs=1 in the calling process, whatever the back end)."""
    scn = load_scenario(None, ["sites.n_sites=2"])
    for name in ("dask", "ray"):
        with pytest.raises(ValueError, match=f"jobs=1 with the {name} back end"):
            run_experiment([Design("b", scn)], reps=2, jobs=1, backend=name, progress=False)


def test_one_slot_cluster_and_workers_that_join_later_get_the_chunks() -> None:
    """A cluster of one worker when the run starts (a SLURM job that started first) gets every
    task off the driver, and a worker that joins part-way gets some: both worker processes run
    tasks, and the driver none."""
    with (
        local_cluster(1) as cluster,
        joblib_backend("dask", scheduler=cluster.scheduler_address) as be,
    ):
        assert be.workers == 2  # jobs=1 would run in this process
        threading.Timer(0.5, lambda: cluster.scale(2)).start()
        spans = _naps(be.workers, 40, 0.25)
    pids = {pid for pid, _, _ in spans}
    assert len(spans) == 40
    assert os.getpid() not in pids
    assert len(pids) == 2


def _die(test_process: int) -> None:
    """A task that kills the worker process running it (as the out-of-memory killer would);
    in the test's own process (a run that did not go to the cluster) it raises instead."""
    if os.getpid() == test_process:
        raise AssertionError("the task ran in the test process, not on the cluster")
    os._exit(1)


def test_a_chunk_that_kills_its_workers_is_one_line_run_error() -> None:
    """dask gives up on a task whose workers all died (``KilledWorker``; here at the first
    death): the run stops at once with the one-line RunError of docs/distributed.md. (joblib's
    own dask back end never raised it: the run waited for ever.)"""
    import dask

    raised: list[BaseException] = []

    def run(address: str) -> None:
        try:
            with joblib_backend("dask", scheduler=address) as be:
                unordered = "generator_unordered"  # as ccsim's runs call it
                parallel = Parallel(n_jobs=be.workers, backend=be.name, return_as=unordered)
                list(parallel(delayed(_die)(os.getpid()) for _ in range(2)))
        except Exception as exc:  # kept for the assertions below
            raised.append(exc)

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        local_cluster(1) as cluster,
    ):
        attempt = threading.Thread(target=run, args=(cluster.scheduler_address,), daemon=True)
        attempt.start()
        attempt.join(30)
        assert not attempt.is_alive(), "the run still waits 30 s after dask gave up on a task"
    assert len(raised) == 1 and isinstance(raised[0], RunError)
    message = str(raised[0])
    assert message.startswith("a chunk killed every dask worker that ran it (out of memory?")
    assert message.endswith("add --resume to the same command to finish")
    assert "\n" not in message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_wrong_port_or_host_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped port waited the whole 60 s time-out and then said "Timed out"; it now says
    nothing listens there, after a short retry; an unknown host fails without waiting."""
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT_S", 4.0)
    monkeypatch.setattr(backends, "REFUSED_RETRY_S", 1.0, raising=False)
    port = _free_port()
    started = time.monotonic()
    refused = pytest.raises(BackendUnavailableError, match=r"nothing is listening on 127\.0\.0\.1")
    with refused, joblib_backend("dask", scheduler=f"tcp://127.0.0.1:{port}"):
        pass
    assert time.monotonic() - started < 3.5
    started = time.monotonic()
    unknown = pytest.raises(BackendUnavailableError, match=r"unknown host 'nosuchhost\.invalid'")
    with unknown, joblib_backend("dask", scheduler="tcp://nosuchhost.invalid:8786"):
        pass
    assert time.monotonic() - started < 3.5
    out = tmp_path / "never"
    argv = ["run", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--reps", "2"]
    code = main([*argv, "--out", str(out), "--quiet", "--no-figures"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "connection refused" in err and "Traceback" not in err
    assert not out.exists()


def test_an_unreachable_cluster_over_a_finished_run_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Re-running a finished run printed "running it again and replacing it" before the
    cluster was tried; when it could not be reached nothing was replaced, and stderr had two
    lines. The note now comes once the back end is there."""
    out = tmp_path / "r"
    assert main(["run", "--reps", "2", "--out", str(out), "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    before = (out / "runs.parquet").read_bytes()
    argv = ["run", "--reps", "2", "--out", str(out), "--quiet", "--no-figures"]
    code = main([*argv, "--backend", "dask", "--scheduler", "tcp://nosuchhost.invalid:8786"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "unknown host" in err and "replacing" not in err
    assert (out / "runs.parquet").read_bytes() == before


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_lost_scheduler_is_one_line_and_the_run_resumes_identically(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The scheduler is killed once the first chunk is saved: the run stops with one
    RunError line (no dask tracebacks on stderr), keeps its finished chunks, and --resume
    (here on another back end) gives runs.parquet byte for byte as an uninterrupted run."""
    scn = load_scenario("baseline", TINY)
    designs = [Design("tiny", scn)]
    reps, seed = 400, 7
    info = tmp_path / "scheduler.json"
    where = ["--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info)]
    scheduler = _start(["scheduler", *where, "--no-dashboard"])
    worker = None
    try:
        deadline = time.monotonic() + 20
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        worker = _start(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"])
        out = tmp_path / "run"

        def kill_after_first_chunk() -> None:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                if (out / "chunks").is_dir() and any((out / "chunks").iterdir()):
                    scheduler.send_signal(signal.SIGKILL)
                    return
                time.sleep(0.02)

        capfd.readouterr()
        with pytest.raises(RunError) as error, joblib_backend("dask", scheduler=address) as be:
            threading.Thread(target=kill_after_first_chunk, daemon=True).start()
            run_experiment(
                designs, reps=reps, root_seed=seed, jobs=be.workers, out_dir=out,
                progress=False, backend=be.name,
            )  # fmt: skip
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                _stop(proc)
    message = str(error.value)
    assert message.startswith(f"lost the dask scheduler {address} part-way")
    assert "add --resume to the same command" in message and "\n" not in message
    assert "Traceback" not in capfd.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    saved = len(list((out / "chunks").iterdir()))
    assert manifest["complete"] is False and 1 <= saved < reps // 25
    run_experiment(
        designs, reps=reps, root_seed=seed, jobs=1, out_dir=out, progress=False,
        backend="sequential", resume=True,
    )  # fmt: skip
    reference = tmp_path / "reference"
    run_experiment(designs, reps=reps, root_seed=seed, jobs=1, out_dir=reference, progress=False)
    assert (out / "runs.parquet").read_bytes() == (reference / "runs.parquet").read_bytes()


@pytest.mark.skipif(
    not os.environ.get("CCSIM_TEST_RAY"),
    reason="ray starts a local cluster (~10-20 s, ~300 MB); set CCSIM_TEST_RAY=1 to run",
)
def test_a_ray_run_prints_only_ccsims_own_lines(tmp_path: Path) -> None:
    """`ccsim run --backend ray` printed ray's "WARNING ... The 'context' argument is not
    supported" (joblib passes a context the user never chose) before ccsim's own output."""
    pytest.importorskip("ray", reason="ray not installed (python3 -m pip install -e '.[ray]')")
    out = tmp_path / "ray"
    argv = ["run", "baseline", "--reps", "50", "--backend", "ray", "--out", str(out)]  # 2 chunks
    done = subprocess.run(
        [sys.executable, "-m", "sim", *argv, "--quiet", "--no-figures"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == (
        f"results: {out}/ (runs.parquet, series/, sites.parquet, manifest.json, summary.md)"
    )


def test_a_scheduler_lost_before_any_worker_joins_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A scheduler with no workers, killed while ccsim waits for the first one, ended in a
    dask ERROR log line and a traceback ("OSError: Timed out trying to connect"), exit 1."""
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT_S", 5.0)
    info = tmp_path / "scheduler.json"
    where = ["--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info)]
    scheduler = _start(["scheduler", *where, "--no-dashboard"])
    try:
        deadline = time.monotonic() + 20
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        threading.Timer(1.0, scheduler.send_signal, (signal.SIGKILL,)).start()
        capfd.readouterr()
        out = tmp_path / "r"
        argv = ["run", "--reps", "2", "--out", str(out), "--quiet", "--no-figures"]
        code = main([*argv, "--backend", "dask", "--scheduler", address])
    finally:
        _stop(scheduler)
    err = capfd.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and "ERROR" not in err, err
    assert f"lost the dask scheduler {address} before any worker joined" in err
    assert not out.exists()
