"""Scenario loading: ``extends`` chains, ``--set`` parsing, one-line errors, the library."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sim.loader import ScenarioError, library, load_scenario, parse_override
from sim.scenario import DataUse

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "scenarios"
LIBRARY_FILES = sorted(LIBRARY.glob("*.toml"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(ref: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """The ScenarioError message of a load that must fail; checked to be exactly one line."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref, overrides)
    msg = str(info.value)
    assert "\n" not in msg and "\r" not in msg, f"error message spans lines: {msg!r}"
    assert msg.strip() == msg and msg, msg
    return msg


# ------------------------------------------------------------------ extends chains


@pytest.fixture
def chain(tmp_path: Path) -> dict[str, Path]:
    """grand <- parent <- child, each overriding part of a nested table."""
    grand = write(
        tmp_path / "grand.toml",
        'name = "grand"\ndescription = "grand desc"\n'
        "[sites]\nn_sites = 7\nmean_size = 20\nreadiness_mean = 0.4\n"
        "[programme.tactics]\nhard = 0.1\nsoft = 0.2\n",
    )
    parent = write(
        tmp_path / "parent.toml",
        'extends = "grand.toml"\nname = "parent"\n'
        "[sites]\nmean_size = 30\n"
        "[programme.data]\nuse = 'judgement'\n",
    )
    child = write(
        tmp_path / "child.toml",
        'extends = "parent.toml"\n[sites]\nn_sites = 9\n[programme.tactics]\nhard = 0.3\n',
    )
    return {"grand": grand, "parent": parent, "child": child}


def test_extends_child_wins_and_nested_tables_merge(chain: dict[str, Path]) -> None:
    scn = load_scenario(chain["child"])
    assert scn.sites.n_sites == 9  # child beats grandparent
    assert scn.sites.mean_size == 30  # parent beats grandparent
    assert scn.sites.readiness_mean == 0.4  # sibling key only in grandparent survives
    assert scn.programme.tactics.hard == 0.3  # child
    assert scn.programme.tactics.soft == 0.2  # sibling kept from the grandparent's table
    assert scn.programme.data.use == DataUse.judgement  # table only in the parent
    assert scn.description == "grand desc"  # inherited through two levels
    # untouched tables keep the schema defaults
    assert (
        scn.programme.review.interval_months == load_scenario(None).programme.review.interval_months
    )


def test_extends_name_is_the_loaded_file_unless_it_sets_one(chain: dict[str, Path]) -> None:
    assert load_scenario(chain["child"]).name == "child"  # parent's name is not inherited
    assert load_scenario(chain["parent"]).name == "parent"
    assert load_scenario(chain["grand"]).name == "grand"


def test_set_overrides_win_over_the_whole_chain(chain: dict[str, Path]) -> None:
    scn = load_scenario(chain["child"], ["sites.n_sites=11", "programme.tactics.soft=0.9"])
    assert scn.sites.n_sites == 11
    assert scn.programme.tactics.soft == 0.9
    assert scn.programme.tactics.hard == 0.3  # the rest of the table is left alone
    assert scn.sites.mean_size == 30


def test_extends_is_relative_to_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "base" / "p.toml", "[sites]\nn_sites = 13\n")
    child = write(tmp_path / "variants" / "c.toml", 'extends = "../base/p.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_scenario(child).sites.n_sites == 13


def test_extends_a_library_name(tmp_path: Path) -> None:
    raw = tomllib.loads((LIBRARY / "keystone.toml").read_text(encoding="utf-8"))
    child = write(tmp_path / "mine.toml", 'extends = "keystone"\n[programme.tactics]\nsoft = 0.1\n')
    scn = load_scenario(child)
    assert scn.sites.n_sites == raw["sites"]["n_sites"]
    assert scn.programme.tactics.hard == raw["programme"]["tactics"]["hard"]
    assert scn.programme.tactics.soft == 0.1
    assert scn.name == "mine"


# ------------------------------------------------------------------ --set parsing


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("sites.n_sites=12", "sites.n_sites", 12),
        ("programme.tactics.hard=0.75", "programme.tactics.hard", 0.75),
        ("a.b=1e-3", "a.b", 0.001),
        ("a.b=-2", "a.b", -2),
        ("programme.data.use=judgement", "programme.data.use", "judgement"),  # bare string
        ("name='my run'", "name", "my run"),  # quoted string keeps its space
        ('name="x=y"', "name", "x=y"),  # '=' inside the value
        ("a=true", "a", True),
        ("a=false", "a", False),
        ("  sites.n_sites  =  4 ", "sites.n_sites", 4),  # whitespace around key and value
    ],
)
def test_parse_override_values(text: str, key: str, value: object) -> None:
    got_key, got = parse_override(text)
    assert got_key == key
    assert got == value
    assert type(got) is type(value)  # 12 stays an int, 0.75 a float, true a bool


