"""docs/analysis/keystone_crude_vs_irr.py: the two identities its argument rests on.

1. With equal exposure in both windows, the conditional (ICU fixed-effect) Poisson estimate of
   the rate ratio is exactly sum(post) / sum(baseline) (the score equation's solution; Cameron &
   Trivedi 2013, ch. 9), so estimating the IRR the paper's way cannot separate it from the
   pooled ratio the model reports.
2. A proportional effect (no floor) gives the same expected crude-mean ratio as the pooled IRR,
   since both are linear in the same ICU rates.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[1] / "docs" / "analysis" / "keystone_crude_vs_irr.py"


@pytest.fixture(scope="module")
def analysis():
    spec = importlib.util.spec_from_file_location("keystone_crude_vs_irr", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixed_effect_poisson_equals_pooled_ratio_with_equal_windows(analysis):
    rng = np.random.default_rng(7)
    t = rng.uniform(0.1, 1.0, 50)
    o0 = rng.poisson(5.0 * t)
    o1 = rng.poisson(2.0 * t)
    est = analysis.fe_poisson_irr(o0, t, o1, t)
    assert est == pytest.approx(o1.sum() / o0.sum(), rel=1e-9)


def test_fixed_effect_poisson_refuses_no_events(analysis):
    zeros = np.zeros(3, dtype=int)
    with pytest.raises(ValueError, match="no ICU has an event"):
        analysis.fe_poisson_irr(zeros, np.ones(3), zeros, np.ones(3))


def test_floor_zero_is_the_proportional_effect(analysis):
    r = np.array([0.5, 2.0, 9.0])
    assert analysis.post_rates(r, 0.3, 0.0) == pytest.approx(0.3 * r)
    # with a floor, a high-rate ICU falls proportionally more than a low-rate one
    post = analysis.post_rates(r, 0.3, 1.0)
    assert post[2] / r[2] < post[1] / r[1] < post[0] / r[0] == 1.0


def test_proportional_effect_gives_crude_ratio_equal_to_irr(analysis):
    row = analysis.run("proportional", 0.0, 0.5, 0.0, False, reps=40)
    # 40 draws of 103 ICUs: the medians of two ratios of the same expectations agree to within
    # Poisson noise (a 3-month window holds ~500 events overall at baseline: ~5% relative SE)
    assert row["post mean"] / row["base mean"] == pytest.approx(row["IRR"], abs=0.05)
    assert row["IRR"] == pytest.approx(analysis.TARGET_IRR, abs=0.03)
