"""The dask sweep trial: ``ccsim sweep`` / ``ccsim sensitivity`` with a cluster that cannot be
reached create nothing, not even a new ``--out`` folder (as ``ccsim run``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import TINY, ccsim, one_error_line

pytest.importorskip(
    "dask.distributed",
    reason="dask.distributed not installed (python3 -m pip install -e '.[dask]')",
)

SWEEP = f"""base = "baseline"
set = {TINY!r}
outcomes = ["gap_auc"]
seed = 3
replications = 2
samples = 4
[parameters."programme.tactics.soft"]
range = [0.2, 0.8]
"""
UNREACHABLE = ["--backend", "dask", "--scheduler", "tcp://no-such-host.invalid:8786"]


@pytest.mark.parametrize(
    "command",
    [["sweep"], ["sensitivity", "--method", "morris", "--samples", "2"]],
    ids=["sweep", "sensitivity"],
)
def test_an_unreachable_scheduler_creates_no_out_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    sweep_file = tmp_path / "levers.toml"
    sweep_file.write_text(SWEEP.replace("'", '"'))
    out = tmp_path / "new" / "out"
    code, stdout, err = ccsim(
        capsys, command[0], sweep_file, *command[1:], "--out", out, *UNREACHABLE,
        "--quiet", "--no-figures",
    )  # fmt: skip
    one_error_line(
        code,
        err,
        f"ccsim {command[0]}: error: cannot reach dask scheduler",
        "unknown host 'no-such-host.invalid'",
    )
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["levers.toml"]  # no new/ nor new/out/
