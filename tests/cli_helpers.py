"""Shared by the user-report tests: a tiny scenario and in-process CLI helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["sites.n_sites=4", "sites.mean_size=8", "time.programme_months=6"]
TINY += ["time.followup_months=3", "programme.recruitment.window_months=2"]
SETS = [word for item in TINY for word in ("--set", item)]
FAST = ["--jobs", "1", "--no-figures", "--quiet"]
TINY_TOML = """extends = 'baseline'
[sites]
n_sites = 4
mean_size = 8
[time]
programme_months = 6
followup_months = 3
[programme.recruitment]
window_months = 2
"""


def ccsim(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """``ccsim ARGS`` in this process: exit code, stdout, stderr (argparse exits included)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, err: str, *needles: str) -> str:
    """Exit 2 and exactly one line on stderr (no traceback) holding every needle."""
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def tiny_sweep(replications: int = 1, samples: int = 2) -> str:
    """The text of the smallest sweep file the sweep tests run: one lever
    (``programme.tactics.soft`` over [0.2, 0.8]) of the :data:`TINY` scenario, seed 3,
    outcome ``gap_auc``; ``samples`` is read by ``ccsim sensitivity`` only."""
    return f"""base = "baseline"
set = {json.dumps(TINY)}
outcomes = ["gap_auc"]
seed = 3
replications = {replications}
samples = {samples}
[parameters."programme.tactics.soft"]
range = [0.2, 0.8]
"""
