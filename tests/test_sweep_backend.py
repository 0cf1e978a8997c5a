"""``ccsim sweep`` and ``ccsim sensitivity`` on a dask cluster (``--backend dask``): the same
runs as on local processes, and a cluster that cannot be reached touches nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import ccsim, one_error_line, tiny_sweep
from cluster_helpers import local_cluster

distributed = pytest.importorskip(
    "dask.distributed",
    reason="dask.distributed not installed (python3 -m pip install -e '.[dask]')",
)

SWEEP = tiny_sweep(replications=2, samples=4)
QUIET = ["--quiet", "--no-figures"]


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "levers.toml"
    path.write_text(SWEEP.replace("'", '"'))
    return path


def test_a_sweep_on_a_dask_cluster_matches_the_local_sweep(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sweep_file: Path
) -> None:
    local, on_dask = tmp_path / "local", tmp_path / "dask"
    assert ccsim(capsys, "sweep", sweep_file, "--out", local, "--jobs", "1", *QUIET)[0] == 0
    with (
        local_cluster(2) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as ts,
    ):
        address = cluster.scheduler_address
        args = ["--backend", "dask", "--scheduler", address, *QUIET]
        code, _, err = ccsim(capsys, "sweep", sweep_file, "--out", on_dask, *args)
        assert code == 0, err
    assert len(ts.data) >= 1, "no part of the sweep ran on the dask workers"
    pd.testing.assert_frame_equal(
        pd.read_parquet(on_dask / "runs"), pd.read_parquet(local / "runs"), check_exact=True
    )


def test_an_unreachable_cluster_leaves_an_overwritten_folder_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sweep_file: Path
) -> None:
    out = tmp_path / "out"
    assert ccsim(capsys, "sweep", sweep_file, "--out", out, "--jobs", "1", *QUIET)[0] == 0
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, stdout, err = ccsim(
        capsys, "sweep", sweep_file, "--out", out, "--overwrite", "--backend", "dask",
        "--scheduler", f"tcp://127.0.0.1:{port}", *QUIET,
    )  # fmt: skip
    one_error_line(
        code, err, "ccsim sweep: error: cannot reach dask scheduler", "nothing is listening"
    )
    assert stdout == ""
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
