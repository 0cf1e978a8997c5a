"""Files of a sweep and of a sensitivity analysis: figures, ``sweep.md``, ``sensitivity.md``.

:func:`summarise_sweep` and :func:`analyse_sensitivity` read a finished sweep folder (only the
columns they need, so they work for large sweeps), write their tables, figures and report, and
return what a notebook would want to look at. ``sensitivity.md`` holds every outcome analysed
in the folder (rebuilt from the ``sensitivity_<method>_<outcome>.parquet`` tables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.report_md import markdown_table
from sim.results import atomic_write_bytes, write_parquet
from sim.sweep import SweepError, SweepSpec, make_design, read_sweep
from sim.sweep.ranking import MIN_SAMPLES, reliability_problem, threshold_text, top_levers
from sim.sweep.sensitivity import (
    RESTRICTED,
    morris_indices,
    outcome_column,
    outcome_label,
    point_outcome,
    sobol_indices,
)
from sim.sweep.spec import MAX_POINTS


def _real(spec: SweepSpec) -> list[str]:
    return [p.key for p in spec.parameters if not p.dummy and p.low is not None]


def directions(runs: pd.DataFrame, spec: SweepSpec, outcome: str) -> pd.DataFrame:
    """Spearman correlation of each parameter with the point-mean outcome.

    Points where the outcome is undefined (``nan`` at every replication) are left out.

    Returns:
        ``parameter``, ``spearman`` (in [-1, 1]; ``nan`` when either column is constant) and
        ``direction`` (``increases``/``decreases``/``flat``: |rho| < 0.1; ``flat (outcome
        constant)``; ``undefined (outcome missing at every point)``; ``not estimable (one
        value)`` for a parameter that took one value where the outcome is defined).
    """
    col = outcome_column(outcome)
    means = runs.groupby("point").agg({col: "mean", **{k: "first" for k in spec.names}})
    means = means[means[col].notna()]
    rows = []
    for p in _real(spec):
        rho, word = float("nan"), "not estimable (one value)"
        if means.empty:
            word = "undefined (outcome missing at every point)"
        elif means[p].nunique() > 1 and means[col].nunique() <= 1:
            word = "flat (outcome constant)"
        elif means[p].nunique() > 1:  # a constant column has no correlation (nan), no warning
            rho = float(stats.spearmanr(means[p], means[col]).statistic)
            word = "flat" if not abs(rho) >= 0.1 else ("increases" if rho > 0 else "decreases")
        rows.append({"parameter": p, "spearman": rho, "direction": word})
    return pd.DataFrame(rows)


def text_levels(runs: pd.DataFrame, spec: SweepSpec, outcome: str) -> pd.DataFrame:
    """Mean outcome at each level of each text setting (no direction: its levels have no
    order), averaged over the points at that level (point means: over the other parameters
    and the replications); points where the outcome is undefined are left out.

    Returns:
        ``parameter``, ``level``, ``mean`` and ``points`` (points at that level with the
        outcome defined), one row per level, in the file's order; empty without text settings.
    """
    col = outcome_column(outcome)
    means = runs.groupby("point").agg({col: "mean", **{k: "first" for k in spec.names}})
    rows = []
    for p in spec.parameters:
        if p.dummy or p.low is not None or p.levels is None:
            continue
        for level in p.levels:
            at = means.loc[means[p.key] == level, col].dropna()
            mean = float(at.mean()) if len(at) else float("nan")
            rows.append({"parameter": p.key, "level": level, "mean": mean, "points": len(at)})
    return pd.DataFrame(rows, columns=["parameter", "level", "mean", "points"])


def summarise_sweep(
    spec: SweepSpec, out_dir: Path, outcome: str | Sequence[str], figures: bool = True
) -> str:
    """Write ``sweep.md`` and the figures (heatmap of the first two parameters, partial
    dependence of each) for one outcome or several (one section each); return the report of
    the outcomes asked for.

    ``sweep.md`` keeps a section for every outcome reported in the folder so far (those with a
    ``figures/partial_dependence_<outcome>.png``), after the ones asked for, as
    ``sensitivity.md`` does: a second command with another ``--outcome`` adds to the report
    instead of replacing it.
    """
    asked = [outcome] if isinstance(outcome, str) else outcome
    outcomes = list(dict.fromkeys(outcome_column(o) for o in asked))  # t50_months: restricted
    kept = spec.outcomes  # None: the sweep keeps every run metric
    earlier = [
        o
        for o in reported_outcomes(out_dir)
        if o not in outcomes and (kept is None or outcome_column(o) in kept)
    ]
    cols = [*spec.names, *(outcome_column(o) for o in [*outcomes, *earlier])]
    runs = read_sweep(out_dir, columns=list(dict.fromkeys(cols)))
    sections = [_sweep_section(spec, runs, o, out_dir, figures) for o in [*outcomes, *earlier]]
    body = "\n---\n\n".join(sections)
    atomic_write_bytes(Path(out_dir) / "sweep.md", body.encode("utf-8"))
    return "\n---\n\n".join(sections[: len(outcomes)])


def reported_outcomes(out_dir: Path) -> list[str]:
    """Outcomes an earlier ``ccsim sweep`` reported in ``out_dir`` (a partial-dependence
    figure each), sorted; ``t50_months`` (from before it was reported under its column name)
    is read as ``t50_restricted_months``."""
    prefix = "partial_dependence_"
    figures = (Path(out_dir) / "figures").glob(f"{prefix}*.png")
    return sorted({outcome_column(p.stem[len(prefix) :]) for p in figures})


def _sweep_section(
    spec: SweepSpec, runs: pd.DataFrame, outcome: str, out_dir: Path, figures: bool
) -> str:
    real = _real(spec)
    figs = []
    if figures and real:
        from sim import plots
        from sim.sweep.plots import heatmap, partial_dependence_lines

        figdir = Path(out_dir) / "figures"
        if len(real) >= 2:
            others = [p.key for p in spec.parameters if not p.dummy and p.key not in real[:2]]
            fig = heatmap(runs, real[0], real[1], outcome, others)
            figs.append(plots.save_figure(fig, figdir / f"heatmap_{outcome}.png"))
        fig = partial_dependence_lines(runs, real, outcome)
        figs.append(plots.save_figure(fig, figdir / f"partial_dependence_{outcome}.png"))
    dirs = directions(runs, spec, outcome)
    rows = [
        [r.parameter, "n/a" if np.isnan(r.spearman) else f"{r.spearman:+.2f}", r.direction]
        for r in dirs.itertuples()
    ]
    n_points = int(runs["point"].nunique())
    text = [
        f"# Sweep {spec.name}: {outcome_label(outcome)}\n",
        spec.description.strip() + "\n" if spec.description else "",
        f"- design: {spec.design}, {n_points} points x {spec.replications} replications "
        f"= {len(runs)} runs; base `{Path(spec.base).name}`; seed {spec.seed}",
        "- every point runs replications 0..R-1 with the same seeds (common random numbers "
        "across points), so differences between points do not come from different seeds",
        _restricted_note(outcome),
        "",
        f"## Direction of each parameter (Spearman, point means of {outcome})\n",
        markdown_table(["parameter", "Spearman rho", "outcome ... as it rises"], rows, "lrl"),
    ]
    levels = text_levels(runs, spec, outcome)
    if not levels.empty:
        text += [
            "",
            f"## Text settings (mean of {outcome} at each level, over the other parameters)\n",
            markdown_table(
                ["parameter", "level", "mean", "points"],
                [
                    [r.parameter, r.level, "n/a" if np.isnan(r.mean) else f"{r.mean:.4g}", r.points]
                    for r in levels.itertuples()
                ],
                "llrr",
            ),
        ]
    text += [f"![{f.stem}](figures/{f.name})\n" for f in figs]
    return "\n".join(t for t in text if t is not None)


def _restricted_note(outcome: str) -> str:
    """The note under a restricted time's section (``t50_months`` or its column name)."""
    if outcome in RESTRICTED or outcome in RESTRICTED.values():
        return (
            f"- {outcome} is a restricted time: a run that never got there counts as its "
            "horizon (programme + follow-up months), so no run is dropped"
        )
    return ""


