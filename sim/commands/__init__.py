"""The ``ccsim`` sub-commands: one module each, with ``add_parser(sub)`` and ``run(args)``.

To add a command, write ``sim/commands/<name>.py`` and list it in :data:`COMMANDS`; the
command's name is the module name (with ``_`` for ``-``).
"""

COMMANDS: tuple[str, ...] = (
    "run",
    "rerun",
    "scenarios",
    "app",
    "validate",
    "compare",
    "sweep",
    "sensitivity",
    "export",
    "calibrate",
)
