"""Incremental cost of a design against the baseline: extra cost per extra point of gap closed.

``cost per point of gap closed`` is an average (a design's own cost over its own gain), and a
cheaper design with a smaller gain can look "cheaper per point" while buying less. What a budget
holder needs is the *incremental* ratio of the two mean paired differences (the
incremental cost-effectiveness ratio, ICER, of health economics; Drummond et al., *Methods for
the Economic Evaluation of Health Care Programmes*, 4th ed., 2015, ch. 4):

    ICER = (mean cost_design - mean cost_baseline) / (points closed by design - by baseline)

with points of 100 of the starting gap, at a stated month. A design that costs no more and
closes no less *dominates*; one that costs no less and closes no more is *dominated*; a ratio is
given only when both differences have the same sign. The ratio of means is what the
intervals of the two differences describe; no interval is given for the ratio itself (its
denominator can be near 0).
"""

from __future__ import annotations

import math
from typing import Any

from sim.compare import Comparison

COMMON_GAPS = ("gap_window_end", "gap_followup_end")
"""Gap outcomes measured in the same month for every design, in order of preference."""


def incremental_rows(cmp: Comparison) -> list[dict[str, Any]]:
    """One row per (design, month) with the mean differences and the ICER.

    Returns:
        Dicts with ``design``, ``when`` (e.g. ``"programme end"``), ``cost`` (currency, design
        - baseline), ``points`` (points of 100 of the starting gap closed, design - baseline)
        and ``verdict`` (the sentence's end: a ratio, ``dominates`` or ``dominated``).
    """
    t = cmp.table.set_index(["design", "metric"])
    metrics = set(cmp.table["metric"])
    common = next((m for m in COMMON_GAPS if m in metrics), None)
    support = cmp.support_months
    rows = []
    for design in cmp.designs[1:]:
        if (design, "cost_total") not in t.index:
            continue
        cost = float(t.loc[(design, "cost_total"), "diff_mean"])
        gaps = []  # "programme end" only when it is the same month for both designs
        if support.get(design) == support.get(cmp.baseline):
            gaps.append(("gap_programme_end", "by programme end"))
        if common is not None:
            gaps.append((common, _month_words(cmp, common)))
        for metric, when in gaps:
            if (design, metric) not in t.index:
                continue
            points = -100.0 * float(t.loc[(design, metric), "diff_mean"])
            rows.append(
                {"design": design, "when": when, "cost": cost, "points": points,
                 "verdict": _verdict(cost, points)}
            )  # fmt: skip
    return rows


def _month_words(cmp: Comparison, metric: str) -> str:
    if metric == "gap_window_end":
        return f"at month {cmp.tau:g} (the same month for every design)"
    return f"by follow-up end (month {cmp.tau:g})"


def _verdict(cost: float, points: float) -> str:
    """``dominates``, ``dominated``, or the ratio in words (currency per point)."""
    if math.isnan(cost) or math.isnan(points):
        return "undefined"
    if cost <= 0 and points >= 0 and (cost < 0 or points > 0):
        return "dominates: costs no more and closes no less"
    if cost >= 0 and points <= 0 and (cost > 0 or points < 0):
        return "dominated: costs no less and closes no more"
    if cost == 0 and points == 0:
        return "no difference"
    ratio = abs(cost / points)
    if cost > 0:
        return f"{ratio:,.0f} per extra point closed"
    return f"saves {ratio:,.0f} per point given up"


def incremental_lines(cmp: Comparison) -> list[str]:
    """:func:`incremental_rows` as sentences, e.g. ``fin30_36m by programme end: 779,588 more
    for 16.6 more points closed: 46,963 per extra point closed``."""
    out = []
    for r in incremental_rows(cmp):
        cost = f"{abs(r['cost']):,.0f} {'more' if r['cost'] >= 0 else 'less'}"
        pts = f"{abs(r['points']):.1f} {'more' if r['points'] >= 0 else 'fewer'} points closed"
        out.append(f"{r['design']} {r['when']}: {cost} for {pts}: {r['verdict']}")
    return out
