"""Time to close the gap as survival data: Kaplan-Meier curves and restricted mean times.

A run's time to close half (T50) or 90% (T90) of the gap is an event time; a run that never
got there is right-censored at its horizon (its *window*: programme + follow-up months after
the programme start). The Kaplan-Meier estimate comes from :func:`scipy.stats.ecdf` on
:class:`scipy.stats.CensoredData` (scipy >= 1.11), with Greenwood ("linear") 95% bands.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

LEVELS: dict[str, str] = {"T50": "t50", "T90": "t90"}


def kaplan_meier(
    times: np.ndarray, censored: np.ndarray, censor_at: float, confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier "not yet closed" curve of one design at one level.

    Args:
        times: months to close per run, shape ``(n,)``; ignored where ``censored``.
        censored: True where the run never reached the level, shape ``(n,)``.
        censor_at: the horizon (months after programme start) at which censored runs stop
            being observed (> 0).
        confidence: level of the pointwise band, in (0, 1).

    Returns:
        Step points: ``month`` (0 first), ``survival`` (share of runs not yet closed, in
        [0, 1]), ``low`` and ``high`` (band), ``at_risk`` (runs still open just before it).
        The curve holds after the last point.

    Raises:
        ValueError: if ``times`` is empty or shapes differ.
    """
    t = np.asarray(times, dtype=float)
    c = np.asarray(censored, dtype=bool) | np.isnan(t)
    if t.size == 0 or t.shape != c.shape:
        raise ValueError(f"need equal, non-empty shapes, got {t.shape} and {c.shape}")
    data = stats.CensoredData(uncensored=t[~c], right=np.full(int(c.sum()), float(censor_at)))
    res = stats.ecdf(data).sf
    months = np.concatenate([[0.0], res.quantiles])
    surv = np.concatenate([[1.0], res.probabilities])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined where S = 0 or 1: clipped
        band = res.confidence_interval(confidence)
        est = res.probabilities  # where the band is undefined (S = 0 or 1) it collapses on S
        low = np.concatenate(
            [[1.0], np.where(np.isnan(band.low.probabilities), est, band.low.probabilities)]
        )
        high = np.concatenate(
            [[1.0], np.where(np.isnan(band.high.probabilities), est, band.high.probabilities)]
        )
    observed = np.where(c, float(censor_at), t)
    at_risk = np.array([(observed >= m).sum() for m in months])
    return pd.DataFrame(
        {"month": months, "survival": surv, "low": low, "high": high, "at_risk": at_risk}
    )


def restricted_mean(curve: pd.DataFrame, tau: float) -> float:
    """Restricted mean time to close: area under a step survival curve from 0 to ``tau``.

    Args:
        curve: :func:`kaplan_meier` output (``month`` ascending from 0, ``survival``).
        tau: restriction time in months (> 0).

    Returns:
        Months in [0, tau].
    """
    m = curve["month"].to_numpy(dtype=float)
    s = curve["survival"].to_numpy(dtype=float)
    edges = np.clip(np.append(m, np.inf), 0.0, tau)
    return float((s * np.diff(edges)).sum())


def median_time(curve: pd.DataFrame) -> float:
    """First month at which the survival curve is at or below 0.5 (``nan``: not reached)."""
    hit = curve.loc[curve["survival"] <= 0.5, "month"]
    return float(hit.iloc[0]) if not hit.empty else float("nan")


def km_table(runs: pd.DataFrame, windows: Mapping[str, float]) -> pd.DataFrame:
    """Kaplan-Meier curves of T50 and T90 for every design, long form.

    Args:
        runs: one row per (design, replication) with ``t50_months``, ``t50_censored``,
            ``t90_months`` and ``t90_censored``.
        windows: per design, months observed after its programme start (censoring time).

    Returns:
        :func:`kaplan_meier` columns plus ``design``, ``level`` (``T50``/``T90``),
        ``window_months`` and ``n``.
    """
    parts = []
    for design, rows in runs.groupby("design", sort=False):
        for level, key in LEVELS.items():
            curve = kaplan_meier(
                rows[f"{key}_months"].to_numpy(dtype=float),
                rows[f"{key}_censored"].fillna(False).to_numpy(dtype=bool),
                float(windows[str(design)]),
            )
            curve.insert(0, "level", level)
            curve.insert(0, "design", str(design))
            curve["window_months"] = float(windows[str(design)])
            curve["n"] = len(rows)
            parts.append(curve)
    return pd.concat(parts, ignore_index=True)


def km_summary(survival: pd.DataFrame, tau: float) -> pd.DataFrame:
    """Per design and level: KM median, restricted mean to ``tau`` and share never closed.

    Returns:
        Columns ``design``, ``level``, ``median_months`` (``nan`` = not reached),
        ``restricted_mean_months`` (to ``tau``), ``tau``, ``open_at_window`` (survival at
        the design's own horizon) and ``n``.
    """
    rows = []
    for (design, level), curve in survival.groupby(["design", "level"], sort=False):
        rows.append(
            {
                "design": design,
                "level": level,
                "median_months": median_time(curve),
                "restricted_mean_months": restricted_mean(curve, tau),
                "tau": float(tau),
                "open_at_window": float(curve["survival"].iloc[-1]),
                "n": int(curve["n"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)
