"""The outcomes a design comparison reports, with their direction, units and words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One compared outcome and how to say its difference in words.

    Attributes:
        metric: column name (in ``runs.parquet`` or derived here).
        label: short label for the terminal, ``comparison.md`` and figures (display unit).
        lower_is_better: direction of "better".
        phrase: sentence part with ``{amount}`` and ``{dir}``, e.g. ``"closes half the gap
            {amount} months {dir} than"``.
        more: word for a positive difference (design higher than baseline), e.g. ``"later"``.
        less: word for a negative difference, e.g. ``"sooner"``.
        better: what "better" means in ``P(...)``, e.g. ``"faster"``.
        worse: what "worse" means, for the shares of pairs, e.g. ``"slower"``.
        unit: the unit of the stored values (``runs.parquet``, ``comparison.parquet``), e.g.
            ``"share of starting gap (0-1)"``.
        scale: factor from the stored unit to the displayed unit (100: share to points).
        money: format the amount with thousands separators and no decimals.
        stored_label: label of ``comparison.parquet`` rows, in the stored unit (default:
            ``label``, for outcomes shown in their stored unit).
        optional: left out of a comparison when some design has no value in any run (e.g. the
            gap a year after support ends, when the follow-up is shorter than a year).
        horizons_differ: compared only when the designs are observed for different times (the
            gap at the end of the common window, which otherwise equals the follow-up end's).
    """

    metric: str
    label: str
    lower_is_better: bool
    phrase: str
    more: str
    less: str
    better: str
    worse: str
    unit: str
    scale: float = 1.0
    money: bool = False
    stored_label: str = ""
    optional: bool = False
    horizons_differ: bool = False

    @property
    def parquet_label(self) -> str:
        """The label of this outcome's rows in ``comparison.parquet`` (stored unit)."""
        return self.stored_label or self.label


SHARE = "share of starting gap (0-1)"

# fmt: off
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("t50_months", "T50 (months)", True,
            "closes half the gap {amount} months {dir} than", "later", "sooner", "faster",
            "slower", "months"),
    Outcome("t90_months", "T90 (months)", True,
            "closes 90% of the gap {amount} months {dir} than", "later", "sooner", "faster",
            "slower", "months"),
    Outcome("gap_auc", "gap area (gap-months)", True,
            "leaves {amount} {dir} gap-months open than", "more", "fewer", "smaller gap area",
            "larger gap area", "gap-months"),
    Outcome("gap_programme_end", "gap at programme end (points)", True,
            "ends support with {amount} points {dir} of the starting gap open than",
            "more", "fewer", "smaller gap", "larger gap", SHARE, scale=100.0,
            stored_label="gap at programme end (share of starting gap)"),
    Outcome("gap_followup_12", "gap a year after support ends (points)", True,
            "leaves {amount} points {dir} of the starting gap open a year after support ends "
            "than", "more", "fewer", "smaller gap", "larger gap", SHARE, scale=100.0,
            stored_label="gap a year after support ends (share of starting gap)", optional=True),
    Outcome("gap_followup_end", "gap at follow-up end (points)", True,
            "ends follow-up with {amount} points {dir} of the starting gap open than",
            "more", "fewer", "smaller gap", "larger gap", SHARE, scale=100.0,
            stored_label="gap at follow-up end (share of starting gap)"),
    Outcome("gap_window_end", "gap at end of common window (points)", True,
            "at the end of the common window leaves {amount} points {dir} of the starting gap "
            "open than",
            "more", "fewer", "smaller gap", "larger gap", SHARE, scale=100.0,
            stored_label="gap at end of common window (share of starting gap)",
            horizons_differ=True),
    Outcome("site_gini", "site inequality (Gini points)", True,
            "leaves sites {amount} Gini points {dir} unequal than", "more", "less",
            "more equal", "less equal", "0-1 scale", scale=100.0,
            stored_label="site inequality (Gini, 0-1)"),
    Outcome("conflict_mean", "conflict (points of 100)", True,
            "runs with {amount} points {dir} conflict than", "more", "less", "less conflict",
            "more conflict", "0-1 scale", scale=100.0, stored_label="conflict (0-1 scale)"),
    Outcome("dropouts", "sites dropped out", True,
            "loses {amount} {dir} sites to drop-out than", "more", "fewer", "fewer drop-outs",
            "more drop-outs", "sites"),
    Outcome("cost_total", "total cost", True,
            "costs {amount} {dir} than", "more", "less", "cheaper", "dearer", "currency",
            money=True),
    Outcome("cost_per_gap_point", "cost per point of gap closed by programme end", True,
            "costs {amount} {dir} per point of gap closed by programme end than", "more",
            "less", "cheaper per point", "dearer per point", "currency per point of gap closed",
            money=True),
    Outcome("events_avoided", "events avoided", False,
            "avoids {amount} {dir} events than", "more", "fewer", "avoids more", "avoids fewer",
            "events"),
)
# fmt: on
OUTCOME_BY_METRIC = {o.metric: o for o in OUTCOMES}
CENSORED = {"t50_months": "t50_censored", "t90_months": "t90_censored"}
