"""Parallel back ends for :func:`sim.experiment.run_experiment`: local joblib, dask, ray.

:func:`joblib_backend` is a context manager that prepares a back end and yields a
:class:`Backend` (the joblib back-end name to pass as ``run_experiment(backend=...)`` and how many
workers it offers), then tears down whatever it started::

    with joblib_backend("dask", scheduler="tcp://10.0.0.5:8786") as be:
        run_experiment(designs, reps=10_000, jobs=be.workers, backend=be.name, out_dir=out)

* ``loky`` (default): this process plus ``jobs - 1`` loky workers (:mod:`sim.shared_pool`).
* ``threading``, ``multiprocessing``, ``sequential``: joblib's own.
* ``dask``: joblib's dask back end on a ``dask.distributed`` client. With ``scheduler`` it
  connects to a running cluster (``tcp://host:8786``; one started by ``dask scheduler`` /
  ``dask worker``, by dask-jobqueue on SLURM, ...) and leaves it running afterwards; without,
  it starts a ``LocalCluster`` on 127.0.0.1 (one single-threaded worker process per job).
* ``ray``: ``ray.util.joblib`` on a ray cluster; ``address`` = ``"auto"`` or ``ray://host:10001``
  to join one, none = a local ray started (and stopped) here.

Workers receive the scenario and a chunk of replication numbers and send back small tables
(monthly series, per-run and per-site summaries), never model objects. Each replication is
seeded from its own ``SeedSequence``, so results are identical on every back end.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from joblib import register_parallel_backend

LOCAL_BACKENDS = ("loky", "threading", "multiprocessing", "sequential")
DISTRIBUTED_BACKENDS = ("dask", "ray")
BACKENDS = LOCAL_BACKENDS + DISTRIBUTED_BACKENDS
CONNECT_TIMEOUT_S = 60.0  # seconds to wait for a scheduler and its first worker
INSTALL_HINT = (
    "install ccsim[{extra}] from the ccsim clone (python3 -m pip install -e '.[{extra}]')"
)
"""How to get a back end's package: ccsim is installed from its clone, not the package index."""


class BackendUnavailableError(RuntimeError):
    """A back end's package is missing or its cluster cannot be reached (one-line message)."""


@dataclass(frozen=True)
class Backend:
    """A prepared back end.

    Attributes:
        name: joblib back-end name for ``run_experiment(backend=...)``.
        workers: worker slots it offers (cluster threads or CPUs); ``None`` for local back ends
            (``jobs`` decides).
        where: where the work runs, for messages and the manifest (e.g. the scheduler address).
    """

    name: str
    workers: int | None = None
    where: str = "this machine"


@contextmanager
def joblib_backend(
    name: str = "loky",
    *,
    scheduler: str | None = None,
    address: str | None = None,
    local_workers: int = 2,
) -> Iterator[Backend]:
    """Prepare back end ``name`` for joblib and yield it; clean up what was started here.

    Args:
        name: one of :data:`BACKENDS`.
        scheduler: dask only: address of a running scheduler (``tcp://host:port``).
        address: ray only: cluster address (``auto``, ``ray://host:10001``, ``host:6379``).
        local_workers: worker processes of a cluster started here (dask or ray without an
            address); >= 1.

    Raises:
        ValueError: unknown back end, or an option that does not belong to it.
        BackendUnavailableError: the package is not installed (the message says how:
            :data:`INSTALL_HINT`) or the cluster cannot be reached.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}' (choose from {', '.join(BACKENDS)})")
    if scheduler is not None and name != "dask":
        raise ValueError("--scheduler is for --backend dask")
    if address is not None and name != "ray":
        raise ValueError("--address is for --backend ray")
    if local_workers < 1:
        raise ValueError(f"local_workers must be >= 1, got {local_workers}")
    if name == "dask":
        with _dask(scheduler, local_workers) as backend:
            yield backend
    elif name == "ray":
        with _ray(address, local_workers) as backend:
            yield backend
    else:
        yield Backend(name)


@contextmanager
def quiet_third_party() -> Iterator[None]:
    """Silence Python warnings and log records below ERROR (of every logger: a package may
    reconfigure its own loggers as it starts) while a third-party package sets up: its notes
    would otherwise come before, or instead of, ccsim's own one-line message."""
    previous = logging.root.manager.disable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(previous)


@contextmanager
def _dask(scheduler: str | None, local_workers: int) -> Iterator[Backend]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise BackendUnavailableError(
            f"--backend dask needs dask.distributed: {INSTALL_HINT.format(extra='dask')}"
        ) from exc
    cluster = None
    try:
        with quiet_third_party():
            if scheduler is None:
                cluster = LocalCluster(
                    n_workers=local_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
                client = Client(cluster)
            else:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise BackendUnavailableError(f"cannot reach dask scheduler {scheduler}: {exc}") from exc
    try:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            raise BackendUnavailableError(
                f"dask scheduler {client.scheduler.address} has no workers after "
                f"{CONNECT_TIMEOUT_S:.0f} s"
            ) from exc
        threads = sum(client.nthreads().values())
        _register_dask()
        yield Backend("dask", max(threads, 1), client.scheduler.address)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _register_dask() -> None:
    """Register joblib's dask back end as ``"dask"`` (on the current default client).

    joblib 1.6 registers it lazily, and an explicit ``Parallel(backend="dask")`` then hands
    its ``nesting_level`` on to ``client.submit`` (the task fails with "unexpected keyword
    argument 'nesting_level'"); this subclass takes the argument itself.
    """
    from joblib._dask import DaskDistributedBackend

    class _DaskBackend(DaskDistributedBackend):
        def __init__(self, nesting_level: int | None = None, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.nesting_level = nesting_level

    register_parallel_backend("dask", _DaskBackend)


def _register_ray(register_ray: Callable[[], None]) -> None:
    """Register ``ray.util.joblib``'s back end as ``"ray"``, streaming results as they finish.

    joblib marks every multiprocessing-pool back end (ray's included) as unable to return a
    generator; ``run_experiment`` streams chunks with ``return_as="generator_unordered"``,
    which works on ray's pool (its ``apply_async`` callbacks are what joblib needs), so the
    subclass says so.
    """
    from ray.util.joblib.ray_backend import RayBackend

    register_ray()

    class _RayBackend(RayBackend):
        supports_return_generator = True

    register_parallel_backend("ray", _RayBackend)


@contextmanager
def _ray(address: str | None, local_workers: int) -> Iterator[Backend]:
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError as exc:
        raise BackendUnavailableError(
            f"--backend ray needs ray: {INSTALL_HINT.format(extra='ray')}"
        ) from exc
    _register_ray(register_ray)
    started = not ray.is_initialized()
    if started:
        try:
            with quiet_third_party():  # its connection notes and warnings are not ours
                if address is None:
                    ray.init(num_cpus=local_workers, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BackendUnavailableError(f"cannot start or reach ray at {address}: {exc}") from exc
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        yield Backend("ray", max(cpus, 1), address or "local ray")
    finally:
        if started:
            ray.shutdown()
