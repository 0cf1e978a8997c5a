"""``ccsim scenarios``: list the scenario library with descriptions."""

from __future__ import annotations

import argparse
import textwrap

from sim.loader import library, read_with_extends


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim scenarios``."""
    sub.add_parser(
        "scenarios",
        help="list the scenario library with descriptions",
        description="List the scenarios shipped in scenarios/ with their descriptions.",
    )


def run(_args: argparse.Namespace) -> int:
    """``ccsim scenarios``: name and description of each library scenario."""
    lib = library()
    if not lib:
        print("no scenario library found (scenarios/ folder missing)")
        return 0
    width = max(len(n) for n in lib)
    for name, path in lib.items():
        desc = str(read_with_extends(path).get("description", "")).strip()
        first = " ".join(desc.split())
        lines = textwrap.wrap(first, width=max(40, 100 - width - 2)) or [""]
        print(f"{name:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}  {line}")
    return 0
