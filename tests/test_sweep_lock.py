"""``ccsim sweep`` and ``ccsim sensitivity`` hold the results folder's lock, the one ``ccsim run``
and ``ccsim compare`` take (:func:`sim.results.folder_lock`): a second writer is refused with one
line and exit code 2, and touches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import ccsim, one_error_line, tiny_sweep

import sim.sweep
from sim.results import LOCK_NAME, OutputError, folder_lock

SWEEP = tiny_sweep(replications=1, samples=2)
QUIET = ["--jobs", "1", "--quiet", "--no-figures"]
COMMANDS = (["sweep"], ["sensitivity", "--method", "morris"])


def _files(out: Path) -> dict[str, float]:
    """Every file below ``out`` with its modification time (what a refused command must keep)."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")}


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "levers.toml"
    path.write_text(SWEEP.replace("'", '"'))
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=["sweep", "sensitivity"])
def test_a_second_writer_is_refused_and_touches_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sweep_file: Path, command: list[str]
) -> None:
    out = tmp_path / "out"
    assert ccsim(capsys, *command, sweep_file, "--out", out, *QUIET)[0] == 0
    assert not (out / LOCK_NAME).exists()  # a finished command leaves no lock file behind
    before = _files(out)
    assert any(name.startswith("runs/part-") for name in before)
    with folder_lock(out):  # another ccsim command is writing here
        for extra in ([], ["--overwrite"]):  # --overwrite deletes nothing it cannot lock
            code, _, err = ccsim(capsys, *command, sweep_file, "--out", out, *QUIET, *extra)
            one_error_line(
                code, err, f"ccsim {command[0]}: error: --out {out}: another ccsim command (pid ",
                "is writing to this folder; wait for it to finish or choose another --out",
            )  # fmt: skip
            assert _files(out) == {**before, LOCK_NAME: _files(out)[LOCK_NAME]}
    # the holder's lock file was left alone while held; once released, the command runs
    code, _, err = ccsim(capsys, *command, sweep_file, "--out", out, *QUIET, "--overwrite")
    assert code == 0, err
    assert not (out / LOCK_NAME).exists()


def test_a_folder_another_command_just_began_is_left_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sweep_file: Path
) -> None:
    out = tmp_path / "new"
    out.mkdir()
    with folder_lock(out):
        code, _, err = ccsim(capsys, "sweep", sweep_file, "--out", out, *QUIET)
        one_error_line(code, err, "another ccsim command", "is writing to this folder")
    assert [p.name for p in out.iterdir()] == [LOCK_NAME]  # the holder's: no manifest, no parts


@pytest.mark.parametrize("command", COMMANDS, ids=["sweep", "sensitivity"])
def test_the_lock_is_held_while_the_runs_are_written(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sweep_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    out = tmp_path / "held"
    real = sim.sweep.run_sweep
    refused: list[str] = []

    def run_while_someone_tries(*args: object, **kwargs: object) -> Path:
        try:  # a concurrent `ccsim run --out` (or sweep) into the same folder
            with folder_lock(out):
                pass
        except OutputError as exc:
            refused.append(str(exc))
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.sweep, "run_sweep", run_while_someone_tries)
    code, _, err = ccsim(capsys, *command, sweep_file, "--out", out, *QUIET)
    assert code == 0, err
    assert len(refused) == 1 and "is writing to this folder" in refused[0]
    assert not (out / LOCK_NAME).exists()
