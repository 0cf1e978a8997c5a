"""Per-run outcome metrics from the monthly series and the per-site state.

Conventions (docs/ODD.md, 'Observation'): months are counted from the programme start; gaps are
fractions of the starting gap (1 = nothing closed, 0 = closed); times to close are right-censored
at the horizon (``nan`` plus ``*_censored = True``, never a made-up value); incidence-rate ratios
use expected events (the model's rates, free of Poisson noise) unless named ``*_observed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model import CommunityModel

# IRR windows [start, end) in months after implementation (programme start +
# time.implementation_months): "0-3 months after implementation" etc. (Pronovost et al. 2006)
IRR_WINDOWS: dict[str, tuple[int, int]] = {
    "irr_0_3": (0, 3),
    "irr_16_18": (15, 18),
    "irr_34_36": (33, 36),
}
# Matching Michigan site classes (Dixon-Woods et al. 2013) by share of the site's gap closed
TRANSFORMED_AT, BOOSTED_AT = 0.6, 0.2


def time_to_close(gap: np.ndarray, level: float) -> tuple[float, bool]:
    """Months until the gap first falls to ``level`` (linear interpolation between months).

    Args:
        gap: gap at the end of programme months 1, 2, ... (shape ``(n,)``); the gap at 0 is 1.
        level: gap level, e.g. 0.5 for T50 and 0.1 for T90.

    Returns:
        (months, censored). Censored runs return ``(nan, True)``.
    """
    below = np.flatnonzero(gap <= level)
    if below.size == 0:
        return float("nan"), True
    k = int(below[0])
    prev = 1.0 if k == 0 else float(gap[k - 1])
    cur = float(gap[k])
    frac = 1.0 if prev == cur else (prev - level) / (prev - cur)
    return float(k + min(max(frac, 0.0), 1.0)), False


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal); ``nan`` for empty input."""
    x = np.sort(np.asarray(x, dtype=float))
    if x.size == 0 or x.sum() <= 0:
        return float("nan") if x.size == 0 else 0.0
    n = x.size
    return float((2.0 * np.arange(1, n + 1) - n - 1).dot(x) / (n * x.sum()))


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.sum() / x.size) if x.size else float("nan")


def _share(mask: np.ndarray) -> float:
    """Share of True in ``mask`` (what ``mask.mean()`` gives, without its overhead)."""
    return float(np.count_nonzero(mask) / mask.size)


def _median(x: np.ndarray) -> float:
    """``np.median`` of a 1-D array (``nan`` if any value is ``nan``), from one sort: the middle
    value, or the mean of the two middle values as ``np.median`` forms it, ``(a + b) / 2``."""
    if x.size == 0:
        return float(np.median(x))  # nan, with numpy's warning
    x = np.sort(x)
    k = x.size // 2
    if np.isnan(x[-1]):  # sorted last
        return float("nan")
    return float(x[k]) if x.size % 2 else float((x[k - 1] + x[k]) / 2.0)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def irr_windows(
    model: CommunityModel, events_key: str, pd_key: str, base_rate: float
) -> dict[str, float]:
    """Rate in each window of :data:`IRR_WINDOWS` / baseline rate (``nan`` past the horizon)."""
    d = model.recorder.data
    start = model.programme_start + model.scn.time.implementation_months
    out = {}
    for name, (lo, hi) in IRR_WINDOWS.items():
        a, b = start + lo, start + hi
        if b > model.horizon:
            out[name] = float("nan")
            continue
        rate = 1000.0 * d[events_key][a:b].sum() / d[pd_key][a:b].sum()
        out[name] = _ratio(rate, base_rate)
    return out


