"""Summaries of an experiment: tables, a terminal report and ``summary.md``.

Public entry points: :func:`summary_table`, :func:`published_comparison`, :func:`format_terminal`
and :func:`write_summary_md` (plus the small :func:`markdown_table` formatter).

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
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.results import atomic_write_bytes

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
    """How a metric is labelled and printed.

    Attributes:
        label: human-friendly label (at most 36 characters, so terminal rows fit 100 columns).
        kind: number format: ``months``, ``fraction``, ``share`` (printed as %), ``ratio``,
            ``count``, ``money``, ``pp`` (percentage points) or ``number``.
    """

    label: str
    kind: str = "number"


METRICS: dict[str, MetricInfo] = {
    "t50_months": MetricInfo("T50 (months to close half the gap)", "months"),
    "t90_months": MetricInfo("T90 (months to close 90% of the gap)", "months"),
    "gap_auc": MetricInfo("Gap area after start (gap-months)", "months"),
    "gap_programme_end": MetricInfo("Gap at programme end", "fraction"),
    "gap_followup_12": MetricInfo("Gap 12 months after support ends", "fraction"),
    "gap_followup_24": MetricInfo("Gap 24 months after support ends", "fraction"),
    "gap_followup_end": MetricInfo("Gap at end of follow-up", "fraction"),
    "sustainment": MetricInfo("Sustainment (gain kept 12 months on)", "ratio"),
    "reported_gap_programme_end": MetricInfo("Reported gap at programme end", "fraction"),
    "sites_improved_share": MetricInfo("Sites improved (>= 10% of own gap)", "share"),
    "share_transformed": MetricInfo("Sites transformed (closed >= 60%)", "share"),
    "share_boosted": MetricInfo("Sites boosted (closed 20-60%)", "share"),
    "share_little_change": MetricInfo("Sites with little change (< 20%)", "share"),
    "site_gini": MetricInfo("Site inequality (Gini of adherence)", "fraction"),
    "site_sd": MetricInfo("Site spread (sd of gap closed)", "fraction"),
    "peripheral_lag": MetricInfo("Peripheral lag (core - peripheral)", "fraction"),
    "dropouts": MetricInfo("Sites dropped out", "count"),
    "marginalised_sites": MetricInfo("Peripheral sites marginalised", "count"),
    "conflict_mean": MetricInfo("Mean conflict during programme (0-1)", "fraction"),
    "gaming_gap": MetricInfo("Gaming (reported - true, pp)", "pp"),
    "share_internalised_end": MetricInfo("Clinicians internalised at end", "share"),
    "share_compliant_end": MetricInfo("Clinicians merely compliant at end", "share"),
    "baseline_event_rate": MetricInfo("Baseline events /1000 patient-days", "ratio"),
    "irr_programme_end": MetricInfo("IRR last 3 programme months", "ratio"),
    "irr_0_3": MetricInfo("IRR months 0-3 post-implementation", "ratio"),
    "irr_16_18": MetricInfo("IRR months 16-18 post-implementation", "ratio"),
    "irr_34_36": MetricInfo("IRR months 34-36 post-implementation", "ratio"),
    "irr_programme_end_observed": MetricInfo("Observed IRR, last 3 programme mo.", "ratio"),
    "irr_0_3_observed": MetricInfo("Observed IRR, months 0-3", "ratio"),
    "irr_16_18_observed": MetricInfo("Observed IRR, months 16-18", "ratio"),
    "irr_34_36_observed": MetricInfo("Observed IRR, months 34-36", "ratio"),
    "events_avoided": MetricInfo("Events avoided", "number"),
    "cost_total": MetricInfo("Total cost (currency)", "money"),
    "cost_per_gap_point": MetricInfo("Cost per point of gap closed", "money"),
    "cost_per_event_avoided": MetricInfo("Cost per event avoided", "money"),
    "irr_control_programme_end": MetricInfo("Control-arm IRR at programme end", "ratio"),
    "net_irr": MetricInfo("Net IRR (programme / control)", "ratio"),
    "net_adherence_gain": MetricInfo("Net adherence gain vs control", "fraction"),
    "site_rate_mean_baseline": MetricInfo("Site event rate, baseline (mean)", "ratio"),
    "site_rate_median_baseline": MetricInfo("Site event rate, baseline (median)", "ratio"),
    "site_rate_mean_0_3": MetricInfo("Site event rate, mo. 0-3 (mean)", "ratio"),
    "site_rate_median_0_3": MetricInfo("Site event rate, mo. 0-3 (median)", "ratio"),
    "site_rate_mean_16_18": MetricInfo("Site event rate, mo. 16-18 (mean)", "ratio"),
    "site_rate_median_16_18": MetricInfo("Site event rate, mo. 16-18 (median)", "ratio"),
    "site_rate_mean_34_36": MetricInfo("Site event rate, mo. 34-36 (mean)", "ratio"),
    "site_rate_median_34_36": MetricInfo("Site event rate, mo. 34-36 (median)", "ratio"),
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
        for metric, target in published.items():
            if metric not in runs.columns:
                continue
            x, _ = _values(frame, metric)
            lo, med, hi = (quantile(x, q) for q in PUBLISHED_QUANTILES)
            low, high = _bound(target.get("low")), _bound(target.get("high"))
            if (math.isnan(low) and math.isnan(high)) or math.isnan(med):
                inside: Any = pd.NA
            else:
                inside = bool((math.isnan(low) or med >= low) and (math.isnan(high) or med <= high))
            rows.append(
                {
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
            )
    return pd.DataFrame(rows, columns=columns).astype({"n": "int64", "inside": "boolean"})


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
    ``not reached`` when both ends are censored."""
    if math.isinf(low) and math.isinf(high) and low > 0:
        return "not reached"
    return f"{format_value(metric, low, horizon)} to {format_value(metric, high, horizon)}"


