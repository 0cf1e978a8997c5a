"""One design's replications, run in a worker: the model, its metrics and its small tables.

:func:`run_chunk` is what the parallel back ends execute (via :func:`run_chunk_unit`). It never
returns model objects, only DataFrames and failure records, so the results pickle cheaply. A
replication that raises becomes a failure record (see :mod:`sim.checkpoint`) unless
``on_error="raise"``. :data:`FAULT_ENV` is a test-only hook that makes chosen replications raise.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from sim.checkpoint import failure_record
from sim.metrics import run_metrics, site_classes
from sim.model import CommunityModel
from sim.rng import seed_label
from sim.scenario import Scenario
from sim.series import SERIES_COLUMNS

FAULT_ENV = "CCSIM_FAULT_INJECT"
"""Test-only hook: ``"design:replication[,design:replication...]"`` (design name or index) makes
those replications raise inside :func:`run_chunk`, to test failure handling. Never set it in
production runs."""


def phase_labels(scn: Scenario) -> np.ndarray:
    """Phase of each month: ``baseline``, ``programme`` or ``followup`` (shape ``(horizon,)``)."""
    t = scn.time
    return np.array(
        ["baseline"] * t.baseline_months
        + ["programme"] * t.programme_months
        + ["followup"] * t.followup_months
    )


def simulate(
    scenario: Scenario,
    replication: int = 0,
    root_seed: int = 0,
    design_key: int = 0,
    record_sites: bool = False,
) -> CommunityModel:
    """Run one replication to the horizon and return the finished model."""
    model = CommunityModel(
        scenario=scenario,
        replication=replication,
        root_seed=root_seed,
        design_key=design_key,
        record_sites=record_sites,
    )
    return model.run()


def site_finals(
    model: CommunityModel, classes: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Per-site final state of one run (columns of ``sites.parquet``), shape ``(n_sites,)``.

    ``classes``: :func:`sim.metrics.site_classes` of ``model`` when the caller has it already.
    """
    s, rec = model.sites, model.recorder
    cls = site_classes(model) if classes is None else classes
    return {
        "site": np.arange(model.n_sites),
        "arm": np.where(s.arm == 1, "programme", "control"),
        "size": s.size,
        "peripheral": s.peripheral,
        "readiness": s.readiness,
        "leadership": s.leadership,
        "fit": s.fit,
        "join_month": s.join_month,
        "dropped": s.dropped,
        "adherence_start": s.adherence_start,
        "adherence_programme_end": rec.site_adherence_programme_end,
        "adherence_final": model.site_adherence,
        "reported_final": s.reported_adherence,
        "gap_closed": cls["gap_closed"],
        "site_class": np.where(s.arm == 1, cls["class"], "control"),
        "conflict_final": s.conflict,
        "belonging_final": s.belonging,
        "routinisation_final": s.routinisation,
        "base_event_rate": s.base_event_rate,
        "events_total": rec.site_events,
        "expected_events_total": rec.site_expected,
    }


def injected_faults() -> set[tuple[str, int]]:
    """Replications that :data:`FAULT_ENV` asks to fail (test-only hook): ``{(design, rep)}``."""
    faults = set()
    for item in os.environ.get(FAULT_ENV, "").split(","):
        design, _, rep = item.strip().rpartition(":")
        if design and rep.strip().isdigit():
            faults.add((design.strip(), int(rep)))
    return faults


def _ident(n: int, design: str, design_index: int, rep: int) -> dict[str, np.ndarray]:
    """The identifier columns of ``n`` rows of one replication (``design`` as Python str)."""
    return {
        "design": np.full(n, design, dtype=object),
        "design_index": np.full(n, design_index, dtype=np.int64),
        "replication": np.full(n, rep, dtype=np.int64),
    }