def _baseline_rate(model: CommunityModel, events_key: str, pd_key: str) -> float:
    """Events per 1000 patient-days before the programme, of one arm (the keys name the arm).

    Over the baseline months when there are some. Without any, the *expected* rate is the one
    at baseline adherence and month 0: each site's ``base_event_rate``, patient-day weighted
    (docs/ODD.md 7.10), so it does not depend on what the programme did in its first month;
    the *observed* (Poisson) rate can only be that of the first month.
    """
    d, start = model.recorder.data, model.programme_start
    if start == 0 and events_key.startswith("expected_events"):
        arm = ~model.prog_mask if events_key.endswith("_control") else model.prog_mask
        days = model.sites.patient_days[arm]
        return float((model.sites.base_event_rate[arm] * days).sum() / days.sum())
    lo, hi = (0, start) if start > 0 else (0, 1)
    return 1000.0 * float(d[events_key][lo:hi].sum()) / float(d[pd_key][lo:hi].sum())


def cost_breakdown(model: CommunityModel) -> dict[str, float]:
    """What the total cost is made of (docs/ODD.md 7.10, ``outcomes.spend``): the core team's
    cost (``programme.core_team_cost_per_month`` in every programme month, currency), the site
    budgets (``programme.budget_per_site_month`` per funded site-month, currency) and the funded
    site-months (active programme sites summed over programme months: sites join over the
    recruitment window and stop at drop-out). ``cost_core_team + cost_sites = cost_total``."""
    d, prog = model.recorder.data, model.scn.programme
    months = slice(model.programme_start, model.programme_end)
    site_months = float(d["active_sites"][months].sum())
    return {
        "cost_core_team": float(prog.core_team_cost_per_month * (months.stop - months.start)),
        "cost_sites": prog.budget_per_site_month * site_months,
        "funded_site_months": site_months,
    }


def site_rates(model: CommunityModel) -> dict[str, float]:
    """Observed per-site event rates (Poisson counts, per 1000 patient-days) in the baseline
    phase and in the IRR windows: mean and median across programme sites (Keystone reported
    a baseline mean of 7.7 but a median of 2.7; the median site reached 0 by month 3)."""
    rec, prog = model.recorder, model.prog_mask
    days = model.sites.patient_days[prog]
    start = model.programme_start + model.scn.time.implementation_months
    windows = {"baseline": (0, model.programme_start)}
    windows.update(
        {k.removeprefix("irr_"): (start + lo, start + hi) for k, (lo, hi) in IRR_WINDOWS.items()}
    )
    out = {}
    for name, (a, b) in windows.items():
        if b <= a or b > model.horizon:
            out[f"site_rate_mean_{name}"] = out[f"site_rate_median_{name}"] = float("nan")
            continue
        counts = rec.site_events_monthly[a:b, prog].sum(axis=0)
        rate = 1000.0 * counts / (days * (b - a))
        out[f"site_rate_mean_{name}"] = float(rate.sum() / rate.size)
        out[f"site_rate_median_{name}"] = _median(rate)
    return out


def site_classes(model: CommunityModel) -> dict[str, np.ndarray]:
    """Per programme-arm site: share of its own gap closed by programme end, and its class."""
    s, c = model.sites, model.scn.challenge
    end_adh = model.recorder.site_adherence_programme_end
    closed = (end_adh - s.adherence_start) / (c.target_adherence - s.adherence_start)
    cls = np.where(
        closed >= TRANSFORMED_AT,
        "transformed",
        np.where(closed >= BOOSTED_AT, "boosted", "little change"),
    )
    return {"gap_closed": closed, "class": cls}


