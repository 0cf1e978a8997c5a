"""Failure records: what the manifest keeps about a replication that raised.

A replication that raises does not stop the run: it becomes a record (design, replication, seeds,
error, the end of the traceback) in the manifest's ``failures``. :func:`failure_record` builds one
and :func:`describe_failure` prints it in one line. Both are re-exported by :mod:`sim.checkpoint`.
"""

from __future__ import annotations

import traceback
from typing import Any

TRACEBACK_LINES = 30
"""Last lines of a failed replication's traceback kept in the manifest."""


def failure_record(
    exc: BaseException,
    design: str,
    design_index: int,
    replication: int,
    root_seed: int,
    design_key: int,
    seed: int,
) -> dict[str, Any]:
    """What the manifest records about a replication that raised ``exc``.

    ``error`` is one line (exception type and the first line of its message); ``traceback`` keeps
    the last :data:`TRACEBACK_LINES` lines of the traceback.
    """
    lines = "".join(traceback.format_exception(exc)).rstrip().splitlines()
    message = (str(exc).strip().splitlines() or [""])[0]
    return {
        "design": design,
        "design_index": design_index,
        "replication": replication,
        "root_seed": root_seed,
        "design_key": design_key,
        "seed": seed,
        "error": f"{type(exc).__name__}: {message}".rstrip(": "),
        "traceback": lines[-TRACEBACK_LINES:],
    }


def describe_failure(rec: dict[str, Any]) -> str:
    """One line for a failure record: design, replication, seeds and the error."""
    return (
        f"design '{rec['design']}' replication {rec['replication']} failed (root seed "
        f"{rec['root_seed']}, design key {rec['design_key']}, seed {rec['seed']}): {rec['error']}"
    )
