"""sim.arrays: the in-place clip the monthly processes use must give np.clip's values."""

from __future__ import annotations

import numpy as np

from sim.arrays import ONE, TWO, ZERO, clip01, clip_between


def test_clip01_is_np_clip_in_place_nan_and_infinities_included() -> None:
    x = np.array([-np.inf, -0.5, -0.0, 0.0, 0.25, 1.0, 1.5, np.inf, np.nan])
    expected = np.clip(x, 0.0, 1.0)
    out = clip01(x)
    assert out is x  # in place: callers rely on it
    np.testing.assert_array_equal(x, expected)  # NaN stays NaN (assert_array_equal matches NaNs)
    assert np.signbit(x[2]) == np.signbit(expected[2])  # the same bits for -0.0 too


def test_clip_between_matches_np_clip() -> None:
    x = np.random.default_rng(0).normal(1.0, 2.0, size=(7, 5))
    expected = np.clip(x, 0.0, 2.0)
    assert clip_between(x, ZERO, TWO) is x
    np.testing.assert_array_equal(x, expected)
    assert float(ONE) == 1.0
