"""A plain, picklable model function for other tools: ``sim.run(**params) -> dict``.

EMA Workbench, SALib or any optimiser can call :func:`run` with parameter values as keyword
arguments and get a dict of fixed-shape outcomes back, without knowing about scenarios, Mesa or
our result files. It is a module-level function, so it pickles for process pools.

Parameter names are the scenario's dotted keys, given either as a dict
(``run(**{"programme.tactics.hard": 0.6})``) or with double underscores for the dots
(``run(programme__tactics__hard=0.6)``), which makes them valid Python identifiers and EMA
parameter names.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.loader import (
    ScenarioError,
    _closest_key,
    apply_override,
    build_scenario,
    read_with_extends,
    resolve_path,
    valid_keys,
)
from sim.metrics import run_metrics
from sim.model import CommunityModel
from sim.rng import DEFAULT_SEED


@lru_cache(maxsize=32)
def _base(ref: str | None) -> dict[str, Any]:
    """Raw dict of a scenario (``extends`` resolved), cached per process."""
    if ref is None:
        return {}
    path = resolve_path(ref)
    data = read_with_extends(path)
    data.setdefault("name", path.stem)
    return data


def dotted(name: str) -> str:
    """``programme__tactics__hard`` -> ``programme.tactics.hard`` (dotted names unchanged)."""
    return name.replace("__", ".")


def run(
    scenario: str | Path | None = None,
    seed: int = DEFAULT_SEED,
    replication: int = 0,
    replications: int = 1,
    **params: Any,
) -> dict[str, float | np.ndarray]:
    """Run the model for some parameter values and return fixed-shape outcomes.

    Args:
        scenario: base scenario (file path or library name such as ``"keystone"``); ``None``
            is the built-in baseline.
        seed: root seed (>= 0); the default is ``ccsim run``'s (:data:`DEFAULT_SEED`), so
            ``sim.run()`` gives replication 0 of ``ccsim run`` (same draws, same metrics).
        replication: first replication (>= 0); replication ``k`` with the same ``seed`` sees
            the same random draws whatever the parameters (common random numbers).
        replications: replications averaged (>= 1).
        **params: scenario parameters by dotted key or with ``__`` for dots.

    Returns:
        Every numeric run metric of :func:`sim.metrics.run_metrics` as a float (flags such as
        ``t50_censored`` become the share of replications censored), averaged over the
        replications (``nan`` if undefined in any); ``t50_restricted_months`` and
        ``t90_restricted_months`` (censored runs count as ``window_months``, never ``nan``);
        ``window_months``; and ``gap_series``, the mean true gap at each month from the
        programme start, shape ``(programme_months + followup_months,)``. The keys and shapes
        depend only on the scenario's time settings, never on the outcome.

    Raises:
        ScenarioError: on an unknown parameter (with the closest valid key) or a value out of
            range.
        ValueError: if ``seed``, ``replication`` or ``replications`` is not a whole number or
            is out of range.
    """
    for label, v in (("seed", seed), ("replication", replication), ("replications", replications)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"sim.run: {label} must be a whole number, got {v!r}")
    if seed < 0 or replication < 0 or replications < 1:
        raise ValueError("sim.run: need seed >= 0, replication >= 0 and replications >= 1")
    data = copy.deepcopy(_base(None if scenario is None else str(scenario)))
    keys = valid_keys()
    for name, value in params.items():
        key = dotted(name)
        if key not in keys:
            raise ScenarioError(f"sim.run: unknown parameter '{name}'{_closest_key(key)}")
        data = apply_override(data, key, value.item() if isinstance(value, np.generic) else value)
    scn = build_scenario(data, "sim.run")
    start, window = scn.time.baseline_months, scn.time.programme_months + scn.time.followup_months
    rows, gaps = [], []
    for rep in range(replication, replication + replications):
        model = CommunityModel(scenario=scn, replication=rep, root_seed=seed, make_agents=False)
        metrics = run_metrics(model.run())
        for level in ("t50", "t90"):
            cens = bool(metrics[f"{level}_censored"])
            metrics[f"{level}_restricted_months"] = window if cens else metrics[f"{level}_months"]
        rows.append({k: float(v) for k, v in metrics.items() if isinstance(v, int | float)})
        gaps.append(model.recorder.data["gap_true"][start:])
    out: dict[str, float | np.ndarray] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["window_months"] = float(window)
    out["gap_series"] = np.mean(gaps, axis=0)
    return out
