"""Plain-text summary of a calibration for the terminal."""

from __future__ import annotations

import numpy as np

from sim.calibration import CalibrationResult
from sim.calibration.data import AdoptionData
from sim.calibration.store import null_summary
from sim.calibration.verdict import fit_check

P_FLOOR = 2e-8
"""A push ``p`` at or below this is printed as 0 (the optimiser's lower bound is 1e-8)."""


def _num(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.4g}"


def _p(x: float) -> str:
    return "< 0.001" if x < 0.001 else f"= {x:.3f}"


def summary_text(res: CalibrationResult, data: AdoptionData) -> str:
    """Multi-line summary: data, estimates with 95% intervals, test of q = 0, model comparison
    (and a note when it prefers another variant, with the flag to use), per-group curve checks
    with a legend and a warning on groups the fitted model does not reproduce
    (:mod:`sim.calibration.verdict`), and the permutation test.

    Args:
        res: Result of :func:`sim.calibration.calibrate`.
        data: The data it was fitted to.
    """
    check = fit_check(res, data)
    lines = [_data_line(data)]
    empty = empty_periods_warning(data)
    if empty:
        lines.append(f"warning: {empty}")
    lines += _estimate_lines(res)
    if data.network is None:
        lines.append(NO_NETWORK_NOTE)
    lines += _comparison_lines(res)
    if check["aic_preference"]:
        lines.append(f"note: {check['aic_preference']}")
    lines += _target_lines(res, check)
    lines.append(f"fit check: {check['verdict']}")
    if check["warning"]:
        lines.append(f"warning: {check['warning']}")
    if check["note"]:
        lines.append(f"note: {check['note']}")
    exposure = _exposure_line(res.permutation, data)
    if exposure:
        lines.append(exposure)
    lines.append("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in res.timings_s.items()))
    return "\n".join(lines)


def _exposure_line(perm: dict, data: AdoptionData) -> str:
    """The permutation test of exposure at adoption in one line (``""`` if not run): the mean
    and ``r(time, exposure)``, each with its null mean, 95% range and p-value."""
    if data.network is None:
        return (
            "exposure at adoption: not tested without a network (every within-group "
            "permutation gives the same exposures)"
        )
    if not perm:
        return ""
    if not perm.get("testable", True):
        return f"exposure at adoption: not testable: {perm['reason']} (no p-value)"
    null = null_summary(perm["null_mean"], "null")
    r_text = f"r(time, exposure) not testable: {perm.get('r_reason')} (no p-value)"
    if perm.get("r_testable", True):
        r_null = null_summary(perm["null_r"], "null")
        r_text = (
            f"r(time, exposure) {perm['observed_r']:.3f}, null {r_null['null_mean']:.3f} "
            f"({r_null['null_q025']:.3f}-{r_null['null_q975']:.3f}), p {_p(perm['p_r'])}"
        )
    return (
        f"exposure at adoption (n = {perm['n_adopters_with_contacts']}): observed mean "
        f"{perm['observed_mean']:.3f}, within-group permutation null "
        f"{null['null_mean']:.3f} ({null['null_q025']:.3f}-{null['null_q975']:.3f}), "
        f"p {_p(perm['p_mean'])}; {r_text}"
    )


NO_NETWORK_NOTE = (
    "note: no network, so q is the Bass imitation term within each group: it takes up any rise "
    "of the hazard as the group adopts, a push that grows over time included; give an EDGES "
    "file to test influence along ties"
)
"""Said under the test of ``q = 0`` when exposure is the share of the rest of the group."""


EMPTY_RUN = 12
"""Periods without any adoption, in a row, that make :func:`empty_periods_warning` speak (when
they are also at least half of the observed periods)."""


def empty_periods_warning(data: AdoptionData) -> str:
    """A warning when a long run of observed periods has no adoption at all (``""`` if not).

    Such a run usually means a code was taken for a time: a never-adopted code far above the
    real times (``99`` with adoptions up to 10) makes periods 11-98 observed and empty, and a
    code read as an adoption time (``--censored-at none``) leaves the same hole before it.
    Fires for a run of at least :data:`EMPTY_RUN` periods that is also at least half of all
    observed periods.
    """
    t = data.n_periods
    counts = np.bincount(data.period[data.adopted], minlength=t + 1)[1 : t + 1]
    best, start, run_start = 0, 0, None
    for i, c in enumerate(np.append(counts, 1)):  # the sentinel closes a run at the end
        if c == 0 and run_start is None:
            run_start = i
        elif c > 0 and run_start is not None:
            if i - run_start > best:
                best, start = i - run_start, run_start
            run_start = None
    if best < max(EMPTY_RUN, t / 2):
        return ""
    first, last = start + 1, start + best  # periods, 1-based
    return (
        f"no one adopts in periods {first}-{last} of {t} (times "
        f"{_span(first + data.start - 1, last + data.start - 1)}): {_gap_hint(data, first, last)}"
    )


def _span(a: float, b: float) -> str:
    """``"11-98"``, or ``"-98 to 0"`` when a minus sign would make the dash ambiguous."""
    return f"{a:g}-{b:g}" if min(a, b) >= 0 else f"{a:g} to {b:g}"


def _gap_hint(data: AdoptionData, first: int, last: int) -> str:
    """The likely code behind a run of empty periods ``first..last``: a never-adopted code
    above the real times (the run reaches the end, or only the last period follows it), or a
    code for a missing time below them (only the first period precedes it)."""
    t, to_time = data.n_periods, data.start - 1  # period k is time k + to_time
    if last == t:
        return (
            "if the never-adopted code only marks people who did not adopt, give the end of "
            f"observation instead (--censored-at {first + to_time:g})"
        )
    if first == 2 and last < t - 1:
        held = int((data.period == 1).sum())
        return (
            f"if time {data.start:g} ({held} {'person' if held == 1 else 'people'}) is a code, "
            "e.g. for an unknown time, those people are not early adopters: drop them or "
            "correct their time"
        )
    return (
        f"if time {last + 1 + to_time:g} is a code for 'never adopted', use --censored-at "
        f"{last + 1 + to_time:g}"
    )


def _data_line(data: AdoptionData) -> str:
    adopters = int(data.adopted.sum())
    last = data.start + data.n_periods - 1
    head = (
        f"data: {data.n} people in {data.n_groups} group{'s' if data.n_groups != 1 else ''}, "
        f"{adopters} adopters, {data.n_periods} periods (times {_span(data.start, last)}; "
        f"{data.n - adopters} censored: not adopted by the end)"
    )
    if data.network is None:
        return head + "; no network: exposure = share of the rest of the group"
    rep = data.report
    filtered = sum(v for k, v in rep.items() if k.startswith("dropped_by_filter"))
    return (
        f"{head}; network {rep.get('arcs', data.network.nnz)} arcs from "
        f"{rep.get('edges_read', 0)} ties (dropped: {filtered} by filters, "
        f"{rep.get('dropped_unknown_from_id', 0) + rep.get('dropped_unknown_to_id', 0)} naming "
        f"unknown ids, {rep.get('dropped_self_loops', 0)} self-loops, "
        f"{rep.get('dropped_duplicates', 0)} repeats)"
    )


def _estimate_lines(res: CalibrationResult) -> list[str]:
    fit = res.fit
    spec = fit.spec
    lines = [
        f"model: {spec.contagion} contagion, {'per-group' if spec.per_group_p else 'shared'} p"
        + (", never-adopter share" if spec.never_adopters else "")
        + (f", onset per group (0-{fit.onset_top} periods)" if spec.fit_onset else "")
        + f"; -log L = {fit.nll:.3f}, AIC = {fit.aic:.2f}",
        f"{'parameter':<22} {'estimate':>10} {'(se)':>9}  95% interval "
        f"({fit.interval_method or 'none'}); p, q: hazards per period",
    ]
    for row in fit.table().itertuples():
        if row.parameter.startswith("onset["):  # whole periods
            lines.append(
                f"{row.parameter:<22} {int(row.estimate):>10d} {'(-)':>9}  "
                f"{int(row.lower)} - {int(row.upper)}"
            )
            continue
        lower = 0.0 if row.lower <= P_FLOOR else row.lower  # p's floor is 1e-8, i.e. 0
        lines.append(
            f"{row.parameter:<22} {row.estimate:>10.4f} {'(' + _num(row.se) + ')':>9}  "
            f"{_num(lower)} - {_num(row.upper)}"
        )
    if spec.fit_onset:
        given = {
            "profile": "p, q given the onsets",
            "bootstrap": "the bootstrap refits re-fit the onsets",
        }.get(fit.interval_method, "no intervals for p, q")
        lines.append(f"(onsets: values within 1.92 of the best -log L; {given})")
    for group in fit.onsets_at_bound():
        lines.append(
            f"note: onset[{group}] is the largest searched ({fit.onset_top}): the data may "
            "want a later one; raise --max-onset"
        )
    pt = res.peer
    verdict = "distinguishable" if pt["p_value"] < 0.05 else "not distinguishable"
    lines.append(
        f"peer influence q vs 0: LR = {pt['lr']:.3f}, p {_p(pt['p_value'])} ({verdict} from 0)"
    )
    return lines


def _comparison_lines(res: CalibrationResult) -> list[str]:
    if res.comparison is None:
        return []
    lines = ["model comparison (AIC; lower is better):"]
    for c in res.comparison.itertuples():
        label = f"{'per-group' if c.per_group_p else 'shared'} p" + (
            " + never-adopters" if c.never_adopters else ""
        )
        note = getattr(c, "note", "")
        if isinstance(note, str) and note:  # not ranked: the data cannot identify it
            lines.append(f"  {label:<30} {note}")
            continue
        lines.append(
            f"  {label:<30} k={c.k}  -logL={c.nll:.3f}  AIC={c.aic:.2f}  q={c.q:.4f}  pi={c.pi:.3f}"
        )
    return lines


def legend(n_sims: int) -> str:
    """One line explaining the columns of the per-group table."""
    return (
        f"columns: sat = share adopted by the last period, t50 = first time with >= 50% adopted "
        f"(obs = observed, sim = median of {n_sims} simulated curves); max gap = largest "
        "|sim - obs| share, at time 'at'; sims<=0.10 = share of simulated curves within 0.10 of "
        "their own median in every period (low in small groups: there a gap over 0.10 can be "
        "chance); outside = periods with the observed share outside the simulated 95% band"
    )


def _target_lines(res: CalibrationResult, check: dict) -> list[str]:
    outside = {str(g["group"]): g["outside"] for g in check["groups"]}
    lines = [
        f"{'group':<16} {'n':>5} {'sat obs':>8} {'sat sim':>8} {'t50 obs':>8} {'t50 sim':>8} "
        f"{'max gap':>8} {'at':>4} {'sims<=0.10':>10} {'outside':>8}"
    ]
    for t in res.targets.itertuples():
        lines.append(
            f"{str(t.group)[:16]:<16} {t.n:>5} {t.obs_saturation:>8.3f} {t.sim_saturation:>8.3f} "
            f"{_num(t.obs_t50):>8} {_num(t.sim_t50):>8} {t.max_gap:>8.3f} {t.gap_time:>4g} "
            f"{t.share_sims_within_tol:>10.2f} {outside.get(str(t.group), 0):>8d}"
        )
    lines.append(legend(int(res.seeds["simulation"]["n_sims"])))
    return lines
