"""docs/outputs.md: every column of the results tables with its unit and definition, from code.

The run metrics (``runs.parquet``) take their unit and definition from
:data:`sim.report.METRICS`, the same entries that label and format them in reports; the monthly
series follow :data:`sim.series.SERIES_COLUMNS` (a column without an entry in
:data:`SERIES_DOCS`, or an entry without a column, raises); the identifiers, censoring flags and
the per-site tables are described here. ``tests/test_outputs_doc.py`` runs small experiments
and checks that the documented columns are exactly the produced ones, table by table.

Command line::

    python3 -m sim.outputs_doc            # rewrite docs/outputs.md
    python3 -m sim.outputs_doc --check    # exit 1 if docs/outputs.md is stale (or missing)

The whole file is generated (there is nothing hand-written to keep) and replaced atomically.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.experiment import MEMORY_REPS
from sim.odd import write_atomic
from sim.report import CLINICIANS_SHARE, GAP_UNIT, METRICS, RATE_UNIT
from sim.series import SERIES_COLUMNS

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"
HEADER = ("column", "unit", "definition")
ADHERENCE = "adherence (0-1)"
SCALE = "0-1 scale"
NO_CONTROL = "; nan without a control arm"


@dataclass(frozen=True)
class Column:
    """One documented column: its name, unit and one-line definition."""

    name: str
    unit: str
    definition: str


@dataclass(frozen=True)
class Table:
    """One results table: its file, what a row is, its columns and a note on reading it."""

    key: str
    file: str
    rows: str
    columns: tuple[Column, ...]
    note: str = ""


# ------------------------------------------------------------------ identifiers

DESIGN = Column("design", "text", "Design name (usually the scenario's name)")
DESIGN_INDEX = Column("design_index", "integer", "Position of the design in the experiment, from 0")
REPLICATION = Column("replication", "integer", "Replication index, from 0 (or --first-replication)")
MONTH = Column(
    "month", "month index", "Simulated month, from 0 at the first month (baseline months included)"
)
SITE = Column("site", "integer", "Site index within the run, from 0 (programme-arm sites first)")
ARM = Column("arm", "text", "`programme` or `control` (the site's arm)")
PERIPHERAL = Column(
    "peripheral",
    "true/false",
    "Site is peripheral (drawn at initialisation, sites.peripheral_share)",
)

RUNS_IDS: tuple[Column, ...] = (
    DESIGN,
    DESIGN_INDEX,
    REPLICATION,
    Column(
        "seed",
        "integer (63-bit label)",
        "Identifies the replication's random streams (root seed, design key, replication); "
        "the manifest's root seed and the replication index reproduce the run",
    ),
)

CENSOR_FLAGS: dict[str, Column] = {
    "t50_months": Column(
        "t50_censored",
        "true/false",
        "True if the true gap never fell to 0.5 by the horizon (t50_months is then nan: "
        "right-censored, not missing)",
    ),
    "t90_months": Column(
        "t90_censored",
        "true/false",
        "True if the true gap never fell to 0.1 by the horizon (t90_months is then nan: "
        "right-censored, not missing)",
    ),
}
"""The censoring flag written right after each time to close in ``runs.parquet``."""

# ------------------------------------------------------------------ monthly series

SERIES_IDS: tuple[Column, ...] = (
    DESIGN,
    DESIGN_INDEX,
    REPLICATION,
    MONTH,
    Column(
        "month_in_programme",
        "months",
        "month minus the programme's first month: negative in the baseline, 0 in the first "
        "programme month",
    ),
    Column("phase", "text", "`baseline`, `programme` (support runs) or `followup`"),
)

SERIES_DOCS: dict[str, tuple[str, str]] = {
    "gap_true": (
        GAP_UNIT,
        "(target - A) / (target - A at programme start), A = patient-weighted true adherence of "
        "all programme-arm sites (intention to treat); in baseline months measured against "
        "challenge.baseline_adherence",
    ),
    "gap_reported": (
        GAP_UNIT,
        "Same with reported adherence (latest report, carried between report months) and the "
        "same denominator; nan after support ends (no data collected)",
    ),
    "adherence_true": (
        ADHERENCE,
        "Patient-weighted mean true adherence of the programme-arm sites",
    ),
    "adherence_reported": (
        ADHERENCE,
        "Patient-weighted mean reported adherence (latest reports) of the programme-arm sites; "
        "nan after support ends",
    ),
    "share_compliant": (
        CLINICIANS_SHARE,
        "Programme-arm clinicians who follow the practice under pressure only (compliant)",
    ),
    "share_internalised": (
        CLINICIANS_SHARE,
        "Programme-arm clinicians who have internalised the practice",
    ),
    "conflict": (SCALE, "Patient-weighted mean site conflict, programme arm"),
    "belonging": (SCALE, "Patient-weighted mean site belonging to the community, programme arm"),
    "engagement": (
        SCALE,
        "Patient-weighted mean engagement of the programme-arm sites that have joined; nan "
        "before any has joined",
    ),
    "routinisation": (SCALE, "Patient-weighted mean site routinisation, programme arm"),
    "active_sites": ("count of sites", "Programme-arm sites joined and not dropped out"),
    "dropped_sites": ("count of sites", "Programme-arm sites dropped out so far (cumulative)"),
    "hard": (SCALE, "Core team's hard-tactic intensity this month (revised at reviews)"),
    "soft": (SCALE, "Core team's soft-tactic intensity this month (revised at reviews)"),
    "gaming_gap": (
        "adherence points (pp)",
        "Patient-weighted reported minus true adherence of the sites reporting this month; nan "
        "in months without reports",
    ),
    "event_rate": (RATE_UNIT, "Programme-arm expected events per 1000 patient-days this month"),
    "events": ("count of events", "Programme-arm events this month (Poisson draw)"),
    "expected_events": ("events (expected count)", "Programme-arm expected events this month"),
    "patient_days": ("patient-days", "Programme-arm patient-days this month"),
    "spend": (
        "currency",
        "Programme spend this month (core team plus budget per active site; 0 outside the "
        "programme phase)",
    ),
    "cost_cumulative": ("currency", "Programme spend summed from the first month to this one"),
    "adherence_control": (
        ADHERENCE,
        "Patient-weighted mean true adherence of the control sites" + NO_CONTROL,
    ),
    "event_rate_control": (
        RATE_UNIT,
        "Control-arm expected events per 1000 patient-days this month" + NO_CONTROL,
    ),
    "events_control": (
        "count of events",
        "Control-arm events this month (Poisson draw)" + NO_CONTROL,
    ),
    "expected_events_control": (
        "events (expected count)",
        "Control-arm expected events this month" + NO_CONTROL,
    ),
    "patient_days_control": (
        "patient-days",
        "Control-arm patient-days this month" + NO_CONTROL,
    ),
}
"""Unit and definition of every column of :data:`sim.series.SERIES_COLUMNS`."""

# ------------------------------------------------------------------ per-site tables

SITES_COLUMNS: tuple[Column, ...] = (
    DESIGN,
    DESIGN_INDEX,
    REPLICATION,
    SITE,
    ARM,
    Column("size", "count of clinicians", "Clinicians at the site"),
    PERIPHERAL,
    Column("readiness", SCALE, "Site readiness, drawn at initialisation"),
    Column("leadership", SCALE, "Site leadership, drawn at initialisation"),
    Column("fit", SCALE, "Fit of the practice to the site, drawn at initialisation"),
    Column(
        "join_month",
        "month index",
        "Simulated month the site joins (same clock as `month`); -1 = never (control sites)",
    ),
    Column("dropped", "true/false", "Site had dropped out by the horizon"),
    Column("adherence_start", ADHERENCE, "True adherence at programme start"),
    Column("adherence_programme_end", ADHERENCE, "True adherence in the last programme month"),
    Column("adherence_final", ADHERENCE, "True adherence in the last simulated month"),
    Column(
        "reported_final",
        ADHERENCE,
        "Latest reported adherence at the horizon (challenge.baseline_adherence if the site "
        "never reported, e.g. control sites)",
    ),
    Column(
        "gap_closed",
        "share of own gap (1 = closed), can be negative",
        "(adherence_programme_end - adherence_start) / (target - adherence_start)",
    ),
    Column(
        "site_class",
        "text",
        "`transformed` (gap_closed >= 0.6), `boosted` (>= 0.2), `little change`, or `control`",
    ),
    Column("conflict_final", SCALE, "Site conflict at the horizon"),
    Column("belonging_final", SCALE, "Site belonging at the horizon"),
    Column("routinisation_final", SCALE, "Site routinisation at the horizon"),
    Column(
        "base_event_rate",
        RATE_UNIT,
        "The site's own baseline event rate, drawn at initialisation",
    ),
    Column("events_total", "count of events", "Events at the site over the whole run (Poisson)"),
    Column(
        "expected_events_total",
        "events (expected count)",
        "Expected events at the site over the whole run",
    ),
)

SITE_SERIES_COLUMNS: tuple[Column, ...] = (
    DESIGN,
    REPLICATION,
    MONTH,
    SITE,
    Column("adherence", ADHERENCE, "The site's true adherence this month"),
    PERIPHERAL,
    ARM,
)

# ------------------------------------------------------------------ derived elsewhere

ELSEWHERE: tuple[tuple[Column, str], ...] = (
    (
        Column(
            "t50_restricted_months",
            "months",
            "t50_months, a censored run counting as window_months (never nan)",
        ),
        "sweep runs (`ccsim sweep`), `sim.run`",
    ),
    (
        Column(
            "t90_restricted_months",
            "months",
            "t90_months, a censored run counting as window_months (never nan)",
        ),
        "sweep runs (`ccsim sweep`), `sim.run`",
    ),
    (
        Column(
            "window_months",
            "months",
            "Months observed after programme start (programme + follow-up)",
        ),
        "sweep runs (`ccsim sweep`), `sim.run`",
    ),
    *(
        (
            Column(
                f"{level}_reached",
                "true/false",
                f"{level.upper()} reached within the comparison's common window tau",
            ),
            "`ccsim compare` (in memory; `comparison.parquet` counts the runs not reached)",
        )
        for level in ("t50", "t90")
    ),
)
"""Columns that other commands derive from these tables; never in the four tables."""


def runs_columns() -> tuple[Column, ...]:
    """``runs.parquet``: identifiers, then every metric of :data:`METRICS` (in its order), each
    time to close followed by its censoring flag."""
    out = list(RUNS_IDS)
    for name, info in METRICS.items():
        out.append(Column(name, info.unit, info.definition))
        if name in CENSOR_FLAGS:
            out.append(CENSOR_FLAGS[name])
    return tuple(out)


def series_columns() -> tuple[Column, ...]:
    """Monthly series: identifiers, then :data:`SERIES_COLUMNS` in order.

    Raises:
        ValueError: a series column has no entry in :data:`SERIES_DOCS`, or an entry names no
            series column.
    """
    missing = [c for c in SERIES_COLUMNS if c not in SERIES_DOCS]
    stale = [c for c in SERIES_DOCS if c not in SERIES_COLUMNS]
    if missing or stale:
        raise ValueError(
            f"SERIES_DOCS out of step with SERIES_COLUMNS: undocumented {missing}, stale {stale}"
        )
    return SERIES_IDS + tuple(Column(c, *SERIES_DOCS[c]) for c in SERIES_COLUMNS)


def tables() -> tuple[Table, ...]:
    """The four results tables, in the order of the results folder."""
    return (
        Table(
            "runs",
            "runs.parquet",
            "one row per (design, replication)",
            runs_columns(),
            "Outcome metrics of each replication (`sim.metrics.run_metrics`).",
        ),
        Table(
            "series",
            "series/part-*.parquet",
            "one row per (design, replication, month)",
            series_columns(),
            "Monthly series (`sim.series.SERIES_COLUMNS`), every replication on disk; "
            f"`result.series` in Python holds the first {MEMORY_REPS} replications of each design "
            "when the run has a results folder.",
        ),
        Table(
            "sites",
            "sites.parquet",
            "one row per (design, replication, site)",
            SITES_COLUMNS,
            "Each site's attributes and final state (`sim.replicate.site_finals`), control "
            "sites included.",
        ),
        Table(
            "site_series",
            "site_series.parquet",
            "one row per (design, month, site) of replication 0",
            SITE_SERIES_COLUMNS,
            "Monthly adherence of every site, replication 0 of each design only (no file when "
            "a run starts at `--first-replication` > 0).",
        ),
    )


def _cell(text: str) -> str:
    """Text made safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "\\|").split())


