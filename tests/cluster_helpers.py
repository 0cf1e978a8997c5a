"""A dask ``LocalCluster`` as the back-end tests start it."""

from __future__ import annotations

from typing import Any


def local_cluster(n_workers: int) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` single-threaded worker processes on
    127.0.0.1 with no dashboard (the settings of tests/test_backends.py, from issue 5); use it
    as a context manager. Needs dask.distributed (callers skip without it)."""
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
