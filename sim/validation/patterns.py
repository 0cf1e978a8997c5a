"""Pattern-oriented validation (Grimm et al. 2005): the checks behind ``ccsim validate``.

Patterns 1-8 of docs/ODD.md §1 are directional: designs that differ in one lever run under common
random numbers, and a check passes when the mean paired difference points the right way and is
at least :data:`Z` standard errors from zero. Patterns 9-10 compare the Keystone ICU and
Matching Michigan scenarios with published figures; pattern 11 re-checks the saved Medical
Innovation calibration (:mod:`sim.calibration`) without refitting.

Every check returns :class:`Row` objects; the pytest suite and the CLI use the same functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.experiment import Design, run_experiment
from sim.loader import load_scenario
from sim.validation.rows import Row, paired

PROGRAMME_END = 23  # last programme month (month_in_programme) of the default 24-month design

PATTERN_DESIGNS: dict[str, list[str]] = {
    "default": [],
    "budget_low": ["programme.budget_per_site_month=500"],
    "budget_high": ["programme.budget_per_site_month=4500"],
    "hard_only": [
        "programme.tactics.hard=0.8",
        "programme.tactics.soft=0.0",
        "programme.data.use='judgement'",
    ],
    "soft_only": ["programme.tactics.hard=0.0", "programme.tactics.soft=0.8"],
    "conflict_unmanaged": [
        "programme.community.conflict_handling=0",
        "programme.community.inclusion_effort=0",
    ],
    "conflict_managed": [
        "programme.community.conflict_handling=1",
        "programme.community.inclusion_effort=1",
    ],
    "wrong_plan_fixed": [
        "programme.tactics.hard=0.9",
        "programme.tactics.soft=0.1",
        "clinicians.reactance_mean=0.6",
        "programme.review.interval_months=0",
    ],
    "wrong_plan_reviewed": [
        "programme.tactics.hard=0.9",
        "programme.tactics.soft=0.1",
        "clinicians.reactance_mean=0.6",
        "programme.review.interval_months=3",
    ],
    "judgement_hard": ["programme.tactics.hard=0.8", "programme.data.use='judgement'"],
    "learning_hard": ["programme.tactics.hard=0.8", "programme.data.use='learning'"],
    "low_readiness": ["sites.readiness_mean=0.3"],
    "low_fit_cust0": ["sites.fit_mean=0.3", "programme.customisation=0"],
    "low_fit_cust05": ["sites.fit_mean=0.3", "programme.customisation=0.5"],
    "low_fit_cust1": ["sites.fit_mean=0.3", "programme.customisation=1"],
    "no_routinisation": ["routinisation.growth=0"],
    "strong_routinisation": ["routinisation.growth=0.3"],
}


class PatternData:
    """Runs and series of the pattern experiment, with paired accessors (sorted by replication)."""

    def __init__(self, runs: pd.DataFrame, series: pd.DataFrame) -> None:
        self.runs = runs
        self.series = series

    def metric(self, design: str, col: str) -> np.ndarray:
        """Per-replication values of a run metric, shape ``(reps,)``."""
        r = self.runs[self.runs.design == design].sort_values("replication")
        return r[col].to_numpy(float)

    def at(self, design: str, col: str, month: int) -> np.ndarray:
        """Per-replication series values at ``month_in_programme``, shape ``(reps,)``."""
        s = self.series
        s = s[(s.design == design) & (s.month_in_programme == month)]
        return s.sort_values("replication")[col].to_numpy(float)


def run_pattern_experiment(
    reps: int = 60, seed: int = 20240, jobs: int = 2, progress: bool = False
) -> PatternData:
    """Run every design of :data:`PATTERN_DESIGNS` under common random numbers."""
    designs = [
        Design(name, load_scenario(None, sets).model_copy(update={"name": name}))
        for name, sets in PATTERN_DESIGNS.items()
    ]
    res = run_experiment(designs, reps=reps, root_seed=seed, jobs=jobs, progress=progress)
    return PatternData(res.runs, res.series)


def pattern1(p: PatternData) -> list[Row]:
    """S-shaped adoption: the steepest month is interior and well above the first and last."""
    s = p.series[(p.series.design == "default") & (p.series.phase == "programme")]
    curve = s.groupby("month_in_programme")["adherence_true"].mean().to_numpy()
    inc = np.diff(curve)
    peak = int(np.argmax(inc))
    ok = 2 <= peak <= inc.size - 3 and inc[peak] > 1.5 * max(inc[0], inc[-1])
    return [
        Row(
            "1 S-shaped adoption",
            "month of steepest adoption (programme months)",
            f"interior: 2..{inc.size - 3}, peak > 1.5x first and last",
            "ODD §1",
            float(peak + 1),
            float("nan"),
            float("nan"),
            bool(ok),
        )
    ]


def pattern2(p: PatternData) -> list[Row]:
    """More resourcing closes the gap faster, with diminishing returns."""
    low, mid, high = (p.metric(d, "gap_auc") for d in ("budget_low", "default", "budget_high"))
    name = "2 resourcing"
    return [
        paired(name, "gap AUC: budget 500 minus 1500 per site-month", low, mid),
        paired(name, "gap AUC: budget 1500 minus 4500 per site-month", mid, high),
        paired(name, "diminishing returns: first tripling buys more", low - mid, mid - high),
    ]


def pattern3(p: PatternData) -> list[Row]:
    """Hard only: fast start, conflict, gaming, poor sustainment; soft only slow; mix best."""
    n = "3 hard vs soft"

    def rebound(d: str) -> np.ndarray:
        return p.metric(d, "gap_followup_12") - p.metric(d, "gap_programme_end")

    mix = p.metric("default", "gap_auc")
    return [
        paired(
            n,
            "gap at month 6: soft only minus hard only",
            p.at("soft_only", "gap_true", 6),
            p.at("hard_only", "gap_true", 6),
        ),
        paired(
            n,
            "mean conflict: hard only minus soft only",
            p.metric("hard_only", "conflict_mean"),
            p.metric("soft_only", "conflict_mean"),
        ),
        paired(
            n,
            "gaming gap (points): hard only minus soft only",
            p.metric("hard_only", "gaming_gap"),
            p.metric("soft_only", "gaming_gap"),
        ),
        paired(
            n,
            "gap lost 12 months after support: hard minus soft",
            rebound("hard_only"),
            rebound("soft_only"),
        ),
        paired(n, "gap AUC: hard only minus mix", p.metric("hard_only", "gap_auc"), mix),
        paired(n, "gap AUC: soft only minus mix", p.metric("soft_only", "gap_auc"), mix),
    ]


def pattern4(p: PatternData) -> list[Row]:
    """Unaddressed conflict and marginalisation: peripheral lag and inequality rise."""
    return [
        paired(
            "4 conflict and marginalisation",
            f"{col}: unmanaged minus managed",
            p.metric("conflict_unmanaged", col),
            p.metric("conflict_managed", col),
        )
        for col in ("peripheral_lag", "site_sd", "conflict_mean")
    ]


def pattern5(p: PatternData) -> list[Row]:
    """Adaptive review beats a fixed plan when the initial plan is wrong for the context."""
    return [
        paired(
            "5 review",
            "gap AUC: fixed wrong plan minus reviewed",
            p.metric("wrong_plan_fixed", "gap_auc"),
            p.metric("wrong_plan_reviewed", "gap_auc"),
        )
    ]


def pattern6(p: PatternData) -> list[Row]:
    """Data used for judgement under hard pressure: reported exceeds true, up to ~20 points."""
    judged = p.metric("judgement_hard", "gaming_gap")
    learning = p.metric("learning_hard", "gaming_gap")
    src = "Bevan & Hood 2006"
    lo, hi = np.percentile(judged, [2.5, 97.5])
    return [
        Row(
            "6 gaming",
            "reported - true (points), judgement + hard 0.8",
            "5 to 25 points",
            src,
            float(judged.mean()),
            float(lo),
            float(hi),
            bool(5.0 < judged.mean() < 25.0),
        ),
        Row(
            "6 gaming",
            "reported - true (points), learning + hard 0.8",
            "|mean| < 2 points",
            src,
            float(learning.mean()),
            *map(float, np.percentile(learning, [2.5, 97.5])),
            bool(abs(learning.mean()) < 2.0),
        ),
    ]


def pattern7(p: PatternData) -> list[Row]:
    """Low readiness improves less; customisation helps low fit; too much lowers outcome."""
    n = "7 readiness, customisation"
    return [
        paired(
            n,
            "gap AUC: readiness 0.3 minus default",
            p.metric("low_readiness", "gap_auc"),
            p.metric("default", "gap_auc"),
        ),
        paired(
            n,
            "gap AUC at low fit: customisation 0 minus 0.5",
            p.metric("low_fit_cust0", "gap_auc"),
            p.metric("low_fit_cust05", "gap_auc"),
        ),
        paired(
            n,
            "events avoided at low fit: customisation 0.5 minus 1",
            p.metric("low_fit_cust05", "events_avoided"),
            p.metric("low_fit_cust1", "events_avoided"),
        ),
    ]


def pattern8(p: PatternData) -> list[Row]:
    """Compliant adoption decays after support ends; routinisation protects it."""
    end = PROGRAMME_END

    def retained(d: str) -> np.ndarray:
        return p.at(d, "share_compliant", end + 12) / p.at(d, "share_compliant", end)

    n = "8 sustainment"
    return [
        paired(
            n,
            "compliant share: programme end minus 2x a year later",
            p.at("default", "share_compliant", end),
            2.0 * p.at("default", "share_compliant", end + 12),
        ),
        paired(
            n,
            "compliant retained a year on: strong minus no routinisation",
            retained("strong_routinisation"),
            retained("no_routinisation"),
        ),
    ]


PATTERN_CHECKS: tuple[Callable[[PatternData], list[Row]], ...] = (
    pattern1,
    pattern2,
    pattern3,
    pattern4,
    pattern5,
    pattern6,
    pattern7,
    pattern8,
)
