"""Command line: ``ccsim COMMAND`` (``python -m sim`` works too).

A thin layer over functions a notebook can call; each sub-command lives in one module of
:mod:`sim.commands`. Bad input gives one line on stderr and exit code 2; ``--debug`` shows the
traceback.

Exit codes: 0 done; 1 the run finished but some replications failed, or it stopped part-way
(a write failed, a worker died: finish it with ``--resume``); 2 bad input or an unusable
``--out``; 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM (finish ``run``, ``compare`` and
``rerun`` with ``--resume``; run ``sweep`` and ``sensitivity`` again unchanged).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence
from types import ModuleType

from sim.checkpoint import Interrupted, stop_signals
from sim.commands import COMMANDS
from sim.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandParser,
    Parser,
    UsageError,
)
from sim.loader import ScenarioError
from sim.results import OutputError, RunError


def _modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"sim.commands.{name}") for name in COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    """The ``ccsim`` argument parser with all sub-commands."""
    parser = Parser(
        prog="ccsim",
        description="Simulate clinical communities closing the gap between evidence and "
        "practice, and compare programme designs (Mesa agent-based model, Monte Carlo).",
        epilog="Run 'ccsim COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for module in _modules().values():
        module.add_parser(sub)
    for command in sub.choices.values():  # `ccsim run ... --debug` works as well as before
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show full tracebacks on errors",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` console command; returns the exit code."""
    # a stopped run cancels its queued chunks on purpose; joblib's note about it is noise here
    warnings.filterwarnings(
        "ignore", message=r"\d+ tasks which were still being processed", category=UserWarning
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    module = _modules()[args.command.replace("-", "_")]
    try:
        with stop_signals():  # commands that save in chunks install their own, finer handlers
            return int(module.run(args))
    except (ScenarioError, UsageError, OutputError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ccsim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunError as exc:  # a write failed or a worker died part-way; the run can resume
        if args.debug:
            traceback.print_exc()
        print(f"ccsim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoid a second error at exit
        return 0
    except Interrupted as exc:  # SIGINT or SIGTERM during a run: the manifest says incomplete
        message = str(exc)
        if message == f"interrupted by {signal.Signals(exc.signum).name}":  # no finer handler
            if args.command in RESUMABLE:
                message += (
                    "; what had finished is kept, the rest was not done: add --resume to the "
                    "same command to finish"
                )
            else:  # calibrate, validate, export...: results are written at the end, whole
                message += "; it did not finish and left no half-written files: run it again"
        print(f"ccsim {args.command}: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # outside the main thread, where no handler can be installed
        print(f"ccsim {args.command}: interrupted; run the same command again", file=sys.stderr)
        return EXIT_INTERRUPTED


RESUMABLE = ("run", "compare", "rerun")
"""Commands that keep finished chunks when interrupted and finish them with ``--resume``."""


if __name__ == "__main__":
    sys.exit(main())
