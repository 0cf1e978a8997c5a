"""The sweep and sensitivity reports are honest about shape, noise and common random numbers.

1. a U-shaped or peaked lever is reported as non-monotone with its size, not as flat;
2. ``ccsim sensitivity --method morris`` draws the mu*-sigma diagram from its table;
3. the seed noise is sized beside the Sobol / Morris indices;
4. partial-dependence intervals account for the seeds shared across points.

Every synthetic case has an answer known from its construction (stated beside each assert).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import TINY, ccsim

from sim.sweep import load_sweep

SOFT, HARD = "programme.tactics.soft", "programme.tactics.hard"
X_LEVELS = [0.0, 0.25, 0.5, 0.75, 1.0]
Z_LEVELS = [0.0, 0.5, 1.0]


def _spec(tmp_path: Path):
    body = (
        f'name = "h"\nbase = "baseline"\nset = {json.dumps(TINY)}\nreplications = 4\n'
        f'[parameters."{SOFT}"]\nlevels = {X_LEVELS}\n'
        f'[parameters."{HARD}"]\nlevels = {Z_LEVELS}\n'
    )
    path = tmp_path / "h.toml"
    path.write_text(body, encoding="utf-8")
    return load_sweep(path)


def _grid_runs(f, reps: int = 4, noise: float = 0.05, shift: float = 1.0, seed: int = 1):
    """Runs of a 5 x 3 grid: y = f(x) + z + b_r + e, with b_r the shift replication r gives
    every point (common random numbers) and e independent noise."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, shift, reps)
    rows, point = [], 0
    for x in X_LEVELS:
        for z in Z_LEVELS:
            for r in range(reps):
                y = f(x) + z + b[r] + rng.normal(0.0, noise)
                rows.append({"point": point, "replication": r, SOFT: x, HARD: z, "gap_auc": y})
            point += 1
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ 1: non-monotone levers


def test_a_u_shaped_lever_is_non_monotone_with_its_size_not_flat(tmp_path: Path) -> None:
    from sim.sweep.report import directions

    runs = _grid_runs(lambda x: 8 * (x - 0.5) ** 2)
    rows = directions(runs, _spec(tmp_path), "gap_auc").set_index("parameter")
    u = rows.loc[SOFT]
    # symmetric U about the middle level: the rise cancels the fall, so rho is ~0 ...
    assert abs(u["spearman"]) < 0.1
    # ... but the lever is not flat
    assert u["direction"] == "non-monotone (U-shaped)"
    # level means of 8 (x - 0.5)^2: 2, 0.5, 0, 0.5, 2 -> range 2; the noise of a level mean
    # (sd 0.05 / sqrt(12) per level, the shift b_r cancels) is far below the 0.05 tolerance
    assert u["level_range"] == pytest.approx(2.0, abs=0.05)
    # eta^2 = var(level means) / (var(level means) + var(z)) = 0.7 / (0.7 + 1/6) (population
    # variances over the balanced grid; noise adds < 0.01)
    assert u["eta"] == pytest.approx(np.sqrt(0.7 / (0.7 + 1 / 6)), abs=0.01)
    # the other lever, z, is linear: still "increases"
    assert rows.loc[HARD, "direction"] == "increases"


def test_a_peaked_lever_is_non_monotone_peaked(tmp_path: Path) -> None:
    from sim.sweep.report import directions

    runs = _grid_runs(lambda x: -8 * (x - 0.5) ** 2)
    rows = directions(runs, _spec(tmp_path), "gap_auc").set_index("parameter")
    assert rows.loc[SOFT, "direction"] == "non-monotone (peaked)"
    assert rows.loc[SOFT, "level_range"] == pytest.approx(2.0, abs=0.05)


def test_monotone_and_null_levers_are_not_called_non_monotone(tmp_path: Path) -> None:
    from sim.sweep.report import directions

    spec = _spec(tmp_path)
    calls = []
    for seed in range(20):  # no effect of x: only noise (sd 0.3) between its levels
        runs = _grid_runs(lambda x: 0.0, noise=0.3, seed=seed)
        calls.append(directions(runs, spec, "gap_auc").set_index("parameter").loc[SOFT])
    false = sum(c["direction"].startswith("non-monotone") for c in calls)
    # the Bonferroni tests call a monotone (here constant) lever non-monotone with probability
    # <= 0.05: among 20 independent nulls P(more than 3) = 0.016 for Binomial(20, 0.05)
    assert false <= 3
    rising = directions(_grid_runs(lambda x: 2 * x, noise=0.3), spec, "gap_auc")
    assert rising.set_index("parameter").loc[SOFT, "direction"] == "increases"


