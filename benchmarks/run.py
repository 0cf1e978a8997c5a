"""ccsim performance benchmarks: one command, one table, ``benchmarks/latest.json``.

    python benchmarks/run.py                 # sizes, peer, limit, parallel efficiency (~2-3 min)
    python benchmarks/run.py --quick         # fewer repeats, 100-replication parallel run
    python benchmarks/run.py --scaling       # agent-steps/s from 1,000 to 100,000 clinicians
    python benchmarks/run.py --scaling --million   # ... and 1,000,000 (one-off, ~0.9 GB, ~30 s)
    python benchmarks/run.py --sweep-memory 100000 # parent RSS over a 10^5-replication run

Every size is measured in a fresh subprocess, so its peak RSS is its own. Times are wall-clock
medians over repeats; "agent-steps" = clinicians x months. The machine (cores, CPU model) and
the load average before and after stand beside the figures: on a shared machine a load above
the core count makes every figure slower and noisier. See benchmarks/README.md for what each
measure means and docs/performance.md for the latest figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT_SEED = 20240
H60 = ["time.programme_months=36", "time.followup_months=24"]  # 60 months


def _sites(n_sites: int, size: int) -> list[str]:
    """Overrides for ``n_sites`` sites of exactly ``size`` clinicians (sd of size 0)."""
    return [f"sites.n_sites={n_sites}", f"sites.mean_size={size}", "sites.size_sigma=0"]


# name -> (overrides, repeats, repeats with --quick, extra measures)
SIZES: dict[str, tuple[list[str], int, int, tuple[str, ...]]] = {
    "baseline": ([], 21, 7, ("kernel",)),
    "national": ([*_sites(200, 40), *H60], 7, 3, ("kernel",)),
    "10k": ([*_sites(250, 40), *H60], 5, 3, ("kernel", "peer")),
    "large": ([*_sites(2500, 40), *H60], 3, 2, ("kernel",)),
}
SCALING: dict[str, tuple[list[str], int]] = {
    "1k": ([*_sites(25, 40), *H60], 11),
    "10k": ([*_sites(250, 40), *H60], 5),
    "100k": ([*_sites(2500, 40), *H60], 3),
    "1M": ([*_sites(5000, 200), *H60], 1),
}
MONTHS = (24, 60, 120, 240)  # horizon scaling at 10,000 clinicians
TARGETS = {
    "peer_ratio_10k": ("full model faster per agent-step than the per-agent Mesa peer", 50.0),
    "kernel_multiple_100k": ("full model cost per agent-step / bare kernel, 100k", 3.0),
    "baseline_s": ("baseline replication (s)", 0.050),
    "national_s": ("national replication (s)", 0.5),
    "large_s": ("large replication (s)", 10.0),
    "large_rss_mb": ("large peak RSS (MB)", 2048.0),
    "parallel_efficiency": ("parallel efficiency, --jobs 2, warm", 0.80),
    "parallel_efficiency_cold": ("parallel efficiency, --jobs 2, cold (starting the worker)", 0.80),
    "flatness": ("agent-steps/s max / min, 1,000 to 1,000,000 clinicians", 2.0),
}


# ----------------------------------------------------------------------------- helpers
def machine() -> dict[str, Any]:
    """Cores, CPU model, platform, Python, and the load average (1, 5, 15 min)."""
    from sim.experiment import machine as sim_machine

    info = dict(sim_machine())
    info["python"] = platform.python_version()
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return info


def rss_mb() -> float:
    """Current resident set size of this process (MB), from /proc; peak if /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB; ru_maxrss is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _median_time(fn: Any, repeats: int) -> tuple[float, list[float], float]:
    """``fn(i)`` for i < repeats: (median wall s, all wall s, median CPU s of this process)."""
    times, cpu = [], []
    for i in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu)


def _run_chunk() -> Any:
    """``run_chunk``-like callable ``(scenario, design, d, reps, seed)`` that runs the chunk as a
    worker process does (its loaded objects frozen once, see ``run_chunk_unit(worker=True)``)."""
    from sim.replicate import run_chunk_unit

    def run(scn: Any, design: str, d: int, reps: list[int], seed: int) -> Any:
        return run_chunk_unit(scn, design, d, reps[0], reps[-1] + 1, seed, True, worker=True)

    return run


