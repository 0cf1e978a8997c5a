"""What an experiment runs and records: its designs, chunks, plan and manifest.

:class:`Design` names a scenario taking part; :func:`chunks` cuts the replications into fixed
work units of :data:`CHUNK_SIZE` (so ``--resume`` finds the same boundaries) and
:func:`part_name` names each unit's files; :class:`Plan` holds one experiment's settings and
manifest for the in-memory runner (:mod:`sim.experiment`) and the on-disk one
(:mod:`sim.diskrun`); :func:`new_manifest` and :func:`machine` describe a new run. Executing a
plan's chunks is in :mod:`sim.experiment_exec`. Every name is re-exported by
:mod:`sim.experiment`.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sim.results import versions
from sim.scenario import Scenario

__all__ = ["CHUNK_SIZE", "Design", "Plan", "chunks", "machine", "new_manifest", "part_name"]

CHUNK_SIZE = 25


@dataclass
class Design:
    """A named scenario taking part in an experiment."""

    name: str
    scenario: Scenario


def chunks(
    n_designs: int, reps: int, size: int = CHUNK_SIZE, first: int = 0
) -> list[tuple[int, int, int]]:
    """Work units ``(design_index, first_rep, stop_rep)``: fixed boundaries, so resume works.

    Replications ``first .. first + reps - 1`` of each design, cut every ``size`` from ``first``.
    """
    stop = first + reps
    return [
        (d, lo, min(lo + size, stop)) for d in range(n_designs) for lo in range(first, stop, size)
    ]


def part_name(design_index: int, first_rep: int) -> str:
    """File name of one chunk's parts, e.g. ``part-d000-r000025.parquet``."""
    return f"part-d{design_index:03d}-r{first_rep:06d}.parquet"


def machine() -> dict[str, Any]:
    """Cores and CPU model of this machine (for the manifest and benchmarks)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "platform": platform.platform()}


@dataclass
class Plan:
    """One experiment's settings and manifest, shared by the in-memory and on-disk runners."""

    designs: Sequence[Design]
    reps: int
    first: int
    root_seed: int
    jobs: int
    crn: bool
    backend: str
    on_error: str
    progress: bool
    on_chunk: Callable[[int], None] | None
    manifest: dict[str, Any]
    todo: list[tuple[int, int, int]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


def new_manifest(
    designs: Sequence[Design],
    reps: int,
    root_seed: int,
    crn: bool,
    first: int,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of a new run: everything needed to re-run it (status ``running``)."""
    from sim.results import code_fingerprint, git_state  # local: asked once per experiment

    return {
        "tool": "ccsim",
        "command": list(settings.get("command", ())),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "root_seed": root_seed,
        "replications": reps,
        "first_replication": first,
        "chunk_size": CHUNK_SIZE,
        "crn": crn,
        "jobs": settings.get("jobs"),
        "backend": settings.get("backend"),
        "designs": [
            {
                "name": d.name,
                "design_index": i,
                "design_key": 0 if crn else i,
                "scenario": d.scenario.model_dump(mode="json"),
            }
            for i, d in enumerate(designs)
        ],
        "versions": versions(),
        "machine": machine(),
        "git": git_state(),
        "code": code_fingerprint(),
        **settings.get("extra", {}),
        "status": "running",
        "complete": False,
    }