@dataclass
class SensitivityResult:
    """Indices of one outcome, the sentence naming the top levers, and why they are not
    ranked (``problem``, empty when the estimates are good enough to rank)."""

    method: str
    outcome: str
    indices: pd.DataFrame
    summary: str
    figure: Path | None
    problem: str = ""


def sensitivity_spec(spec: SweepSpec, method: str, samples: int | None = None) -> SweepSpec:
    """The sweep to run for ``method``: the file's parameters and ranges with that design.

    Raises:
        SweepError: if every parameter is a dummy (nothing to rank), a parameter has no
            range, or Sobol's N is not a power of two (the balance of Sobol' points, and so
            SALib's estimators, need it).
    """
    if all(p.dummy for p in spec.parameters):
        raise SweepError(
            f"{spec.source}: every parameter is a dummy, so there is no lever to rank; a "
            'sensitivity analysis needs at least one [parameters."<key>"] table without '
            "dummy = true"
        )
    out = dataclasses.replace(spec, design=method, samples=samples or spec.samples)
    out.problem()
    n = out.samples
    if n > MAX_POINTS:  # as the file's samples: a larger sample would not fit in memory
        raise SweepError(f"--samples {n}: must be in [1, {MAX_POINTS}]")
    if method == "sobol" and n & (n - 1):
        raise SweepError(f"Sobol needs samples = a power of 2, got {n}; try {1 << n.bit_length()}")
    return out


