"""``ccsim calibrate``: fit the adoption sub-model to adoption times of people in groups."""

from __future__ import annotations

import argparse
import json
import os
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

from sim.commands.common import (
    UsageError,
    add_jobs_option,
    non_negative_int,
    positive_int,
    seed,
)
from sim.rng import DEFAULT_SEED


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value:g}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ccsim calibrate``."""
    cal = sub.add_parser(
        "calibrate",
        help="fit external push p and peer influence q to observed adoption times",
        description="Fit the adoption sub-model (hazard 1 - exp(-(p + q f(E))), E = network "
        "exposure) to adoption times of people in groups, by exact likelihood, with 95% "
        "intervals, a test of q = 0, simulated vs observed curves per group, and exposure at "
        "adoption against a within-group permutation null. Writes calibration.json, Parquet "
        "tables and figures to --out (a folder holding a calibration of other data or another "
        "model, or other files, is refused without --overwrite).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(
            """\
            examples:
              ccsim calibrate medinnov --contagion linear --fit-onset   packaged fit
              ccsim calibrate nodes.csv edges.csv --id node_id --group village --time toa \\
                  --censored-at 11 --network network=fp_talk_neighbors --edge-filter to_surveyed=1
              ccsim calibrate nodes.csv --id pid --group site --time month --censored-at NA

            NODES has one row per person; EDGES one row per tie "from names to" (exposure of a
            person = share of the people they name who adopted before). Times are whole
            periods; --censored-at marks "not adopted" (NA: empty times; none: everyone
            adopted); at least one person must hold it. Without EDGES each
            person is exposed to the rest of their group. Ties naming unknown ids are counted
            and dropped; self-loops and repeated pairs are dropped.
            """
        ),
    )
    _data_args(cal)
    _model_args(cal)
    _run_args(cal)


def _data_args(cal: argparse.ArgumentParser) -> None:
    cal.add_argument("nodes", metavar="NODES.csv", help="people file, or 'medinnov' (packaged)")
    cal.add_argument("edges", nargs="?", default=None, metavar="EDGES.csv", help="ties file")
    cal.add_argument("--id", dest="id_col", metavar="COL", help="person id column")
    cal.add_argument("--group", dest="group_col", metavar="COL", help="group column (optional)")
    cal.add_argument("--time", dest="time_col", metavar="COL", help="adoption time column")
    cal.add_argument(
        "--censored-at",
        metavar="VALUE",
        help="time value meaning never adopted (a whole number held by at least one person); "
        "NA: empty times; none: everyone adopted",
    )
    cal.add_argument("--start", type=float, metavar="VALUE", help="time of period 1 (default min)")
    cal.add_argument("--edge-from", default="from_id", metavar="COL", help="default: from_id")
    cal.add_argument("--edge-to", default="to_id", metavar="COL", help="default: to_id")
    for flag, what in (("--network", "e.g. network=advice"), ("--edge-filter", "to_surveyed=1")):
        cal.add_argument(
            flag,
            dest="filters",
            action="append",
            default=[],
            metavar="COL=VAL[,VAL]",
            help=f"keep only these ties ({what}); repeatable",
        )


def _model_args(cal: argparse.ArgumentParser) -> None:
    cal.add_argument(
        "--contagion",
        choices=("threshold", "linear"),
        default="threshold",
        help="f(E): logistic threshold curve (complex) or E (simple); default: threshold",
    )
    cal.add_argument("--per-group-p", action="store_true", help="one external push per group")
    cal.add_argument("--never-adopters", action="store_true", help="fit a never-adopter share")
    cal.add_argument("--fit-threshold", action="store_true", help="fit the threshold mean mu")
    cal.add_argument(
        "--fit-onset",
        action="store_true",
        help="fit the period each group's external push starts (when it joins), 0..--max-onset",
    )
    cal.add_argument(
        "--max-onset",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="with --fit-onset: largest onset tried, in periods (default: 3; at most the "
        "observed periods - 1)",
    )
    for name in ("mean", "sd", "width"):
        cal.add_argument(
            f"--threshold-{name}",
            type=_share,
            metavar="X",
            help=f"threshold {name} (default: the scenario schema's)",
        )


def _run_args(cal: argparse.ArgumentParser) -> None:
    """Intervals, simulations, permutations, seed and outputs (after the model options)."""
    cal.add_argument(
        "--intervals",
        choices=("profile", "bootstrap", "none"),
        default="profile",
        help="95%% intervals: profile likelihood (default) or parametric bootstrap",
    )
    cal.add_argument(
        "--boot", type=positive_int, default=200, metavar="N", help="bootstrap refits (200)"
    )
    add_jobs_option(
        cal,
        " (joblib workers; this one only collects) for the bootstrap refits (results do not "
        "depend on it)",
    )
    cal.add_argument(
        "--sims", type=positive_int, default=200, metavar="N", help="forward simulations (200)"
    )
    cal.add_argument(
        "--perms",
        type=non_negative_int,
        default=2000,
        metavar="N",
        help="permutations, 0 skips (2000)",
    )
    cal.add_argument(
        "--seed", type=seed, default=DEFAULT_SEED, metavar="S", help="root seed (%(default)s)"
    )
    cal.add_argument("--no-compare", action="store_true", help="skip the 4-variant comparison")
    cal.add_argument("--no-figures", action="store_true", help="skip figures")
    cal.add_argument("--out", type=str, metavar="DIR", help="default: results/calibrate-<stem>/")
    cal.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a calibration of other data or another model in --out (only its own "
        "files are removed; other files stay)",
    )


def _source(args: argparse.Namespace) -> dict[str, Any]:
    """Resolved data options (the packaged preset fills what the user left out)."""
    from sim.calibration import MEDINNOV, parse_filters

    preset = MEDINNOV if args.nodes == "medinnov" else {}
    src: dict[str, Any] = {
        "nodes": preset.get("nodes", args.nodes),
        "edges": args.edges if args.edges is not None else preset.get("edges"),
        "id_col": args.id_col or preset.get("id_col"),
        "group_col": args.group_col or preset.get("group_col"),
        "time_col": args.time_col or preset.get("time_col"),
        "censored_at": args.censored_at
        if args.censored_at is not None
        else preset.get("censored_at"),
        "start": args.start,
        "edge_from": args.edge_from,
        "edge_to": args.edge_to,
        "edge_filters": parse_filters(args.filters),
        "packaged": bool(preset),
    }
    if src["edges"] is None and args.filters:
        raise UsageError("--network / --edge-filter need an EDGES.csv file (none given)")
    missing = [
        f
        for f, k in (("--id", "id_col"), ("--time", "time_col"), ("--censored-at", "censored_at"))
        if src[k] is None
    ]
    if missing:
        raise UsageError(f"{', '.join(missing)} required (column names and censoring code)")
    from sim.calibration import CalibrationDataError
    from sim.calibration.data_files import parse_censoring_code

    try:
        src["censored_at"] = parse_censoring_code(str(src["censored_at"]))
    except CalibrationDataError as exc:
        raise UsageError(str(exc)) from None
    return src


def _files(src: dict[str, Any]) -> dict[str, Any]:
    """The NODES and EDGES files as read (the packaged ones resolved)."""
    from sim.calibration.data import packaged_path

    nodes, edges = src["nodes"], src["edges"]
    if src["packaged"]:
        nodes = packaged_path(nodes)
        edges = packaged_path(edges) if edges == "medInnovations_edges.csv" else edges
    return {"nodes": nodes, "edges": edges}


def _load(src: dict[str, Any]):
    from sim.calibration import load_adoption_data

    files = _files(src)
    return load_adoption_data(
        files["nodes"],
        files["edges"],
        src["id_col"],
        src["time_col"],
        src["censored_at"],
        src["group_col"],
        src["edge_from"],
        src["edge_to"],
        src["edge_filters"],
        src["start"],
    )


def _spec(args: argparse.Namespace):
    from sim.calibration import ModelSpec

    extra = {f"threshold_{k}": getattr(args, f"threshold_{k}") for k in ("mean", "sd", "width")}
    extra = {k: v for k, v in extra.items() if v is not None}
    if "threshold_width" in extra and extra["threshold_width"] < 0.01:
        raise UsageError("--threshold-width must be >= 0.01")
    if args.max_onset is not None and not args.fit_onset:
        raise UsageError("--max-onset needs --fit-onset")
    if args.fit_onset and args.max_onset == 0:
        raise UsageError("--fit-onset --max-onset 0 fits no onset: drop --fit-onset, or allow >= 1")
    try:
        return ModelSpec(
            args.contagion,
            args.per_group_p,
            args.never_adopters,
            args.fit_threshold,
            fit_onset=args.fit_onset,
            max_onset=3 if args.max_onset is None else args.max_onset,
            **extra,
        )
    except ValueError:
        raise UsageError("--fit-threshold needs --contagion threshold") from None


def _out_dir(args: argparse.Namespace, identity: dict[str, Any]) -> Path:
    """``--out`` checked against what it holds (see :func:`_check_previous`), then created."""
    stem = "medinnov" if args.nodes == "medinnov" else Path(args.nodes).stem
    if args.out is not None and not str(args.out).strip():
        raise UsageError(
            "--out: empty folder name; give a folder, e.g. --out results/my_fit (--out . for "
            "this folder)"
        )
    out = Path(args.out) if args.out is not None else Path("results") / f"calibrate-{stem}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and not args.overwrite:
        _check_previous(out, identity)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create ({exc.strerror})") from None
    return out


def _identity(src: dict[str, Any], spec: Any) -> dict[str, Any]:
    """What makes two calibrations the same one: the data options and the model, as
    ``calibration.json`` records them (``source``, ``model``)."""
    from sim.calibration.store import _plain

    model = {k: getattr(spec, k) for k in spec.__dataclass_fields__}
    return json.loads(json.dumps({"source": src, "model": model}, default=_plain))


def _same(key: str, old: Any, new: Any, packaged: bool) -> bool:
    if old == new:
        return True
    if key in ("source.nodes", "source.edges") and not packaged and old and new:
        return os.path.abspath(str(old)) == os.path.abspath(str(new))
    return False


def _check_previous(out: Path, identity: dict[str, Any]) -> None:
    """Refuse an ``--out`` holding another calibration (other data or model options) or files
    of other work; a calibration with the same options may be replaced."""
    from sim.calibration.store import FORMAT, OUTPUTS

    record = out / "calibration.json"
    if not record.exists():
        foreign = sorted(
            e.name for e in out.iterdir() if not e.name.startswith(".") and e.name not in OUTPUTS
        )
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UsageError(
                f"--out {out}: holds other files ({shown}) and no calibration; use another "
                "--out, or --overwrite to write the calibration beside them"
            )
        return
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise UsageError(
            f"--out {out}: its calibration.json is not a readable ccsim calibration; use "
            "another --out, or --overwrite to replace it"
        )
    packaged = bool(identity["source"].get("packaged"))
    for section in ("source", "model"):
        old, new = saved.get(section) or {}, identity[section]
        for key in sorted(set(old) | set(new), key=lambda k: (k not in new, str(k))):
            a, b = old.get(key), new.get(key)
            if not _same(f"{section}.{key}", a, b, packaged):
                raise UsageError(
                    f"--out {out}: holds a calibration with other options ({key} "
                    f"{_text(a)} there, {_text(b)} now); use another --out, or --overwrite "
                    "to replace it"
                )


def _text(value: Any) -> str:
    return "none" if value is None else json.dumps(value) if not isinstance(value, str) else value


def _compare(res: Any, data: Any, spec: Any) -> None:
    """The 4-variant model comparison into ``res``, with a bar of its fits on a terminal."""
    from sim.calibration.fit import compare_models

    started = time.perf_counter()
    res.comparison = compare_models(data, spec, progress=None)
    res.timings_s["compare"] = time.perf_counter() - started


def run(args: argparse.Namespace) -> int:
    """``ccsim calibrate``: load, fit, simulate, test, write, print a summary."""
    from sim.calibration import CalibrationDataError, calibrate, check_identifiable, save_result
    from sim.calibration.plot import save_figures
    from sim.calibration.record import provenance
    from sim.calibration.report import summary_text
    from sim.calibration.store import remove_outputs

    try:
        src = _source(args)
        spec = _spec(args)
        data = _load(src)
        check_identifiable(data, spec.per_group_p)
    except CalibrationDataError as exc:
        raise UsageError(str(exc)) from None
    src["edge_filters"] = [[c, list(v)] for c, v in src["edge_filters"]]
    out = _out_dir(args, _identity(src, spec))
    with warnings.catch_warnings():  # numpy's notes on empty or all-NaN slices are not for users
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numpy(\.|$)")
        warnings.filterwarnings("ignore", message=r"(Mean of empty slice|All-NaN slice)")
        try:
            res = calibrate(
                data,
                spec,
                intervals=args.intervals,
                n_boot=args.boot,
                n_sims=args.sims,
                n_perm=args.perms,
                seed=args.seed,
                compare=False,  # below, with a progress bar
                progress=None,  # a bar of profile intervals or bootstrap refits, terminal only
                jobs=args.jobs,
            )
            if not args.no_compare:
                _compare(res, data, spec)
        except CalibrationDataError as exc:
            raise UsageError(str(exc)) from None
        try:  # the previous calibration's own files go first: none of them outlives it
            remove_outputs(out)
            written = save_result(res, data, out, src, provenance(args, _files(src), out))
            if not args.no_figures:
                labels = (src["group_col"] or "", src["time_col"])
                written += save_figures(res, out, labels)
        except OSError as exc:
            where = exc.filename or out
            raise UsageError(f"--out {out}: cannot write {where} ({exc.strerror})") from None
    print(summary_text(res, data))
    print(f"results: {out}/ ({', '.join(p.name for p in written)})")
    return 0
