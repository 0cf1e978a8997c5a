"""``sensitivity.md`` and the analysis behind it: indices, figures, seed noise, per outcome.

:func:`analyse_sensitivity` reads a finished sensitivity folder (only the columns it needs),
writes one outcome's indices table and figures, and rewrites ``sensitivity.md``, which holds
every outcome analysed in the folder (rebuilt from the ``sensitivity_<method>_<outcome>.parquet``
tables). Split from :mod:`sim.sweep.report` (which re-exports these names) to keep both short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report_md import markdown_table
from sim.results import atomic_write_bytes, write_parquet
from sim.sweep import SweepError, SweepSpec, make_design, read_sweep
from sim.sweep.ranking import MIN_SAMPLES, reliability_problem, threshold_text, top_levers
from sim.sweep.seed_noise import NOISE_COLUMN, SeedNoise, lever_noise, noise_text, seed_noise
from sim.sweep.sensitivity import (
    RESTRICTED,
    morris_indices,
    outcome_column,
    outcome_label,
    point_outcome,
    sobol_indices,
)
from sim.sweep.spec import MAX_POINTS, plain_spec


def restricted_note(outcome: str) -> str:
    """The note under a restricted time's section (``t50_months`` or its column name)."""
    if outcome in RESTRICTED or outcome in RESTRICTED.values():
        return (
            f"- {outcome} is a restricted time: a run that never got there counts as its "
            "horizon (programme + follow-up months), so no run is dropped"
        )
    return ""


@dataclass
class SensitivityResult:
    """Indices of one outcome, the sentences naming the top levers and sizing the seed noise
    (``summary``), why the levers are not ranked (``problem``, empty when the estimates are
    good enough to rank), the seed noise itself (:class:`sim.sweep.seed_noise.SeedNoise`) and
    the figures (bar chart; Morris: also the mu*-sigma diagram)."""

    method: str
    outcome: str
    indices: pd.DataFrame
    summary: str
    figure: Path | None
    problem: str = ""
    noise: SeedNoise | None = None
    mu_sigma_figure: Path | None = None


