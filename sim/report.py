"""Summaries of an experiment: tables, a terminal report and ``summary.md``.

This module holds the tables and the formatting of values: :func:`summary_table`,
:func:`published_comparison`, :func:`format_value`; the terminal report is in
:mod:`sim.report_text` (:func:`~sim.report_text.format_terminal`) and ``summary.md`` in
:mod:`sim.report_md` (``write_summary_md``, ``markdown_table``).

Conventions:

* Intervals are percentiles **across replications** of one design: they show the model's
  stochastic (run-to-run) variation for fixed parameters, not uncertainty about the parameters.
  The summary table uses the median and a 90% interval (5th-95th percentiles); the comparison
  with published values uses a 95% interval (2.5th-97.5th percentiles).
* Percentiles use linear interpolation between order statistics (numpy's default, "type 7").
* Times to close the gap (``t50_months``, ``t90_months``) are right-censored at the horizon
  (``nan`` with ``*_censored = True`` in ``runs``). Here a censored run counts as ``+inf``: it
  closed the gap later than anything observed. A percentile is therefore ``inf`` ("not reached",
  shown as ``> horizon``) as soon as it falls among the censored runs, e.g. the median is
  ``inf`` when more than half the runs are censored. Censored runs are never given a made-up
  finite value.
* Other ``nan`` values (e.g. a follow-up metric of a design without follow-up) are left out; ``n``
  counts the replications that have a value (censored included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.metric_info import METRICS, MetricInfo  # noqa: F401  (re-exported)

DEFAULT_METRICS: tuple[str, ...] = (
    "t50_months",
    "t90_months",
    "gap_auc",
    "gap_programme_end",
    "gap_followup_end",
    "sites_improved_share",
    "site_gini",
    "dropouts",
    "conflict_mean",
    "gaming_gap",
    "irr_0_3",
    "irr_16_18",
    "irr_programme_end",
    "cost_total",
    "funded_site_months",
)

SUMMARY_QUANTILES = (0.05, 0.5, 0.95)  # median and 90% interval (summary table)
PUBLISHED_QUANTILES = (0.025, 0.5, 0.975)  # median and 95% interval (published comparison)
TERMINAL_WIDTH = 100


def metric_label(metric: str) -> str:
    """Human-friendly label of a metric (the column name itself when unknown)."""
    info = METRICS.get(metric)
    return info.label if info is not None else metric


def censor_column(metric: str, columns: Sequence[str] | pd.Index) -> str | None:
    """Name of the censoring flag of ``metric`` (``t50_months`` -> ``t50_censored``), if any."""
    name = metric.removesuffix("_months") + "_censored"
    return name if name != metric + "_censored" and name in columns else None


def quantile(values: np.ndarray, q: float) -> float:
    """Linear-interpolation percentile (numpy's default) that allows ``+inf`` values.

    Args:
        values: values, shape ``(n,)``; ``+inf`` marks a censored (not reached) value, ``nan``
            values must already be removed.
        q: probability in [0, 1].

    Returns:
        The percentile; ``inf`` when it is interpolated towards a censored value, ``nan`` when
        ``values`` is empty.
    """
    x = np.sort(np.asarray(values, dtype=float))
    if x.size == 0:
        return float("nan")
    h = (x.size - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    frac = h - lo
    if math.isinf(x[hi]):
        return float(x[lo]) if frac == 0.0 else float("inf")
    return float(x[lo] + frac * (x[hi] - x[lo]))


def _values(frame: pd.DataFrame, metric: str) -> tuple[np.ndarray, int | None]:
    """Values of one metric with censored runs as ``+inf`` and NaNs dropped, and the censored
    count (``None`` for a metric that cannot be censored)."""
    x = frame[metric].to_numpy(dtype=float, na_value=np.nan).copy()
    flag = censor_column(metric, frame.columns)
    n_cens = None
    if flag is not None:
        cens = frame[flag].fillna(False).to_numpy(dtype=bool)
        x[cens] = np.inf
        n_cens = int(cens.sum())
    return x[~np.isnan(x)], n_cens


def design_order(runs: pd.DataFrame) -> list[str]:
    """Design names in experiment order (by ``design_index`` when present)."""
    if runs.empty:
        return []
    if "design_index" in runs.columns:
        first = runs.groupby("design", sort=False)["design_index"].min().sort_values(kind="stable")
        return [str(d) for d in first.index]
    return [str(d) for d in pd.unique(runs["design"])]


def summary_table(runs: pd.DataFrame, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
    """Median and 90% interval across replications of each metric, per design.

    Censored times to close count as ``+inf`` (see the module docstring): ``median``, ``p05`` or
    ``p95`` is ``inf`` when that percentile is "not reached by the horizon". Metrics missing
    from ``runs`` are skipped.

    Args:
        runs: one row per (design, replication), as :attr:`ExperimentResult.runs`.
        metrics: metric columns to summarise, in display order.

    Returns:
        Long table, one row per (design, metric) in design then metric order, columns
        ``design``, ``metric``, ``label``, ``n`` (replications with a value), ``n_censored``
        (nullable int; ``<NA>`` for metrics that cannot be censored), ``median``, ``p05`` and
        ``p95`` (in the metric's own unit).
    """
    rows = []
    for design in design_order(runs):
        frame = runs[runs["design"] == design]
        for metric in metrics:
            if metric not in frame.columns:
                continue
            x, n_cens = _values(frame, metric)
            lo, med, hi = (quantile(x, q) for q in SUMMARY_QUANTILES)
            rows.append(
                {
                    "design": design,
                    "metric": metric,
                    "label": metric_label(metric),
                    "n": int(x.size),
                    "n_censored": pd.NA if n_cens is None else n_cens,
                    "median": med,
                    "p05": lo,
                    "p95": hi,
                }
            )
    out = pd.DataFrame(
        rows, columns=["design", "metric", "label", "n", "n_censored", "median", "p05", "p95"]
    )
    return out.astype({"n": "int64", "n_censored": "Int64"})


def published_comparison(
    runs: pd.DataFrame, scenario_dict: Mapping[str, Any], design: str | None = None
) -> pd.DataFrame:
    """Simulated medians and 95% intervals beside the published values of a scenario.

    Only entries of ``scenario_dict["published"]`` whose name is a column of ``runs`` are
    compared. ``inside`` is True when the simulated median lies within the published interval
    ``[low, high]`` (a missing bound is unbounded on that side); it is ``<NA>`` when the
    published entry has no interval at all or the simulated median is ``nan``.

    Args:
        runs: one row per (design, replication).
        scenario_dict: the scenario as a JSON dict (``manifest["designs"][i]["scenario"]``);
            ``published`` maps a metric name to ``{value, low, high, source}``.
        design: compare only this design's runs; ``None`` compares every design in ``runs``.

    Returns:
        One row per (design, metric), columns ``design``, ``metric``, ``label``, ``published``,
        ``published_low``, ``published_high``, ``source``, ``n``, ``sim_median``, ``sim_low``
        (2.5th percentile), ``sim_high`` (97.5th percentile) and ``inside`` (nullable bool).
    """
    columns = [
        "design",
        "metric",
        "label",
        "published",
        "published_low",
        "published_high",
        "source",
        "n",
        "sim_median",
        "sim_low",
        "sim_high",
        "inside",
    ]
    published = scenario_dict.get("published") or {}
    designs = [design] if design is not None else design_order(runs)
    rows = []
    for name in designs:
        frame = runs[runs["design"] == name]
        rows += [_published_row(frame, name, m, t) for m, t in published.items() if m in frame]
    return pd.DataFrame(rows, columns=columns).astype({"n": "int64", "inside": "boolean"})


def _published_row(
    frame: pd.DataFrame, name: str, metric: str, target: Mapping[str, Any]
) -> dict[str, Any]:
    """One row of :func:`published_comparison`: design ``name``'s runs against ``target``."""
    x, _ = _values(frame, metric)
    lo, med, hi = (quantile(x, q) for q in PUBLISHED_QUANTILES)
    low, high = _bound(target.get("low")), _bound(target.get("high"))
    if (math.isnan(low) and math.isnan(high)) or math.isnan(med):
        inside: Any = pd.NA
    else:
        inside = bool((math.isnan(low) or med >= low) and (math.isnan(high) or med <= high))
    return {
        "design": name,
        "metric": metric,
        "label": metric_label(metric),
        "published": float(target["value"]),
        "published_low": low,
        "published_high": high,
        "source": str(target.get("source") or ""),
        "n": int(x.size),
        "sim_median": med,
        "sim_low": lo,
        "sim_high": hi,
        "inside": inside,
    }


def _bound(value: Any) -> float:
    return float("nan") if value is None else float(value)


# --------------------------------------------------------------------------- formatting


def format_value(metric: str, value: float, horizon: float | None = None) -> str:
    """One number of a metric, rounded for people.

    Args:
        metric: metric name (decides the format, see :data:`METRICS`).
        value: the value; ``inf`` means "not reached" (censored), ``nan`` means no value.
        horizon: months observed after the programme start, for ``inf`` (``> 48``).

    Returns:
        e.g. ``"14.9"``, ``"0.16"``, ``"95%"``, ``"1,128,000"``, ``"> 48"``, ``"n/a"``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        if value < 0:
            return "-inf"
        return f"> {horizon:g}" if horizon is not None else "not reached"
    text = _format_finite(metric, float(value))
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]  # "-0.0" -> "0.0"
    return text


def _format_finite(metric: str, value: float) -> str:
    kind = METRICS[metric].kind if metric in METRICS else "number"
    if kind == "months":
        return f"{value:.1f}"
    if kind == "fraction":
        return f"{value:.3f}" if abs(value) < 0.1 and value != 0 else f"{value:.2f}"
    if kind == "share":
        return f"{100 * value:.0f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "count":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "pp":
        return f"{value:.1f}"
    return _number(value)


def _number(value: float) -> str:
    """Generic rounding: 3 significant figures, thousands separators from 1000 up."""
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 0.1 or a == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_interval(metric: str, low: float, high: float, horizon: float | None = None) -> str:
    """An interval as ``low to high`` in the metric's format (``to``: values may be negative);
    ``not reached`` when both ends are censored. Counts (sites, events) are whole numbers, so an
    interpolated end is widened to the whole numbers around it (``0 to 0.1`` reads ``0 to 1``)."""
    if math.isinf(low) and math.isinf(high) and low > 0:
        return "not reached"
    if metric in METRICS and METRICS[metric].kind == "count":
        low = math.floor(low) if math.isfinite(low) else low
        high = math.ceil(high) if math.isfinite(high) else high
    return f"{format_value(metric, low, horizon)} to {format_value(metric, high, horizon)}"


def tables_of(result: Any) -> dict[str, Any]:
    """``runs``, ``series``, ``site_series``, ``manifest``, ``out_dir`` of a result or mapping."""
    keys = ("runs", "series", "site_series", "sites", "manifest", "out_dir")
    if isinstance(result, Mapping):
        return {k: result.get(k) for k in keys}
    return {k: getattr(result, k, None) for k in keys}


def design_meta(manifest: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per design name: its scenario dict and horizon after the programme start (months)."""
    out: dict[str, dict[str, Any]] = {}
    for d in (manifest or {}).get("designs", []):
        scn = d.get("scenario") or {}
        t = scn.get("time") or {}
        horizon = None
        if "programme_months" in t:
            horizon = float(t["programme_months"]) + float(t.get("followup_months", 0))
        out[str(d.get("name"))] = {"scenario": scn, "horizon": horizon}
    return out


def overrides_of(manifest: Mapping[str, Any] | None) -> list[str]:
    """The ``--set key=value`` items a run was made with (``manifest["cli"]["overrides"]``;
    empty for runs made through the Python API or without ``--set``)."""
    cli = (manifest or {}).get("cli") or {}
    return [str(item) for item in cli.get("overrides") or []]


def censored_note(n_censored: Any, n: int, metric: str) -> str:
    if n_censored is pd.NA or n_censored is None or int(n_censored) == 0:
        return ""
    short = metric.removesuffix("_months").upper()
    return f"{short} not reached in {int(n_censored)} of {n}"
