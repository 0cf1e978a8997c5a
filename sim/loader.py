"""Load scenario files: TOML, ``extends`` chains, dotted ``--set`` overrides, one-line errors.

Public entry points: :func:`load_scenario`, :func:`library`, :func:`parse_override`.
Every failure raises :class:`ScenarioError` whose message is one line naming the file, the
dotted key, the value and the valid range or the closest valid key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sim.scenario import Scenario

LIBRARY_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MAX_EXTENDS_DEPTH = 10


def one_line(text: str) -> str:
    """``text`` with control characters (newlines, tabs...) shown escaped, so it is one line."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in str(text))


class ScenarioError(ValueError):
    """A scenario could not be loaded or validated; the message is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def library() -> dict[str, Path]:
    """Named scenarios shipped in ``scenarios/``: ``{name: path}``, sorted by name."""
    if not LIBRARY_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(LIBRARY_DIR.glob("*.toml"))}


def valid_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, Any]:
    """All dotted parameter keys of the schema mapped to their field info (leaves only)."""
    keys: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        ann = field.annotation
        dotted = f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.update(valid_keys(ann, dotted + "."))
        else:
            keys[dotted] = field
    return keys


def resolve_path(ref: str | Path, base_dir: Path | None = None) -> Path:
    """Find a scenario by path (relative to ``base_dir`` or cwd) or by library name."""
    found = _find(ref, base_dir)
    if found is None:
        raise ScenarioError(f"scenario file not found: '{ref}' ({_library_note(ref)})")
    return found


def _library_note(ref: str | Path | None = None) -> str:
    """The library's scenario names, after a "did you mean" for the closest to ``ref``."""
    names = list(library())
    close = [] if ref is None else difflib.get_close_matches(Path(ref).stem, names, 1, 0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}library scenarios: {', '.join(names) or 'none'}"


def _find(ref: str | Path, base_dir: Path | None) -> Path | None:
    """The scenario file ``ref`` names, or ``None``; a folder there is an error."""
    ref_path = Path(ref)
    candidates = []
    if base_dir is not None and not ref_path.is_absolute():
        candidates.append(base_dir / ref_path)
    candidates.append(ref_path)
    lib = library()
    if ref_path.stem in lib and ref_path.suffix in ("", ".toml") and len(ref_path.parts) == 1:
        candidates.append(lib[ref_path.stem])
    for c in candidates:
        if c.is_file():
            return c
        if c.is_dir():
            raise ScenarioError(f"{c}: is a folder, not a scenario file (expected a .toml file)")
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: malformed TOML: {exc}") from exc


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``; nested tables merge, other values replace."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def read_with_extends(path: Path, _depth: int = 0) -> dict[str, Any]:
    """Raw dict of a scenario file with its ``extends`` chain merged (child wins)."""
    if _depth > MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{path}: 'extends' chain deeper than {MAX_EXTENDS_DEPTH} (a cycle?)")
    data = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends = {parent!r} must be a file name string")
    try:
        parent_path = _find(parent, path.parent)
    except ScenarioError as exc:  # name the file whose `extends` points at a folder
        raise ScenarioError(f"{path}: extends = {parent!r}: {exc}") from exc
    if parent_path is None:  # name the file whose `extends` points nowhere
        raise ScenarioError(
            f"{path}: extends = {parent!r}: no such file beside it or in the current folder, "
            f"and no library scenario of that name ({_library_note(parent)})"
        )
    return deep_merge(read_with_extends(parent_path, _depth + 1), data)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``dotted.key=value``; the value is read as a TOML literal, else as a plain string.

    Raises:
        ScenarioError: if there is no ``=`` or the key is empty.
    """
    if "=" not in text:
        raise ScenarioError(f"--set '{text}': expected dotted.key=value")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"--set '{text}': empty key")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def apply_override(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set ``data[a][b][c] = value`` for key ``a.b.c`` (creating tables), returning a new dict."""
    parts = key.split(".")
    nested: Any = value
    for part in reversed(parts):
        nested = {part: nested}
    return deep_merge(data, nested)


def _lower_first(msg: str) -> str:
    """pydantic's message with its first letter lower-cased (patterns keep their case)."""
    return msg[:1].lower() + msg[1:]