# ----------------------------------------------------------------------------- one size
def measure_size(name: str, overrides: list[str], repeats: int, extras: tuple[str, ...]) -> dict:
    """All figures of one size (run inside a fresh subprocess; see ``--child``)."""
    from sim.loader import load_scenario
    from sim.model import CommunityModel

    run_chunk = _run_chunk()
    scn = load_scenario(None, overrides)
    run_chunk(load_scenario(None, ["sites.n_sites=2", "time.followup_months=0"]), "w", 0, [0], 1)
    # 1. a replication as a worker runs it: build (agents included), 10 processes x months,
    #    metrics, the small tables it sends back
    rep_s, rep_all, rep_cpu = _median_time(
        lambda r: run_chunk(scn, name, 0, [r], ROOT_SEED), repeats
    )
    rss = peak_rss_mb()
    # 2. its parts: build, then stepping to the horizon
    builds, steps, steps_cpu = [], [], []
    for r in range(min(repeats, 5)):
        t0 = time.perf_counter()
        model = CommunityModel(scenario=scn, replication=r, root_seed=ROOT_SEED)
        t1, c1 = time.perf_counter(), time.process_time()
        model.run()
        builds.append(t1 - t0)
        steps.append(time.perf_counter() - t1)
        steps_cpu.append(time.process_time() - c1)
    n, months = int(model.clinicians.site.size), int(model.horizon)
    agent_steps = n * months
    step_s = statistics.median(steps)
    out: dict[str, Any] = {
        "size": name,
        "overrides": overrides,
        "clinicians": n,
        "sites": int(model.n_sites),
        "months": months,
        "repeats": repeats,
        "replication_s": rep_s,
        "replication_s_all": rep_all,
        "replication_cpu_s": rep_cpu,
        "steps_cpu_s": statistics.median(steps_cpu),
        "build_s": statistics.median(builds),
        "steps_s": step_s,
        "agent_steps_per_s": agent_steps / rep_s,
        "step_agent_steps_per_s": agent_steps / step_s,
        "ns_per_agent_step": 1e9 * step_s / agent_steps,
        "ns_per_agent_step_with_build": 1e9 * rep_s / agent_steps,
        "peak_rss_mb": rss,
    }
    if "kernel" in extras:
        sys.path.insert(0, str(HERE))
        from kernel import Kernel

        kern = Kernel.from_model(CommunityModel(scenario=scn, root_seed=ROOT_SEED))
        k_s, _, k_cpu = _median_time(lambda r: kern.run(months, seed=r), max(repeats, 5))
        out["kernel_s"] = k_s
        out["kernel_cpu_s"] = k_cpu
        out["kernel_ns_per_agent_step"] = 1e9 * k_s / agent_steps
        out["kernel_multiple"] = step_s / k_s
        out["kernel_multiple_cpu"] = out["steps_cpu_s"] / k_cpu
    if "peer" in extras:
        sys.path.insert(0, str(HERE))
        from peer import PeerModel, SpacePeerModel

        source = CommunityModel(scenario=scn, root_seed=ROOT_SEED, make_agents=False)
        for key, cls, reps in (("peer", SpacePeerModel, 2), ("peer_tuned", PeerModel, 3)):
            times = []
            for r in range(reps):
                peer = cls(source, seed=r)
                t0 = time.perf_counter()
                for _ in range(months):
                    peer.step()
                times.append(time.perf_counter() - t0)
            p_s = statistics.median(times)
            out[f"{key}_s"] = p_s
            out[f"{key}_ns_per_agent_step"] = 1e9 * p_s / agent_steps
            out[f"{key}_ratio"] = p_s / step_s
    return out


