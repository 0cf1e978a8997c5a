"""Calibration of the adoption sub-model (``sim.calibration``) and ``ccsim calibrate``.

Medical Innovation targets (data README, issue): per town, saturation 0.81-0.89 and first month
with >= 50% adopted within 1 of 6, 6, 7, 7, from the simulated median curve of 200 forward
simulations (fixed seed) of the saved fit; and the median curve within 0.10 of the observed
curve in every month. The last target is not met for Bloomington (24 physicians) and Galesburg
(18): those two are strict xfails, with the reason tested separately (the fitted model's own
realisations stay within 0.10 of its median only 5-20% of the time at those sizes).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.calibration import (
    MEDINNOV_FIT,
    CalibrationDataError,
    ModelSpec,
    Params,
    load_adoption_data,
    load_medinnov,
    medinnov_check,
    recheck,
)
from sim.calibration.data import from_arrays, packaged_path
from sim.calibration.fit import CHI2_95_HALF, _Design, compare_models, fit
from sim.calibration.intervals import profile_intervals, profile_nll, standard_errors
from sim.calibration.process import (
    exposure,
    exposure_at_adoption,
    permutation_test,
    simulate_periods,
)
from sim.cli import main

TOWNS = ("Peoria", "Bloomington", "Quincy", "Galesburg")
GAP_FAILS = pytest.mark.xfail(
    strict=True,
    reason="known gap: small towns' month-to-month noise exceeds 0.10 (docs/calibration.md)",
)


@pytest.fixture(scope="module")
def medinnov():
    return load_medinnov()


@pytest.fixture(scope="module")
def saved() -> dict:
    return json.loads(packaged_path(MEDINNOV_FIT, "calibration").read_text())


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    return {r["check"]: r for r in medinnov_check()}


# --- Medical Innovation: data, saved fit, targets -------------------------------------------


def test_network_rebuild_matches_netdiffuser(medinnov) -> None:
    """294 arcs as in the README; per network the same count as an independent pandas filter."""
    assert medinnov.network.nnz == 294
    assert medinnov.report["dropped_unknown_to_id"] == 462  # to_surveyed == 0 rows
    edges = pd.read_csv(packaged_path("medInnovations_edges.csv"))
    nodes, e = packaged_path("medInnovations_nodes.csv"), packaged_path("medInnovations_edges.csv")
    for net in ("advice", "discussion", "friendship"):
        ref = edges[(edges.network == net) & (edges.to_surveyed == 1) & (edges.self_loop == 0)]
        data = load_adoption_data(
            nodes, e, "node_id", "toa", 18, "city", edge_filters=[("network", [net])]
        )
        assert data.network.nnz == len(ref.drop_duplicates(["from_id", "to_id"]))


def test_saved_fit_is_the_maximum_likelihood_fit(medinnov, saved) -> None:
    res = fit(medinnov, ModelSpec(**saved["model"]))
    est = {e["parameter"]: e["estimate"] for e in saved["estimates"]}
    table = res.table()
    assert list(table.parameter) == list(est)
    np.testing.assert_allclose(table.estimate, list(est.values()), rtol=1e-3, atol=1e-5)
    assert res.nll == pytest.approx(saved["nll"], abs=1e-6)


def test_saved_fit_is_the_best_by_aic_of_the_compared_models(saved) -> None:
    """The saved model (shared p, linear, onset per town) beats its own variants and the
    onset-free model of the data README's analysis (-log L 341.957, AIC 687.91)."""
    assert saved["model"]["fit_onset"]
    assert saved["aic"] == min(row["aic"] for row in saved["model_comparison"])
    assert saved["aic"] < 687.91 - 2  # more than the 2-unit rule of thumb


def test_recheck_reproduces_the_saved_checks_exactly(medinnov, saved) -> None:
    _, targets = recheck(saved, medinnov)
    pd.testing.assert_frame_equal(targets, pd.DataFrame(saved["targets"]), check_dtype=False)


@pytest.mark.parametrize("town", TOWNS)
def test_medinnov_saturation_in_published_range(rows, town) -> None:
    row = rows[f"{town}: saturation by month 17"]
    assert row["passed"], row
    assert 0.805 <= row["simulated"] < 0.895


@pytest.mark.parametrize("town", TOWNS)
def test_medinnov_first_month_half_adopted(rows, town) -> None:
    row = rows[f"{town}: first month >= 50% adopted"]
    published = {"Peoria": 6, "Bloomington": 6, "Quincy": 7, "Galesburg": 7}[town]
    assert abs(row["simulated"] - published) <= 1, row
    assert row["passed"]


@pytest.mark.parametrize(
    "town",
    [
        "Peoria",
        "Quincy",
        pytest.param("Bloomington", marks=GAP_FAILS),
        pytest.param("Galesburg", marks=GAP_FAILS),
    ],
)
def test_medinnov_curve_within_010_every_month(rows, town) -> None:
    row = rows[f"{town}: max |median - observed| curve gap"]
    assert row["simulated"] <= 0.10 + 1e-12, row


def test_gap_target_is_stricter_than_the_fitted_models_own_noise(saved) -> None:
    """Why the two gap checks fail: simulated towns of 18-24 people stray > 0.10 from their
    own median curve in some month most of the time, so the observed one does too."""
    share = {t["group"]: t["share_sims_within_tol"] for t in saved["targets"]}
    assert share["Galesburg"] < 0.2 and share["Bloomington"] < 0.3
    assert share["Peoria"] > share["Bloomington"] > share["Galesburg"]


def test_peer_influence_separate_from_push_and_not_distinguishable_from_zero(saved) -> None:
    """Van den Bulte & Lilien (2001): the push explains the curves; q's interval reaches 0."""
    est = {e["parameter"]: e for e in saved["estimates"]}
    assert est["p"]["lower"] > 0.05 and est["q"]["lower"] == 0.0
    assert est["q"]["estimate"] < est["p"]["estimate"]
    assert saved["peer_test"]["p_value"] > 0.05


def test_exposure_at_adoption_matches_readme(medinnov) -> None:
    e = exposure_at_adoption(medinnov)[0]
    x = e[medinnov.adopted & np.isfinite(e)]
    assert x.size == 99
    assert x.mean() == pytest.approx(0.4552, abs=1e-4)
    assert x.std(ddof=1) == pytest.approx(0.4253, abs=1e-4)
    assert (x == 0).mean() == pytest.approx(0.3939, abs=1e-4)
    assert (x == 1).mean() == pytest.approx(0.3030, abs=1e-4)


def test_permutation_null_matches_readme(medinnov) -> None:
    """2,000 within-town permutations: null mean 0.402 (Monte Carlo SE 0.001), p 0.08 (SE
    0.006) in the README; tolerances are ~4-5 Monte Carlo SEs."""
    res = permutation_test(medinnov, 2000, np.random.default_rng(7))
    assert res["observed_mean"] == pytest.approx(0.4552, abs=1e-4)
    assert res["observed_r"] == pytest.approx(0.7339, abs=1e-4)
    assert res["null_mean"].mean() == pytest.approx(0.402, abs=0.004)
    assert res["null_r"].mean() == pytest.approx(0.6702, abs=0.006)
    lo, hi = np.percentile(res["null_mean"], [2.5, 97.5])
    assert lo == pytest.approx(0.32, abs=0.01) and hi == pytest.approx(0.48, abs=0.01)
    assert res["p_mean"] == pytest.approx(0.0815, abs=0.03)
    assert res["p_r"] == pytest.approx(0.1289, abs=0.03)


def test_profile_limits_sit_at_the_chi2_drop(medinnov) -> None:
    res = profile_intervals(medinnov, fit(medinnov, ModelSpec("linear")))
    for i in (0, 1):
        for limit in (res.lower[i], res.upper[i]):
            drop = profile_nll(medinnov, res, i, limit) - res.nll
            assert drop == pytest.approx(CHI2_95_HALF, abs=1e-3) or limit == 0.0


def test_bootstrap_draws_do_not_depend_on_the_number_of_workers(medinnov) -> None:
    """The data sets are drawn before any refit and refits are deterministic, so 1 and 2
    workers give the same draws bit for bit, and the percentile limits bracket the estimate."""
    from sim.calibration.intervals import bootstrap_intervals

    spec = ModelSpec("linear")
    one = bootstrap_intervals(medinnov, fit(medinnov, spec), 12, np.random.default_rng(5))
    two = bootstrap_intervals(medinnov, fit(medinnov, spec), 12, np.random.default_rng(5), jobs=2)
    assert one[1].shape == (12, 2)
    np.testing.assert_array_equal(one[1], two[1])
    est = one[0].estimate
    assert np.all(one[0].lower <= est) and np.all(est <= one[0].upper)
    assert one[0].interval_method == "bootstrap"


