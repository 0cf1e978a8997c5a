"""Saving a calibration: ``calibration.json`` (small: estimates, seeds, checks) and Parquet
tables (estimates, curves, targets, people, permutation null, model comparison, bootstrap).

Files are written atomically (:func:`sim.results.atomic_write_bytes`,
:func:`sim.results.write_parquet`). The JSON holds everything
:func:`sim.calibration.recheck` needs to re-simulate the fit without refitting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.calibration.data import AdoptionData
from sim.calibration.process import Params, exposure_at_adoption
from sim.results import atomic_write_bytes, write_parquet

if TYPE_CHECKING:
    from sim.calibration import CalibrationResult

FORMAT = "ccsim-calibration/1"


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
    if not perm or "null_mean" not in perm:  # not run, or not testable
        return dict(perm)
    out = {k: v for k, v in perm.items() if not isinstance(v, np.ndarray)}
    for stat in ("mean", "r"):
        null = perm[f"null_{stat}"]
        out[f"null_{stat}_mean"] = float(np.nanmean(null))
        out[f"null_{stat}_sd"] = float(np.nanstd(null, ddof=1))
        out[f"null_{stat}_q025"], out[f"null_{stat}_q975"] = (
            float(x) for x in np.nanpercentile(null, [2.5, 97.5])
        )
    return out


def result_json(res: CalibrationResult, source: dict[str, Any], names: tuple[str, ...]) -> dict:
    """The JSON record of a calibration (small; everything :func:`recheck` needs)."""
    spec = res.fit.spec
    return {
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


def save_result(
    res: CalibrationResult, data: AdoptionData, out_dir: Path, source: dict[str, Any]
) -> list[Path]:
    """Write ``calibration.json`` and Parquet tables (estimates, curves, targets, people,
    permutation null, model comparison) to ``out_dir``; returns the paths written."""
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
    doc = result_json(res, source, data.group_names)
    text = json.dumps(doc, indent=1, allow_nan=True, default=_plain) + "\n"
    atomic_write_bytes(out_dir / "calibration.json", text.encode("utf-8"))
    return [out_dir / "calibration.json", *paths]


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
