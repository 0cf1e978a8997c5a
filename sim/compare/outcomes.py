"""The outcomes a design comparison reports, with their direction and their words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One compared outcome and how to say its difference in words.

    Attributes:
        metric: column name (in ``runs.parquet`` or derived here).
        label: short label for tables and figures.
        lower_is_better: direction of "better".
        phrase: sentence part with ``{amount}`` and ``{dir}``, e.g. ``"closes half the gap
            {amount} months {dir} than"``.
        more: word for a positive difference (design higher than baseline), e.g. ``"later"``.
        less: word for a negative difference, e.g. ``"sooner"``.
        better: what "better" means in ``P(...)``, e.g. ``"faster"``.
        scale: factor from the metric's unit to the displayed unit (100: fraction to points).
        money: format the amount with thousands separators and no decimals.
    """

    metric: str
    label: str
    lower_is_better: bool
    phrase: str
    more: str
    less: str
    better: str
    scale: float = 1.0
    money: bool = False


# fmt: off
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("t50_months", "T50 (months)", True,
            "closes half the gap {amount} months {dir} than", "later", "sooner", "faster"),
    Outcome("t90_months", "T90 (months)", True,
            "closes 90% of the gap {amount} months {dir} than", "later", "sooner", "faster"),
    Outcome("gap_auc", "gap area (gap-months)", True,
            "leaves {amount} {dir} gap-months open than", "more", "fewer", "smaller gap area"),
    Outcome("gap_programme_end", "gap at programme end (points)", True,
            "ends support with {amount} points {dir} of the starting gap open than",
            "more", "fewer", "smaller gap", scale=100.0),
    Outcome("gap_followup_end", "gap at follow-up end (points)", True,
            "ends follow-up with {amount} points {dir} of the starting gap open than",
            "more", "fewer", "smaller gap", scale=100.0),
    Outcome("sustainment", "sustainment (points)", False,
            "keeps {amount} points {dir} of its gain a year after support ends than",
            "more", "less", "sustains more", scale=100.0),
    Outcome("site_gini", "site inequality (Gini points)", True,
            "leaves sites {amount} Gini points {dir} unequal than", "more", "less",
            "more equal", scale=100.0),
    Outcome("conflict_mean", "conflict (points of 100)", True,
            "runs with {amount} points {dir} conflict than", "more", "less", "less conflict",
            scale=100.0),
    Outcome("cost_total", "total cost", True,
            "costs {amount} {dir} than", "more", "less", "cheaper", money=True),
    Outcome("cost_per_gap_point", "cost per gap point", True,
            "costs {amount} {dir} per point of gap closed than", "more", "less",
            "cheaper per point", money=True),
    Outcome("events_avoided", "events avoided", False,
            "avoids {amount} {dir} events than", "more", "fewer", "avoids more"),
)
# fmt: on
OUTCOME_BY_METRIC = {o.metric: o for o in OUTCOMES}
CENSORED = {"t50_months": "t50_censored", "t90_months": "t90_censored"}
