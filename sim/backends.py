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
  ``jobs`` at or above the cluster's worker slots hands every chunk to the scheduler at once,
  so workers that join later get work too; a smaller ``jobs`` keeps at most that many chunks
  in flight. A scheduler lost part-way, or a chunk that kills worker after worker, becomes a
  one-line :class:`sim.results.RunError` (the finished chunks stay on disk for ``--resume``).
* ``ray``: ``ray.util.joblib`` on a ray cluster; ``address`` = ``"auto"`` or ``ray://host:10001``
  to join one, none = a local ray started (and stopped) here.

Workers receive the scenario and a chunk of replication numbers and send back small tables
(monthly series, per-run and per-site summaries), never model objects. Each replication is
seeded from its own ``SeedSequence``, so results are identical on every back end.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from joblib import register_parallel_backend

LOCAL_BACKENDS = ("loky", "threading", "multiprocessing", "sequential")
DISTRIBUTED_BACKENDS = ("dask", "ray")
BACKENDS = LOCAL_BACKENDS + DISTRIBUTED_BACKENDS
CONNECT_TIMEOUT_S = 60.0  # seconds to wait for a scheduler and its first worker
REFUSED_RETRY_S = 10.0
"""Seconds a refused connection to a dask scheduler is retried (one just starting) before
the address is called wrong; an unknown host fails at once."""
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
        workers: the ``jobs`` that uses the whole cluster: its worker slots (threads or CPUs)
            when it was reached, and at least 2, since ``jobs=1`` runs every chunk in the
            calling process instead of on the cluster; ``None`` for local back ends (``jobs``
            decides).
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
    if scheduler is not None:
        check_scheduler_reachable(scheduler)
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
        address = client.scheduler.address
        try:
            with _client_logs_muted():
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            raise BackendUnavailableError(
                f"dask scheduler {address} has no workers after {CONNECT_TIMEOUT_S:.0f} s"
            ) from exc
        except OSError as exc:  # the scheduler went away while we waited for a worker
            raise BackendUnavailableError(
                f"lost the dask scheduler {address} before any worker joined ({exc}); start "
                "the cluster again and run the same command"
            ) from exc
        threads = sum(client.nthreads().values())
        _register_dask()
        where = client.scheduler.address
        with _client_logs_muted():
            try:
                yield Backend("dask", max(threads, 2), where)
            except _dask_failures() as exc:  # raised by the run inside the ``with`` block
                raise dask_run_error(where, exc) from exc
            finally:
                client.close()
    finally:
        if client.status != "closed":
            client.close()
        if cluster is not None:
            cluster.close()


DASK_CLIENT_LOGGERS = ("distributed", "distributed.client", "tornado", "tornado.application")
"""Loggers of this process that report a lost scheduler with tracebacks, before ccsim's own
one-line message says the same (``--debug`` still shows the exception's traceback); the
child loggers are listed because distributed gives them levels of their own."""