def _dummies(spec: SweepSpec) -> list[str]:
    return [p.key for p in spec.parameters if p.dummy]


def table_name(method: str, outcome: str) -> str:
    """Stem of one outcome's indices table and bar chart: ``sensitivity_<method>_<outcome>``."""
    return f"sensitivity_{method}_{outcome}"


def analyse_sensitivity(
    spec: SweepSpec, out_dir: Path, outcome: str, figures: bool = True
) -> SensitivityResult:
    """Sobol or Morris indices of ``outcome`` from a finished sweep folder (``spec.design``).

    Writes ``sensitivity_<method>_<outcome>.parquet`` and a bar chart, and rewrites
    ``sensitivity.md`` with a section for every outcome analysed in the folder so far (this
    one first), so analysing a second outcome keeps the first one's report.

    ``outcome`` ``t50_months`` / ``t90_months`` is analysed, saved and reported as its
    restricted column (``t50_restricted_months``, ...), so asking for either name writes one
    table.

    Raises:
        ValueError: if the sweep is unfinished or the outcome is undefined at some point.
    """
    outcome = outcome_column(outcome)
    method = spec.design
    X = make_design(spec)
    runs = read_sweep(out_dir, columns=[outcome_column(outcome)])
    Y = point_outcome(runs, outcome, len(X))
    problem = spec.problem()
    if method == "sobol":
        indices = sobol_indices(problem, Y)
    else:
        indices = morris_indices(problem, X, Y, spec.morris_levels)
    dummy = _dummies(spec)
    summary = top_levers(indices, method, dummy, samples=spec.samples)
    name = table_name(method, outcome)
    write_parquet(indices, Path(out_dir) / f"{name}.parquet")
    fig_path = None
    if figures:
        from sim import plots
        from sim.sweep.plots import indices_bars

        fig_path = plots.save_figure(
            indices_bars(indices, method, outcome), Path(out_dir) / "figures" / f"{name}.png"
        )
    write_sensitivity_report(spec, out_dir, first=[outcome], n_points=len(X))
    problem_text = reliability_problem(indices, method, spec.samples, dummy)
    return SensitivityResult(method, outcome, indices, summary, fig_path, problem_text)


