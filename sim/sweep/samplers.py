"""Samplers of parameter spaces: each returns a plain ``(n_points, n_params)`` float array.

Kept apart from running and analysing (the SALib seam): any design here can feed any
analysis of :mod:`sim.sweep.sensitivity`, and arrays from elsewhere can be run by :mod:`sim.sweep`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np


def grid_design(levels: Sequence[Sequence[float]]) -> np.ndarray:
    """Full factorial grid, shape ``(prod(len(l)), len(levels))``, last parameter fastest."""
    return np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, len(levels))


def lhs_design(bounds: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Latin hypercube sample of ``n`` points in ``bounds`` (shape ``(d, 2)``) -> ``(n, d)``."""
    from scipy.stats import qmc

    bounds = np.asarray(bounds, dtype=float)
    unit = qmc.LatinHypercube(d=bounds.shape[0], rng=np.random.default_rng(seed)).random(n)
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])


def sobol_design(problem: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """Saltelli/Sobol' sample (SALib, first and total order): shape ``(n * (d + 2), d)``.

    ``n`` should be a power of two (SALib warns otherwise).
    """
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def morris_design(problem: dict[str, Any], n: int, levels: int, seed: int) -> np.ndarray:
    """Morris trajectories (SALib): shape ``(n * (d + 1), d)`` on a ``levels``-level grid."""
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=levels, seed=seed)
