"""Rows of the validation table and the statistics that decide them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import beta

Z = 3.0  # one-sided paired z: ~0.1% false positives per check if the model had no effect


@dataclass
class Row:
    """One line of the validation table."""

    pattern: str
    check: str
    expected: str
    source: str
    simulated: float
    low: float
    high: float
    passed: bool

    def as_dict(self) -> dict:
        """Plain dict (for DataFrames and JSON)."""
        return asdict(self)


def paired(pattern: str, check: str, a: np.ndarray, b: np.ndarray, source: str = "ODD §1") -> Row:
    """Row for 'a exceeds b' on paired replications: mean(a - b) > Z x SE.

    Replications where either value is undefined (``nan``: e.g. a peripheral lag in a run that
    drew no peripheral site) are left out of both sides, and the check names how many.
    """
    d = a - b
    kept = ~np.isnan(d)
    if not kept.all():
        check = f"{check} ({int((~kept).sum())} of {d.size} runs undefined, left out)"
        d = d[kept]
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("inf")
    mean = float(d.mean())
    return Row(
        pattern,
        check,
        f"difference > {Z:g} SE",
        source,
        mean,
        mean - 1.96 * se,
        mean + 1.96 * se,
        bool(mean > Z * se),
    )


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of a proportion k/n."""
    a = (1.0 - level) / 2.0
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi
