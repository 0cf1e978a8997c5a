"""Bad input never gives a traceback: random scenarios either load and run, or fail in one line.

The property tests throw random scenario dictionaries, random ``--set`` strings and random file
bytes at the loader. Whatever comes back must be either a :class:`ScenarioError` whose message is
one non-empty line, or a valid scenario; every valid scenario (kept small: few sites, short
horizons) is then run, and the run must keep the model's invariants: shares in [0, 1], no NaN or
inf except where NaN is documented (gaming gap outside report months, control columns without a
control arm), cumulative cost never falling, clinicians conserved (turnover replaces leavers).

``derandomize=True`` makes hypothesis draw the same examples on every run, so the verdict is
stable; ``max_examples`` keeps the whole module near 20 s on two cores.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.loader import ScenarioError, apply_override, build_scenario, load_scenario, valid_keys
from sim.metrics import run_metrics
from sim.model import CommunityModel
from sim.replicate import site_finals
from sim.scenario import Scenario

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
LEAVES = valid_keys()
# Keys that set the size of a run, drawn from small ranges (including just outside the valid
# range) so that valid examples stay cheap: at most 4 + 3 sites and 24 months.
SMALL: dict[str, st.SearchStrategy[Any]] = {
    "sites.n_sites": st.integers(-1, 4),
    "control.n_sites": st.integers(-1, 3),
    "sites.mean_size": st.floats(1.0, 30.0),
    "sites.min_size": st.integers(1, 12),
    "sites.size_sigma": st.floats(0.0, 1.0),
    "time.baseline_months": st.integers(-1, 4),
    "time.programme_months": st.integers(-1, 12),
    "time.followup_months": st.integers(-1, 8),
    "programme.recruitment.window_months": st.integers(-1, 12),
    "network.within_site_degree": st.integers(0, 12),
}
BASE: dict[str, Any] = {
    "sites": {"n_sites": 3, "mean_size": 8.0, "min_size": 4},
    "time": {"programme_months": 6, "followup_months": 4},
    "programme": {"recruitment": {"window_months": 3}},
}
SHARES = (
    "adherence_true",
    "adherence_reported",
    "share_compliant",
    "share_internalised",
    "conflict",
    "belonging",
    "engagement",
    "routinisation",
    "hard",
    "soft",
)
CONTROL = (
    "adherence_control",
    "event_rate_control",
    "events_control",
    "expected_events_control",
    "patient_days_control",
)
WRONG_TYPES = st.one_of(
    st.text(max_size=6),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "value"]), st.integers(0, 3), max_size=2),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e400, -1e-300]),
)


def _range(field: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def leaf_values(key: str, valid_only: bool = False) -> st.SearchStrategy[Any]:
    """Mostly (~80%) valid values of one parameter, else just out of range or of a wrong type.

    With ``valid_only``, valid values only, a third of them at an end of the valid range.
    """
    if key in SMALL:
        floor = _range(LEAVES[key])[0] or 0
        valid = SMALL[key].filter(lambda v: v >= floor)
        bad: st.SearchStrategy[Any] = WRONG_TYPES
    else:
        field = LEAVES[key]
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, str):  # str and the StrEnum choices
            choices = [e.value for e in ann] if hasattr(ann, "__members__") else ["x", "a name"]
            valid, bad = st.sampled_from(choices), st.one_of(st.text(max_size=8), WRONG_TYPES)
        elif ann not in (int, float):
            return WRONG_TYPES
        else:
            lo, hi = _range(field)
            lo = -5.0 if lo is None else lo
            hi = lo + 10.0 if hi is None else min(hi, lo + 1000.0)
            inside = st.integers(int(lo), int(hi)) if ann is int else st.floats(lo, hi)
            valid = st.one_of(inside, inside, st.sampled_from([lo, hi]).map(ann))
            bad = st.one_of(st.sampled_from([lo - 1, hi + 1]).map(ann), WRONG_TYPES)
    if valid_only:
        return valid
    return st.integers(0, 9).flatmap(lambda k: valid if k < 8 else bad)


SUMS_TO_ONE = ("programme.budget_split.", "sites.profession_mix.")


@st.composite
def scenario_dicts(draw: st.DrawFn, valid_only: bool = False) -> dict[str, Any]:
    """The small base scenario with random keys set (sometimes a misspelt one).

    With ``valid_only``: up to 12 keys, valid values only, shares that must sum to 1 left alone.
    """
    data: dict[str, Any] = BASE
    keys = sorted(k for k in LEAVES if not (valid_only and k.startswith(SUMS_TO_ONE)))
    chosen = draw(st.lists(st.sampled_from(keys), max_size=12 if valid_only else 7, unique=True))
    for key in chosen:
        data = apply_override(data, key, draw(leaf_values(key, valid_only)))
    if not valid_only and draw(st.integers(0, 9)) == 0:  # a typo of a real key
        key = draw(st.sampled_from(keys))
        data = apply_override(data, key[:-1] + "x", 1)
    return data


def assert_one_line(exc: ScenarioError) -> None:
    msg = str(exc)
    assert msg and msg == msg.strip() and "\n" not in msg and "\r" not in msg, repr(msg)


def assert_invariants(scn: Scenario) -> None:
    """Run one replication of ``scn`` and check what must hold in every run."""
    model = CommunityModel(scenario=scn, replication=1, root_seed=7)
    size0, n0 = model.sites.size.copy(), model.clinicians.site.size
    model.run()
    d = model.recorder.data
    joins = model.sites.join_month[(model.sites.arm == 1) & (model.sites.join_month >= 0)]
    before_first_join = np.arange(model.horizon) < (joins.min() if joins.size else model.horizon)
    for name, x in d.items():
        assert not np.isinf(x).any(), f"{name} has inf"
        if name == "engagement":  # a mean over joined sites: undefined until the first joins
            np.testing.assert_array_equal(np.isnan(x), before_first_join, err_msg=name)
            continue
        if name in ("gap_reported", "adherence_reported"):  # no data after support ends
            after = np.arange(model.horizon) >= model.programme_end
            np.testing.assert_array_equal(np.isnan(x), after, err_msg=name)
            continue
        allowed_nan = name == "gaming_gap" or (name in CONTROL and scn.control.n_sites == 0)
        assert allowed_nan or not np.isnan(x).any(), f"{name} has NaN"
    for name in SHARES:
        x = d[name][~np.isnan(d[name])]
        assert np.all((x >= -1e-12) & (x <= 1 + 1e-12)), f"{name} outside [0, 1]: {x}"
    assert np.all(np.diff(d["cost_cumulative"]) >= 0), "cumulative cost fell"
    assert np.all(d["spend"] >= 0) and np.all(d["events"] >= 0)
    assert model.clinicians.site.size == n0, "clinicians not conserved"
    np.testing.assert_array_equal(np.bincount(model.clinicians.site, minlength=size0.size), size0)
    metrics = run_metrics(model)
    bad = [k for k, v in metrics.items() if isinstance(v, float) and math.isinf(v)]
    assert not bad, f"infinite metrics: {bad}"
    finals = site_finals(model)
    assert all(len(v) == model.n_sites for v in finals.values())


@settings(PROPERTY, max_examples=600)
@given(scenario_dicts())
def test_random_scenarios_fail_in_one_line_or_run_cleanly(data: dict[str, Any]) -> None:
    try:
        scn = build_scenario(data, "random.toml")
    except ScenarioError as exc:
        event("refused")
        assert_one_line(exc)
        assert str(exc).startswith("random.toml")
        return
    event("ran")
    assert_invariants(scn)


@settings(PROPERTY, max_examples=300)
@given(scenario_dicts(valid_only=True))
def test_extreme_valid_scenarios_run_cleanly(data: dict[str, Any]) -> None:
    try:
        scn = build_scenario(data, "random.toml")
    except ScenarioError as exc:  # e.g. target adherence drawn below the baseline
        event("refused")
        assert_one_line(exc)
        return
    event("ran")
    assert_invariants(scn)


SET_KEYS = st.one_of(st.sampled_from(sorted(LEAVES)), st.text(max_size=12))
SET_VALUES = st.one_of(
    st.text(max_size=10),
    st.integers(-10, 10).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "[1, 2]", "{a = 1}", "'judgement'", '"x', "1e999", "nan", ""]),
)


@PROPERTY
@given(st.lists(st.tuples(SET_KEYS, SET_VALUES), max_size=3), st.text(max_size=8))
def test_random_set_strings_fail_in_one_line_or_load(
    pairs: list[tuple[str, str]], junk: str
) -> None:
    items = [f"{k}={v}" for k, v in pairs] + ([junk] if junk else [])
    try:
        load_scenario(None, ["sites.n_sites=2", *items])
    except ScenarioError as exc:
        assert_one_line(exc)


@PROPERTY
@given(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
def test_random_file_contents_fail_in_one_line_or_load(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.toml"
        path.write_bytes(raw)
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert_one_line(exc)
            assert str(path) in str(exc)


# ------------------------------------------------------------------ the command line


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``ccsim ARGS`` in-process; it must exit 2 with one line on stderr and no traceback."""
    try:
        rc = main(list(args))
    except SystemExit as exc:  # argparse rejects the value itself
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, (rc, err)
    assert "Traceback" not in err and err.endswith("\n") and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name = 1")
    locked = tmp_path / "locked.toml"
    locked.write_text("[sites]\nn_sites = 3\n", encoding="utf-8")
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder", encoding="utf-8")
    return {"folder": folder, "binary": binary, "locked": locked, "file": a_file, "tmp": tmp_path}


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["{folder}"], ["folder.toml", "is a folder"]),
        (["{binary}"], ["binary.toml", "UTF-8"]),
        (["--out", "{file}"], ["{file}", "not a folder"]),
        (["--out", "{file}/sub"], ["{file}/sub", "cannot write"]),
        (["--set", "programme=3"], ["--set programme=3", "table", "programme.core_team_strength"]),
        (["--set", "sites.n_sites=true"], ["sites.n_sites", "true", "number"]),
        (["--set", "sites.n_sites=0"], ["sites.n_sites", "0", "[1, 5000]"]),
        (["--set", "challenge.target_adherence=0.2"], ["target_adherence", "baseline_adherence"]),
        (["--set", "time.programme_months=0"], ["time.programme_months", "[1, 240]"]),
        (
            ["--set", "programme.recruitment.window_months=30"],
            ["window_months (30)", "time.programme_months (24)"],
        ),
        (["--set", "programme.tactics.hardd=1"], ["did you mean 'programme.tactics.hard'"]),
        (["--set", "=1"], ["--set '=1'", "empty key"]),
        (["--reps", "-1"], ["--reps", "-1"]),
        (["--reps", "20000000"], ["--reps", "10000000"]),
        (["--jobs", "0"], ["--jobs", "0"]),
        (["--replication", "-2"], ["--replication"]),
        (["--resume", "--overwrite"], ["--overwrite", "--resume"]),
        (["--resume"], ["nothing to resume"]),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else None,
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], args: list[str], needles: list[str]
) -> None:
    names = {k: str(v) for k, v in files.items()}
    argv = [a.format(**names) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(files["tmp"] / "out")]
    err = cli_error(capsys, "run", *argv, "--reps", "1", "--jobs", "1", "--quiet", "--no-figures")
    for needle in needles:
        assert needle.format(**names) in err, err


def test_unreadable_file_is_one_line(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = files["locked"]
    if os.geteuid() != 0:  # root reads anything, so fake the permission error there
        locked.chmod(0)
    real = Path.read_text

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    err = cli_error(capsys, "run", str(locked), "--out", str(files["tmp"] / "o"), "--quiet")
    assert "locked.toml" in err and "Permission denied" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc = main(["--debug", "run", "--set", "programme=3", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback (most recent call last)" in err and "ValidationError" in err
    assert err.splitlines()[-1].startswith("ccsim run: error: --set programme=3")
