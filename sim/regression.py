"""Output regression guard: a stored summary of fixed-seed runs of ``baseline`` and ``keystone``.

For each case and each seed in :data:`SEEDS`, :data:`REPS` replications are run and every metric
of ``runs.parquet`` is averaged over its finite values (booleans as shares); the number of
missing (NaN) values is kept too. ``tests/test_regression.py`` recomputes the summary and fails
when a mean moves by more than ``ATOL + RTOL x |stored|``, when a missing count changes, or when
a case or metric appears or disappears.

The model is deterministic given the seed, so any real change to a mechanism, a default or the
random streams moves these numbers. When that is intended::

    python3 -m sim.regression --refresh     # recompute, show what moved, store
    # then add a line to CHANGELOG.md saying which outputs changed and why

``python3 -m sim.regression`` (no option) only checks, exit code 1 on drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.results import atomic_write_bytes, git_state, versions

CASES: tuple[str, ...] = ("baseline", "keystone")
SEEDS: tuple[int, ...] = (11, 22, 33)
REPS = 5
RTOL = 1e-6
ATOL = 1e-9
IDENTITY = ("design", "design_index", "replication", "seed")
PATH = Path(__file__).resolve().parent.parent / "tests" / "data" / "regression.json"
REFRESH = "python3 -m sim.regression --refresh"

Summary = dict[str, dict[str, dict[str, Any]]]


def metric_summary(runs: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{"means": {metric: mean of finite values or None}, "missing": {metric: NaN count}}``."""
    means: dict[str, float | None] = {}
    missing: dict[str, int] = {}
    for col in sorted(c for c in runs.columns if c not in IDENTITY):
        values = runs[col]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            means[col] = None
            continue
        x = values.to_numpy(dtype=float)
        finite = x[np.isfinite(x)]
        means[col] = float(finite.mean()) if finite.size else None
        if finite.size < x.size:
            missing[col] = int(x.size - finite.size)
    return {"means": means, "missing": missing}


def summarise(
    cases: Sequence[str] = CASES, seeds: Sequence[int] = SEEDS, reps: int = REPS
) -> Summary:
    """Run every case x seed (``reps`` replications each, one process) and summarise the runs.

    Returns:
        ``{"<case>/seed=<seed>": metric_summary(...)}``.
    """
    from sim.experiment import Design, run_experiment
    from sim.loader import load_scenario

    out: Summary = {}
    for case in cases:
        scn = load_scenario(case)
        for seed in seeds:
            res = run_experiment([Design(case, scn)], reps, root_seed=seed, progress=False)
            out[f"{case}/seed={seed}"] = metric_summary(res.runs)
    return out


def _close(old: float | None, new: float | None, rtol: float, atol: float) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return abs(new - old) <= atol + rtol * abs(old)


def compare(stored: Summary, fresh: Summary, rtol: float = RTOL, atol: float = ATOL) -> list[str]:
    """Every difference between two summaries, one line each ([] when they agree)."""
    problems = [f"case {c} disappeared" for c in sorted(set(stored) - set(fresh))]
    problems += [f"case {c} is new" for c in sorted(set(fresh) - set(stored))]
    for case in sorted(set(stored) & set(fresh)):
        old, new = stored[case]["means"], fresh[case]["means"]
        problems += [f"{case}: metric {m} disappeared" for m in sorted(set(old) - set(new))]
        problems += [f"{case}: metric {m} is new" for m in sorted(set(new) - set(old))]
        for m in sorted(set(old) & set(new)):
            if not _close(old[m], new[m], rtol, atol):
                rel = ""
                if old[m] and new[m] is not None:
                    rel = f" ({(new[m] - old[m]) / abs(old[m]):+.3%})"
                problems.append(f"{case}: {m} {old[m]!r} -> {new[m]!r}{rel}")
        gaps_old, gaps_new = stored[case].get("missing", {}), fresh[case].get("missing", {})
        for m in sorted((set(gaps_old) | set(gaps_new)) & set(new)):
            if gaps_old.get(m, 0) != gaps_new.get(m, 0):
                was, now = gaps_old.get(m, 0), gaps_new.get(m, 0)
                problems.append(f"{case}: {m} missing (NaN) in {was} -> {now} runs")
    return problems


def failure_message(problems: list[str], path: Path = PATH, limit: int = 25) -> str:
    """What a failed check prints: the first ``limit`` problems and how to refresh."""
    lines = [f"model outputs differ from {path} ({len(problems)} difference(s)):"]
    lines += [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    lines.append(
        f"If the change is intended, refresh the stored summary with `{REFRESH}` and add a "
        "line to CHANGELOG.md saying which outputs changed and why."
    )
    return "\n".join(lines)


def load(path: Path = PATH) -> Summary:
    """The stored summary's cases (the ``cases`` entry of the JSON file)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["cases"]


def store(summary: Summary, path: Path = PATH) -> None:
    """Write ``summary`` with what produced it (seeds, replications, versions, commit)."""
    doc = {
        "about": f"fixed-seed summary of ccsim outputs; refresh with `{REFRESH}`",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeds": list(SEEDS),
        "replications": REPS,
        "rtol": RTOL,
        "atol": ATOL,
        "versions": versions(),
        "git": git_state(),
        "cases": summary,
    }
    atomic_write_bytes(Path(path), (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m sim.regression [--refresh] [--path FILE]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python3 -m sim.regression", description=__doc__)
    parser.add_argument("--refresh", action="store_true", help="recompute and store the summary")
    parser.add_argument(
        "--path", type=Path, default=PATH, help="summary file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    fresh = summarise()
    stored = load(args.path) if args.path.is_file() else {}
    problems = compare(stored, fresh)
    if args.refresh:
        store(fresh, args.path)
        print(f"stored {args.path}: {len(fresh)} cases; {len(problems)} difference(s) from before")
        for p in problems:
            print(f"  {p}")
        if problems:
            print("Now add a line to CHANGELOG.md saying which outputs changed and why.")
        return 0
    if problems:
        print(failure_message(problems, args.path), file=sys.stderr)
        return 1
    print(f"outputs match {args.path} ({len(fresh)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
