"""Files of a sweep and of a sensitivity analysis: figures, ``sweep.md``, ``sensitivity.md``.

:func:`summarise_sweep` and :func:`analyse_sensitivity` read a finished sweep folder (only the
columns they need, so they work for large sweeps), write their tables, figures and report, and
return what a notebook would want to look at.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.report import metric_label
from sim.report_md import markdown_table
from sim.results import atomic_write_bytes, write_parquet
from sim.sweep import SweepError, SweepSpec, make_design, read_sweep
from sim.sweep.sensitivity import (
    morris_indices,
    outcome_column,
    point_outcome,
    sobol_indices,
    top_levers,
)


def _real(spec: SweepSpec) -> list[str]:
    return [p.key for p in spec.parameters if not p.dummy and p.low is not None]


def directions(runs: pd.DataFrame, spec: SweepSpec, outcome: str) -> pd.DataFrame:
    """Spearman correlation of each parameter with the point-mean outcome.

    Returns:
        ``parameter``, ``spearman`` (in [-1, 1]; ``nan`` for a constant column) and
        ``direction`` (``increases``/``decreases``/``flat``: |rho| < 0.1).
    """
    col = outcome_column(outcome)
    means = runs.groupby("point").agg({col: "mean", **{k: "first" for k in spec.names}})
    rows = []
    for p in _real(spec):
        rho = (
            float(stats.spearmanr(means[p], means[col]).statistic)
            if means[p].nunique() > 1
            else float("nan")
        )
        word = "flat" if not abs(rho) >= 0.1 else ("increases" if rho > 0 else "decreases")
        rows.append({"parameter": p, "spearman": rho, "direction": word})
    return pd.DataFrame(rows)


def summarise_sweep(spec: SweepSpec, out_dir: Path, outcome: str, figures: bool = True) -> str:
    """Write ``sweep.md`` and the figures (heatmap of the first two parameters, partial
    dependence of each) for ``outcome``; return the report's text."""
    cols = [*spec.names, outcome_column(outcome)]
    runs = read_sweep(out_dir, columns=cols)
    real = _real(spec)
    figs = []
    if figures and real:
        from sim import plots
        from sim.sweep.plots import heatmap, partial_dependence_lines

        figdir = Path(out_dir) / "figures"
        if len(real) >= 2:
            fig = heatmap(runs, real[0], real[1], outcome)
            figs.append(plots.save_figure(fig, figdir / f"heatmap_{outcome}.png"))
        fig = partial_dependence_lines(runs, real, outcome)
        figs.append(plots.save_figure(fig, figdir / f"partial_dependence_{outcome}.png"))
    dirs = directions(runs, spec, outcome)
    rows = [[r.parameter, f"{r.spearman:+.2f}", r.direction] for r in dirs.itertuples()]
    n_points = int(runs["point"].nunique())
    text = [
        f"# Sweep {spec.name}: {metric_label(outcome)}\n",
        spec.description.strip() + "\n" if spec.description else "",
        f"- design: {spec.design}, {n_points} points x {spec.replications} replications "
        f"= {len(runs)} runs; base `{Path(spec.base).name}`; seed {spec.seed}",
        "- every point runs replications 0..R-1 with the same seeds (common random numbers "
        "across points), so differences between points are not seed noise",
        _restricted_note(outcome),
        "",
        f"## Direction of each parameter (Spearman, point means of {outcome})\n",
        markdown_table(["parameter", "Spearman rho", "outcome ... as it rises"], rows, "lrl"),
    ]
    text += [f"![{f.stem}](figures/{f.name})\n" for f in figs]
    body = "\n".join(t for t in text if t is not None)
    atomic_write_bytes(Path(out_dir) / "sweep.md", body.encode("utf-8"))
    return body


def _restricted_note(outcome: str) -> str:
    if outcome in ("t50_months", "t90_months"):
        return (
            f"- {outcome} is read as a restricted time: a run that never got there counts "
            "as its horizon (programme + follow-up months), so no run is dropped"
        )
    return ""


