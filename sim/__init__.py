"""ccsim: an agent-based simulator of clinical communities closing the evidence-practice gap.

Quick use from Python::

    from sim import load_scenario, run_experiment, Design
    scn = load_scenario("keystone")
    result = run_experiment([Design(scn.name, scn)], reps=50)
    result.runs[["t50_months", "gap_auc"]].describe()

For other tools (EMA Workbench, SALib): ``sim.run(programme__tactics__hard=0.6)`` returns a
dict of fixed-shape outcomes (see :mod:`sim.interop` and docs/interop.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load on first use
    from sim.experiment import Design, ExperimentResult, run_experiment, simulate
    from sim.interop import run
    from sim.loader import ScenarioError, load_scenario
    from sim.model import CommunityModel
    from sim.scenario import Scenario

_EXPORTS: dict[str, str] = {
    "CommunityModel": "sim.model",
    "Design": "sim.experiment",
    "ExperimentResult": "sim.experiment",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.loader",
    "load_scenario": "sim.loader",
    "run": "sim.interop",
    "run_experiment": "sim.experiment",
    "simulate": "sim.experiment",
}
"""Public name -> defining module. Loaded on first access (PEP 562), so a worker process that
unpickles ``sim.replicate.run_chunk_unit`` imports only what a replication needs (~0.4 s less
start-up per worker than importing the runner, joblib and tqdm as well)."""

__all__ = [
    "CommunityModel",
    "Design",
    "ExperimentResult",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run",
    "run_experiment",
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first access (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
