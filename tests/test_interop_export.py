"""``sim.run`` for other tools, and ``ccsim export --csv``."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.loader import ScenarioError

SMALL = {"sites.n_sites": 6, "time.programme_months": 12, "time.followup_months": 6}


def test_run_is_picklable_and_takes_dotted_or_dunder_names() -> None:
    again = pickle.loads(pickle.dumps(sim.run))
    a = sim.run(**SMALL, **{"programme.tactics.hard": 0.6}, seed=4)
    b = again(
        sites__n_sites=6, time__programme_months=12, time__followup_months=6,
        programme__tactics__hard=np.float64(0.6), seed=4,
    )  # fmt: skip
    assert a.keys() == b.keys()
    for key, value in a.items():
        np.testing.assert_array_equal(value, b[key], err_msg=key)


def test_run_outcomes_have_fixed_shapes() -> None:
    low = sim.run(**SMALL, **{"programme.tactics.soft": 0.0})
    high = sim.run(**SMALL, **{"programme.tactics.soft": 1.0})
    assert low.keys() == high.keys()
    assert low["gap_series"].shape == high["gap_series"].shape == (12 + 6,)
    scalars = [k for k in low if k != "gap_series"]
    assert all(isinstance(low[k], float) for k in scalars)
    # the restricted time never is nan: a censored run counts as the window (18 months)
    assert 0.0 < low["t50_restricted_months"] <= low["window_months"] == 18.0


def test_run_averages_replications() -> None:
    one = [sim.run(**SMALL, seed=2, replication=r) for r in (0, 1)]
    both = sim.run(**SMALL, seed=2, replication=0, replications=2)
    assert both["gap_auc"] == pytest.approx((one[0]["gap_auc"] + one[1]["gap_auc"]) / 2)
    np.testing.assert_allclose(
        both["gap_series"], (one[0]["gap_series"] + one[1]["gap_series"]) / 2
    )


def test_run_rejects_unknown_names() -> None:
    with pytest.raises(ScenarioError, match=r"did you mean 'programme\.tactics\.hard'"):
        sim.run(programme__tactics__hardd=0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": 1.5}, "seed must be a whole number, got 1.5"),
        ({"replications": True}, "replications must be a whole number, got True"),
        ({"seed": -1}, "need seed >= 0"),
    ],
)
def test_run_rejects_bad_seeds_with_its_own_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):  # not numpy's SeedSequence TypeError
        sim.run(**kwargs)


def test_export_csv(tmp_path) -> None:
    runs = pd.DataFrame({"design": ["a", "b"], "gap_auc": [1.5, 2.5]})
    runs.to_parquet(tmp_path / "runs.parquet")
    (tmp_path / "series").mkdir()
    for i in range(2):
        part = pd.DataFrame({"replication": [i, i], "month": [0, 1], "gap_true": [1.0, 0.9]})
        part.to_parquet(tmp_path / "series" / f"part-d000-r{i:06d}.parquet")
    assert main(["export", str(tmp_path), "--csv"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "csv" / "runs.csv"), runs)
    series = pd.read_csv(tmp_path / "csv" / "series.csv")
    assert series["replication"].tolist() == [0, 0, 1, 1]  # parts joined, one header
    assert main(["export", str(tmp_path), "--csv", "--beside"]) == 0
    assert (tmp_path / "runs.csv").is_file() and (tmp_path / "series.csv").is_file()
    assert main(["export", str(tmp_path / "csv"), "--csv"]) == 2  # no Parquet there


def test_export_is_the_default_and_an_unwritable_target_is_one_line(tmp_path, capsys) -> None:
    pd.DataFrame({"design": ["a"], "gap_auc": [1.5]}).to_parquet(tmp_path / "runs.parquet")
    (tmp_path / "csv").write_text("not a folder")  # where csv/ would go (root ignores modes)
    assert main(["export", str(tmp_path), "--csv"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"ccsim export: error: {tmp_path / 'csv'}: exists and is not a folder; "
        "move it away or use --beside\n"
    )
    (tmp_path / "csv").unlink()
    (tmp_path / "csv" / "runs.csv").mkdir(parents=True)  # the CSV's own name is taken
    assert main(["export", str(tmp_path)]) == 2  # no --csv: CSV is the default
    err = capsys.readouterr().err
    assert err == (
        f"ccsim export: error: cannot write the CSV export: {tmp_path / 'csv' / 'runs.csv'}: "
        "Is a directory\n"
    )
    (tmp_path / "csv" / "runs.csv").rmdir()
    assert main(["export", str(tmp_path)]) == 0
    assert pd.read_csv(tmp_path / "csv" / "runs.csv")["gap_auc"].tolist() == [1.5]
    assert capsys.readouterr().err == ""  # no manifest: nothing to warn about


def test_export_of_an_unfinished_run_warns_and_is_recorded(tmp_path, capsys) -> None:
    import json

    from sim.checkpoint import Interrupted
    from sim.experiment import CHUNK_SIZE, Design, run_experiment
    from sim.loader import load_scenario

    tiny = ["sites.n_sites=3", "sites.mean_size=8", "time.programme_months=6"]
    tiny += ["time.followup_months=3", "programme.recruitment.window_months=2"]
    designs = [Design("base", load_scenario(None, tiny).model_copy(update={"name": "base"}))]
    out, chunks = tmp_path / "run", []

    def stop_after_two_chunks(n: int) -> None:
        chunks.append(n)
        if len(chunks) == 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        run_experiment(
            designs, 3 * CHUNK_SIZE, root_seed=3, out_dir=out, progress=False,
            on_chunk=stop_after_two_chunks,
        )  # fmt: skip
    (out / "csv").mkdir()
    (out / "csv" / "notes.txt").write_text("mine")
    (out / "csv" / "old_table.csv").write_text("x\n1\n")  # from an export without a record
    assert main(["export", str(out)]) == 0
    captured = capsys.readouterr()
    done = 2 * CHUNK_SIZE
    assert captured.err == (
        f"ccsim export: warning: {out} is an unfinished run (status interrupted): exporting "
        f"{done} of {3 * CHUNK_SIZE} replications per design; to finish it, add --resume to "
        "the command that made it, then export again (export.json records this)\n"
    )
    assert f"{out / 'csv' / 'runs.csv'}  {done} rows" in captured.out
    assert len(pd.read_csv(out / "csv" / "runs.csv")) == done
    record = json.loads((out / "csv" / "export.json").read_text())
    assert record["run"] == {
        "complete": False, "status": "interrupted", "replications": 3 * CHUNK_SIZE,
        "exported": {"base": done},
    }  # fmt: skip
    runs = next(f for f in record["files"] if f["csv"] == "runs.csv")
    assert runs["rows"] == done and runs["from"] == [
        "runs/part-d000-r000000.parquet",
        f"runs/part-d000-r{CHUNK_SIZE:06d}.parquet",
    ]
    assert not (out / "csv" / "old_table.csv").exists()  # an older export's CSV is replaced
    assert (out / "csv" / "notes.txt").read_text() == "mine"  # other files stay
    # finish the run: the stale 50-row CSV is identifiable until exported again, then replaced
    (out / "csv" / "stale.csv").write_text("x\n1\n")
    record["files"].append({"csv": "stale.csv", "rows": 1, "from": []})
    record["files"].append({"csv": "../manifest.json", "rows": 1, "from": []})  # not ours
    (out / "csv" / "export.json").write_text(json.dumps(record))
    run_experiment(designs, 3 * CHUNK_SIZE, root_seed=3, out_dir=out, progress=False, resume=True)
    assert main(["export", str(out), "--csv"]) == 0
    assert capsys.readouterr().err == ""
    assert len(pd.read_csv(out / "csv" / "runs.csv")) == 3 * CHUNK_SIZE
    record = json.loads((out / "csv" / "export.json").read_text())
    assert record["run"] == {
        "complete": True, "status": "complete", "replications": 3 * CHUNK_SIZE,
        "exported": {"base": 3 * CHUNK_SIZE},
    }  # fmt: skip
    assert next(f for f in record["files"] if f["csv"] == "runs.csv")["from"] == ["runs.parquet"]
    assert not (out / "csv" / "stale.csv").exists()
    assert (out / "manifest.json").is_file() and (out / "csv" / "notes.txt").is_file()


def test_default_seed_is_the_command_lines(tmp_path) -> None:
    """sim.run() without a seed gives replication 0 of `ccsim run` (same default root seed)."""
    out = tmp_path / "r"
    assert main(["run", "--reps", "1", "--out", str(out), "--quiet", "--no-figures"]) == 0
    row = pd.read_parquet(out / "runs.parquet").iloc[0]
    got = sim.run()
    for key in ("gap_auc", "cost_total", "conflict_mean", "site_gini", "irr_16_18"):
        assert np.isfinite(got[key]) and got[key] == row[key], key