# --- Likelihood ------------------------------------------------------------------------------


def test_likelihood_matches_hand_computation() -> None:
    """3 people, 0 names 1 and 2 names 0; periods 1, 3, censored (T = 3); p = 0.1, q = 0.5."""
    data = from_arrays([0, 0, 0], [1, 3, 4], 3, (np.array([0, 2]), np.array([1, 0])))
    l0 = 1 - np.exp(-0.1)  # adopts in period 1 at exposure 0
    l1 = np.exp(-0.2) * (1 - np.exp(-0.1))  # names nobody
    l2 = np.exp(-(0.1 + 0.6 + 0.6))  # exposed to 0 (adopted in 1) from period 2
    linear = _Design(data, ModelSpec("linear"))
    assert linear.nll(np.array([0.1, 0.5])) == pytest.approx(-np.log(l0 * l1 * l2), rel=1e-12)
    cure = _Design(data, ModelSpec("linear", never_adopters=True))
    want = -np.log(0.8 * l0 * 0.8 * l1 * (0.2 + 0.8 * l2))
    assert cure.nll(np.array([0.1, 0.5, 0.2])) == pytest.approx(want, rel=1e-12)


def test_likelihood_with_onset_matches_hand_computation() -> None:
    """The hand example above with the push starting after period 1 in the only group: person
    0 adopts in period 1 with no push and no exposure (likelihood 0, so nll = inf), so here
    person 0 adopts in period 2 instead."""
    data = from_arrays([0, 0, 0], [2, 3, 4], 3, (np.array([0, 2]), np.array([1, 0])))
    design = _Design(data, ModelSpec("linear"), onset=np.array([1]))
    l0 = np.exp(-0.0) * (1 - np.exp(-0.1))  # period 1: no push; period 2: push 0.1
    l1 = np.exp(-0.1) * (1 - np.exp(-0.1))  # names nobody: survives period 2, adopts in 3
    l2 = np.exp(-(0.0 + 0.1 + 0.1 + 0.5))  # push in 2 and 3, exposed to 0 from period 3
    assert design.nll(np.array([0.1, 0.5])) == pytest.approx(-np.log(l0 * l1 * l2), rel=1e-12)
    zero = _Design(data, ModelSpec("linear"), onset=np.array([0]))
    assert zero.nll(np.array([0.1, 0.5])) == _Design(data, ModelSpec("linear")).nll(
        np.array([0.1, 0.5])
    )


def test_onset_search_recovers_known_onsets() -> None:
    """8 groups of 100 whose push starts after 0-3 periods (truth), p = 0.08, q = 0.2: the
    coordinate search finds every onset, each onset's 1.92-drop set contains the truth, and p
    lies within 3 SEs. With 100 people per group a one-period shift of a 0.08 push changes the
    expected adopters in that period by ~8, far beyond the noise of the other periods."""
    group, edges = _random_network(2)
    truth = Params(np.full(8, 0.08), 0.2, onset=np.array([0, 1, 2, 3, 0, 1, 2, 3]))
    spec = ModelSpec("linear", fit_onset=True, max_onset=4)
    shell = from_arrays(group, np.full(group.size, 21), 20, edges)
    data = shell.with_periods(simulate_periods(shell, truth, spec, 1, np.random.default_rng(4))[0])
    res = standard_errors(data, fit(data, spec))
    np.testing.assert_array_equal(res.onset, truth.onset)
    assert np.all(res.onset_lower <= truth.onset) and np.all(truth.onset <= res.onset_upper)
    assert abs(res.estimate[0] - 0.08) < 3 * res.se[0]
    assert res.k == 2 + 8 and res.aic == pytest.approx(2 * res.nll + 2 * 10)
    assert list(res.table().parameter[-2:]) == ["onset[6]", "onset[7]"]


