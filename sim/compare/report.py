"""Words and files of a comparison: plain-language lines, ``comparison.md`` and Parquet tables.

Public entry points: :func:`plain_line` (from :mod:`sim.compare.wording`, which words each
sentence), :func:`format_terminal` and :func:`write_comparison` (``comparison.parquet``,
``survival.parquet``, ``comparison.md`` and the figures of :mod:`sim.compare.plots`).
"""

from __future__ import annotations

import math
from pathlib import Path

from sim.compare import CONFIDENCE, N_RESAMPLES, OUTCOME_BY_METRIC, Comparison
from sim.compare.incremental import incremental_lines
from sim.compare.survival import km_summary
from sim.compare.wording import (  # noqa: F401 - plain_line, format_ci: users import them here
    TIE_SHARE,
    decimals,
    format_ci,
    intervals_caveat,
    percent,
    plain_line,
    signed,
)
from sim.report_md import markdown_table
from sim.results import atomic_write_bytes, write_parquet


def lines(cmp: Comparison) -> list[str]:
    """Every plain-language line of a comparison, grouped by design."""
    return [plain_line(r) for r in cmp.table.itertuples(index=False)]


def replications(cmp: Comparison) -> int:
    """Replications per design as asked (failed ones included)."""
    reps = cmp.experiment.manifest.get("replications")
    if reps is None:
        reps = int((cmp.table["n_pairs"] + cmp.table["n_missing"]).max()) if len(cmp.table) else 0
    return int(reps)


def paired_replications(cmp: Comparison) -> int:
    """Replications in which every design ran (failed ones and their pairs left out)."""
    t = cmp.table
    return int((t["n_pairs"] + t["n_missing"]).max()) if len(t) else replications(cmp)


def method_text(cmp: Comparison) -> list[str]:
    """How the comparison was made, in sentences (for ``comparison.md`` and the terminal)."""
    text = [
        f"Each design ran {replications(cmp)} replications. "
        + (
            "Under common random numbers replication k of every design uses the same seed, "
            "so each difference is paired within a replication."
            if cmp.crn
            else "Designs ran on independent random streams (--independent): differences "
            "pair replication k of two independent runs. To show what common random numbers "
            "buy, the other designs were also run under CRN, paired with the same baseline "
            "runs; ci_width_ratio is the CRN interval's width over this one's."
        ),
        f"Intervals are {CONFIDENCE:.0%} bootstrap CIs (BCa, {N_RESAMPLES} resamples, fixed "
        "seed) of the mean paired difference design - baseline. P(better) is the share of "
        "pairs in which the design did better, ties counting one half; when ties are "
        f"{TIE_SHARE:.0%} of pairs or more the sentence also gives the shares of pairs better, "
        "the same and worse.",
        f"Censored times are not dropped: T50 and T90 are compared as restricted times "
        f"min(T, {cmp.tau:g} months), a run that had not closed the gap that far by "
        f"{cmp.tau:g} months counting as {cmp.tau:g}. Their mean is the restricted mean time "
        "to close (the area under the Kaplan-Meier 'not yet closed' curve up to that time).",
        "Gap and conflict differences are in points of 100 (gap: share of the starting gap; "
        "Gini and conflict: their 0-1 scale times 100); costs in the scenarios' currency, cost "
        "per point for each point of 100 of the gap closed by programme end. "
        "comparison.parquet keeps the units of runs.parquet (its unit column).",
    ]
    return text + list(cmp.notes)


def _table_rows(cmp: Comparison) -> list[list[str]]:
    """Rows of the paired-differences table: the mean and CI with one number of decimals."""
    rows = []
    for r in cmp.table.itertuples(index=False):
        o = OUTCOME_BY_METRIC[r.metric]
        p = decimals(o, r.diff_mean, r.ci_low, r.ci_high)
        mean = ("+" if r.diff_mean >= 0 else "") + signed(o, r.diff_mean, p)
        ci = f"{signed(o, r.ci_low, p)} to {signed(o, r.ci_high, p)}"
        ci = "n/a" if math.isnan(r.ci_low) else ci
        shares = getattr(r, "share_better", math.nan)
        split = (
            "n/a"
            if not r.n_pairs or math.isnan(shares)
            else " / ".join(percent(x) for x in (r.share_better, r.share_tied, r.share_worse))
        )
        n = f"{r.n_pairs}" + (f" ({r.n_missing} n/a)" if r.n_missing else "")
        p_better = f"{r.p_better:.2f}" if r.n_pairs else "n/a"
        rows.append([r.design, o.label, mean, ci, p_better, split, n])
    return rows


