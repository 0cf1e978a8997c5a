"""Plain-language text of the workshop app: captions, the status line and the band summaries.

One clock everywhere: months count from the programme start (``month 1`` = the first month of
support; baseline months are 0 and below), as on every chart's x axis. :func:`month_now` gives
the month the model has just simulated on that clock.

Captions are written in a small subset of Markdown (``**bold**``, ``*italic*``); :func:`to_html`
turns them into HTML, so the page needs no Markdown renderer (Solara's loads KaTeX from a CDN,
which fails offline). Nothing here imports Solara or matplotlib.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import numpy as np

from sim.app.levers import LEVERS, Lever, setting_text

if TYPE_CHECKING:
    from sim.app.model import AppModel, Band

GAP_CAPTION = (
    "**The gap** between what the evidence says and the care patients get. 100% = nothing "
    "closed yet, 0% = every site does what the evidence says. The solid line is the truth; the "
    "dashed line is what sites report, drawn while data are collected (the programme). When "
    "data are used to judge sites, reports drift above the truth (gaming: lesson 9). The shaded "
    "part is the programme; after it, support and reporting stop and the gap may reopen "
    "(sustainment)."
)
SITES_CAPTION = (
    "**Adherence by site**: each line is one site. Orange lines are peripheral sites (small, "
    "remote or low-status), blue lines central sites. Without inclusion effort peripheral sites "
    "get less attention and gain less from events, so they lag: the sites on the margin "
    "(lesson 7). Dotted lines are sites that dropped out. The title gives each group's mean."
)
CONFLICT_CAPTION = (
    "**Conflict and belonging** across the community (means over the programme sites, 0-1). "
    "Hard tactics raise conflict where people resist and belong little (lesson 8); conflict "
    "handling resolves it (lesson 7); community events build belonging (lesson 6). Falling "
    "engagement makes sites drop out. The title gives this month's values."
)
NETWORK_CAPTION = (
    "**The community**: each small ring is a site's clinicians, coloured by adoption state "
    "(grey not adopted, amber compliant: adopted under pressure, green internalised: owns the "
    "practice). Lines are the clinicians' working ties; spokes to the core team (centre) thicken "
    "as cross-site ties grow. Peripheral sites sit on the outer rim; a red cross marks a site "
    "that dropped out."
)
BAND_CAPTION = (
    "**Twenty runs, not one.** Chance matters: which clinicians leave, which sites are ready. "
    "The button runs 20 replications of the settings of the run shown (press Reset first after "
    "moving a lever). The line is the median, the dark band holds the middle half of the runs, "
    "the light band 18 of 20. Change a lever, press Reset, run again: the grey band is the "
    "previous settings, paired with the blue one when both use the same seed. Conflict is on a "
    "0-1 scale. *Peripheral lag*, in percentage points: how much more of its own gap a central "
    "site closed by programme end than a peripheral site (0 = the margin keeps pace)."
)
BAND_PLACEHOLDER = (
    "No band yet. Press **Run 20 replications** to run 20 replications of the settings shown "
    "(a few seconds) and draw their median and spread here."
)


def to_html(text: str) -> str:
    """``**bold**`` and ``*italic*`` of ``text`` as HTML, everything else escaped."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", out)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def month_now(model: AppModel) -> int:
    """The month just simulated, counted from the programme start (baseline months <= 0)."""
    return model.month - model.programme_start


def phase(model: AppModel) -> str:
    """``baseline``, ``programme`` or ``follow-up``: the phase of the month just simulated."""
    last = model.month - 1
    if last < model.programme_start:
        return "baseline"
    return "programme" if last < model.programme_end else "follow-up"


def settings_text(model: AppModel) -> str:
    """The levers of the running model in one line, by their sidebar labels, e.g. ``This run:
    Budget (currency per site-month) 1500 · Hard tactics (intensity 0-1) 0.4 · ...``."""
    parts = [setting_text(name, value) for name, value in model.levers.items()]
    return "This run: " + " · ".join([*parts, setting_text("seed", model.root_seed)]) + "."


def clock_note(model: AppModel) -> str:
    """How to read the months when the scenario has baseline months ('' when it has none)."""
    p = model.programme_start
    if p == 0:
        return ""
    return (
        f"Months count from the programme start (month 1 = the first month of support). The run "
        f"opens at month {-p}, before anything is simulated; the {p} baseline months are months "
        f"{1 - p} to 0 (0 and below), then the programme starts. The sidebar's Time counts every "
        f"simulated month from 0, so it runs {p} ahead."
    )


def reported_text(model: AppModel) -> str:
    """The reported gap of the latest report, and its month when it is not this month's."""
    n, d = model.month, model.recorder.data
    reports = np.flatnonzero(np.isfinite(d["gaming_gap"][:n]))
    if reports.size == 0:
        return "no report yet"
    last = int(reports[-1])
    text = f"reported gap {_pct(d['gap_reported'][last])}"
    if last != n - 1:
        text += f" (last report, month {last - model.programme_start + 1})"
    return text


