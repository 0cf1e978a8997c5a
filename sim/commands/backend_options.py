"""``--backend`` / ``--scheduler`` / ``--address`` options of the run commands (see
:mod:`sim.backends`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sim.backends import BACKENDS, BackendUnavailableError, joblib_backend
from sim.commands.common import UsageError


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--backend``, ``--scheduler`` and ``--address`` to a sub-command."""
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

    With dask or ray, ``jobs`` is every worker slot of the cluster unless ``--jobs`` asked for
    fewer chunks in flight; locally it is ``--jobs``. Bad options and missing packages or
    unreachable clusters become a one-line :class:`UsageError` (exit 2).
    """
    requested = int(getattr(args, "jobs", 1))
    cores = os.cpu_count() or 1
    local = requested if requested > 0 else cores
    started = False
    try:
        with joblib_backend(
            getattr(args, "backend", "loky"),
            scheduler=getattr(args, "scheduler", None),
            address=getattr(args, "address", None),
            local_workers=local,
        ) as be:
            if be.workers is None:
                jobs = requested
            elif requested in (-1, cores):  # not narrowed by --jobs: use the whole cluster
                jobs = be.workers
            else:
                jobs = min(requested, be.workers)
            started = True
            yield OpenBackend(be.name, jobs, be.where)
    except (BackendUnavailableError, ValueError) as exc:
        if started or isinstance(exc, UsageError):  # not a set-up error: pass it on as it is
            raise
        raise UsageError(str(exc)) from exc