def sensitivity_spec(spec: SweepSpec, method: str, samples: int | None = None) -> SweepSpec:
    """The sweep to run for ``method``: the file's parameters and ranges with that design.

    A file's ``[uncertainties]`` are sampled as ordinary parameters (after its levers), and
    its ``scenarios`` and ``thresholds`` are not used: the indices rank levers and
    uncertainties together (``ccsim sensitivity`` says so in one line).

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
    out = plain_spec(  # uncertainties are sampled as ordinary parameters, after the levers
        spec, parameters=spec.columns, design=method, samples=samples or spec.samples
    )
    out.problem()
    n = out.samples
    if n > MAX_POINTS:  # as the file's samples: a larger sample would not fit in memory
        raise SweepError(f"--samples {n}: must be in [1, {MAX_POINTS}]")
    if method == "sobol" and n & (n - 1):
        raise SweepError(f"Sobol needs samples = a power of 2, got {n}; try {1 << n.bit_length()}")
    return out


def _dummies(spec: SweepSpec) -> list[str]:
    return [p.key for p in spec.parameters if p.dummy]


def outcome_noise(spec: SweepSpec, runs: pd.DataFrame, outcome: str) -> SeedNoise:
    """The seed noise of ``outcome`` in a sensitivity sample's runs
    (:func:`sim.sweep.seed_noise.seed_noise` with the spec's method and Morris levels)."""
    return seed_noise(runs, outcome_column(outcome), spec.design, spec.morris_levels)


def with_lever_noise(
    spec: SweepSpec, runs: pd.DataFrame, outcome: str, X: np.ndarray, indices: pd.DataFrame
) -> pd.DataFrame:
    """``indices`` with each lever's own seed-noise term (``ST_noise`` or ``mu_star_noise``,
    :func:`sim.sweep.seed_noise.lever_noise`) as its last column."""
    problem = spec.problem()
    noise = lever_noise(
        runs, outcome_column(outcome), X, spec.design, problem["bounds"], spec.morris_levels
    )
    by_name = dict(zip(problem["names"], noise, strict=True))
    return indices.assign(**{NOISE_COLUMN[spec.design]: indices["parameter"].map(by_name)})


def noise_paragraph(spec: SweepSpec, noise: SeedNoise, indices: pd.DataFrame) -> str:
    """:func:`sim.sweep.seed_noise.noise_text` for the spec's levers (dummies not named)."""
    levers = indices[~indices["parameter"].isin(_dummies(spec))]
    return noise_text(noise, spec.design, levers)


def table_name(method: str, outcome: str) -> str:
    """Stem of one outcome's indices table and bar chart: ``sensitivity_<method>_<outcome>``."""
    return f"sensitivity_{method}_{outcome}"


def analyse_sensitivity(
    spec: SweepSpec, out_dir: Path, outcome: str, figures: bool = True
) -> SensitivityResult:
    """Sobol or Morris indices of ``outcome`` from a finished sweep folder (``spec.design``).

    Writes ``sensitivity_<method>_<outcome>.parquet`` (the indices and each lever's own
    seed-noise term, :func:`with_lever_noise`), a bar chart (Morris: also the mu*-sigma
    diagram ``<same name>_mu_sigma.png``) and the seed noise beside the indices
    (:mod:`sim.sweep.seed_noise`, in ``summary`` and the report), and rewrites
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
    indices = with_lever_noise(spec, runs, outcome, X, indices)
    dummy = _dummies(spec)
    noise = outcome_noise(spec, runs, outcome)
    summary = top_levers(indices, method, dummy, samples=spec.samples)
    summary += "\n" + noise_paragraph(spec, noise, indices)
    name = table_name(method, outcome)
    write_parquet(indices, Path(out_dir) / f"{name}.parquet")
    fig_path = mu_sigma = None
    if figures:
        from sim import plots
        from sim.sweep.plots import indices_bars, morris_mu_sigma

        figdir = Path(out_dir) / "figures"
        fig_path = plots.save_figure(indices_bars(indices, method, outcome), figdir / f"{name}.png")
        if method == "morris":
            fig = morris_mu_sigma(indices, outcome, noise.floor, dummy)
            mu_sigma = plots.save_figure(fig, figdir / f"{name}_mu_sigma.png")
    write_sensitivity_report(spec, out_dir, first=[outcome], n_points=len(X))
    problem_text = reliability_problem(indices, method, spec.samples, dummy)
    return SensitivityResult(
        method, outcome, indices, summary, fig_path, problem_text, noise, mu_sigma
    )


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
        "- seed noise: each outcome's paragraph gives the share of the run-level variance "
        "between a point's replications and the index a lever with no effect would get from "
        "seed noise alone (a summary, usually above a lever's own); the table's "
        f"`{NOISE_COLUMN[method]}` column is each lever's own seed-noise term "
        "(the CIs resample points or trajectories, not replications, so they do not show it)",
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
    text.append(_noise_section(spec, out_dir, outcome, indices) + "\n")
    if note := restricted_note(outcome):
        text += [note, ""]
    text.append(markdown_table(["parameter", *cols], rows, "l" + "r" * len(cols)))
    for stem in (name, f"{name}_mu_sigma"):
        if (out_dir / "figures" / f"{stem}.png").is_file():
            text.append(f"![{stem}](figures/{stem}.png)\n")
    return [t for t in text if t is not None]


def _noise_section(spec: SweepSpec, out_dir: Path, outcome: str, indices: pd.DataFrame) -> str:
    """The seed-noise paragraph of one outcome, from the folder's runs."""
    try:
        runs = read_sweep(out_dir, columns=[outcome], allow_incomplete=True)
        return noise_paragraph(spec, outcome_noise(spec, runs, outcome), indices)
    except (OSError, ValueError, KeyError) as exc:  # the indices are still worth reporting
        return f"Seed noise: cannot be estimated from the runs ({exc})."
