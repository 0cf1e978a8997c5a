"""``--backend`` / ``--scheduler`` / ``--address`` options of the run commands (see
:mod:`sim.backends`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sim.backends import (
    BACKENDS,
    DISTRIBUTED_BACKENDS,
    BackendUnavailableError,
    joblib_backend,
)
from sim.commands.common import UsageError


class DefaultJobs(int):
    """``--jobs``'s default (all cores of this machine) on a command with ``--backend``: an
    ``int`` like any other, but marked as not given, so that on a cluster it means "the whole
    cluster" while a ``--jobs`` that happens to equal this machine's core count is a cap."""


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--backend``, ``--scheduler`` and ``--address`` to a sub-command, and mark the
    default of its ``--jobs`` (if any) as :class:`DefaultJobs`."""
    parser.set_defaults(jobs=DefaultJobs(os.cpu_count() or 1))
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="loky",
        help="where replications run: loky (local processes, default), dask (a dask.distributed "
        "cluster: --scheduler, or a local one), ray (--address, or a local one); dask and ray "
        "need extras, installed from the ccsim clone: python3 -m pip install -e '.[dask]' "
        "(or '.[ray]')",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="--backend dask: address of a running dask scheduler (default: start a local "
        "cluster of --jobs worker processes on 127.0.0.1)",
    )
    parser.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="--backend ray: cluster to join (auto, ray://HOST:10001); default: a local ray",
    )


@dataclass(frozen=True)
class OpenBackend:
    """A prepared back end: the joblib name and the ``jobs`` to pass to ``run_experiment``."""

    name: str
    jobs: int
    where: str


@contextmanager
def open_backend(args: argparse.Namespace) -> Iterator[OpenBackend]:
    """Set up ``args.backend`` for the duration of a run.

    Locally ``jobs`` is ``--jobs``. With dask or ray, ``--jobs`` left out (or -1) uses the
    whole cluster: every worker slot, and with dask also the workers that join later; a
    ``--jobs J`` below the cluster's slots keeps at most J chunks in flight. ``--jobs 1`` is
    refused there: one process means this one, so nothing would run on the cluster. Bad
    options and missing packages or unreachable clusters become a one-line
    :class:`UsageError` (exit 2).
    """
    requested = getattr(args, "jobs", 1)
    given = not isinstance(requested, DefaultJobs) and requested != -1
    name = getattr(args, "backend", "loky")
    if name in DISTRIBUTED_BACKENDS and given and requested == 1:
        raise UsageError(
            f"--jobs 1 with --backend {name} would run every replication in this process, "
            "not on the cluster: leave --jobs out to use the whole cluster, or give 2 or more"
        )
    cores = os.cpu_count() or 1
    local = requested if requested > 0 else cores
    started = False
    try:
        with joblib_backend(
            name,
            scheduler=getattr(args, "scheduler", None),
            address=getattr(args, "address", None),
            local_workers=local,
        ) as be:
            if be.workers is None:
                jobs = int(requested)
            elif not given:  # the whole cluster
                jobs = be.workers
            elif be.name == "dask":  # a cap; at or above the slots, the whole cluster as it grows
                jobs = int(requested)
            else:  # ray starts one pool process per job, each waiting for a free CPU
                jobs = min(int(requested), be.workers)
            started = True
            yield OpenBackend(be.name, jobs, be.where)
    except (BackendUnavailableError, ValueError) as exc:
        if started or isinstance(exc, UsageError):  # not a set-up error: pass it on as it is
            raise
        raise UsageError(str(exc)) from exc
