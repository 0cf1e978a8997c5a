"""Reading sensitivity indices: may they be ranked, and what the ranking says of each lever.

What a dummy does and does not show. A dummy is a sample column the model never reads. ccsim's
sweeps use common random numbers (replication r has the same seeds at every point), so two
points that differ only in the dummy give identical outputs, and the dummy's Sobol S1 and ST
and its Morris mu* are exactly 0, with CIs of exactly 0. That checks the sample's columns line
up with the results; it says nothing about how large the estimation noise is, so it is not a
noise floor for the other levers. Each lever is judged instead by its own 95% CI (does it reach
0?) and against a stated threshold of a negligible effect (:data:`NEGLIGIBLE_ST`,
:data:`NEGLIGIBLE_MU_STAR`). Neither the dummy nor the CIs (which resample the N base rows or
the Morris trajectories, not the replications) measure seed noise: a lever the model reads but
that hardly matters still changes the random path of each run, so under CRN its index holds
some seed noise; more replications per point shrink it, and the negligible threshold keeps it
from being read as an effect. :mod:`sim.sweep.seed_noise` sizes that noise per outcome (the
index a lever with no effect would get from it) and per lever (``ST_noise`` /
``mu_star_noise``, from the replications of the pairs of points each index compares), printed
and reported beside the indices.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

NEGLIGIBLE_ST = 0.01
"""Sobol: a lever whose total index ST is below this explains under 1% of the outcome's
variance, interactions included, and is reported as negligible whatever its CI."""
NEGLIGIBLE_MU_STAR = 0.01
"""Morris: a lever whose mu* is below this share of the largest lever's mu* is reported as
negligible (mu* is in the outcome's units, so only a relative threshold is unit-free)."""
DUMMY_ZERO = 1e-9
"""A dummy's index within this of 0 is "exactly 0" (float rounding of sums of zeros)."""
# Smallest samples for which the indices are worth ranking. SALib states no minimum, so:
# * Sobol: SALib's CIs are z * (standard deviation of the index over bootstrap resamples of
#   the N base rows). With a handful of rows the resamples take few distinct values and the
#   normal approximation fails, so a CI can look narrow by luck (N = 2 gives ST = 8.46 +- 63,
#   but may as well give a small +-); 30 rows is the usual minimum for such an approximation,
#   and 32 the smallest power of two (Sobol' balance) above it.
# * Morris: Campolongo, Cariboni & Saltelli (2007) and Saltelli et al. (2008, "Global
#   Sensitivity Analysis: The Primer", ch. 3) found r = 10 to 20 trajectories enough for a
#   stable screening ranking; fewer than 10 is below that range.
MIN_SAMPLES = {"sobol": 32, "morris": 10}
CONSTANT = "the outcome does not vary over the sample"
"""Part of :func:`reliability_problem`'s text when every index is 0: more samples cannot help."""


def remedy(problem: str) -> str:
    """What to do about a :func:`reliability_problem`: more samples, unless the outcome is
    constant over the sample (then no sample size ranks the levers)."""
    if CONSTANT in problem:
        return "no lever moves it over these ranges; choose another --outcome or wider ranges"
    return "increase --samples"


def _keys(method: str) -> tuple[str, str]:
    return ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")


def reliability_problem(
    indices: pd.DataFrame, method: str, samples: int | None = None, dummy: Sequence[str] = ()
) -> str:
    """Why the indices should not be ranked, or ``""`` when they may be.

    Two checks (either fails the estimates):

    * the widest 95% CI half-width of a real lever is at least the largest index (ST, or
      Morris mu*): the estimation noise is as large as the strongest effect, so any lever
      could be first and the order means nothing;
    * ``samples`` (Sobol N, Morris trajectories r) is below :data:`MIN_SAMPLES`, where the
      bootstrap CIs themselves cannot be trusted (see the comment there).

    Args:
        indices: :func:`sim.sweep.sensitivity.sobol_indices` or ``morris_indices`` output.
        method: ``sobol`` or ``morris``.
        samples: Sobol N or Morris r (``None``: skip the size check).
        dummy: names of dummy parameters (not levers).

    Returns:
        e.g. ``"the 95% CIs (half-width up to 63.00) are wider than the largest ST (8.46)"``.
    """
    key, conf = _keys(method)
    real = indices[~indices["parameter"].isin(dummy)]
    reasons = []
    if not real.empty:
        top, widest = float(real[key].abs().max()), float(real[conf].max())
        if top == 0 and widest == 0:
            reasons.append(f"every {key} is 0 ({CONSTANT})")
        elif not widest < top:  # also when either is nan
            reasons.append(
                f"the 95% CIs (half-width up to {widest:.2f}) are wider than the largest "
                f"{key} ({top:.2f})"
            )
    least = MIN_SAMPLES.get(method)
    if samples is not None and least is not None and samples < least:
        reasons.append(
            f"N = {samples} is below {least}, too few for the bootstrap CIs to be trusted"
            if method == "sobol"
            else f"r = {samples} is below {least} trajectories, too few for a stable ranking"
        )
    return "; ".join(reasons)


def overlap_note(top: pd.DataFrame, key: str, conf: str) -> str:
    """`` The order of A and B is not resolved: their 95% CIs overlap.`` for neighbours in the
    ranking whose intervals ``index +- conf`` overlap (``""`` if none do): naming them in order
    would claim more than the estimates show."""
    rows = list(top.itertuples(index=False))
    tied = [
        (a.parameter, b.parameter)
        for a, b in itertools.pairwise(rows)
        if getattr(a, key) - getattr(a, conf) <= getattr(b, key) + getattr(b, conf)
    ]
    if not tied:
        return ""
    pairs = "; ".join(f"{a} and {b}" for a, b in tied)
    return f" The order of {pairs} is not resolved: their 95% CIs overlap."


def top_levers(
    indices: pd.DataFrame,
    method: str,
    dummy: Sequence[str] = (),
    k: int = 3,
    samples: int | None = None,
) -> str:
    """Sentences naming the top levers and judging each by its own CI and a threshold.

    When :func:`reliability_problem` finds the estimates too noisy, no lever is named: the
    sentence says why instead (``"Top levers by ST: not ranked: ..."``). Otherwise it names
    the top ``k`` levers, then the levers whose 95% CI reaches 0 and those below the
    negligible threshold (:func:`lever_judgement`), what the dummy shows
    (:func:`dummy_note`) and, for Sobol, signs of too few samples (:func:`sobol_warnings`).

    Args:
        indices: :func:`sim.sweep.sensitivity.sobol_indices` or ``morris_indices`` output.
        method: ``sobol`` or ``morris``.
        dummy: names of dummy parameters (columns the model never reads).
        k: how many levers to name.
        samples: Sobol N or Morris trajectories, for the sample-size check.

    Returns:
        e.g. ``"Top levers by ST: programme.tactics.soft (ST 0.52 +- 0.06), ..."``.
    """
    key, conf = _keys(method)
    real = indices[~indices["parameter"].isin(dummy)]
    floor_rows = indices[indices["parameter"].isin(dummy)]
    if real.empty:
        text = f"Top levers by {key}: no lever to rank (every parameter is a dummy)."
        return text + dummy_note(floor_rows, key)
    problem = reliability_problem(indices, method, samples, dummy)
    if problem:
        text = f"Top levers by {key}: not ranked: {problem}; {remedy(problem)}."
        return text + dummy_note(floor_rows, key)
    named = [f"{r.parameter} ({key} {getattr(r, key):.2f} +- {getattr(r, conf):.2f})"
             for r in real.head(k).itertuples(index=False)]  # fmt: skip
    text = f"Top levers by {key}: " + ", ".join(named) + "."
    text += overlap_note(real.head(k), key, conf)
    text += lever_judgement(real, method) + dummy_note(floor_rows, key)
    return text + (sobol_warnings(real) if method == "sobol" else "")


def negligible(real: pd.DataFrame, method: str) -> list[str]:
    """Levers below the negligible threshold: ST < :data:`NEGLIGIBLE_ST` (Sobol), or mu*
    below :data:`NEGLIGIBLE_MU_STAR` x the largest mu* (Morris)."""
    key = _keys(method)[0]
    limit = NEGLIGIBLE_ST
    if method != "sobol":
        limit = NEGLIGIBLE_MU_STAR * float(real[key].abs().max())
    return real.loc[real[key] < limit, "parameter"].tolist()


def threshold_text(method: str) -> str:
    """The negligible threshold in words, e.g. ``"ST < 0.01: under 1% of the variance"``."""
    if method == "sobol":
        return f"ST < {NEGLIGIBLE_ST:g}: under {NEGLIGIBLE_ST:.0%} of the variance"
    return f"mu_star < {NEGLIGIBLE_MU_STAR:.0%} of the largest"


def lever_judgement(real: pd.DataFrame, method: str) -> str:
    """Which levers' own 95% CI reaches 0 (an effect of 0 cannot be ruled out) and which are
    negligible (:func:`negligible`); a lever is named once, negligible first."""
    key, conf = _keys(method)
    small = negligible(real, method)
    reaches_zero = (real[key] - real[conf] <= 0) & ~real["parameter"].isin(small)
    unsure = real.loc[reaches_zero, "parameter"].tolist()
    text, limit = "", threshold_text(method)
    if unsure:
        text += f" Not distinguishable from 0 (the 95% CI of {key} reaches 0): {', '.join(unsure)}."
    if small:
        text += f" Negligible ({limit}): {', '.join(small)}."
    return text or f" Every lever's 95% CI is above 0 and none is negligible ({limit})."


def dummy_note(floor_rows: pd.DataFrame, key: str) -> str:
    """What the dummy's index shows: under common random numbers it is exactly 0, which checks
    the columns, not the noise; a dummy index off 0 points to a mix-up."""
    if floor_rows.empty:
        return ""
    value = float(floor_rows[key].abs().max())
    text = f" Dummy (never read) {key}: {value:.3f}"
    if value <= DUMMY_ZERO:
        return text + (
            ", exactly 0 as common random numbers make it: a check that the sample's columns "
            "line up with the results, not a noise floor."
        )
    return text + (
        ", not 0: under common random numbers it must be, so check that the model does not "
        "read it and that the outputs are in the sample's order."
    )


UNSTABLE_GAP = NEGLIGIBLE_ST
"""Sobol: S1 above ST is flagged only when it is by more than this (as well as by more than
ST_conf). An index that is 0 up to float noise (S1 2.7e-5, ST 8.8e-8 +- 1.7e-7 for a lever
over a range of 1e-4) can have S1 above ST + ST_conf by a margin no sample size changes; a gap
under the negligible threshold changes no reading of the lever."""


def sobol_warnings(real: pd.DataFrame) -> str:
    """Signs of too few samples (both impossible for exact indices):

    * a lever's S1 above the upper end of its ST's 95% CI (``S1 > ST + ST_conf``) by more than
      :data:`UNSTABLE_GAP` (``S1 - ST > 0.01``);
    * the sum of S1 above the sum of ST by more than the root-sum-of-squares of every S1 and
      ST CI half-width (the CIs combined as if independent) and by more than
      :data:`UNSTABLE_GAP`.
    """
    text = ""
    gap = real["S1"] - real["ST"]
    unstable = real.loc[(gap > real["ST_conf"]) & (gap > UNSTABLE_GAP), "parameter"].tolist()
    if unstable:
        text += (
            f" Warning: estimates are unstable (S1 above ST for {', '.join(unstable)}: "
            "S1 > ST + ST_conf); increase --samples."
        )
    s1, st = float(real["S1"].sum()), float(real["ST"].sum())
    margin = float(np.sqrt((real["S1_conf"] ** 2).sum() + (real["ST_conf"] ** 2).sum()))
    if s1 - st > max(margin, UNSTABLE_GAP):
        text += (
            f" Warning: the S1 sum ({s1:.2f}) exceeds the ST sum ({st:.2f}) by more than "
            f"their combined CIs ({margin:.2f}); increase --samples."
        )
    return text
