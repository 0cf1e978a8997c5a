"""``ccsim calibrate`` user trial 3, item 3: ``calibration.json`` records enough to redo a fit
(the command, the data files' SHA-256, package versions, git state, a code fingerprint), and
``ccsim rerun`` on a calibration folder says in one line how to redo it."""

from __future__ import annotations

import hashlib
import json
import shlex

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ccsim, one_error_line


@pytest.fixture()
def fitted(tmp_path, monkeypatch, capsys):
    """A calibration of small files given by relative paths, run from ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    n = 40
    times = np.where(rng.random(n) < 0.25, 9, rng.integers(1, 9, n))
    pd.DataFrame({"pid": [f"P{i}" for i in range(n)], "site": np.arange(n) % 2, "t": times}).to_csv(
        "nodes.csv", index=False
    )
    pd.DataFrame(
        {"from_id": [f"P{i}" for i in range(n)], "to_id": [f"P{(i + 1) % n}" for i in range(n)]}
    ).to_csv("ties.csv", index=False)
    code, _, err = ccsim(
        capsys, "calibrate", "nodes.csv", "ties.csv", "--id", "pid", "--group", "site",
        "--time", "t", "--censored-at", "9", "--contagion", "linear", "--intervals", "none",
        "--sims", "30", "--perms", "50", "--no-compare", "--no-figures", "--jobs", "1",
        "--out", "cal",
    )  # fmt: skip
    assert code == 0, err
    return tmp_path / "cal", json.loads((tmp_path / "cal" / "calibration.json").read_text())


def test_record_holds_files_versions_git_code_and_command(fitted) -> None:
    from sim.provenance import git_state, versions

    folder, record = fitted
    prov = record["provenance"]
    nodes = prov["files"]["nodes"]
    assert nodes["path"] == "nodes.csv"
    assert nodes["absolute"] == str((folder.parent / "nodes.csv").resolve())
    assert nodes["sha256"] == hashlib.sha256((folder.parent / "nodes.csv").read_bytes()).hexdigest()
    assert (
        prov["files"]["edges"]["sha256"]
        == hashlib.sha256((folder.parent / "ties.csv").read_bytes()).hexdigest()
    )
    assert prov["versions"] == versions()
    assert prov["git"] == {"commit": git_state()["commit"], "dirty": prov["git"]["dirty"]}
    assert len(prov["code_fingerprint"]["sha256"]) == 64 and prov["code_fingerprint"]["files"] > 10
    assert prov["command_line"] == (
        "ccsim calibrate nodes.csv ties.csv --id pid --group site --time t --censored-at 9 "
        "--contagion linear --intervals none --sims 30 --perms 50 --seed 20091 --no-compare "
        "--no-figures --out cal"
    )
    assert shlex.split(prov["command_line"]) == prov["command"]


def test_recorded_command_reproduces_the_fit(fitted, capsys) -> None:
    folder, record = fitted
    words = record["provenance"]["command"]
    words[words.index("--out") + 1] = "again"
    code, _, err = ccsim(capsys, *words[1:])
    assert code == 0, err
    again = json.loads((folder.parent / "again" / "calibration.json").read_text())
    for key in ("estimates", "targets", "source", "model", "seeds", "permutation"):
        assert again[key] == record[key], key


def test_rerun_of_a_calibration_folder_gives_the_command(fitted, capsys) -> None:
    folder, _ = fitted
    line = one_error_line(*ccsim(capsys, "rerun", folder)[::2], "is a calibration folder")
    assert line.endswith(
        "which rerun cannot re-create; run 'ccsim calibrate nodes.csv ties.csv --id pid --group "
        "site --time t --censored-at 9 --contagion linear --intervals none --sims 30 --perms 50 "
        f"--seed 20091 --no-compare --no-figures --out {folder}-rerun' to fit it again"
    ), line
    one_error_line(*ccsim(capsys, "rerun", folder / "calibration.json")[::2], "calibration record")


def test_rerun_from_elsewhere_uses_the_absolute_data_paths(fitted, capsys, monkeypatch) -> None:
    folder, _ = fitted
    monkeypatch.chdir(folder)  # nodes.csv is not here
    line = one_error_line(*ccsim(capsys, "rerun", folder)[::2], "is a calibration folder")
    assert f"'ccsim calibrate {folder.parent / 'nodes.csv'} {folder.parent / 'ties.csv'} " in line


def test_rerun_of_an_old_calibration_points_to_its_options(fitted, capsys) -> None:
    folder, record = fitted
    del record["provenance"]
    (folder / "calibration.json").write_text(json.dumps(record))
    one_error_line(
        *ccsim(capsys, "rerun", folder)[::2],
        "is a calibration folder, which rerun cannot re-create; run ccsim calibrate again with "
        "the data options in its calibration.json ('source') and the model ('model')",
    )
