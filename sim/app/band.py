"""The app's band: the monthly true gap over several replications of one setting.

:func:`run_band` runs :data:`BAND_REPS` replications (replication 0 is the app's live run) and
returns a :class:`Band` of per-replication gaps and summary outcomes (the same definitions as
:func:`sim.metrics.run_metrics`) for the band chart and its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.metrics import run_metrics, time_to_close
from sim.model import CommunityModel
from sim.scenario import Scenario

BAND_REPS = 20
"""Replications behind the app's band button."""


@dataclass
class Band:
    """Monthly true gap of several replications of one design (the app's band button).

    Attributes:
        label: what the band is of (a short description of the settings).
        months: months since programme start, shape ``(horizon,)``.
        gaps: true gap per replication and month, shape ``(reps, horizon)``.
        t50: months to close half the gap per replication (``nan`` = not within the horizon).
        gap_end: true gap at programme end per replication.
        dropouts: programme sites that dropped out per replication.
        conflict: mean conflict over the programme per replication.
        programme_months: months of support (for the chart's phase line).
        peripheral_lag: per replication, the share of its own gap a central site closed by
            programme end minus a peripheral site's (``run_metrics``' ``peripheral_lag``).
        marginalised: peripheral sites with belonging under 0.2 at the end, per replication.
        seed: the root seed of the replications (bands of different seeds are not paired).
        key: identity of the settings (:attr:`AppModel.settings_key`).
    """

    label: str
    months: np.ndarray
    gaps: np.ndarray
    t50: np.ndarray
    gap_end: np.ndarray
    dropouts: np.ndarray
    conflict: np.ndarray
    programme_months: int
    peripheral_lag: np.ndarray | None = None
    marginalised: np.ndarray | None = None
    seed: int = 0
    key: tuple[Any, ...] = ()

    def quantiles(self, qs: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> np.ndarray:
        """Quantiles of the gap across replications per month, shape ``(len(qs), horizon)``."""
        return np.quantile(self.gaps, qs, axis=0)


def run_band(
    scenario: Scenario,
    seed: int = 0,
    reps: int = BAND_REPS,
    label: str = "",
    key: tuple[Any, ...] = (),
) -> Band:
    """Run ``reps`` replications of ``scenario`` (replications 0 .. reps-1 of root ``seed``).

    Replication 0 is the app's live run, so the live curve is one of the band's runs; under the
    same seed two settings are paired (common random numbers).
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    gaps, t50, rows = [], [], []
    for rep in range(reps):
        model = CommunityModel(
            scenario=scenario, replication=rep, root_seed=seed, make_agents=False
        ).run()
        gaps.append(model.recorder.data["gap_true"].copy())
        t50.append(time_to_close(gaps[-1][model.programme_start :], 0.5)[0])
        rows.append(run_metrics(model))

    def column(name: str) -> np.ndarray:
        return np.array([row[name] for row in rows])

    t = scenario.time
    return Band(
        label=label or scenario.name,
        months=np.arange(t.horizon) - t.baseline_months,
        gaps=np.array(gaps),
        t50=np.array(t50),
        gap_end=column("gap_programme_end"),
        dropouts=column("dropouts"),
        conflict=column("conflict_mean"),
        programme_months=t.programme_months,
        peripheral_lag=column("peripheral_lag"),
        marginalised=column("marginalised_sites"),
        seed=seed,
        key=key,
    )
