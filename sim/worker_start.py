"""Starting worker processes so that Ctrl-C reaches only the command, not the workers.

A terminal's Ctrl-C (or ``timeout -s INT``) sends SIGINT to the whole process group, workers
included. A worker hit while it is still importing numpy, joblib or the model prints a
``KeyboardInterrupt`` traceback (or ``Fatal Python error: init_import_site``) before the
command's own one-line message. Workers started while SIGINT is *ignored* keep ignoring it: an
ignored disposition survives ``fork`` + ``exec`` (handled ones are reset, and a blocked mask is
not kept by joblib's process start) and Python does not replace it at start-up. The command
itself still gets later signals, stops the run (ccsim or joblib terminates its workers) and
prints its one line.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["sigint_ignored_by_new_workers"]


@contextmanager
def sigint_ignored_by_new_workers() -> Iterator[None]:
    """Ignore SIGINT for the duration of the block, so that worker processes started inside it
    (joblib's ``Parallel(...)`` call, which dispatches the first tasks and starts the pool)
    ignore it for good; then restore the previous handler.

    Keep the block short: a SIGINT arriving inside it is discarded (joblib's call takes a few
    tens of milliseconds; pressing Ctrl-C again works). Outside the main thread, where
    handlers cannot be changed, it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