def test_fit_without_onset_ignores_onset_machinery(medinnov) -> None:
    """The onset-free model is the model with every onset 0: same optimum, no onset rows."""
    plain = fit(medinnov, ModelSpec("linear"))
    zeros = fit(medinnov, ModelSpec("linear"), onset=np.zeros(4, dtype=np.int64))
    assert plain.nll == pytest.approx(zeros.nll, abs=1e-9)
    assert plain.onset is None and plain.params(4).onset is None
    assert list(plain.table().parameter) == ["p", "q"]


def test_saved_fit_without_onset_still_rechecks(medinnov, saved) -> None:
    """A calibration.json written before onsets existed (no 'onset', no fit_onset/max_onset)
    re-simulates with the push from period 1."""
    old = json.loads(json.dumps(saved))
    del old["params"]["onset"]
    for key in ("fit_onset", "max_onset"):
        del old["model"][key]
    _, targets = recheck(old, medinnov)
    _, with_onset = recheck(saved, medinnov)
    assert len(targets) == 4
    # Galesburg's push starts 2 months late in the saved fit: without it the simulated town
    # is ahead of the fitted one in month 2
    assert not targets.equals(with_onset)


def _random_network(seed: int, groups: int = 8, size: int = 100, k: int = 4):
    """Everyone names ``k`` distinct-from-self random people of their own group."""
    rng = np.random.default_rng(seed)
    n = groups * size
    src = np.repeat(np.arange(n), k)
    dst = (src % size + rng.integers(1, size, n * k)) % size + (src // size) * size
    return np.repeat(np.arange(groups), size), (src, dst)


@pytest.mark.parametrize(
    ("spec", "truth"),
    [
        (ModelSpec("linear"), Params(np.full(8, 0.03), 0.3)),
        (ModelSpec("threshold", never_adopters=True), Params(np.full(8, 0.02), 0.5, 0.2)),
    ],
)
def test_likelihood_recovers_known_parameters(spec, truth) -> None:
    """Data simulated by the same process (800 people, 20 periods, seed fixed): each estimate
    within 3 Wald SEs of the truth (two-sided 0.3% by chance), and SEs small enough (< 15% of
    the value) for that to mean something."""
    group, edges = _random_network(0)
    shell = from_arrays(group, np.full(group.size, 21), 20, edges)
    data = shell.with_periods(simulate_periods(shell, truth, spec, 1, np.random.default_rng(1))[0])
    res = standard_errors(data, fit(data, spec))
    want = [truth.p[0], truth.q] + [truth.pi] * spec.never_adopters
    z = (res.estimate - want) / res.se
    assert np.all(np.abs(z) < 3), (res.estimate, res.se)
    assert np.all(res.se < 0.15 * np.asarray(want))


def test_exposure_network_and_group_mixing() -> None:
    net = from_arrays([0, 0, 0, 1], [1, 1, 1, 1], 2, (np.array([0, 0, 1]), np.array([1, 2, 0])))
    adopted = np.array([[0, 1, 0, 1]])
    np.testing.assert_allclose(exposure(net, adopted), [[0.5, 0.0, 0.0, 0.0]])
    mix = from_arrays([0, 0, 0, 1], [1, 1, 1, 1], 2)
    np.testing.assert_allclose(exposure(mix, adopted), [[0.5, 0.0, 0.5, 0.0]])


# --- Bad files and the command line ----------------------------------------------------------


def _write(tmp_path, name: str, frame: pd.DataFrame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _synthetic(tmp_path, seed: int = 3):
    """Nodes (pid, site, month; 99 = never) and edges (a -> b, kind) with 5 unknown ids."""
    group, (src, dst) = _random_network(seed, groups=3, size=60, k=3)
    shell = from_arrays(group, np.full(group.size, 13), 12, (src, dst))
    per = simulate_periods(
        shell, Params(np.full(3, 0.06), 0.3), ModelSpec("linear"), 1, np.random.default_rng(seed)
    )[0]
    month = np.where(per > 12, 99, per)
    nodes = pd.DataFrame(
        {"pid": [f"P{i}" for i in range(group.size)], "site": group, "month": month}
    )
    edges = pd.DataFrame(
        {
            "a": [f"P{i}" for i in src] + ["X1"] * 5,
            "b": [f"P{i}" for i in dst] + ["P0"] * 5,
            "kind": "talk",
        }
    )
    return _write(tmp_path, "nodes.csv", nodes), _write(tmp_path, "edges.csv", edges)


def test_missing_column_names_it_and_lists_available(tmp_path) -> None:
    nodes, _ = _synthetic(tmp_path)
    with pytest.raises(CalibrationDataError, match=r"no column 'toa'; available: pid, site, month"):
        load_adoption_data(nodes, None, "pid", "toa", 99, "site")


def test_non_numeric_times_are_reported(tmp_path) -> None:
    nodes = _write(tmp_path, "n.csv", pd.DataFrame({"id": [1, 2, 3], "t": ["3", "soon", "99"]}))
    with pytest.raises(CalibrationDataError, match=r"'t' must hold numbers; 1 values .*'soon'"):
        load_adoption_data(nodes, None, "id", "t", 99)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"id": [1, 1], "t": [1, 2]}), r"repeats 1 ids \(first: '1'\)"),
        (pd.DataFrame({"id": [1, 2], "t": [1.5, 2]}), r"whole numbers"),
        (pd.DataFrame({"id": [1, 2], "t": [1, 120]}), r"1 values of 't' exceed the censoring"),
    ],
)
def test_bad_node_files(tmp_path, frame, message) -> None:
    with pytest.raises(CalibrationDataError, match=message):
        load_adoption_data(_write(tmp_path, "n.csv", frame), None, "id", "t", 99)


