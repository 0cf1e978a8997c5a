"""``ccsim run`` / ``compare`` never overwrite another command's or program's results.

Found in a researcher's trial: ``ccsim compare --from-sweep S --points 4,22 --out S
--overwrite`` (an easy slip: ``--out`` equal to ``--from-sweep``) deleted the sweep it was
reading (its ``runs/`` parts, ``design.parquet``, ``sweep.md``), because ``--overwrite`` removes
ccsim-named outputs from any folder with a ``manifest.json``. A sweep (or another program's)
manifest is now refused with or without ``--overwrite``; ``ccsim sweep`` already refused a run
folder the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_helpers import FAST, TINY_TOML, ccsim, one_error_line

SWEEP = """name = "ff"
base = "tiny.toml"
seed = 7
replications = 2
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
"""


def _digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but the lock) and its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".ccsim.lock"
    }


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    here = tmp_path_factory.mktemp("ff")
    (here / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (here / "sw.toml").write_text(SWEEP, encoding="utf-8")
    out = here / "s"
    from sim.sweep import load_sweep, run_sweep

    run_sweep(load_sweep(here / "sw.toml"), out, progress=False)
    return out


def test_compare_and_run_refuse_a_sweep_folder_even_with_overwrite(sweep: Path, capsys) -> None:
    before = _digest(sweep)
    assert any(name.startswith("runs/") for name in before) and "design.parquet" in before
    tiny = sweep.parent / "tiny.toml"
    commands = [
        ("compare", "--from-sweep", sweep, "--points", "0,1", "--out", sweep, "--reps", "2"),
        ("run", tiny, "--reps", "1", "--out", sweep),
    ]
    for command in commands:
        for extra in ([], ["--overwrite"], ["--resume"]):
            code, _, err = ccsim(capsys, *command, *extra, *FAST)
            one_error_line(code, err, "holds a `ccsim sweep` result", "choose another --out")
            assert _digest(sweep) == before  # nothing deleted or added


def test_another_programs_manifest_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"tool": "dvc", "stages": 3}), "utf-8")
    (out / "runs.parquet").write_bytes(b"not ours")
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    before = _digest(out)
    code, _, err = ccsim(
        capsys, "run", tmp_path / "tiny.toml", "--reps", "1", "--out", out, "--overwrite", *FAST
    )
    one_error_line(code, err, "holds another program's manifest.json", "choose another --out")
    assert _digest(out) == before