def test_exact_level_means_are_classified_without_noise() -> None:
    from sim.sweep.shape import classify

    zero = np.zeros((4, 4))  # no noise at all: any real difference counts ...
    assert classify(np.array([1.0, 3.0, 2.0, 1.5]), zero, df=5) == "peaked"
    assert classify(np.array([2.0, 0.0, 1.0, 3.0]), zero, df=5) == "U-shaped"
    assert classify(np.array([0.0, 1.0, 2.0, 3.0]), zero, df=5) == ""
    # ... but float rounding (the same numbers summed in another order) is no difference
    wobble = np.array([0.1 + 0.2, 0.3, 0.2 + 0.1, 0.3])
    assert classify(wobble, zero, df=5) == ""
    assert classify(np.array([0.0, 1.0]), zero[:2, :2], df=5) == "not testable"  # 2 levels


def test_a_sampled_design_counts_the_other_levers_as_noise() -> None:
    from sim.sweep.shape import lever_shape

    rng = np.random.default_rng(3)
    x, z = rng.uniform(0, 1, 400), rng.uniform(0, 1, 400)  # a random sample: bins of 50
    reps = np.arange(2)

    def runs(f) -> pd.DataFrame:
        y = f(x, z)[:, None] + rng.normal(0, 0.3, (400, 2))
        return pd.DataFrame(
            {"point": np.repeat(np.arange(400), 2), "replication": np.tile(reps, 400)}
            | {"x": np.repeat(x, 2), "z": np.repeat(z, 2), "y": y.ravel()}
        )

    # U in x (range 8 * 0.25 = 2 between the middle and the ends) and a linear z
    u_shape = runs(lambda x, z: 8 * (x - 0.5) ** 2 + 3 * z)
    assert lever_shape(u_shape, "x", "y", grid=False).kind == "U-shaped"
    # x has no effect but z a strong one (range 6): a bin's mean moves with the z values that
    # fell into it, which the one-way test counts as noise, so x is not called non-monotone
    null = lever_shape(runs(lambda x, z: 6 * z), "x", "y", grid=False)
    # df: Welch-Satterthwaite of the points' part (400 - 8 df) and each pair's seed part
    # (2 - 1 df) lies between the smaller (1) and the sum (393); here the points' part (the z
    # effect, variance 3) dwarfs the seed part, so it is near 392, far above the one df the
    # replications alone would give
    assert null.kind == "" and 100 < null.df <= 393


def test_one_lever_is_paired_by_replication_under_crn() -> None:
    from sim.sweep.shape import lever_shape

    rng = np.random.default_rng(5)
    reps, levels = 6, np.array(X_LEVELS)
    shift = rng.normal(0, 5.0, reps)  # seed shift sd 5, shared by every point (CRN)
    y = 8 * (levels[:, None] - 0.5) ** 2 + shift[None, :] + rng.normal(0, 0.05, (5, reps))
    runs = pd.DataFrame(
        {"point": np.repeat(np.arange(5), reps), "replication": np.tile(np.arange(reps), 5)}
        | {"x": np.repeat(levels, reps), "y": y.ravel()}
    )
    # the U (depth 2) is small beside the shift (sd 5), which runs at one replication share:
    # pairing them by replication removes the shift, so the U is found
    assert lever_shape(runs, "x", "y", grid=True).kind == "U-shaped"


def test_points_that_differ_only_in_a_dummy_are_not_taken_for_replicates() -> None:
    from sim.sweep.shape import lever_shape

    # grid: lever x (5 levels) x dummy (3 levels) x 4 replications. Under CRN the dummy's
    # points are identical copies; x has no effect, only seed noise (sd 1) that differs
    # between x levels. Their spread (0) is not the noise of a difference between x levels.
    called = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        e = rng.normal(0, 1, (5, 4))  # noise of level j at replication r, same for all copies
        rows = [
            {"point": 3 * j + d, "replication": r, "x": X_LEVELS[j], "d": d, "y": e[j, r]}
            for j in range(5)
            for d in range(3)
            for r in range(4)
        ]
        called += lever_shape(pd.DataFrame(rows), "x", "y", grid=True).kind != ""
    assert called <= 3  # at most 5% of nulls, as in the test above (Binomial(20, 0.05))


# ------------------------------------------------------------------ 4: CRN intervals


