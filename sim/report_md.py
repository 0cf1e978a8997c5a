"""``summary.md`` of an experiment and a small Markdown table formatter; conventions in
:mod:`sim.report`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.report import (
    censored_note,
    design_meta,
    design_order,
    format_interval,
    format_value,
    metric_label,
    overrides_of,
    published_comparison,
    summary_table,
    tables_of,
)
from sim.results import atomic_write_bytes


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None
) -> str:
    """A GitHub-flavoured Markdown table (no ``tabulate`` needed).

    Args:
        header: column titles.
        rows: cells (converted with ``str``; ``|`` and newlines are escaped).
        align: one character per column, ``l``, ``r`` or ``c``; default all left.

    Returns:
        The table, lines separated by ``\\n``, with a trailing newline.

    Raises:
        ValueError: if a row or ``align`` has the wrong number of columns.
    """
    ncol = len(header)
    align = align or "l" * ncol
    if len(align) != ncol:
        raise ValueError(f"align has {len(align)} columns, header has {ncol}")
    rules = {"l": ":---", "r": "---:", "c": ":---:"}

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |"]
    out.append("| " + " | ".join(rules[a] for a in align) + " |")
    for r in rows:
        if len(r) != ncol:
            raise ValueError(f"row has {len(r)} cells, header has {ncol}: {r!r}")
        out.append("| " + " | ".join(cell(v) for v in r) + " |")
    return "\n".join(out) + "\n"


READING_GUIDE = (
    "The *gap* is the share of the starting gap between current and "
    "evidence-based practice that is still open, patient-weighted over the programme sites: "
    "1 = nothing closed, 0 = fully closed (measured from the programme start). T50 and T90 are "
    "the months from the programme start until the true gap first falls to 0.5 and 0.1. A run "
    "that never gets there before the end of follow-up is *censored*: it is counted as "
    "'not reached', never given a made-up time, so a median shown as '> {h}' means more than "
    "half the runs did not reach that level within the {h} months observed after the programme "
    "start; the number of such runs is given under the interval. Each cell gives the "
    "median across replications and, in brackets, the 5th-95th percentiles (a 90% interval){pub}. "
    "These intervals show "
    "stochastic, run-to-run variation of the model with its parameters held fixed; they are "
    "not parameter (epistemic) uncertainty and not confidence intervals for a real programme. "
    "IRR is the incidence-rate ratio of events against the baseline rate (below 1 = fewer "
    "events); its windows count months after implementation."
)


def _md_summary(runs: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]]) -> str:
    """Metrics as rows, designs as columns: ``median (p05 - p95)`` plus censoring notes."""
    designs = design_order(runs)
    table = summary_table(runs)
    rows = []
    for metric in dict.fromkeys(table["metric"]):
        cells: list[str] = [metric_label(metric)]
        for design in designs:
            hit = table[(table["design"] == design) & (table["metric"] == metric)]
            if hit.empty:
                cells.append("n/a")
                continue
            r = hit.iloc[0]
            horizon = meta.get(design, {}).get("horizon")
            text = (
                f"{format_value(metric, r['median'], horizon)} "
                f"({format_interval(metric, r['p05'], r['p95'], horizon)})"
            )
            note = censored_note(r["n_censored"], int(r["n"]), metric)
            cells.append(text + (f"<br>{note}" if note else ""))
        rows.append(cells)
    return markdown_table(["metric", *designs], rows, "l" + "r" * len(designs))


def _md_published(runs: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for design in design_order(runs):
        info = meta.get(design, {})
        comp = published_comparison(runs, info.get("scenario") or {}, design=design)
        horizon = info.get("horizon")
        for r in comp.itertuples(index=False):
            interval = (
                ""
                if math.isnan(r.published_low) and math.isnan(r.published_high)
                else format_interval(r.metric, r.published_low, r.published_high)
            )
            inside = "" if r.inside is pd.NA else ("yes" if r.inside else "no")
            rows.append(
                [
                    design,
                    r.label,
                    format_value(r.metric, r.published),
                    interval,
                    r.source,
                    format_value(r.metric, r.sim_median, horizon),
                    format_interval(r.metric, r.sim_low, r.sim_high, horizon),
                    inside,
                ]
            )
    if not rows:
        return ""
    header = [
        "design",
        "metric",
        "published",
        "published interval",
        "source",
        "simulated median",
        "simulated 95% interval",
        "median inside published interval",
    ]
    return markdown_table(header, rows, "llrrlrrc")


def write_summary_md(
    result: Any, out_dir: Path | str, figures: Sequence[Path] | None = None
) -> Path:
    """Write ``summary.md`` into ``out_dir``: designs, run facts, summary, comparison, figures.

    Args:
        result: an :class:`~sim.experiment.ExperimentResult` (or a mapping with ``runs`` and
            ``manifest``).
        out_dir: the results folder.
        figures: figure files to link; default every ``figures/*.png`` already in ``out_dir``
            (so call :func:`sim.plots.save_figures` first). Links are relative to ``out_dir``.

    Returns:
        Path of the written ``summary.md``.
    """
    out_dir = Path(out_dir)
    tables = tables_of(result)
    runs: pd.DataFrame = tables["runs"]
    manifest: Mapping[str, Any] = tables["manifest"] or {}
    meta = design_meta(manifest)
    designs = design_order(runs)
    parts = [f"# ccsim results: {', '.join(designs)}\n"]
    parts.extend(_md_designs(manifest, designs))
    parts.extend(_md_run_facts(manifest))

    parts.append("## Summary (median and 90% interval across replications)\n")
    parts.append(_md_summary(runs, meta))

    pub = _md_published(runs, meta)
    if pub:
        parts.append("## Simulated vs published\n")
        parts.append(pub)
    parts.extend(_md_figures(out_dir, figures))

    parts.append("## How to read this\n")
    horizons = [m["horizon"] for m in meta.values() if m.get("horizon") is not None]
    h = f"{max(horizons):g}" if horizons else "H"
    pub_note = "; the published comparison uses 2.5th-97.5th percentiles (95%)" if pub else ""
    parts.append(READING_GUIDE.format(h=h, pub=pub_note) + "\n")
    path = out_dir / "summary.md"
    atomic_write_bytes(path, "\n".join(parts).encode("utf-8"))
    return path


def _md_designs(manifest: Mapping[str, Any], designs: Sequence[str]) -> list[str]:
    """The "Designs" section: one line per design, then the ``--set`` overrides."""
    parts = ["## Designs\n"]
    for d in manifest.get("designs", []):
        scn = d.get("scenario") or {}
        name = str(d.get("name"))
        scn_name = scn.get("name", name)
        title = f"**{name}**" + (f" (scenario `{scn_name}`)" if scn_name != name else "")
        desc = str(scn.get("description") or "").strip()
        t = scn.get("time") or {}
        timing = ""
        if t:
            timing = (
                f" Time: {t.get('baseline_months', 0)} baseline, "
                f"{t.get('programme_months')} programme and "
                f"{t.get('followup_months', 0)} follow-up months."
            )
        if desc and not desc.endswith((".", "!", "?")):
            desc += "."
        parts.append(f"- {title}: {desc}{timing}")
    if not manifest.get("designs"):
        parts.extend(f"- **{d}**" for d in designs)
    sets = overrides_of(manifest)
    if sets:
        parts.append(
            "- **Overridden with `--set`** for every design above (the descriptions are the "
            "scenario files' own and do not include these): "
            + ", ".join(f"`{item}`" for item in sets)
        )
    parts.append("")
    return parts


def _md_run_facts(manifest: Mapping[str, Any]) -> list[str]:
    """The "Run" section: replications, seed, CRN, wall time and provenance from the manifest."""
    facts = [
        ("replications per design", manifest.get("replications")),
        ("root seed", manifest.get("root_seed")),
        ("common random numbers", manifest.get("crn")),
        ("wall time", _wall_time(manifest.get("wall_time_s"))),
        ("processes (--jobs)", manifest.get("jobs")),
        ("back end", _backend_text(manifest)),
        ("created", manifest.get("created")),
        ("git commit", (manifest.get("git") or {}).get("commit")),
        ("ccsim version", (manifest.get("versions") or {}).get("ccsim")),
        ("complete", manifest.get("complete")),
    ]
    return ["## Run\n", *(f"- {k}: {v}" for k, v in facts if v is not None), ""]


def _backend_text(manifest: Mapping[str, Any]) -> str | None:
    """``loky (this machine)``, ``dask (tcp://10.0.0.5:8786)``: where the replications ran
    (``None`` when the manifest does not say)."""
    name, where = manifest.get("backend"), manifest.get("cluster")
    if name is None:
        return None
    return f"{name} ({where})" if where else str(name)


def _md_figures(out_dir: Path, figures: Sequence[Path] | None) -> list[str]:
    """The "Figures" section (links relative to ``out_dir``); [] when there are no figures."""
    if figures is None:
        order = ("gap_curve", "time_to_close", "site_trajectories")  # sim.plots.FIGURE_NAMES
        figures = sorted(
            (out_dir / "figures").glob("*.png"),
            key=lambda f: (order.index(f.stem) if f.stem in order else len(order), f.name),
        )
    if not figures:
        return []
    parts = ["## Figures\n"]
    for f in figures:
        rel = _relative(Path(f), out_dir)
        parts.append(f"![{Path(f).stem.replace('_', ' ')}]({rel})\n")
    return parts


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _wall_time(seconds: Any) -> str | None:
    if seconds is None:
        return None
    s = float(seconds)
    if s < 120:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"
