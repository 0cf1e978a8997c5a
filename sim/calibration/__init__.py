"""Calibrate the adoption sub-model to observed adoption times (pure functions, no CLI).

Pipeline (:func:`calibrate`, in :mod:`sim.calibration.pipeline`): exact discrete-time
likelihood of the observed adoption sequence given the fixed network
(:mod:`sim.calibration.fit`), 95% profile-likelihood or parametric bootstrap intervals, a
boundary likelihood-ratio test of ``q = 0`` (is peer influence distinguishable from the external
push? Van den Bulte & Lilien 2001), forward simulations of the fitted process per group
(:mod:`sim.calibration.process`), and the exposure-at-adoption statistic against a within-group
permutation null. :func:`save_result` writes Parquet tables and ``calibration.json`` (estimates,
seeds, checks) so :func:`recheck` can re-simulate a saved fit without refitting;
:func:`medinnov_check` does that for the packaged Medical Innovation fit
(``sim/data/calibration/medinnov_fit.json``) and returns rows for ``ccsim validate``.

Data loading and validation live in :mod:`sim.calibration.data` (re-exported here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Names not used in this module are re-exported (noqa: F401): importable from sim.calibration
# as before calibrate() moved to sim.calibration.pipeline.
from sim.calibration.data import (  # noqa: F401
    MEDINNOV,
    NOBODY_CENSORED,
    AdoptionData,
    CalibrationDataError,
    check_identifiable,
    describe,
    load_adoption_data,
    packaged_path,
    parse_filters,
)
from sim.calibration.fit import Fit, at_bound, compare_models, fit  # noqa: F401
from sim.calibration.intervals import (  # noqa: F401
    bootstrap_intervals,
    peer_test,
    profile_intervals,
    standard_errors,
)
from sim.calibration.pipeline import (  # noqa: F401
    GAP_TOLERANCE,
    STREAM_BOOTSTRAP,
    STREAM_PERMUTATION,
    STREAM_SIMULATION,
    CalibrationResult,
    calibrate,
    check_estimates,
    curve_targets,
    stream,
)
from sim.calibration.process import (  # noqa: F401
    ModelSpec,
    Params,
    curve_table,
    first_reaching,
    group_curves,
    permutation_test,
    simulate_periods,
)
from sim.calibration.store import save_result

__all__ = [
    "MEDINNOV",
    "NOBODY_CENSORED",
    "AdoptionData",
    "CalibrationDataError",
    "CalibrationResult",
    "ModelSpec",
    "Params",
    "calibrate",
    "check_identifiable",
    "curve_targets",
    "load_adoption_data",
    "load_medinnov",
    "medinnov_check",
    "medinnov_recheck",
    "parse_filters",
    "recheck",
    "save_result",
]

T50_TOLERANCE = 1.0  # periods
SATURATION_RANGE = (0.81, 0.89)  # Medical Innovation towns (data README); 2 decimals
MEDINNOV_FIT = "medinnov_fit.json"
MEDINNOV_SOURCE = "Coleman, Katz & Menzel 1966 (netdiffuseR)"


def recheck(saved: dict[str, Any], data: AdoptionData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-simulate a saved fit with its saved seed (no refitting).

    Args:
        saved: A ``calibration.json`` record.
        data: The same data the fit used.

    Returns:
        ``(curves, targets)`` as in :func:`calibrate`; identical to the saved ones.
    """
    spec = ModelSpec(**saved["model"])
    p = saved["params"]
    onset = p.get("onset")  # absent in fits saved before onsets existed
    params = Params(
        np.array([p["p"][g] for g in data.group_names]),
        p["q"],
        p["pi"],
        p["mu"],
        None if onset is None else np.array([onset[g] for g in data.group_names], dtype=np.int64),
    )
    seeds = saved["seeds"]
    rng = stream(seeds["root"], seeds["simulation"]["spawn_key"][0])
    sim = group_curves(
        simulate_periods(data, params, spec, seeds["simulation"]["n_sims"], rng), data
    )
    return curve_table(sim, data), curve_targets(sim, data)


def load_medinnov() -> AdoptionData:
    """The packaged Medical Innovation data (union of the three networks, 294 arcs)."""
    return load_adoption_data(
        packaged_path(str(MEDINNOV["nodes"])),
        packaged_path(str(MEDINNOV["edges"])),
        str(MEDINNOV["id_col"]),
        str(MEDINNOV["time_col"]),
        float(MEDINNOV["censored_at"]),  # type: ignore[arg-type]
        str(MEDINNOV["group_col"]),
    )