def replication_tables(
    scenario: Scenario,
    design: str,
    design_index: int,
    rep: int,
    root_seed: int,
    key: int,
    phases: np.ndarray | None = None,
) -> dict[str, Any]:
    """Run one replication: its ``runs`` row (a dict) and the columns of its ``series``,
    ``sites`` and ``site_series`` rows (dicts of equal-length arrays; ``site_series`` is ``{}``
    except for replication 0). :func:`run_chunk` makes one DataFrame of each per chunk.

    ``phases``: :func:`phase_labels` of ``scenario`` when the caller has it already.
    """
    months = np.arange(scenario.time.horizon)
    model = simulate(scenario, rep, root_seed, key, record_sites=(rep == 0))
    classes = site_classes(model)
    ident = {"design": design, "design_index": design_index, "replication": rep}
    row = {**ident, "seed": seed_label(root_seed, rep, key), **run_metrics(model, classes)}
    series = {
        **_ident(months.size, design, design_index, rep),
        "month": months,
        "month_in_programme": months - model.programme_start,
        "phase": phase_labels(scenario) if phases is None else phases,
        **{name: model.recorder.data[name] for name in SERIES_COLUMNS},
    }
    sites = {**_ident(model.n_sites, design, design_index, rep), **site_finals(model, classes)}
    return {
        "runs": row,
        "series": series,
        "sites": sites,
        "site_series": _site_series(model, design, rep),
    }


def _site_series(model: CommunityModel, design: str, rep: int) -> dict[str, np.ndarray]:
    """Columns of ``site_series.parquet`` (one row per month and site, months outer) when the
    model kept each site's monthly adherence, else ``{}``."""
    if model.recorder.site_series is None:
        return {}
    n, months = model.n_sites, np.arange(model.horizon)
    arm = np.where(model.sites.arm == 1, "programme", "control")
    ident = _ident(n * months.size, design, 0, rep)
    return {
        "design": ident["design"],
        "replication": ident["replication"],
        "month": np.repeat(months, n),
        "site": np.tile(np.arange(n), months.size),
        "adherence": model.recorder.site_series.ravel(),
        "peripheral": np.tile(model.sites.peripheral, months.size),
        "arm": np.tile(arm, months.size),
    }


