"""``ccsim calibrate`` on data other than Medical Innovation: the Brazilian farmers (hybrid corn,
11 villages, years) and Korean family planning (25 villages), trimmed copies in ``tests/data/``
(netdiffuseR v1.25.0, MIT, (c) 2018 Thomas W. Valente; see ``tests/data/README.md``).

Every expected number has a reason outside ``ccsim``: the data README (people, villages,
censored, arcs after the documented filters, the lowest kfamily saturation) or a computation
from the CSV files here (per-village saturation, exposure at adoption, a permutation null).
The later tests pin the fixes made while trying the tool on these data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ccsim, one_error_line

from sim.calibration import load_adoption_data

DATA = Path(__file__).resolve().parent / "data"
BR_NODES, BR_EDGES = DATA / "brfarmers_nodes.csv", DATA / "brfarmers_edges.csv"
KF_NODES = DATA / "kfamily_nodes.csv"
BR = ["--id", "node_id", "--group", "village", "--time", "toa", "--censored-at", "20"]
QUICK = ["--no-compare", "--intervals", "none", "--sims", "50", "--perms", "200"]


def _run(capsys, out: Path, *args: object) -> tuple[str, dict]:
    code, text, err = ccsim(capsys, "calibrate", *args, "--out", out)
    assert code == 0, err
    return text, json.loads((out / "calibration.json").read_text(encoding="utf-8"))


def _arcs() -> pd.DataFrame:
    """netdiffuseR's brfarmers graph as the README rebuilds it, independently of ccsim."""
    e = pd.read_csv(BR_EDGES)
    e = e[(e.to_surveyed == 1) & (e.self_loop == 0)]
    return e.drop_duplicates(["from_id", "to_id"])


def _mean_exposure(toa: pd.Series, arcs: pd.DataFrame, never: int = 20) -> tuple[float, int]:
    """Mean share of named farmers who adopted strictly earlier, over adopters naming one."""
    earlier = arcs.to_id.map(toa).to_numpy() < arcs.from_id.map(toa).to_numpy()
    share = pd.Series(earlier, index=arcs.from_id).groupby(level=0).mean()
    adopters = share[toa[share.index].to_numpy() < never]
    return float(adopters.mean()), len(adopters)


