"""Can a model meet both Keystone figures at 16-18 months: IRR 0.34 and a crude mean of 1.4?

Pronovost et al. (NEJM 2006;355:2725-32) report, for the same 103 ICUs, a baseline mean of 7.7
CRBSI per 1000 catheter-days (median 2.7), a crude mean of 1.4 at 16-18 months (a ratio of
0.18) and a multilevel-Poisson incidence-rate ratio of 0.34 (95% CI 0.23-0.50). The model meets
the IRR and misses the crude mean (about 2.7; docs/validation.md). This script checks, with the
keystone scenario's own ICU sizes and baseline rates (``sim.state.draw_sites``), which
explanations can separate the two figures. For each hypothesis the post-programme effect is set
so that the expected IRR is 0.34, and the crude mean that follows is reported.

* ``proportional``: the model as it is. Every ICU's rate is multiplied by the same factor k.
* ``paper's estimator``: the same, but the IRR is estimated from Poisson counts with ICU fixed
  effects (conditional Poisson; the random-intercept model of the paper estimates the same
  within-ICU contrast). With equal windows its estimate is exactly sum(post) / sum(baseline),
  i.e. the pooled ratio the model reports, so this alone cannot separate the figures.
* ``floor``: a common achievable rate f = 1 per 1000 (a non-preventable share of infections):
  rate = min(f, r) + (r - min(f, r)) k. High-rate ICUs fall proportionally more, but the crude
  mean (equal weights) and the pooled IRR (catheter-day weights) still average over the same
  ICUs in the same way, so they move together.
* ``floor + small ICUs worse``: as ``floor``, with ICU sizes spread wider (log-sd 1.0) and
  baseline rates rising as size falls (rate ~ size^-1). Now the crude mean is dominated by small,
  high-rate ICUs that fall most, and the IRR by large ICUs: the two figures separate.

Result (``python3 docs/analysis/keystone_crude_vs_irr.py``, about 20 s, root seed fixed): the
first three give a crude mean of 2.6 at 16-18 months, whatever the estimator or the floor. Only
the coupling of rate to ICU size separates the figures, and only in a narrow region: ICU sizes
with a log-sd of 1.0-1.2 (the default is 0.5: ICUs of 4 to well over 100 clinicians), rates
falling as size^-1 to size^-1.25, a floor of 1-1.25 per 1000 and a narrower spread of the rest
(gamma shape 2-3 instead of 0.45): 10 of 81 grid points meet the baseline median, the skew and
the crude mean. Even there the baseline's third quartile stays near 10 against the 4.8 of the
BMJ 2010 cohort, so the published distribution does not single it out. The papers report
neither the size spread nor a coupling of rate to size; adopting it would fit four unsourced
parameters to one row, so the model keeps its proportional effect and the row is reported as
failing (docs/validation.md).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from sim.loader import load_scenario
from sim.state import draw_sites

TARGET_IRR = 0.34  # Pronovost 2006, 16-18 months
WINDOW_MONTHS = 3  # baseline and 16-18 month windows, both three months
REPS = 300
SEED = 20061228  # publication date of the NEJM paper
COLUMNS = ("base mean", "base median", "base Q3", "post mean", "post median", "post Q3", "IRR")
SHAPE = 0.45  # keystone.toml's event_rate_shape (gamma spread of ICU baseline rates)


def fe_poisson_irr(o0: np.ndarray, t0: np.ndarray, o1: np.ndarray, t1: np.ndarray) -> float:
    """Conditional (ICU fixed-effect) Poisson estimate of the post / baseline rate ratio.

    ``o0, o1``: event counts per ICU, shape ``(n,)``; ``t0, t1``: exposure (1000 catheter-days)
    per ICU. Solves the conditional score ``sum(o1 - n e^b t1 / (t0 + e^b t1)) = 0`` over ICUs
    with at least one event (Cameron & Trivedi 2013, ch. 9). Raises ``ValueError`` if no ICU
    has an event.
    """
    n = o0 + o1
    keep = n > 0
    if not keep.any():
        raise ValueError("no ICU has an event: the IRR is not estimable")
    o1, t0, t1, n = o1[keep], t0[keep], t1[keep], n[keep]

    def score(b: float) -> float:
        return float((o1 - n * np.exp(b) * t1 / (t0 + np.exp(b) * t1)).sum())

    return float(np.exp(brentq(score, -20.0, 20.0)))


def post_rates(r: np.ndarray, k: float, floor: float) -> np.ndarray:
    """Rates after the programme: the part above ``min(floor, r)`` is multiplied by ``k``."""
    a = np.minimum(floor, r)
    return a + (r - a) * k


def pooled_irr(r: np.ndarray, t: np.ndarray, k: float, floor: float) -> float:
    """Expected post / baseline ratio of events, catheter-day weighted (the model's IRR)."""
    return float((post_rates(r, k, floor) * t).sum() / (r * t).sum())


def _icus(rng: np.random.Generator, size_sigma: float, size_power: float, shape: float):
    """103 keystone ICUs: (baseline rates per 1000 catheter-days, 1000 catheter-days a window)."""
    scn = load_scenario("keystone")
    sites = scn.sites.model_copy(update={"size_sigma": size_sigma})
    challenge = scn.challenge.model_copy(update={"event_rate_shape": shape})
    scn = scn.model_copy(update={"sites": sites, "challenge": challenge})
    s = draw_sites(scn, scn.sites.n_sites, rng, arm=1)
    size = s["size"].astype(float)
    rel = s["base_event_rate"] * (size / size.mean()) ** (-size_power)
    r = rel * scn.challenge.baseline_event_rate / rel.mean()  # equal-weight mean 7.7, as published
    days = size * scn.sites.patient_days_per_clinician_month * WINDOW_MONTHS / 1000.0
    return r, days


def run(
    name: str,
    floor: float,
    size_sigma: float,
    size_power: float,
    estimator: bool,
    shape: float = SHAPE,
    reps: int = REPS,
) -> dict | None:
    """Medians over ``reps`` draws of the baseline and 16-18 month figures under one hypothesis
    (``None`` when the floor is too high for an IRR of 0.34 in half the draws or more)."""
    rng = np.random.default_rng(SEED)
    rows = []
    for _ in range(reps):
        r, t = _icus(rng, size_sigma, size_power, shape)
        if pooled_irr(r, t, 0.0, floor) > TARGET_IRR:
            continue  # the floor alone is above 0.34 of the baseline: counted below
        k = brentq(lambda k, r=r, t=t: pooled_irr(r, t, k, floor) - TARGET_IRR, 0.0, 1.0)
        o0 = rng.poisson(r * t)
        o1 = rng.poisson(post_rates(r, k, floor) * t)
        irr = fe_poisson_irr(o0, t, o1, t) if estimator else (o1.sum() / o0.sum())
        base, post = o0 / t, o1 / t
        q_base, q_post = np.percentile(base, 75), np.percentile(post, 75)
        rows.append(
            [base.mean(), np.median(base), q_base, post.mean(), np.median(post), q_post, irr]
        )
    if len(rows) < reps / 2:
        return None
    return {
        "hypothesis": name,
        "left out": reps - len(rows),  # draws whose floor alone is above 0.34 of the baseline
        **dict(zip(COLUMNS, np.median(np.array(rows), axis=0), strict=True)),
    }


HYPOTHESES = [
    ("proportional (the model)", 0.0, 0.5, 0.0, False),
    ("paper's estimator", 0.0, 0.5, 0.0, True),
    ("floor 1 per 1000", 1.0, 0.5, 0.0, True),
    ("floor + small ICUs worse", 1.0, 1.0, 1.0, True),
    ("the same, fitted to this row", 1.0, 1.2, 1.0, True, 3.0),
]


GRID = {
    "size_sigma": (0.5, 1.0, 1.2),
    "size_power": (0.0, 1.0, 1.25),
    "floor": (0.0, 1.0, 1.25),
    "shape": (0.45, 2.0, 3.0),
}


def meets(row: dict) -> bool:
    """Within 25% of all three published figures the IRR does not fix: the baseline median
    (2.7), the baseline mean / median skew (7.7 / 2.7) and the 16-18 month crude mean (1.4)."""
    skew = row["base mean"] / row["base median"] if row["base median"] > 0 else np.inf
    return (
        abs(row["base median"] / 2.7 - 1.0) <= 0.25
        and abs(skew / (7.7 / 2.7) - 1.0) <= 0.25
        and abs(row["post mean"] / 1.4 - 1.0) <= 0.25
    )


def grid(reps: int = 100) -> list[dict]:
    """Every combination of :data:`GRID` (pooled IRR held at 0.34): one row each, with
    ``meets`` set; combinations whose floor makes 0.34 unreachable are left out."""
    rows = []
    for sig in GRID["size_sigma"]:
        for power in GRID["size_power"]:
            for floor in GRID["floor"]:
                for shape in GRID["shape"]:
                    name = f"sd {sig} power {power} floor {floor} shape {shape}"
                    row = run(name, floor, sig, power, False, shape=shape, reps=reps)
                    if row is not None:
                        rows.append({**row, "meets": meets(row)})
    return rows


HEAD = f"{'hypothesis':<40} " + " ".join(f"{c:>11}" for c in (*COLUMNS, "crude ratio", "left out"))


def _print(row: dict) -> None:
    values = [row[c] for c in COLUMNS] + [row["post mean"] / row["base mean"]]
    text = " ".join(f"{v:11.2f}" for v in values)
    print(f"{row['hypothesis']:<40} {text} {row['left out']:11d}")


def main() -> None:
    """Print one row per hypothesis, then the grid's best rows (published: 7.7, 2.7, 4.8, 1.4,
    0, 2.4, IRR 0.34; Q3s from the BMJ 2010 cohort of 90 ICUs)."""
    print(HEAD)
    for args in HYPOTHESES:
        _print(run(*args))
    published = [7.7, 2.7, 4.8, 1.4, 0.0, 2.4, 0.34, 1.4 / 7.7]
    print(f"{'published (Pronovost 2006, 2010)':<40} " + " ".join(f"{v:11.2f}" for v in published))
    rows = grid()
    ok = [r["hypothesis"] for r in rows if r["meets"]]
    print(
        f"\ngrid: {len(rows)} combinations reach IRR 0.34; {len(ok)} also meet the baseline median,"
    )
    print("the skew and the crude mean within 25%:", *(ok or ["none"]), sep="\n  ")
    print("Lowest crude means (left out: draws of 100 in which IRR 0.34 is unreachable):")
    print(HEAD)
    for row in sorted(rows, key=lambda r: r["post mean"])[:6]:
        _print(row)


if __name__ == "__main__":
    main()
