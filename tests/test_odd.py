"""docs/ODD.md's parameter table is generated from the scenario schema and must stay in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim import odd
from sim.scenario import Programme, Scenario, Tactics

ROOT = Path(__file__).resolve().parents[1]


def _rows(table: str) -> dict[str, list[str]]:
    """Parse the Markdown table into {dotted key: [default, unit, range, meaning]}."""
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted keys of every leaf field of the schema, walked independently of sim.odd."""
    keys = set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys |= _leaf_keys(ann, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _bound(field, attr: str) -> float:
    return next(getattr(m, attr) for m in field.metadata if getattr(m, attr, None) is not None)


def test_odd_table_is_current() -> None:
    """`python3 -m sim.odd --check` passes: docs/ODD.md matches the schema (else regenerate)."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.odd", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\nrun: python3 -m sim.odd"


def test_row_read_from_schema() -> None:
    """programme.tactics.hard: default, unit, range and meaning come from the pydantic field."""
    assert Scenario.model_fields["programme"].annotation is Programme
    assert Programme.model_fields["tactics"].annotation is Tactics
    field = Tactics.model_fields["hard"]
    default, unit, valid_range, meaning = _rows(odd.parameter_table())["programme.tactics.hard"]
    assert default == f"{field.default:g}"
    assert unit == field.json_schema_extra["unit"]
    assert valid_range == f"[{_bound(field, 'ge'):g}, {_bound(field, 'le'):g}]"
    assert meaning == field.description


def test_every_parameter_has_one_row() -> None:
    rows = _rows(odd.parameter_table())
    expected = {k if k != "published" else "published.<name>" for k in _leaf_keys(Scenario)}
    assert set(rows) == expected
    assert len(odd.parameter_table().splitlines()) == len(expected) + 2


def test_defaults_follow_the_default_scenario() -> None:
    """Every numeric default in the table is the value a default Scenario() actually uses."""
    scn = Scenario()
    for key, (default, *_) in _rows(odd.parameter_table()).items():
        if key.startswith("published"):
            continue
        value = scn
        for part in key.split("."):
            value = getattr(value, part)
        if isinstance(value, bool | int | float):
            assert float(default) == pytest.approx(float(value)), key


def test_format_number() -> None:
    assert odd.format_number(0.4) == "0.4"
    assert odd.format_number(20000.0) == "20000"
    assert odd.format_number(1e8) == "1e8"
    assert odd.format_number(3) == "3"
    assert odd.format_number(-0.95) == "-0.95"


def test_check_detects_stale_and_main_rewrites(tmp_path: Path) -> None:
    doc = tmp_path / "ODD.md"
    doc.write_text(
        f"# Title\n\nbefore\n\n{odd.START_MARKER}\n| old | table |\n{odd.END_MARKER}\n\nafter\n",
        encoding="utf-8",
    )
    assert odd.main(["--check", "--path", str(doc)]) == 1
    assert "| old | table |" in doc.read_text(encoding="utf-8")  # --check writes nothing
    assert odd.main(["--path", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n")
    assert text.endswith(f"{odd.END_MARKER}\n\nafter\n")
    assert odd.parameter_table() in text
    assert odd.main(["--check", "--path", str(doc)]) == 0
    assert odd.main(["--path", str(doc)]) == 0  # idempotent
    assert doc.read_text(encoding="utf-8") == text
    assert list(tmp_path.iterdir()) == [doc]  # no temporary files left behind


def test_missing_markers_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "ODD.md"
    doc.write_text("no markers here\n", encoding="utf-8")
    assert odd.main(["--check", "--path", str(doc)]) == 2
    assert odd.main(["--path", str(doc)]) == 2
    assert doc.read_text(encoding="utf-8") == "no markers here\n"
    with pytest.raises(ValueError, match="markers"):
        odd.replace_block("x", "table")
