"""The plain-text terminal report of an experiment (at most 100 columns); conventions in
:mod:`sim.report`."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.report import (
    DEFAULT_METRICS,
    TERMINAL_WIDTH,
    design_meta,
    design_order,
    format_interval,
    format_value,
    overrides_of,
    published_comparison,
    summary_table,
    tables_of,
)


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
    tables = tables_of(result)
    runs: pd.DataFrame = tables["runs"]
    meta = design_meta(tables["manifest"])
    sets = overrides_of(tables["manifest"])
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
        if sets:
            lines.extend(
                textwrap.wrap(
                    "with --set " + ", ".join(sets) + " (not in the description above)",
                    width=TERMINAL_WIDTH,
                    initial_indent="   ",
                    subsequent_indent="   ",
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