def _tables(result: Any) -> dict[str, Any]:
    """``runs``, ``series``, ``site_series``, ``manifest``, ``out_dir`` of a result or mapping."""
    keys = ("runs", "series", "site_series", "sites", "manifest", "out_dir")
    if isinstance(result, Mapping):
        return {k: result.get(k) for k in keys}
    return {k: getattr(result, k, None) for k in keys}


def _design_meta(manifest: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
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


def _censored_note(n_censored: Any, n: int, metric: str) -> str:
    if n_censored is pd.NA or n_censored is None or int(n_censored) == 0:
        return ""
    short = metric.removesuffix("_months").upper()
    return f"{short} not reached in {int(n_censored)} of {n}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def format_terminal(result: Any, metrics: Sequence[str] = DEFAULT_METRICS) -> str:
    """A compact plain-text report (at most 100 columns) of an experiment.

    One block per design (metric, median, 90% interval across replications, censoring notes),
    then, for designs whose scenario has published targets, a "Simulated vs published" block
    with the simulated median and 95% interval beside the published value and interval.

    Args:
        result: an :class:`~sim.experiment.ExperimentResult` (or a mapping with ``runs`` and
            ``manifest``).
        metrics: metrics to show, in order.

    Returns:
        The report, lines separated by ``\\n``, no trailing newline.
    """
    tables = _tables(result)
    runs: pd.DataFrame = tables["runs"]
    meta = _design_meta(tables["manifest"])
    table = summary_table(runs, metrics)
    lines: list[str] = []
    for design in design_order(runs):
        info = meta.get(design, {})
        scn = info.get("scenario") or {}
        n_reps = int((runs["design"] == design).sum())
        title = f"== {design} ({n_reps} replications) "
        lines.append(_shorten(title + "=" * max(TERMINAL_WIDTH - len(title), 0), TERMINAL_WIDTH))
        if scn.get("description"):
            lines.extend(
                textwrap.wrap(
                    " ".join(str(scn["description"]).split()),
                    width=TERMINAL_WIDTH,
                    initial_indent="   ",
                    subsequent_indent="   ",
                    max_lines=2,
                    placeholder=" ...",
                )
            )
        lines.extend(_design_block(table[table["design"] == design], info.get("horizon")))
        lines.append("")
    for design in design_order(runs):
        info = meta.get(design, {})
        comp = published_comparison(runs, info.get("scenario") or {}, design=design)
        if comp.empty:
            continue
        lines.append(f"Simulated vs published: {design} (simulated median and 95% interval)")
        lines.extend(_published_lines(comp, info.get("horizon")))
        lines.append("")
    if lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def _design_block(part: pd.DataFrame, horizon: float | None) -> list[str]:
    """Rows ``metric  median  90% interval  censoring`` of one design, fitted to the width."""
    cells = []
    for row in part.itertuples(index=False):
        note = ""
        if row.n_censored is not pd.NA and int(row.n_censored) > 0:
            note = f"{int(row.n_censored)} of {row.n} not reached"
        cells.append(
            (
                row.label,
                format_value(row.metric, row.median, horizon),
                format_interval(row.metric, row.p05, row.p95, horizon),
                note,
            )
        )
    med_w = max([len("median"), *(len(c[1]) for c in cells)])
    int_w = max([len("90% interval"), *(len(c[2]) for c in cells)])
    has_note = any(c[3] for c in cells)
    note_w = max([0, *(len(c[3]) for c in cells)])
    rest = 3 + med_w + 3 + int_w + ((3 + note_w) if has_note else 0)
    label_w = min(max([len("metric"), *(len(c[0]) for c in cells)]), TERMINAL_WIDTH - 2 - rest)
    label_w = max(label_w, 12)

    def line(a: str, b: str, c: str, d: str) -> str:
        text = f"  {_shorten(a, label_w):<{label_w}}   {b:>{med_w}}   {c:<{int_w}}"
        if has_note:
            text += f"   {d}"
        return _shorten(text.rstrip(), TERMINAL_WIDTH)

    out = [line("metric", "median", "90% interval", "censored")]
    out.extend(line(*c) for c in cells)
    return out


def _published_lines(comp: pd.DataFrame, horizon: float | None) -> list[str]:
    """``metric  simulated m (lo-hi)  published v (lo-hi)  source`` lines (the source moves to
    its own line when it does not fit), then which medians fall outside the published intervals.
    """
    cells = []
    for row in comp.itertuples(index=False):
        sim = (
            f"simulated {format_value(row.metric, row.sim_median, horizon)} "
            f"({_compact_interval(row.metric, row.sim_low, row.sim_high, horizon)})"
        )
        pub = f"published {format_value(row.metric, row.published)}"
        if not (math.isnan(row.published_low) and math.isnan(row.published_high)):
            pub += f" ({_compact_interval(row.metric, row.published_low, row.published_high)})"
        cells.append((row.metric, sim, pub, row.source))
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = []
    for c in cells:
        head = "  " + "   ".join(f"{v:<{w}}" for v, w in zip(c[:3], widths, strict=True))
        head = head.rstrip()
        if not c[3]:
            lines.append(_shorten(head, TERMINAL_WIDTH))
        elif len(head) + 2 + len(c[3]) <= TERMINAL_WIDTH:
            lines.append(f"{head}  {c[3]}")
        else:
            lines.append(_shorten(head, TERMINAL_WIDTH))
            lines.append(_shorten(f"      source: {c[3]}", TERMINAL_WIDTH))
    judged = comp[comp["inside"].notna()]
    if not judged.empty:
        inside = judged["inside"].astype(bool)
        text = f"  simulated median inside the published interval: {int(inside.sum())} of "
        text += f"{len(judged)}"
        outside = judged.loc[~inside, "metric"].tolist()
        if outside:
            text += f" (outside: {', '.join(outside)})"
        lines.append(_shorten(text, TERMINAL_WIDTH))
    return lines


def _compact_interval(metric: str, low: float, high: float, horizon: float | None = None) -> str:
    """``lo-hi`` (``lo to hi`` when a bound is negative or not reached)."""
    a, b = format_value(metric, low, horizon), format_value(metric, high, horizon)
    sep = " to " if a.startswith("-") or b.startswith("-") or " " in a + b else "-"
    return f"{a}{sep}{b}"


# --------------------------------------------------------------------------- markdown


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None
) -> str:
    """A GitHub-flavoured Markdown table (no ``tabulate`` needed).

    Args:
        header: column titles.
        rows: cells (converted with ``str``; ``|`` and newlines are escaped).
        align: one character per column, ``l``, ``r`` or ``c``; default all left.

    Returns:
        The table, lines separated by ``\\n``, with a trailing newline.

    Raises:
        ValueError: if a row or ``align`` has the wrong number of columns.
    """
    ncol = len(header)
    align = align or "l" * ncol
    if len(align) != ncol:
        raise ValueError(f"align has {len(align)} columns, header has {ncol}")
    rules = {"l": ":---", "r": "---:", "c": ":---:"}

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |"]
    out.append("| " + " | ".join(rules[a] for a in align) + " |")
    for r in rows:
        if len(r) != ncol:
            raise ValueError(f"row has {len(r)} cells, header has {ncol}: {r!r}")
        out.append("| " + " | ".join(cell(v) for v in r) + " |")
    return "\n".join(out) + "\n"