@pytest.mark.parametrize("text", ["abc", "=3", "a..b=1", ".a=1", "a.=1"])
def test_parse_override_bad_syntax(text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert "\n" not in str(info.value)
    assert text in str(info.value)


def test_set_values_reach_the_scenario_with_their_types() -> None:
    scn = load_scenario(
        None,
        [
            "sites.n_sites=12",
            "programme.tactics.hard=0.75",
            "programme.data.use='judgement'",
            'description="two words"',
        ],
    )
    assert scn.sites.n_sites == 12 and isinstance(scn.sites.n_sites, int)
    assert scn.programme.tactics.hard == 0.75
    assert scn.programme.data.use == DataUse.judgement
    assert scn.description == "two words"


def test_set_extends_is_refused() -> None:
    msg = error_of(None, ["extends='keystone'"])
    assert "extends" in msg


@settings(max_examples=40, deadline=None)
@given(hs.floats(min_value=0.0, max_value=1.0, allow_nan=False))
def test_set_in_range_float_round_trips(x: float) -> None:
    assert load_scenario(None, [f"programme.tactics.hard={x!r}"]).programme.tactics.hard == x


@settings(max_examples=40, deadline=None)
@given(
    hs.one_of(
        hs.floats(min_value=1.0, exclude_min=True, max_value=1e6),
        hs.floats(max_value=0.0, exclude_max=True, min_value=-1e6),
    )
)
def test_set_out_of_range_float_names_the_range(x: float) -> None:
    msg = error_of(None, [f"programme.tactics.hard={x!r}"])
    assert "programme.tactics.hard" in msg and "[0, 1]" in msg


# ------------------------------------------------------------------ one-line errors


@pytest.mark.parametrize(
    ("toml", "wrong", "right"),
    [
        ("[programme.tactic]\nhard = 0.5\n", "programme.tactic.hard", "programme.tactics.hard"),
        ("[sites]\nnsites = 5\n", "sites.nsites", "sites.n_sites"),
        ("[sitez]\nn_sites = 5\n", "sitez.n_sites", "sites.n_sites"),
        (
            "[challenge]\ntarget_adherance = 0.9\n",
            "challenge.target_adherance",
            "challenge.target_adherence",
        ),
    ],
)
def test_unknown_key_in_file_suggests_the_right_key(
    tmp_path: Path, toml: str, wrong: str, right: str
) -> None:
    path = write(tmp_path / "typo.toml", toml)
    msg = error_of(path)
    assert str(path) in msg
    assert f"'{wrong}'" in msg
    assert f"did you mean '{right}'" in msg


@pytest.mark.parametrize(
    ("override", "wrong", "right"),
    [
        ("programme.tactic.hard=0.5", "programme.tactic.hard", "programme.tactics.hard"),
        ("sites.nsites=5", "sites.nsites", "sites.n_sites"),
    ],
)
def test_unknown_key_in_set_suggests_the_right_key(override: str, wrong: str, right: str) -> None:
    msg = error_of("baseline", [override])
    assert str(LIBRARY / "baseline.toml") in msg
    assert f"'{wrong}'" in msg and f"did you mean '{right}'" in msg


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path / "wt.toml", '[sites]\nn_sites = "ten"\n')
    msg = error_of(path)
    assert str(path) in msg and "sites.n_sites" in msg and "'ten'" in msg
    msg = error_of(None, ["programme.tactics.hard='lots'"])
    assert "programme.tactics.hard" in msg and "'lots'" in msg
    msg = error_of(None, ["sites.n_sites=2.5"])  # not a whole number
    assert "sites.n_sites" in msg and "2.5" in msg


@pytest.mark.parametrize("override", ["sites.n_sites=true", "programme.tactics.hard=true"])
def test_boolean_for_a_number_is_a_type_error(override: str) -> None:
    msg = error_of(None, [override])
    assert override.split("=")[0] in msg


def test_out_of_range_names_key_value_and_range(tmp_path: Path) -> None:
    path = write(tmp_path / "oor.toml", "[programme.tactics]\nhard = 1.5\n")
    msg = error_of(path)
    assert str(path) in msg and "programme.tactics.hard" in msg
    assert "1.5" in msg and "[0, 1]" in msg
    msg = error_of(None, ["time.programme_months=0"])
    assert "time.programme_months" in msg and "[1, 240]" in msg


@pytest.mark.parametrize(("target", "baseline"), [(0.2, 0.3), (0.3, 0.3)])
def test_target_not_above_baseline(tmp_path: Path, target: float, baseline: float) -> None:
    path = write(
        tmp_path / "tb.toml",
        f"[challenge]\ntarget_adherence = {target}\nbaseline_adherence = {baseline}\n",
    )
    msg = error_of(path)
    assert str(path) in msg
    assert "challenge.target_adherence" in msg and "challenge.baseline_adherence" in msg