def _closest_key(dotted: str) -> str:
    keys = list(valid_keys())
    match = difflib.get_close_matches(dotted, keys, n=1, cutoff=0.5)
    if not match:
        leaf = dotted.rsplit(".", 1)[-1]
        match = [k for k in keys if k.rsplit(".", 1)[-1] == leaf][:1]
    return f"; did you mean '{match[0]}'?" if match else ""


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def format_validation_error(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    """One line for the first error in ``exc``: file, dotted key, value and what is valid."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
    dotted = ".".join(str(p) for p in loc)
    value = _lookup(data, loc)
    kind = err["type"]
    fields = valid_keys()
    field = fields.get(dotted)
    unit = ""
    if field is not None and field.json_schema_extra:
        unit = f" ({field.json_schema_extra.get('unit', '')})"
    if kind == "extra_forbidden":
        while isinstance(value, dict) and len(value) == 1:  # name the user's full dotted key
            ((sub, value),) = value.items()
            dotted = f"{dotted}.{sub}"
        return f"{source}: unknown key '{dotted}'{_closest_key(dotted)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo = hi = None
        if field is not None:
            for m in field.metadata:
                lo = getattr(m, "ge", lo)
                hi = getattr(m, "le", hi)
        return f"{source}: {dotted} = {value!r} is out of range [{lo}, {hi}]{unit}"
    if kind == "enum":
        return f"{source}: {dotted} = {value!r}: {_lower_first(err['msg'])}"
    if kind == "value_error":
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = f"{dotted}: " if dotted else ""
        return f"{source}: {where}{msg}"
    return f"{source}: {_type_message(err, dotted, value, fields)}"


def _type_message(err: Any, dotted: str, value: Any, fields: dict[str, Any]) -> str:
    """``key = value: what was expected`` for a wrong-type error (tables vs values explained)."""
    below = [k for k in fields if k.startswith(dotted + ".")]
    if below and not isinstance(value, dict):
        return (
            f"{dotted} = {value!r}: '{dotted}' is a table of settings, not a single value; "
            f"set one of its keys, e.g. {below[0]}"
        )
    if dotted in fields and isinstance(value, dict) and value:
        return f"{dotted} is a single value, not a table (got {dotted}.{next(iter(value))})"
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"{dotted} = {value!r}: expected a table of settings, not a single value"
    return f"{dotted} = {value!r}: {_lower_first(str(err['msg']))}"


def _numeric(annotation: Any) -> bool:
    """True for a field that takes a number but not a boolean (``int``, ``float | None``...)."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(a in (int, float) for a in args)
    return False


def find_boolean(
    data: Any, model: type[BaseModel] = Scenario, prefix: str = ""
) -> tuple[str, bool] | None:
    """First ``(dotted key, value)`` where ``data`` gives true/false for a number, else None.

    pydantic would read ``true`` as 1, so ``n_sites = true`` must be caught before validation.
    """
    if not isinstance(data, dict):
        return None
    for name, value in data.items():
        field = model.model_fields.get(name) if isinstance(name, str) else None
        if field is None:
            continue
        ann, dotted = field.annotation, f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            hit = find_boolean(value, ann, dotted + ".")
        elif get_origin(ann) is dict and isinstance(value, dict):
            item = get_args(ann)[1]
            hits = (find_boolean(v, item, f"{dotted}.{k}.") for k, v in value.items())
            hit = next((h for h in hits if h is not None), None)
        else:
            hit = (dotted, value) if isinstance(value, bool) and _numeric(ann) else None
        if hit is not None:
            return hit
    return None


def _blame(dotted: str, overrides: Sequence[str], source: str) -> str:
    """``source``, or ``--set item (on source)`` when the bad key came from a ``--set``."""
    for item in reversed(overrides):
        key = item.split("=", 1)[0].strip()
        related = key.startswith(dotted + ".") or dotted.startswith(key + ".")
        if dotted and (key == dotted or related):
            return f"--set {item} (on {source})"
    return source


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _blame_cross_field(message: str, overrides: Sequence[str], source: str) -> str:
    """For a check across fields (no single key): ``--set item (on source)`` for every
    ``--set`` that gave one of the keys the message names, else ``source``."""
    named = set(_DOTTED.findall(message))
    items = []
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if any(n == key or n.startswith(key + ".") for n in named) and item not in items:
            items.append(item)
    if not items:
        return source
    return ", ".join(f"--set {item}" for item in items) + f" (on {source})"


def build_scenario(
    data: dict[str, Any], source: str = "scenario", overrides: Sequence[str] = ()
) -> Scenario:
    """Validate a raw dict into a :class:`Scenario`.

    Args:
        data: the merged scenario tables.
        source: what the data came from (a path, "built-in baseline"), for messages.
        overrides: the ``--set`` items applied to ``data``; an error in a key one of them set
            is reported as coming from that ``--set``.

    Raises:
        ScenarioError: one line naming the source, dotted key, value and what is valid.
    """
    boolean = find_boolean(data)
    if boolean is not None:
        dotted, value = boolean
        where = _blame(dotted, overrides, source)
        raise ScenarioError(
            f"{where}: {dotted} = {str(value).lower()}: expected a number, not true/false"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        dotted = ".".join(str(p) for p in err["loc"])
        where = _blame(dotted, overrides, source)
        if not dotted:  # a check across fields: blame the --set that gave one of them
            where = _blame_cross_field(str(err["msg"]), overrides, source)
        raise ScenarioError(format_validation_error(exc, data, where)) from exc


def load_scenario(
    ref: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Load a scenario by path or library name (``None`` = built-in default), apply ``--set``s.

    Args:
        ref: a TOML path, a library name such as ``"keystone"``, or ``None`` for the defaults.
        overrides: ``dotted.key=value`` strings applied after ``extends`` is resolved.

    Returns:
        The validated scenario. If the file sets no ``name``, the file stem is used.

    Raises:
        ScenarioError: one line naming the file, key, value and valid range or closest key.
    """
    if ref is None:
        data: dict[str, Any] = {}
        source = "built-in baseline"
    else:
        path = resolve_path(ref)
        data = read_with_extends(path)
        data.setdefault("name", path.stem)
        if "name" not in _read_toml(path):
            data["name"] = path.stem
        source = str(path)
    for item in overrides:
        key, value = parse_override(item)
        if key.split(".")[0] == "extends":
            raise ScenarioError(f"--set '{item}': 'extends' cannot be overridden")
        data = apply_override(data, key, value)
    return build_scenario(data, source, overrides)
