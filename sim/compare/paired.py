"""Paired statistics of a comparison: bootstrap CIs, paired differences, P(better), CRN's effect.

Pure functions of arrays and tables (no simulation, no files): :func:`paired_difference` of one
outcome, :func:`compare_outcomes` of every outcome of every design against the baseline, and
:func:`add_crn_effect`, which sets the CI widths of an independent-streams comparison beside
those of the same comparison under common random numbers. The conventions (ties, missing
pairs) are stated in :mod:`sim.compare`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare.outcomes import CENSORED, OUTCOMES, Outcome

CONFIDENCE = 0.95
N_RESAMPLES = 4999
BOOTSTRAP_SEED = 20240607  # bootstrap resampling seed: the same CIs on every run of a comparison
MIN_RELIABLE_PAIRS = 20
"""Paired replications below which CIs and P(better) carry a caution (:func:`few_pairs_caution`).

Why 20: a bootstrap interval only resamples the n pairs it has, so for small n it behaves like
a normal interval built with the plug-in SD (divisor n) and z = 1.96 instead of Student's t;
for a mean that makes it narrower than the exact t interval by the factor
1.96 / t(0.975, n-1) * sqrt((n-1)/n): 0.11 at n = 2 (only 3 distinct resample means), 0.63 at
5, 0.82 at 10, 0.91 at 20, 0.94 at 30. BCa's bias and acceleration corrections are themselves
estimated from the n pairs and do not repair this. From 20 pairs on the shortfall is under 10%
and P(better), a share of n pairs in steps of 1/n, has a standard error of at most
0.5 / sqrt(20) = 0.11; below that the numbers look more certain than they are."""


def few_pairs_caution(reps: int) -> str | None:
    """A one-line caution when ``reps`` paired replications are too few for the intervals
    (below :data:`MIN_RELIABLE_PAIRS`), else ``None``."""
    if reps >= MIN_RELIABLE_PAIRS:
        return None
    return (
        f"only {reps} paired replications per design: bootstrap CIs and P(better) from fewer "
        f"than {MIN_RELIABLE_PAIRS} are unreliable (too narrow, coarse); use --reps "
        f"{MIN_RELIABLE_PAIRS} or more before drawing conclusions"
    )


def bootstrap_ci(
    diffs: np.ndarray, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Bootstrap CI of the mean of paired differences (BCa, percentile if BCa is undefined).

    Args:
        diffs: paired differences, shape ``(n,)``, no ``nan``.
        confidence: confidence level in (0, 1).
        seed: resampling seed (fixed: the same CI on every run).

    Returns:
        ``(low, high)``; ``(d, d)`` when all differences equal ``d``; ``(nan, nan)`` if n < 2.
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size < 2:
        return float("nan"), float("nan")
    if np.ptp(diffs) == 0.0:
        return float(diffs[0]), float(diffs[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            res = stats.bootstrap(
                (diffs,),
                np.mean,
                confidence_level=confidence,
                n_resamples=N_RESAMPLES,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return low, high
    return float("nan"), float("nan")


def paired_difference(
    design: np.ndarray, baseline: np.ndarray, lower_is_better: bool
) -> dict[str, float | int]:
    """Mean paired difference ``design - baseline``, its bootstrap CI and P(design better).

    Args:
        design: the design's outcome per replication, shape ``(n,)``.
        baseline: the baseline's outcome for the same replications, shape ``(n,)``.
        lower_is_better: direction of "better".

    Returns:
        ``n_pairs``, ``n_missing`` (pairs with a ``nan``, left out), ``mean_design``,
        ``mean_baseline``, ``diff_mean``, ``diff_sd``, ``ci_low``, ``ci_high``, ``p_better``
        (the probability of superiority: share of pairs the design wins, ties counting 1/2),
        ``n_ties``, and the shares of pairs (0-1) in which the design is better, the same and
        worse: ``share_better``, ``share_tied``, ``share_worse`` (``p_better`` = ``share_better
        + share_tied / 2``).

    Raises:
        ValueError: if the arrays differ in shape.
    """
    a, b = np.asarray(design, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    n = int(d.size)
    lo, hi = bootstrap_ci(d)
    wins = (d < 0) if lower_is_better else (d > 0)
    ties = d == 0
    nan = float("nan")
    n_win, n_tie = int(wins.sum()), int(ties.sum())
    return {
        "n_pairs": n,
        "n_missing": int((~ok).sum()),
        "mean_design": float(a[ok].mean()) if n else nan,
        "mean_baseline": float(b[ok].mean()) if n else nan,
        "diff_mean": float(d.mean()) if n else nan,
        "diff_sd": float(d.std(ddof=1)) if n > 1 else nan,
        "ci_low": lo,
        "ci_high": hi,
        "p_better": (n_win + 0.5 * n_tie) / n if n else nan,
        "n_ties": n_tie,
        "share_better": n_win / n if n else nan,
        "share_tied": n_tie / n if n else nan,
        "share_worse": (n - n_win - n_tie) / n if n else nan,
    }


def compare_outcomes(
    table: pd.DataFrame,
    baseline: str,
    designs: Sequence[str],
    tau: float,
    outcomes: Sequence[Outcome] = OUTCOMES,
) -> pd.DataFrame:
    """Paired differences of every design against ``baseline`` on every outcome.

    Args:
        table: :func:`outcome_table` output.
        baseline: name of the baseline design.
        designs: all design names in display order (the baseline is skipped).
        tau: the common window (months), recorded with the censored outcomes.
        outcomes: the compared outcomes (default :data:`OUTCOMES`).

    Returns:
        One row per (design, metric) with the :func:`paired_difference` columns plus
        ``design``, ``baseline``, ``metric``, ``label`` and ``unit`` (of the stored values:
        :attr:`Outcome.parquet_label`, :attr:`Outcome.unit`), ``lower_is_better``,
        ``not_reached_design`` / ``not_reached_baseline`` (times only) and ``window_months``.
        Values are in the units of ``runs.parquet`` (gaps as shares of the starting gap).
    """
    base = table[table["design"] == baseline].set_index("replication").sort_index()
    rows = []
    for name in designs:
        if name == baseline:
            continue
        other = table[table["design"] == name].set_index("replication").sort_index()
        reps = base.index.intersection(other.index)
        for o in outcomes:
            row: dict[str, Any] = {
                "design": name,
                "baseline": baseline,
                "metric": o.metric,
                "label": o.parquet_label,
                "unit": o.unit,
                "lower_is_better": o.lower_is_better,
            }
            row.update(
                paired_difference(
                    other.loc[reps, o.metric].to_numpy(),
                    base.loc[reps, o.metric].to_numpy(),
                    o.lower_is_better,
                )
            )
            if o.metric in CENSORED:
                reached = o.metric.replace("_months", "_reached")
                row["not_reached_design"] = int((~other.loc[reps, reached]).sum())
                row["not_reached_baseline"] = int((~base.loc[reps, reached]).sum())
            if o.metric in CENSORED or o.metric in ("gap_auc", "gap_window_end"):
                row["window_months"] = float(tau)
            rows.append(row)
    return pd.DataFrame(rows)


def add_crn_effect(independent: pd.DataFrame, crn: pd.DataFrame) -> pd.DataFrame:
    """Add CRN's CI width and variance beside the independent table's, and their ratios.

    Returns:
        ``independent`` with ``ci_width``, ``ci_width_crn``, ``ci_width_ratio`` (CRN width /
        independent width: below 1 = CRN narrower) and ``var_ratio`` (variance of the paired
        differences, CRN / independent).
    """
    keys = ["design", "metric"]
    other = crn[[*keys, "ci_low", "ci_high", "diff_sd"]].rename(
        columns={"ci_low": "ci_low_crn", "ci_high": "ci_high_crn", "diff_sd": "diff_sd_crn"}
    )
    out = independent.merge(other, on=keys, how="left")
    out["ci_width"] = out["ci_high"] - out["ci_low"]
    out["ci_width_crn"] = out["ci_high_crn"] - out["ci_low_crn"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ci_width_ratio"] = out["ci_width_crn"] / out["ci_width"]
        out["var_ratio"] = (out["diff_sd_crn"] / out["diff_sd"]) ** 2
    return out
