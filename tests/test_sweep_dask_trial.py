"""The dask sweep trial: ``ccsim sweep`` / ``ccsim sensitivity`` with a cluster that cannot be
reached create nothing, not even a new ``--out`` folder (as ``ccsim run``), and a scheduler
lost while it is being reached is one line, not a failed write to ``--out``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_helpers import ccsim, one_error_line, tiny_sweep

pytest.importorskip(
    "dask.distributed",
    reason="dask.distributed not installed (python3 -m pip install -e '.[dask]')",
)

SWEEP = tiny_sweep(replications=2, samples=4)
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


@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_help_says_how_a_sweep_runs_on_a_cluster(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, stdout, _ = ccsim(capsys, command, "--help")
    assert code == 0
    text = " ".join(stdout.split())  # argparse's own line breaks aside
    assert "On a cluster, --backend dask --scheduler tcp://HOST:8786" in text
    assert "leave --jobs out to use every worker" in text
    assert "--jobs 1 is refused" in text
    assert "--out is left as it was (docs/distributed.md, Sweeps on a cluster)" in text


@contextmanager
def _stopped_while_reaching(args: object) -> Iterator[None]:
    """Ctrl-C while ``open_backend`` waits for the cluster (up to a minute)."""
    raise KeyboardInterrupt
    yield  # a generator, as the real one


def test_a_sweep_stopped_while_reaching_the_cluster_names_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.commands.sweep as sweep_command

    monkeypatch.setattr(sweep_command, "open_backend", _stopped_while_reaching)
    sweep_file = tmp_path / "levers.toml"
    sweep_file.write_text(SWEEP.replace("'", '"'))
    out = tmp_path / "out"
    code, stdout, err = ccsim(
        capsys, "sweep", sweep_file, "--out", out, "--backend", "dask",
        "--scheduler", "tcp://127.0.0.1:8786", "--quiet", "--no-figures",
    )  # fmt: skip
    assert code == 130  # 128 + SIGINT
    assert err.strip().splitlines() == [
        "ccsim sweep: interrupted by SIGINT before any run started; nothing was written"
    ]
    assert stdout == ""
    assert not out.exists()
