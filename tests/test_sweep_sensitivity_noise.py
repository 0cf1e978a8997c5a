"""The sweep's noise checks use the right noise for each comparison.

1. the non-monotone test pairs each two levels by replication, with that pair's own noise;
2. the within-point share of the seed noise is a variance component, not a ratio of sums of
   squares (which shrinks as (R - 1) / R);
3. each lever's index has its own seed-noise term beside the overall floor;
4. the Sobol "unstable" warning does not fire for an index that is 0 up to float noise;
5. partial-dependence bands need at least 3 clusters;
6. with one replication the seed-noise text claims no floor.

Every synthetic case has an answer known from its construction (stated beside each assert).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

# ------------------------------------------------------------------ 1: per-pair paired tests

# A trial's level means (customisation lever on events_avoided, 6 levels, R = 20): a peak at
# the third level, a small rise before it (0.26 paired SE) and a large fall after it (1.14)
TRIAL_MEANS = np.array([32.03, 33.43, 33.90, 32.53, 29.96, 25.49])
TRIAL_SD = np.array([0.8, 0.8, 0.8, 1.5, 3.0, 5.0])  # seed noise of M[j, r], not shared


def _table_runs(means: np.ndarray, sd: np.ndarray, reps: int, seed: int) -> pd.DataFrame:
    """One point per level, ``reps`` replications: y[j, r] = means[j] + b[r] + e[j, r], b the
    shift every level shares under CRN (sd 3), e of sd ``sd[j]``."""
    rng = np.random.default_rng(seed)
    k = len(means)
    y = (
        means[:, None]
        + rng.normal(0, 3.0, reps)[None, :]
        + rng.normal(0, 1, (k, reps)) * sd[:, None]
    )
    return pd.DataFrame(
        {"point": np.repeat(np.arange(k), reps), "replication": np.tile(np.arange(reps), k)}
        | {"x": np.repeat(np.linspace(0, 1, k), reps), "y": y.ravel()}
    )


def test_a_peak_with_unequal_noise_is_found_by_paired_tests() -> None:
    from sim.sweep.shape import lever_shape

    runs = _table_runs(TRIAL_MEANS, TRIAL_SD, 20, seed=2)
    # paired SE of 0 -> 2: sqrt(0.8^2 + 0.8^2 / 1) / sqrt(20) = 0.25, the rise 1.87 is t ~ 7;
    # 2 -> 5: sqrt(0.8^2 + 5^2) / sqrt(20) = 1.13, the fall 8.4 is t ~ 7.4; both far above the
    # Bonferroni critical value t(1 - 0.05 / 30, 19) = 3.35. One pooled interaction mean square
    # (about 2 x 7 / 20 -> SE 0.8) would leave the rise at t ~ 2.3 and call it "decreases".
    shape = lever_shape(runs, "x", "y", grid=True)
    assert shape.kind == "peaked"
    assert shape.df == 19  # R - 1


def _false_calls(cases: int, seed: int) -> float:
    """Share of monotone or constant levers called non-monotone, with unequal noise."""
    from sim.sweep.shape import classify, pair_noise

    rng = np.random.default_rng(seed)
    calls = 0
    for _ in range(cases):
        k, reps = int(rng.integers(3, 9)), int(rng.choice([3, 5, 10, 20]))
        sd = np.exp(rng.normal(0, 1, k))  # seed noise differing up to ~50-fold between levels
        # truth: constant (a third), a ramp, or one step, increasing; sizes near the noise
        kind = rng.integers(3)
        truth = np.zeros(k) if kind == 0 else (
            np.linspace(0, rng.uniform(0, 3), k) if kind == 1
            else np.where(np.arange(k) >= rng.integers(1, k), rng.uniform(0, 3), 0.0)
        )  # fmt: skip
        table = (
            truth[:, None]
            + rng.normal(0, 2, reps)[None, :]
            + rng.normal(0, 1, (k, reps)) * sd[:, None]
        )
        var, df = pair_noise(table)
        calls += classify(table.mean(axis=1), np.sqrt(var), df) != ""
    return calls / cases


def test_monotone_levers_with_unequal_noise_keep_the_family_wise_rate() -> None:
    # 1000 synthetic monotone or constant levers (3-8 levels, R in 3-20, log-normal noise per
    # level): a non-monotone call needs a significant difference in the wrong direction, which
    # the Bonferroni paired tests allow in at most 5% of cases (the family-wise claim, so the
    # bound is 0.05 itself). Measured: 0.2% (2 of 1000, seed 2026); the pooled interaction
    # mean square this replaced called 3.0% of the same cases non-monotone (too small an SE
    # for the noisy pairs).
    assert _false_calls(1000, seed=2026) <= 0.05


# ------------------------------------------------------------------ 2: variance components


def _one_way(points: int, reps: int, sd_between: float, sd_within: float, seed: int):
    """Runs y[p, r] = a[p] + e[p, r], a of sd ``sd_between``, e of sd ``sd_within``."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0, sd_between, points)[:, None] + rng.normal(0, sd_within, (points, reps))
    return pd.DataFrame(
        {"point": np.repeat(np.arange(points), reps), "replication": np.tile(range(reps), points)}
        | {"y": y.ravel()}
    )


