"""Robustness of policies over states of the world: mean, worst decile, regret, satisficing.

A sweep with uncertainties (:mod:`sim.sweep.uncertainty`) runs every policy in the same S
states of the world. For one outcome, a state's value of a policy is the mean over its
replications (so the seed noise that common random numbers share cancels between policies).
Over the states, each policy gets

* ``mean``: the mean of its state values;
* ``p10`` and ``p90``: the 10th and 90th percentiles of its state values (numpy's linear
  interpolation), and ``worst_decile``: the one on the bad side (``p90`` when lower is better,
  ``p10`` when higher is better; missing when the direction is unknown);
* ``max_regret`` and ``mean_regret``: Savage's regret (Savage 1951, "The theory of statistical
  decision", JASA 46:55-67): in each state, the policy's distance from the best policy in that
  same state (``value - min`` when lower is better, ``max - value`` when higher is), so the best
  policy of a state has regret 0; minimax regret picks the policy whose largest regret is
  smallest. Missing when the direction is unknown;
* ``satisficing_share``: with a threshold, the share of the S states in which the policy meets
  it (Starr 1963, "Product design and decision theory", the domain criterion; a state where
  the outcome is undefined does not meet it). Missing without a threshold.

A state where a policy's outcome is undefined (``nan`` in every replication) is left out of
that policy's other numbers and of that state's best (``states`` counts the rest). Robust
decision making compares policies this way rather than by their value in one expected future
(Lempert, Popper & Bankes 2003, *Shaping the Next One Hundred Years*, RAND MR-1626).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CRITERIA = {
    "mean": "best mean over the states of the world",
    "worst_decile": "best worst decile",
    "max_regret": "minimax regret (Savage 1951)",
    "mean_regret": "least mean regret",
    "satisficing_share": "largest satisficing share (Starr 1963 domain criterion)",
}
"""Column of the robustness table -> the criterion's name in ``sweep.md``."""


MORE_DIRECTIONS: dict[str, bool] = {
    # lower is better: a gap, a rate ratio, a lag, a count of harm, a cost
    **dict.fromkeys(
        ["gap_followup_24", "peripheral_lag", "marginalised_sites", "share_little_change"], True
    ),
    **dict.fromkeys(["irr_programme_end", "irr_0_3", "irr_16_18", "irr_34_36"], True),
    **dict.fromkeys(["irr_0_3_observed", "irr_16_18_observed", "irr_34_36_observed"], True),
    **dict.fromkeys(["net_irr", "net_irr_observed", "cost_core_team", "cost_sites"], True),
    "cost_per_event_avoided": True,
    # higher is better: gains kept, sites improved or transformed, practice internalised
    **dict.fromkeys(["sustainment", "sites_improved_share", "share_transformed"], False),
    **dict.fromkeys(["share_internalised_end", "net_adherence_gain"], False),
}
"""Directions of run metrics ``ccsim compare`` does not compare (docs/outputs.md); metrics
whose better side depends on the question (site spread, gaming, boosted or merely compliant
shares, raw rates, funded site-months) are left unknown."""


def lower_is_better(outcome: str) -> bool | None:
    """Whether lower ``outcome`` is better: the direction ``ccsim compare`` uses
    (:data:`sim.compare.outcomes.OUTCOMES`: gap area, T50/T90, gaps, inequality, conflict,
    drop-outs and costs lower; events avoided higher), then :data:`MORE_DIRECTIONS`; the
    restricted times as T50/T90; ``None`` for any other metric (the direction is unknown)."""
    from sim.compare.outcomes import OUTCOME_BY_METRIC

    metric = outcome.replace("_restricted_months", "_months")
    found = OUTCOME_BY_METRIC.get(metric)
    return MORE_DIRECTIONS.get(metric) if found is None else found.lower_is_better


def state_values(runs: pd.DataFrame, design: pd.DataFrame, column: str) -> pd.DataFrame:
    """The policies x states table of ``column``: each cell the mean over the point's
    replications (``nan`` where every replication is ``nan``).

    Args:
        runs: one row per run with ``point`` and ``column``.
        design: ``design.parquet`` (``point``, ``policy``, ``state``).
        column: the outcome column.

    Returns:
        Shape ``(policies, states)``, index ``policy``, columns ``state``.
    """
    means = runs.groupby("point")[column].mean()
    frame = design[["point", "policy", "state"]].set_index("point").join(means)
    return frame.pivot(index="policy", columns="state", values=column).sort_index(axis=1)


def regret(values: pd.DataFrame, lower: bool) -> pd.DataFrame:
    """Savage regret of each policy in each state: the distance from the state's best policy
    (lower is better: ``value - min over policies``; higher: ``max - value``); >= 0, and 0
    for the best policy of each state. Same shape as ``values``."""
    best = values.min(axis=0) if lower else values.max(axis=0)
    return values - best if lower else best - values


