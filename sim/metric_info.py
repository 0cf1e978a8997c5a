"""Labels, print formats, units and definitions of every run metric (:data:`METRICS`).

One :class:`MetricInfo` per column of ``runs.parquet`` (:func:`sim.metrics.run_metrics`): the
terminal and ``summary.md`` use ``label`` and ``kind`` (:mod:`sim.report`), docs/outputs.md its
``unit`` and ``definition`` (:mod:`sim.outputs_doc`). Definitions follow docs/ODD.md section 4.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        + (
            " (without baseline months the observed baseline is month 0's counts, after that "
            "month's adoption)"
            if observed
            else ""
        )
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


def _site_rate_info(stat: str, key: str) -> MetricInfo:
    """The entry of ``site_rate_<stat>_<key>`` (``key``: ``baseline`` or an IRR window)."""
    window = key.replace("_", "-")
    when = "baseline" if key == "baseline" else f"mo. {window}"
    return MetricInfo(
        f"Site event rate, {when} ({stat})", "number", RATE_UNIT, _site_rate(stat.title(), window)
    )


# in the column order of runs.parquet (sim.metrics.run_metrics), which docs/outputs.md follows
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
        "currency per point of gap closed (1 point = 1% of the starting gap)",
        "cost_total / (100 x (1 - gap_programme_end)); nan if no gap was closed by programme end",
    ),
    "cost_per_event_avoided": MetricInfo(
        "Cost per event avoided",
        "money",
        "currency per event avoided",
        "cost_total / events_avoided; nan if no event was avoided (events_avoided <= 0)",
    ),
    "cost_core_team": MetricInfo(
        "Cost of the core team (currency)",
        "money",
        "currency",
        "programme.core_team_cost_per_month x programme months: the fixed part of cost_total",
    ),
    "cost_sites": MetricInfo(
        "Cost of site budgets (currency)",
        "money",
        "currency",
        "programme.budget_per_site_month x funded_site_months: the part of cost_total that "
        "grows with sites",
    ),
    "funded_site_months": MetricInfo(
        "Funded site-months",
        "number",
        "site-months",
        "Active programme sites summed over programme months (sites join over the recruitment "
        "window and stop being funded at drop-out)",
    ),
    **{
        f"site_rate_{stat}_{key}": _site_rate_info(stat, key)
        for key in ("baseline", "0_3", "16_18", "34_36")
        for stat in ("mean", "median")
    },
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
