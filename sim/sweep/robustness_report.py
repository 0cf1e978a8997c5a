"""The robustness section of ``sweep.md``, ``robustness_<outcome>.parquet`` and the regret
figure, for a sweep with uncertainties (the numbers: :mod:`sim.sweep.robustness`)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.report_md import markdown_table
from sim.results import write_parquet
from sim.sweep.robustness import (
    CRITERIA,
    MostRobust,
    lever_names,
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


def _criterion_sentence(
    found: MostRobust, labels: dict[int, str], column: str, unit: str = ""
) -> str:
    if len(found.policies) <= 2:
        named = " and ".join(labels[p] for p in found.policies)
    else:  # a long tie: the policy numbers (their levers are in the table above)
        named = ", ".join(f"P{p}" for p in found.policies[:-1]) + f" and P{found.policies[-1]}"
    tie = f" (tied: {len(found.policies)} policies)" if len(found.policies) > 1 else ""
    share = found.criterion == "satisficing_share"
    value = f"{found.value:.0%} of states" if share else number(found.value)
    if not share and unit:
        value += f" {unit}"
    name = CRITERIA[found.criterion]
    return f"- {name[0].upper()}{name[1:]} of {column}: {named}{tie}, {value}."


def verdict(
    found: list[MostRobust], labels: dict[int, str], column: str, n_policies: int, unit: str = ""
) -> list[str]:
    """One sentence per criterion naming its most robust policy, then whether they agree (a
    policy every criterion names) or disagree (which criterion names which). A criterion that
    ties every policy (e.g. none ever meets the threshold) tells them apart not at all and is
    left out of the comparison."""
    lines = [_criterion_sentence(f, labels, column, unit) for f in found]
    telling = [f for f in found if len(f.policies) < n_policies or n_policies == 1]
    if len(telling) < len(found):
        lines.append("- (a criterion that ties every policy does not tell them apart)")
    common = set.intersection(*(set(f.policies) for f in telling)) if telling else set()
    if common:
        shown = " and ".join(labels[p] for p in sorted(common))
        lines.append(
            f"\nThe criteria agree: {shown} is most robust under each of them, in these runs "
            "(whether its lead is larger than the noise: below)."
        )
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
            "matches how much a bad context must be avoided, and check that the gap between "
            "the policies named is larger than the noise (below)."
        )
    return lines


def outcome_unit(column: str, short: bool = True) -> str:
    """The unit of an outcome column (``docs/outputs.md``), restricted times in months;
    ``short`` cuts the explanation in brackets (``share of starting gap``); ``""`` unknown."""
    from sim.metric_info import METRICS
    from sim.sweep.sensitivity import RESTRICTED

    if column == "window_months":
        return "months"
    info = METRICS.get({v: k for k, v in RESTRICTED.items()}.get(column, column))
    unit = info.unit if info is not None else ""
    return unit.split(" (")[0] if short else unit


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


def _label_with_unit(column: str, unit: str) -> str:
    """The outcome's label and its unit, the unit once (``Gap area after start (gap-months)``
    already names it)."""
    from sim.sweep.sensitivity import outcome_label

    label = outcome_label(column)
    if not unit:
        return f"{label} (in units ccsim does not know)"
    return label if f"({unit.split('; ')[0]}" in label else f"{label} (in {unit})"


def _meaning(key: str) -> str:
    """``what it is, unit`` from the scenario schema, or ``""`` for a dummy / unknown key."""
    from sim.loader import valid_keys

    info = valid_keys().get(key)
    if info is None or not info.description:
        return ""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return info.description + (f", {extra['unit']}" if extra.get("unit") else "")


def _framing(spec: Any, n_pol: int, n_states: int) -> str:
    """Plain words: what a policy and a state of the world are, with the levers and ranges."""
    levers = [p for p in spec.parameters]
    lever_text = "; ".join(
        f"`{n}` = {p.key}" + (f" ({_meaning(p.key)})" if _meaning(p.key) else "")
        for n, p in zip(lever_names([p.key for p in levers]), levers, strict=True)
    )
    ranges = "; ".join(
        f"{u.key} from {u.low:g} to {u.high:g}"
        + (f" ({_meaning(u.key)})" if _meaning(u.key) else "")
        for u in spec.uncertainties
    )
    reps = f"{spec.replications} replication{'s' if spec.replications != 1 else ''}"
    return (
        f"A **policy** is one design you could fund: one combination of the levers you choose "
        f"({n_pol} here, P0 to P{n_pol - 1}; in the labels {lever_text}; everything else as in "
        f"the base scenario). A **state of the world** is one possible context, a value of each "
        f"thing nobody chooses, drawn evenly (a Latin hypercube) over the ranges in the sweep "
        f"file: {ranges}. Every policy runs in the same {n_states} states with the same seeds, "
        f"so a difference between two policies in one state comes from the levers; a policy's "
        f"value in a state is the mean over its {reps}."
    )


def _glossary(column: str, lower: bool | None, threshold: dict[str, float] | None) -> str:
    """How to read the table's columns, in plain words and units."""
    unit = outcome_unit(column) or "the outcome's units"
    bad = "p90" if lower else "p10"
    lines = [
        f"How to read the table (values in {unit}{', except the share' if threshold else ''}):",
        "- **states**: the contexts where the outcome is defined (of those drawn).",
        "- **mean**: the policy's average over the states, each state counting alike.",
        *(
            ["- a gap of 0.10 is 10 points (as `ccsim compare` reports it): 10% still open."]
            if unit == "share of starting gap"
            else []
        ),
        "- **p10**, **p90**: a tenth of the states fall below p10, a tenth above p90.",
    ]
    if lower is not None:
        lines += [
            f"- **worst decile** (= {bad} here): how badly the policy does in its worst tenth "
            "of contexts.",
            f"- **regret**: in one state, how far the policy falls behind the best policy in that "
            f"same state ({unit}; 0 = it was the best there). **max regret** is its largest "
            "regret over the states, **mean regret** its average.",
        ]
    if threshold:
        lines.append(
            f"- **satisficing share**: the share of states in which the policy is good enough, "
            f"{column} {threshold_text(threshold)} {outcome_unit(column)} (tested on the state's "
            "mean over its replications, not run by run)."
        )
    return "\n".join(lines) + "\n"