def test_budget_split_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path / "bs.toml", "[programme.budget_split]\nevents = 0.5\n")
    msg = error_of(path)
    assert str(path) in msg and "programme.budget_split" in msg
    assert "1.350" in msg  # 0.35 + 0.25 + 0.15 + 0.5 + 0.10: the total the user actually gave
    # a split that does sum to 1 loads
    ok = write(
        tmp_path / "ok.toml",
        "[programme.budget_split]\nfacilitation = 0.2\nprotected_time = 0.2\n"
        "data_support = 0.2\nevents = 0.2\nembedding = 0.2\n",
    )
    assert load_scenario(ok).programme.budget_split.events == 0.2


def test_recruitment_window_longer_than_programme(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rw.toml",
        "[time]\nprogramme_months = 12\n[programme.recruitment]\nwindow_months = 13\n",
    )
    msg = error_of(path)
    assert str(path) in msg
    assert "programme.recruitment.window_months" in msg and "time.programme_months" in msg
    # equal is allowed
    assert load_scenario(path, ["programme.recruitment.window_months=12"]).time.horizon == 36


def test_malformed_toml(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", 'name = "x"\n[sites\nn_sites = 3\n')
    msg = error_of(path)
    assert str(path) in msg and "line 2" in msg


def test_missing_file(tmp_path: Path) -> None:
    msg = error_of(tmp_path / "nope.toml")
    assert "nope.toml" in msg
    msg = error_of("no_such_library_scenario")
    assert "no_such_library_scenario" in msg and "keystone" in msg  # lists what exists


def test_missing_parent_names_the_parent(tmp_path: Path) -> None:
    child = write(tmp_path / "c.toml", 'extends = "ghost.toml"\n')
    assert "ghost.toml" in error_of(child)


def test_missing_parent_names_the_file_that_extends_it(tmp_path: Path) -> None:
    child = write(tmp_path / "ext.toml", 'extends = "nothere.toml"\n')
    msg = error_of(child)
    assert msg.startswith(f"{child}: extends = 'nothere.toml': no such file beside it"), msg
    assert "library scenarios: baseline, " in msg
    middle = write(tmp_path / "mid.toml", 'extends = "ext.toml"\n')  # the chain's broken link
    assert error_of(middle).startswith(f"{child}: extends = 'nothere.toml': ")


def test_cross_field_error_blames_the_set_that_caused_it() -> None:
    msg = error_of(None, ["challenge.baseline_adherence=0.95"])
    assert msg == (
        "--set challenge.baseline_adherence=0.95 (on built-in baseline): "
        "challenge.target_adherence (0.95) must exceed challenge.baseline_adherence (0.95)"
    )
    both = [
        "challenge.baseline_adherence=0.95",
        "sites.n_sites=4",
        "challenge.target_adherence=0.9",
    ]
    assert error_of(None, both).startswith(
        "--set challenge.baseline_adherence=0.95, --set challenge.target_adherence=0.9 "
        "(on built-in baseline): challenge.target_adherence (0.9) must exceed"
    )
    # a table --set that includes the key is blamed too; an unrelated --set is not
    msg = error_of("keystone", ["time={implementation_months=40}"])
    assert msg.startswith("--set time={implementation_months=40} (on "), msg
    msg = error_of(None, ["sites.n_sites=4", "time.implementation_months=30"])
    assert msg.startswith("--set time.implementation_months=30 (on built-in baseline): "), msg


@pytest.mark.parametrize("cycle", ["two", "self"])
def test_extends_cycle(tmp_path: Path, cycle: str) -> None:
    if cycle == "two":
        a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
        write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    else:
        a = write(tmp_path / "a.toml", 'extends = "a.toml"\n')
    msg = error_of(a)  # a ScenarioError, not RecursionError
    assert "a.toml" in msg or "b.toml" in msg
    assert "extends" in msg


def test_unknown_key_with_newline_still_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "nl.toml", '"bad\\nkey" = 1\n')
    error_of(path)


# ------------------------------------------------------------------ library


def test_library_names_resolve() -> None:
    raw = tomllib.loads((LIBRARY / "keystone.toml").read_text(encoding="utf-8"))
    assert load_scenario("keystone").sites.n_sites == raw["sites"]["n_sites"]
    assert load_scenario("keystone.toml").sites.n_sites == raw["sites"]["n_sites"]
    assert set(library()) == {p.stem for p in LIBRARY_FILES}


def test_library_is_not_empty() -> None:
    assert {"baseline", "keystone", "matching_michigan"} <= {p.stem for p in LIBRARY_FILES}


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=[p.stem for p in LIBRARY_FILES])
def test_every_library_file_loads_with_its_own_description(path: Path) -> None:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    own = str(raw.get("description", "")).strip()
    assert own, f"{path.name} sets no description of its own"
    scn = load_scenario(path)
    assert scn.description.strip() == own
    assert scn.name == path.stem  # library names are the file stems
    assert load_scenario(path.stem).model_dump() == scn.model_dump()
