"""In-place clipping for the monthly processes, without ``ndarray.clip``'s Python wrapper.

``ndarray.clip`` and ``np.clip`` reach the ``clip`` ufunc through ``numpy/_core/_methods.py``
(~1-1.5 us a call); at 1,000 clinicians a month makes ~20 clips of small arrays, so the
processes call the ufunc itself, with 0-d bounds (a Python float is converted on every call).
The ufunc lives in numpy's private ``_core.umath`` (numpy >= 2; ``core.umath`` in 1.x): when
neither import works, the public ``np.clip`` is used, which gives the same values.
"""

from __future__ import annotations

import numpy as np

try:
    from numpy._core.umath import clip as _clip_ufunc
except ImportError:  # numpy 1.x
    try:
        from numpy.core.umath import clip as _clip_ufunc
    except ImportError:  # a numpy that moved it again: the public wrapper, same values
        _clip_ufunc = np.clip

__all__ = ["ONE", "TWO", "ZERO", "clip01", "clip_between"]

ZERO, ONE, TWO = np.zeros(()), np.ones(()), np.full((), 2.0)
"""0-d bounds for :func:`clip_between` (no conversion per call)."""


def clip01(x: np.ndarray) -> np.ndarray:
    """Clip the float array ``x`` (any shape) to [0, 1] in place and return it (NaN stays NaN,
    as with ``np.clip``)."""
    return _clip_ufunc(x, ZERO, ONE, out=x)


def clip_between(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Clip the float array ``x`` to [lo, hi] in place and return it; pass 0-d arrays
    (:data:`ZERO`, :data:`ONE`, :data:`TWO`) as bounds."""
    return _clip_ufunc(x, lo, hi, out=x)
