"""Plain-language sentences of a comparison: one per (design, outcome), and how numbers read.

:func:`plain_line` words one row of :attr:`sim.compare.Comparison.table`; :func:`decimals`,
:func:`amount` and :func:`format_ci` give the numbers one number of decimals per sentence or
table row; :func:`intervals_caveat` says what the intervals mean. Used by
:mod:`sim.compare.report`.
"""

from __future__ import annotations

import math
from typing import Any

from sim.compare.outcomes import OUTCOME_BY_METRIC, Outcome
from sim.compare.paired import CONFIDENCE

MAX_DECIMALS = 4
"""Most decimals a number is given (display unit); past it a difference reads as 0."""
TIE_SHARE = 0.05
"""Share of tied pairs (0-1) from which a sentence gives the shares better, same and worse."""
LEVEL_WORDS = {"t50_months": "half the gap", "t90_months": "90% of the gap"}


def decimals(o: Outcome, *values: float) -> int:
    """Decimals for numbers shown together (a sentence, a table row), in the display unit.

    One decimal, or more so that the largest ``|value| * o.scale`` keeps two significant
    digits (at most :data:`MAX_DECIMALS`): ``0.099`` and ``0.4`` give 2 (``0.10``, ``0.40``);
    a CI end near 0 then reads ``0.00``, never ``0.0004`` beside ``0.13``. Money: 0. ``nan``
    and 0 are ignored.
    """
    if o.money:
        return 0
    mags = [abs(v) * o.scale for v in values if _present(v) and v != 0]
    if not mags:
        return 1
    return min(MAX_DECIMALS, max(1, 1 - math.floor(math.log10(max(mags)))))


def amount(o: Outcome, value: float, places: int) -> str:
    """``|value|`` in the outcome's display unit: money as ``1,234``, else ``places`` decimals."""
    v = abs(value) * o.scale
    return f"{v:,.0f}" if o.money else f"{v:.{places}f}"


def signed(o: Outcome, value: float, places: int) -> str:
    """``value`` in the display unit with a ``-`` when negative (``n/a`` for ``nan``)."""
    if not _present(value):
        return "n/a"
    return ("-" if value < 0 else "") + amount(o, value, places)


def _word(o: Outcome, value: float) -> str:
    return o.more if value >= 0 else o.less


def format_ci(o: Outcome, low: float, high: float, mean: float) -> str:
    """The CI in the sentence's own words: ``3.2-5.0`` (both bounds on the mean's side) or
    ``0.20 fewer to 0.05 more`` (the CI includes no difference); the decimals of
    :func:`decimals` of the mean and both bounds."""
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    p = decimals(o, mean, low, high)
    if low > 0 and mean >= 0:
        return f"{amount(o, low, p)}-{amount(o, high, p)}"
    if high < 0 and mean <= 0:
        return f"{amount(o, high, p)}-{amount(o, low, p)}"
    return f"{amount(o, low, p)} {_word(o, low)} to {amount(o, high, p)} {_word(o, high)}"


def intervals_caveat(reps: int) -> str:
    """One sentence on what the CIs and P(better) do and do not describe."""
    return (
        f"The CIs and P(better) show the model's own randomness over the {reps} paired "
        "replications, not uncertainty in the model's parameters or in what a real programme "
        "would achieve: more replications narrow them without making the model more right."
    )


def plain_line(row: Any) -> str:
    """One sentence for one row of the comparison table.

    Example: ``"soft_only closes half the gap 4.1 months later than keystone (95% CI
    3.2-5.0); P(faster) = 0.03"``, followed by the shares of pairs when ties are many and
    what was restricted or left out.

    Args:
        row: a row (mapping or namedtuple-like) of :attr:`Comparison.table`.

    Returns:
        The sentence (no trailing full stop).
    """
    r = dict(row._asdict()) if hasattr(row, "_asdict") else dict(row)
    o = OUTCOME_BY_METRIC[r["metric"]]
    if not r["n_pairs"]:
        return f"{r['design']} vs {r['baseline']}: {o.label} undefined in every pair"
    censored = _all_censored_line(r, o)
    if censored:
        return censored
    mean = float(r["diff_mean"])
    sd = r.get("diff_sd")
    if mean == 0 and (not _present(sd) or float(sd) == 0):  # zero in every pair: no CI to give
        n = int(r["n_pairs"])
        if o.phrase.startswith("costs {amount} {dir} than"):
            same = f"costs the same as {r['baseline']}"
        else:
            same = f"has the same {o.label} as {r['baseline']}"
        return f"{r['design']} {same} (difference 0 in all {n} paired runs)" + _caveats(r)
    if _present(sd) and float(sd) == 0:  # the same difference in every pair: set by the design
        body = o.phrase.format(amount=amount(o, mean, decimals(o, mean)), dir=_word(o, mean))
        return (
            f"{r['design']} {body} {r['baseline']} in every one of the {int(r['n_pairs'])} "
            "paired runs (no spread: the difference is set by the design, not estimated)"
        ) + _caveats(r)
    low, high = float(r["ci_low"]), float(r["ci_high"])
    body = o.phrase.format(amount=amount(o, mean, decimals(o, mean, low, high)), dir=_word(o, mean))
    ci = format_ci(o, low, high, mean)
    line = f"{r['design']} {body} {r['baseline']} ({CONFIDENCE:.0%} CI {ci}); "
    return line + p_better_text(r, o) + _caveats(r)


