"""Running design points: one point's replications, their run metrics and, when the sweep
keeps them (``series = true``), their monthly series.

A point's scenario is the sweep's base with the point's values (:func:`sim.sweep.spec.
point_scenario_from`); replication r runs under the sweep's root seed with design key 0, so it
draws the same numbers at every point (common random numbers) and as replication r of
``ccsim run`` under that seed. Without series a replication runs the bare model (no Mesa agent
views); with series it runs as ``ccsim run`` runs it (:func:`sim.replicate.replication_tables`),
whose ``series`` columns are the ones ``ccsim run`` writes: the same code, the same numbers.
The run metrics are the same either way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics import run_metrics
from sim.model import CommunityModel
from sim.replicate import chunk_frame, phase_labels, replication_tables
from sim.rng import seed_label
from sim.sweep.parameters import Parameter, SweepError
from sim.sweep.spec import point_scenario_from, point_values

RUN_IDS = ("design", "design_index", "replication", "seed")
"""Identifier columns of a ``ccsim run`` runs row (not metrics)."""
SERIES_DROPPED = ("design", "design_index")
"""Columns of ``ccsim run``'s monthly series a sweep replaces by ``point``."""


@functools.cache
def metric_names() -> tuple[str, ...]:
    """Names of the columns a sweep run can keep or analyse: the run metrics, the restricted
    times and ``window_months`` (the same for every scenario; read off one tiny run)."""
    from sim.loader import load_scenario

    tiny = ["sites.n_sites=2", "sites.mean_size=4", "time.programme_months=3"]
    tiny += ["time.followup_months=1", "programme.recruitment.window_months=1"]
    data = json.loads(load_scenario(None, tiny).model_dump_json())
    row = run_point(data, [], np.zeros(0), 1, 0)[0]
    return tuple(sorted(k for k in row if k not in ("replication", "seed")))


def _replications(
    scn: Any, reps: range, seed: int, series: bool
) -> Iterator[tuple[int, dict[str, Any], dict[str, np.ndarray] | None]]:
    """Run replications ``reps`` of scenario ``scn``: (replication, run metrics, series columns
    of ``ccsim run`` or ``None`` without ``series``)."""
    phases = phase_labels(scn) if series else None
    for rep in reps:
        if series:  # as ccsim run runs it: its series columns, the same metrics
            tables = replication_tables(scn, scn.name, 0, rep, seed, 0, phases)
            metrics = {k: v for k, v in tables["runs"].items() if k not in RUN_IDS}
            yield rep, metrics, tables["series"]
        else:
            model = CommunityModel(scenario=scn, replication=rep, root_seed=seed, make_agents=False)
            yield rep, run_metrics(model.run()), None


def point_tables(
    data: dict[str, Any],
    params: Sequence[Parameter],
    row: np.ndarray,
    replications: int,
    seed: int,
    outcomes: Sequence[str] | None = None,
    first_replication: int = 0,
    series: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, np.ndarray]]]:
    """Run one design point for ``replications`` replications from ``first_replication``.

    Returns:
        ``(rows, series)``: :func:`run_point`'s rows, and with ``series`` one dict of columns
        per replication (``horizon`` rows each: ``ccsim run``'s series columns, ``design`` and
        ``design_index`` left out); ``[]`` without.

    Raises:
        SweepError: an outcome that is no metric.
    """
    values = point_values(params, row)
    scn = point_scenario_from(data, {p.key: values[p.key] for p in params if not p.dummy})
    window = scn.time.programme_months + scn.time.followup_months
    reps = range(first_replication, first_replication + replications)
    rows, kept = [], []
    for rep, metrics, columns in _replications(scn, reps, seed, series):
        for level in ("t50", "t90"):
            t, cens = metrics[f"{level}_months"], metrics[f"{level}_censored"]
            metrics[f"{level}_restricted_months"] = float(window) if cens else float(t)
        metrics["window_months"] = window
        if outcomes is not None:
            if unknown := [k for k in outcomes if k not in metrics]:
                valid = ", ".join(sorted(metrics))
                raise SweepError(f"unknown outcome(s) {unknown} in the sweep file; valid: {valid}")
            metrics = {k: metrics[k] for k in outcomes}
        label = seed_label(seed, rep, 0)  # design key 0: common random numbers
        rows.append({"replication": rep, "seed": label, **values, **metrics})
        if columns is not None:
            kept.append({k: v for k, v in columns.items() if k not in SERIES_DROPPED})
    return rows, kept


def run_point(
    data: dict[str, Any],
    params: Sequence[Parameter],
    row: np.ndarray,
    replications: int,
    seed: int,
    outcomes: Sequence[str] | None = None,
    first_replication: int = 0,
) -> list[dict[str, Any]]:
    """Run one design point for ``replications`` replications from ``first_replication``
    (CRN: replication r uses the seed of replication r at every point).

    Returns:
        One dict per replication: ``replication``, ``seed`` (the replication's seed label, the
        same at every point and as ``ccsim run``'s ``runs.parquet`` gives replication r under
        root seed ``seed``), the point's parameter values, the run metrics (or only
        ``outcomes``), ``window_months`` and restricted times ``t50_restricted_months`` /
        ``t90_restricted_months`` (censored -> window).
    """
    return point_tables(data, params, row, replications, seed, outcomes, first_replication)[0]


def run_sweep_chunk(
    data: dict[str, Any],
    params: Sequence[Parameter],
    design: np.ndarray,
    first_point: int,
    replications: int,
    seed: int,
    outcomes: Sequence[str] | None = None,
    first_replication: int = 0,
    series: bool = False,
) -> tuple[int, pd.DataFrame, pd.DataFrame | None]:
    """Run the points ``first_point ...`` of ``design`` (a slice, shape ``(n, n_params)``),
    replications ``first_replication ...``; picklable for joblib.

    Returns:
        ``(first_point, runs, series)``: one row per run (``point`` first, then
        :func:`run_point`'s columns), and with ``series`` one row per run and month
        (``point``, then ``ccsim run``'s series columns without ``design`` and
        ``design_index``), else ``None``.
    """
    rows, kept = [], []
    for i, row in enumerate(design):
        point = first_point + i
        found = point_tables(
            data, params, row, replications, seed, outcomes, first_replication, series
        )
        rows += [{"point": point, **r} for r in found[0]]
        kept += [{"point": np.full(len(c["month"]), point, dtype=np.int64), **c} for c in found[1]]
    return first_point, pd.DataFrame(rows), (chunk_frame(kept) if series else None)
