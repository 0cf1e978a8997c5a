"""``ccsim compare`` with replications that raise: listed like ``ccsim run``'s, exit code 1, and
everything that finished is written and compared.

Faults come from the test-only hook ``CCSIM_FAULT_INJECT="design:replication,..."`` read inside
:func:`sim.replicate.run_chunk` (in this process with ``--jobs 1``), as in
``tests/test_reliability_failures.py``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import FAST, TINY_TOML, ccsim

from sim.cli import main
from sim.compare.windows import failed_list
from sim.experiment import FAULT_ENV
from sim.rng import seed_label

SEED = 7
REPS = 6


def _designs(tmp_path: Path) -> tuple[Path, Path]:
    """Two tiny designs, ``tiny`` (the baseline) and ``tiny_soft``."""
    a, b = tmp_path / "tiny.toml", tmp_path / "tiny_soft.toml"
    a.write_text(TINY_TOML)
    b.write_text(TINY_TOML + "[programme.tactics]\nsoft = 0.9\n")
    return a, b


def _compare(capsys, tmp_path: Path, *extra: str) -> tuple[int, str, str, Path]:
    a, b = _designs(tmp_path)
    out = tmp_path / "cmp"
    code, stdout, err = ccsim(
        capsys, "compare", a, b, "--reps", REPS, "--seed", SEED, "--out", out, *FAST, *extra
    )
    return code, stdout, err, out


def _reproduce(err: str, design: str, rep: int, nth: int = 0) -> list[str]:
    """The words of the ``nth`` ``reproduce:`` command printed for one failure."""
    lines = [ln for ln in err.splitlines() if "reproduce:" in ln and f"{design}.toml" in ln]
    lines = [ln for ln in lines if f"--replication {rep} " in ln]
    return shlex.split(lines[nth].split("reproduce:", 1)[1])


def test_failed_replications_are_listed_written_around_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "tiny_soft:2,tiny:5")
    code, stdout, err, out = _compare(capsys, tmp_path)
    assert code == 1, err
    assert "Traceback" not in err
    assert (
        f"ccsim compare: 2 replication(s) failed; the rest of the comparison is complete (the "
        f"runs paired with a failed one are left out) and the failures are listed in "
        f"{out / 'manifest.json'} (failed_replications):"
    ) in err
    for design, rep in (("tiny", 5), ("tiny_soft", 2)):
        assert (
            f"design '{design}' replication {rep} failed (root seed {SEED}, design key 0, seed "
            f"{seed_label(SEED, rep, 0)}): RuntimeError: fault injected by {FAULT_ENV}"
        ) in err
        words = _reproduce(err, design, rep)
        assert words[:4] == ["ccsim", "--debug", "run", str(tmp_path / f"{design}.toml")]
        assert words[words.index("--seed") + 1] == str(SEED)
    assert f"results: {out}/" in stdout  # the results line comes first, on stdout
    # everything that finished is on disk; the failed replications' pairs are left out
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["complete"] is True
    assert m["completed_replications"] == {"tiny": 5, "tiny_soft": 5}
    assert {(f["design"], f["replication"]) for f in m["failed_replications"]} == {
        ("tiny", 5),
        ("tiny_soft", 2),
    }
    assert len(pd.read_parquet(out / "runs.parquet")) == 2 * REPS - 2
    table = pd.read_parquet(out / "comparison.parquet")
    # 10 outcomes: a 3-month follow-up has no gap a year after support ends (left out)
    assert len(table) == 11 and (table["n_pairs"] + table["n_missing"] == REPS - 2).all()
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert (
        "> **Caution:** 2 replication(s) failed and are left out, and so are the runs they "
        "would be paired with: tiny (replication 5), tiny_soft (replication 2); their errors "
        "are listed in manifest.json (failed_replications)."
    ) in md
    assert f"Each design ran {REPS} replications." in md  # as asked, not as paired
    assert f"randomness over the {REPS - 2} paired replications" in md  # as paired


def test_the_printed_command_reproduces_the_failed_replication(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "tiny_soft:2")
    code, _, err, out = _compare(capsys, tmp_path)
    assert code == 1, err
    words = _reproduce(err, "tiny_soft", 2)
    repro = tmp_path / "repro"
    words[words.index("--out") + 1] = str(repro)
    with pytest.raises(RuntimeError, match="fault injected"):  # --debug: the real traceback
        main(words[1:])
    monkeypatch.delenv(FAULT_ENV)
    assert main([w for w in words[1:] if w != "--debug"]) == 0
    alone = pd.read_parquet(repro / "runs.parquet")
    assert list(alone["design"]) == ["tiny_soft"] and list(alone["replication"]) == [2]
    assert alone["seed"].iloc[0] == seed_label(SEED, 2, 0)  # the compared run's seed
    runs = pd.read_parquet(out / "runs.parquet")  # its CRN partner ran and is on disk
    assert seed_label(SEED, 2, 0) in set(runs.loc[runs["design"] == "tiny", "seed"])


def test_independent_lists_the_crn_rerun_failures_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "tiny_soft:1")
    code, _, err, out = _compare(capsys, tmp_path, "--independent")
    assert code == 1, err
    assert "ccsim compare: 1 replication(s) failed;" in err
    assert "ccsim compare: 1 replication(s) of the CRN re-run failed" in err
    assert f"left out of the CRN columns of {out / 'comparison.md'}:" in err
    # the experiment's own streams: design key 1, reproduced with both designs, --independent
    main_run = _reproduce(err, "tiny_soft", 1, nth=0)
    assert "--independent" in main_run and str(tmp_path / "tiny.toml") in main_run
    assert f"seed {seed_label(SEED, 1, 1)}): RuntimeError" in err
    # the CRN re-run: design key 0, reproduced alone under CRN
    crn_run = _reproduce(err, "tiny_soft", 1, nth=1)
    assert "--independent" not in crn_run and str(tmp_path / "tiny.toml") not in crn_run
    assert f"seed {seed_label(SEED, 1, 0)}): RuntimeError" in err
    table = pd.read_parquet(out / "comparison.parquet")
    assert table["ci_width_crn"].notna().any()
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert "1 replication(s) of the in-memory CRN re-run failed and are left out of the CRN " in md


def test_debug_raises_the_replications_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "tiny_soft:0")
    a, b = _designs(tmp_path)
    with pytest.raises(RuntimeError, match="fault injected"):
        main(["--debug", "compare", str(a), str(b), "--reps", "2", "--out", str(tmp_path / "d"),
              *FAST])  # fmt: skip


def test_without_failures_compare_exits_0_and_says_nothing_of_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err, out = _compare(capsys, tmp_path)
    assert code == 0, err
    assert "failed" not in err
    assert "failed" not in (out / "comparison.md").read_text(encoding="utf-8")


def test_failed_list_groups_by_design_and_stops_at_the_limit() -> None:
    failures = [{"design": "a", "replication": r} for r in (3, 7)] + [
        {"design": "b", "replication": 1}
    ]
    assert failed_list(failures) == "a (replications 3, 7), b (replication 1)"
    assert failed_list(failures, limit=2) == "a (replications 3, 7), and 1 more"
