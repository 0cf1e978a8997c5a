"""Argument types and errors shared by the ``ccsim`` sub-commands."""

from __future__ import annotations

import argparse

EXIT_FAILED = 1  # ran, but some replications failed, or stopped part-way (can --resume)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
MAX_REPS = 10_000_000  # same bound as sim.experiment.MAX_REPS


class UsageError(ValueError):
    """Bad command-line input; reported as one line with exit code 2."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def replications(text: str) -> int:
    """``--reps``: a whole number in [1, 10 000 000]."""
    value = positive_int(text)
    if value > MAX_REPS:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_REPS}, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (e.g. ``--replication``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or -1 (all cores), got {value}")
    return value


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")