def test_partial_dependence_band_widens_under_crn_as_the_design_effect_says() -> None:
    from sim.sweep.sensitivity import partial_dependence

    reps = 20
    runs = _grid_runs(lambda x: x, reps=reps, noise=0.001, shift=1.0, seed=7)
    runs["gap_auc"] -= runs[HARD]  # no z effect: the 3 points of a level share b_r
    pdp = partial_dependence(runs, SOFT, "gap_auc", grid=True)
    level = runs[runs[SOFT] == 0.0]["gap_auc"]
    n = len(level)  # 3 points x 20 replications
    independent = level.std() / np.sqrt(n)
    # runs of one replication are (almost) perfectly correlated (noise 0.001 beside shift 1):
    # the level mean has the noise of R = 20 runs, not n = 60. With rho = 1 the ratio of the
    # two standard errors is sqrt((n - 1) / (R - 1)) exactly (sd over n runs of R values each
    # repeated n / R times, against sd over the R values)
    assert pdp.loc[0, "se"] / independent == pytest.approx(np.sqrt((n - 1) / (reps - 1)), rel=0.01)
    # and the interval uses t(0.975, R - 1), as few clusters need
    from scipy import stats

    half = (pdp.loc[0, "high"] - pdp.loc[0, "low"]) / 2
    assert half == pytest.approx(stats.t.ppf(0.975, reps - 1) * pdp.loc[0, "se"])


def test_two_way_clustered_variance_matches_the_crossed_model() -> None:
    from sim.sweep.crn import clustered_mean

    rng = np.random.default_rng(11)
    points, reps = 10, 10
    p_idx, r_idx = np.repeat(np.arange(points), reps), np.tile(np.arange(reps), points)
    two_way, independent = [], []
    for _ in range(400):
        a, b = rng.normal(0, 1, points), rng.normal(0, 1, reps)  # point and seed effects
        y = a[p_idx] + b[r_idx] + rng.normal(0, 0.5, points * reps)
        two_way.append(clustered_mean(y, p_idx, r_idx, grid=False)[1] ** 2)
        independent.append(y.var(ddof=1) / len(y))
    # crossed random effects: var(mean) = 1/P + 1/R + 0.25/(P R) = 0.2025 (points and seeds
    # both random: a sampled design under CRN); the estimator's average over 400 data sets is
    # within 10% (its own sd over 400 sets is about 3%, the small-sample bias a few %)
    truth = 1 / points + 1 / reps + 0.25 / (points * reps)
    assert np.mean(two_way) == pytest.approx(truth, rel=0.10)
    # the independent formula is about (1 + 1 + 0.25) / 100 = 0.0225, ~9 times too small
    assert np.mean(independent) < truth / 5


# ------------------------------------------------------------------ 3: seed noise


def _noisy_runs(X: np.ndarray, f: np.ndarray, reps: int, sd: float, shift: float, seed: int):
    """Runs y[p, r] = f[p] + b[r] + e[p, r]: b the seed shift shared by every point (CRN),
    e independent noise of sd ``sd``."""
    rng = np.random.default_rng(seed)
    y = f[:, None] + rng.normal(0, shift, reps)[None, :] + rng.normal(0, sd, (len(X), reps))
    n = len(X)
    runs = pd.DataFrame(
        {"point": np.repeat(np.arange(n), reps), "replication": np.tile(np.arange(reps), n)}
        | {"y": y.ravel()}
    )
    return runs, y.mean(axis=1)