def run_metrics(
    model: CommunityModel, classes: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """All per-run outcome metrics (one row of ``runs.parquet``), see module docstring.

    ``classes``: :func:`site_classes` of ``model`` when the caller has it already. The keys come
    in this order: gaps, sites, community, events, costs, cost breakdown, site rates, control.
    """
    gaps = gap_metrics(model)
    events, rate_end, base_rate = event_metrics(model)
    out: dict[str, Any] = {
        **gaps,
        **site_spread(model, site_classes(model) if classes is None else classes),
        **community_metrics(model),
        **events,
        **cost_metrics(model, gaps["gap_programme_end"], events["events_avoided"]),
    }
    out.update(cost_breakdown(model))
    out.update(site_rates(model))
    out.update(_control_metrics(model, rate_end, base_rate))
    return out


def gap_metrics(model: CommunityModel) -> dict[str, Any]:
    """Times to close half and 90% of the gap (months after programme start, censored flags),
    its area, its level at programme end and in follow-up, sustainment and the reported gap."""
    d = model.recorder.data
    start, end, h = model.programme_start, model.programme_end, model.horizon
    follow = model.scn.time.followup_months
    gap = d["gap_true"][start:]
    t50, c50 = time_to_close(gap, 0.5)
    t90, c90 = time_to_close(gap, 0.1)
    gap_end = float(d["gap_true"][end - 1])
    after = {
        m: float(d["gap_true"][end - 1 + m]) if follow >= m else float("nan") for m in (12, 24)
    }
    return {
        "t50_months": t50,
        "t50_censored": c50,
        "t90_months": t90,
        "t90_censored": c90,
        "gap_auc": float(gap.sum()),
        "gap_programme_end": gap_end,
        "gap_followup_12": after[12],
        "gap_followup_24": after[24],
        "gap_followup_end": float(d["gap_true"][h - 1]) if follow > 0 else float("nan"),
        # share of the gap closed by programme end that is still closed 12 months later
        "sustainment": _ratio(1.0 - after[12], 1.0 - gap_end),
        "reported_gap_programme_end": float(d["gap_reported"][end - 1]),
    }


def site_spread(model: CommunityModel, classes: dict[str, np.ndarray]) -> dict[str, Any]:
    """How evenly programme-arm sites improved (``classes``: :func:`site_classes`): shares by
    class, inequality of end adherence, the peripheral sites' lag, drop-outs, marginalised."""
    s, prog = model.sites, model.prog_mask
    closed = classes["gap_closed"][prog]
    end_adh = model.recorder.site_adherence_programme_end[prog]
    periph = s.peripheral[prog]
    transformed = closed >= TRANSFORMED_AT  # the classes of site_classes, without strings
    boosted = closed >= BOOSTED_AT
    return {
        "sites_improved_share": _share(closed >= 0.1),
        "share_transformed": _share(transformed),
        "share_boosted": _share(boosted & ~transformed),
        "share_little_change": _share(~boosted),
        "site_gini": gini(end_adh),
        "site_sd": float(np.std(closed)),
        "peripheral_lag": (
            float(closed[~periph].mean() - closed[periph].mean())
            if periph.any() and (~periph).any()
            else float("nan")
        ),
        "dropouts": int(np.count_nonzero(s.dropped & prog)),
        "marginalised_sites": int(np.count_nonzero(prog & s.peripheral & (s.belonging < 0.2))),
    }


def community_metrics(model: CommunityModel) -> dict[str, float]:
    """Mean conflict and gaming gap over programme months; adoption states at the horizon."""
    d = model.recorder.data
    months = slice(model.programme_start, model.programme_end)
    conflict = d["conflict"][months]
    return {
        "conflict_mean": float(conflict.sum() / conflict.size),
        "gaming_gap": _nanmean(d["gaming_gap"][months]),
        "share_internalised_end": float(d["share_internalised"][model.horizon - 1]),
        "share_compliant_end": float(d["share_compliant"][model.horizon - 1]),
    }


def event_metrics(model: CommunityModel) -> tuple[dict[str, float], float, float]:
    """Baseline event rate, incidence-rate ratios (expected and observed) and events avoided;
    also the rate over the last three programme months and the baseline rate (per 1000
    patient-days), which the control-arm comparison reuses."""
    d, s, prog = model.recorder.data, model.sites, model.prog_mask
    start, end, h = model.programme_start, model.programme_end, model.horizon
    base_rate = _baseline_rate(model, "expected_events", "patient_days")
    base_obs = _baseline_rate(model, "events", "patient_days")
    irr_obs = irr_windows(model, "events", "patient_days", base_obs)
    last3 = slice(max(end - 3, start), end)
    rate_end = 1000.0 * d["expected_events"][last3].sum() / d["patient_days"][last3].sum()
    counterfactual = (s.base_event_rate[prog] * s.patient_days[prog]).sum() / 1000.0
    secular = (1.0 + model.scn.challenge.secular_event_trend_per_year) ** (np.arange(h) / 12.0)
    avoided = float((counterfactual * secular[start:] - d["expected_events"][start:]).sum())
    out = {
        "baseline_event_rate": base_rate,
        "irr_programme_end": _ratio(rate_end, base_rate),
        **irr_windows(model, "expected_events", "patient_days", base_rate),
        **{f"{k}_observed": v for k, v in irr_obs.items()},
        "events_avoided": avoided,
    }
    return out, rate_end, base_rate


def cost_metrics(model: CommunityModel, gap_end: float, avoided: float) -> dict[str, float]:
    """Total cost (currency) and cost per point of gap closed and per event avoided."""
    cost = float(model.recorder.data["cost_cumulative"][model.horizon - 1])
    closed_points = 100.0 * (1.0 - gap_end)
    return {
        "cost_total": cost,
        "cost_per_gap_point": cost / closed_points if closed_points > 0 else float("nan"),
        "cost_per_event_avoided": cost / avoided if avoided > 0 else float("nan"),
    }


def _control_metrics(model: CommunityModel, rate_end: float, base_rate: float) -> dict[str, float]:
    """Net effect against the control arm (``nan`` without one)."""
    d = model.recorder.data
    start, end = model.programme_start, model.programme_end
    if not (~model.prog_mask).any():
        return {
            "irr_control_programme_end": float("nan"),
            "net_irr": float("nan"),
            "net_adherence_gain": float("nan"),
            "net_irr_observed": float("nan"),
            "net_irr_observed_z": float("nan"),
        }
    base_c = _baseline_rate(model, "expected_events_control", "patient_days_control")
    last3 = slice(max(end - 3, start), end)
    rate_c = (
        1000.0 * d["expected_events_control"][last3].sum() / d["patient_days_control"][last3].sum()
    )
    irr_c = _ratio(rate_c, base_c)
    gain_p = d["adherence_true"][end - 1] - d["adherence_true"][start]
    gain_c = d["adherence_control"][end - 1] - d["adherence_control"][start]
    net_obs, z = _net_irr_observed(d, start, last3)
    return {
        "irr_control_programme_end": irr_c,
        "net_irr": _ratio(_ratio(rate_end, base_rate), irr_c),
        "net_adherence_gain": float(gain_p - gain_c),
        "net_irr_observed": net_obs,
        "net_irr_observed_z": z,
    }


def _net_irr_observed(d: dict[str, np.ndarray], start: int, post: slice) -> tuple[float, float]:
    """Ratio of rate ratios (programme vs control, post vs pre) from observed Poisson counts,
    and its z statistic ``|log ratio| / sqrt(sum 1/counts)`` (Wald test on the log scale): what
    a study of this one realisation could detect (|z| < 1.96: not distinguishable)."""
    pre = slice(0, start) if start > 0 else slice(0, 1)
    counts = [
        d["events"][post].sum(),
        d["events"][pre].sum(),
        d["events_control"][post].sum(),
        d["events_control"][pre].sum(),
    ]
    days = [
        d["patient_days"][post].sum(),
        d["patient_days"][pre].sum(),
        d["patient_days_control"][post].sum(),
        d["patient_days_control"][pre].sum(),
    ]
    if min(counts) <= 0:
        return float("nan"), float("nan")
    r = [c / t for c, t in zip(counts, days, strict=True)]
    net = (r[0] / r[1]) / (r[2] / r[3])
    return float(net), float(abs(np.log(net)) / np.sqrt(sum(1.0 / c for c in counts)))