@contextmanager
def _client_logs_muted() -> Iterator[None]:
    """Raise :data:`DASK_CLIENT_LOGGERS` to CRITICAL while a run uses the client (and while it
    closes), restoring their levels afterwards; the workers' and scheduler's own logs, in
    their own processes, are untouched."""
    loggers = [logging.getLogger(name) for name in DASK_CLIENT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def check_scheduler_reachable(address: str) -> None:
    """Fail at once when nothing can answer at a ``tcp://`` or ``tls://`` scheduler address.

    ``distributed.Client`` retries a refused connection, or a host name that does not resolve,
    until its whole timeout (:data:`CONNECT_TIMEOUT_S`) has passed and then reports a time-out;
    a mistyped host or port would cost a silent minute. An unknown host fails here at once; a
    refused connection is retried for :data:`REFUSED_RETRY_S` (a scheduler may be starting);
    a connection that neither succeeds nor is refused (a slow or filtered network) is left to
    the client's own timeout. Other schemes (``ws://``, ``ucx://``, ...) are not checked.

    Args:
        address: the scheduler address, ``[tcp://]HOST:PORT``.

    Raises:
        ValueError: the address has no port.
        BackendUnavailableError: the host is unknown, or nothing listens at the port.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        return
    host, port = parse_host_port(location)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BackendUnavailableError(
            f"cannot reach dask scheduler {address}: unknown host '{host}' ({exc.strerror})"
        ) from exc
    deadline = time.monotonic() + REFUSED_RETRY_S
    while True:
        try:
            with socket.create_connection((host, port), timeout=REFUSED_RETRY_S):
                return
        except ConnectionRefusedError as exc:
            if time.monotonic() >= deadline:
                raise BackendUnavailableError(
                    f"cannot reach dask scheduler {address}: nothing is listening on "
                    f"{host}:{port} (connection refused for {REFUSED_RETRY_S:.0f} s); is the "
                    "scheduler running there, and is the port the one it printed?"
                ) from exc
            time.sleep(0.5)
        except OSError:  # timed out, unreachable...: the client's own timeout decides
            return


def _dask_failures() -> tuple[type[BaseException], ...]:
    """The exceptions a run on dask raises when the cluster, not the model, fails."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return (CancelledError, KilledWorker, CommClosedError)


def dask_run_error(where: str, exc: BaseException) -> Exception:
    """The one-line :class:`sim.results.RunError` for a run on dask stopped by the cluster.

    Args:
        where: the scheduler address.
        exc: what the run raised: a chunk cancelled because the client lost the scheduler
            (``reason`` ``scheduler-connection-lost``) or for another reason, a
            ``KilledWorker`` (a chunk that killed every worker that tried it), a closed
            connection.

    Returns:
        The error to raise in its place (the run's finished chunks are on disk already).
    """
    from distributed import KilledWorker

    from sim.results import RunError

    saved = "the finished chunks are saved"
    resume = "add --resume to the same command to finish"
    if isinstance(exc, KilledWorker):
        return RunError(
            "a chunk killed every dask worker that ran it (out of memory? see the workers' "
            f"logs); {saved}: give the workers more memory and {resume}"
        )
    reason = getattr(exc, "reason", None)
    if reason in (None, "scheduler-connection-lost"):
        return RunError(
            f"lost the dask scheduler {where} part-way (it stopped, or the network failed); "
            f"{saved}: start the cluster again and {resume}"
        )
    return RunError(f"the dask scheduler {where} cancelled a chunk ({reason}); {saved}: {resume}")


def _register_dask() -> None:
    """Register joblib's dask back end as ``"dask"`` (on the current default client).

    joblib 1.6 registers it lazily, and an explicit ``Parallel(backend="dask")`` then hands
    its ``nesting_level`` on to ``client.submit`` (the task fails with "unexpected keyword
    argument 'nesting_level'"); this subclass takes the argument itself.

    It also decides how many chunks are in flight. joblib's own back end ignores ``n_jobs``:
    it keeps twice the worker slots of the moment the run starts in flight, so ``--jobs``
    could not leave room for other work, workers that joined later never got a chunk, and a
    cluster of one slot was not used at all. Here ``n_jobs`` at or above the slots hands every
    chunk to the scheduler at once (``pre_dispatch="all"``): the scheduler queues them and
    feeds every worker, including those that join later; a smaller ``n_jobs`` keeps exactly
    that many in flight (``pre_dispatch="n_jobs"``). And a task the cluster gave up on (a
    ``KilledWorker``) is raised, where joblib's own back end left the run waiting for ever.
    """
    from joblib._dask import DaskDistributedBackend

    class _DaskBackend(DaskDistributedBackend):
        def __init__(self, nesting_level: int | None = None, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.nesting_level = nesting_level

        def configure(
            self, n_jobs: int = 1, parallel: object = None, **backend_args: object
        ) -> int:
            self.parallel = parallel
            slots = sum(self.client.nthreads().values())
            whole = n_jobs is None or n_jobs < 0 or n_jobs >= slots
            if parallel is not None:  # read by Parallel.__call__ right after this call
                parallel.pre_dispatch = "all" if whole else "n_jobs"
            return max(slots, 2) if whole else n_jobs  # 1 here: joblib runs in this process

        async def _collect(self) -> None:
            """joblib 1.6's result loop, except that a task the cluster failed (status
            "error": ``KilledWorker``...) also calls its callback, which records the error, so
            that ``Parallel`` raises it; joblib's own loop only set it on a future nobody
            waits on, and the run hung for ever."""
            while self._continue:
                async for future, result in self.waiting_futures:
                    cf_future = self._results.pop(future)
                    callback = self._callbacks.pop(future)
                    if future.status == "error":
                        _, exc, _ = result
                        cf_future.set_exception(exc)
                        callback(exc)
                    else:
                        cf_future.set_result(result)
                        callback(result)
                await asyncio.sleep(0.01)

    register_parallel_backend("dask", _DaskBackend)


RAY_POOL_LOGGER = "ray.util.multiprocessing.pool"
"""ray's pool logger, kept to errors (see :func:`_register_ray`)."""


def _register_ray(register_ray: Callable[[], None]) -> None:
    """Register ``ray.util.joblib``'s back end as ``"ray"``, streaming results as they finish.

    joblib marks every multiprocessing-pool back end (ray's included) as unable to return a
    generator; ``run_experiment`` streams chunks with ``return_as="generator_unordered"``,
    which works on ray's pool (its ``apply_async`` callbacks are what joblib needs), so the
    subclass says so.
    """
    from ray.util.joblib.ray_backend import RayBackend

    register_ray()
    # joblib hands every pool a `context`, which ray's pool ignores and logs a WARNING about on
    # the first run of a process: noise on ccsim's stderr, about nothing the user chose
    logging.getLogger(RAY_POOL_LOGGER).setLevel(logging.ERROR)

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
        yield Backend("ray", max(cpus, 2), address or "local ray")
    finally:
        if started:
            ray.shutdown()