PROBLEM = {"num_vars": 2, "names": ["a", "none"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}


def test_morris_noise_floor_is_the_mu_star_of_a_lever_with_no_effect() -> None:
    from sim.sweep.samplers import morris_design
    from sim.sweep.seed_noise import seed_noise
    from sim.sweep.sensitivity import morris_indices

    X = morris_design(PROBLEM, 400, 4, seed=3)  # 400 trajectories, 1200 points
    reps, sd = 4, 0.6
    runs, Y = _noisy_runs(X, 3 * X[:, 0], reps, sd, shift=2.0, seed=4)
    noise = seed_noise(runs, "y", "morris", levels=4)
    # the seed shift (sd 2, shared by every point) is removed: a point mean's noise is
    # sd / sqrt(R) = 0.3 (its estimate has 1199 x 3 df: relative sd ~1.2%, so 5% is 4 sd)
    assert noise.noise_sd == pytest.approx(sd / np.sqrt(reps), rel=0.05)
    # "none" has no effect: its mu* is the mean |noise difference| / Delta, the half-normal
    # mean 2 sigma_n / (sqrt(pi) Delta) with Delta = 4 / (2 x 3) = 2/3: 0.508; SALib's mu* over
    # 400 trajectories has relative sd 0.755 / sqrt(400) = 3.8%, so 12% is ~3 sd
    idx = morris_indices(PROBLEM, X, Y, 4).set_index("parameter")
    assert idx.loc["none", "mu_star"] == pytest.approx(noise.floor, rel=0.12)
    assert noise.floor == pytest.approx(2 * 0.3 / (np.sqrt(np.pi) * 4 / 6), rel=0.05)
    assert idx.loc["a", "mu_star"] == pytest.approx(3.0, rel=0.05)  # slope 3 on the unit range


def test_sobol_noise_floor_is_the_st_of_a_lever_with_no_effect() -> None:
    from sim.sweep.samplers import sobol_design
    from sim.sweep.seed_noise import seed_noise
    from sim.sweep.sensitivity import sobol_indices

    X = sobol_design(PROBLEM, 1024, seed=5)  # 4096 points
    runs, Y = _noisy_runs(X, 3 * X[:, 0], reps=2, sd=0.5, shift=1.0, seed=6)
    noise = seed_noise(runs, "y", "sobol")
    # sigma_n^2 = 0.25 / 2 = 0.125 beside var(3 U(0,1)) = 0.75: floor = 0.125 / 0.875 = 0.143
    assert noise.floor == pytest.approx(0.125 / 0.875, rel=0.06)
    # Jansen's ST of "none" is mean((f(A) - f(AB))^2) / 2V: noise alone, relative sd
    # sqrt(2 / 1024) = 4.4%, so 15% is over 3 sd
    idx = sobol_indices(PROBLEM, Y).set_index("parameter")
    assert idx.loc["none", "ST"] == pytest.approx(noise.floor, rel=0.15)


def test_within_point_share_of_pure_noise() -> None:
    from sim.sweep.seed_noise import noise_text, seed_noise

    X = np.zeros((500, 2))
    runs, _ = _noisy_runs(X, np.zeros(500), reps=4, sd=1.0, shift=0.0, seed=8)
    noise = seed_noise(runs, "y", "sobol")
    # no point differs from another: the between-point variance component is 0, so the whole
    # run-level variance is within points (share 1). Its estimate (MS_between - MS_within) / R
    # has sd ~ sqrt(2 / 499) / 4 = 0.018 around 0 and is floored at 0, so the share is at
    # least 1 / (1 + 3 x 0.018) = 0.95 in all but ~0.1% of samples
    assert noise.within_share == pytest.approx(1.0, abs=0.05)
    one = seed_noise(runs[runs["replication"] == 0], "y", "sobol")
    assert np.isnan(one.floor) and "not estimable with one replication" in noise_text(one, "sobol")
    with pytest.raises(ValueError, match="method must be sobol or morris"):
        seed_noise(runs, "y", "fast")


# ------------------------------------------------------------------ 2 + 3: through the CLI


def test_morris_cli_writes_the_mu_sigma_diagram_from_its_table(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    import sim.plots

    drawn = {}
    save = sim.plots.save_figure

    def keep(fig, path):  # record what each figure plots as it is written, then write it
        ax = fig.axes[0]
        offsets = ax.collections[0].get_offsets() if ax.collections else None
        drawn[Path(path).name] = (offsets, [t.get_text() for t in ax.texts])
        return save(fig, path)

    monkeypatch.setattr(sim.plots, "save_figure", keep)
    body = (
        f'name = "m"\nbase = "baseline"\nset = {json.dumps(TINY)}\nseed = 2\nreplications = 3\n'
        'outcomes = ["gap_auc"]\n'
        f'[parameters."{SOFT}"]\nrange = [0.0, 1.0]\n[parameters."{HARD}"]\nrange = [0.0, 1.0]\n'
    )
    (tmp_path / "m.toml").write_text(body, encoding="utf-8")
    out = tmp_path / "o"
    code, stdout, err = ccsim(
        capsys, "sensitivity", tmp_path / "m.toml", "--method", "morris", "--samples", "10",
        "--out", out, "--jobs", "1", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    name = "sensitivity_morris_gap_auc_mu_sigma.png"
    assert (out / "figures" / name).stat().st_size > 0
    table = pd.read_parquet(out / "sensitivity_morris_gap_auc.parquet")
    points, labels = drawn[name]
    assert np.allclose(points, table[["mu_star", "sigma"]].to_numpy())  # one point per lever
    # each labelled with its name (without "programme.", which every lever there shares)
    assert labels[: len(table)] == [p.removeprefix("programme.") for p in table["parameter"]]
    assert table["mu_star_noise"].ge(0).all()  # each lever's own seed-noise term (3 replications)
    report = (out / "sensitivity.md").read_text()
    assert f"figures/{name}" in report
    for text in (stdout, report):  # the seed noise, printed and reported, with how to read it
        assert "Seed noise (R = 3 replications per point):" in text
        assert "How to read it:" in text