def test_unknown_edge_ids_are_counted_not_fatal(tmp_path) -> None:
    nodes, edges = _synthetic(tmp_path)
    data = load_adoption_data(nodes, edges, "pid", "month", 99, "site", "a", "b")
    assert data.report["dropped_unknown_from_id"] == 5
    with pytest.raises(CalibrationDataError, match=r"keeps no ties; values of 'kind': talk"):
        load_adoption_data(nodes, edges, "pid", "month", 99, "site", "a", "b", [("kind", ["x"])])


def test_empty_times_censored_with_na(tmp_path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "t": [2, None, 4]})
    data = load_adoption_data(_write(tmp_path, "n.csv", frame), None, "id", "t", None)
    assert data.n_periods == 3 and data.period.tolist() == [1, 4, 3]


def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys) -> None:
    nodes, edges = _synthetic(tmp_path)
    code = main(
        [
            "calibrate",
            str(nodes),
            str(edges),
            "--id",
            "pid",
            "--time",
            "toa",
            "--censored-at",
            "99",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("ccsim calibrate: error:") and "no column 'toa'" in err
    assert main(["calibrate", str(nodes), "--id", "pid"]) == 2
    assert "--time, --censored-at required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--network", "advice"], "edge filter 'advice': expected COLUMN=VALUE"),
        (["--network", "network=advise"], "keeps no ties; values of 'network': advice, discussion"),
        (
            ["--contagion", "linear", "--fit-threshold"],
            "--fit-threshold needs --contagion threshold",
        ),
        (["--censored-at", "never"], "--censored-at: expected a number or NA, got 'never'"),
    ],
)
def test_cli_bad_options_on_packaged_data(tmp_path, capsys, extra, message) -> None:
    assert main(["calibrate", "medinnov", "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_cli_negative_max_onset_is_one_line_exit_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:  # argparse rejects the value itself
        main(["calibrate", "medinnov", "--fit-onset", "--max-onset", "-1", "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--max-onset: must be >= 0, got -1" in err[-1]


def test_cli_end_to_end_and_saved_fit_rechecks(tmp_path, capsys) -> None:
    nodes, edges = _synthetic(tmp_path)
    out = tmp_path / "out"
    code = main(
        [
            "calibrate",
            str(nodes),
            str(edges),
            "--id",
            "pid",
            "--group",
            "site",
            "--time",
            "month",
            "--censored-at",
            "99",
            "--edge-from",
            "a",
            "--edge-to",
            "b",
            "--network",
            "kind=talk",
            "--contagion",
            "linear",
            "--sims",
            "40",
            "--perms",
            "200",
            "--no-compare",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "5 naming unknown ids" in text and "peer influence q vs 0" in text
    names = {p.name for p in out.iterdir()}
    assert {
        "calibration.json",
        "estimates.parquet",
        "curves.parquet",
        "people.parquet",
        "permutation_null.parquet",
        "curves.png",
        "permutation_null.png",
    } <= names
    saved = json.loads((out / "calibration.json").read_text())
    assert saved["seeds"]["root"] == 20091 and saved["seeds"]["simulation"]["n_sims"] == 40
    data = load_adoption_data(nodes, edges, "pid", "month", 99, "site", "a", "b")
    _, targets = recheck(saved, data)
    pd.testing.assert_frame_equal(targets, pd.DataFrame(saved["targets"]), check_dtype=False)
    assert len(pd.read_parquet(out / "permutation_null.parquet")) == 200


# --- Data that cannot identify the model, untestable statistics, reusing --out ---------------


def _people(tmp_path, times: list[int], edges: list[tuple[str, str]] | None = None):
    """Nodes ``id, t`` (ids a, b, c...; 9 = never) and, if given, edges ``from_id, to_id``."""
    ids = [chr(ord("a") + i) for i in range(len(times))]
    nodes = _write(tmp_path, "people.csv", pd.DataFrame({"id": ids, "t": times}))
    if edges is None:
        return [str(nodes)]
    frame = pd.DataFrame(edges, columns=["from_id", "to_id"])
    return [str(nodes), str(_write(tmp_path, "ties.csv", frame))]


@pytest.mark.parametrize(
    ("times", "edges", "message"),
    [
        ([1], None, "1 person in the data: at least 2 people are needed to estimate p and q"),
        (
            [1, 1, 1],
            None,
            "all 3 people adopted in period 1: nobody is left at risk, so the external push p "
            "cannot be estimated; at least one person must adopt later or never",
        ),
        (
            [1, 2, 3, 9, 9],
            [("x", "y"), ("z", "w")],
            "none of its 2 ties joins two ids of the node file (first unknown id in "
            "'from_id': 'x'); check --edge-from/--edge-to and --id",
        ),
        (
            [1, 2, 3, 9, 9],
            [("a", "d")],  # the only tie: an adopter naming someone who never adopts
            "no one at risk ever has a contact who adopted earlier (the network links no one "
            "at risk to an earlier adopter), so peer influence q cannot be estimated",
        ),
    ],
    ids=["one-person", "all-in-period-1", "all-ids-unknown", "no-exposure"],
)
def test_cli_refuses_data_that_cannot_identify_the_parameters(
    tmp_path, capsys, times, edges, message
) -> None:
    out = tmp_path / "out"
    files = _people(tmp_path, times, edges)
    args = ["calibrate", *files, "--id", "id", "--time", "t", "--censored-at", "9"]
    assert main([*args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err, captured.err
    assert captured.out == "" and not out.exists()  # refused before fitting or writing


def test_identifiability_rules_per_group_and_at_the_bound() -> None:
    from sim.calibration import calibrate, check_identifiable

    data = from_arrays([0, 0, 1, 1], [1, 1, 1, 3], 2)  # group 0 all adopt in period 1
    check_identifiable(data)  # a shared p is identified by group 1
    with pytest.raises(CalibrationDataError, match=r"group '0': all 2 people adopted in period 1"):
        check_identifiable(data, per_group_p=True)
    with pytest.raises(CalibrationDataError, match=r"group '0': all 2"):
        calibrate(data, ModelSpec("linear", per_group_p=True), n_sims=2, n_perm=0)
    censored = from_arrays([0, 0, 0], [1, 2, 2], 1)  # one period: nobody at risk is exposed
    with pytest.raises(CalibrationDataError, match="peer influence q cannot be estimated"):
        check_identifiable(censored)


def test_one_adopter_with_a_tie_is_not_testable() -> None:
    # a (period 1) names d (never adopts); e (never) names b (period 2): q is identified
    data = from_arrays([0] * 5, [1, 2, 3, 9, 9], 8, (np.array([0, 4]), np.array([3, 1])))
    res = permutation_test(data, 50, np.random.default_rng(0))
    assert res == {
        "testable": False,
        "reason": "only 1 adopter has a usable tie (at least 2 are needed)",
        "n_adopters_with_contacts": 1,
    }


def test_untestable_correlation_is_reported_without_numpy_warnings(tmp_path) -> None:
    import warnings

    from sim.calibration import calibrate, save_result
    from sim.calibration.report import summary_text

    # a and b (adopters) name only people who never adopt: their exposure is 0 and 0, so the
    # correlation with adoption time is undefined; f (never) names a, so q is identified
    edges = (np.array([0, 1, 5]), np.array([3, 4, 0]))
    data = from_arrays([0] * 6, [1, 2, 3, 9, 9, 9], 8, edges)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any numpy RuntimeWarning fails the test
        perm = permutation_test(data, 200, np.random.default_rng(1))
        res = calibrate(data, ModelSpec("linear"), n_sims=20, n_perm=200, compare=False)
        save_result(res, data, tmp_path, {"nodes": "test"})
        text = summary_text(res, data)
    assert perm["testable"] and perm["n_adopters_with_contacts"] == 2
    assert perm["observed_mean"] == 0.0 and np.isnan(perm["observed_r"])
    assert perm["r_testable"] is False and np.isnan(perm["p_r"])
    defined = perm["null_mean"][np.isfinite(perm["null_mean"])]
    assert 0 < defined.size < 200  # some permutations give no adopter a tie: left out
    assert perm["p_mean"] == pytest.approx((1 + defined.size) / (defined.size + 1))  # obs is 0
    line = next(s for s in text.splitlines() if s.startswith("exposure at adoption"))
    assert line.endswith(
        "r(time, exposure) not testable: adoption time or exposure does not vary among these "
        "adopters (no p-value)"
    ), line
    saved = json.loads((tmp_path / "calibration.json").read_text())["permutation"]
    assert saved["r_testable"] is False and "p_r" not in saved and "null_r_mean" not in saved
    null = res.permutation["null_mean"]
    assert saved["null_mean_mean"] == pytest.approx(null[np.isfinite(null)].mean())


def test_cli_refuses_another_calibration_in_out_and_replaces_its_own_files(
    tmp_path, capsys
) -> None:
    from sim.calibration.store import OUTPUTS

    out = tmp_path / "cal"
    fast = ["--intervals", "none", "--sims", "20", "--out", str(out)]
    assert main(["calibrate", "medinnov", "--contagion", "linear", "--perms", "50", *fast]) == 0
    first = {p.name for p in out.iterdir()}
    assert first <= set(OUTPUTS)  # every file a calibration writes is one it may remove
    assert {"model_comparison.parquet", "permutation_null.parquet", "curves.png"} <= first
    assert "permutation_null.png" in first
    record = (out / "calibration.json").read_bytes()
    capsys.readouterr()
    # another model (threshold, the default): refused, nothing touched
    second = ["calibrate", "medinnov", "--no-figures", "--no-compare", "--perms", "0", *fast]
    assert main(second) == 2
    err = capsys.readouterr().err
    assert err == (
        f"ccsim calibrate: error: --out {out}: holds a calibration with other options "
        "(contagion linear there, threshold now); use another --out, or --overwrite to "
        "replace it\n"
    )
    assert (out / "calibration.json").read_bytes() == record and {
        p.name for p in out.iterdir()
    } == first
    # --overwrite: the earlier fit's own files go, other files stay
    (out / "notes.txt").write_text("mine")
    assert main([*second, "--overwrite"]) == 0
    saved = json.loads((out / "calibration.json").read_text())
    assert saved["model"]["contagion"] == "threshold"
    assert {p.name for p in out.iterdir()} == {
        "calibration.json", "estimates.parquet", "curves.parquet", "targets.parquet",
        "people.parquet", "notes.txt",
    }  # fmt: skip
    # the same data and model again, other checks: replaced without --overwrite, no leftovers
    assert main(["calibrate", "medinnov", "--no-compare", "--perms", "30", *fast]) == 0
    assert len(pd.read_parquet(out / "permutation_null.parquet")) == 30
    assert main(second) == 0
    assert not (out / "permutation_null.parquet").exists()
    assert not (out / "permutation_null.png").exists() and not (out / "curves.png").exists()
    assert (out / "notes.txt").read_text() == "mine"
    # a folder of other work, or an unreadable record, is refused too
    other = tmp_path / "run"
    other.mkdir()
    (other / "manifest.json").write_text("{}")
    capsys.readouterr()
    assert main([*second[:-1], str(other)]) == 2
    assert "holds other files (manifest.json) and no calibration" in capsys.readouterr().err
    (out / "calibration.json").write_text("{")
    assert main(second) == 2
    assert "its calibration.json is not a readable ccsim calibration" in capsys.readouterr().err


# --- second user trial ------------------------------------------------------------------------


def test_comparison_does_not_rank_a_variant_the_data_cannot_identify() -> None:
    """Group 2 all adopt in period 1: its own push p[2] runs to infinity, so the per-group
    variants get no AIC and say why; the shared-p variants are still ranked."""
    group = np.repeat([0, 1, 2], 8)
    period = np.r_[[1, 2, 2, 3, 4, 5, 9, 9], [2, 3, 3, 4, 6, 9, 9, 9], [1] * 8]
    data = from_arrays(group, period, 8)
    table = compare_models(data, ModelSpec("linear"))
    ranked = table[table.note == ""]
    assert set(ranked.per_group_p) == {False} and len(ranked) == 2
    assert ranked.aic.notna().all() and list(ranked.index) == [0, 1]
    unranked = table[table.note != ""]
    assert set(unranked.per_group_p) == {True} and unranked.aic.isna().all()
    assert unranked.note.str.contains("group '2'").all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-onset", "2"], "--max-onset needs --fit-onset"),
        (["--fit-onset", "--max-onset", "0"], "--fit-onset --max-onset 0 fits no onset"),
        (["--out", ""], "--out: empty folder name"),
    ],
)
def test_cli_onset_and_out_options_are_checked(tmp_path, capsys, extra, message) -> None:
    args = ["calibrate", "medinnov", *(["--out", str(tmp_path)] if "--out" not in extra else [])]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_network_filter_without_edges_file_is_refused(tmp_path, capsys) -> None:
    nodes = tmp_path / "n.csv"
    pd.DataFrame({"pid": ["a", "b", "c"], "t": [1, 2, 9]}).to_csv(nodes, index=False)
    code = main(
        ["calibrate", str(nodes), "--id", "pid", "--time", "t", "--censored-at", "9",
         "--network", "network=advice", "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert code == 2
    assert "need an EDGES.csv file" in capsys.readouterr().err


def test_ids_are_text_as_written(tmp_path) -> None:
    """'001' and '1' are two people; an edges file naming '001' reaches the first only; a
    whole number written as a float ('3.0') still matches '3'."""
    nodes, edges = tmp_path / "n.csv", tmp_path / "e.csv"
    nodes.write_text("pid,t\n001,1\n1,2\n3,9\n")
    edges.write_text("from_id,to_id\n1,001\n3.0,1\n")
    data = load_adoption_data(nodes, edges, "pid", "t", 9)
    assert list(data.ids) == ["001", "1", "3"]
    assert data.network.nnz == 2
    assert data.network[1, 0] == 1 and data.network[2, 1] == 1


def test_saved_calibration_is_strict_json(saved) -> None:
    """No NaN or Infinity tokens (not JSON): missing values are null."""
    text = packaged_path(MEDINNOV_FIT, "calibration").read_text()

    def refuse(token: str) -> None:
        raise ValueError(token)

    json.loads(text, parse_constant=refuse)
    assert any(e["se"] is None for e in saved["estimates"])  # onsets have no SE


def test_onset_at_the_search_bound_is_flagged(medinnov) -> None:
    """With --max-onset 1 Galesburg's onset (2 when allowed) is cut to 1: flagged; a search
    never goes past the observed periods (T - 1)."""
    res = fit(medinnov, ModelSpec("linear", fit_onset=True, max_onset=1))
    assert "Galesburg" in res.onsets_at_bound()
    free = fit(medinnov, ModelSpec("linear", fit_onset=True, max_onset=3))
    assert free.onsets_at_bound() == [] and free.onset_top == 3
    tiny = from_arrays([0, 0, 0, 1, 1, 1], [2, 3, 5, 3, 4, 5], 4)  # T = 4 periods
    capped = fit(tiny, ModelSpec("linear", fit_onset=True, max_onset=40))
    assert capped.onset_top == 3 and capped.onset.max() <= 3