def _limits(spec: Any, n_states: int, column: str) -> str:
    """What the section cannot tell the reader."""
    reps = spec.replications
    other = "gap_auc" if column.startswith("cost") else "cost_per_gap_point"
    return (
        "**What this cannot tell you.** The ranges are assumptions written in the sweep file, "
        "not probabilities: the mean counts every state alike, so it is not an expected value, "
        "and a context outside the ranges was never tried. The numbers come from "
        f"{n_states} states x {reps} replication{'s' if reps != 1 else ''}: tails and small "
        "differences are noisy: policies whose numbers differ by little (less than the spread "
        "of the dots in the regret figure, where there is one) may swap places with another "
        "seed or more states and replications. Each outcome is judged alone: the design that "
        "closes the gap best may be the dearest, the cheapest the slowest (repeat `--outcome`, "
        f"e.g. `--outcome {other}`, and weigh them)."
    )


def _next_step(
    out_dir: Path, design: pd.DataFrame, table: pd.DataFrame, r: pd.DataFrame | None
) -> str:
    """A ``ccsim compare --from-sweep`` command for the two policies with the least maximum
    regret, in the state where the runner-up falls furthest behind (state 0 without regret)."""
    if len(table) < 2:
        return ""
    order = (
        table.sort_values("max_regret", kind="stable")["policy"]
        if r is not None
        else table["policy"]
    )
    a, b = (int(x) for x in list(order)[:2])
    state = 0
    if r is not None and (r.loc[b] - r.loc[a]).notna().any():
        state = int((r.loc[b] - r.loc[a]).idxmax())
    points = design.set_index(["policy", "state"])["point"]
    pa, pb = int(points.loc[(a, state)]), int(points.loc[(b, state)])
    keys = design.attrs.get("uncertainties") or []
    row = design.loc[design["point"] == pa].iloc[0]
    where = ", ".join(f"{k} = {_short(row[k])}" for k in keys)
    who = (
        "the two policies with the least max regret"
        if r is not None
        else "for example: ccsim names no leader of an outcome whose better side it does not know"
    )
    folder = shlex.quote(str(out_dir))
    where_text = f"in state {state}" + (f" ({where})" if where else "")
    if r is not None:
        where_text += f", where P{b} falls furthest behind P{a}"
    return (
        f"**Next step.** Put P{a} and P{b} ({who}) head to head, with many more replications "
        f"and confidence intervals, {where_text}:\n\n```bash\nccsim compare --from-sweep "
        f"{folder} --points {pa},{pb}\n```\n\nA point is policy x {design['state'].nunique()}"
        " + state; `design.parquet` lists every point's policy, state and values, for any "
        "other state."
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
    places = decimals(table[[c for c in cols if c not in ("states", "satisficing_share")]])
    rows = [[r["label"], *(_cell(r[c], c, places) for c in cols)] for _, r in table.iterrows()]
    heads = ["policy", *[c.replace("_", " ") for c in cols]]
    design = pd.read_parquet(Path(out_dir) / "design.parquet")
    r = None if lower is None else regret(state_values(runs, design, column), lower)
    found = most_robust(table, lower)
    unit = outcome_unit(column)
    full_unit = outcome_unit(column, short=False).replace(" (", "; ").rstrip(")")
    text = [
        f"## Robustness over {n_states} states of the world ({column})\n",
        "Which design does well whatever the context turns out to be? "
        + _framing(spec, n_pol, n_states)
        + "\n",
        f"Outcome: {_label_with_unit(column, full_unit)}. "
        + _direction_text(column, lower)
        + (
            f" Good enough (satisficing): {column} {threshold_text(threshold)} {unit}."
            if threshold
            else ""
        )
        + "\n",
        markdown_table(heads, rows, "l" + "r" * len(cols)),
        "",
        _glossary(column, lower, threshold),
        *verdict(found, labels, column, n_pol, unit),
        "",
        *_noise_lines(spec, runs, design, column, lower, found, labels),
    ]
    if figures and r is not None:
        from sim import plots
        from sim.sweep.robustness_plot import regret_strips

        fig = regret_strips(r, labels, column)
        path = plots.save_figure(fig, Path(out_dir) / "figures" / f"regret_{column}.png")
        text.append(f"![{path.stem}](figures/{path.name})\n")
    text += [_limits(spec, n_states, column) + "\n", _next_step(out_dir, design, table, r) + "\n"]
    return "\n".join(text)


def _noise_lines(
    spec: Any,
    runs: pd.DataFrame,
    design: pd.DataFrame,
    column: str,
    lower: bool | None,
    found: list,
    labels: dict[int, str],
) -> list[str]:
    """Whether each verdict's lead is larger than the seed noise
    (:func:`sim.sweep.robustness_noise.lead_stability`), as lines ending in a blank one."""
    from sim.sweep.robustness_noise import lead_stability, stability_lines

    threshold = spec.thresholds.get(column)
    found = [f for f in found if len(f.policies) < len(labels)]  # a tie of all says nothing
    stability = lead_stability(runs, design, column, lower, threshold, found, spec.seed)
    lines = stability_lines(stability, labels, spec.replications)
    return [*lines, ""] if lines else []


def threshold_text(threshold: dict[str, float]) -> str:
    """``"<= 20"`` for ``{"at_most": 20}``, ``">= 0.5"`` for ``{"at_least": 0.5}``."""
    (side, x), = threshold.items()  # fmt: skip
    return f"{'<=' if side == 'at_most' else '>='} {x:g}"


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _cell(value: Any, column: str, places: int) -> str:
    if pd.isna(value):
        return "n/a"
    if column == "states":
        return str(int(value))
    return f"{value:.0%}" if column == "satisficing_share" else f"{value:,.{places}f}"


def decimals(values: pd.DataFrame) -> int:
    """Decimal places for a table of one outcome's numbers: 4 significant figures for its
    largest absolute value, the same places for every cell (``22.86`` beside ``7.51``, not
    ``7.513``; costs whole); 0 to 4."""
    finite = values.to_numpy(dtype=float)
    finite = np.abs(finite[np.isfinite(finite)])
    if finite.size == 0 or finite.max() == 0:
        return 2
    return int(min(4, max(0, 3 - np.floor(np.log10(finite.max())))))


def number(value: float) -> str:
    """4 significant figures, or whole with thousands separators from 1,000 (costs), so a
    column reads alike (2,752 beside 14,820, not 2752)."""
    return f"{value:,.0f}" if abs(value) >= 1_000 else f"{value:.4g}"
