"""Interrupted runs lose nothing: SIGKILL + --resume, clean SIGINT/SIGTERM, full disks, memory.

The reference for "identical" is always an uninterrupted run of the same experiment made here:
every replication is seeded from (root seed, design key, replication) alone, so the resumed
``runs.parquet`` must equal it value for value (and, with the same package versions, byte for
byte, since both are streamed from the same chunk parts in the same order).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import results
from sim.checkpoint import Interrupted
from sim.cli import main
from sim.consolidate import read_series
from sim.experiment import CHUNK_SIZE, Design, check_out_dir, run_experiment
from sim.loader import load_scenario
from sim.results import OutputError, RunError, folder_lock

ROOT = Path(__file__).resolve().parents[1]
# the built-in baseline cut down to 5 small sites and 9 months: ~10 ms per replication
SMALL = ["sites.n_sites=5"]
TINY = [*SMALL, "sites.mean_size=8", "time.programme_months=6"]
TINY += ["time.followup_months=3", "programme.recruitment.window_months=2"]
TABLES = ("runs.parquet", "sites.parquet", "site_series.parquet")


def design(overrides: list[str] = TINY, name: str = "baseline") -> Design:
    return Design(name, load_scenario(None, overrides).model_copy(update={"name": name}))


def ccsim(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    """The real console command in a subprocess (its own process group, default SIGINT)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def sets(overrides: list[str] = TINY) -> list[str]:
    """``--set`` options for ``overrides``."""
    return [word for item in overrides for word in ("--set", item)]


def markers(out: Path) -> list[Path]:
    return sorted((out / "chunks").glob("part-*.json"))


def wait_for(check: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 90) -> None:
    start = time.monotonic()
    while not check():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.02)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def assert_nothing_half_written(out: Path, killed: bool = False) -> None:
    """Every file under a final name is whole and readable; no temporary files are left unless
    the writer was killed outright (SIGKILL), and then the next run into ``out`` removes them."""
    assert killed or not list(out.rglob("*.tmp")), list(out.rglob("*.tmp"))
    for part in out.rglob("*.parquet"):
        pq.read_metadata(part)
    for marker in out.rglob("chunks/*.json"):
        json.loads(marker.read_text(encoding="utf-8"))


def assert_same_tables(out: Path, ref: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(ref / name))
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    pd.testing.assert_frame_equal(read_series(out), read_series(ref))