READING_GUIDE = (
    "The *gap* is the share of the starting gap between current and "
    "evidence-based practice that is still open, patient-weighted over the programme sites: "
    "1 = nothing closed, 0 = fully closed (measured from the programme start). T50 and T90 are "
    "the months from the programme start until the true gap first falls to 0.5 and 0.1. A run "
    "that never gets there before the end of follow-up is *censored*: it is counted as "
    "'not reached', never given a made-up time, so a median shown as '> {h}' means more than "
    "half the runs did not reach that level within the {h} months observed after the programme "
    "start; the number of such runs is given under the interval. Each cell gives the "
    "median across replications and, in brackets, the 5th-95th percentiles (a 90% interval); "
    "the published comparison uses 2.5th-97.5th percentiles (95%). These intervals show "
    "stochastic, run-to-run variation of the model with its parameters held fixed; they are "
    "not parameter (epistemic) uncertainty and not confidence intervals for a real programme. "
    "IRR is the incidence-rate ratio of events against the baseline rate (below 1 = fewer "
    "events); its windows count months after implementation."
)


def _md_summary(runs: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]]) -> str:
    """Metrics as rows, designs as columns: ``median (p05 - p95)`` plus censoring notes."""
    designs = design_order(runs)
    table = summary_table(runs)
    rows = []
    for metric in dict.fromkeys(table["metric"]):
        cells: list[str] = [metric_label(metric)]
        for design in designs:
            hit = table[(table["design"] == design) & (table["metric"] == metric)]
            if hit.empty:
                cells.append("n/a")
                continue
            r = hit.iloc[0]
            horizon = meta.get(design, {}).get("horizon")
            text = (
                f"{format_value(metric, r['median'], horizon)} "
                f"({format_interval(metric, r['p05'], r['p95'], horizon)})"
            )
            note = _censored_note(r["n_censored"], int(r["n"]), metric)
            cells.append(text + (f"<br>{note}" if note else ""))
        rows.append(cells)
    return markdown_table(["metric", *designs], rows, "l" + "r" * len(designs))


