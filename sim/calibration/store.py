"""Saving a calibration: ``calibration.json`` (small: estimates, seeds, checks) and Parquet
tables (estimates, curves, targets, people, permutation null, model comparison, bootstrap).

Files are written atomically (:func:`sim.results.atomic_write_bytes`,
:func:`sim.results.write_parquet`). The JSON holds everything
:func:`sim.calibration.recheck` needs to re-simulate the fit without refitting.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.calibration.data import AdoptionData
from sim.calibration.process import Params, exposure_at_adoption
from sim.calibration.verdict import fit_check
from sim.results import atomic_write_bytes, write_parquet

if TYPE_CHECKING:
    from sim.calibration import CalibrationResult

FORMAT = "ccsim-calibration/1"
TABLES = (
    "estimates",
    "curves",
    "targets",
    "people",
    "permutation_null",
    "model_comparison",
    "bootstrap",
)
"""Parquet tables :func:`save_result` may write (``<name>.parquet``)."""
FIGURES = ("curves.png", "permutation_null.png")
"""Figures ``ccsim calibrate`` may write."""
OUTPUTS = ("calibration.json", *(f"{t}.parquet" for t in TABLES), *FIGURES)
"""Every file a calibration writes into its folder, the record first: all that
:func:`remove_outputs` deletes. Anything else in the folder is the user's."""


def remove_outputs(out_dir: Path) -> list[Path]:
    """Delete a previous calibration's own files (:data:`OUTPUTS`) from ``out_dir``, record
    first, so a folder never holds a ``calibration.json`` describing other files; returns
    the paths removed. Other files are left alone.

    Raises:
        OSError: A file cannot be removed.
    """
    removed = []
    for name in OUTPUTS:
        path = Path(out_dir) / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def _params_json(params: Params, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "p": {g: float(v) for g, v in zip(names, params.p, strict=True)},
        "q": params.q,
        "pi": params.pi,
        "mu": params.mu,
    }
    if params.onset is not None:
        out["onset"] = {g: int(v) for g, v in zip(names, params.onset, strict=True)}
    return out


def _perm_json(perm: dict[str, Any]) -> dict[str, Any]:
    """The permutation test without its null draws: summaries of the defined draws instead.
    A statistic that is not testable keeps its ``*_testable`` flag and reason only."""
    if not perm or "null_mean" not in perm:  # not run, or not testable
        return dict(perm)
    out = {k: v for k, v in perm.items() if not isinstance(v, np.ndarray)}
    stats = ["mean"]
    if perm.get("r_testable", True):
        stats.append("r")
    else:
        for key in ("observed_r", "p_r"):
            out.pop(key, None)
    for stat in stats:
        out.update(null_summary(perm[f"null_{stat}"], f"null_{stat}"))
    return out


def null_summary(null: np.ndarray, prefix: str) -> dict[str, float | None]:
    """Mean, SD (ddof 1), 2.5% and 97.5% percentiles of the finite draws in ``null``, keyed
    ``<prefix>_mean`` ...; ``None`` where too few draws are defined (no numpy warnings)."""
    defined = np.asarray(null, dtype=float)
    defined = defined[np.isfinite(defined)]
    n = defined.size
    q025, q975 = (float(x) for x in np.percentile(defined, [2.5, 97.5])) if n else (None, None)
    return {
        f"{prefix}_mean": float(defined.mean()) if n else None,
        f"{prefix}_sd": float(defined.std(ddof=1)) if n > 1 else None,
        f"{prefix}_q025": q025,
        f"{prefix}_q975": q975,
    }


def result_json(
    res: CalibrationResult,
    source: dict[str, Any],
    names: tuple[str, ...],
    fit_check: dict[str, Any] | None = None,
) -> dict:
    """The JSON record of a calibration (small; everything :func:`recheck` needs), with the
    verdict of :func:`sim.calibration.verdict.fit_check` when given."""
    spec = res.fit.spec
    doc = {
        "format": FORMAT,
        "source": source,
        "data": res.data_summary,
        "model": {k: getattr(spec, k) for k in spec.__dataclass_fields__},
        "estimates": res.fit.table().to_dict(orient="records"),
        "params": _params_json(res.params, names),
        "nll": res.fit.nll,
        "aic": res.fit.aic,
        "k": res.fit.k,
        "peer_test": res.peer,
        "model_comparison": None
        if res.comparison is None
        else res.comparison.to_dict(orient="records"),
        "seeds": res.seeds,
        "targets": res.targets.to_dict(orient="records"),
        "permutation": _perm_json(res.permutation),
        "timings_s": {k: round(v, 3) for k, v in res.timings_s.items()},
    }
    if fit_check is not None:
        doc["fit_check"] = fit_check
    return doc


def save_result(
    res: CalibrationResult,
    data: AdoptionData,
    out_dir: Path,
    source: dict[str, Any],
    provenance: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``calibration.json`` and Parquet tables (estimates, curves, targets, people,
    permutation null, model comparison) to ``out_dir``; returns the paths written.

    ``provenance`` (command, data files' SHA-256, versions, git state, code fingerprint; see
    :func:`sim.calibration.record.provenance`) is stored as given under ``provenance``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "estimates": res.fit.table(),
        "curves": res.curves,
        "targets": res.targets,
        "people": pd.DataFrame(
            {
                "id": data.ids.astype(str),
                "group": np.array(data.group_names, dtype=object)[data.group],
                "period": data.period,
                "adopted": data.adopted,
                "contacts": data.degree,
                "exposure_before": exposure_at_adoption(data)[0],
            }
        ),
    }
    if res.permutation.get("testable", bool(res.permutation)):
        tables["permutation_null"] = pd.DataFrame(
            {"null_mean": res.permutation["null_mean"], "null_r": res.permutation["null_r"]}
        )
    if res.comparison is not None:
        tables["model_comparison"] = res.comparison
    if res.bootstrap_draws is not None:
        tables["bootstrap"] = pd.DataFrame(res.bootstrap_draws, columns=res.fit.names)
    paths = []
    for name, frame in tables.items():
        write_parquet(frame, out_dir / f"{name}.parquet")
        paths.append(out_dir / f"{name}.parquet")
    doc = result_json(res, source, data.group_names, fit_check(res, data))
    if provenance is not None:
        doc["provenance"] = provenance
    # strict JSON (readable by any parser): NaN and infinities become null
    text = json.dumps(_finite(json.loads(json.dumps(doc, default=_plain))), indent=1) + "\n"
    atomic_write_bytes(out_dir / "calibration.json", text.encode("utf-8"))
    return [out_dir / "calibration.json", *paths]


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by ``None`` (JSON ``null``)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