def own_values(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Outcomes x designs (baseline first): each design's mean, in the sentences' units
    (restricted means for T50/T90; gap, Gini and conflict in points of 100), one number of
    decimals per row. Returns ``(header, rows)`` of strings."""
    t = cmp.table
    designs = [cmp.baseline, *dict.fromkeys(t["design"])]
    rows = []
    for metric, grp in t.groupby("metric", sort=False):
        o = OUTCOME_BY_METRIC[metric]
        means = {cmp.baseline: float(grp["mean_baseline"].iloc[0])}
        means |= {r.design: float(r.mean_design) for r in grp.itertuples(index=False)}
        values = [means.get(d, math.nan) for d in designs]
        p = decimals(o, *values)
        rows.append([o.label, *(signed(o, v, p) for v in values)])
    at = next(
        (i + 1 for i, r in enumerate(rows) if r[0] == OUTCOME_BY_METRIC["cost_total"].label),
        len(rows),
    )
    return ["outcome", *designs], rows[:at] + _cost_rows(cmp, designs) + rows[at:]


COST_PARTS = (
    ("cost_core_team", "  of which core team", "{:,.0f}"),
    ("cost_sites", "  of which site budgets", "{:,.0f}"),
    ("funded_site_months", "funded site-months", "{:,.1f}"),
)
"""What the total cost is made of (``sim.metrics.cost_breakdown``): shown, not compared."""


def _cost_rows(cmp: Comparison, designs: list[str]) -> list[list[str]]:
    """Rows of :data:`COST_PARTS` (each design's mean over its runs), placed under the
    outcomes; [] for runs without these columns (results made before they existed)."""
    runs = cmp.experiment.runs
    if not all(m in runs.columns for m, _, _ in COST_PARTS):
        return []
    means = runs.groupby("design")[[m for m, _, _ in COST_PARTS]].mean()
    return [
        [label, *(fmt.format(means.loc[d, m]) if d in means.index else "n/a" for d in designs)]
        for m, label, fmt in COST_PARTS
    ]


def _own_values_table(cmp: Comparison) -> str:
    header, rows = own_values(cmp)
    return markdown_table(header, rows, "l" + "r" * (len(header) - 1))


def _own_values_text(cmp: Comparison) -> list[str]:
    """:func:`own_values` as aligned terminal lines, under a title."""
    header, rows = own_values(cmp)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "Each design's own values (mean over the paired replications; T50 and T90 are "
        f"restricted means, a run not there by {cmp.tau:g} months counting as {cmp.tau:g}):"
    ]
    for r in [header, *rows]:
        values = (c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))
        cells = [r[0].ljust(widths[0]), *values]
        lines.append("  " + "  ".join(cells))
    return lines


def _own_values_note(cmp: Comparison) -> str:
    """The sentence under the own-values table: what its numbers are."""
    note = (
        f"T50 and T90 are restricted means (a run that never got there counts as {cmp.tau:g} "
        "months), so they can differ from the plain mean of `t50_months` in `runs.parquet`; "
        "gap, Gini and conflict are points of 100"
    )
    if "gap_followup_12" in set(cmp.table["metric"]):
        note += (
            "; the gap a year after support ends is the gap 12 months after the programme "
            "ends, in points of 100 of the starting gap (lower is better; beside the gap at "
            "programme end it shows whether a design kept its gain)"
        )
    return note + ".\n"


def _survival_rows(cmp: Comparison) -> list[list[str]]:
    rows = []
    for r in km_summary(cmp.survival, cmp.tau).itertuples(index=False):
        med = "not reached" if math.isnan(r.median_months) else f"{r.median_months:.1f}"
        rows.append(
            [
                r.design,
                r.level,
                med,
                f"{r.restricted_mean_months:.1f}",
                f"{100 * r.open_at_window:.0f}% at {cmp.windows[r.design]} months",
            ]
        )
    return rows


def _legend_parts(lines: list[str]) -> tuple[list[str], list[str]]:
    """The legend's items and its ``Caution:`` lines, which are shown as cautions."""
    warned = [line for line in lines if line.startswith("Caution:")]
    return [line for line in lines if line not in warned], warned


def comparison_markdown(cmp: Comparison, figures: list[Path], out_dir: Path) -> str:
    """The text of ``comparison.md``."""
    parts = [f"# Comparison of designs against {cmp.baseline}\n"]
    if cmp.legend:
        items, warned = _legend_parts(cmp.legend[1:])
        parts += [cmp.legend[0] + "\n", *[f"- {line}" for line in items], ""]
        parts += [f"> **Caution:** {c.removeprefix('Caution:').strip()}\n" for c in warned]
    parts += [f"> **Caution:** {c[0].upper()}{c[1:]}.\n" for c in cmp.cautions]
    parts += [f"{intervals_caveat(paired_replications(cmp))}\n", "## In plain words\n"]
    parts += [f"- {line}" for line in lines(cmp)]
    parts += ["", "## Each design's own values (mean over the paired replications)\n"]
    parts.append(_own_values_table(cmp))
    parts.append(_own_values_note(cmp))
    extra = incremental_lines(cmp)
    if extra:
        parts += [f"## Incremental cost against {cmp.baseline}\n"]
        parts += [f"- {line}" for line in extra]
        parts.append(
            "\nDifference in mean total cost over the difference in mean points of the starting "
            "gap closed (an incremental cost-effectiveness ratio). *Dominates*: costs no more "
            "and closes no less; *dominated*: the reverse. `cost per point of gap closed` above "
            "is each design's own average, which can favour a cheaper design that buys less.\n"
        )
    parts += ["", f"## Paired differences (design - {cmp.baseline})\n"]
    header = ["design", "outcome", "mean difference", f"{CONFIDENCE:.0%} CI", "P(better)"]
    header += ["better / same / worse", "n"]
    parts.append(markdown_table(header, _table_rows(cmp), "llrrrrr"))
    if "ci_width_ratio" in cmp.table.columns:
        parts += ["## What common random numbers buy\n", _crn_table(cmp)]
    parts += ["## Time to close (Kaplan-Meier)\n"]
    head = ["design", "level", "median months", f"restricted mean to {cmp.tau:g}", "never closed"]
    parts.append(markdown_table(head, _survival_rows(cmp), "llrrr"))
    if figures:
        parts.append("## Figures\n")
        for f in figures:
            rel = Path(f).resolve().relative_to(out_dir.resolve()).as_posix()
            parts.append(f"![{Path(f).stem.replace('_', ' ')}]({rel})\n")
    parts += ["## Method\n", *[f"- {t}" for t in method_text(cmp)], ""]
    times = ", ".join(f"{k} {v:.1f} s" for k, v in cmp.wall_time_s.items())
    parts.append(f"Wall time: {times}.\n")
    return "\n".join(parts)


def _crn_table(cmp: Comparison) -> str:
    """CI widths with independent streams and under CRN (display units), and their ratios."""
    rows = []
    for r in cmp.table.itertuples(index=False):
        o = OUTCOME_BY_METRIC[r.metric]
        p = decimals(o, r.ci_width, r.ci_width_crn)
        widths = [signed(o, w, p) for w in (r.ci_width, r.ci_width_crn)]
        rows.append([r.design, o.label, *widths, f"{r.ci_width_ratio:.2f}", f"{r.var_ratio:.2f}"])
    head = ["design", "outcome", "CI width, independent", "CI width, CRN", "ratio", "var ratio"]
    return markdown_table(head, rows, "llrrrr")


def format_terminal(cmp: Comparison) -> str:
    """Plain-language lines and the method notes, for the terminal."""
    out = [f"Paired comparison against {cmp.baseline} ({'CRN' if cmp.crn else 'independent'})"]
    if cmp.legend:
        items, warned = _legend_parts(cmp.legend[1:])
        out += [cmp.legend[0], *[f"  {line}" for line in items], *warned]
    out.append(intervals_caveat(paired_replications(cmp)))
    out += [f"Caution: {c[0].upper()}{c[1:]}." for c in cmp.cautions]
    out += ["", *_own_values_text(cmp)]
    extra = incremental_lines(cmp)
    if extra:
        out += ["", f"Incremental cost against {cmp.baseline} (difference in mean cost over "
                "difference in mean points of gap closed):"]  # fmt: skip
        out += [f"  {line}" for line in extra]
    for design in cmp.designs[1:]:
        out.append(f"\n{design}:")
        rows = cmp.table[cmp.table["design"] == design]
        out += [f"  {plain_line(r)}" for r in rows.itertuples(index=False)]
    out.append("")
    out += [f"* {t}" for t in method_text(cmp)[2:]]
    return "\n".join(out)


def write_comparison(cmp: Comparison, out_dir: Path, figures: bool = True) -> list[Path]:
    """Write ``comparison.parquet``, ``survival.parquet``, ``comparison.md`` and figures.

    Args:
        cmp: the comparison.
        out_dir: results folder (created if needed).
        figures: also draw the figures into ``out_dir/figures``.

    Returns:
        Paths written.
    """
    out_dir = Path(out_dir)
    table = cmp.table.copy()
    table["line"] = lines(cmp)
    table["crn"] = cmp.crn
    written = [out_dir / "comparison.parquet", out_dir / "survival.parquet"]
    write_parquet(table, written[0])
    write_parquet(cmp.survival, written[1])
    figs: list[Path] = []
    if figures:
        from sim.compare.plots import save_comparison_figures

        figs = save_comparison_figures(cmp, out_dir / "figures")
    md = out_dir / "comparison.md"
    atomic_write_bytes(md, comparison_markdown(cmp, figs, out_dir).encode("utf-8"))
    return [*written, *figs, md]
