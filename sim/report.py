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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
)

SUMMARY_QUANTILES = (0.05, 0.5, 0.95)  # median and 90% interval (summary table)
PUBLISHED_QUANTILES = (0.025, 0.5, 0.975)  # median and 95% interval (published comparison)
TERMINAL_WIDTH = 100


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is labelled, printed and documented.

    Attributes:
        label: human-friendly label (at most 36 characters, so terminal rows fit 100 columns).
        kind: number format only: ``months`` (one decimal), ``fraction`` (2-3 decimals, may be
            negative), ``share`` (printed as %), ``ratio`` (two decimals), ``count``, ``money``,
            ``pp`` (percentage points) or ``number`` (3 significant figures).
        unit: what the number measures (``gap-months``, ``events per 1000 patient-days``...),
            for ``docs/outputs.md`` (:mod:`sim.outputs_doc`).
        definition: one line: what it is, over which window, and when it is ``nan``.
    """

    label: str
    kind: str = "number"
    unit: str = ""
    definition: str = ""


# units shared by several metrics (docs/outputs.md shows them verbatim)
GAP_UNIT = "share of starting gap (1 = none closed, 0 = all)"
SITES_SHARE = "share of sites (0-1)"
CLINICIANS_SHARE = "share of clinicians (0-1)"
RATE_UNIT = "events per 1000 patient-days"
IRR_UNIT = "ratio (1 = baseline rate)"
_NO_CONTROL = "; nan without a control arm"


def _irr(window: str, observed: bool = False) -> str:
    """Definition of an IRR over a window of ``IRR_WINDOWS`` (``"0-3"``...)."""
    source = "observed (Poisson) events" if observed else "expected events"
    return (
        f"Programme-arm rate of {source} in months {window} after implementation (counted from "
        f"programme start + time.implementation_months) over the baseline rate of the same "
        f"kind; nan if the window ends after the horizon"
    )


def _site_rate(stat: str, window: str) -> str:
    """Definition of a per-site observed event rate summary."""
    where = (
        "the baseline months (nan without any)"
        if window == "baseline"
        else f"months {window} after implementation (nan if the window ends after the horizon)"
    )
    return (
        f"{stat} across programme-arm sites of each site's observed rate (Poisson counts per "
        f"1000 patient-days) in {where}"
    )


METRICS: dict[str, MetricInfo] = {
    "t50_months": MetricInfo(
        "T50 (months to close half the gap)",
        "months",
        "months",
        "Months from programme start until the true gap first falls to 0.5, linearly "
        "interpolated between months; nan (with t50_censored true) if not reached by the horizon",
    ),
    "t90_months": MetricInfo(
        "T90 (months to close 90% of the gap)",
        "months",
        "months",
        "Months from programme start until the true gap first falls to 0.1, linearly "
        "interpolated between months; nan (with t90_censored true) if not reached by the horizon",
    ),
    "gap_auc": MetricInfo(
        "Gap area after start (gap-months)",
        "number",
        "gap-months",
        "Sum of the monthly true gap from programme start to the horizon (programme + follow-up "
        "months): area under the gap curve, lower is better",
    ),
    "gap_programme_end": MetricInfo(
        "Gap at programme end",
        "fraction",
        GAP_UNIT,
        "True gap in the last programme month",
    ),
    "gap_followup_12": MetricInfo(
        "Gap 12 months after support ends",
        "fraction",
        GAP_UNIT,
        "True gap 12 months after the last programme month; nan with less than 12 follow-up months",
    ),
    "gap_followup_24": MetricInfo(
        "Gap 24 months after support ends",
        "fraction",
        GAP_UNIT,
        "True gap 24 months after the last programme month; nan with less than 24 follow-up months",
    ),
    "gap_followup_end": MetricInfo(
        "Gap at end of follow-up",
        "fraction",
        GAP_UNIT,
        "True gap in the last month of follow-up (the horizon); nan without follow-up",
    ),
    "sustainment": MetricInfo(
        "Sustainment (closed +12 mo / at end)",
        "ratio",
        "ratio (1 = gains held, > 1 = kept closing)",
        "(1 - gap_followup_12) / (1 - gap_programme_end): share of the gap closed by programme "
        "end still closed 12 months later; nan with < 12 follow-up months or nothing closed",
    ),
    "reported_gap_programme_end": MetricInfo(
        "Reported gap at programme end",
        "fraction",
        GAP_UNIT,
        "Gap from reported adherence (latest reports, same denominator as the true gap) in the "
        "last programme month; gaming and noise can put it below 0 or above 1",
    ),
    "sites_improved_share": MetricInfo(
        "Sites improved (>= 10% of own gap)",
        "share",
        SITES_SHARE,
        "Share of programme-arm sites that closed at least 10% of their own gap by programme end "
        "(sites.parquet gap_closed >= 0.1)",
    ),
    "share_transformed": MetricInfo(
        "Sites transformed (closed >= 60%)",
        "share",
        SITES_SHARE,
        "Share of programme-arm sites that closed at least 60% of their own gap by programme end",
    ),
    "share_boosted": MetricInfo(
        "Sites boosted (closed 20-60%)",
        "share",
        SITES_SHARE,
        "Share of programme-arm sites that closed at least 20% but less than 60% of their own gap "
        "by programme end",
    ),
    "share_little_change": MetricInfo(
        "Sites with little change (< 20%)",
        "share",
        SITES_SHARE,
        "Share of programme-arm sites that closed less than 20% of their own gap by programme end",
    ),
    "site_gini": MetricInfo(
        "Site inequality (Gini of adherence)",
        "fraction",
        "Gini coefficient (0 = all equal, 0-1)",
        "Gini coefficient of true adherence across programme-arm sites (unweighted) at "
        "programme end",
    ),
    "site_sd": MetricInfo(
        "Site spread (sd of gap closed)",
        "fraction",
        "share of own gap closed (sd)",
        "Standard deviation (ddof 0) across programme-arm sites of the share of their own gap "
        "closed by programme end",
    ),
    "peripheral_lag": MetricInfo(
        "Peripheral lag (core - peripheral)",
        "fraction",
        "difference in share closed, can be negative",
        "Mean share of own gap closed by programme end at non-peripheral programme-arm sites "
        "minus that at peripheral ones (> 0: peripheral sites lag); nan unless both kinds exist",
    ),
    "dropouts": MetricInfo(
        "Sites dropped out",
        "count",
        "count of sites",
        "Programme-arm sites that dropped out by the horizon (they still count in the gap: "
        "intention to treat)",
    ),
    "marginalised_sites": MetricInfo(
        "Peripheral sites marginalised",
        "count",
        "count of sites",
        "Peripheral programme-arm sites whose belonging is below 0.2 at the horizon",
    ),
    "conflict_mean": MetricInfo(
        "Mean conflict during programme (0-1)",
        "fraction",
        "0-1 scale",
        "Mean over the programme months of the patient-weighted mean site conflict (programme arm)",
    ),
    "gaming_gap": MetricInfo(
        "Reported minus true adherence (pp)",
        "pp",
        "adherence points (pp)",
        "Mean over the programme's report months of the patient-weighted reported minus true "
        "adherence of the reporting sites; nan if no report was made",
    ),
    "share_internalised_end": MetricInfo(
        "Clinicians internalised at end",
        "share",
        CLINICIANS_SHARE,
        "Share of programme-arm clinicians who have internalised the practice in the last month "
        "(the horizon)",
    ),
    "share_compliant_end": MetricInfo(
        "Clinicians merely compliant at end",
        "share",
        CLINICIANS_SHARE,
        "Share of programme-arm clinicians who follow the practice only under pressure "
        "(compliant, not internalised) in the last month (the horizon)",
    ),
    "baseline_event_rate": MetricInfo(
        "Baseline events /1000 patient-days",
        "number",
        RATE_UNIT,
        "Programme-arm rate of expected events in the baseline months (without any: the rate at "
        "baseline adherence, the sites' base rates weighted by patient-days): the denominator "
        "of every expected-event IRR",
    ),
    "irr_programme_end": MetricInfo(
        "IRR last 3 programme months",
        "ratio",
        IRR_UNIT,
        "Programme-arm rate of expected events in the last 3 programme months over "
        "baseline_event_rate",
    ),
    "irr_0_3": MetricInfo("IRR months 0-3 post-implementation", "ratio", IRR_UNIT, _irr("0-3")),
    "irr_16_18": MetricInfo(
        "IRR months 16-18 post-implementation", "ratio", IRR_UNIT, _irr("16-18")
    ),
    "irr_34_36": MetricInfo(
        "IRR months 34-36 post-implementation", "ratio", IRR_UNIT, _irr("34-36")
    ),
    "irr_0_3_observed": MetricInfo(
        "Observed IRR, months 0-3", "ratio", IRR_UNIT, _irr("0-3", observed=True)
    ),
    "irr_16_18_observed": MetricInfo(
        "Observed IRR, months 16-18", "ratio", IRR_UNIT, _irr("16-18", observed=True)
    ),
    "irr_34_36_observed": MetricInfo(
        "Observed IRR, months 34-36", "ratio", IRR_UNIT, _irr("34-36", observed=True)
    ),
    "events_avoided": MetricInfo(
        "Events avoided (vs no programme)",
        "number",
        "events (expected count), can be negative",
        "Programme-arm expected events at each site's baseline rate times the secular trend, "
        "minus expected events, summed from programme start to the horizon",
    ),
    "cost_total": MetricInfo(
        "Total cost (currency)",
        "money",
        "currency",
        "Programme spend summed to the horizon (core team plus budget per active site, in "
        "programme months only)",
    ),
    "cost_per_gap_point": MetricInfo(
        "Cost per point of gap closed",
        "money",
        "currency per percentage point of gap closed",
        "cost_total / (100 x (1 - gap_programme_end)); nan if no gap was closed by programme end",
    ),
    "cost_per_event_avoided": MetricInfo(
        "Cost per event avoided",
        "money",
        "currency per event avoided",
        "cost_total / events_avoided; nan if no event was avoided (events_avoided <= 0)",
    ),
    "site_rate_mean_baseline": MetricInfo(
        "Site event rate, baseline (mean)", "number", RATE_UNIT, _site_rate("Mean", "baseline")
    ),
    "site_rate_median_baseline": MetricInfo(
        "Site event rate, baseline (median)", "number", RATE_UNIT, _site_rate("Median", "baseline")
    ),
    "site_rate_mean_0_3": MetricInfo(
        "Site event rate, mo. 0-3 (mean)", "number", RATE_UNIT, _site_rate("Mean", "0-3")
    ),
    "site_rate_median_0_3": MetricInfo(
        "Site event rate, mo. 0-3 (median)", "number", RATE_UNIT, _site_rate("Median", "0-3")
    ),
    "site_rate_mean_16_18": MetricInfo(
        "Site event rate, mo. 16-18 (mean)", "number", RATE_UNIT, _site_rate("Mean", "16-18")
    ),
    "site_rate_median_16_18": MetricInfo(
        "Site event rate, mo. 16-18 (median)", "number", RATE_UNIT, _site_rate("Median", "16-18")
    ),
    "site_rate_mean_34_36": MetricInfo(
        "Site event rate, mo. 34-36 (mean)", "number", RATE_UNIT, _site_rate("Mean", "34-36")
    ),
    "site_rate_median_34_36": MetricInfo(
        "Site event rate, mo. 34-36 (median)", "number", RATE_UNIT, _site_rate("Median", "34-36")
    ),
    "irr_control_programme_end": MetricInfo(
        "Control-arm IRR at programme end",
        "ratio",
        IRR_UNIT,
        "Control-arm rate of expected events in the last 3 programme months over its own "
        "baseline rate" + _NO_CONTROL,
    ),
    "net_irr": MetricInfo(
        "Net IRR (programme / control)",
        "ratio",
        "ratio (1 = no effect beyond control)",
        "irr_programme_end / irr_control_programme_end" + _NO_CONTROL,
    ),
    "net_adherence_gain": MetricInfo(
        "Net adherence gain vs control",
        "fraction",
        "adherence difference (0-1 scale), can be negative",
        "Programme-arm gain in true adherence from the end of the first programme month to the "
        "end of the last, minus the control arm's gain" + _NO_CONTROL,
    ),
    "net_irr_observed": MetricInfo(
        "Observed net IRR (programme/control)",
        "ratio",
        "ratio (1 = no effect beyond control)",
        "Ratio of rate ratios from Poisson counts: programme arm (last 3 programme months vs "
        "baseline months) over control arm (same windows); nan without a control arm or if any "
        "of the four counts is 0",
    ),
    "net_irr_observed_z": MetricInfo(
        "Observed net IRR, Wald |z|",
        "number",
        "z statistic (>= 0)",
        "|log net_irr_observed| / sqrt(sum of 1/count) over the four counts; below 1.96: not "
        "distinguishable from the control trend at the 5% level; nan as net_irr_observed",
    ),
}


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
