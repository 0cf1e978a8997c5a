"""One clear line per mistake: argparse errors name the sub-command, a cross-field scenario error
names the ``--set`` behind it, a back end's own warnings stay out of the way, and install hints
say how to install from the clone (ccsim is not on the package index)."""

from __future__ import annotations

import builtins
import logging
import warnings
from pathlib import Path

import pytest

from sim.backends import BackendUnavailableError, joblib_backend
from sim.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["compare", "a", "b", "--bogus"], "ccsim compare: error: unrecognized arguments: --bogus"),
        (
            ["run", "--reps", "2", "--bogus", "--nope"],
            "ccsim run: error: unrecognized arguments: --bogus --nope",
        ),
        (["export", "DIR", "--xls"], "ccsim export: error: unrecognized arguments: --xls"),
        (["--bogus", "run"], "ccsim: error: unrecognized arguments: --bogus"),  # top level
    ],
)
def test_unknown_options_name_the_sub_command(capsys, argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == expected


def test_cross_field_error_from_a_set_blames_the_set(tmp_path: Path, capsys) -> None:
    argv = ["run", "--set", "challenge.baseline_adherence=0.95", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "ccsim run: error: --set challenge.baseline_adherence=0.95 (on built-in baseline): "
        "challenge.target_adherence (0.95) must exceed challenge.baseline_adherence (0.95)\n"
    )
    assert not (tmp_path / "o").exists()


def test_missing_extends_target_names_the_file_with_extends(tmp_path: Path, capsys) -> None:
    ext = tmp_path / "ext.toml"
    ext.write_text('extends = "nothere.toml"\n', encoding="utf-8")
    assert main(["run", str(ext), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ccsim run: error: {ext}: extends = 'nothere.toml': no such file")
    assert err.count("\n") == 1


def test_unreachable_ray_cluster_is_one_line_without_ray_noise(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray's client logs an INFO note and raises a UserWarning before failing to connect; only
    ccsim's line may reach the user (a fake ``ray.init`` does what ray 2.x does, instantly)."""
    ray = pytest.importorskip("ray")
    seen: dict[str, object] = {}

    def unreachable(*args: object, **kwargs: object) -> None:
        log = logging.getLogger("ray.client_builder")
        seen["info_enabled"] = log.isEnabledFor(logging.INFO)
        seen["warning_enabled"] = log.isEnabledFor(logging.WARNING)
        log.info("Passing the following kwargs to ray.init() on the server: log_to_driver")
        warnings.warn("Ray Client connection timed out. Ensure that ...", UserWarning, stacklevel=2)
        raise ConnectionError("ray client connection timeout")

    monkeypatch.setattr(ray, "init", unreachable)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    argv = ["run", "--backend", "ray", "--address", "ray://127.0.0.1:1", "--reps", "1"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert caught == []  # the UserWarning was silenced, not shown
    assert seen == {"info_enabled": False, "warning_enabled": False}
    assert capsys.readouterr().err == (
        "ccsim run: error: cannot start or reach ray at ray://127.0.0.1:1: "
        "ray client connection timeout\n"
    )
    assert logging.getLogger("ray.client_builder").isEnabledFor(logging.ERROR)
    assert logging.root.manager.disable == logging.NOTSET  # logging is back as it was


def test_install_hints_are_for_a_clone(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "python3 -m pip install -e '.[dask]' (or '.[ray]')" in help_text
    assert "pip install 'ccsim" not in help_text
    real_import = builtins.__import__

    def without(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] in ("ray", "dask", "distributed"):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    for backend, package in (("ray", "ray"), ("dask", "dask.distributed")):
        with pytest.raises(BackendUnavailableError) as info, joblib_backend(backend):
            pass
        assert str(info.value) == (
            f"--backend {backend} needs {package}: install ccsim[{backend}] from the ccsim "
            f"clone (python3 -m pip install -e '.[{backend}]')"
        )


def test_distributed_docs_install_from_the_clone() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "distributed.md").read_text()
    assert "pip install 'ccsim[" not in text
    assert "python3 -m pip install -e '.[dask]'" in text
    assert "python3 -m pip install -e '.[ray]'" in text


def test_ctrl_c_before_anything_is_saved_does_not_advise_resume(monkeypatch, tmp_path, capsys):
    """Interrupted while loading (before the results folder exists): `--resume` would find
    nothing to resume, so the message says to run the command again."""
    from sim.checkpoint import Interrupted
    from sim.cli import main
    from sim.commands import run as run_cmd

    def interrupted(_args):
        raise Interrupted(2)  # SIGINT

    monkeypatch.setattr(run_cmd, "_designs", interrupted)
    code = main(["run", "--jobs", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 130
    assert err.strip() == (
        "ccsim run: interrupted by SIGINT before anything was saved; run the same command again"
    )


def test_running_a_finished_experiment_again_says_it_replaces_it(tmp_path, capsys) -> None:
    """The folder rule lets the same finished experiment run again (and replace the results);
    the user is told so once, and told nothing with --resume (which keeps it)."""
    out = tmp_path / "out"
    argv = ["run", "--reps", "2", "--jobs", "1", "--no-figures", "--quiet", "--out", str(out)]
    note = "holds a finished run of this experiment; running it again and replacing it"
    assert main(argv) == 0
    assert note not in capsys.readouterr().err  # empty folder: nothing to replace
    assert main(argv) == 0
    assert capsys.readouterr().err.count(note) == 1
    assert main([*argv, "--resume"]) == 0
    assert note not in capsys.readouterr().err


def test_compare_says_it_replaces_a_finished_comparison(tmp_path, capsys) -> None:
    out = tmp_path / "cmp"
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(
        'name = "tiny"\nextends = "baseline"\n[sites]\nn_sites = 3\n[time]\n'
        "programme_months = 4\nfollowup_months = 0\n[programme.recruitment]\nwindow_months = 2\n",
        encoding="utf-8",
    )
    hard = tmp_path / "tiny_hard.toml"
    hard.write_text(
        'name = "tiny_hard"\nextends = "tiny.toml"\n[programme.tactics]\nhard = 0.9\n',
        encoding="utf-8",
    )
    argv = ["compare", str(tiny), str(hard), "--reps", "2", "--jobs", "1", "--no-figures"]
    argv += ["--out", str(out)]
    note = "holds a finished run of this experiment; running it again and replacing it"
    assert main(argv) in (0, 1)
    assert note not in capsys.readouterr().err
    assert main(argv) in (0, 1)
    assert capsys.readouterr().err.count(note) == 1


def test_a_folder_of_other_files_as_out_gets_a_note(tmp_path, capsys) -> None:
    """ccsim writes beside a user's own files (never removes them) and says so."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    argv = ["run", "--reps", "2", "--jobs", "1", "--no-figures", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"note: {out} already holds files that are not ccsim results (notes.txt)" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_compare_refuses_set_with_the_reason(capsys) -> None:
    assert main(["compare", "baseline", "hard_only", "--set", "programme.tactics.hard=0.2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ccsim compare: error: compare takes no --set (got --set programme.")
    assert "write each variant as a small TOML file" in err


def test_a_typo_in_extends_gets_a_suggestion(tmp_path, capsys) -> None:
    f = tmp_path / "t.toml"
    f.write_text('name = "t"\nextends = "baselin"\n', encoding="utf-8")
    assert main(["run", str(f), "--reps", "2"]) == 2
    err = capsys.readouterr().err
    assert "extends = 'baselin': no such file" in err
    assert "(did you mean 'baseline'? library scenarios: baseline," in err
