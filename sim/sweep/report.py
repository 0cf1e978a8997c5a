"""Files of a sweep and of a sensitivity analysis: figures, ``sweep.md``, ``sensitivity.md``.

:func:`summarise_sweep` and :func:`analyse_sensitivity` read a finished sweep folder (only the
columns they need, so they work for large sweeps), write their tables, figures and report, and
return what a notebook would want to look at. ``sensitivity.md`` holds every outcome analysed
in the folder (rebuilt from the ``sensitivity_<method>_<outcome>.parquet`` tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.report_md import markdown_table
from sim.results import atomic_write_bytes
from sim.sweep import SweepSpec, read_sweep
from sim.sweep.sensitivity import (
    outcome_column,
    outcome_label,
)
from sim.sweep.sensitivity_report import (  # noqa: F401 - re-exported: their home before
    SensitivityResult,
    analyse_sensitivity,
    analysed_outcomes,
    restricted_note,
    sensitivity_spec,
    table_name,
    write_sensitivity_report,
)
from sim.sweep.shape import NON_MONOTONE, Shape, lever_shape


def _real(spec: SweepSpec) -> list[str]:
    return [p.key for p in spec.parameters if not p.dummy and p.low is not None]


def directions(runs: pd.DataFrame, spec: SweepSpec, outcome: str) -> pd.DataFrame:
    """Spearman correlation of each parameter with the point-mean outcome, and a check that
    finds strong effects that are not monotone (which rho misses: a U shape has rho ~ 0).

    Points where the outcome is undefined (``nan`` at every replication) are left out.

    Returns:
        ``parameter``, ``spearman`` (in [-1, 1]; ``nan`` when either column is constant),
        ``eta`` (correlation ratio of the point means on the parameter's levels or bins, in
        [0, 1]: how much the levels explain, whatever the shape), ``level_range`` (largest
        minus smallest level mean, in the outcome's units) and ``direction``:
        ``non-monotone (peaked)``, ``non-monotone (U-shaped)`` or ``non-monotone (up and
        down)`` when the level means rise and fall by more than their noise
        (:func:`sim.sweep.shape.lever_shape`), else ``increases``/``decreases``/``flat``
        (|rho| < 0.1; ``flat by rho (shape not testable)`` when the lever has 3 or more levels
        but the shape cannot be tested: one replication, or one point per bin of a sample);
        ``flat (outcome constant)``; ``undefined (outcome missing at every point)``; ``not
        estimable (one value)`` for a parameter that took one value where the outcome is
        defined.
    """
    col = outcome_column(outcome)
    means = runs.groupby("point").agg({col: "mean", **{k: "first" for k in spec.names}})
    means = means[means[col].notna()]
    rows = []
    for p in _real(spec):
        rho, word = float("nan"), "not estimable (one value)"
        shape = Shape("", float("nan"), float("nan"), 0, 0)
        if means.empty:
            word = "undefined (outcome missing at every point)"
        elif means[p].nunique() > 1 and means[col].nunique() <= 1:
            word = "flat (outcome constant)"
        elif means[p].nunique() > 1:  # a constant column has no correlation (nan), no warning
            rho = float(stats.spearmanr(means[p], means[col]).statistic)
            word = "flat" if not abs(rho) >= 0.1 else ("increases" if rho > 0 else "decreases")
            shape = lever_shape(runs, p, col, grid=spec.design == "grid")
            if shape.kind in NON_MONOTONE:
                word = f"non-monotone ({shape.kind})"
            elif word == "flat" and shape.kind == "not testable" and shape.levels >= 3:
                word = "flat by rho (shape not testable)"
        rows.append(
            {"parameter": p, "spearman": rho, "eta": shape.eta, "level_range": shape.spread}
            | {"direction": word}
        )
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
    joint = list(spec.thresholds) if spec.uncertainties and len(spec.thresholds) > 1 else []
    cols = [*spec.names, *(outcome_column(o) for o in [*outcomes, *earlier]), *joint]
    runs = read_sweep(out_dir, columns=list(dict.fromkeys(cols)))
    sections = [_sweep_section(spec, runs, o, out_dir, figures) for o in [*outcomes, *earlier]]
    if joint:  # good enough on every threshold at once: one decision, several outcomes
        from sim.sweep.robustness_joint import joint_section

        sections.append(joint_section(spec, runs, out_dir))
    body = "\n---\n\n".join(sections)
    atomic_write_bytes(Path(out_dir) / "sweep.md", body.encode("utf-8"))
    shown = sections[: len(outcomes)] + (sections[-1:] if joint else [])
    return "\n---\n\n".join(shown)


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
    defined = bool(runs[outcome].notna().any())  # e.g. sustainment needs a follow-up year
    if figures and real and defined:
        from sim import plots
        from sim.sweep.plots import heatmap, partial_dependence_lines

        figdir = Path(out_dir) / "figures"
        if len(real) >= 2:
            others = [p.key for p in spec.columns if not p.dummy and p.key not in real[:2]]
            fig = heatmap(runs, real[0], real[1], outcome, others)
            figs.append(plots.save_figure(fig, figdir / f"heatmap_{outcome}.png"))
        fig = partial_dependence_lines(runs, real, outcome, grid=spec.design == "grid")
        figs.append(plots.save_figure(fig, figdir / f"partial_dependence_{outcome}.png"))
    dirs = directions(runs, spec, outcome)
    cells = (("spearman", "+.2f"), ("eta", ".2f"), ("level_range", ".4g"))
    rows = [
        [r.parameter, *(_num(getattr(r, c), f) for c, f in cells), r.direction]
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
        restricted_note(outcome),
        "" if defined else f"- {outcome} is undefined (missing) in every run: no figures",
        "",
        f"## Direction of each parameter (Spearman, point means of {outcome})\n",
        markdown_table(
            ["parameter", "Spearman rho", "eta", "range of level means", "outcome ... as it rises"],
            rows,
            "lrrrl",
        ),
        SHAPE_NOTE + "\n",
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
    if any(f.stem.startswith("partial_dependence_") for f in figs):
        text.append(band_note(spec.design == "grid") + "\n")
    if spec.uncertainties:  # levers and uncertainties: how robust each policy is
        from sim.sweep.robustness_report import robustness_section

        text.append(robustness_section(spec, runs, outcome_column(outcome), out_dir, figures))
    return "\n".join(t for t in text if t is not None)


SHAPE_NOTE = (
    "Spearman rho sees only monotone effects: a U-shaped or peaked lever has rho near 0. eta "
    "(correlation ratio of the point means on the lever's levels or quantile bins, 0 to 1) and "
    "the range of the level means show an effect of any shape; a lever is called non-monotone "
    "when its level means rise and fall by more than their noise (pairwise t tests, Bonferroni, "
    "5% family-wise; the noise is how the seeds move one level against another, replication by "
    "replication, plus in a sampled design the other levers' values in each bin), and flat "
    "only when |rho| < 0.1 and it is not non-monotone."
)


def band_note(grid: bool) -> str:
    """What the partial-dependence bands are (:mod:`sim.sweep.crn`), for a grid or a sample."""
    how = (
        "clustered by replication (the grid's points are fixed; the seeds are random)"
        if grid
        else "clustered two ways, by point and by replication (a sample's points are random "
        "draws, and so are the seeds)"
    )
    return (
        f"The partial-dependence bands are 95% intervals of each level mean, {how}: "
        "replication k shares its seeds at every point (common random numbers), so runs at "
        "different points are not independent. The seed's shift is shared by every level, so "
        "differences between levels (the line's shape) are more precise than overlapping bands "
        "suggest. With few replications the bands are wide (a t quantile with G - 1 degrees of "
        "freedom, G the number of clusters), and with one replication none is drawn."
    )


def _num(value: float, fmt: str) -> str:
    return "n/a" if np.isnan(value) else format(value, fmt)


def spearman_sign(values: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rho of two arrays (helper for tests and notebooks)."""
    return float(stats.spearmanr(values, outcome).statistic)
