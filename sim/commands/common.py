"""Argument types and errors shared by the ``ccsim`` sub-commands."""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

EXIT_FAILED = 1  # ran, but some replications failed, or stopped part-way (can --resume)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
MAX_REPS = 10_000_000  # same bound as sim.experiment.MAX_REPS


class UsageError(ValueError):
    """Bad command-line input; reported as one line with exit code 2."""


def whole_number(text: str, lo: int | None = None, hi: int | None = None, note: str = "") -> int:
    """Parse an integer option value in [lo, hi]; raise argparse's one-line type error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if lo is not None and value < lo:
        raise argparse.ArgumentTypeError(f"must be >= {lo}{note}, got {value}")
    if hi is not None and value > hi:
        raise argparse.ArgumentTypeError(f"must be <= {hi}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    return whole_number(text, lo=1)


def replications(text: str) -> int:
    """``--reps``: a whole number in [1, 10 000 000]."""
    return whole_number(text, lo=1, hi=MAX_REPS)


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (e.g. ``--replication``, ``--seed``)."""
    return whole_number(text, lo=0)


def seed(text: str) -> int:
    """``--seed``: the root seed, a whole number >= 0."""
    return whole_number(text, lo=0)


def jobs(text: str) -> int:
    """``--jobs``: processes, >= 1, or -1 for all cores."""
    value = whole_number(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or -1 (all cores), got {value}")
    return value


def add_jobs_option(
    p: argparse.ArgumentParser,
    purpose: str = " running replications (this one and J-1 worker processes)",
) -> None:
    """``--jobs J`` (default: all cores of this machine); ``purpose`` ends the first part of
    the help text (e.g. ``" for the bootstrap refits"``)."""
    p.add_argument(
        "--jobs",
        type=jobs,
        default=os.cpu_count() or 1,
        metavar="J",
        help=f"processes{purpose}; -1 = all cores (default: all cores, %(default)s here)",
    )


def add_seed_option(p: argparse.ArgumentParser, default: int | None) -> None:
    """``--seed S`` with the command's default root seed."""
    p.add_argument(
        "--seed", type=seed, default=default, metavar="S", help="root seed (default: %(default)s)"
    )


def add_overwrite_resume_options(p: argparse.ArgumentParser, resume_help: str) -> None:
    """``--overwrite`` and ``--resume`` (mutually exclusive) for commands writing a results
    folder; ``resume_help`` says what ``--resume`` finishes and which options it recalls."""
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a results folder that holds a different experiment or an unfinished run "
        "(only ccsim's own files in it are deleted)",
    )
    again.add_argument("--resume", action="store_true", help=resume_help)


def add_reps_option(p: argparse.ArgumentParser, default: int | None, what: str) -> None:
    """``--reps N`` in [1, 10 000 000]."""
    p.add_argument(
        "--reps",
        type=replications,
        default=default,
        metavar="N",
        help=f"replications per {what} (default: %(default)s)",
    )


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class CommandParser(Parser):
    """A sub-command's parser: it reports arguments it does not know itself, so the error
    names the sub-command (``ccsim compare: error: unrecognized arguments: ...``) rather than
    leaving them to the top-level ``ccsim`` parser."""

    def parse_known_args(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse like argparse; any argument left over is an error of this sub-command."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class AppendOverride(argparse.Action):
    """``--set KEY=VALUE`` (repeatable): appends to the list, refusing a key given twice on one
    command line (the later value would silently win). Lists built in Python may repeat keys:
    :func:`sim.loader.load_scenario` applies them in order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = list(getattr(namespace, self.dest, None) or [])
        key = str(values).split("=", 1)[0].strip()
        earlier = next((i for i in items if i.split("=", 1)[0].strip() == key), None)
        if earlier is not None:
            parser.error(f"--set '{values}': '{key}' is already set by --set '{earlier}'; "
                         "give each key once")  # fmt: skip
        setattr(namespace, self.dest, [*items, str(values)])


@contextmanager
def nothing_saved_yet() -> Iterator[None]:
    """A command's steps before its run writes anything (loading scenarios, importing the
    runner, checking ``--out``): SIGINT/SIGTERM here says that nothing was saved, instead of
    the generic advice to add ``--resume`` (there is nothing to resume yet).

    Raises:
        sim.checkpoint.Interrupted: with that message, for the signal that arrived.
    """
    from sim.checkpoint import Interrupted

    try:
        yield
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        message = f"interrupted by {name} before anything was saved; run the same command again"
        raise Interrupted(exc.signum, message) from None


def note_if_replacing(out: Any, args: argparse.Namespace) -> None:
    """Say on stderr what the run will do to ``out`` that the folder rule lets through silently:
    run a finished run of the same experiment again and replace it, or write beside files that
    are not ccsim results (a folder without a manifest). Call after the folder checks passed.
    Nothing is printed with ``--resume`` or ``--overwrite``, or for a new or empty folder."""
    import sys
    from pathlib import Path

    from sim.results import OutputError, read_manifest

    if args.resume or args.overwrite:
        return
    path = Path(out) / "manifest.json"
    if Path(out).is_dir() and not path.exists():
        others = sorted(p.name for p in Path(out).iterdir())
        if others:  # a folder of the user's own: ccsim writes beside these, never removes them
            shown = ", ".join(others[:4]) + (
                f" and {len(others) - 4} more" if len(others) > 4 else ""
            )
            print(
                f"note: {out} already holds files that are not ccsim results ({shown}); the "
                "results are written beside them (another --out keeps them apart)",
                file=sys.stderr,
            )
        return
    try:
        finished = path.is_file() and bool(read_manifest(path).get("complete"))
    except OutputError:
        return
    if finished:
        print(
            f"note: {out} holds a finished run of this experiment; running it again and "
            "replacing it (add --resume to keep it instead)",
            file=sys.stderr,
        )