def markdown_table(columns: Sequence[Column]) -> str:
    """A Markdown table ``column | unit | definition``, one row per column."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += [f"| `{c.name}` | {_cell(c.unit)} | {_cell(c.definition)} |" for c in columns]
    return "\n".join(lines)


INTRO = """\
# Output columns

_Generated by `python3 -m sim.outputs_doc` from `sim.report.METRICS`, `sim.series.SERIES_COLUMNS`
and `sim/outputs_doc.py`; do not edit by hand (`python3 -m sim.outputs_doc --check` fails when
this file is stale)._

Every column of the tables `ccsim run` (and `run_experiment`) writes to a results folder, with
its unit and definition. How to open them from pandas, polars, R or duckdb: see the
[README](../README.md#a-5-minute-tour). The model behind them: [ODD.md section 4,
Observation](ODD.md#4-design-concepts).

## How to read these tables

* **Clock.** `month` counts simulated months from 0, baseline included; `month_in_programme`
  counts from the programme's first month. Windows "after implementation" start
  `time.implementation_months` after programme start (Keystone's convention). The *horizon* is
  the last simulated month (end of follow-up).
* **Arms.** Aggregates are over the programme arm, patient-weighted over every site assigned to
  it, joined or not, dropped out or not (intention to treat). The `*_control` series and the
  control/net metrics describe the control arm (`control.n_sites > 0`, e.g. `matching_michigan`).
* **Gap.** 1 = nothing closed since programme start, 0 = target reached; below 0 is beyond the
  target, above 1 worse than at the start.
* **Missing values.** Every column is always written, whatever the scenario; a value that does
  not apply is `nan`: the control arm without control sites, a follow-up gap beyond the
  follow-up, an IRR window past the horizon, reported data after support ends. Each definition
  says when.
* **Censoring.** A run whose gap never falls to 0.5 (0.1) by the horizon has `t50_months`
  (`t90_months`) `nan` and `t50_censored` (`t90_censored`) true: the time is right-censored,
  longer than the run, not unknown. Never drop or zero these runs. `ccsim run` summaries count
  them as later than anything observed (a percentile among them prints as `> horizon`);
  `ccsim compare` and sweeps use *restricted* times `min(T, window)`, a censored run counting
  as the window, whose mean is the restricted mean time to close, beside Kaplan-Meier curves
  ([compare.md](compare.md), [sweeps.md](sweeps.md)).
"""


def render() -> str:
    """The whole of docs/outputs.md."""
    parts = [INTRO]
    for table in tables():
        parts.append(
            f"## `{table.file}`\n\n{table.rows[0].upper()}{table.rows[1:]}. {table.note}\n\n"
            f"{markdown_table(table.columns)}\n"
        )
    rows = ["| column | unit | definition | written by |", "|---|---|---|---|"]
    rows += [
        f"| `{c.name}` | {_cell(c.unit)} | {_cell(c.definition)} | {where} |"
        for c, where in ELSEWHERE
    ]
    parts.append(
        "## Columns derived elsewhere\n\n"
        "Not in the four tables above: other commands derive them from the run metrics.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check`` verify) docs/outputs.md.

    Returns:
        0 on success or an up-to-date file; 1 if ``--check`` finds it stale or missing.
    """
    parser = argparse.ArgumentParser(
        prog="python3 -m sim.outputs_doc",
        description="Generate docs/outputs.md (every output column, its unit and definition).",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file is stale; write nothing"
    )
    parser.add_argument(
        "--path", type=Path, default=DEFAULT_PATH, help="file (default: docs/outputs.md)"
    )
    args = parser.parse_args(argv)
    path: Path = args.path
    text = render()
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        print(f"{path}: output columns are up to date")
        return 0
    if args.check:
        state = "missing" if old is None else "stale"
        print(
            f"{path}: {state}; run `python3 -m sim.outputs_doc` to regenerate it", file=sys.stderr
        )
        return 1
    write_atomic(path, text)
    print(f"{path}: output columns written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