def _stats(t: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[float, float]:
    """Mean exposure and Pearson r(adoption year, exposure) over adopters naming someone; ties
    ``i`` names ``j`` (positions), ``t`` the years (20 = never)."""
    named = np.bincount(i, minlength=t.size)
    earlier = np.bincount(i, (t[j] < t[i]).astype(float), t.size)
    who = (named > 0) & (t < 20)
    exposure = earlier[who] / named[who]
    return float(exposure.mean()), float(np.corrcoef(t[who], exposure)[0, 1])


def _null(toa: pd.Series, village: pd.Series, arcs: pd.DataFrame, draws: int):
    """Observed ``_stats`` and ``draws`` of them with adoption years shuffled within each
    village (network fixed)."""
    rng = np.random.default_rng(1)
    pos = pd.Series(np.arange(toa.size), index=toa.index)
    i, j = pos[arcs.from_id].to_numpy(), pos[arcs.to_id].to_numpy()
    by_village = np.argsort(village.to_numpy(), kind="stable")
    out = np.empty((draws, 2))
    for d in range(draws):
        t = np.empty(toa.size)  # each village's years, shuffled among its own people
        t[by_village] = toa.to_numpy()[np.lexsort((rng.random(toa.size), village.to_numpy()))]
        out[d] = _stats(t, i, j)
    return _stats(toa.to_numpy().astype(float), i, j), out


def test_loader_reads_the_counts_the_data_readme_documents() -> None:
    br = load_adoption_data(BR_NODES, BR_EDGES, "node_id", "toa", 20, "village", edge_filters=[])
    assert (br.n, br.n_groups, int((~br.adopted).sum()), br.n_periods) == (692, 11, 152, 19)
    filtered = [("to_surveyed", ["1"])]
    br = load_adoption_data(BR_NODES, BR_EDGES, "node_id", "toa", 20, "village", "from_id",
                            "to_id", filtered)  # fmt: skip
    assert br.network.nnz == 1854  # README: drop self-loops and to_surveyed == 0: 1,854 arcs
    kf = load_adoption_data(KF_NODES, None, "node_id", "toa", 11, "village")
    assert (kf.n, kf.n_groups, int((~kf.adopted).sum()), kf.n_periods) == (1047, 25, 374, 10)


def test_brazilian_farmers_with_their_network(tmp_path, capsys) -> None:
    text, saved = _run(capsys, tmp_path / "br", BR_NODES, BR_EDGES, *BR, "--contagion",
                       "linear", "--edge-filter", "to_surveyed=1", *QUICK)  # fmt: skip
    assert "692 people in 11 groups, 540 adopters, 19 periods (times 1-19; 152 censored" in text
    assert "network 1854 arcs" in text
    toa = pd.read_csv(BR_NODES).set_index("node_id").toa
    arcs = _arcs()
    mean, n = _mean_exposure(toa, arcs)
    perm = saved["permutation"]
    assert perm["n_adopters_with_contacts"] == n
    assert perm["observed_mean"] == pytest.approx(mean, abs=1e-12)
    # our own within-village permutation null (200 draws): the observed mean beats every draw,
    # but r(year, exposure) is inside the null's 95% range (mechanical, as in Medical Innovation)
    village = pd.read_csv(BR_NODES).set_index("node_id").village
    (_, r), null = _null(toa, village, arcs, 200)
    assert mean > null[:, 0].max() and perm["p_mean"] < 0.01
    assert perm["observed_r"] == pytest.approx(r, abs=1e-12)
    assert np.percentile(null[:, 1], 2.5) < r < np.percentile(null[:, 1], 97.5)
    assert perm["p_r"] > 0.05 and f"r(time, exposure) {r:.3f}, null 0." in text
    assert saved["peer_test"]["p_value"] < 0.05  # the likelihood agrees: q is not 0
    # village 22 adopted least by far (20 of 69): a push shared by all villages misses it
    sat = toa.lt(20).groupby(village).mean()
    assert sat.idxmin() == 22 and sat[22] < sat.drop(22).min() - 0.3
    assert "22" in saved["fit_check"]["not_reproduced"]
    assert "not reproduced" in text and (tmp_path / "br" / "curves.png").stat().st_size > 0


def test_per_village_push_fits_village_22_with_the_smallest_push(tmp_path, capsys) -> None:
    _, saved = _run(capsys, tmp_path / "pg", BR_NODES, BR_EDGES, *BR, "--edge-filter",
                       "to_surveyed=1", "--per-group-p", *QUICK, "--no-figures")  # fmt: skip
    push = {e["parameter"]: e["estimate"] for e in saved["estimates"]}
    pushes = {k: v for k, v in push.items() if k.startswith("p[")}
    assert len(pushes) == 11 and min(pushes, key=pushes.get) == "p[22]"
    assert "22" not in saved["fit_check"]["not_reproduced"]


def test_korean_villages_without_a_network(tmp_path, capsys) -> None:
    args = ["--id", "node_id", "--group", "village", "--time", "toa", "--censored-at", "11"]
    text, saved = _run(capsys, tmp_path / "kf", KF_NODES, *args, *QUICK, "--no-figures")
    assert "1047 people in 25 groups, 673 adopters, 10 periods (times 1-10; 374 censored" in text
    sat = {t["group"]: t["obs_saturation"] for t in saved["targets"]}
    assert len(sat) == 25 and min(sat, key=sat.get) == "22" and round(sat["22"], 3) == 0.419
    assert "note: no network, so q is the Bass imitation term within each group" in text
    assert "exposure at adoption: not tested without a network" in text
    assert saved["permutation"] == {}  # nothing to permute


# -- fixes made while trying the tool on these data ------------------------------------------


def _curves(periods: int = 4):
    t = np.arange(1, periods + 1)
    curves = pd.DataFrame({"group": "10", "time": t, "observed": t / 10, "sim_median": t / 10})
    curves["sim_low"], curves["sim_high"] = curves.observed - 0.1, curves.observed + 0.1
    targets = pd.DataFrame({"group": ["10"], "n": [35], "max_gap": [0.3]})
    return curves, targets


def test_figure_draws_the_last_period_as_a_whole_step_and_names_group_and_time() -> None:
    """The last period (saturation) was a vertical tick at the axis' end; panels said ``10``
    and ``time (period)``, and did not mark the groups the warning names."""
    from sim.calibration.plot import curves_figure

    curves, targets = _curves()
    fig = curves_figure(curves, targets, "fit", flagged=["10"], labels=("village", "time (toa)"))
    ax = fig.axes[0]
    observed = next(line for line in ax.get_lines() if line.get_label() == "observed")
    x, y = observed.get_data()
    assert list(x) == [0.5, 1.5, 2.5, 3.5, 4.5] and y[-1] == y[-2] == 0.4  # period 4: 3.5-4.5
    assert ax.get_title() == "village 10 (n=35, max gap 0.30)\nnot reproduced"
    assert ax.get_xlabel() == "time (toa)"
    named = curves_figure(curves.assign(group="Peoria"), targets.assign(group="Peoria"), "fit",
                          labels=("city_name", "time (toa)"))  # fmt: skip
    assert named.axes[0].get_title() == "Peoria (n=35, max gap 0.30)"  # a name needs no column


def test_permutation_figure_never_says_p_0() -> None:
    """With 2,000 draws and none as high as observed, p = 1/2001; the title said p = 0.000."""
    from sim.calibration.plot import permutation_figure

    fig = permutation_figure(np.linspace(0.3, 0.4, 2000), 0.5, 1 / 2001)
    assert fig.axes[0].get_title().endswith("2000 draws: p < 0.001")


def _small(tmp_path, times: dict[str, list[int]], name: str = "small.csv") -> Path:
    rows = [(f"{g}{i}", g, t) for g, ts in times.items() for i, t in enumerate(ts)]
    path = tmp_path / name
    pd.DataFrame(rows, columns=["pid", "village", "toa"]).to_csv(path, index=False)
    return path


def test_a_village_where_nobody_adopted_gets_a_push_interval_from_0(tmp_path, capsys) -> None:
    """Its push is 0, at the optimiser's floor (1e-8): the interval printed '1e-08 - ...'."""
    nodes = _small(tmp_path, {"a": [1, 2, 2, 3, 4, 6, 9, 9], "b": [2, 3, 3, 5, 6, 9, 9, 9],
                              "c": [9] * 8})  # fmt: skip
    args = ["--id", "pid", "--group", "village", "--time", "toa", "--censored-at", "9"]
    text, _ = _run(capsys, tmp_path / "o", nodes, *args, "--per-group-p", "--contagion",
                   "linear", "--no-compare", "--sims", "20", "--no-figures")  # fmt: skip
    row = next(line for line in text.splitlines() if line.startswith("p[c]"))
    assert row.split()[1] == "0.0000" and row.split()[3] == "0" and "e-" not in row
    assert "p, q: hazards per period" in text


def test_without_a_group_the_summary_says_1_group(tmp_path, capsys) -> None:
    nodes = _small(tmp_path, {"a": [1, 2, 2, 3, 4, 6, 9, 9]})
    args = ["--id", "pid", "--time", "toa", "--censored-at", "9", *QUICK, "--no-figures"]
    text, _ = _run(capsys, tmp_path / "o", nodes, *args)
    assert "8 people in 1 group, 6 adopters, 8 periods (times 1-8; 2 censored" in text


def test_an_early_code_is_named_not_the_first_real_time() -> None:
    """A few times coded -99 (unknown) opened 99 empty periods; the warning advised
    '--censored-at 1', which would have made everyone who adopted in year 1 a non-adopter."""
    from sim.calibration.data import from_arrays
    from sim.calibration.report import empty_periods_warning

    times = np.array([-99, -99, 1, 1, 2, 3, 4, 5, 6, 7, 20])
    data = replace(from_arrays(np.zeros(times.size, int), times + 100, 119), start=-99.0)
    assert empty_periods_warning(data) == (
        "no one adopts in periods 2-100 of 119 (times -98 to 0): if time -99 (2 people) is a "
        "code, e.g. for an unknown time, those people are not early adopters: drop them or "
        "correct their time"
    )


def test_group_column_equal_to_the_id_is_one_clear_error(tmp_path, capsys) -> None:
    """``--group node_id`` blamed 'nobody is at risk after the first adoptions'; with a network
    it ran, with 692 one-person curves and a permutation null that moved nothing (p = 1)."""
    args = ["--id", "node_id", "--group", "node_id", "--time", "toa", "--censored-at", "20"]
    args += ["--out", tmp_path / "o"]
    code, _, err = ccsim(capsys, "calibrate", BR_NODES, *args)
    one_error_line(code, err, "each of the 692 groups holds 1 person", "nobody to be exposed to")
    code, _, err = ccsim(capsys, "calibrate", BR_NODES, BR_EDGES, *args)
    one_error_line(code, err, "each of the 692 groups holds 1 person", "is --group the id column?")
    assert not (tmp_path / "o").exists()


def test_a_latin1_export_is_one_clear_error(tmp_path, capsys) -> None:
    """A Brazilian spreadsheet saved as Latin-1 ('São'): the line quoted a Python codec."""
    frame = pd.read_csv(BR_NODES)
    frame["village"] = "São " + frame.village.astype(str)
    path = tmp_path / "latin1.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    code, _, err = ccsim(capsys, "calibrate", path, *BR, "--out", tmp_path / "o")
    one_error_line(code, err, "not UTF-8 text (byte 0xe3", "save it as 'CSV UTF-8'")


def test_profile_intervals_can_show_progress(capsys) -> None:
    """Per-village pushes on 25 villages took 156 s of profile intervals without a sign."""
    from sim.calibration import ModelSpec
    from sim.calibration.data import from_arrays
    from sim.calibration.fit import fit
    from sim.calibration.intervals import profile_intervals

    data = from_arrays([0] * 6 + [1] * 6, [1, 2, 3, 4, 6, 6, 2, 2, 3, 5, 6, 6], 5)
    result = fit(data, ModelSpec("linear", per_group_p=True))
    capsys.readouterr()
    profile_intervals(data, result, progress=True)
    err = capsys.readouterr().err
    assert "profile intervals" in err and "3/3" in err


def test_repeated_network_filters_pool_their_values(tmp_path, capsys) -> None:
    """``--network network=friend --network network=influential`` kept no tie and said the
    file's networks were only 'friend' (the values left after the first filter)."""
    e = pd.read_csv(BR_EDGES)
    ids = pd.read_csv(BR_NODES).node_id
    both = e[e.network.isin(["friend", "influential"]) & (e.self_loop == 0) & e.to_id.isin(ids)]
    arcs = len(both.drop_duplicates(["from_id", "to_id"]))  # 1,453
    data = load_adoption_data(BR_NODES, BR_EDGES, "node_id", "toa", 20, "village", "from_id",
                              "to_id", [("network", ["friend", "influential"])])  # fmt: skip
    assert data.network.nnz == arcs
    args = ["calibrate", BR_NODES, BR_EDGES, *BR, "--network", "network=friend"]
    code, out, err = ccsim(capsys, *args, "--network", "network=influential", *QUICK,
                           "--no-figures", "--out", tmp_path / "o")  # fmt: skip
    assert code == 0 and f"network {arcs} arcs" in out, err
    code, _, err = ccsim(capsys, *args, "--edge-filter", "to_surveyed=0", "--out", tmp_path / "x")
    one_error_line(code, err, "filter to_surveyed=0 keeps no ties; values of 'to_surveyed' (in "
                   "the 837 ties the filters before it keep): 1")  # fmt: skip