@dataclass
class SensitivityResult:
    """Indices of one outcome and the sentence naming the top levers."""

    method: str
    outcome: str
    indices: pd.DataFrame
    summary: str
    figure: Path | None


def sensitivity_spec(spec: SweepSpec, method: str, samples: int | None = None) -> SweepSpec:
    """The sweep to run for ``method``: the file's parameters and ranges with that design.

    Raises:
        SweepError: if a parameter has no range, or Sobol's N is not a power of two (the
            balance of Sobol' points, and so SALib's estimators, need it).
    """
    out = dataclasses.replace(spec, design=method, samples=samples or spec.samples)
    out.problem()
    n = out.samples
    if method == "sobol" and n & (n - 1):
        raise SweepError(f"Sobol needs samples = a power of 2, got {n}; try {1 << n.bit_length()}")
    return out


def analyse_sensitivity(
    spec: SweepSpec, out_dir: Path, outcome: str, figures: bool = True
) -> SensitivityResult:
    """Sobol or Morris indices of ``outcome`` from a finished sweep folder (``spec.design``).

    Writes ``sensitivity_<method>_<outcome>.parquet``, ``sensitivity.md`` and a bar chart.

    Raises:
        ValueError: if the sweep is unfinished or the outcome is undefined at some point.
    """
    method = spec.design
    X = make_design(spec)
    runs = read_sweep(out_dir, columns=[outcome_column(outcome)])
    Y = point_outcome(runs, outcome, len(X))
    problem = spec.problem()
    if method == "sobol":
        indices = sobol_indices(problem, Y)
    else:
        indices = morris_indices(problem, X, Y, spec.morris_levels)
    dummy = [p.key for p in spec.parameters if p.dummy]
    summary = top_levers(indices, method, dummy)
    name = f"sensitivity_{method}_{outcome}"
    write_parquet(indices, Path(out_dir) / f"{name}.parquet")
    fig_path = None
    if figures:
        from sim import plots
        from sim.sweep.plots import indices_bars

        fig_path = plots.save_figure(
            indices_bars(indices, method, outcome), Path(out_dir) / "figures" / f"{name}.png"
        )
    _write_md(spec, out_dir, outcome, indices, summary, fig_path, len(X))
    return SensitivityResult(method, outcome, indices, summary, fig_path)


def _write_md(
    spec: SweepSpec, out_dir: Path, outcome: str, indices: pd.DataFrame, summary: str,
    fig: Path | None, n_points: int,
) -> None:  # fmt: skip
    cols = [c for c in indices.columns if c != "parameter"]
    rows = [[r[0], *(f"{v:.3f}" for v in r[1:])] for r in indices.itertuples(index=False)]
    method = spec.design
    how = (
        f"Saltelli sample (SALib), N = {spec.samples}, first and total order, "
        "95% CIs by bootstrap (200 resamples)"
        if method == "sobol"
        else f"Morris, {spec.samples} trajectories on a {spec.morris_levels}-level grid"
    )
    text = [
        f"# Sensitivity of {metric_label(outcome)} ({method})\n",
        summary + "\n",
        f"- {how}; {n_points} points x {spec.replications} replications, outcome = mean "
        "over a point's replications (common random numbers across points)",
        "- a dummy parameter, if present, is a sample column the model never reads: its index "
        "is the estimator's noise floor",
        _restricted_note(outcome),
        "",
        markdown_table(["parameter", *cols], rows, "l" + "r" * len(cols)),
    ]
    if fig is not None:
        text.append(f"![{fig.stem}](figures/{fig.name})\n")
    atomic_write_bytes(Path(out_dir) / "sensitivity.md", "\n".join(text).encode("utf-8"))


def spearman_sign(values: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rho of two arrays (helper for tests and notebooks)."""
    return float(stats.spearmanr(values, outcome).statistic)