def test_sigkill_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    out, ref = tmp_path / "killed", tmp_path / "reference"
    # 5 sites over the full 48 months: chunks of ~0.5 s, so the kill lands mid-run
    args = ["run", *sets(SMALL), "--reps", "75", "--seed", "5", "--out", str(out), "--quiet"]
    args.append("--no-figures")
    proc = ccsim(*args, "--jobs", "2")
    wait_for(lambda: len(markers(out)) >= 1, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    n_done = len(markers(out))
    assert 1 <= n_done < 75 // CHUNK_SIZE, n_done  # really stopped mid-run
    m = manifest(out)
    assert m["complete"] is False and m["status"] == "running"
    assert not (out / "runs.parquet").exists()
    assert_nothing_half_written(out, killed=True)
    # the same command without --resume refuses to throw the finished chunks away
    assert main([*args, "--jobs", "1"]) == 2
    assert len(markers(out)) == n_done
    assert main([*args, "--jobs", "2", "--resume"]) == 0
    m = manifest(out)
    assert m["complete"] is True and m["status"] == "complete" and len(m["resumed"]) == 1
    assert m["completed_replications"] == {"baseline": 75}
    assert not (out / "chunks").exists() and not (out / "runs").exists()
    assert_nothing_half_written(out)
    run_experiment([design(SMALL)], 75, root_seed=5, jobs=2, out_dir=ref, progress=False)
    assert_same_tables(out, ref)


@pytest.mark.parametrize(
    ("sig", "target"), [("SIGINT", "group"), ("SIGTERM", "parent")], ids=["ctrl-c", "sigterm"]
)
def test_signal_stops_a_100000_rep_run_cleanly(tmp_path: Path, sig: str, target: str) -> None:
    """Ctrl-C reaches the whole process group (as from a terminal); SIGTERM only the parent."""
    out = tmp_path / "big"
    jobs = "1" if sig == "SIGINT" else "2"
    proc = ccsim("run", *sets(), "--reps", "100000", "--jobs", jobs, "--out", str(out), "--quiet")
    wait_for(lambda: len(markers(out)) >= 1, proc)
    number = getattr(signal, sig)
    (os.killpg if target == "group" else os.kill)(proc.pid, number)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + number, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"interrupted by {sig}" in err and "--resume" in err
    m = manifest(out)
    assert m["complete"] is False and m["status"] == "interrupted"
    saved = m["completed_replications"]["baseline"]
    assert saved == CHUNK_SIZE * len(markers(out)) and saved > 0
    assert f"{saved} of 100000 replications are saved" in err
    assert_nothing_half_written(out)


def test_a_killed_worker_is_one_error_line_and_the_run_resumes(tmp_path: Path) -> None:
    """SIGKILL to the loky worker (the OOM killer's way): one error line, no traceback (the
    pool's callbacks used to log loky's error from its thread), finished chunks kept."""
    out = tmp_path / "out"
    args = ["run", *sets(SMALL), "--reps", "150", "--out", str(out), "--quiet", "--no-figures"]
    proc = ccsim(*args, "--jobs", "2")
    wait_for(lambda: len(markers(out)) >= 1 and bool(_children(proc.pid)), proc)
    time.sleep(0.5)  # the worker is computing chunks by now
    workers = [c for c in _children(proc.pid) if "popen_loky" in _cmdline(c)]
    assert workers, _children(proc.pid)
    os.kill(int(workers[0]), signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.splitlines() == [err.strip()] and "Traceback" not in err, err
    assert "worker process died" in err
    assert main([*args, "--jobs", "2", "--resume"]) == 0
    assert manifest(out)["completed_replications"] == {"baseline": 150}


def _cmdline(pid: str) -> str:
    path = Path(f"/proc/{pid}/cmdline")
    return path.read_bytes().decode(errors="replace") if path.exists() else ""


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_while_workers_start_is_one_line(tmp_path: Path) -> None:
    """Ctrl-C reaches the workers too (the whole process group). Hit while still importing,
    they used to print KeyboardInterrupt tracebacks before the command's one line; started with
    SIGINT ignored (sim.worker_start) they stay quiet and the command stops them."""
    out = tmp_path / "out"
    proc = ccsim("run", *sets(), "--reps", "100000", "--jobs", "2", "--out", str(out), "--quiet")
    wait_for(lambda: len(_children(proc.pid)) >= 2, proc)  # workers forked, still importing
    time.sleep(0.2)  # past the ~60 ms in which the signal is ignored while they are started
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # landed inside that window after all: press again
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.splitlines() == [err.strip()] and "Traceback" not in err, err
    # before the run has saved anything the advice is to run the command again; once it has,
    # to add --resume
    assert "interrupted by SIGINT" in err
    assert "--resume" in err or "before anything was saved; run the same command again" in err


def _unlocked(out: Path) -> bool:
    """Can a lock on ``out`` be taken now (no one holds it)?"""
    try:
        with folder_lock(out):
            return True
    except OutputError:
        return False


def test_interrupt_in_process_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen = []

    def stop_after_two_chunks(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    d = [design(TINY, "a"), design([*TINY, "programme.tactics.hard=0.9"], "b")]
    with pytest.raises(Interrupted) as info:
        run_experiment(
            d, 60, root_seed=3, out_dir=out, progress=False, on_chunk=stop_after_two_chunks
        )
    assert info.value.exit_code == 130
    m = manifest(out)
    assert m["status"] == "interrupted" and sum(m["completed_replications"].values()) == 50
    with pytest.raises(OutputError, match=r"unfinished run of this experiment .50 of 120"):
        run_experiment(d, 60, root_seed=3, out_dir=out, progress=False)
    with pytest.raises(OutputError, match="cannot resume: it was started with --reps 60, not 61"):
        run_experiment(d, 61, root_seed=3, out_dir=out, progress=False, resume=True)
    # while another command writes there (holds the lock), the checks made before a run say
    # so, rather than call the folder an unfinished run to --resume (found in a docs audit:
    # `ccsim run` checks the folder before it takes the lock)
    with folder_lock(out):
        for resume in (False, True):
            with pytest.raises(OutputError, match=r"another ccsim command .pid \d+. is writing"):
                check_out_dir(d, 60, out, root_seed=3, resume=resume)
    check_out_dir(d, 60, out, root_seed=3, resume=True)  # released: fine, and nothing taken
    assert not (out / results.LOCK_NAME).exists() or _unlocked(out)
    done = run_experiment(d, 60, root_seed=3, out_dir=out, progress=False, resume=True)
    ref = run_experiment(d, 60, root_seed=3, progress=False)
    pd.testing.assert_frame_equal(done.runs, ref.runs)
    pd.testing.assert_frame_equal(done.sites, ref.sites)
    # resuming a complete run does no work and returns the same numbers
    again = run_experiment(d, 60, root_seed=3, out_dir=out, progress=False, resume=True)
    pd.testing.assert_frame_equal(again.runs, ref.runs)


def test_a_different_experiment_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_experiment([design(TINY, "a")], 3, root_seed=1, out_dir=out, progress=False)
    before = (out / "runs.parquet").read_bytes()
    for other, seed in (([*TINY, "sites.n_sites=6"], 1), (TINY, 2)):  # parameters; root seed
        with pytest.raises(OutputError, match=r"different experiment.*--overwrite"):
            run_experiment([design(other, "a")], 3, root_seed=seed, out_dir=out, progress=False)
        assert (out / "runs.parquet").read_bytes() == before
    res = run_experiment(
        [design(TINY, "b")], 2, root_seed=2, out_dir=out, progress=False, overwrite=True
    )
    assert set(pd.read_parquet(out / "runs.parquet")["design"]) == {"b"}
    assert set(res.series["design"]) == {"b"}


def test_a_second_writer_to_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock(out), pytest.raises(OutputError, match=r"another ccsim command .pid"):
        run_experiment([design(TINY)], 2, out_dir=out, progress=False)
    run_experiment([design(TINY)], 2, out_dir=out, progress=False)  # released: fine now


def test_full_disk_mid_run_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 6th part write fills the disk half-way: clear error, no half file, resume finishes."""
    out = tmp_path / "out"
    real = results.pq.write_table
    calls = []

    def write_table(table: object, where: str, **kwargs: object) -> None:
        calls.append(where)
        if len(calls) == 6:
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(table, where, **kwargs)

    monkeypatch.setattr(results.pq, "write_table", write_table)
    d = [design(TINY)]
    with pytest.raises(RunError, match=r"No space left on device.*25 of 100.*--resume"):
        run_experiment(d, 100, root_seed=4, out_dir=out, progress=False)
    assert manifest(out)["status"] == "write_failed" and not (out / "runs.parquet").exists()
    assert len(markers(out)) == 1
    assert_nothing_half_written(out)
    monkeypatch.setattr(results.pq, "write_table", real)
    done = run_experiment(d, 100, root_seed=4, out_dir=out, progress=False, resume=True)
    pd.testing.assert_frame_equal(
        done.runs, run_experiment(d, 100, root_seed=4, progress=False).runs
    )


def test_too_little_disk_space_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    full = SimpleNamespace(total=10**9, used=10**9 - 1000, free=1000)
    monkeypatch.setattr(results.shutil, "disk_usage", lambda _path: full)
    out = tmp_path / "out"
    rc = main(["run", *sets(), "--reps", "50", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.splitlines()) == 1 and "not enough free disk space" in err, err
    assert not (out / "manifest.json").exists() and not (out / "chunks").exists()


def test_memory_stays_flat_as_replications_grow(tmp_path: Path) -> None:
    """Peak memory of the main process does not grow with replications (jobs=1: the peak of one
    replication is the same in both runs, so any growth is what the runner keeps).

    Measured in a fresh interpreter that never stops tracemalloc and leaves with ``os._exit``:
    CPython 3.12.1 can crash when tracing stops while another thread (here pyarrow's writer
    threads, releasing numpy buffers) still reports frees; it did so once in this suite."""
    script = f"""
import gc, os, tracemalloc
from pathlib import Path
from sim.experiment import Design, run_experiment
from sim.loader import load_scenario
scn = load_scenario(None, {TINY!r}).model_copy(update={{"name": "baseline"}})
out = Path({str(tmp_path)!r})
tracemalloc.start()
def peak(reps):
    gc.collect()  # garbage of the first run must not count against the second
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    run_experiment([Design("baseline", scn)], reps, jobs=1, out_dir=out / str(reps),
                   progress=False, memory_reps=2)
    return tracemalloc.get_traced_memory()[1] - base
print(peak(50), peak(200), flush=True)
os._exit(0)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    small, big = (int(x) for x in proc.stdout.split())
    assert small > 100_000, small  # the tracing saw the run (a chunk's tables alone are more)
    # 150 more runs rows (~70 columns) may add ~0.1 MB; keeping the series (9 months x ~40
    # columns) and sites of every replication would add ~1 MB
    assert big < small + 300_000, (small, big)


def test_two_runs_into_different_folders_do_not_interfere(tmp_path: Path) -> None:
    common = [*sets(), "--reps", "30", "--jobs", "1", "--quiet", "--no-figures"]
    procs = {
        seed: ccsim("run", *common, "--seed", str(seed), "--out", str(tmp_path / f"s{seed}"))
        for seed in (1, 2)
    }
    for seed, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ref = run_experiment([design(TINY)], 30, root_seed=seed, progress=False)
        got = pd.read_parquet(tmp_path / f"s{seed}" / "runs.parquet")
        pd.testing.assert_frame_equal(got, ref.runs)


def test_interrupted_rerun_finishes_with_resume(tmp_path: Path) -> None:
    """`ccsim rerun` stopped by Ctrl-C says to add --resume; the same command plus --resume
    finishes it, and the finished re-run is identical to the original run."""
    original, again = tmp_path / "orig", tmp_path / "again"
    assert main(["run", *sets(), "--reps", "400", "--out", str(original), "--quiet"]) == 0
    proc = ccsim("rerun", str(original), "--out", str(again), "--quiet")
    wait_for(lambda: len(markers(again)) >= 1, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # finished before the signal arrived: nothing left to test
        pytest.skip("the re-run finished before Ctrl-C")
    assert proc.returncode == 130 and "add --resume to the same command" in err, err
    done = subprocess.run(
        [sys.executable, "-m", "sim", "rerun", str(original), "--out", str(again), "--resume"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "identical: runs.parquet matches" in done.stdout


def test_sigterm_during_a_command_without_chunks_is_one_line_with_advice(tmp_path: Path) -> None:
    """calibrate saves nothing part-way: SIGTERM gives exit 143 and one line saying so and
    how to finish, not a silent death or 'finished chunks are kept'."""
    proc = ccsim(
        "calibrate", "medinnov", "--intervals", "bootstrap", "--boot", "100000", "--perms", "0",
        "--no-compare", "--no-figures", "--out", str(tmp_path / "cal"),
    )  # fmt: skip
    wait_for(lambda: (tmp_path / "cal").is_dir(), proc)  # past start-up, fitting
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = [line for line in err.splitlines() if "bootstrap refits" not in line]
    assert lines == [
        "ccsim calibrate: interrupted by SIGTERM; it did not finish and left no half-written "
        "files: run it again"
    ], err