def run_child(name: str, overrides: list[str], repeats: int, extras: tuple[str, ...]) -> dict:
    """Measure one size in a fresh interpreter; return its figures."""
    spec = json.dumps({"name": name, "overrides": overrides, "repeats": repeats, "extras": extras})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", spec],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"size {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- parallel
SPIN = "x = 0\nfor i in range(20_000_000):\n    x += i\n"


def parallel_ceiling() -> float:
    """What two processes get from this machine right now: ``t1 / t2`` for one pure-Python
    loop alone (t1) and two copies of it at once (t2); 1.0 = two free cores."""

    def wall(k: int) -> float:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(k)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - t0

    return statistics.median(wall(1) for _ in range(3)) / statistics.median(
        wall(2) for _ in range(3)
    )


def _experiment(jobs: int, reps: int, i: int) -> None:
    """``reps`` baseline replications through ``run_experiment`` into a temporary folder."""
    from sim.experiment import Design, run_experiment
    from sim.loader import load_scenario

    designs = [Design("baseline", load_scenario(None))]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"j{jobs}-{i}"
        run_experiment(
            designs, reps=reps, root_seed=ROOT_SEED, jobs=jobs, out_dir=out, progress=False
        )


def _timed(jobs: int, reps: int, i: int) -> float:
    """Wall seconds of :func:`_experiment`."""
    t0 = time.perf_counter()
    _experiment(jobs, reps, i)
    return time.perf_counter() - t0


def cold_run(reps: int) -> tuple[float, float]:
    """In this (fresh) interpreter: a ``jobs=1`` run (which also warms the interpreter), then
    the first ``jobs=2`` run, which starts the worker: ``(T1, T2 cold)`` in seconds."""
    t1 = _timed(1, reps, 0)
    return t1, _timed(2, reps, 1)


def _cold_child(reps: int) -> tuple[float, float]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--cold-child", str(reps)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cold parallel run failed:\n{proc.stderr[-3000:]}")
    t1, t2 = proc.stdout.strip().splitlines()[-1].split()
    return float(t1), float(t2)


def parallel_efficiency(reps: int, repeats: int) -> dict:
    """Wall time of ``reps`` baseline replications at ``jobs=1`` and ``jobs=2``, and efficiency.

    ``jobs=2`` is this process and one loky worker (:mod:`sim.shared_pool`). Each efficiency
    is the median over ``repeats`` *pairs* of runs made one right after the other, T1 / (2 T2),
    so that a slow spell of the shared host (whose other tenants take CPU time from this
    machine's cores) slows both runs of a pair rather than only the T1s or only the T2s.
    ``cold`` pairs include starting the worker (the first parallel run of a session): one pair
    here and the others in fresh interpreters (:func:`cold_run`: a ``jobs=1`` run, which warms
    the interpreter as in every pair, then the first ``jobs=2`` run); ``warm`` pairs reuse the
    worker (the pool keeps its workers between runs).
    """
    ceiling_before = parallel_ceiling()
    cold_pairs = [cold_run(reps)] + [_cold_child(reps) for _ in range(repeats - 1)]
    warm_pairs = [(_timed(1, reps, i), _timed(2, reps, i + 1)) for i in range(repeats)]
    ceiling = (ceiling_before + parallel_ceiling()) / 2
    t1_all = [t1 for t1, _ in warm_pairs]
    return {
        "machine_ceiling": ceiling,
        "replications": reps,
        "paired": True,
        "t1_s": statistics.median(t1_all),
        "t1_s_all": t1_all,
        "t1_cold_pairs_s_all": [t1 for t1, _ in cold_pairs],
        "t2_cold_s": statistics.median(t2 for _, t2 in cold_pairs),
        "t2_cold_s_all": [t2 for _, t2 in cold_pairs],
        "t2_s": statistics.median(t2 for _, t2 in warm_pairs),
        "t2_s_all": [t2 for _, t2 in warm_pairs],
        "efficiency": statistics.median(t1 / (2 * t2) for t1, t2 in warm_pairs),
        "efficiency_cold": statistics.median(t1 / (2 * t2) for t1, t2 in cold_pairs),
    }


