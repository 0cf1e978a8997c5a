"""Provenance of a run: which code and which versions made its results.

:func:`git_state` (commit and dirty flag), :func:`versions` (Python, ccsim and its main
dependencies) and :func:`code_fingerprint` (SHA-256 over the sources of the modules that make a
replication and what they import, found statically by :func:`import_closure`) go into every
manifest; ``--resume`` refuses to mix results of different code (:mod:`sim.checkpoint`). The
names are re-exported by :mod:`sim.results`.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEPENDENCIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "joblib", "seaborn")
"""Packages whose versions every manifest records."""


def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the source tree the package runs from (``None`` outside git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return {"commit": commit, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


MODEL_MODULES: tuple[str, ...] = ("sim.replicate", "sim.experiment", "sim.diskrun")
"""Where the code that makes a run's stored results starts: one replication (model,
mechanisms, metrics, seeds) and the chunked runner. :func:`code_fingerprint` covers these and
every ``sim`` module they import; figures, reports, comparisons and the command line are
computed afresh from the stored tables, so editing them never blocks ``--resume``."""


def _module_file(root: Path, module: str) -> Path | None:
    """Source of ``module`` (``pkg.a.b``) in the package folder ``root`` (named ``pkg``)."""
    parts = module.split(".")
    if parts[0] != root.name:
        return None
    base = root.joinpath(*parts[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def import_closure(root: Path, modules: Iterable[str]) -> list[Path]:
    """Source files of ``modules`` and of every module of the same package they import.

    Imports are read statically (:mod:`ast`), wherever they stand (also inside functions);
    importing ``pkg.a.b`` brings in ``pkg/__init__.py`` and ``pkg/a/__init__.py`` as Python
    does, and ``from pkg import x`` the sub-module ``x`` if there is one.

    Args:
        root: the package folder (its name is the package's, e.g. ``.../sim``).
        modules: dotted names to start from, e.g. ``("sim.replicate",)``.

    Returns:
        The files, sorted by path.
    """
    root = Path(root)
    todo, seen = list(modules), {}
    while todo:
        module = todo.pop()
        path = _module_file(root, module)
        if path is None or path in seen:
            continue
        seen[path] = module
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        package = module if path.name == "__init__.py" else ".".join(parts[:-1])
        todo += _imports(path, package)
    return sorted(seen, key=lambda p: p.relative_to(root).as_posix())


_IMPORTS: dict[tuple[Path, int, int], list[str]] = {}


def _imports(path: Path, package: str) -> list[str]:
    """Dotted names that ``path`` (a module of ``package``) imports, and for ``from X import
    y`` also ``X.y``; parsed once per file version (cached on its mtime and size)."""
    st = path.stat()
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _IMPORTS:
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's own package upwards
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        _IMPORTS[key] = names
    return _IMPORTS[key]


def source_fingerprint(root: Path, modules: Iterable[str] | None = None) -> dict[str, Any]:
    """SHA-256 over Python sources of the package folder ``root``, sorted by path.

    Each file contributes its path relative to ``root`` and its bytes, so an edit, a new or
    removed file or a rename all change the digest; other files (data, caches) do not.

    Args:
        root: the package folder.
        modules: hash only these modules and what they import (:func:`import_closure`);
            ``None`` hashes every ``*.py`` file under ``root``.

    Returns:
        ``{"sha256": hex digest, "files": number of files hashed}``.
    """
    root = Path(root)
    if modules is None:
        files = sorted(
            (p for p in root.rglob("*.py") if "__pycache__" not in p.parts and p.is_file()),
            key=lambda p: p.relative_to(root).as_posix(),
        )
    else:
        files = import_closure(root, modules)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {"sha256": digest.hexdigest(), "files": len(files)}


def code_fingerprint() -> dict[str, Any]:
    """Fingerprint of the model code: :func:`source_fingerprint` of :data:`MODEL_MODULES` and
    the ``sim`` modules they import, with ``scope`` naming what it covers.

    Recorded in every manifest (computed once per run, a few milliseconds); ``--resume``
    refuses a run whose recorded fingerprint differs (:func:`sim.checkpoint.difference`).
    """
    found = source_fingerprint(Path(__file__).resolve().parent, MODEL_MODULES)
    scope = f"{', '.join(MODEL_MODULES)} and the sim modules they import"
    return {**found, "scope": scope}


def versions() -> dict[str, str | None]:
    """Versions of Python, this package and its main dependencies."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("ccsim", *DEPENDENCIES):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
