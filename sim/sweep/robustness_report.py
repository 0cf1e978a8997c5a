"""The robustness section of ``sweep.md``, ``robustness_<outcome>.parquet`` and the regret
figure, for a sweep with uncertainties (the numbers: :mod:`sim.sweep.robustness`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.report_md import markdown_table
from sim.results import write_parquet
from sim.sweep.robustness import (
    CRITERIA,
    MostRobust,
    lower_is_better,
    most_robust,
    policy_labels,
    regret,
    robustness_table,
    state_values,
)


def robustness_frame(spec: Any, runs: pd.DataFrame, out_dir: Path, column: str) -> pd.DataFrame:
    """The robustness table of ``column`` with each policy's ``label`` and lever values, as
    ``robustness_<column>.parquet`` holds it (written here).

    Returns:
        One row per policy: ``policy``, ``label``, the levers, then the columns of
        :func:`sim.sweep.robustness.robustness_table`.
    """
    design = pd.read_parquet(Path(out_dir) / "design.parquet")
    levers = [p.key for p in spec.parameters]
    values = state_values(runs, design, column)
    table = robustness_table(values, lower_is_better(column), spec.thresholds.get(column))
    policies = design.drop_duplicates("policy")[["policy", *levers]]
    labels = policy_labels(design, levers)
    table.insert(1, "label", table["policy"].map(labels))
    table = policies.merge(table, on="policy")
    table = table[["policy", "label", *levers, *[c for c in table if c not in levers][2:]]]
    write_parquet(table, Path(out_dir) / f"robustness_{column}.parquet")
    return table


def _criterion_sentence(found: MostRobust, labels: dict[int, str], column: str) -> str:
    named = " and ".join(labels[p] for p in found.policies)
    tie = " (tied)" if len(found.policies) > 1 else ""
    share = found.criterion == "satisficing_share"
    value = f"{found.value:.0%} of states" if share else number(found.value)
    name = CRITERIA[found.criterion]
    return f"- {name[0].upper()}{name[1:]} of {column}: {named}{tie}, {value}."


def verdict(
    found: list[MostRobust], labels: dict[int, str], column: str, n_policies: int
) -> list[str]:
    """One sentence per criterion naming its most robust policy, then whether they agree (a
    policy every criterion names) or disagree (which criterion names which). A criterion that
    ties every policy (e.g. none ever meets the threshold) tells them apart not at all and is
    left out of the comparison."""
    lines = [_criterion_sentence(f, labels, column) for f in found]
    telling = [f for f in found if len(f.policies) < n_policies or n_policies == 1]
    if len(telling) < len(found):
        lines.append("- (a criterion that ties every policy does not tell them apart)")
    common = set.intersection(*(set(f.policies) for f in telling)) if telling else set()
    if common:
        shown = " and ".join(labels[p] for p in sorted(common))
        lines.append(f"\nThe criteria agree: {shown} is most robust under each of them.")
    elif telling:
        by: dict[tuple[int, ...], list[str]] = {}
        for f in telling:
            by.setdefault(tuple(f.policies), []).append(CRITERIA[f.criterion].split(" (")[0])
        parts = [
            f"{' / '.join(words)}: {', '.join(f'P{p}' for p in pol)}" for pol, words in by.items()
        ]
        lines.append(
            "\n**The criteria disagree** (" + "; ".join(parts) + "). The best policy on "
            "average can do badly in some states of the world; choose by the criterion that "
            "matches how much a bad context must be avoided."
        )
    return lines


def _direction_text(column: str, lower: bool | None) -> str:
    if lower is None:
        return (
            f"ccsim does not know whether lower or higher {column} is better, so there is no "
            "worst decile or regret, and the mean names no best policy: the table gives both "
            "tails (10th and 90th percentiles over the states)."
        )
    side, tail = ("lower", "90th") if lower else ("higher", "10th")
    return (
        f"{side.capitalize()} {column} is better, so the worst decile is the {tail} percentile "
        "over the states and regret is the distance from the best policy in the same state."
    )


def robustness_section(
    spec: Any, runs: pd.DataFrame, column: str, out_dir: Path, figures: bool
) -> str:
    """The ``## Robustness`` part of one outcome's section of ``sweep.md``; writes
    ``robustness_<column>.parquet`` and (direction known, ``figures``) the regret figure."""
    table = robustness_frame(spec, runs, out_dir, column)
    lower = lower_is_better(column)
    labels = dict(zip(table["policy"], table["label"], strict=True))
    n_pol, n_states = len(table), spec.scenarios
    cols = ["states", "mean", "p10", "p90", "worst_decile", "max_regret", "mean_regret"]
    threshold = spec.thresholds.get(column)
    if threshold:
        cols.append("satisficing_share")
    rows = [[r["label"], *(_cell(r[c], c) for c in cols)] for _, r in table.iterrows()]
    heads = ["policy", *[c.replace("_", " ") for c in cols]]
    text = [
        f"## Robustness over {n_states} states of the world ({column})\n",
        f"{n_pol} policies (lever points) x {n_states} states of the world (a Latin hypercube "
        f"over {', '.join(p.key for p in spec.uncertainties)}); each state's value is the mean "
        f"over {spec.replications} replication{'s' if spec.replications != 1 else ''}, with "
        "the same seeds for every policy. "
        + _direction_text(column, lower)
        + (f" Satisficing: {column} {_threshold_text(threshold)}." if threshold else "")
        + "\n",
        markdown_table(heads, rows, "l" + "r" * len(cols)),
        "",
        *verdict(most_robust(table, lower), labels, column, n_pol),
        "",
    ]
    if figures and lower is not None:
        from sim import plots
        from sim.sweep.robustness_plot import regret_strips

        design = pd.read_parquet(Path(out_dir) / "design.parquet")
        r = regret(state_values(runs, design, column), lower)
        fig = regret_strips(r, labels, column)
        path = plots.save_figure(fig, Path(out_dir) / "figures" / f"regret_{column}.png")
        text.append(f"![{path.stem}](figures/{path.name})\n")
    return "\n".join(text)


def _threshold_text(threshold: dict[str, float]) -> str:
    (side, x), = threshold.items()  # fmt: skip
    return f"{'<=' if side == 'at_most' else '>='} {x:g}"


def _cell(value: Any, column: str) -> str:
    if pd.isna(value):
        return "n/a"
    if column == "states":
        return str(int(value))
    return f"{value:.0%}" if column == "satisficing_share" else number(value)


def number(value: float) -> str:
    """4 significant figures, or whole with thousands separators from 10,000 (costs)."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