def p_better_text(r: dict[str, Any], o: Outcome) -> str:
    """``P(faster) = 0.58``; when ties are :data:`TIE_SHARE` of pairs or more, followed by
    the shares, e.g. ``": faster in 17% of pairs, the same in 83%, slower in 0%"``."""
    text = f"P({o.better}) = {float(r['p_better']):.2f}"
    shares = _shares(r)
    if shares is None or shares[1] < TIE_SHARE:
        return text
    better, same, worse = (percent(s) for s in shares)
    return f"{text}: {o.better} in {better} of pairs, the same in {same}, {o.worse} in {worse}"


def _shares(r: dict[str, Any]) -> tuple[float, float, float] | None:
    """Shares of pairs (0-1) better, tied and worse; from ``n_ties`` and ``p_better`` for a
    row without the share columns; ``None`` if unknown."""
    if _present(r.get("share_tied")):
        return float(r["share_better"]), float(r["share_tied"]), float(r["share_worse"])
    n, ties, p = r.get("n_pairs"), r.get("n_ties"), r.get("p_better")
    if not (n and _present(ties) and _present(p)):
        return None
    tied = float(ties) / float(n)
    better = float(p) - tied / 2
    return better, tied, max(0.0, 1.0 - better - tied)


def percent(share: float) -> str:
    """A share (0-1) as a whole percentage (``"17%"``), ``<1%`` / ``>99%`` rather than a false
    0 or 100."""
    text = f"{100 * share:.0f}"
    if text == "0" and share > 0:
        return "<1%"
    if text == "100" and share < 1:
        return ">99%"
    return f"{text}%"


def _all_censored_line(r: dict[str, Any], o: Outcome) -> str:
    """A sentence for times where a whole design never reached the level (else ``""``):
    a mean difference would only be a bound there, so say what happened instead."""
    n, nr_d, nr_b = r["n_pairs"], r.get("not_reached_design"), r.get("not_reached_baseline")
    if not _present(nr_d) or (nr_d < n and nr_b < n):
        return ""
    what, tau = LEVEL_WORDS[r["metric"]], r["window_months"]
    d, b = r["design"], r["baseline"]
    if nr_d == n and nr_b == n:
        return f"neither {d} nor {b} closes {what} within {tau:g} months in any of {n} runs"
    p = p_better_text(r, o)
    if nr_d == n:
        return (
            f"{d} does not close {what} within {tau:g} months in any of {n} runs; {b} does in "
            f"{n - int(nr_b)} (restricted mean {r['mean_baseline']:.1f} months); {p}"
        )
    return (
        f"{d} closes {what} within {tau:g} months in {n - int(nr_d)} of {n} runs "
        f"(restricted mean {r['mean_design']:.1f} months), {b} in none; {p}"
    )


def _caveats(r: dict[str, Any]) -> str:
    """What was restricted or left out, in brackets (``""`` if nothing)."""
    notes = []
    window = r.get("window_months")
    nr_d, nr_b = r.get("not_reached_design"), r.get("not_reached_baseline")
    if _present(nr_d) and (nr_d or nr_b):
        notes.append(_censoring_note(r, window, int(nr_d), int(nr_b)))
    elif r["metric"] == "gap_auc" and _present(window):
        notes.append(f"first {window:g} months from programme start")
    elif r["metric"] == "gap_window_end" and _present(window):
        notes.append(f"month {window:g} from programme start, observed in every design")
    if r.get("n_missing"):
        notes.append(f"undefined in {int(r['n_missing'])} pairs, left out")
    if _present(r.get("ci_width_ratio")):
        notes.append(f"CRN would give a CI {r['ci_width_ratio']:.2f} times as wide")
    return f" [{'; '.join(notes)}]" if notes else ""


def _censoring_note(r: dict[str, Any], window: float, nr_d: int, nr_b: int) -> str:
    """How many runs did not reach the level; when more than half of either design's runs
    did not, that the difference is one of restricted means, not of typical times."""
    d, b, n = r["design"], r["baseline"], int(r["n_pairs"])
    note = (
        f"not reached within {window:g} months in {nr_d} {d} and {nr_b} {b} runs, "
        f"counted as {window:g}"
    )
    if max(nr_d, nr_b) * 2 <= n:
        return note
    most = " and ".join(name for name, k in ((d, nr_d), (b, nr_b)) if k * 2 > n)
    return (
        f"{note}: with most runs of {most} not there, this is a difference "
        f"between restricted means up to {window:g} months and mostly reflects how many runs "
        "got there, not a typical time"
    )


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