def test_within_point_share_is_unbiased_at_two_replications() -> None:
    from sim.sweep.seed_noise import seed_noise

    # equal between- and within-point variances (1 and 1): the within share is 0.5 whatever R.
    # The ratio of sums of squares would give about P (R - 1) / ((P R - 1) + R (P - 1)) = 0.25
    # at R = 2. The variance-component estimate has sd ~0.013 here (MS_within sd 0.032 over
    # 2000 df, MS_between sd 0.095 over 1999 df), so 0.05 is ~4 sd
    for reps in (2, 8):
        noise = seed_noise(_one_way(2000, reps, 1.0, 1.0, seed=reps), "y", "sobol")
        assert noise.within_share == pytest.approx(0.5, abs=0.05)


# ------------------------------------------------------------------ 3: each lever's own noise

PROBLEM = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}


def _binned_noise_runs(X: np.ndarray, reps: int, sd: float, bins: int, seed: int):
    """y[p, r] = 3 a + z[r, bin(b)] + b_r: b has no effect, but the seed's effect depends on
    which of ``bins`` equal bins b falls in (z of sd ``sd``), so points in the same bin of b
    share their noise exactly, as points that differ only in a do under CRN; b_r is a shift
    common to every point (sd 1)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, sd, (reps, bins))
    cell = np.minimum((X[:, 1] * bins).astype(int), bins - 1)
    y = 3 * X[:, [0]] + z[:, cell].T + rng.normal(0, 1.0, reps)[None, :]
    n = len(X)
    return pd.DataFrame(
        {"point": np.repeat(np.arange(n), reps), "replication": np.tile(np.arange(reps), n)}
        | {"y": y.ravel()}
    ), y.mean(axis=1)


def test_sobol_lever_noise_is_each_levers_own() -> None:
    from sim.sweep.samplers import sobol_design
    from sim.sweep.seed_noise import lever_noise, noise_text, seed_noise
    from sim.sweep.sensitivity import sobol_indices

    X = sobol_design(PROBLEM, 1024, seed=5)
    reps, sd, bins = 4, 0.5, 256
    runs, Y = _binned_noise_runs(X, reps, sd, bins, seed=6)
    terms = lever_noise(runs, "y", X, "sobol", PROBLEM["bounds"])
    own = dict(zip(PROBLEM["names"], terms, strict=True))
    floor = seed_noise(runs, "y", "sobol").floor
    # A and AB_a differ only in a: the same bin of b, the same noise, so a's own noise is 0
    # (up to float rounding) although the overall floor is ~0.08
    assert own["a"] < 1e-12 < 0.05 < floor
    # A and AB_b fall in different bins with probability 255/256, with independent noise of
    # variance 2 sd^2 between them: ST_noise_b = 0.5 x (255/256) 2 sd^2 / R / V, V = 0.75 +
    # sd^2 / R (a's effect plus the noise of a point mean) = 0.0625 / 0.8125 = 0.077. The
    # estimate averages 1024 variances with 3 df each over 1024 x 4 noise draws: relative sd
    # ~3%, so 15% is 5 sd
    truth = 0.5 * (255 / 256) * 2 * sd**2 / reps / (0.75 + sd**2 / reps)
    assert own["b"] == pytest.approx(truth, rel=0.15)
    # b has no effect, so its whole ST is seed noise: Jansen's ST_b estimates the same thing
    # (relative sd sqrt(2 / 1024) = 4.4% plus the noise's own draw, so 20% is > 3 sd)
    idx = sobol_indices(PROBLEM, Y).set_index("parameter")
    assert idx.loc["b", "ST"] == pytest.approx(own["b"], rel=0.20)
    # the report names b (ST within 2x its own noise), not a (ST ~0.9 beside noise 0)
    table = idx.reset_index().assign(ST_noise=lambda t: t["parameter"].map(own))
    text = noise_text(seed_noise(runs, "y", "sobol"), "sobol", table)
    assert "Within 2x of their own seed noise (ST < 2 x ST_noise): b." in text
    assert "not a bound for each lever" in text  # the floor is a summary


def test_morris_lever_noise_is_each_levers_own() -> None:
    from sim.sweep.samplers import morris_design
    from sim.sweep.seed_noise import lever_noise

    X = morris_design(PROBLEM, 200, 4, seed=3)  # b takes the 4 grid levels: 4 bins
    reps, sd = 50, 0.6
    runs, _ = _binned_noise_runs(X, reps, sd, bins=4, seed=4)
    a, b = lever_noise(runs, "y", X, "morris", PROBLEM["bounds"], levels=4)
    # a step in a keeps b's level: the same noise at both points, so a's own noise is 0
    assert a < 1e-12
    # a step in b changes its level: independent noise of variance 2 sd^2 between the two
    # points, an elementary effect's noise sd sqrt(2 sd^2 / R) / Delta (Delta = 2/3), and
    # mu*_noise = that sd x sqrt(2 / pi) = 0.1436. Its estimate rests on 4 levels x 50
    # replications of z: relative sd ~7%, so 25% is > 3 sd
    truth = np.sqrt(2 * sd**2 / reps) / (4 / 6) * np.sqrt(2 / np.pi)
    assert b == pytest.approx(truth, rel=0.25)


# ------------------------------------------------------------------ 6: one replication


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_one_replication_claims_no_floor(method: str) -> None:
    from sim.sweep.seed_noise import noise_text, seed_noise

    runs = _one_way(50, 1, 1.0, 1.0, seed=1)  # one replication: no seed noise can be sized
    noise = seed_noise(runs, "y", method)
    text = noise_text(noise, method, pd.DataFrame({"parameter": ["a"], "ST": [0.5]}))
    assert noise.replications == 1 and np.isnan(noise.floor)
    assert "R = 1 replications" not in text  # no plural for one
    assert "near or below the floor" not in text and "no noise floor" in text


# ------------------------------------------------------------------ 4: Sobol "unstable"


def _sobol_table(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["parameter", "S1", "S1_conf", "ST", "ST_conf"])


def test_an_index_of_zero_is_not_called_unstable() -> None:
    from sim.sweep.ranking import sobol_warnings, top_levers

    # a trial's lever over the range [0.6, 0.6001]: its true indices are 0, and S1 2.7e-5
    # above ST 8.8e-8 + 1.7e-7 is float noise that no sample size removes
    table = _sobol_table([("big", 0.9, 0.05, 0.95, 0.05), ("tiny", 2.7e-5, 1e-5, 8.8e-8, 1.7e-7)])
    assert sobol_warnings(table) == ""
    assert "unstable" not in top_levers(table, "sobol", samples=64)
    # a real excess still warns: S1 0.5 over ST 0.3 + 0.05 (impossible for exact indices)
    bad = _sobol_table([("big", 0.5, 0.05, 0.3, 0.05), ("other", 0.2, 0.05, 0.6, 0.05)])
    assert "unstable (S1 above ST for big" in sobol_warnings(bad)


# ------------------------------------------------------------------ 5: bands need 3 clusters


def _pd_runs(reps: int, points_per_level: int, seed: int) -> pd.DataFrame:
    """5 levels of x, ``points_per_level`` points each (other levers: a random z), runs
    y = x + z + b_r + e (b the CRN shift, sd 1; e sd 0.3)."""
    rng = np.random.default_rng(seed)
    n = 5 * points_per_level
    x, z = np.repeat(np.linspace(0, 1, 5), points_per_level), rng.uniform(0, 1, n)
    y = (x + z)[:, None] + rng.normal(0, 1, reps)[None, :] + rng.normal(0, 0.3, (n, reps))
    return pd.DataFrame(
        {"point": np.repeat(np.arange(n), reps), "replication": np.tile(np.arange(reps), n)}
        | {"x": np.repeat(x, reps), "z": np.repeat(z, reps), "gap_auc": y.ravel()}
    )


@pytest.mark.parametrize("grid", [True, False])
def test_partial_dependence_draws_no_band_from_two_replications(grid: bool) -> None:
    from sim.sweep.plots import partial_dependence_lines
    from sim.sweep.sensitivity import partial_dependence

    # two replications: each level's variance rests on 1 df (t(0.975, 1) = 12.7), so no band
    two = _pd_runs(reps=2, points_per_level=6, seed=1)
    pdp = partial_dependence(two, "x", "gap_auc", grid=grid)
    assert pdp[["se", "low", "high"]].isna().all().all()
    assert pdp["mean"].notna().all()  # the line itself is still drawn
    title = partial_dependence_lines(two, ["x"], "gap_auc", grid=grid)._suptitle.get_text()
    assert "no 95% band: 2 replications" in title.replace("\n", " ")
    # three replications (and 6 points per level): G = 3 clusters, a band again
    three = _pd_runs(reps=3, points_per_level=6, seed=1)
    assert partial_dependence(three, "x", "gap_auc", grid=grid)["low"].notna().all()
    title = partial_dependence_lines(three, ["x"], "gap_auc", grid=grid)._suptitle.get_text()
    # the title says how the band is clustered, as docs/sweeps.md does for each design
    words = "clustered by seed" if grid else "clustered two ways"
    assert words in title.replace("\n", " ")
