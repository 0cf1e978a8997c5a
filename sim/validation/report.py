"""Run every validation check and write ``docs/validation.md`` with its figures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.experiment import machine
from sim.loader import load_scenario
from sim.results import atomic_write_bytes
from sim.validation import patterns, published
from sim.validation.rows import Row, Z

IRR_MONTHS = {"irr_0_3": 1.5, "irr_16_18": 16.5, "irr_34_36": 34.5}


@dataclass
class Validation:
    """All rows plus the runs needed for the figures."""

    rows: list[Row]
    keystone: pd.DataFrame
    matching_series: pd.DataFrame
    reps: int
    seed: int
    wall_time_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every row passed."""
        return all(r.passed for r in self.rows)


def run_all(reps: int = 200, seed: int = 20240, jobs: int = 2, progress: bool = True) -> Validation:
    """Run patterns 1-11; ``reps`` replications per design (>= 10 recommended)."""
    started = datetime.now(UTC)
    data = patterns.run_pattern_experiment(reps=reps, seed=seed, jobs=jobs, progress=progress)
    rows = [row for check in patterns.PATTERN_CHECKS for row in check(data)]
    ks = published.run_published("keystone", reps, seed, jobs, progress)
    rows += published.keystone_rows(ks.runs, load_scenario("keystone").published_dict())
    mm_scn = load_scenario("matching_michigan")
    mm = published.run_published("matching_michigan", reps, seed, jobs, progress)
    rows += published.matching_rows(mm.runs, mm.series, mm_scn.time.programme_months)
    rows += published.medinnov_rows()
    wall = (datetime.now(UTC) - started).total_seconds()
    return Validation(rows, ks.runs, mm.series, reps, seed, wall)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _simulated(r: Row) -> str:
    """``value (low to high)``, or the value alone when there is no interval."""
    if np.isnan(r.low) and np.isnan(r.high):
        return _fmt(r.simulated)
    return f"{_fmt(r.simulated)} ({_fmt(r.low)} to {_fmt(r.high)})"


def table_text(rows: list[Row]) -> str:
    """Plain-text table for the terminal: one block of two lines per check (100 columns)."""
    lines = []
    for r in rows:
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"{verdict}  {r.pattern}: {r.check}")
        lines.append(f"      simulated {_simulated(r)}; expected {r.expected} [{r.source}]")
    return "\n".join(lines)


def table_markdown(rows: list[Row]) -> str:
    """Markdown table of every row."""
    out = [
        "| pattern | check | expected (source) | simulated (95% interval) | result |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.pattern} | {r.check} | {r.expected} ({r.source}) | "
            f"{_simulated(r)} | {'pass' if r.passed else '**FAIL**'} |"
        )
    return "\n".join(out)