# ----------------------------------------------------------------------------- sweep memory
def sweep_memory(reps: int, jobs: int) -> dict:
    """Parent RSS while ``reps`` replications of a small scenario stream to disk."""
    from sim.experiment import Design, run_experiment
    from sim.loader import load_scenario

    scn = load_scenario(
        None, ["sites.n_sites=4", "time.programme_months=12", "time.followup_months=0"]
    )
    samples: list[tuple[int, float]] = []
    done = [0]

    def on_chunk(k: int) -> None:
        done[0] += k
        if not samples or done[0] - samples[-1][0] >= reps // 50 or done[0] == reps:
            samples.append((done[0], rss_mb()))

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run_experiment(
            [Design("small", scn)],
            reps=reps,
            root_seed=ROOT_SEED,
            jobs=jobs,
            out_dir=Path(tmp) / "sweep",
            progress=False,
            on_chunk=on_chunk,
        )
    wall = time.perf_counter() - t0
    tenth = [r for d, r in samples if d >= reps // 10]
    return {
        "replications": reps,
        "jobs": jobs,
        "wall_s": wall,
        "rss_mb_samples": samples,
        "rss_mb_at_10pct": tenth[0] if tenth else None,
        "rss_mb_at_end": samples[-1][1] if samples else None,
        "peak_rss_mb": peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- report
def _fmt_s(x: float) -> str:
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def size_table(rows: list[dict]) -> str:
    """Markdown table of the per-size figures."""
    head = (
        "| size | clinicians | months | replication (median) | build | steps "
        "| agent-steps/s | ns per agent-step (steps) | peak RSS |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['clinicians']:,} | {r['months']} | {_fmt_s(r['replication_s'])} "
            f"| {_fmt_s(r['build_s'])} | {_fmt_s(r['steps_s'])} "
            f"| {r['agent_steps_per_s'] / 1e6:.2f} M | {r['ns_per_agent_step']:.0f} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def verdicts(
    sizes: dict[str, dict], par: dict | None, scaling: dict | None = None
) -> dict[str, dict]:
    """Each target: measured value, target, met. ``scaling``: a saved ``--scaling`` report
    (its flatness row says when it was measured, since this run does not measure it)."""
    got: dict[str, float] = {}
    if "10k" in sizes and "peer_ratio" in sizes["10k"]:
        got["peer_ratio_10k"] = sizes["10k"]["peer_ratio"]
    if "large" in sizes and "kernel_multiple" in sizes["large"]:
        got["kernel_multiple_100k"] = sizes["large"]["kernel_multiple"]
    for key in ("baseline", "national", "large"):
        if key in sizes:
            got[f"{key}_s"] = sizes[key]["replication_s"]
    if "large" in sizes:
        got["large_rss_mb"] = sizes["large"]["peak_rss_mb"]
    if par is not None:
        got["parallel_efficiency"] = par["efficiency"]
        got["parallel_efficiency_cold"] = par["efficiency_cold"]
    rows = (scaling or {}).get("scaling_clinicians") or []
    if rows:
        rates = [r["agent_steps_per_s"] for r in rows]
        got["flatness"] = max(rates) / min(rates)
    out = {}
    for key, value in got.items():
        label, target = TARGETS[key]
        if key == "flatness":
            top = max(r["clinicians"] for r in rows)
            label = (
                f"agent-steps/s max / min, {min(r['clinicians'] for r in rows):,} to {top:,} "
                f"clinicians (saved `{scaling['command']}`, {scaling['created'][:16]})"
            )
        higher = key in ("peer_ratio_10k", "parallel_efficiency", "parallel_efficiency_cold")
        out[key] = {
            "label": label,
            "value": value,
            "target": target,
            "met": value >= target if higher else value <= target,
            "direction": ">=" if higher else "<=",
        }
    return out


def parallel_line(par: dict) -> str:
    """One line: the parallel run's times, efficiencies and the machine's two-process ceiling."""
    paired = "; medians of paired runs" if par.get("paired") else ""
    return (
        f"parallel, {par['replications']} baseline replications: --jobs 1 {par['t1_s']:.2f} s, "
        f"--jobs 2 (this process + 1 loky worker) {par['t2_s']:.2f} s (first run, starting the "
        f"worker: {par['t2_cold_s']:.2f} s) -> efficiency {par['efficiency']:.0%} "
        f"({par['efficiency_cold']:.0%} cold{paired}); two pure-Python loops got "
        f"{par.get('machine_ceiling', float('nan')):.0%} of two cores at the time"
    )


def target_table(v: dict[str, dict], mach: dict) -> str:
    """Markdown table of the targets."""
    lines = ["| target | measured | goal | met |", "|---|---:|---:|:-:|"]
    for key, t in v.items():
        val, goal = t["value"], t["target"]
        if key.endswith("_s"):
            shown, goal_s = _fmt_s(val), _fmt_s(goal)
        elif key.startswith("parallel_efficiency"):
            shown, goal_s = f"{val:.0%}", f"{goal:.0%}"
        elif key.endswith("_mb"):
            shown, goal_s = f"{val:.0f} MB", f"{goal:.0f} MB"
        elif key == "flatness":
            shown, goal_s = f"{val:.2f}x", f"{goal:.0f}x"
        else:
            shown, goal_s = f"{val:.1f}x", f"{goal:.0f}x"
        lines.append(
            f"| {t['label']} | {shown} | {t['direction']} {goal_s} | "
            f"{'yes' if t['met'] else 'NO'} |"
        )
    lines.append(f"\nmachine: {mach['cores']} cores, {mach['cpu']}, Python {mach['python']}")
    return "\n".join(lines)


def ratio_table(sizes: dict[str, dict]) -> str:
    """Markdown table of the full model against the peer and the limit."""
    lines = [
        "| size | full model (ns/agent-step) | bare kernel (ns) | full / kernel (CPU time) "
        "| Mesa peer (ns) | peer / full | hand-tuned peer (ns) | tuned / full |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sizes.values():
        if "kernel_ns_per_agent_step" not in r:
            continue
        peer = tuned = "-"
        peer_r = tuned_r = "-"
        if "peer_ns_per_agent_step" in r:
            peer, peer_r = f"{r['peer_ns_per_agent_step']:.0f}", f"{r['peer_ratio']:.0f}x"
            tuned = f"{r['peer_tuned_ns_per_agent_step']:.0f}"
            tuned_r = f"{r['peer_tuned_ratio']:.0f}x"
        lines.append(
            f"| {r['size']} ({r['clinicians']:,}) | {r['ns_per_agent_step']:.0f} "
            f"| {r['kernel_ns_per_agent_step']:.0f} | {r['kernel_multiple']:.2f}x "
            f"({r['kernel_multiple_cpu']:.2f}x) "
            f"| {peer} | {peer_r} | {tuned} | {tuned_r} |"
        )
    return "\n".join(lines)


def scaling_table(rows: list[dict]) -> str:
    """Markdown table of agent-steps/s against clinicians or months."""
    lines = [
        "| clinicians | months | replication | agent-steps/s (replication) | agent-steps/s (steps) "
        "| peak RSS |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clinicians']:,} | {r['months']} | {_fmt_s(r['replication_s'])} "
            f"| {r['agent_steps_per_s'] / 1e6:.2f} M | {r['step_agent_steps_per_s'] / 1e6:.2f} M "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    rates = [r["agent_steps_per_s"] for r in rows]
    step_rates = [r["step_agent_steps_per_s"] for r in rows]
    lines.append(
        f"\nspread (max / min): {max(rates) / min(rates):.2f}x per replication, "
        f"{max(step_rates) / min(step_rates):.2f}x per step (flat within 2x: "
        f"{'yes' if max(rates) / min(rates) <= 2 else 'NO'})"
    )
    return "\n".join(lines)


def _saved_scaling() -> dict | None:
    """The saved ``--scaling`` report (benchmarks/scaling.json), if there is one."""
    path = HERE / "scaling.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def print_saved() -> None:
    """Print the tables of latest.json, scaling.json and sweep_memory.json (no measuring)."""
    latest = HERE / "latest.json"
    if latest.is_file():
        rep = json.loads(latest.read_text(encoding="utf-8"))
        mach = rep["machine"]
        print(f"`{rep['command']}` at {rep['created']} (commit {rep['git']}), load average ")
        print(f"{mach['loadavg']} -> {mach.get('loadavg_end')}\n")
        print(size_table(list(rep["sizes"].values())) + "\n")
        print(ratio_table(rep["sizes"]) + "\n")
        par = rep.get("parallel")
        if par:
            print(parallel_line(par) + "\n")
        print(target_table(rep["targets"], mach) + "\n")
    scaling = HERE / "scaling.json"
    if scaling.is_file():
        rep = json.loads(scaling.read_text(encoding="utf-8"))
        print(f"`{rep['command']}` at {rep['created']} (commit {rep['git']})\n")
        print(scaling_table(rep["scaling_clinicians"]) + "\n")
        print(scaling_table(rep["scaling_months"]) + "\n")
    sweep = HERE / "sweep_memory.json"
    if sweep.is_file():
        res = json.loads(sweep.read_text(encoding="utf-8"))["sweep_memory"]
        print(
            f"sweep of {res['replications']:,} replications ({res['jobs']} workers) in "
            f"{res['wall_s']:.0f} s: driver RSS {res['rss_mb_at_10pct']:.0f} MB at 10%, "
            f"{res['rss_mb_at_end']:.0f} MB after the last chunk, peak {res['peak_rss_mb']:.0f} MB"
        )


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; print the tables; write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    ap.add_argument("--scaling", action="store_true", help="agent-steps/s vs clinicians, months")
    ap.add_argument("--million", action="store_true", help="with --scaling: add 1,000,000")
    ap.add_argument("--no-parallel", action="store_true", help="skip the parallel efficiency")
    ap.add_argument(
        "--parallel-only",
        action="store_true",
        help="re-measure only the parallel efficiency and update it in the JSON",
    )
    ap.add_argument("--parallel-reps", type=int, default=400, help="replications (default 400)")
    ap.add_argument("--sweep-memory", type=int, default=0, metavar="N", help="RSS over N reps")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default: latest.json)")
    ap.add_argument(
        "--report", action="store_true", help="print the tables of the saved JSON files only"
    )
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cold-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cold_child:
        print(*cold_run(args.cold_child))
        return 0
    if args.child is not None:
        spec = json.loads(args.child)
        res = measure_size(spec["name"], spec["overrides"], spec["repeats"], spec["extras"])
        print(json.dumps(res))
        return 0
    if args.report:
        print_saved()
        return 0
    if args.parallel_only and not (args.out or HERE / "latest.json").is_file():
        where = args.out or HERE / "latest.json"
        print(
            f"--parallel-only updates a saved run and {where} does not exist: run "
            "`python benchmarks/run.py --out FILE` first",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    mach = machine()
    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "git": _git_commit(),
        "machine": mach,
    }
    print(f"machine: {mach['cores']} cores, {mach['cpu']}; load average {mach['loadavg']}")
    if args.parallel_only:
        out = args.out or HERE / "latest.json"
        report = json.loads(out.read_text(encoding="utf-8"))
        par = parallel_efficiency(args.parallel_reps, 3)
        report["parallel"] = par
        report["parallel_machine"] = mach
        report["parallel_created"] = datetime.now(UTC).isoformat(timespec="seconds")
        report["parallel_git"] = _git_commit()
        report["targets"] = verdicts(report["sizes"], par, _saved_scaling())
        print(parallel_line(par))
        print("\ntargets:\n")
        print(target_table(report["targets"], report["machine"]))
    elif args.sweep_memory:
        res = sweep_memory(args.sweep_memory, jobs=2)
        report["sweep_memory"] = res
        print(
            f"sweep of {res['replications']:,} replications in {res['wall_s']:.0f} s: parent RSS "
            f"{res['rss_mb_at_10pct']:.0f} MB at 10%, {res['rss_mb_at_end']:.0f} MB at the end, "
            f"peak {res['peak_rss_mb']:.0f} MB"
        )
        out = args.out or HERE / "sweep_memory.json"
    elif args.scaling:
        rows = []
        names = [k for k in SCALING if args.million or k != "1M"]
        for name in names:
            overrides, repeats = SCALING[name]
            print(f"  scaling {name} ...", flush=True)
            rows.append(run_child(name, overrides, repeats, ()))
        month_rows = []
        for h in MONTHS:
            over = [*_sites(250, 40), f"time.programme_months={h // 2}"]
            over.append(f"time.followup_months={h - h // 2}")
            print(f"  scaling {h} months ...", flush=True)
            month_rows.append(run_child(f"10k-{h}m", over, 3, ()))
        report["scaling_clinicians"] = rows
        report["scaling_months"] = month_rows
        print("\nagent-steps per second against clinicians (60 months):\n")
        print(scaling_table(rows))
        print("\nagainst months (10,000 clinicians):\n")
        print(scaling_table(month_rows))
        out = args.out or HERE / "scaling.json"
    else:
        sizes: dict[str, dict] = {}
        for name, (overrides, repeats, quick, extras) in SIZES.items():
            print(f"  measuring {name} ...", flush=True)
            sizes[name] = run_child(name, overrides, quick if args.quick else repeats, extras)
        par = None
        if not args.no_parallel:
            reps = 100 if args.quick else args.parallel_reps
            print(f"  parallel efficiency ({reps} replications) ...", flush=True)
            par = parallel_efficiency(reps, 2 if args.quick else 3)
        report["sizes"] = sizes
        report["parallel"] = par
        report["targets"] = verdicts(sizes, par, _saved_scaling())
        mach["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        print("\nper replication (median wall time; steps = the 10 monthly processes):\n")
        print(size_table(list(sizes.values())))
        print("\nagainst the per-agent Mesa peer and the bare adoption + exposure kernel:\n")
        print(ratio_table(sizes))
        if par is not None:
            print("\n" + parallel_line(par))
        print("\ntargets:\n")
        print(target_table(report["targets"], mach))
        out = args.out or HERE / "latest.json"
    mach.setdefault("loadavg_end", [round(x, 2) for x in os.getloadavg()])
    wall = round(time.perf_counter() - started, 1)
    report["parallel_wall_s" if args.parallel_only else "wall_s"] = wall
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"\nload average {mach['loadavg']} -> {mach['loadavg_end']}; "
        f"{wall:.0f} s in all; wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