def medinnov_recheck(
    path: Path | str | None = None,
) -> tuple[dict[str, Any], AdoptionData, pd.DataFrame, pd.DataFrame]:
    """Re-simulate the saved Medical Innovation fit with its saved seed (no refitting).

    Args:
        path: A saved ``calibration.json`` (default the packaged ``medinnov_fit.json``).

    Returns:
        ``(saved, data, curves, targets)``: the JSON record, the packaged data, and the
        tables of :func:`recheck` (per-town curves and curve targets).
    """
    saved = json.loads(Path(path or packaged_path(MEDINNOV_FIT, "calibration")).read_text())
    data = load_medinnov()
    curves, targets = recheck(saved, data)
    return saved, data, curves, targets


def medinnov_check(path: Path | str | None = None) -> list[dict[str, Any]]:
    """Validation rows for pattern 11 from the saved Medical Innovation fit (no refitting).

    Three rows per town (saturation in 0.81-0.89 at the range's two decimals; first month
    with >= 50% adopted within 1 of the published value; simulated median curve within 0.10
    of the observed curve in every month) and one row re-computing the data README's
    exposure-at-adoption permutation analysis. Keys: ``pattern, check, expected, source,
    simulated, low, high, passed`` (``sim.validation.rows.Row``).

    Args:
        path: A saved ``calibration.json`` (default the packaged ``medinnov_fit.json``).
    """
    saved, data, _, targets = medinnov_recheck(path)
    pub = pd.read_csv(packaged_path("adoption_t50_saturation.csv"))
    pub = pub[pub["community"].astype(str) != "all"].set_index("community_name")
    rows = [row for t in targets.itertuples() for row in _town_rows(t, pub.loc[t.group])]
    seeds = saved["seeds"]
    if seeds["permutation"]["n_draws"]:
        rng = stream(seeds["root"], seeds["permutation"]["spawn_key"][0])
        perm = permutation_test(data, seeds["permutation"]["n_draws"], rng)
        lo, hi = np.percentile(perm["null_mean"], [2.5, 97.5])
        ok = (
            abs(perm["observed_mean"] - 0.455) < 5e-4
            and abs(perm["null_mean"].mean() - 0.402) < 0.01
        )
        rows.append(
            _row(
                "exposure at adoption vs within-town permutation null (value: observed; "
                "interval: the null's 95% range)",
                f"observed 0.455, null 0.402 (0.32-0.48), p 0.08 (data README); "
                f"here p = {perm['p_mean']:.3f}",
                perm["observed_mean"], lo, hi, ok,
            )
        )  # fmt: skip
    return rows


def _town_rows(t: Any, published: pd.Series) -> list[dict[str, Any]]:
    """Saturation, t50 and curve-gap rows of one town (``t``: a row of the targets table)."""
    sat_ok = SATURATION_RANGE[0] <= round(t.sim_saturation, 2) <= SATURATION_RANGE[1]
    t50_ok = abs(t.sim_t50 - published["t50_all_first"]) <= T50_TOLERANCE
    gap_ok = t.max_gap <= GAP_TOLERANCE + 1e-12
    return [
        _row(f"{t.group}: saturation by month 17",
             f"{published['saturation']:.4g} (towns 0.81-0.89)",
             t.sim_saturation, t.sat_low, t.sat_high, sat_ok),
        _row(f"{t.group}: first month >= 50% adopted", f"{published['t50_all_first']:g} (+-1)",
             t.sim_t50, t.t50_low, t.t50_high, t50_ok),
        _row(f"{t.group}: max |median - observed| curve gap",
             "<= 0.10 every month (interval: a simulated town vs its median)",
             t.max_gap, t.gap_low, t.gap_high, gap_ok),
    ]  # fmt: skip


def _row(check: str, expected: str, sim: float, lo: float, hi: float, ok: bool) -> dict:
    return {
        "pattern": "11 Medical Innovation",
        "check": check,
        "expected": expected,
        "source": MEDINNOV_SOURCE,
        "simulated": float(sim),
        "low": float(lo),
        "high": float(hi),
        "passed": bool(ok),
    }