def keystone_figure(runs: pd.DataFrame, published_targets: dict, path: Path) -> Path:
    """Simulated IRR (median, 95% interval) vs the published points and CIs."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (key, month) in enumerate(IRR_MONTHS.items()):
        vals = runs[key].dropna().to_numpy(float)
        lo, med, hi = np.percentile(vals, [2.5, 50, 97.5])
        ax.errorbar(
            month - 0.6,
            med,
            yerr=[[med - lo], [hi - med]],
            fmt="o",
            color="C0",
            capsize=4,
            label="simulated (median, 95% interval)" if i == 0 else None,
        )
        pub = published_targets[key]
        ax.errorbar(
            month + 0.6,
            pub["value"],
            yerr=[[pub["value"] - pub["low"]], [pub["high"] - pub["value"]]],
            fmt="s",
            color="C3",
            capsize=4,
            label="published (95% CI)" if i == 0 else None,
        )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_xticks(list(IRR_MONTHS.values()), ["0-3", "16-18", "34-36"])
    ax.set_xlabel("months after implementation")
    ax.set_ylabel("incidence-rate ratio vs baseline")
    ax.set_ylim(0, 1.1)
    ax.set_title("Keystone ICU: CLABSI incidence-rate ratio")
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def matching_figure(series: pd.DataFrame, path: Path) -> Path:
    """Programme-arm and control-arm event rates (median and 90% band)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for col, label, colour in (
        ("event_rate", "programme arm (215 ICUs)", "C0"),
        ("event_rate_control", "control arm (secular trend only)", "C2"),
    ):
        g = series.groupby("month_in_programme")[col]
        q = g.quantile([0.05, 0.5, 0.95]).unstack()
        ax.plot(q.index, q[0.5], color=colour, label=label)
        ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.2)
    ax.scatter(
        [0, 19],
        [published.MM_RATE_START, published.MM_RATE_END],
        color="C3",
        zorder=5,
        label="published national means (Bion et al. 2013)",
    )
    ax.set_xlabel("months since programme start")
    ax.set_ylabel("CVC-BSI per 1000 CVC-patient-days")
    ax.set_title("Matching Michigan: improvement tracks the secular trend")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def medinnov_figure(path: Path) -> tuple[Path, int, int]:
    """Observed vs fitted cumulative adoption per Medical Innovation town (saved fit, saved seed).

    The curves are those the pattern-11 rows judge: the packaged fit re-simulated with its
    saved seed (:func:`sim.calibration.medinnov_recheck`), no refitting.

    Returns:
        ``(path, inside, total)``: the PNG written, and how many of the town-months
        (4 towns x 17 months) have the observed share inside the simulated 95% band.
    """
    from sim.calibration import medinnov_recheck
    from sim.calibration.plot import curves_figure

    saved, _, curves, targets = medinnov_recheck()
    p = saved["params"]
    title = (
        f"Medical Innovation: fitted ({saved['model']['contagion']} contagion, "
        f"q = {p['q']:.3g}, push onsets per town) vs observed"
    )
    fig = curves_figure(curves, targets, title, dpi=110)
    for ax in fig.axes:
        if ax.get_visible() and ax.get_xlabel():
            ax.set_xlabel("month (1953-54 survey)")
    fig.savefig(path)
    inside = (curves["observed"] >= curves["sim_low"]) & (curves["observed"] <= curves["sim_high"])
    return path, int(inside.sum()), len(curves)


# Why a row is known to fail, shown under the table when it does (never used to pass a row)
KNOWN_GAPS: dict[str, str] = {
    "mean ICU rate at 16-18 months": (
        "Pronovost et al. report a crude mean of 1.4 per 1000 catheter-days at 16-18 months but "
        "an adjusted IRR of 0.34 against a baseline mean of 7.7 (0.34 x 7.7 = 2.6). The model is "
        "calibrated to the IRRs (inside all three published CIs); its mean ICU rate follows the "
        "IRR (about 2.7), so it cannot also meet the crude mean: even the IRR's lower 95% bound "
        "gives 0.23 x 7.7 = 1.77, above this row's limit of 1.75 (1.4 + 25%). "
        "docs/analysis/keystone_crude_vs_irr.py tests the explanations: estimating the IRR as "
        "the paper did (Poisson with ICU effects) gives the same pooled ratio, and a common "
        "achievable floor moves the crude mean and the IRR together (crude mean 2.6 either way). "
        "Only small ICUs with higher rates that fall most separate them, and only with four "
        "parameters the papers do not report (ICU size log-sd 1.0-1.2 against 0.5, rate ~ "
        "size^-1 to -1.25, a floor of 1-1.25 per 1000, less other spread), which, like the "
        "model now, miss the published baseline third quartile (about 10 against 4.8): "
        "fitting them to this one row was not done."
    ),
    "max |median - observed| curve gap": (
        "Bloomington and Galesburg (24 and 18 physicians) have month-to-month jumps that no "
        "smooth adoption model matches within 0.10 (Bloomington: 6 adopters in month 1, none in "
        "months 3-4; Galesburg: none in months 1-2, 12 in months 3-8, none in months 9-12). The "
        "fitted onsets of the push (Galesburg 2 months late) cut the gaps from 0.21/0.22 to "
        "0.17/0.17; each town fitted on its own still misses (0.125/0.111). Only 6-28% of "
        "small towns simulated from the fitted model stay within 0.10 of their own median "
        "curve, so the target is stricter than the data's own noise (docs/calibration.md)."
    ),
}


# below this many replications per design a failing paired check may be noise (ODD §1 uses 200)
FEW_REPS = 100


def few_reps_note(reps: int) -> str:
    """A warning line for reports made with fewer than :data:`FEW_REPS` replications per
    design (empty otherwise)."""
    if reps >= FEW_REPS:
        return ""
    return (
        f"\n> **Note:** {reps} replications per design is below {FEW_REPS}: a paired check "
        "may fail for lack of replications. The documented verdicts use `--reps 200`.\n"
    )