def status_text(model: AppModel) -> str:
    """One line of plain-language numbers for the current month (also read by the browser test).

    Example: ``Month 3 of 48 (programme) · true gap 78% · reported gap 74% · 20 of 20 sites
    active, 0 dropped out · adopters: 21% compliant, 3% internalised``.
    """
    n = model.month
    s, prog = model.sites, model.prog_mask
    total = int(prog.sum())
    head = f"Month {month_now(model)} of {model.horizon - model.programme_start}"
    if n == 0:
        return (
            f"{head} · {total} sites, {model.clinicians.site.size} clinicians · press Step or ▶ "
            "to start"
        )
    d = model.recorder.data
    return (
        f"{head} ({phase(model)}) · true gap {_pct(d['gap_true'][n - 1])} · "
        f"{reported_text(model)} · {int((s.active & prog).sum())} of {total} sites active, "
        f"{int((s.dropped & prog).sum())} dropped out · adopters: "
        f"{_pct(d['share_compliant'][n - 1])} compliant, "
        f"{_pct(d['share_internalised'][n - 1])} internalised"
    )


def pending_text(changes: list[str]) -> str:
    """The 'changes pending' hint for the sidebar changes not yet applied ('' when none)."""
    if not changes:
        return ""
    return (
        f"Changes pending: {', '.join(changes)}. Press Reset to apply them; until then Step, ▶ "
        "and the Run buttons use the settings of the run shown."
    )


def band_text(band: Band) -> str:
    """Plain-language summary of a band: gap at programme end, T50, conflict, margin, drop-outs."""
    lo, med, hi = np.quantile(band.gap_end, [0.05, 0.5, 0.95])
    reached = np.isfinite(band.t50)
    t50 = (
        f"half the gap closed after a median of {np.median(band.t50[reached]):.0f} months "
        f"({reached.sum()} of {band.t50.size} runs got there)"
        if reached.any()
        else f"half the gap never closed in {band.t50.size} runs"
    )
    parts = [
        f"{band.label}: gap at programme end {_pct(med)} (90% of runs between {_pct(lo)} and "
        f"{_pct(hi)})",
        t50,
        f"mean conflict during the programme {np.median(band.conflict):.2f} on a 0-1 scale "
        "(median)",
    ]
    lag = band.peripheral_lag
    if lag is not None and np.isfinite(lag).any():
        parts.append(f"peripheral lag {100 * np.nanmedian(lag):.0f} percentage points (median)")
    parts.append(
        f"drop-outs per run {np.median(band.dropouts):.0f} (max {int(band.dropouts.max())})"
    )
    return "; ".join(parts) + "."


def pairing_text(current: Band | None, previous: Band | None) -> str:
    """Whether the blue and grey bands are paired (same seed) or not ('' with fewer than two)."""
    if current is None or previous is None:
        return ""
    if current.seed == previous.seed:
        return f"Both bands use seed {current.seed}: paired runs, so the difference is the levers."
    return (
        f"Not paired: the blue band uses seed {current.seed}, the grey band seed "
        f"{previous.seed}, so part of the difference between them is chance."
    )


def funding_end_label(model: AppModel) -> str:
    """The label of the button that runs the live model to the end of funding."""
    return f"Run to end of funding (month {model.programme_end - model.programme_start})"


def how_to_text(model: AppModel, levers_tab: str) -> str:
    """How to use the page now; once the run has ended, that it has and how to start again."""
    last = model.horizon - model.programme_start
    if not model.running or model.month >= model.horizon:
        return (
            f"**The run has ended** at month {last}, the end of follow-up, so ▶ and Step are "
            "greyed out. Press **Reset** to start again (with the levers in the sidebar); "
            "*Run 20 replications* still works."
        )
    return (
        "**How to use:** move a lever in the sidebar, press **Reset** to rebuild the community "
        "with it, then **Step** (one month), **▶** (play; it runs on to the end of follow-up, "
        f"month {last}: press ❚❚ to pause) or **{funding_end_label(model)}**. The tab "
        f"*{levers_tab}* explains every lever and the lesson it stands for."
    )


LESSON_ONE = (
    "Lesson 1, *choose the right challenge*, is not a slider: the challenge (the practice, the "
    "strength of its evidence and how far care is from it) comes with the scenario the app "
    "runs, and every lever acts on that one gap. Discuss it before the levers; to try another "
    "challenge, start the app with another scenario (ccsim app SCENARIO)."
)
"""Why the levers cover lessons 2 to 10 (the app's lever tab and the guide's lever cards)."""


def lever_range(lever: Lever) -> str:
    """A lever's choices in words: ``0 to 5000 in steps of 50`` or ``learning / judgement``."""
    if lever.kind == "Select":
        return " / ".join(lever.values)
    return f"{lever.lo:g} to {lever.hi:g} in steps of {lever.step:g}"


def lever_cards_markdown() -> str:
    """The lever cards of ``docs/workshop.md``: one table row per lever, then lesson 1."""
    rows = ["| lever (sidebar label) | what it means | lesson | range |", "|---|---|---|---|"]
    rows += [
        f"| {lever.label} | {lever.meaning} | {lever.lesson} | {lever_range(lever)} |"
        for lever in LEVERS
    ]
    return "\n".join([*rows, "", LESSON_ONE])
