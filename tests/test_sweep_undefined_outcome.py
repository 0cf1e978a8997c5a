"""An outcome undefined in every run (sustainment needs a year of follow-up; the 9-month
community has 3 months) is reported as such, without figures, instead of stopping the sweep
with numpy's "zero-size array to reduction operation fmin" from the heatmap."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import TINY_TOML, ccsim

SWEEP = """name = "undef"
base = "tiny.toml"
seed = 7
replications = 2
[parameters."programme.tactics.hard"]
levels = [0.2, 0.8]
[parameters."programme.tactics.soft"]
levels = [0.1, 0.7]
"""


def test_an_outcome_missing_in_every_run_is_reported_without_figures(
    tmp_path: Path, capsys
) -> None:
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (tmp_path / "sw.toml").write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "o"
    args = ("sweep", tmp_path / "sw.toml", "--out", out, "--jobs", "1", "--quiet")
    code, printed, err = ccsim(capsys, *args, "--outcome", "sustainment", "--outcome", "gap_auc")
    assert code == 0, err
    assert "sustainment is undefined (missing) in every run: no figures" in printed
    assert printed.count("undefined (outcome missing at every point)") == 2  # both levers
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == ["heatmap_gap_auc.png", "partial_dependence_gap_auc.png"]