def _md_published(runs: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for design in design_order(runs):
        info = meta.get(design, {})
        comp = published_comparison(runs, info.get("scenario") or {}, design=design)
        horizon = info.get("horizon")
        for r in comp.itertuples(index=False):
            interval = (
                ""
                if math.isnan(r.published_low) and math.isnan(r.published_high)
                else format_interval(r.metric, r.published_low, r.published_high)
            )
            inside = "" if r.inside is pd.NA else ("yes" if r.inside else "no")
            rows.append(
                [
                    design,
                    r.label,
                    format_value(r.metric, r.published),
                    interval,
                    r.source,
                    format_value(r.metric, r.sim_median, horizon),
                    format_interval(r.metric, r.sim_low, r.sim_high, horizon),
                    inside,
                ]
            )
    if not rows:
        return ""
    header = [
        "design",
        "metric",
        "published",
        "published interval",
        "source",
        "simulated median",
        "simulated 95% interval",
        "median inside published interval",
    ]
    return markdown_table(header, rows, "llrrlrrc")


def write_summary_md(
    result: Any, out_dir: Path | str, figures: Sequence[Path] | None = None
) -> Path:
    """Write ``summary.md`` into ``out_dir``: designs, run facts, summary, comparison, figures.

    Args:
        result: an :class:`~sim.experiment.ExperimentResult` (or a mapping with ``runs`` and
            ``manifest``).
        out_dir: the results folder.
        figures: figure files to link; default every ``figures/*.png`` already in ``out_dir``
            (so call :func:`sim.plots.save_figures` first). Links are relative to ``out_dir``.

    Returns:
        Path of the written ``summary.md``.
    """
    out_dir = Path(out_dir)
    tables = _tables(result)
    runs: pd.DataFrame = tables["runs"]
    manifest: Mapping[str, Any] = tables["manifest"] or {}
    meta = _design_meta(manifest)
    designs = design_order(runs)
    parts = [f"# ccsim results: {', '.join(designs)}\n"]

    parts.append("## Designs\n")
    for d in manifest.get("designs", []):
        scn = d.get("scenario") or {}
        name = str(d.get("name"))
        scn_name = scn.get("name", name)
        title = f"**{name}**" + (f" (scenario `{scn_name}`)" if scn_name != name else "")
        desc = str(scn.get("description") or "").strip()
        t = scn.get("time") or {}
        timing = ""
        if t:
            timing = (
                f" Time: {t.get('baseline_months', 0)} baseline, "
                f"{t.get('programme_months')} programme and "
                f"{t.get('followup_months', 0)} follow-up months."
            )
        if desc and not desc.endswith((".", "!", "?")):
            desc += "."
        parts.append(f"- {title}: {desc}{timing}")
    if not manifest.get("designs"):
        parts.extend(f"- **{d}**" for d in designs)
    parts.append("")

    parts.append("## Run\n")
    facts = [
        ("replications per design", manifest.get("replications")),
        ("root seed", manifest.get("root_seed")),
        ("common random numbers", manifest.get("crn")),
        ("wall time", _wall_time(manifest.get("wall_time_s"))),
        ("workers", manifest.get("jobs")),
        ("created", manifest.get("created")),
        ("git commit", (manifest.get("git") or {}).get("commit")),
        ("ccsim version", (manifest.get("versions") or {}).get("ccsim")),
        ("complete", manifest.get("complete")),
    ]
    parts.extend(f"- {k}: {v}" for k, v in facts if v is not None)
    parts.append("")

    parts.append("## Summary (median and 90% interval across replications)\n")
    parts.append(_md_summary(runs, meta))

    pub = _md_published(runs, meta)
    if pub:
        parts.append("## Simulated vs published\n")
        parts.append(pub)

    if figures is None:
        order = ("gap_curve", "time_to_close", "site_trajectories")  # sim.plots.FIGURE_NAMES
        figures = sorted(
            (out_dir / "figures").glob("*.png"),
            key=lambda f: (order.index(f.stem) if f.stem in order else len(order), f.name),
        )
    if figures:
        parts.append("## Figures\n")
        for f in figures:
            rel = _relative(Path(f), out_dir)
            parts.append(f"![{Path(f).stem.replace('_', ' ')}]({rel})\n")

    parts.append("## How to read this\n")
    horizons = [m["horizon"] for m in meta.values() if m.get("horizon") is not None]
    h = f"{max(horizons):g}" if horizons else "H"
    parts.append(READING_GUIDE.format(h=h) + "\n")
    path = out_dir / "summary.md"
    atomic_write_bytes(path, "\n".join(parts).encode("utf-8"))
    return path


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _wall_time(seconds: Any) -> str | None:
    if seconds is None:
        return None
    s = float(seconds)
    if s < 120:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"