def chunk_frame(parts: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One DataFrame of the rows of several replications (dicts of equal-length columns, same
    names in the same order), with a fresh ``RangeIndex``; empty ``pd.DataFrame()`` if there
    are no rows. The same frame as concatenating one DataFrame per replication, for one
    DataFrame's cost (each costs ~0.2-0.5 ms of pandas work, whatever its length)."""
    parts = [p for p in parts if p and len(next(iter(p.values())))]
    if not parts:
        return pd.DataFrame()
    if len(parts) == 1:
        return pd.DataFrame(parts[0])
    return pd.DataFrame({name: np.concatenate([p[name] for p in parts]) for name in parts[0]})


def run_chunk(
    scenario: Scenario,
    design: str,
    design_index: int,
    replications: Sequence[int],
    root_seed: int,
    crn: bool = True,
    on_error: str = "record",
) -> dict[str, Any]:
    """Run some replications of one design; return small tables, never model objects.

    Args:
        scenario, design, design_index: the design.
        replications: replication indices (>= 0) to run, in order.
        root_seed: the experiment's root seed.
        crn: common random numbers (design key 0) or independent streams (key = design index).
        on_error: ``"record"`` turns a replication that raises into a failure record and goes
            on; ``"raise"`` lets the exception through (for ``--debug``).

    Returns:
        ``{"runs", "series", "sites", "site_series"}`` DataFrames (``site_series`` non-empty only
        for replication 0) and ``"failures"``: a list of :func:`sim.checkpoint.failure_record`.
    """
    rows = chunk_rows(scenario, design, design_index, replications, root_seed, crn, on_error)
    return chunk_tables([rows])


def chunk_rows(
    scenario: Scenario,
    design: str,
    design_index: int,
    replications: Sequence[int],
    root_seed: int,
    crn: bool = True,
    on_error: str = "record",
) -> dict[str, Any]:
    """:func:`run_chunk` before its tables are built: each replication's columns, as plain
    dicts of arrays, so the rows of several pieces of one chunk (run by different processes)
    can be joined into exactly the tables the whole chunk gives (:func:`chunk_tables`).

    Returns:
        ``{"runs": [one dict of metrics per replication], "series" / "sites" / "site_series":
        [one dict of equal-length columns per replication], "failures": [...]}``, in
        replication order; ends with the chunk's ``gc.collect()``, as :func:`run_chunk` does.
    """
    key = 0 if crn else design_index
    faults = injected_faults()
    phases = phase_labels(scenario)
    out: dict[str, list[Any]] = {
        "runs": [],
        "series": [],
        "sites": [],
        "site_series": [],
        "failures": [],
    }
    for rep in replications:
        try:
            if (design, rep) in faults or (str(design_index), rep) in faults:
                raise RuntimeError(f"fault injected by {FAULT_ENV} (test-only hook)")
            tables = replication_tables(scenario, design, design_index, rep, root_seed, key, phases)
        except Exception as exc:
            if on_error == "raise":
                raise
            label = seed_label(root_seed, rep, key)
            out["failures"].append(
                failure_record(exc, design, design_index, rep, root_seed, key, label)
            )
            continue
        for kind, columns in tables.items():
            out[kind].append(columns)
    # a finished model sits in reference cycles (Mesa's agent sets, our recorder): free them now,
    # once per chunk, rather than whenever the cyclic collector runs, so memory stays flat
    gc.collect()
    return out


def chunk_tables(pieces: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The tables of one chunk from its pieces' :func:`chunk_rows`, in replication order:
    ``{"runs", "series", "sites", "site_series"}`` DataFrames and ``"failures"`` (a list)."""
    joined = {kind: [row for piece in pieces for row in piece[kind]] for kind in pieces[0]}
    out: dict[str, Any] = {"runs": pd.DataFrame(joined["runs"])}
    out.update({kind: chunk_frame(joined[kind]) for kind in ("series", "sites", "site_series")})
    out["failures"] = joined["failures"]
    return out


def run_chunk_unit(
    scenario: Scenario,
    design: str,
    d: int,
    lo: int,
    hi: int,
    root_seed: int,
    crn: bool,
    on_error: str = "record",
    worker: bool = False,
    rows: bool = False,
) -> tuple[tuple[int, int, int], dict[str, Any]]:
    """Picklable wrapper for the parallel back ends: one chunk, tagged with its unit.

    ``worker=True`` (the parallel back ends' worker processes) first freezes the objects the
    worker has loaded (modules, functions: :func:`gc.freeze`, once per process), so the full
    collection that ends each chunk scans only that chunk's objects: ~45 ms less per chunk.
    Never set in the caller's own process, whose later garbage must stay collectable.

    ``rows=True`` returns the chunk's :func:`chunk_rows` instead of its tables: for a piece
    ``lo .. hi - 1`` of a chunk, to be joined with the chunk's other pieces by
    :func:`chunk_tables` (the last chunks of a parallel run are cut into pieces so that the
    processes finish together: :func:`sim.experiment_exec.split_tail`).
    """
    if worker:
        _freeze_loaded_objects()
    run = chunk_rows if rows else run_chunk
    return (d, lo, hi), run(scenario, design, d, range(lo, hi), root_seed, crn, on_error)


def run_part(piece: bool, *args: Any, **kwargs: Any) -> tuple[tuple[int, int, int], Any]:
    """:func:`run_chunk_unit` of a whole chunk, or of a piece (``piece``: its rows): one
    picklable function for a parallel run whose calls mix both (sim.experiment_exec)."""
    return run_chunk_unit(*args, rows=piece, **kwargs)


_FROZEN: list[bool] = []  # non-empty once this process has frozen its loaded objects


@contextmanager
def caller_objects_frozen() -> Iterator[None]:
    """Run chunks in the caller's own process with the caller's objects frozen
    (:func:`gc.freeze` on entry, :func:`gc.unfreeze` on exit), so the collection that ends each
    chunk scans only the run's objects, as in a worker; afterwards everything is collectable
    again (including the few hundred start-up objects CPython 3.12 freezes itself, which then
    only cost a full collection a moment's scan)."""
    if _FROZEN:  # a worker process: frozen for good already
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _freeze_loaded_objects() -> None:
    """:func:`gc.freeze` once per process (a no-op after the first call)."""
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        _FROZEN.append(True)