def known_gaps(rows: list[Row], reps: int | None = None) -> str:
    """Markdown list explaining each failing row: its known cause, else "a finding" (or, with
    fewer than :data:`FEW_REPS` replications per design, possibly noise)."""
    grouped: dict[str, list[Row]] = {}  # rows sharing one explanation are listed together
    for r in rows:
        if r.passed:
            continue
        why = next((text for key, text in KNOWN_GAPS.items() if key in r.check), None)
        grouped.setdefault(why or f"{r.pattern}: {r.check}", []).append(r)
    items = []
    for why, same in grouped.items():
        names = "; ".join(f"{r.pattern}: {r.check}" for r in same)
        known = any(why == text for text in KNOWN_GAPS.values())
        if known:
            items.append(f"- **{names}.** {why}")
        elif reps is not None and reps < FEW_REPS:
            items.append(
                f"- **{names}.** With only {reps} replications per design this may be noise: "
                "re-run with --reps 200 before calling it a finding."
            )
        else:
            items.append(f"- **{names}.** No explanation yet: a finding.")
    if not items:
        return ""
    return "## Rows that fail, and why\n\n" + "\n".join(items) + "\n"


def write_markdown(v: Validation, path: Path, command: str = "ccsim validate") -> Path:
    """Write the validation report (table + figures) to ``path`` (figures beside it)."""
    fig_dir = path.parent / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    ks_fig = keystone_figure(
        v.keystone,
        load_scenario("keystone").published_dict(),
        fig_dir / "validation_keystone_irr.png",
    )
    mm_fig = matching_figure(v.matching_series, fig_dir / "validation_matching_michigan.png")
    mi_fig, mi_inside, mi_total = medinnov_figure(fig_dir / "validation_medical_innovation.png")
    m = machine()
    n_fail = sum(not r.passed for r in v.rows)
    text = f"""# Validation: simulated vs published and expected patterns

Generated by `{command}` ({v.reps} replications per design, root seed {v.seed}, {m["cores"]}
cores, {m["cpu"]}; {v.wall_time_s:.0f} s). **{len(v.rows) - n_fail} of {len(v.rows)} rows
pass.** Re-create it with the same command; it exits 1 if any row fails.
{few_reps_note(v.reps)}
How to read it: patterns 1-8 (docs/ODD.md §1) compare designs that differ in one lever under common
random numbers; a row passes when the mean paired difference points the expected way and is at
least {Z:g} standard errors from zero (the interval shown is mean ± 1.96 SE). Patterns 9-10 run
the library's `keystone` and `matching_michigan` scenarios and compare the simulated median
across replications (interval: 2.5th-97.5th percentile, i.e. stochastic spread between runs)
with the published value: an IRR or a share of sites passes when the simulated median lies
inside the published 95% CI (the spread between runs may be wider than that CI, and need not
contain the published point), a mean rate or ratio when the median is within the stated
tolerance, and "can show" rows when the pattern appears in at least the stated share of runs.
Pattern 11 re-simulates the saved fit of the adoption sub-model to the four Medical Innovation
towns (`ccsim calibrate medinnov --contagion linear --fit-onset`,
docs/calibration.md) with its saved seed: no refitting; its intervals are the spread of the
fit's simulated towns, except in the exposure row, which shows the observed statistic and the
95% range of its within-town permutation null. Thresholds are set from the sources,
never tuned to pass: a failing row is reported here as it is.

{table_markdown(v.rows)}

{known_gaps(v.rows, v.reps)}

## Keystone ICU

![Keystone IRR]({os.path.relpath(ks_fig, path.parent)})

## Matching Michigan

![Matching Michigan]({os.path.relpath(mm_fig, path.parent)})

## Medical Innovation

Observed share of each town's physicians who had prescribed tetracycline (steps) against the
fitted model's median and 95% band over its saved simulations; the panel titles give each
town's largest gap (the pattern-11 curve rows). The observed share lies inside the simulated
95% band in {mi_inside} of {mi_total} town-months.

![Medical Innovation]({os.path.relpath(mi_fig, path.parent)})
"""
    atomic_write_bytes(path, text.encode())
    return path