def analysed_outcomes(spec: SweepSpec, out_dir: Path) -> list[str]:
    """Outcomes with an indices table (``sensitivity_<method>_<outcome>.parquet``) in the
    folder, sorted."""
    prefix = table_name(spec.design, "")
    stems = sorted(p.stem[len(prefix) :] for p in Path(out_dir).glob(f"{prefix}*.parquet"))
    # a t50_months table from before t50_months was saved under its column name: once only
    return [o for o in stems if not (o in RESTRICTED and RESTRICTED[o] in stems)]


def write_sensitivity_report(
    spec: SweepSpec, out_dir: Path, first: Sequence[str] = (), n_points: int | None = None
) -> Path:
    """Write ``sensitivity.md``: one section per outcome analysed in the folder (``first``
    in that order, then the others sorted), each with its sentence, table and bar chart.

    Returns:
        The report's path.
    """
    out_dir = Path(out_dir)
    method = spec.design
    n_points = n_points if n_points is not None else len(make_design(spec))
    how = (
        f"Saltelli sample (SALib), N = {spec.samples}, first and total order, "
        "95% CIs by bootstrap (200 resamples)"
        if method == "sobol"
        else f"Morris, {spec.samples} trajectories on a {spec.morris_levels}-level grid"
    )
    outcomes = list(dict.fromkeys([*first, *analysed_outcomes(spec, out_dir)]))
    text = [
        f"# Sensitivity ({method}): {spec.name}\n",
        f"Outcomes: {', '.join(f'`{o}`' for o in outcomes)}.\n",
        f"- {how}; {n_points} points x {spec.replications} replications, outcome = mean "
        "over a point's replications (common random numbers across points)",
        "- a dummy parameter, if present, is a sample column the model never reads; with common "
        "random numbers its index is exactly 0, which checks that the columns line up but is no "
        "noise floor: each lever is judged by its own 95% CI (does it reach 0?) and against "
        f"the negligible threshold ({threshold_text(method)})",
        "- levers are ranked only when the 95% CIs are narrower than the largest index and "
        f"the sample is at least N = {MIN_SAMPLES['sobol']} (Sobol) or r = "
        f"{MIN_SAMPLES['morris']} trajectories (Morris)",
        "",
    ]
    for outcome in outcomes:
        text += _outcome_section(spec, out_dir, outcome)
    path = out_dir / "sensitivity.md"
    atomic_write_bytes(path, ("\n".join(text).rstrip("\n") + "\n").encode("utf-8"))
    return path


def _outcome_section(spec: SweepSpec, out_dir: Path, outcome: str) -> list[str]:
    method = spec.design
    name = table_name(method, outcome)
    dummy = _dummies(spec)
    try:
        indices = pd.read_parquet(out_dir / f"{name}.parquet")
        summary = top_levers(indices, method, dummy, samples=spec.samples)
        problem = reliability_problem(indices, method, spec.samples, dummy)
    except (OSError, ValueError, KeyError) as exc:  # a damaged table must not cost the others
        return [
            f"## {outcome_label(outcome)} (`{outcome}`)\n",
            f"`{name}.parquet` cannot be read ({exc}); run the command with "
            f"`--outcome {outcome}` again to recompute it.\n",
        ]
    cols = [c for c in indices.columns if c != "parameter"]
    rows = [[r[0], *(f"{v:.3f}" for v in r[1:])] for r in indices.itertuples(index=False)]
    text = [f"## {outcome_label(outcome)} (`{outcome}`)\n"]
    # too uncertain: the sentence says why nothing is ranked, as a warning
    text.append(f"**Warning:** {summary}\n" if problem else summary + "\n")
    if note := _restricted_note(outcome):
        text += [note, ""]
    text.append(markdown_table(["parameter", *cols], rows, "l" + "r" * len(cols)))
    fig = out_dir / "figures" / f"{name}.png"
    if fig.is_file():
        text.append(f"![{fig.stem}](figures/{fig.name})\n")
    return [t for t in text if t is not None]


def spearman_sign(values: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rho of two arrays (helper for tests and notebooks)."""
    return float(stats.spearmanr(values, outcome).statistic)
