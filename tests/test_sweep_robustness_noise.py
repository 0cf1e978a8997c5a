"""Is a most-robust policy's lead larger than the seed noise? (sim.sweep.robustness_noise)

Synthetic sweeps whose truth is known: P policies x S states x R replications, an outcome
where lower is better, ``y = state effect + policy effect + seed shift + noise``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sweep.robustness import most_robust, robustness_table, state_values
from sim.sweep.robustness_noise import CLEAR, lead_stability, stability_lines


def _sweep(effects, reps, shift_sd, noise_sd, states=6, seed=1):
    """Runs and design of a synthetic robustness sweep (lower outcome is better)."""
    rng = np.random.default_rng(seed)
    n_pol = len(effects)
    design = pd.DataFrame(
        {
            "point": np.arange(n_pol * states),
            "policy": np.repeat(np.arange(n_pol), states),
            "state": np.tile(np.arange(states), n_pol),
        }
    )
    state_effect = rng.normal(0, 1, states)
    shift = rng.normal(0, shift_sd, reps)  # common random numbers: one shift per seed
    point = np.repeat(design["point"].to_numpy(), reps)
    rep = np.tile(np.arange(reps), len(design))
    y = (
        state_effect[design["state"].to_numpy()][point]
        + np.asarray(effects, dtype=float)[design["policy"].to_numpy()][point]
        + shift[rep]
        + rng.normal(0, noise_sd, point.size)
    )
    return pd.DataFrame({"point": point, "replication": rep, "y": y}), design


def _stability(runs, design, threshold=None):
    table = robustness_table(state_values(runs, design, "y"), True, threshold)
    found = most_robust(table, True)
    return found, lead_stability(runs, design, "y", True, threshold, found, seed=3)


def test_a_lead_far_beyond_the_noise_is_clear() -> None:
    runs, design = _sweep([0.0, 2.0, 4.0], reps=12, shift_sd=0.1, noise_sd=0.1)
    found, stab = _stability(runs, design)
    assert [f.policies for f in found] == [[0]] * 4  # mean, worst decile, both regrets
    assert all(s.share == 1.0 and s.rival is None for s in stab)
    assert stability_lines(stab, {}, 12)[0].endswith(f"at least {CLEAR:.0%} of the resamples.")


def test_a_shared_seed_shift_does_not_blur_a_lead() -> None:
    """A seed shift 50x the lead, but shared by every policy (CRN), cancels in the comparison:
    resampling the same replications for every point keeps the lead clear. Resampling each
    point's replications independently would not (the shift alone moves a state mean by
    ~5/sqrt(8) ~ 1.8, far more than the lead of 0.1)."""
    runs, design = _sweep([0.0, 0.1], reps=8, shift_sd=5.0, noise_sd=0.001)
    _, stab = _stability(runs, design)
    assert all(s.share == 1.0 for s in stab)


def _tie_shares(reps: int, sweeps: int = 30) -> list:
    """The 'mean' verdict's stability in ``sweeps`` synthetic sweeps of two equal policies."""
    found_all = []
    for seed in range(sweeps):
        runs, design = _sweep([0.0, 0.0, 3.0], reps=reps, shift_sd=0.0, noise_sd=1.0, seed=seed)
        table = robustness_table(state_values(runs, design, "y"), True, None)
        found = [f for f in most_robust(table, True) if f.criterion == "mean"]
        (mean,) = lead_stability(runs, design, "y", True, None, found, seed=3, resamples=100)
        assert 2 not in mean.named  # the clearly worse policy never wins
        found_all.append(mean)
    return found_all


def test_a_tie_within_the_noise_is_rarely_called_clear_and_names_the_rival() -> None:
    """Two policies equal in truth, 12 replications. The bootstrap share of the data's winner
    is about Phi(|z|) of the observed difference, so it reaches 95% only when |z| > 1.645, in
    about 10% of such sweeps; more than 9 clear calls in 30 sweeps has probability < 1% under
    Binomial(30, 0.1). When not clear, the other policy is named as the rival."""
    shares = _tie_shares(12)
    clear = [s for s in shares if s.share >= CLEAR]
    assert len(clear) <= 9
    assert all(s.rival in {0, 1} and s.rival not in s.named for s in shares if s.share < CLEAR)
    lines = stability_lines(shares[:3], {0: "P0 (a)", 1: "P1 (b)"}, 12)
    assert all(
        ("clear." in x) == (s.share >= CLEAR) for x, s in zip(lines[1:], shares[:3], strict=False)
    )


def test_below_ten_replications_no_lead_is_called_clear() -> None:
    """With 6 replications the bootstrap called a true tie 'clear' in 10 of 30 sweeps (it is
    optimistic with few resampled units), so the report never says clear there."""
    shares = _tie_shares(6)
    assert sum(s.share >= CLEAR for s in shares) >= 4  # what the bootstrap alone would say
    text = "\n".join(stability_lines(shares, {0: "P0", 1: "P1"}, 6))
    assert ": clear." not in text and "at least 95%" not in text
    assert "not confirmed: with fewer than 10 replications" in text


def test_one_replication_cannot_be_resampled() -> None:
    runs, design = _sweep([0.0, 1.0], reps=1, shift_sd=0.0, noise_sd=0.1)
    assert _stability(runs, design)[1] == []
    assert stability_lines([], {}, 1) == []
