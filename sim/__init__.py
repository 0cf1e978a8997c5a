"""ccsim: an agent-based simulator of clinical communities closing the evidence-practice gap.

Quick use from Python::

    from sim import load_scenario, run_experiment, Design
    scn = load_scenario("keystone")
    result = run_experiment([Design(scn.name, scn)], reps=50)
    result.runs[["t50_months", "gap_auc"]].describe()

For other tools (EMA Workbench, SALib): ``sim.run(programme__tactics__hard=0.6)`` returns a
dict of fixed-shape outcomes (see :mod:`sim.interop` and docs/interop.md).
"""

from sim.experiment import Design, ExperimentResult, run_experiment, simulate
from sim.interop import run
from sim.loader import ScenarioError, load_scenario
from sim.model import CommunityModel
from sim.scenario import Scenario

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
