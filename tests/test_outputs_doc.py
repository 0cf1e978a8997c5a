"""docs/outputs.md documents exactly the columns a run writes, with units, and stays current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import outputs_doc, report
from sim.experiment import Design, run_experiment
from sim.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["sites.n_sites=3", "time.programme_months=6", "time.followup_months=12"]
SCENARIOS = {
    "baseline": (None, SMALL),  # no control arm
    "control_arm": (
        "matching_michigan",
        [*SMALL, "programme.recruitment.window_months=3", "control.n_sites=3"],
    ),
}
FILES = {
    "runs": "runs.parquet",
    "series": "series/part-*.parquet",
    "sites": "sites.parquet",
    "site_series": "site_series.parquet",
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def produced(request, tmp_path_factory) -> dict[str, dict[str, list[str]]]:
    """Columns of each table of a tiny 2-replication run, in order: on disk and in memory."""
    ref, overrides = SCENARIOS[request.param]
    scn = load_scenario(ref, overrides)
    if request.param == "control_arm":
        assert scn.control.n_sites > 0
    out = tmp_path_factory.mktemp(request.param)
    result = run_experiment(
        [Design(scn.name, scn)], reps=2, out_dir=out, progress=False, backend="sequential"
    )
    disk, memory = {}, {}
    for key, pattern in FILES.items():
        paths = sorted(out.glob(pattern))
        assert paths, f"{pattern} not written"
        disk[key] = list(pd.read_parquet(paths[0]).columns)
        memory[key] = list(getattr(result, key).columns)
    return {"disk": disk, "memory": memory}


def _documented() -> dict[str, list[str]]:
    return {t.key: [c.name for c in t.columns] for t in outputs_doc.tables()}


def test_documented_columns_are_the_produced_ones_in_order(produced) -> None:
    documented = _documented()
    assert set(documented) == set(FILES)
    for key, names in documented.items():
        assert len(names) == len(set(names)), f"{key}: a column is documented twice"
        for where in ("disk", "memory"):
            got = set(produced[where][key])
            assert set(names) == got, (
                f"{key} ({where}): undocumented {sorted(got - set(names))}, "
                f"documented but not produced {sorted(set(names) - got)}"
            )
            assert names == produced[where][key], f"{key} ({where}): documented in another order"


def test_columns_derived_elsewhere_are_in_no_table(produced) -> None:
    extra = {c.name for c, _ in outputs_doc.ELSEWHERE}
    assert extra and all(where for _, where in outputs_doc.ELSEWHERE)
    for key, cols in produced["disk"].items():
        assert not extra & set(cols), f"{key} holds {extra & set(cols)}: document them in its table"


def test_outputs_md_is_current() -> None:
    """`python3 -m sim.outputs_doc --check` passes (else regenerate docs/outputs.md)."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.outputs_doc", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\nrun: python3 -m sim.outputs_doc"


def test_check_flags_a_stale_or_missing_file_and_writing_fixes_it(tmp_path, capsys) -> None:
    path = tmp_path / "outputs.md"
    assert outputs_doc.main(["--check", "--path", str(path)]) == 1
    assert not path.exists()  # --check writes nothing
    assert "missing" in capsys.readouterr().err
    path.write_text(outputs_doc.render().replace("gap-months", "months"), encoding="utf-8")
    stale = path.read_text(encoding="utf-8")
    assert outputs_doc.main(["--check", "--path", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == stale
    assert "stale" in capsys.readouterr().err
    assert outputs_doc.main(["--path", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == outputs_doc.render()
    assert outputs_doc.main(["--check", "--path", str(path)]) == 0
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_new_file_gets_the_umask_permissions(tmp_path) -> None:
    """A file written where there was none is readable as any other (not mkstemp's 0600)."""
    import os
    import stat

    path = tmp_path / "new.md"
    assert outputs_doc.main(["--path", str(path)]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_every_metric_has_a_unit_definition_and_known_kind() -> None:
    kinds = {"months", "fraction", "share", "ratio", "count", "money", "pp", "number"}
    for name, info in report.METRICS.items():
        assert info.unit.strip() and info.definition.strip(), name
        assert "\n" not in info.definition and "|" not in info.unit, name
        assert info.kind in kinds, name
        assert len(info.label) <= 36, name


def test_units_and_kinds_found_wrong_in_the_trial() -> None:
    m = report.METRICS
    assert m["gap_auc"].unit == "gap-months" and m["gap_auc"].kind != "months"
    for name in [k for k in m if k.startswith("site_rate_")] + ["baseline_event_rate"]:
        assert m[name].unit == "events per 1000 patient-days" and m[name].kind != "ratio", name
    assert "negative" in m["peripheral_lag"].unit
    assert "16-18 after implementation" in m["irr_16_18"].definition
    # formats of correctly-kinded metrics are unchanged
    assert report.format_value("t90_months", 31.84) == "31.8"
    assert report.format_value("irr_16_18", 0.345) == "0.34"
    assert report.format_value("gap_auc", 14.97) == "15.0"
    assert report.format_value("site_rate_median_baseline", 2.7) == "2.70"


def test_series_docs_must_follow_series_columns(monkeypatch) -> None:
    docs = dict(outputs_doc.SERIES_DOCS)
    docs.pop("gap_true")
    docs["no_such_column"] = ("x", "y")
    monkeypatch.setattr(outputs_doc, "SERIES_DOCS", docs)
    with pytest.raises(
        ValueError, match=r"undocumented \['gap_true'\].*stale \['no_such_column'\]"
    ):
        outputs_doc.series_columns()


def test_censoring_flags_follow_their_times() -> None:
    names = _documented()["runs"]
    for metric, flag in outputs_doc.CENSOR_FLAGS.items():
        assert names.index(flag.name) == names.index(metric) + 1
        assert report.censor_column(metric, names) == flag.name
