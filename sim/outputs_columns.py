"""The columns docs/outputs.md documents beside the run metrics: identifiers, censoring flags,
the monthly series' units and definitions, the per-site tables and derived columns.

Data only; :mod:`sim.outputs_doc` assembles and writes the document (the run metrics come from
:data:`sim.metric_info.METRICS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.metric_info import CLINICIANS_SHARE, GAP_UNIT, RATE_UNIT

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
