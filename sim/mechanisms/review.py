"""Process 9, review and adaptation of the theory of change (lesson 5).

Every review interval the core team reads the *reported* (not true) data: it moves attention
towards lagging sites, shifts hard -> soft when mean conflict is high, and soft -> hard when
reported progress stalls. A design with ``review.interval_months = 0`` keeps its initial plan.
"""

from __future__ import annotations

import numpy as np


def is_review_month(month_in_programme: int, interval: int) -> bool:
    """True in programme months ``interval, 2 x interval, ...`` (never if interval is 0)."""
    return interval > 0 and month_in_programme > 0 and month_in_programme % interval == 0


def plan_weights(reported_gap: np.ndarray, active: np.ndarray, shift: float) -> np.ndarray:
    """Attention weights: ``clip(1 + shift x (g - mean g) / mean g, 0.2, 3)`` with g the reported
    gap per site, then rescaled to mean 1 over active sites (so a weight may end outside
    [0.2, 3]); inactive sites get 1, shape ``(n_sites,)``."""
    w = np.ones_like(reported_gap)
    if not active.any():
        return w
    mean_gap = reported_gap[active].mean()
    if mean_gap > 1e-9:
        w = np.clip(1.0 + shift * (reported_gap - mean_gap) / mean_gap, 0.2, 3.0)
    w = np.where(active, w, 1.0)
    return w / w[active].mean() * active + (~active) * 1.0


def adapt_tactics(
    hard: float,
    soft: float,
    mean_conflict: float,
    gap_closed_since_review: float,
    step: float,
    conflict_threshold: float,
    stall_threshold: float,
) -> tuple[float, float]:
    """New (hard, soft): conflict high -> move ``step`` from hard to soft; progress stalled ->
    move ``step`` from soft to hard; otherwise unchanged. Both stay in [0, 1]."""
    if mean_conflict > conflict_threshold and hard > 0:
        return max(0.0, hard - step), min(1.0, soft + step)
    if gap_closed_since_review < stall_threshold:
        return min(1.0, hard + step), max(0.0, soft - step)
    return hard, soft
