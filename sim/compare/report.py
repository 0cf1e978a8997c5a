"""Words and files of a comparison: plain-language lines, ``comparison.md`` and Parquet tables.

Public entry points: :func:`plain_line`, :func:`format_terminal` and :func:`write_comparison`
(``comparison.parquet``, ``survival.parquet``, ``comparison.md`` and the figures of
:mod:`sim.compare.plots`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.compare import CONFIDENCE, N_RESAMPLES, OUTCOME_BY_METRIC, Comparison, Outcome
from sim.compare.survival import km_summary
from sim.report_md import markdown_table
from sim.results import atomic_write_bytes, write_parquet


def _amount(o: Outcome, value: float) -> str:
    """``|value|`` in the outcome's display unit: money as ``1,234``; else one decimal, or two
    significant digits below 0.1 so a small difference never reads as ``0.0``."""
    v = abs(value) * o.scale
    if o.money:
        return f"{v:,.0f}"
    return f"{v:.2g}" if 0 < v < 0.1 else f"{v:.1f}"


def _word(o: Outcome, value: float) -> str:
    return o.more if value >= 0 else o.less


def format_ci(o: Outcome, low: float, high: float, mean: float) -> str:
    """The CI in the sentence's own words: ``3.2-5.0`` (both bounds on the mean's side) or
    ``0.5 sooner to 8.7 later`` (the CI includes no difference)."""
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    if low > 0 and mean >= 0:
        return f"{_amount(o, low)}-{_amount(o, high)}"
    if high < 0 and mean <= 0:
        return f"{_amount(o, high)}-{_amount(o, low)}"
    return f"{_amount(o, low)} {_word(o, low)} to {_amount(o, high)} {_word(o, high)}"


def plain_line(row: Any) -> str:
    """One sentence for one row of the comparison table.

    Example: ``"soft_only closes half the gap 4.1 months later than keystone (95% CI
    3.2-5.0); P(faster) = 0.03"``, followed by what was restricted or left out.

    Args:
        row: a row (mapping or namedtuple-like) of :attr:`Comparison.table`.

    Returns:
        The sentence (no trailing full stop).
    """
    r = dict(row._asdict()) if hasattr(row, "_asdict") else dict(row)
    o = OUTCOME_BY_METRIC[r["metric"]]
    if not r["n_pairs"]:
        return f"{r['design']} vs {r['baseline']}: {o.label} undefined in every pair"
    censored = _all_censored_line(r, o)
    if censored:
        return censored
    mean = float(r["diff_mean"])
    sd = r.get("diff_sd")
    if mean == 0 and (not _present(sd) or float(sd) == 0):  # zero in every pair: no CI to give
        n = int(r["n_pairs"])
        if o.phrase.startswith("costs {amount} {dir} than"):
            same = f"costs the same as {r['baseline']}"
        else:
            same = f"has the same {o.label} as {r['baseline']}"
        return f"{r['design']} {same} (difference 0 in all {n} paired runs)" + _caveats(r)
    body = o.phrase.format(amount=_amount(o, mean), dir=_word(o, mean))
    ci = format_ci(o, float(r["ci_low"]), float(r["ci_high"]), mean)
    line = f"{r['design']} {body} {r['baseline']} ({CONFIDENCE:.0%} CI {ci}); "
    line += f"P({o.better}) = {float(r['p_better']):.2f}"
    return line + _caveats(r)


LEVEL_WORDS = {"t50_months": "half the gap", "t90_months": "90% of the gap"}


def _all_censored_line(r: dict[str, Any], o: Outcome) -> str:
    """A sentence for times where a whole design never reached the level (else ``""``):
    a mean difference would only be a bound there, so say what happened instead."""
    n, nr_d, nr_b = r["n_pairs"], r.get("not_reached_design"), r.get("not_reached_baseline")
    if not _present(nr_d) or (nr_d < n and nr_b < n):
        return ""
    what, tau = LEVEL_WORDS[r["metric"]], r["window_months"]
    d, b = r["design"], r["baseline"]
    if nr_d == n and nr_b == n:
        return f"neither {d} nor {b} closes {what} within {tau:g} months in any of {n} runs"
    p = f"P({o.better}) = {float(r['p_better']):.2f}"
    if nr_d == n:
        return (
            f"{d} does not close {what} within {tau:g} months in any of {n} runs; {b} does in "
            f"{n - int(nr_b)} (restricted mean {r['mean_baseline']:.1f} months); {p}"
        )
    return (
        f"{d} closes {what} within {tau:g} months in {n - int(nr_d)} of {n} runs "
        f"(restricted mean {r['mean_design']:.1f} months), {b} in none; {p}"
    )


def _caveats(r: dict[str, Any]) -> str:
    notes = []
    window = r.get("window_months")
    nr_d, nr_b = r.get("not_reached_design"), r.get("not_reached_baseline")
    if _present(nr_d) and (nr_d or nr_b):
        notes.append(
            f"not reached within {window:g} months in {int(nr_d)} {r['design']} and "
            f"{int(nr_b)} {r['baseline']} runs, counted as {window:g}"
        )
    elif r["metric"] == "gap_auc" and _present(window):
        notes.append(f"first {window:g} programme months")
    if r.get("n_missing"):
        notes.append(f"undefined in {int(r['n_missing'])} pairs, left out")
    if _present(r.get("ci_width_ratio")):
        notes.append(f"CRN would give a CI {r['ci_width_ratio']:.2f} times as wide")
    return f" [{'; '.join(notes)}]" if notes else ""


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def lines(cmp: Comparison) -> list[str]:
    """Every plain-language line of a comparison, grouped by design."""
    return [plain_line(r) for r in cmp.table.itertuples(index=False)]


def method_text(cmp: Comparison) -> list[str]:
    """How the comparison was made, in sentences (for ``comparison.md`` and the terminal)."""
    reps = cmp.experiment.manifest.get("replications")  # as asked, failed ones included
    if reps is None:
        reps = int((cmp.table["n_pairs"] + cmp.table["n_missing"]).max()) if len(cmp.table) else 0
    text = [
        f"Each design ran {reps} replications. "
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
        "pairs in which the design did better, ties counting one half.",
        f"Censored times are not dropped: T50 and T90 are compared as restricted times "
        f"min(T, {cmp.tau:g} months), a run that had not closed the gap that far by "
        f"{cmp.tau:g} months counting as {cmp.tau:g}. Their mean is the restricted mean time "
        "to close (the area under the Kaplan-Meier 'not yet closed' curve up to that time).",
        "Gap and conflict differences are in points of 100 (gap: share of the starting gap; "
        "Gini and conflict: their 0-1 scale times 100); costs in the scenarios' currency.",
    ]
    return text + list(cmp.notes)


def _table_rows(cmp: Comparison) -> list[list[str]]:
    rows = []
    for r in cmp.table.itertuples(index=False):
        o = OUTCOME_BY_METRIC[r.metric]
        sign = "+" if r.diff_mean >= 0 else "-"
        ci = "n/a" if math.isnan(r.ci_low) else f"{_signed(o, r.ci_low)} to {_signed(o, r.ci_high)}"
        rows.append(
            [
                r.design,
                o.label,
                f"{sign}{_amount(o, r.diff_mean)}",
                ci,
                f"{r.p_better:.2f}" if r.n_pairs else "n/a",
                f"{r.n_pairs}" + (f" ({r.n_missing} n/a)" if r.n_missing else ""),
            ]
        )
    return rows


def _own_values_table(cmp: Comparison) -> str:
    """Outcomes x designs (baseline first): each design's mean, in the sentences' units
    (restricted means for T50/T90; gap, Gini and conflict in points of 100)."""
    t = cmp.table
    designs = [cmp.baseline, *dict.fromkeys(t["design"])]
    rows = []
    for metric, grp in t.groupby("metric", sort=False):
        o = OUTCOME_BY_METRIC[metric]
        means = {cmp.baseline: float(grp["mean_baseline"].iloc[0])}
        means |= {r.design: float(r.mean_design) for r in grp.itertuples(index=False)}
        rows.append([o.label, *(_value(o, means.get(d, math.nan)) for d in designs)])
    return markdown_table(["outcome", *designs], rows, "l" + "r" * len(designs))


def _value(o: Outcome, value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return ("-" if value < 0 else "") + _amount(o, value)


def _signed(o: Outcome, value: float) -> str:
    return ("-" if value < 0 else "") + _amount(o, value)


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


def comparison_markdown(cmp: Comparison, figures: list[Path], out_dir: Path) -> str:
    """The text of ``comparison.md``."""
    parts = [f"# Comparison of designs against {cmp.baseline}\n"]
    parts += [f"> **Caution:** {c[0].upper()}{c[1:]}.\n" for c in cmp.cautions]
    parts += ["## In plain words\n"]
    parts += [f"- {line}" for line in lines(cmp)]
    parts += ["", "## Each design's own values (mean over the paired replications)\n"]
    parts.append(_own_values_table(cmp))
    parts.append(
        f"T50 and T90 are restricted means (a run that never got there counts as {cmp.tau:g} "
        "months), so they can differ from the plain mean of `t50_months` in `runs.parquet`; "
        "gap, Gini and conflict are points of 100; sustainment is the gap closed 12 months "
        "after support ends as points of 100 of the gap closed at its end (over 100: it kept "
        "closing).\n"
    )
    parts += ["", f"## Paired differences (design - {cmp.baseline})\n"]
    header = ["design", "outcome", "mean difference", f"{CONFIDENCE:.0%} CI", "P(better)", "n"]
    parts.append(markdown_table(header, _table_rows(cmp), "llrrrr"))
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
    rows = [
        [
            r.design,
            OUTCOME_BY_METRIC[r.metric].label,
            f"{r.ci_width * OUTCOME_BY_METRIC[r.metric].scale:.3g}",
            f"{r.ci_width_crn * OUTCOME_BY_METRIC[r.metric].scale:.3g}",
            f"{r.ci_width_ratio:.2f}",
            f"{r.var_ratio:.2f}",
        ]
        for r in cmp.table.itertuples(index=False)
    ]
    head = ["design", "outcome", "CI width, independent", "CI width, CRN", "ratio", "var ratio"]
    return markdown_table(head, rows, "llrrrr")


def format_terminal(cmp: Comparison) -> str:
    """Plain-language lines and the method notes, for the terminal."""
    out = [f"Paired comparison against {cmp.baseline} ({'CRN' if cmp.crn else 'independent'})"]
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
