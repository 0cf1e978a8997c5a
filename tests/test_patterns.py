"""ODD patterns 1-8 (docs/ODD.md §1) under the default context (pattern-oriented validation).

The checks live in :mod:`sim.validation.patterns` (shared with ``ccsim validate``). All designs
run as one experiment under common random numbers, so each comparison is a paired difference
across replications; a check passes when the mean paired difference points the expected way
and is at least Z = 3 standard errors from zero. With a fixed root seed the verdict is the same
on every run, and Z = 3 keeps the one-sided false-positive rate of a single check near 0.1%
if the model had no such effect. 60 paired replications give an SE of ~0.1 gap-months on AUC.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.validation import patterns

REPS = 60
SEED = 20240


@pytest.fixture(scope="module")
def data() -> patterns.PatternData:
    return patterns.run_pattern_experiment(reps=REPS, seed=SEED, jobs=2)


@pytest.mark.parametrize("check", patterns.PATTERN_CHECKS, ids=lambda c: c.__name__)
def test_pattern(data: patterns.PatternData, check) -> None:
    rows = check(data)
    assert rows, "a pattern check must produce rows"
    failed = [
        f"{r.check}: simulated {r.simulated:.4g} ({r.low:.4g}-{r.high:.4g}), expected {r.expected}"
        for r in rows
        if not r.passed
    ]
    assert not failed, "; ".join(failed)


def test_checks_can_fail(data: patterns.PatternData) -> None:
    """The paired rule rejects a reversed comparison (guards against checks that always pass)."""
    mix = data.metric("default", "gap_auc")
    hard = data.metric("hard_only", "gap_auc")
    assert patterns.paired("3", "hard minus mix", hard, mix).passed
    assert not patterns.paired("3", "mix minus hard", mix, hard).passed


def test_paired_rule_leaves_out_undefined_replications() -> None:
    a = np.array([1.0, 1.1, np.nan, 0.9, 1.0])
    b = np.zeros(5)
    row = patterns.paired("4", "lag", a, b)
    assert row.passed and np.isfinite(row.simulated)
    assert "1 of 5 runs undefined" in row.check
    assert row.simulated == pytest.approx(1.0)
