"""``ccsim app``: the interactive workshop app (Mesa SolaraViz) in the browser."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import sys
import textwrap
from collections.abc import Sequence

from sim.commands.common import AppendOverride, UsageError
from sim.loader import load_scenario, resolve_path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "sim.app.page"


def port(text: str) -> int:
    """``--port``: a TCP port number in [1, 65535]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got '{text}'") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in [1, 65535], got {value}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim app``."""
    app = sub.add_parser(
        "app",
        help="interactive workshop app in the browser (sliders, live charts, 20-run bands)",
        description="Serve the interactive app (Mesa SolaraViz): sliders for the programme "
        "levers, live charts of the gap, sites, conflict and belonging, a network view, and "
        "a button that runs 20 replications of the current settings.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim app                          built-in baseline on http://127.0.0.1:8765/
              ccsim app keystone --port 8800     any library name or scenario file
              ccsim app my_design.toml --set programme.tactics.hard=0.8

            The scenario is the starting point: every slider starts at its value. Move a
            slider, press Reset, then Step or Play. Stop the server with Ctrl-C.
            """
        ),
    )
    app.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help="base scenario: a TOML file or library name (default: built-in baseline)",
    )
    app.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    app.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    app.add_argument(
        "--set",
        action=AppendOverride,
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value before the app starts (repeatable)",
    )
    app.add_argument("--no-open", action="store_true", help="do not open a browser window on start")


def check_listen(host: str, port_number: int) -> None:
    """Raise :class:`UsageError` if ``host:port`` cannot be listened on (busy or not local)."""
    try:
        infos = socket.getaddrinfo(host, port_number, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host '{host}': unknown address ({exc.strerror})") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port_number} ({exc.strerror}); "
                "choose another --port or --host"
            ) from None


def solara_command(host: str, port_number: int, open_browser: bool) -> list[str]:
    """The ``solara run`` command line that serves :mod:`sim.app.page`."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        host,
        "--port",
        str(port_number),
        "--production",
        "--no-check-version",
        "--open" if open_browser else "--no-open",
    ]


def app_environment(scenario: str | None, overrides: Sequence[str]) -> dict[str, str]:
    """Environment for the server: the base scenario (absolute path) and its overrides, no
    telemetry and no Solara badge (each can still be set in the environment)."""
    env = dict(os.environ)
    env.pop("CCSIM_APP_SCENARIO", None)
    if scenario is not None:
        env["CCSIM_APP_SCENARIO"] = str(resolve_path(scenario).resolve())
    env["CCSIM_APP_SET"] = json.dumps(list(overrides))
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # Solara's "This website runs on Solara" badge is fixed over the page's bottom right
    # corner, where it hides chart captions on a projector or a small screen
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    return env


def run(args: argparse.Namespace) -> int:
    """``ccsim app``: validate the scenario and address, then hand over to ``solara run``."""
    scn = load_scenario(args.scenario, args.set)  # bad file or --set: one line, exit 2
    missing = [m for m in ("solara", "mesa.visualization") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the app needs {missing[0]}: run python3 -m pip install -e .")
    check_listen(args.host, args.port)
    env = app_environment(args.scenario, args.set)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"ccsim app: '{scn.name}' at http://{shown}:{args.port}/ (Ctrl-C stops the server)",
        flush=True,
    )
    command = solara_command(args.host, args.port, not args.no_open)
    os.execve(sys.executable, command, env)  # the server replaces this process: signals reach it
    return 0  # pragma: no cover - execve does not return
