"""ccsim: an agent-based simulator of clinical communities closing the evidence-practice gap.

Quick use from Python::

    from sim import load_scenario, run_experiment, Design
    scn = load_scenario("keystone")
    result = run_experiment([Design(scn.name, scn)], reps=50)
    result.runs[["t50_months", "gap_auc"]].describe()
"""

from sim.experiment import Design, ExperimentResult, run_experiment, simulate
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
    "run_experiment",
    "simulate",
]