def criteria(
    values: np.ndarray, lower: bool | None, threshold: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Every robustness column from state values (module docstring), for one table or a batch.

    Args:
        values: state values, shape ``(..., policies, states)`` (``nan``: undefined).
        lower: :func:`lower_is_better` (``None``: unknown, no regret or worst decile).
        threshold: the file's threshold for this outcome, or ``None``.

    Returns:
        ``{column: array of shape (..., policies)}`` for ``states``, ``mean``, ``p10``,
        ``p90``, ``worst_decile``, ``max_regret``, ``mean_regret``, ``satisficing_share``
        (``nan`` where not defined).
    """
    v = np.asarray(values, dtype=float)
    nan = np.full(v.shape[:-1], np.nan)
    with warnings.catch_warnings():  # a policy undefined in every state: nan, as pandas gives
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {
            "states": (~np.isnan(v)).sum(axis=-1),
            "mean": np.nanmean(v, axis=-1),
            "p10": np.nanquantile(v, 0.1, axis=-1, method="linear"),
            "p90": np.nanquantile(v, 0.9, axis=-1, method="linear"),
        }
        out["worst_decile"] = nan if lower is None else (out["p90"] if lower else out["p10"])
        if lower is None:
            out["max_regret"] = out["mean_regret"] = nan
        else:
            best = np.nanmin(v, axis=-2) if lower else np.nanmax(v, axis=-2)
            r = v - best[..., None, :] if lower else best[..., None, :] - v
            out["max_regret"] = np.nanmax(r, axis=-1)
            out["mean_regret"] = np.nanmean(r, axis=-1)
    if threshold is None:
        out["satisficing_share"] = nan
    else:
        (side, x), = threshold.items()  # fmt: skip
        met = v <= x if side == "at_most" else v >= x  # nan meets neither
        out["satisficing_share"] = met.sum(axis=-1) / v.shape[-1]
    return out


def robustness_table(
    values: pd.DataFrame, lower: bool | None, threshold: dict[str, float] | None = None
) -> pd.DataFrame:
    """The robustness of each policy (module docstring) from its policies x states table.

    Args:
        values: :func:`state_values`.
        lower: :func:`lower_is_better` (``None``: unknown, no regret or worst decile).
        threshold: the file's threshold for this outcome, or ``None``.

    Returns:
        One row per policy: ``policy``, ``states``, ``mean``, ``p10``, ``p90``,
        ``worst_decile``, ``max_regret``, ``mean_regret``, ``satisficing_share``.
    """
    out = pd.DataFrame(criteria(values.to_numpy(dtype=float), lower, threshold))
    out.insert(0, "policy", values.index.to_numpy())
    return out


@dataclass
class MostRobust:
    """The policies one criterion names (several when tied exactly) and their value."""

    criterion: str
    policies: list[int]
    value: float


def most_robust(table: pd.DataFrame, lower: bool | None) -> list[MostRobust]:
    """The most robust policies under each criterion the table can answer: best mean and
    worst decile (direction known), least max and mean regret (direction known), largest
    satisficing share (a threshold given); ties (equal values, as for policies that differ
    only in a dummy) are all named."""
    found = []
    for column in CRITERIA:
        values = table[column]
        if not answerable(column, lower) or values.isna().all():
            continue
        best = values.min() if low_is_better(column, lower) else values.max()
        policies = [int(p) for p in table.loc[values == best, "policy"]]
        found.append(MostRobust(column, policies, float(best)))
    return found


def answerable(criterion: str, lower: bool | None) -> bool:
    """Can ``criterion`` rank policies? Not the mean or worst decile when the outcome's
    direction is unknown (regret and satisficing columns are then missing anyway)."""
    return not (criterion in ("mean", "worst_decile") and lower is None)


def low_is_better(criterion: str, lower: bool | None) -> bool:
    """Is a low value of ``criterion`` the robust one? Regrets always; the satisficing share
    never; the mean and worst decile when lower outcomes are better."""
    return criterion in ("max_regret", "mean_regret") or (
        criterion != "satisficing_share" and bool(lower)
    )


def policy_labels(design: pd.DataFrame, levers: Sequence[str]) -> dict[int, str]:
    """``{policy: "P3 (tactics.hard=0.2, recruitment.mode=mandated)"}``: each policy's number
    and lever values, a lever named by its key without the scenario section (``programme.``,
    ``sites.``...), which keeps the table it belongs to (``tactics.hard``, not ``hard``);
    the full key when two levers would share a name."""
    names = lever_names(levers)
    first = design.drop_duplicates("policy").set_index("policy")
    return {
        int(p): f"P{int(p)} ("
        + ", ".join(f"{n}={_short(row[k])}" for n, k in zip(names, levers, strict=True))
        + ")"
        for p, row in first.iterrows()
    }


def lever_names(keys: Sequence[str]) -> list[str]:
    """The names policy labels give levers: the key without its scenario section
    (``programme.tactics.hard`` -> ``tactics.hard``), the full key when two would share one."""
    tails = [k.split(".", 1)[-1] for k in keys]
    return [t if tails.count(t) == 1 else k for t, k in zip(tails, keys, strict=True)]


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
